//! Structured JSON logs for every binary. Fields carry tenant, vendor, opportunity and
//! order ids; never tokens, names, emails or phones (DESIGN.md §3.6).

/// JSON lines to stdout (CloudWatch), level from `RUST_LOG` (default `info`). Safe to call
/// twice: the second call is a no-op.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time() // Lambda stamps each line itself
        .try_init();
}
