//! X-Ray trace propagation to the AWS calls of an invocation, without the process environment.
//!
//! Lambda hands each invocation its trace header (`Lambda-Runtime-Trace-Id`, in
//! [`lambda_runtime::Context::xray_trace_id`]). Stock `lambda_runtime` copies it into the
//! `_X_AMZN_TRACE_ID` environment variable, where the AWS SDK's recursion-detection interceptor
//! reads it; but glibc's `setenv` never frees the value it replaces, so a warm environment grew
//! by about 150 bytes per invocation (docs/performance.md). Our `lambda_runtime` is patched not
//! to set the variable (vendor/patched/README.md); instead each invocation runs inside [`scope`]
//! with its trace header, and [`TraceHeader`], installed on every AWS client the functions
//! build, puts it on each request made in that scope as `X-Amzn-Trace-Id`, the header the SDK
//! would have written from the variable.
//!
//! Outside an invocation (the tools, tests), or for an invocation without a trace header,
//! nothing is added and the SDK behaves as it always did.

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use std::future::Future;

/// The request header that carries the trace (what the SDK's recursion detection writes).
pub const HEADER: &str = "x-amzn-trace-id";

tokio::task_local! {
    /// The trace header of the invocation this task is running, if it has one.
    static TRACE_ID: Option<String>;
}

/// Runs `invocation` with `trace_id` (the invocation's `Context::xray_trace_id`) as the trace
/// of every AWS request it makes. The value is the task's, not the process's: a task the
/// invocation spawns does not inherit it.
pub async fn scope<F: Future>(trace_id: Option<String>, invocation: F) -> F::Output {
    TRACE_ID.scope(trace_id, invocation).await
}

/// The trace header of the invocation running on this task, if any.
pub fn current() -> Option<String> {
    TRACE_ID.try_with(Clone::clone).ok().flatten()
}

/// An AWS SDK interceptor that sets `X-Amzn-Trace-Id` to the current invocation's trace
/// header ([`scope`]). It runs before the retry loop, so every attempt carries it and the
/// SDK's own recursion detection (which runs later and never replaces the header) leaves it.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceHeader;

impl Intercept for TraceHeader {
    fn name(&self) -> &'static str {
        "XRayTraceHeader"
    }

    fn modify_before_retry_loop(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(trace_id) = current() {
            // A header Lambda sent that is not a valid header value is left out rather than
            // failing the call; X-Ray is an aid, not a requirement of the request.
            if let Err(error) = context
                .request_mut()
                .headers_mut()
                .try_insert(HEADER, trace_id)
            {
                tracing::debug!(%error, "trace header not propagated");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_trace_is_the_scopes_and_only_inside_it() {
        assert_eq!(current(), None);
        let inside = scope(Some("Root=1-a".into()), async {
            let outer = current();
            let inner = scope(None, async { current() }).await;
            (outer, inner, current())
        })
        .await;
        assert_eq!(
            inside,
            (Some("Root=1-a".into()), None, Some("Root=1-a".into()))
        );
        assert_eq!(current(), None);
    }
}
