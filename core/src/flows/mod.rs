//! The use cases. Intake answers the sender fast and makes no outbound call; the worker
//! does the Lever and vendor work; operators and the console manage tenants. Each flow takes
//! the narrow ports it uses ([`Intake`], [`Worker`]) and returns what the sender is told, an
//! [`Ack`], or an [`AppError`].
//!
//! - [`lever_webhook`]: a signed Lever delivery → verify, dedupe, queue the work.
//! - [`vendor_callback`]: an authenticated vendor status → dedupe, apply it (never
//!   backwards), queue its write-back to Lever.
//! - [`worker`]: one queue message → [`ordering`] (confirm, then order), [`lever_sync`]
//!   (show an order in Lever), [`lifecycle`] (archive, delete), a vendor re-read.
//! - [`reconcile`], [`webhook_health`], [`safety_net`]: the scheduled checks (the last asks
//!   Lever for stage entries and archives no webhook delivered).
//! - [`oauth`], [`admin`]: connecting Lever, and what an operator does.
//! - [`deliveries`]: the delivery log, listed and replayed.

pub mod admin;
pub mod context;
pub mod deliveries;
pub mod lever_sync;
pub mod lever_webhook;
pub mod lifecycle;
pub mod oauth;
pub mod on_completion;
pub mod ordering;
pub mod reconcile;
pub mod reorder;
pub mod safety_net;
pub mod vendor_callback;
pub mod webhook_health;
pub mod worker;

pub use context::Worker;

use crate::config::Settings;
use crate::delivery_log::{LoggedDelivery, Received};
use crate::directory::{Tenant, TenantDirectory};
use crate::error::AppError;
use crate::ids::OrderId;
use crate::ids::TenantId;
use crate::order::Order;
use crate::queue::WorkQueue;
use crate::secrets::TenantSecrets;
use crate::store::{Delivery, DeliveryLog, DeliveryStore, OrderStore, RateLimiter};
use crate::vendors::{VendorId, Vendors};
use serde::Serialize;

/// What the intake flows use.
#[derive(Clone, Copy)]
pub struct Intake<'a> {
    /// Tenants' configuration and secrets (cached).
    pub tenants: &'a dyn TenantDirectory,
    /// Delivery and callback ids already seen or in progress (the dedupe).
    pub deliveries: &'a dyn DeliveryStore,
    /// Each tenant's delivery log: every delivery is recorded with what became of it.
    pub log: &'a dyn DeliveryLog,
    /// Budgets the log's records of refused deliveries (a flood must not fill the table).
    pub limiter: &'a dyn RateLimiter,
    /// Vendor callbacks apply their status to the order before answering.
    pub orders: &'a dyn OrderStore,
    /// Where the work intake does not do itself goes.
    pub queue: &'a dyn WorkQueue,
    /// The registered vendors.
    pub vendors: &'a Vendors,
    /// The deployment's tunables.
    pub settings: &'a Settings,
}

/// What happened, as the JSON body of a 2xx answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ack {
    /// The outcome, as `"status"` (snake_case).
    pub status: AckStatus,
    /// The orders concerned, when the flow knows them (omitted when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<OrderRef>,
    /// A sentence for the sender or the operator (omitted when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The `status` of an [`Ack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// Lever's connection test (a delivery with empty `data`).
    Test,
    /// The event concerns no integration of this tenant.
    Ignored,
    /// Every integration it concerns is disabled (its Lever access was revoked).
    Disabled,
    /// This delivery or callback was processed before.
    Duplicate,
    /// Stored, and its work queued: the worker does it shortly.
    Queued,
    /// Queued as well, but answered 200: the sender (Sterling) retries a callback until
    /// it gets exactly 200.
    Received,
    /// A vendor status moved the order forward (its Lever write-back is queued).
    Applied,
    /// The status was already applied, or is older than the order's: nothing changed.
    Unchanged,
    /// Done at once (an operator's request): ordered, or an order was already open.
    Ordered,
    /// Not ordered: a Lever note says why.
    NotOrdered,
}

impl Ack {
    /// An acknowledgement with no orders and no detail.
    pub fn new(status: AckStatus) -> Self {
        Ack {
            status,
            orders: Vec::new(),
            detail: None,
        }
    }

    /// The same, with `detail` set.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// `Queued` is "accepted, not done": 202. Everything else is done: 200.
    pub fn is_accepted_only(&self) -> bool {
        self.status == AckStatus::Queued
    }
}

/// An order as the sender may see it: ids and status, no candidate data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRef {
    /// The vendor ordered from.
    pub vendor: VendorId,
    /// Our order id.
    pub order_id: OrderId,
    /// The vendor's id of the order, once placed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_order_id: Option<String>,
    /// The vendor's latest status word, if any yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl From<&Order> for OrderRef {
    fn from(order: &Order) -> Self {
        OrderRef {
            vendor: order.vendor(),
            order_id: order.order_id().clone(),
            vendor_order_id: order.vendor_order_id().map(str::to_owned),
            status: order.status().map(str::to_owned),
        }
    }
}

/// Why a delivery was refused or failed, for the tenant's admin: what happened and, where
/// there is one, what to do.
fn refusal_words(error: &AppError) -> String {
    use crate::callback_auth::CallbackAuthError;
    use crate::lever::webhook::SignatureError;
    match error {
        AppError::LeverSignature(SignatureError::Mismatch | SignatureError::Missing) => {
            "the signature does not match this webhook's stored token: not sent by Lever, or \
             the webhook was re-created in Lever (register the webhooks again)"
                .into()
        }
        AppError::LeverSignature(SignatureError::Stale | SignatureError::Future) => {
            "triggeredAt is outside the accepted window: a late retry, or a replayed delivery"
                .into()
        }
        AppError::CallbackAuth(CallbackAuthError::Mismatch) => {
            "the signature does not match the stored callback secret: not sent by the vendor, \
             or the secret changed on the vendor's side (save the new one on the vendor page)"
                .into()
        }
        other => other.to_string(),
    }
}

