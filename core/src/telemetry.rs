//! Logs and metrics, the same from every function.
//!
//! Logs: `tracing` to stdout, JSON lines when Lambda's `AWS_LAMBDA_LOG_FORMAT` is `JSON`
//! (plain text otherwise), at `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `INFO`, as
//! `lambda_runtime::tracing::init_default_subscriber` reads them, with a `Targets` filter
//! rather than an `EnvFilter` (no regex engine in the binaries). Flows open spans with their
//! tenant, vendor and order ids; no field ever carries a token, a name, an email or a phone.
//!
//! Metrics: the [`metrics`] crate's macros, recorded as CloudWatch Embedded Metric Format by
//! the function's recorder ([`crate::lambda`]); without a recorder (tests, the local server)
//! they cost nothing. Every metric this product emits is named in [`metrics`].

use std::str::FromStr;
use tracing_subscriber::filter::{LevelFilter, Targets};

/// The log filter: `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG` (`info`, `warn,lever_screening=debug`),
/// else `default`.
pub fn log_filter(default: LevelFilter) -> Targets {
    let spec = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    spec.ok()
        .and_then(|spec| {
            LevelFilter::from_str(&spec)
                .map(|level| Targets::new().with_default(level))
                .or_else(|_| spec.parse())
                .ok()
        })
        .unwrap_or_else(|| Targets::new().with_default(default))
}

/// Logs to stdout for a Lambda function. Safe to call twice: the second call is a no-op.
pub fn init_logs() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // Lambda stamps each line itself.
    let layer = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_target(false)
            .without_time()
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .without_time()
            .boxed()
    };
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(log_filter(LevelFilter::INFO)))
        .try_init();
}

/// The metrics, by name. Counters unless said otherwise; labels become CloudWatch
/// dimensions, so only small sets of values are used (no opportunity or order ids).
pub mod metrics {
    use crate::ids::VendorId;
    use ::metrics::{counter, histogram};

    /// A Lever webhook delivery reached its function (`event`: Lever's event name).
    pub fn webhook_received(event: &'static str) {
        counter!("WebhookReceived", "event" => event).increment(1);
    }

    /// A Lever delivery or vendor callback refused; `reason` is the error code
    /// (`unauthorized`, `bad_request`, …).
    pub fn webhook_rejected(reason: &'static str) {
        counter!("WebhookRejected", "reason" => reason).increment(1);
    }

    /// Lever's connection test.
    pub fn test_delivery() {
        counter!("TestDelivery").increment(1);
    }

    /// An order the vendor accepted (`OrderPlaced`), by vendor.
    pub fn ordered(vendor: VendorId) {
        counter!("OrderPlaced", "vendor" => vendor.as_str()).increment(1);
    }

    /// Not ordered, and why (`no_candidate_data`, `no_package`, `vendor_refused`,
    /// `already_open`, `integration_disabled`).
    pub fn not_ordered(reason: &'static str) {
        counter!("NotOrdered", "reason" => reason).increment(1);
    }

    /// A signed delivery Lever's API did not confirm: ordered nothing.
    pub fn unconfirmed(reason: &'static str) {
        counter!("DeliveryUnconfirmed", "reason" => reason).increment(1);
    }

    /// A vendor callback and what came of it (`applied`, `unchanged`, `duplicate`,
    /// `queued`, or the error code).
    pub fn callback(vendor: VendorId, outcome: &'static str) {
        counter!("Callback", "vendor" => vendor.as_str(), "outcome" => outcome).increment(1);
    }

    /// One outbound HTTP attempt (`target`: `lever` or a vendor) and its status class
    /// (`2xx`, `4xx`, `429`, `5xx`, `error`); its duration in ms (histogram).
    pub fn outbound(target: &'static str, status: &'static str, millis: f64) {
        counter!("OutboundCall", "target" => target, "status" => status).increment(1);
        histogram!("OutboundLatency", "target" => target).record(millis);
        if status == "429" && target == "lever" {
            counter!("LeverThrottled").increment(1);
        }
    }

    /// One queue message and what became of it (`done`, `retried`, `dead_lettered`,
    /// `dropped`), by kind of work.
    pub fn work(kind: &'static str, outcome: &'static str) {
        counter!("Work", "kind" => kind, "outcome" => outcome).increment(1);
    }

    /// Work dropped without being done (`integration_disabled`).
    pub fn work_dropped(reason: &'static str) {
        counter!("WorkDropped", "reason" => reason).increment(1);
    }

    /// Lever refused an integration's credential: it is disabled until reconnected.
    pub fn integration_disabled(vendor: VendorId) {
        counter!("IntegrationDisabled", "vendor" => vendor.as_str()).increment(1);
    }

    /// What the safety net found that no webhook delivered (`kind`: `stage_entry`,
    /// `archive`); recorded on every run, 0 included, so the alarm sees the runs.
    pub fn safety_net_found(kind: &'static str, found: u32) {
        counter!("SafetyNetFound", "kind" => kind).increment(u64::from(found));
    }

    /// An order was held because the vendor refused the tenant's account (needs attention).
    pub fn order_needs_attention(vendor: VendorId) {
        counter!("OrderNeedsAttention", "vendor" => vendor.as_str()).increment(1);
    }

    /// Lever refused an integration's credential a candidate (403), as it does for a
    /// confidential posting's candidate without access to confidential data: nothing ordered.
    pub fn lever_confidential_refused(vendor: VendorId) {
        counter!("LeverConfidentialRefused", "vendor" => vendor.as_str()).increment(1);
    }

    /// A webhook the integrations need is missing in Lever.
    pub fn webhook_missing(event: &'static str) {
        counter!("WebhookMissing", "event" => event).increment(1);
    }

    /// A reconciliation run: orders queued for a re-read, and intents never placed.
    pub fn reconciled(queued: usize, unplaced: usize) {
        counter!("ReconcileQueued").increment(queued as u64);
        counter!("ReconcileUnplaced").increment(unplaced as u64);
    }

    /// An open order ended because Lever archived or deleted its candidate; `outcome`:
    /// `cancelled` by the vendor, `already_ended` there, `not_cancellable` (no cancel in the
    /// vendor's API), or `not_placed` (an intent closed before it was ordered).
    pub fn cancelled(vendor: VendorId, outcome: &'static str) {
        counter!("OrderCancelled", "vendor" => vendor.as_str(), "outcome" => outcome).increment(1);
    }

    /// Orders purged because Lever deleted their candidate.
    pub fn purged(orders: usize) {
        counter!("OrdersPurged").increment(orders as u64);
    }

    /// A setup-console invitation link was used or refused (`signed_in`, `refused`,
    /// `throttled`).
    pub fn console_sign_in(outcome: &'static str) {
        counter!("ConsoleSignIn", "outcome" => outcome).increment(1);
    }

    /// A setup-console form was acted on (`action`: `lever_key`, `settings`,
    /// `register_webhooks`…), with `ok` or the refusal's code.
    pub fn console_action(action: &'static str, outcome: &'static str) {
        counter!("ConsoleAction", "action" => action, "outcome" => outcome).increment(1);
    }

    /// A setup-console request refused (`no_session`, `csrf`, `not_found`…).
    pub fn console_refused(code: &'static str) {
        counter!("ConsoleRefused", "code" => code).increment(1);
    }
}
