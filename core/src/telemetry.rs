//! Structured JSON logs for every binary. Fields carry tenant, vendor, opportunity and
//! order ids; never tokens, names, emails or phones (DESIGN.md §3.6).

use tracing_subscriber::filter::{LevelFilter, Targets};

/// `RUST_LOG` as a [`Targets`] filter (`info`, `warn,lever_screening=debug`), defaulting to `info`.
/// `Targets` rather than `EnvFilter`: it needs no regex engine, which keeps the Lambda
/// binaries small and their cold start short.
pub fn log_filter(default: LevelFilter) -> Targets {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| spec.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(default))
}

/// JSON lines to stdout (CloudWatch). Safe to call twice: the second call is a no-op.
pub fn init() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_target(false)
        .without_time(); // Lambda stamps each line itself
    let _ = tracing_subscriber::registry()
        .with(json)
        .with(log_filter(LevelFilter::INFO))
        .try_init();
}
