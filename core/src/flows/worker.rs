//! The worker's dispatch: one queue message at a time, the Lever and vendor work intake
//! queued, handed to the flow that does it (the worker's context is [`super::context`]).
//! Every kind of work is safe to do twice. What fails is retried later with growing gaps (the
//! message's visibility), dead-lettered with its last error after the attempt limit or at
//! once when retrying cannot help, and dropped (counted) when the integration's Lever access
//! was revoked.

pub use super::context::Worker;
use super::{lever_sync, lifecycle, on_completion, ordering, vendor_callback};
use crate::delivery_log::{Effect, WorkEnd, WorkState};
use crate::directory::Tenant;
use crate::error::AppError;
use crate::ids::OrderId;
use crate::lever::webhook::Event;
use crate::queue::{Queue, QueueError, Received, Retries};
use crate::telemetry::metrics;
use crate::vendors::VendorId;
use crate::work::{Retry, Work};
use futures::future::join_all;
use std::time::Duration;
use tracing::{instrument, Instrument};

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done (or nothing was left to do): the message is deleted.
    Done,
    /// Not done; attempt again after this long.
    RetryLater(Duration),
    /// Retrying cannot help, or the attempts are used up: kept for a person, with why.
    DeadLetter(String),
    /// Not done and not to be: the integration's Lever access was revoked.
    Dropped,
}

impl Outcome {
    /// For logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::RetryLater(_) => "retried",
            Outcome::DeadLetter(_) => "dead_lettered",
            Outcome::Dropped => "dropped",
        }
    }
}

impl Worker<'_> {
    /// Does one piece of work; what it did per integration, when it ordered.
    #[instrument(skip_all, fields(work = work.kind(), tenant = %work.tenant()))]
    pub async fn run(&self, work: &Work) -> Result<Vec<Effect>, AppError> {
        let mut tenant = self.tenants.tenant(work.tenant()).await?;
        if tenant
            .config
            .vendors
            .values()
            .any(|i| i.lever_access_revoked.is_some())
        {
            // Reconnecting happens in another function: work is not dropped on what this
            // one cached.
            tenant = self.tenants.fresh(work.tenant()).await?;
        }
        match work {
            Work::LeverEvent {
                triggered_at,
                event,
                callback_base,
                ..
            } => match event {
                Event::StageChange { .. } | Event::ApplicationCreated { .. } => {
                    ordering::on_trigger(self, &tenant, *triggered_at, event, callback_base).await
                }
                Event::ArchiveChange {
                    opportunity,
                    archived: true,
                } => lifecycle::on_archived(self, &tenant, opportunity, *triggered_at)
                    .await
                    .map(|()| Vec::new()),
                Event::Deleted { opportunity } => lifecycle::on_deleted(self, &tenant, opportunity)
                    .await
                    .map(|()| Vec::new()),
                Event::ArchiveChange {
                    archived: false, ..
                }
                | Event::Hired { .. } => Ok(Vec::new()),
            },
            Work::SyncLever { order, .. } => {
                let Some(found) = self.orders.get_order(order).await? else {
                    return Ok(Vec::new());
                };
                show_in_lever(self, &tenant, found.vendor(), order)
                    .await
                    .map(|()| Vec::new())
            }
            Work::ReadVendorOrder {
                vendor,
                vendor_order_id,
                ..
            } => read_vendor_order(self, &tenant, *vendor, vendor_order_id)
                .await
                .map(|()| Vec::new()),
        }
    }

    /// Records in the delivery log what `work` came to, if a delivery queued it. Best
    /// effort: the work's own outcome stands whatever the log does.
    async fn log_end(&self, work: &Work, state: WorkState, effects: Vec<Effect>) {
        let Some(delivery) = work.delivery() else {
            return;
        };
        let end = WorkEnd::now(state, effects);
        let keep_until = self.settings.log_keep_until(end.at);
        if let Err(error) = self
            .log
            .log_work_end(work.tenant(), delivery, &end, keep_until)
            .await
        {
            tracing::warn!(%error, %delivery, "the work's end was not recorded in the delivery log");
        }
    }

    /// Does one message's work and decides what becomes of the message.
    pub async fn process(&self, message: &Received) -> Outcome {
        let work = match message.work() {
            Ok(work) => work,
            Err(error) => return Outcome::DeadLetter(error.to_string()),
        };
        let attempts = message.receive_count;
        let (outcome, state, effects) = match self.run(&work).await {
            Ok(effects) => (Outcome::Done, WorkState::Done, effects),
            Err(error) => {
                let outcome = match error.retry() {
                    Retry::Disabled => Outcome::Dropped,
                    Retry::Never => Outcome::DeadLetter(error.to_string()),
                    Retry::Later if attempts >= self.settings.work.max_attempts => {
                        Outcome::DeadLetter(error.to_string())
                    }
                    Retry::Later => {
                        tracing::warn!(work = work.kind(), tenant = %work.tenant(),
                            attempt = attempts, %error, "work failed; retrying later");
                        Outcome::RetryLater(self.settings.work.backoff(attempts, fastrand::f64()))
                    }
                };
                let error = error.to_string();
                let state = match outcome {
                    Outcome::Dropped => WorkState::Dropped,
                    Outcome::RetryLater(_) => WorkState::Retrying { attempts, error },
                    _ => WorkState::DeadLettered { attempts, error },
                };
                (outcome, state, Vec::new())
            }
        };
        self.log_end(&work, state, effects).await;
        metrics::work(work.kind(), outcome.name());
        if let Outcome::DeadLetter(error) = &outcome {
            tracing::error!(work = work.kind(), tenant = %work.tenant(),
                attempts = message.receive_count, %error, "work dead-lettered");
            if let Err(error) = self.note_dead_letter(&work).await {
                tracing::warn!(%error, "the dead-lettered order's Lever note was not written");
            }
        }
        outcome
    }

    /// A trigger's work that failed for good leaves its order intent pending (a redrive
    /// resumes it): the recruiter is told once, in a Lever note on the candidate, that it was
    /// not ordered and that the admin can retry it (the console lists the dead letter). Best
    /// effort: when Lever itself is what failed, the note waits for the redrive.
    async fn note_dead_letter(&self, work: &Work) -> Result<(), AppError> {
        let Work::LeverEvent { event, .. } = work else {
            return Ok(());
        };
        if !matches!(
            event,
            Event::StageChange { .. } | Event::ApplicationCreated { .. }
        ) {
            return Ok(());
        }
        let tenant = self.tenants.tenant(work.tenant()).await?;
        let pending = self
            .orders
            .orders_for_opportunity(tenant.id(), event.opportunity())
            .await?
            .into_iter()
            .filter(|o| o.phase() == crate::order::OrderPhase::Pending && o.attention().is_none());
        for order in pending {
            let service = self.vendor(order.vendor())?.description.service;
            let note = format!(
                "{service} not ordered: ordering it kept failing for a day and a half. Your \
                 Lever admin has been told and can retry it from the setup console (Status, \
                 Work that failed)."
            );
            crate::store::modify_order(self.orders, order.order_id(), |next| {
                next.add_notice_once(DEAD_LETTER_NOTICE, || note.clone());
                true
            })
            .await?;
            show_in_lever(self, &tenant, order.vendor(), order.order_id()).await?;
        }
        Ok(())
    }

    /// Processes a batch of messages together and settles each: what is returned are the
    /// message ids to report as failed (Lambda's partial batch response), which stay in the
    /// queue for their retry; the others may be deleted.
    pub async fn handle_batch(&self, retries: &dyn Retries, messages: &[Received]) -> Vec<String> {
        let outcomes = join_all(messages.iter().map(|message| {
            let span = tracing::info_span!("message", id = %message.message_id);
            self.process(message).instrument(span)
        }))
        .await;
        let mut failed = Vec::new();
        for (message, outcome) in messages.iter().zip(outcomes) {
            let settled = match outcome {
                Outcome::Done | Outcome::Dropped => true,
                Outcome::RetryLater(delay) => {
                    if let Err(error) = retries.retry_later(&message.receipt, delay).await {
                        tracing::warn!(%error, "could not delay the retry; the queue's own timeout applies");
                    }
                    false
                }
                Outcome::DeadLetter(error) => retries.dead_letter(message, &error).await.is_ok(),
            };
            if !settled {
                failed.push(message.message_id.clone());
            }
        }
        failed
    }
}

