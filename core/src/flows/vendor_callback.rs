//! A vendor's status callback: authenticate, dedupe, confirm, apply forward-only, show in
//! Lever.

use super::{
    check_with_fresh_secrets, lever_sync, load_tenant, once_per_delivery, Ack, AckStatus, OrderRef,
    Tenant,
};
use crate::app::App;
use crate::callback_auth::{self, CallbackAuthError};
use crate::error::AppError;
use crate::model::{Order, VendorId};
use crate::store::StoreError;
use crate::vendors::{self, CallbackAuth, StatusInfo, StatusUpdate};
use http::HeaderMap;
use sha2::Digest;

/// A callback as it arrived.
pub struct Callback<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The secret segment of the callback URL, for vendors whose callbacks are unsigned.
    pub url_secret: Option<&'a str>,
}

/// Handles one callback posted to `/callbacks/{vendor}/{tenant}`.
pub async fn handle(
    app: &App,
    vendor: VendorId,
    tenant_id: &str,
    callback: &Callback<'_>,
) -> Result<Ack, AppError> {
    let tenant = load_tenant(app, tenant_id).await?;
    let delivery_id = authenticate(app, &tenant, vendor, callback).await?;
    let adapter = vendors::adapter(vendor);
    let update = adapter
        .parse_callback(callback.body)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    status_info(vendor, &update.status)?;

    let key = format!("callback:{vendor}:{tenant_id}:{delivery_id}");
    once_per_delivery(app, &key, confirm_and_apply(app, &tenant, vendor, update)).await
}

fn status_info(vendor: VendorId, status: &str) -> Result<StatusInfo, AppError> {
    vendors::adapter(vendor)
        .status_info(status)
        .ok_or_else(|| AppError::Unprocessable(format!("`{status}` is not a {vendor} status")))
}

/// Checks the callback came from the tenant's vendor account and returns the id that
/// identifies this delivery (the `webhook-id`, or for unsigned callbacks a digest of the
/// body, so the same post twice is recognised).
async fn authenticate(
    app: &App,
    tenant: &Tenant,
    vendor: VendorId,
    callback: &Callback<'_>,
) -> Result<String, AppError> {
    let check = |secrets: &crate::secrets::TenantSecrets| {
        let secret = secrets
            .vendor(vendor)
            .and_then(|v| v.callback_secret.as_ref())
            .ok_or_else(|| AppError::Misconfigured(format!("no callback secret for {vendor}")))?;
        match vendors::adapter(vendor).callback_auth() {
            CallbackAuth::StandardWebhooks => {
                callback_auth::verify(secret, callback.headers, callback.body)
                    .map_err(AppError::from)
            }
            CallbackAuth::UrlSecret => {
                let given = callback
                    .url_secret
                    .ok_or(CallbackAuthError::MissingHeaders)?;
                callback_auth::verify_url_secret(secret, given)?;
                Ok(hex::encode(sha2::Sha256::digest(callback.body)))
            }
        }
    };
    check_with_fresh_secrets(app, tenant, check).await
}

/// Asks the adapter what to apply (vendors with unsigned callbacks re-read the order from
/// their API), then applies it.
async fn confirm_and_apply(
    app: &App,
    tenant: &Tenant,
    vendor: VendorId,
    update: StatusUpdate,
) -> Result<Ack, AppError> {
    let order = find_order(app, tenant, vendor, &update).await?;
    let account = tenant.vendor_account(app, vendor)?;
    let confirmed = vendors::adapter(vendor).confirm(&account, update).await?;
    if confirmed.vendor_order_id != order.vendor_order_id.clone().unwrap_or_default() {
        return Err(AppError::Unprocessable(
            "the vendor's API describes another order".into(),
        ));
    }
    let info = status_info(vendor, &confirmed.status)?;
    apply(app, tenant, vendor, order, &confirmed, info).await
}

async fn apply(
    app: &App,
    tenant: &Tenant,
    vendor: VendorId,
    mut order: Order,
    update: &StatusUpdate,
    info: StatusInfo,
) -> Result<Ack, AppError> {
    let mut changed = false;
    for _ in 0..3 {
        let mut next = order.clone().next_version();
        if !next.advance_or_replace(
            &update.status,
            info.rank,
            info.terminal,
            info.replaceable,
            update.results.clone(),
        ) {
            tracing::info!(tenant = tenant.id(), %vendor, order = %order.order_id,
                "status is a repeat or older than the order's; nothing changes");
            break;
        }
        match app.store.update_order(&next).await {
            Ok(()) => {
                tracing::info!(tenant = tenant.id(), %vendor, order = %next.order_id,
                    rank = info.rank, "vendor status applied");
                order = next;
                changed = true;
                break;
            }
            Err(StoreError::Conflict) => {
                order = find_order(app, tenant, vendor, update).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    // Also catches up a Lever write that failed before (e.g. on a repeated callback).
    if !lever_sync::pending_writes(&order).is_empty() {
        let lever = app.lever_client(&tenant.config, &tenant.secrets).await?;
        lever_sync::sync_or_keep(app, tenant, &lever, &order.order_id, None).await?;
    }
    let mut ack = Ack::new(if changed {
        AckStatus::Applied
    } else {
        AckStatus::Unchanged
    });
    ack.orders.push(OrderRef::from(&order));
    Ok(ack)
}

/// The order the callback names, if this tenant has it; another tenant's order is
/// indistinguishable from none. The index on the vendor's order id is eventually
/// consistent, so a callback arriving right after the order falls back to the client
/// reference (our order id, a strongly consistent read), if the vendor echoes it and it
/// names the same vendor order.
async fn find_order(
    app: &App,
    tenant: &Tenant,
    vendor: VendorId,
    update: &StatusUpdate,
) -> Result<Order, AppError> {
    let mut found = app
        .store
        .find_by_vendor_order(vendor, &update.vendor_order_id)
        .await?;
    if found.is_none() {
        if let Some(order_id) = &update.client_reference {
            found = app.store.get_order(order_id).await?.filter(|order| {
                order.vendor == vendor
                    && order.vendor_order_id.as_deref() == Some(update.vendor_order_id.as_str())
            });
        }
    }
    found
        .filter(|order| order.tenant_id == tenant.id())
        .ok_or(AppError::NotFound("order"))
}
