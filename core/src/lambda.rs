//! Running as a Lambda function: each function's `main` is one call here. The app is built
//! once per execution environment (clients only, nothing fetched), logs go to stdout, and
//! metrics are flushed as CloudWatch Embedded Metric Format after each invocation
//! ([`published`]). Each invocation runs in its X-Ray trace's [`xray::scope`], so its AWS
//! calls carry the trace.
//!
//! The runtime is `lambda_runtime::run` (one tracing span per invocation, with its request
//! and trace ids) and, for HTTP, `lambda_http::run` with API Gateway's payload 2.0 only:
//! `metrics_cloudwatch_embedded`'s own Lambda wrapper would turn on every `lambda_http` event
//! type (REST API, ALB, WebSocket), and each HTTP event would first be tried as a REST API
//! event, which the template never sends.

use crate::app::App;
use crate::clock::{now_millis, Deadline};
use crate::flows::{reconcile, safety_net, webhook_health};
use crate::http::Endpoint;
use crate::telemetry;
use crate::vendors::Vendors;
use crate::xray;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::RequestExt;
use lambda_runtime::LambdaEvent;
use metrics_cloudwatch_embedded::Collector;
use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

type Error = lambda_runtime::Error;

/// The CloudWatch namespace every metric is published in.
pub const METRICS_NAMESPACE: &str = "LeverScreening";

/// The count published once per execution environment, with its first invocation.
pub const COLD_START_METRIC: &str = "ColdStart";

/// Installs the process-wide metrics recorder: CloudWatch Embedded Metric Format in the
/// [`METRICS_NAMESPACE`], one document per label set, whose labels are its only dimensions
/// (the alarms in `template.yaml` match on exactly those). [`published`] adds a
/// [`COLD_START_METRIC`] count.
///
/// # Errors
/// When a recorder is already installed in this process.
pub fn install_metrics() -> Result<&'static Collector, Error> {
    Ok(metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(METRICS_NAMESPACE)
        .init()
        .map_err(|e| format!("metrics: {e}"))?)
}

/// Runs one invocation and publishes its metrics to stdout, which Lambda sends to CloudWatch
/// Logs: a [`COLD_START_METRIC`] count before the execution environment's first invocation,
/// and every metric recorded until it ends after it. A metric that cannot be written is
/// logged, never the invocation's failure.
pub async fn published<T>(metrics: &Collector, invocation: impl Future<Output = T>) -> T {
    static FIRST: AtomicBool = AtomicBool::new(true);
    published_to(metrics, &FIRST, std::io::stdout, invocation).await
}

/// [`published`], with the first-invocation flag and the output given.
async fn published_to<T, W: Write>(
    metrics: &Collector,
    first: &AtomicBool,
    out: impl Fn() -> W,
    invocation: impl Future<Output = T>,
) -> T {
    if first.swap(false, Ordering::Relaxed) {
        if let Err(error) =
            metrics.write_single(COLD_START_METRIC, Some(metrics::Unit::Count), 1, out())
        {
            tracing::warn!(%error, "could not publish the cold start metric");
        }
    }
    // Flushed when the invocation ends, or unwinds: a handler's panic (which the runtime
    // reports as the invocation's error) must not carry its metrics into the next one.
    let _flush = FlushOnDrop { metrics, out };
    invocation.await
}

/// Publishes what was recorded when dropped.
struct FlushOnDrop<'a, W: Write, F: Fn() -> W> {
    metrics: &'a Collector,
    out: F,
}

impl<W: Write, F: Fn() -> W> Drop for FlushOnDrop<'_, W, F> {
    fn drop(&mut self) {
        if let Err(error) = self.metrics.flush((self.out)()) {
            tracing::warn!(%error, "could not publish the invocation's metrics");
        }
    }
}

/// Starts a function whose app holds `vendors`.
async fn start(vendors: Vendors) -> Result<(App, &'static Collector), Error> {
    telemetry::init_logs();
    let metrics = install_metrics()?;
    Ok((App::from_env(vendors).await?, metrics))
}

/// Serves one HTTP endpoint (API Gateway HTTP API, payload 2.0): an
/// [`crate::http::LeverWebhook`], [`crate::http::VendorCallback`],
/// [`crate::http::LeverOAuthCallback`] or [`crate::http::Console`] (each function names its
/// own, so its binary holds only that code).
pub async fn serve_http(endpoint: impl Endpoint) -> Result<(), Error> {
    let (app, metrics) = start(endpoint.vendors()).await?;
    let app = &app;
    lambda_http::run(lambda_http::service_fn(
        move |request: lambda_http::Request| {
            let trace = request
                .lambda_context_ref()
                .and_then(|context| context.xray_trace_id.clone());
            published(
                metrics,
                xray::scope(trace, async move {
                    Ok::<_, Error>(endpoint.serve(app, request).await)
                }),
            )
        },
    ))
    .await
}

