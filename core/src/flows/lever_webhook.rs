//! A Lever webhook delivery at intake, from raw body to queued work, with no outbound call.
//!
//! Order of checks: parse → tenant exists → Lever's connection test → signature and
//! freshness → event matches the endpoint → data → which integrations it concerns → claim
//! the delivery token → queue. Nothing is written before the signature is verified, and
//! every verified token is claimed (connection tests included), so a captured signature
//! cannot be replayed with other `data`. `data` is not signed: the worker confirms it
//! through Lever's API before ordering anything. Each delivery of a configured tenant is
//! recorded in its delivery log with the answer it got and the work it queued.

use super::{Ack, AckStatus, Intake};
use crate::clock::now_millis;
use crate::delivery_log::{LoggedDelivery, Source};
use crate::directory::Tenant;
use crate::error::AppError;
use crate::ids::{DeliveryId, TenantId};
use crate::lever::webhook::{self, Delivery, Event, WebhookKind};
use crate::telemetry::metrics;
use crate::vendors::{Trigger, VendorId};
use crate::work::Work;
use tracing::instrument;

/// Longest delivery `token` accepted.
const MAX_TOKEN_LEN: usize = 256;

/// Handles one delivery posted to `/lever/{tenant}/{kind}`; `callback_base` is where this
/// deployment is reachable. A refusal is counted as `WebhookRejected` by its error code.
#[instrument(skip_all, fields(tenant = %tenant_id, event = kind.event_name()))]
pub async fn handle(
    intake: &Intake<'_>,
    kind: WebhookKind,
    tenant_id: &TenantId,
    body: &[u8],
    callback_base: &str,
) -> Result<Ack, AppError> {
    let mut logged = LoggedDelivery::new(
        DeliveryId::new(now_millis()),
        Source::Lever(kind.event_name().to_owned()),
    );
    let outcome = accept(intake, kind, tenant_id, body, callback_base, &mut logged).await;
    if let Err(error) = &outcome {
        metrics::webhook_rejected(error.code());
    }
    intake.log(tenant_id, logged, &outcome).await;
    outcome
}

/// Judges the delivery; what it learns on the way (the opportunity, the work) goes into
/// `logged`.
async fn accept(
    intake: &Intake<'_>,
    kind: WebhookKind,
    tenant_id: &TenantId,
    body: &[u8],
    callback_base: &str,
    logged: &mut LoggedDelivery,
) -> Result<Ack, AppError> {
    let delivery = Delivery::parse(body)
        .map_err(|e| AppError::BadRequest(format!("malformed webhook JSON: {e}")))?;
    // Lever's tokens are some 48 characters; a longer one is no delivery of Lever's (and
    // would not fit the store's keys).
    if delivery.token.is_empty() || delivery.token.len() > MAX_TOKEN_LEN {
        return Err(AppError::BadRequest(format!(
            "`token` must have 1 to {MAX_TOKEN_LEN} characters"
        )));
    }
    let tenant = intake.tenants.tenant(tenant_id).await?;
    let key = format!("lever:{tenant_id}:{}", delivery.token);
    if delivery.is_test() {
        return connection_test(intake, &tenant, kind, &delivery, &key).await;
    }
    verify_signature(intake, &tenant, kind, &delivery).await?;
    if delivery.event != kind.event_name() {
        return Err(AppError::BadRequest(format!(
            "event `{}` was sent to the {} endpoint",
            delivery.event,
            kind.event_name()
        )));
    }
    let event = Event::parse(kind, &delivery.data)
        .map_err(|e| AppError::BadRequest(format!("{} {e}", kind.event_name())))?;
    logged.opportunity = Some(event.opportunity().clone());
    let (mut active, mut disabled) = concerned(intake, &tenant, &event);
    if active.is_empty() && !disabled.is_empty() {
        // Reconnecting (the OAuth callback, the operator command) happens in another
        // function: a cached configuration may not know yet that access is back.
        let fresh = intake.tenants.fresh(tenant_id).await?;
        (active, disabled) = concerned(intake, &fresh, &event);
    }
    if active.is_empty() {
        let (status, detail) = if disabled.is_empty() {
            (
                AckStatus::Ignored,
                "this event concerns no integration".to_owned(),
            )
        } else {
            metrics::not_ordered("integration_disabled");
            (
                AckStatus::Disabled,
                format!(
                    "Lever access of {} was revoked: reconnect to order again",
                    names(&disabled)
                ),
            )
        };
        tracing::info!(?status, "nothing to do for this delivery");
        return Ok(intake
            .record_delivery(&key, status)
            .await?
            .with_detail(detail));
    }
    let work = Work::LeverEvent {
        tenant: tenant_id.clone(),
        token: delivery.token.clone(),
        triggered_at: delivery.triggered_at,
        event,
        callback_base: callback_base.to_owned(),
        delivery: Some(logged.id.clone()),
    };
    logged.work = Some(work.clone());
    intake
        .once_per_delivery(&key, async {
            intake.queue.send(&work).await?;
            tracing::info!(integrations = %names(&active), "delivery queued");
            Ok(Ack::new(AckStatus::Queued))
        })
        .await
}