/// Refused (or failed) deliveries recorded per tenant and minute; the rest are only counted
/// (`WebhookRejected`, `Callback` metrics), so forged requests cannot fill the table.
pub const REFUSALS_LOGGED_PER_MINUTE: u32 = 30;

impl Intake<'_> {
    /// Records in `tenant`'s delivery log what intake made of `delivery` (`outcome`, the
    /// sender's answer). Not recorded: a tenant nobody configured, a copy another invocation
    /// is processing (its first copy's entry tells), refusals over the per-minute budget.
    /// Best effort: the sender's answer stands whatever the log does.
    pub(crate) async fn log(
        &self,
        tenant: &TenantId,
        mut delivery: LoggedDelivery,
        outcome: &Result<Ack, AppError>,
    ) {
        match outcome {
            Ok(ack) => {
                delivery.received = match ack.status {
                    AckStatus::Test => Received::Test,
                    AckStatus::Ignored => Received::Ignored,
                    AckStatus::Disabled => Received::Disabled,
                    AckStatus::Duplicate => Received::Duplicate,
                    AckStatus::Applied => Received::Applied,
                    AckStatus::Unchanged => Received::Unchanged,
                    AckStatus::Queued
                    | AckStatus::Received
                    | AckStatus::Ordered
                    | AckStatus::NotOrdered => Received::Queued,
                };
                delivery.why.clone_from(&ack.detail);
                for order in &ack.orders {
                    if !delivery.orders.contains(&order.order_id) {
                        delivery.orders.push(order.order_id.clone());
                    }
                }
            }
            Err(AppError::NotFound("tenant") | AppError::InProgress) => return,
            Err(error) => {
                delivery.received = if error.status().is_client_error() {
                    Received::Rejected
                } else {
                    Received::Failed
                };
                delivery.why = Some(refusal_words(error));
            }
        }
        if delivery.received != Received::Queued {
            delivery.work = None;
        }
        let now = crate::clock::now_millis();
        if matches!(delivery.received, Received::Rejected | Received::Failed) {
            let minute = now - now.rem_euclid(60_000);
            let budget = format!("log-refused:{tenant}");
            match self
                .limiter
                .try_take(&budget, minute, REFUSALS_LOGGED_PER_MINUTE)
                .await
            {
                Ok(true) => {}
                Ok(false) => return,
                Err(error) => {
                    tracing::warn!(%error, "the delivery log's budget could not be read: not recorded");
                    return;
                }
            }
        }
        let keep_until = self.settings.log_keep_until(now);
        if let Err(error) = self.log.log_delivery(tenant, &delivery, keep_until).await {
            tracing::warn!(%error, delivery = %delivery.id, "the delivery was not recorded in the delivery log");
        }
    }

    /// Runs `work` once per delivery `key` (a Lever delivery token or a vendor's callback
    /// id): a delivery already processed is acknowledged as a duplicate, one being processed
    /// by another invocation is answered 409 (the sender retries), and a failed one is
    /// forgotten so the sender's retry is processed afresh. A claim left by a function that
    /// was killed goes stale after `delivery_stale_after` and is taken over.
    pub(crate) async fn once_per_delivery(
        &self,
        key: &str,
        work: impl std::future::Future<Output = Result<Ack, AppError>>,
    ) -> Result<Ack, AppError> {
        let claim = self
            .deliveries
            .begin_delivery(
                key,
                crate::clock::now_millis(),
                self.settings.delivery_stale_after,
                self.settings.delivery_memory(),
            )
            .await?;
        match claim {
            Delivery::AlreadyDone => return Ok(Ack::new(AckStatus::Duplicate)),
            Delivery::InProgress => return Err(AppError::InProgress),
            Delivery::New => {}
        }
        let outcome = work.await;
        match &outcome {
            Ok(_) => self.deliveries.finish_delivery(key).await?,
            Err(_) => self.deliveries.abandon_delivery(key).await?,
        }
        outcome
    }

    /// Claims `key` as done at once, for a delivery that needs no work: `status`, or a
    /// duplicate if it was seen before.
    pub(crate) async fn record_delivery(
        &self,
        key: &str,
        status: AckStatus,
    ) -> Result<Ack, AppError> {
        let claim = self
            .deliveries
            .record_delivery(
                key,
                crate::clock::now_millis(),
                self.settings.delivery_memory(),
            )
            .await?;
        Ok(match claim {
            Delivery::New => Ack::new(status),
            Delivery::AlreadyDone => Ack::new(AckStatus::Duplicate),
            Delivery::InProgress => return Err(AppError::InProgress),
        })
    }

    /// Runs an authentication `check` on the tenant's secrets. If it fails only because
    /// the signature does not match, the secrets are re-read once (rate-limited) in case
    /// the token or secret was just rotated, and checked again.
    pub(crate) async fn check_with_fresh_secrets<T>(
        &self,
        tenant: &Tenant,
        check: impl Fn(&TenantSecrets) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        use crate::callback_auth::CallbackAuthError;
        use crate::lever::webhook::SignatureError;
        match check(&tenant.secrets) {
            Err(
                mismatch @ (AppError::LeverSignature(SignatureError::Mismatch)
                | AppError::CallbackAuth(CallbackAuthError::Mismatch)),
            ) => match self.tenants.secrets_after_mismatch(tenant.id()).await? {
                Some(fresh) => check(&fresh),
                None => Err(mismatch),
            },
            other => other,
        }
    }
}
