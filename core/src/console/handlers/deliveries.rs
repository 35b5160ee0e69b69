//! The Deliveries page: the tenant's delivery log, filtered and paged, and its Replay action.

use super::{vendor_name, Page};
use crate::console::pages::{Choice, DeliveriesPage, DeliveryRow, Moment};
use crate::console::{Form, Refusal};
use crate::delivery_log::{LogEntry, LogFilter, Received, Source};
use crate::directory::Tenant;
use crate::error::AppError;
use crate::flows::deliveries::{self, Replayed};
use crate::flows::REFUSALS_LOGGED_PER_MINUTE;
use crate::ids::{DeliveryId, VendorId};
use crate::lever::webhook::WebhookKind;
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::{Body, Response};

/// Deliveries per page.
const PAGE: usize = 25;
/// Deliveries the status page shows.
const RECENT: usize = 5;
/// What the outcome filter offers beyond intake's answers: where the work stands.
const WORK_STATES: [(&str, &str); 3] = [
    ("done", "work done"),
    ("retrying", "work being retried"),
    ("replayed", "replayed, waiting"),
];

impl Page<'_, '_> {
    pub(super) fn deliveries_href(&self) -> String {
        format!("{}/deliveries", self.overview)
    }

    pub(super) async fn deliveries_page(
        &self,
        mut shown: super::Shown<'_>,
        query: &QueryMap,
    ) -> Result<Response<Body>, Refusal> {
        let tenant = self.tenant().await?;
        let text = |name: &str| {
            query
                .first(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let filter = LogFilter {
            outcome: text("outcome"),
            sender: text("from"),
            candidate: text("candidate"),
        };
        // A mangled cursor starts from the newest: nothing to refuse.
        let before = text("before").and_then(|b| DeliveryId::parse(b).ok());
        let page = deliveries::list(
            self.console.app.store().as_ref(),
            tenant.id(),
            &filter,
            before.as_ref(),
            PAGE,
        )
        .await?;
        let href = |before: Option<&DeliveryId>| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (name, value) in [
                ("outcome", &filter.outcome),
                ("from", &filter.sender),
                ("candidate", &filter.candidate),
            ] {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
            if let Some(before) = before {
                query.append_pair("before", before.as_str());
            }
            let query = query.finish();
            match query.is_empty() {
                true => self.deliveries_href(),
                false => format!("{}?{query}", self.deliveries_href()),
            }
        };
        let outcome = filter.outcome.clone().unwrap_or_default();
        let sender = filter.sender.clone().unwrap_or_default();
        let outcomes = Received::ALL
            .iter()
            .map(|r| (r.as_str(), r.as_str()))
            .chain(WORK_STATES)
            .map(|(value, text)| Choice {
                value: value.into(),
                text: text.into(),
                selected: value == outcome,
            })
            .collect();
        let senders = std::iter::once(("lever".to_owned(), "Lever".to_owned()))
            .chain(
                tenant
                    .config
                    .vendors
                    .keys()
                    .map(|v| (v.as_str().to_owned(), vendor_name(*v).to_owned())),
            )
            .map(|(value, text)| Choice {
                selected: value == sender,
                value,
                text,
            })
            .collect();
        let view = DeliveriesPage {
            layout: self.frame_of("Deliveries", &tenant, "deliveries", &mut shown),
            tenant: tenant.id().to_string(),
            csrf: self.session.csrf_token(),
            retention_days: self.console.app.settings().delivery_log_retention.as_secs() / 86_400,
            refusals_per_minute: REFUSALS_LOGGED_PER_MINUTE,
            action: self.deliveries_href(),
            replay_action: format!("{}/replay", self.deliveries_href()),
            outcomes,
            senders,
            candidate: filter.candidate.clone().unwrap_or_default(),
            filtered: !filter.is_empty(),
            rows: page
                .entries
                .iter()
                .map(|e| self.delivery_row(e, &tenant))
                .collect(),
            older: page.older.as_ref().map(|older| href(Some(older))),
            newest: before.is_some().then(|| href(None)),
        };
        Ok(self.console.page(shown.status, &view))
    }

    /// The newest few deliveries, for the status page.
    pub(super) async fn recent_deliveries(
        &self,
        tenant: &Tenant,
    ) -> Result<Vec<DeliveryRow>, AppError> {
        let page = deliveries::list(
            self.console.app.store().as_ref(),
            tenant.id(),
            &LogFilter::default(),
            None,
            RECENT,
        )
        .await?;
        Ok(page
            .entries
            .iter()
            .map(|e| self.delivery_row(e, tenant))
            .collect())
    }

    fn delivery_row(&self, entry: &LogEntry, tenant: &Tenant) -> DeliveryRow {
        let delivery = &entry.delivery;
        let opportunity = delivery
            .opportunity
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let name = entry
            .end
            .iter()
            .flat_map(|end| &end.effects)
            .find_map(|effect| effect.candidate.clone());
        DeliveryRow {
            id: delivery.id.to_string(),
            received: Moment::at(delivery.received_at()),
            from: match &delivery.source {
                Source::Lever(event) => match WebhookKind::from_event_name(event) {
                    Some(kind) => format!("Lever: {}", kind.display_name()),
                    None => format!("Lever: {event}"),
                },
                Source::Vendor(vendor) => vendor_name(*vendor).to_owned(),
            },
            outcome: delivery.received.as_str().to_owned(),
            bad: matches!(delivery.received, Received::Rejected | Received::Failed),
            why: match (delivery.received, &delivery.why) {
                (Received::Failed, Some(why)) => format!("{why} (the sender tries again)"),
                (_, why) => why.clone().unwrap_or_default(),
            },
            candidate: name.unwrap_or_else(|| match opportunity.is_empty() {
                true => "-".into(),
                false => opportunity.clone(),
            }),
            lever_href: delivery
                .opportunity
                .as_ref()
                .and_then(|o| self.lever_href(tenant, o.as_str())),
            opportunity,
            work: entry.work_words(|vendor: VendorId| vendor_name(vendor).to_owned()),
            work_failed: entry.end.as_ref().is_some_and(|end| end.state.failed()),
            replayable: entry.replayable(),
        }
    }

    /// Replays one of the tenant's deliveries, then shows the log with a notice.
    pub(super) async fn replay(&self, form: &Form) -> Result<Response<Body>, Refusal> {
        let id = form
            .text("delivery")
            .and_then(|id| DeliveryId::parse(id).ok())
            .ok_or_else(|| Refusal::Form("Choose the delivery to replay.".into()))?;
        let app = self.console.app;
        let keep_until = app.settings().log_keep_until(self.console.now);
        let replayed = deliveries::replay(
            app.store().as_ref(),
            app.queue().as_ref(),
            &self.session.tenant,
            &id,
            keep_until,
        )
        .await
        .map_err(|error| match error {
            AppError::Unprocessable(why) => Refusal::Form(crate::console::sentence(&why)),
            other => other.into(),
        })?;
        let notice = match replayed {
            Replayed::Redriven => "replayed-dead",
            Replayed::Queued => "replayed",
        };
        self.redirect(&format!(
            "{}?notice={notice}#d-{id}",
            self.deliveries_href()
        ))
    }
}