/// Lever's "Verify connection" sends `"data": {}`, possibly naming another event; it must
/// get a 2xx. Setup verifies the URL before the signature token is copied, so without a
/// stored token it is acknowledged as it is; with one, it must verify, and its token is
/// claimed like any delivery's.
async fn connection_test(
    intake: &Intake<'_>,
    tenant: &Tenant,
    kind: WebhookKind,
    delivery: &Delivery,
    key: &str,
) -> Result<Ack, AppError> {
    metrics::test_delivery();
    if tenant.secrets.webhook_token(kind.event_name()).is_none() {
        return Ok(Ack::new(AckStatus::Test).with_detail(
            "no signature token is stored for this webhook yet; store it to receive deliveries",
        ));
    }
    verify_signature(intake, tenant, kind, delivery).await?;
    intake.record_delivery(key, AckStatus::Test).await
}

/// Checks the signature with the current and previous token; on a mismatch re-reads the
/// secret once (rate-limited) in case the token was just rotated.
async fn verify_signature(
    intake: &Intake<'_>,
    tenant: &Tenant,
    kind: WebhookKind,
    delivery: &Delivery,
) -> Result<(), AppError> {
    let check = |secrets: &crate::secrets::TenantSecrets| {
        let tokens = secrets.webhook_token(kind.event_name()).ok_or_else(|| {
            AppError::Misconfigured(format!(
                "webhooks.{}: no signature token is stored",
                kind.event_name()
            ))
        })?;
        // Never verify with a blank, placeholder or short key: anyone could sign with it.
        if let Some(problem) =
            crate::callback_auth::signature_token_problems(kind.event_name(), tokens).pop()
        {
            return Err(AppError::Misconfigured(problem));
        }
        webhook::verify(
            delivery,
            tokens.candidates(),
            now_millis(),
            intake.settings.webhook_window,
        )
        .map_err(AppError::from)
    };
    intake.check_with_fresh_secrets(tenant, check).await
}

/// The integrations `event` concerns, from the tenant's configuration alone: active ones,
/// and those that would be but are disabled. A trigger stage known only by name is
/// resolved by the worker, so such an integration counts as concerned.
fn concerned(
    intake: &Intake<'_>,
    tenant: &Tenant,
    event: &Event,
) -> (Vec<VendorId>, Vec<VendorId>) {
    let (mut active, mut disabled) = (Vec::new(), Vec::new());
    for (vendor, integration) in &tenant.config.vendors {
        let Some(known) = intake.vendors.get(*vendor) else {
            continue;
        };
        let trigger = known.description.trigger;
        let concerns = match event {
            Event::StageChange { to_stage_id, .. } => {
                trigger == Trigger::StageChange
                    && integration
                        .trigger_stage
                        .as_ref()
                        .is_some_and(|stage| stage.id.is_none() || stage.matches(to_stage_id, None))
            }
            Event::ApplicationCreated { .. } => trigger == Trigger::ApplicationCreated,
            // Open orders are cancelled or purged whatever started them.
            Event::ArchiveChange { archived, .. } => *archived,
            Event::Deleted { .. } => true,
            Event::Hired { .. } => false,
        };
        match (concerns, integration.is_active()) {
            (false, _) => {}
            (true, true) => active.push(*vendor),
            // A deleted candidate's data is purged even where Lever access was revoked.
            (true, false) if matches!(event, Event::Deleted { .. }) && integration.enabled => {
                active.push(*vendor)
            }
            (true, false) => disabled.push(*vendor),
        }
    }
    (active, disabled)
}

fn names(vendors: &[VendorId]) -> String {
    vendors
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
