//! Running as a Lambda function: each function's `main` is one call here. The app is built
//! once per execution environment (clients only, nothing fetched), logs go to stdout, and
//! metrics are flushed as CloudWatch Embedded Metric Format after each invocation. Each
//! invocation runs in its X-Ray trace's [`xray::scope`], so its AWS calls carry the trace.

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

type Error = lambda_runtime::Error;

/// The CloudWatch namespace every metric is published in.
pub const METRICS_NAMESPACE: &str = "LeverScreening";

/// Installs the process-wide metrics recorder: CloudWatch Embedded Metric Format in the
/// [`METRICS_NAMESPACE`], one document per label set, whose labels are its only dimensions
/// (the alarms in `template.yaml` match on exactly those), plus a `ColdStart` count.
///
/// # Errors
/// When a recorder is already installed in this process.
pub fn install_metrics() -> Result<&'static metrics_cloudwatch_embedded::Collector, Error> {
    Ok(metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(METRICS_NAMESPACE)
        .lambda_cold_start_metric("ColdStart")
        .init()
        .map_err(|e| format!("metrics: {e}"))?)
}

/// Starts a function whose app holds `vendors`.
async fn start(
    vendors: Vendors,
) -> Result<(App, &'static metrics_cloudwatch_embedded::Collector), Error> {
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
    metrics_cloudwatch_embedded::lambda::handler::run_http(
        metrics,
        move |request: lambda_http::Request| {
            let trace = request
                .lambda_context_ref()
                .and_then(|context| context.xray_trace_id.clone());
            xray::scope(trace, async move {
                Ok::<_, Error>(endpoint.serve(app, request).await)
            })
        },
    )
    .await
}

/// Runs the worker on its SQS event source mapping, answering with a partial batch response
/// (`ReportBatchItemFailures`): the messages reported stay in the queue for their retry.
pub async fn run_worker() -> Result<(), Error> {
    let (app, metrics) = start(Vendors::standard()).await?;
    let app = &app;
    metrics_cloudwatch_embedded::lambda::handler::run(
        metrics,
        move |event: LambdaEvent<SqsEvent>| {
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
            })
        },
    )
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
    metrics_cloudwatch_embedded::lambda::handler::run(
        metrics,
        move |event: LambdaEvent<serde_json::Value>| {
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
            })
        },
    )
    .await
}
