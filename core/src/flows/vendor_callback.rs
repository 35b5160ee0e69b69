//! A vendor's status callback at intake: authenticate, dedupe, apply the status to the
//! order (forward only) and queue its write-back to Lever. No outbound call: a vendor whose
//! callbacks are unsigned (Sterling) or come out of order (Checkr) only hints, and the
//! worker re-reads the order from the vendor's API before anything is applied.

use super::{context, lever_sync, Ack, AckStatus, Intake, OrderRef};
use crate::callback_auth::{self, CallbackAuthError};
use crate::clock::now_millis;
use crate::delivery_log::{LoggedDelivery, Source};
use crate::directory::Tenant;
use crate::error::AppError;
use crate::ids::{DeliveryId, TenantId};
use crate::order::Order;
use crate::store::{modify_order, Modified, OrderStore};
use crate::telemetry::metrics;
use crate::vendors::{CallbackAuth, StatusUpdate, Vendor, VendorDescription, VendorId};
use crate::work::Work;
use http::HeaderMap;
use sha2::Digest;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use tracing::instrument;

/// A callback as it arrived.
pub struct Callback<'a> {
    /// The request headers (Standard Webhooks' `webhook-*` among them).
    pub headers: &'a HeaderMap,
    /// The raw body, exactly as signed.
    pub body: &'a [u8],
    /// The secret segment of the callback URL, for vendors whose callbacks are unsigned.
    pub url_secret: Option<&'a str>,
}

/// Handles one callback posted to `/callbacks/{vendor}/{tenant}`.
#[instrument(skip_all, fields(tenant = %tenant_id, %vendor, order))]
pub async fn handle(
    intake: &Intake<'_>,
    vendor: VendorId,
    tenant_id: &TenantId,
    callback: &Callback<'_>,
) -> Result<Ack, AppError> {
    let known = intake
        .vendors
        .get(vendor)
        .ok_or(AppError::NotFound("vendor"))?;
    let tenant = intake.tenants.tenant(tenant_id).await?;
    let mut logged = LoggedDelivery::new(DeliveryId::new(now_millis()), Source::Vendor(vendor));
    let outcome = accept(intake, known, &tenant, callback, &mut logged).await;
    metrics::callback(
        vendor,
        match &outcome {
            Ok(ack) => ack_outcome(ack),
            Err(error) => error.code(),
        },
    );
    intake.log(tenant_id, logged, &outcome).await;
    outcome
}

fn ack_outcome(ack: &Ack) -> &'static str {
    match ack.status {
        AckStatus::Applied => "applied",
        AckStatus::Duplicate => "duplicate",
        AckStatus::Queued | AckStatus::Received => "queued",
        _ => "unchanged",
    }
}

async fn accept(
    intake: &Intake<'_>,
    known: &Vendor,
    tenant: &Tenant,
    callback: &Callback<'_>,
    logged: &mut LoggedDelivery,
) -> Result<Ack, AppError> {
    let description = known.description;
    // A vendor the tenant does not use has no callbacks to make: as unknown as a tenant
    // nobody configured (and no missing secret of its to report as a misconfiguration).
    if tenant.config.integration(description.id).is_none() {
        return Err(AppError::NotFound("tenant"));
    }
    let delivery_id = authenticate(intake, tenant, description, callback).await?;
    let api = context::adapter(known)?;
    let parsed = api
        .parse_callback(callback.body)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let Some(update) = parsed else {
        return Ok(Ack::new(AckStatus::Ignored).with_detail("an event that changes no order"));
    };
    let rereads = description.callback_auth.rereads();
    let order = find_order(intake.orders, tenant, description.id, &update, rereads).await?;
    tracing::Span::current().record("order", tracing::field::display(&order.order_id()));
    logged.opportunity = Some(order.opportunity_id().clone());
    logged.orders.push(order.order_id().clone());
    let key = format!("callback:{}:{}:{delivery_id}", description.id, tenant.id());
    if rereads {
        // Re-read the order the callback names (by the order's own vendor id: a report
        // event names its order by our reference).
        let vendor_order_id = order
            .vendor_order_id()
            .map(str::to_owned)
            .ok_or(AppError::NotFound("order"))?;
        let work = Work::ReadVendorOrder {
            tenant: tenant.id().clone(),
            vendor: description.id,
            vendor_order_id,
            delivery: Some(logged.id.clone()),
        };
        logged.work = Some(work.clone());
        return intake
            .once_per_delivery(&key, async {
                intake.queue.send(&work).await?;
                // Sterling retries a callback until it gets HTTP 200, not 202.
                Ok(Ack::new(AckStatus::Received))
            })
            .await;
    }
    // A status the vendor never uses is refused before anything is claimed.
    status_of(description, &update)?;
    intake
        .once_per_delivery(&key, apply(intake, description, &order, update))
        .await
}

