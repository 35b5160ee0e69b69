//! A Lever webhook delivery, from raw body to vendor orders.
//!
//! Order of checks (DESIGN.md §3): parse → tenant exists → signature and freshness →
//! event matches the endpoint → test delivery → payload fields → delivery dedupe → work.
//! Nothing is written before the signature is verified and the payload is complete.

use super::{
    check_with_fresh_secrets, is_transient, load_tenant, once_per_delivery, ordering, Ack,
    AckStatus, Tenant,
};
use crate::app::App;
use crate::error::AppError;
use crate::lever::webhook::{self, ApplicationCreated, Delivery, StageChange, WebhookKind};
use crate::lever::LeverClient;
use crate::model::{now_millis, OutboxItem, OutboxWork, StageRef};
use crate::vendors::{self, Trigger};

/// Handles one delivery posted to `/lever/{tenant}/{kind}`. `callback_base` is this
/// deployment's public base URL, from which vendor callback URLs are made.
pub async fn handle(
    app: &App,
    kind: WebhookKind,
    tenant_id: &str,
    body: &[u8],
    callback_base: &str,
) -> Result<Ack, AppError> {
    let delivery = Delivery::parse(body)
        .map_err(|e| AppError::BadRequest(format!("malformed webhook JSON: {e}")))?;
    let tenant = load_tenant(app, tenant_id).await?;
    verify_signature(app, &tenant, kind, &delivery).await?;
    if delivery.event != kind.event_name() {
        return Err(AppError::BadRequest(format!(
            "event `{}` was sent to the {} endpoint",
            delivery.event,
            kind.event_name()
        )));
    }
    if delivery.is_test() {
        return Ok(Ack::new(AckStatus::Test));
    }
    let event = Event::parse(kind, &delivery)?;

    let key = format!("lever:{}:{}", tenant.id(), delivery.token);
    let work = async {
        match on_event(app, &tenant, &event, callback_base).await {
            Err(e) if is_transient(&e) => {
                keep_for_retry(app, &tenant, kind, body, callback_base, &e).await
            }
            other => other,
        }
    };
    once_per_delivery(app, &key, work).await
}

/// Re-runs a stored delivery from the outbox. It was verified when it arrived.
pub async fn replay(
    app: &App,
    tenant_id: &str,
    event_name: &str,
    body: &str,
    callback_base: &str,
) -> Result<Ack, AppError> {
    let unreadable = |e: String| AppError::BadRequest(format!("stored delivery unreadable: {e}"));
    let kind = WebhookKind::from_event_name(event_name)
        .ok_or_else(|| unreadable(format!("unknown event {event_name}")))?;
    let delivery = Delivery::parse(body.as_bytes()).map_err(|e| unreadable(e.to_string()))?;
    let event = Event::parse(kind, &delivery)?;
    let tenant = load_tenant(app, tenant_id).await?;
    on_event(app, &tenant, &event, callback_base).await
}

/// Checks the signature with the current and previous token; on a mismatch re-reads the
/// secret once (rate-limited) in case the token was just rotated.
async fn verify_signature(
    app: &App,
    tenant: &Tenant,
    kind: WebhookKind,
    delivery: &Delivery,
) -> Result<(), AppError> {
    let check = |secrets: &crate::secrets::TenantSecrets| {
        let tokens = secrets.webhooks.for_kind(kind).ok_or_else(|| {
            AppError::Misconfigured(format!("no signature token for {}", kind.event_name()))
        })?;
        webhook::verify(
            delivery,
            tokens.candidates(),
            now_millis(),
            app.settings.webhook_window,
        )
        .map_err(AppError::from)
    };
    check_with_fresh_secrets(app, tenant, check).await
}

/// A delivery's data, by webhook type.
enum Event {
    StageChange(StageChange),
    ApplicationCreated(ApplicationCreated),
}

impl Event {
    fn parse(kind: WebhookKind, delivery: &Delivery) -> Result<Self, AppError> {
        let malformed = |e: serde_json::Error| {
            AppError::BadRequest(format!("malformed {} data: {e}", kind.event_name()))
        };
        Ok(match kind {
            WebhookKind::CandidateStageChange => {
                Event::StageChange(delivery.data_as().map_err(malformed)?)
            }
            WebhookKind::ApplicationCreated => {
                Event::ApplicationCreated(delivery.data_as().map_err(malformed)?)
            }
        })
    }