/// Runs the worker on its SQS event source mapping, answering with a partial batch response
/// (`ReportBatchItemFailures`): the messages reported stay in the queue for their retry.
pub async fn run_worker() -> Result<(), Error> {
    let (app, metrics) = start(Vendors::standard()).await?;
    let app = &app;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<SqsEvent>| {
            published(
                metrics,
                xray::scope(event.context.xray_trace_id.clone(), async move {
                    let deadline =
                        Deadline::lambda(event.context.deadline, app.settings.work.deadline_margin);
                    let messages: Vec<_> = event
                        .payload
                        .records
                        .into_iter()
                        .filter_map(crate::queue::sqs::from_event)
                        .collect();
                    let failed = app
                        .worker(deadline)
                        .handle_batch(app.queue().as_ref(), &messages)
                        .await;
                    let mut response = SqsBatchResponse::default();
                    for id in failed {
                        response.add_failure(id);
                    }
                    Ok::<_, Error>(response)
                }),
            )
        },
    ))
    .await
}

/// The scheduled jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Re-read orders whose vendor went quiet.
    ReconcileOrders,
    /// Check that Lever still has every webhook the integrations need.
    CheckWebhooks,
    /// Ask Lever for stage entries and archives no webhook delivered, and work them.
    SafetyNet,
}

/// Runs a scheduled job (EventBridge) once per invocation.
/// Each job only reads and queues: the vendors are called by the worker, so the app holds
/// their descriptions alone.
pub async fn run_scheduled(job: Job) -> Result<(), Error> {
    let (app, metrics) = start(Vendors::described()).await?;
    let app = &app;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<serde_json::Value>| {
            published(
                metrics,
                xray::scope(event.context.xray_trace_id.clone(), async move {
                    let deadline =
                        Deadline::lambda(event.context.deadline, app.settings.work.deadline_margin);
                    let report = match job {
                        Job::ReconcileOrders => serde_json::to_value(
                            reconcile::run(
                                app.store().as_ref(),
                                app.queue().as_ref(),
                                &app.settings,
                                now_millis(),
                            )
                            .await?,
                        )?,
                        Job::CheckWebhooks | Job::SafetyNet => {
                            let worker = app.worker(deadline);
                            let (mut checked, mut failed, mut found) = (0, 0, 0);
                            // One tenant that cannot be checked (its Lever down, its credential
                            // revoked) does not keep the others from being checked.
                            for config in app.store().list_tenants().await? {
                                let result = async {
                                    let tenant = app.tenants().tenant(&config.tenant_id).await?;
                                    if job == Job::SafetyNet {
                                        let run =
                                            safety_net::run(&worker, &tenant, now_millis()).await?;
                                        return Ok::<_, crate::AppError>(run.found());
                                    }
                                    webhook_health::check(&worker, &tenant).await.map(|_| 0)
                                };
                                match result.await {
                                    Ok(n) => (checked, found) = (checked + 1, found + n),
                                    Err(error) => {
                                        failed += 1;
                                        tracing::warn!(tenant = %config.tenant_id, ?job, %error,
                                    "could not check the tenant");
                                    }
                                }
                            }
                            let mut report =
                                serde_json::json!({ "tenants": checked, "failed": failed });
                            if job == Job::SafetyNet {
                                report["found"] = found.into();
                            }
                            report
                        }
                    };
                    Ok::<_, Error>(report)
                }),
            )
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// What the invocations wrote, shared with the test.
    #[derive(Clone, Default)]
    struct Output(Arc<Mutex<Vec<u8>>>);

    impl Write for Output {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Output {
        /// The metric names of each EMF document written since the last call.
        fn take_metric_names(&self) -> Vec<Vec<String>> {
            let written = std::mem::take(&mut *self.0.lock().unwrap());
            String::from_utf8(written)
                .unwrap()
                .lines()
                .map(|line| {
                    let document: serde_json::Value = serde_json::from_str(line).unwrap();
                    assert_eq!(
                        document["_aws"]["CloudWatchMetrics"][0]["Namespace"],
                        METRICS_NAMESPACE
                    );
                    document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|metric| metric["Name"].as_str().unwrap().to_owned())
                        .collect()
                })
                .collect()
        }
    }

    #[tokio::test]
    async fn each_invocation_publishes_its_metrics_and_only_the_first_a_cold_start() {
        let metrics = install_metrics().unwrap();
        let (first, output) = (AtomicBool::new(true), Output::default());
        let invocation = || async {
            metrics::counter!("WebhookRejected", "reason" => "signature").increment(1);
            "answered"
        };

        let answer = published_to(metrics, &first, || output.clone(), invocation()).await;
        assert_eq!(answer, "answered");
        assert_eq!(
            output.take_metric_names(),
            [
                vec![COLD_START_METRIC.to_owned()],
                vec!["WebhookRejected".into()]
            ]
        );

        published_to(metrics, &first, || output.clone(), invocation()).await;
        assert_eq!(
            output.take_metric_names(),
            [vec!["WebhookRejected".to_owned()]],
            "a warm invocation publishes no cold start"
        );

        let panicking = async {
            metrics::counter!("WebhookRejected", "reason" => "signature").increment(1);
            panic!("a handler's bug");
        };
        let unwound = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(published_to(
            metrics,
            &first,
            || output.clone(),
            panicking,
        )))
        .await;
        assert!(unwound.is_err());
        assert_eq!(
            output.take_metric_names(),
            [vec!["WebhookRejected".to_owned()]],
            "an invocation that panicked publishes its own metrics"
        );
    }
}