/// Checks the callback came from the tenant's vendor account and returns the id that
/// identifies this delivery (the `webhook-id`, else a digest of the body, so the same post
/// twice is recognised). A secret that cannot be used is a
/// configuration error naming its field, never a weak key in use.
async fn authenticate(
    intake: &Intake<'_>,
    tenant: &Tenant,
    description: &VendorDescription,
    callback: &Callback<'_>,
) -> Result<String, AppError> {
    let vendor = description.id;
    let check = |secrets: &crate::secrets::TenantSecrets| {
        let own = secrets.vendor(vendor);
        // Unsigned and API-key-signed callbacks carry no delivery id: the same body twice
        // is the same delivery.
        let body_digest = || hex::encode(sha2::Sha256::digest(callback.body));
        if let CallbackAuth::ApiKeyHmac { header } = description.callback_auth {
            let key = own.and_then(|v| v.api_key.as_ref()).ok_or_else(|| {
                AppError::Misconfigured(format!("vendors.{vendor}.api_key: not set"))
            })?;
            callback_auth::verify_hex_hmac(key, callback.headers.get(header), callback.body)?;
            return Ok(body_digest());
        }
        let field = format!("vendors.{vendor}.callback_secret");
        let secret = own
            .and_then(|v| v.callback_secret.as_ref())
            .ok_or_else(|| AppError::Misconfigured(format!("{field}: not set")))?;
        if let Some(problem) =
            callback_auth::check_rotating(description.callback_auth, &field, secret).pop()
        {
            return Err(AppError::Misconfigured(problem));
        }
        if description.callback_auth == CallbackAuth::StandardWebhooks {
            return callback_auth::verify(secret, callback.headers, callback.body)
                .map_err(AppError::from);
        }
        let given = callback
            .url_secret
            .ok_or(CallbackAuthError::MissingHeaders)?;
        callback_auth::verify_url_secret(secret, given)?;
        Ok(body_digest())
    };
    intake.check_with_fresh_secrets(tenant, check).await
}

/// The status an update names, or 422 for a word the vendor does not use.
pub(crate) fn status_of(
    description: &'static VendorDescription,
    update: &StatusUpdate,
) -> Result<&'static crate::vendors::Status, AppError> {
    description.status(&update.status).ok_or_else(|| {
        AppError::Unprocessable(format!(
            "`{}` is not a {} status",
            update.status, description.id
        ))
    })
}

/// Applies the update forward-only and queues what Lever should now show (also catching
/// up a write-back that failed before, on a repeated callback).
async fn apply(
    intake: &Intake<'_>,
    description: &'static VendorDescription,
    order: &Order,
    update: StatusUpdate,
) -> Result<Ack, AppError> {
    let modified = apply_update(intake.orders, description, order, update).await?;
    let order = modified.order();
    if lever_sync::has_pending(description, order) {
        intake
            .queue
            .send(&Work::SyncLever {
                tenant: order.tenant_id().clone(),
                order: order.order_id().clone(),
            })
            .await?;
    }
    let mut ack = Ack::new(match modified {
        Modified::Changed(_) => AckStatus::Applied,
        Modified::Unchanged(_) => AckStatus::Unchanged,
    });
    ack.orders.push(OrderRef::from(modified.order()));
    Ok(ack)
}

/// Moves `order` to what `update` says if that is a step forward (with optimistic
/// retries). Also records when the vendor last spoke, so reconciliation leaves a vendor that
/// keeps talking alone: with each change, and at most hourly for repeats (a write each time
/// would cost a write per repeated callback). A purged order (its candidate deleted in
/// Lever) takes nothing in: results it no longer holds are not stored again.
pub(crate) async fn apply_update(
    orders: &dyn OrderStore,
    description: &'static VendorDescription,
    order: &Order,
    update: StatusUpdate,
) -> Result<Modified, AppError> {
    let status = status_of(description, &update)?;
    let advanced = AtomicBool::new(false);
    let modified = modify_order(orders, order.order_id(), |next| {
        let now = now_millis();
        if next.purged_at().is_some() {
            advanced.store(false, Relaxed);
            return false;
        }
        advanced.store(next.advance(status, update.results.clone()), Relaxed);
        let heard_lately = next
            .vendor_updated_at()
            .is_some_and(|at| now - at < VENDOR_HEARD_EVERY_MS);
        next.heard_from_vendor(now);
        advanced.load(Relaxed) || !heard_lately
    })
    .await?
    .ok_or(AppError::NotFound("order"))?;
    if advanced.load(Relaxed) {
        tracing::info!(rank = status.rank, status = %status.word,
            order = %modified.order().order_id(), "vendor status applied");
        Ok(modified)
    } else {
        tracing::info!("status is a repeat or older than the order's; nothing changes");
        Ok(Modified::Unchanged(modified.into_order()))
    }
}

/// How often a repeated status still records that the vendor spoke (1 h, in ms).
const VENDOR_HEARD_EVERY_MS: i64 = 3_600_000;

/// The order the callback names, if this tenant has it; another tenant's order is
/// indistinguishable from none. The index on the vendor's order id is eventually
/// consistent, so a callback right after the order falls back to the client reference (our
/// order id, a strongly consistent read), if the vendor echoes it and it names the same
/// vendor order — or, for a callback that is only a hint to re-read (`hint`), if it names
/// an order of this vendor at all: Checkr's report events name the invitation's order by
/// our reference alone, and a hint changes nothing but what is re-read.
pub(crate) async fn find_order(
    orders: &dyn OrderStore,
    tenant: &Tenant,
    vendor: VendorId,
    update: &StatusUpdate,
    hint: bool,
) -> Result<Order, AppError> {
    let mut found = orders
        .find_by_vendor_order(vendor, &update.vendor_order_id)
        .await?;
    if found.is_none() {
        if let Some(order_id) = update
            .client_reference
            .as_deref()
            .and_then(|r| crate::ids::OrderId::parse(r).ok())
        {
            found = orders.get_order(&order_id).await?.filter(|order| {
                order.vendor() == vendor
                    && (hint || order.vendor_order_id() == Some(update.vendor_order_id.as_str()))
            });
        }
    }
    found
        .filter(|order| order.tenant_id() == tenant.id())
        .ok_or(AppError::NotFound("order"))
}