    fn opportunity_id(&self) -> &str {
        match self {
            Event::StageChange(change) => &change.opportunity_id,
            Event::ApplicationCreated(created) => &created.opportunity_id,
        }
    }
}

/// Orders from every enabled vendor this event triggers: those ordered on entering the
/// stage the candidate moved to, or those ordered for every new application.
async fn on_event(
    app: &App,
    tenant: &Tenant,
    event: &Event,
    callback_base: &str,
) -> Result<Ack, AppError> {
    let lever = app.lever_client(&tenant.config, &tenant.secrets).await?;
    let mut triggered = Vec::new();
    for (vendor, settings) in tenant.config.enabled_vendors() {
        let fires = match (
            vendors::adapter(vendor).trigger(),
            event,
            &settings.trigger_stage,
        ) {
            (Trigger::StageChange, Event::StageChange(change), Some(stage)) => {
                stage_matches(app, tenant, &lever, stage, &change.to_stage_id).await?
            }
            (Trigger::ApplicationCreated, Event::ApplicationCreated(_), _) => true,
            _ => false,
        };
        if fires {
            triggered.push(vendor);
        }
    }
    let opportunity_id = event.opportunity_id();
    if triggered.is_empty() {
        tracing::info!(tenant = tenant.id(), opportunity = %opportunity_id, "the event triggers no vendor");
        return Ok(Ack::new(AckStatus::Ignored).with_detail("this event triggers no vendor"));
    }
    let mut ack = Ack::new(AckStatus::Ordered);
    let mut outcomes = Vec::new();
    for vendor in triggered {
        let outcome =
            ordering::start(app, tenant, &lever, vendor, opportunity_id, callback_base).await?;
        ack.orders.push(outcome.order().into());
        outcomes.push(outcome);
    }
    // The answer reflects the least-finished order: queued work is "accepted", not "done".
    if outcomes.iter().any(ordering::Outcome::is_queued) {
        ack.status = AckStatus::Queued;
    } else if outcomes.iter().all(ordering::Outcome::is_not_ordered) {
        ack.status = AckStatus::NotOrdered;
    }
    Ok(ack)
}

async fn stage_matches(
    app: &App,
    tenant: &Tenant,
    lever: &LeverClient,
    trigger: &StageRef,
    to_stage_id: &str,
) -> Result<bool, AppError> {
    Ok(match trigger {
        StageRef::Id(id) => id == to_stage_id,
        StageRef::Name(name) => app
            .stages(tenant.id(), lever)
            .await?
            .iter()
            .any(|stage| stage.id == to_stage_id && stage.text.eq_ignore_ascii_case(name)),
    })
}

/// Lever is unreachable before any order exists: keep the verified delivery for the
/// outbox and tell Lever it is safely stored.
async fn keep_for_retry(
    app: &App,
    tenant: &Tenant,
    kind: WebhookKind,
    body: &[u8],
    callback_base: &str,
    error: &AppError,
) -> Result<Ack, AppError> {
    let mut item = OutboxItem::new(
        tenant.id(),
        OutboxWork::LeverWebhook {
            tenant_id: tenant.id().to_owned(),
            event: kind.event_name().to_owned(),
            body: String::from_utf8_lossy(body).into_owned(),
            callback_base: callback_base.to_owned(),
        },
        error.to_string(),
    );
    let detail = if super::is_disconnected(error) {
        // Retrying cannot help until the tenant reconnects, which replays it.
        item.next_attempt_at = super::outbox::PARKED;
        "the tenant's Lever connection was revoked; the delivery is kept until it reconnects"
    } else {
        "Lever is unavailable; the delivery is kept and retried"
    };
    app.store.enqueue(&item).await?;
    tracing::warn!(tenant = tenant.id(), outbox_id = %item.id, error = %error, "delivery kept for retry");
    Ok(Ack::new(AckStatus::Queued).with_detail(detail))
}