impl Worker<'_> {
    /// Receives up to `max` messages (waiting up to `wait` for the first) and settles them
    /// as Lambda's event source mapping does: those not reported as failed are deleted. For
    /// the local server's worker task and the tests. Returns how many were received.
    pub async fn poll(
        &self,
        queue: &dyn Queue,
        max: usize,
        wait: Duration,
    ) -> Result<usize, QueueError> {
        let messages = queue.receive(max, wait).await?;
        let failed = self.handle_batch(queue, &messages).await;
        for message in messages.iter().filter(|m| !failed.contains(&m.message_id)) {
            queue.delete(&message.receipt).await?;
        }
        Ok(messages.len())
    }
}

/// A vendor's word on an order, read from its API: an unsigned callback's hint confirmed, or
/// an order whose callbacks stopped reconciled. Applied forward-only, then shown in Lever.
async fn read_vendor_order(
    worker: &Worker<'_>,
    tenant: &Tenant,
    vendor: VendorId,
    vendor_order_id: &str,
) -> Result<(), AppError> {
    let description = worker.vendor(vendor)?.description;
    let api = worker.vendor_api(vendor)?;
    let account = worker.vendor_account(tenant, vendor)?;
    let update = api.read_order(&account, vendor_order_id).await?;
    if update.vendor_order_id != vendor_order_id {
        return Err(AppError::Unprocessable(
            "the vendor's API describes another order".into(),
        ));
    }
    let order = vendor_callback::find_order(worker.orders, tenant, vendor, &update, false).await?;
    let modified =
        vendor_callback::apply_update(worker.orders, description, &order, update).await?;
    show_in_lever(worker, tenant, vendor, modified.order().order_id()).await
}

/// Writes what the order should show in Lever, then moves the candidate on if the order
/// just completed and its integration says so.
/// The key of the Lever note a dead-lettered order adds (once).
const DEAD_LETTER_NOTICE: &str = "dead-letter";

async fn show_in_lever(
    worker: &Worker<'_>,
    tenant: &Tenant,
    vendor: VendorId,
    order_id: &OrderId,
) -> Result<(), AppError> {
    worker
        .with_access(tenant, vendor, async {
            let lever = worker.lever_for(tenant, vendor).await?;
            lever_sync::sync(worker, lever.as_ref(), order_id, None).await?;
            on_completion::move_candidate(worker, lever.as_ref(), tenant, order_id).await
        })
        .await
        .map(drop)
}
