//! One run of one function: a fresh process under a fresh mock Runtime API, fed events one
//! after another as Lambda feeds one execution environment, and what it cost.
//!
//! Timeline of a run and what is taken where:
//!
//! 1. exec: the process is started (`init_ms` and `first_response_ms` count from here);
//! 2. its first `next` request: `init_ms` (Lambda's *Init Duration*: runtime, SDK clients
//!    built, nothing fetched yet);
//! 3. the first event is handed out and answered: `first_response_ms` = exec → that answer,
//!    what the first caller of a cold function waits (its tenant configuration and secret
//!    are fetched here);
//! 4. its next `next` request (idle again): CPU time is read;
//! 5. every following event: `next`-served → answer received is one warm latency;
//!    In a run of more than [`RSS_MARK`] events, the peak RSS is read as soon as event
//!    [`RSS_MARK`] is answered;
//! 6. the `next` request after the last answer (everything of the last event done): CPU
//!    time and peak RSS are read, and the process is killed.
//!
//! `cpu_ms_per_event` is the CPU time between 4 and 6 over the warm events; `events_per_s`
//! the warm events over the wall time between 4 and 6 (runtime API round trips included, as
//! in Lambda); `rss_growth_mb` the peak RSS at 6 less the peak RSS after event [`RSS_MARK`]:
//! what a long-lived execution environment gains after its first thousand events (caches
//! filled, pools grown), which should be nothing. Every answer is checked, so a run measures
//! the path it claims to or fails.

use crate::events;
use crate::process::{cpu_ms, peak_rss_mb};
use crate::runtime_api::{Invocation, Outcome, Report, RuntimeApi};
use crate::setup::{Fixture, TENANT};
use crate::BoxError;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The event after whose answer the peak RSS is read, the base of `rss_growth_mb`.
pub const RSS_MARK: usize = 1_000;

/// Longest a process may take to ask for its first event.
const INIT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest one invocation (or the step to the next `next`) may take.
const EVENT_TIMEOUT: Duration = Duration::from_secs(30);

/// What a function is invoked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Lever Candidate Stage Change deliveries into a non-trigger stage, through API
    /// Gateway: each must be answered 200 `ignored`.
    StageChange,
    /// SQS batches of `messages` `sync_lever` messages for orders that do not exist: each
    /// batch must be answered with no failed item.
    WorkerBatch { messages: usize },
    /// No events: the function is started and measured up to its first `next` (init, and
    /// the memory it holds then), for functions whose events come from Lever, a vendor or a
    /// schedule this bench does not play.
    Idle,
}

impl Workload {
    /// Queue messages per event (1 for an HTTP request).
    pub fn messages_per_event(self) -> usize {
        match self {
            Workload::StageChange | Workload::Idle => 1,
            Workload::WorkerBatch { messages } => messages,
        }
    }

    /// Invocations for `events` events: one each, or for the worker as many batches as carry
    /// that many messages (at least 2: one cold, one warm); none for an idle run.
    pub fn invocations(self, events: usize) -> usize {
        match self {
            Workload::Idle => 0,
            _ => events.div_ceil(self.messages_per_event()).max(2),
        }
    }

    fn event(self, fixture: &Fixture) -> Vec<u8> {
        match self {
            Workload::StageChange => events::stage_change(TENANT, &fixture.signature_token),
            Workload::WorkerBatch { messages } => {
                events::sqs_batch(TENANT, messages, &fixture.work_queue_arn)
            }
            Workload::Idle => Vec::new(),
        }
    }

    /// Whether `answer` is what this workload's path answers.
    fn check(self, answer: &[u8]) -> Result<(), String> {
        let text = || String::from_utf8_lossy(answer).into_owned();
        let answer: serde_json::Value = serde_json::from_slice(answer)
            .map_err(|e| format!("answer is not JSON ({e}): {}", text()))?;
        match self {
            Workload::StageChange => {
                let body: serde_json::Value = answer["body"]
                    .as_str()
                    .and_then(|body| serde_json::from_str(body).ok())
                    .unwrap_or_default();
                if answer["statusCode"] == 200 && body["status"] == "ignored" {
                    Ok(())
                } else {
                    Err(format!(
                        "expected 200 with status `ignored`, got {}",
                        text()
                    ))
                }
            }
            Workload::WorkerBatch { .. } => match answer.get("batchItemFailures") {
                None => Ok(()),
                Some(failures) if failures.as_array().is_some_and(Vec::is_empty) => Ok(()),
                Some(_) => Err(format!("expected no failed message, got {}", text())),
            },
            Workload::Idle => Err(format!("an idle run serves no event, got {}", text())),
        }
    }
}

/// A function to measure: how to start it and what to feed it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The row's name in the report.
    pub label: String,
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Working directory (the Python handler's directory, `LAMBDA_TASK_ROOT`).
    pub dir: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    pub workload: Workload,
}

/// Where a run's table is and how many events it serves.
pub struct RunPlan<'a> {
    pub fixture: &'a Fixture,
    pub table: &'a str,
    pub events: usize,
    /// The process's stdout and stderr (overwritten each run).
    pub log: &'a Path,
}

/// The figures of one run.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    pub init_ms: f64,
    pub first_response_ms: f64,
    pub warm_p50_ms: f64,
    pub warm_p99_ms: f64,
    pub cpu_ms_per_event: f64,
    pub peak_rss_mb: f64,
    /// Peak RSS at the end less peak RSS after event [`RSS_MARK`]; NaN in a run of no more
    /// than [`RSS_MARK`] events.
    pub rss_growth_mb: f64,
    pub events_per_s: f64,
}

impl Measurement {
    /// No figure.
    pub const NONE: Measurement = Measurement {
        init_ms: f64::NAN,
        first_response_ms: f64::NAN,
        warm_p50_ms: f64::NAN,
        warm_p99_ms: f64::NAN,
        cpu_ms_per_event: f64::NAN,
        peak_rss_mb: f64::NAN,
        rss_growth_mb: f64::NAN,
        events_per_s: f64::NAN,
    };
}

/// Runs `target` once, as planned. An idle run's figures are its init and the RSS then;
/// the others are NaN (printed as "—").
pub async fn run(target: &Target, plan: &RunPlan<'_>) -> Result<Measurement, BoxError> {
    if plan.events < 2 && target.workload != Workload::Idle {
        return Err("a run needs at least 2 events (one cold, one warm)".into());
    }
    let mut api = RuntimeApi::start(&target.function_name).await?;
    let log = std::fs::File::create(plan.log)
        .map_err(|e| format!("creating {}: {e}", plan.log.display()))?;
    let mut command = std::process::Command::new(&target.program);
    command
        .args(&target.args)
        .env_clear()
        .envs(inherited_env())
        .envs(lambda_env(target, plan, &api))
        .envs(target.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    if let Some(dir) = &target.dir {
        command.current_dir(dir);
    }

    let exec_at = Instant::now();
    let mut child = ChildGuard(
        command
            .spawn()
            .map_err(|e| format!("starting {}: {e}", target.program.display()))?,
    );
    let pid = child.0.id();
    let mut process = Process {
        api: &mut api,
        child: &mut child,
        log: plan.log,
    };

    let init_ms = millis(process.next_requested(INIT_TIMEOUT).await? - exec_at);
    if target.workload == Workload::Idle {
        return Ok(Measurement {
            init_ms,
            peak_rss_mb: peak_rss_mb(pid)?,
            ..Measurement::NONE
        });
    }
    let mut first_response_ms = 0.0;
    let mut latencies_ms = Vec::with_capacity(plan.events - 1);
    let mut warm = (0.0, exec_at);
    let mut rss_at_mark_mb = f64::NAN;
    for event in 0..plan.events {
        if event > 0 {
            process.next_requested(EVENT_TIMEOUT).await?;
        }
        if event == 1 {
            warm = (cpu_ms(pid)?, Instant::now());
        }
        let request_id = Uuid::new_v4().to_string();
        let invocation = Invocation {
            request_id: request_id.clone(),
            event: target.workload.event(plan.fixture),
        };
        process.api.invoke(invocation).await?;
        let (served_at, answered_at, answer) = process.answer(&request_id).await?;
        target
            .workload
            .check(&answer)
            .map_err(|e| format!("{}: event {}: {e}", target.label, event + 1))?;
        if event == 0 {
            first_response_ms = millis(answered_at - exec_at);
        } else {
            latencies_ms.push(millis(answered_at - served_at));
        }
        if event + 1 == RSS_MARK && plan.events > RSS_MARK {
            rss_at_mark_mb = peak_rss_mb(pid)?;
        }
    }
    process.next_requested(EVENT_TIMEOUT).await?;
    let (cpu_start_ms, warm_start) = warm;
    let cpu_end_ms = cpu_ms(pid)?;
    let warm_s = warm_start.elapsed().as_secs_f64();
    let peak_rss_mb = peak_rss_mb(pid)?;
    drop(child);

    let warm_events = latencies_ms.len() as f64;
    latencies_ms.sort_by(f64::total_cmp);
    Ok(Measurement {
        init_ms,
        first_response_ms,
        warm_p50_ms: percentile(&latencies_ms, 50.0),
        warm_p99_ms: percentile(&latencies_ms, 99.0),
        cpu_ms_per_event: (cpu_end_ms - cpu_start_ms) / warm_events,
        peak_rss_mb,
        rss_growth_mb: peak_rss_mb - rss_at_mark_mb,
        events_per_s: warm_events / warm_s,
    })
}

/// The parts of this process's environment a function gets: `PATH`, the locale, and the AWS
/// endpoints and credentials (`AWS_*`, as `scripts/local-aws` sets them), nothing of Lambda's
/// own (`AWS_LAMBDA_*`, set per run).
fn inherited_env() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(name, _)| {
            matches!(name.as_str(), "PATH" | "LANG" | "LC_ALL" | "HOME")
                || (name.starts_with("AWS_") && !name.starts_with("AWS_LAMBDA_"))
        })
        .collect()
}

/// What Lambda sets for a function, and this product's configuration.
fn lambda_env(target: &Target, plan: &RunPlan<'_>, api: &RuntimeApi) -> Vec<(String, String)> {
    let name = &target.function_name;
    [
        ("AWS_LAMBDA_RUNTIME_API", api.address.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
        // The template's `LoggingConfig: LogFormat: JSON`, at Lambda's default level.
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO".into()),
        ("TZ", ":UTC".into()),
        ("TABLE_NAME", plan.table.to_owned()),
        ("SECRETS_PREFIX", plan.fixture.secrets_prefix.clone()),
        ("WORK_QUEUE_URL", plan.fixture.work_queue_url.clone()),
        (
            "DEAD_LETTER_QUEUE_URL",
            plan.fixture.dead_letter_queue_url.clone(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// How often a waiting harness checks that the function process is still alive.
const LIVENESS_CHECK: Duration = Duration::from_millis(200);

/// The function process, killed (and reaped) when the run ends, however it ends.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The function process and its Runtime API, watched together so a crash or a hang is an
/// error, not a stuck bench.
struct Process<'a> {
    api: &'a mut RuntimeApi,
    child: &'a mut ChildGuard,
    log: &'a Path,
}

impl Process<'_> {
    /// The next report, unless the process exits or nothing comes within `timeout`.
    async fn report(&mut self, timeout: Duration) -> Result<Report, BoxError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.0.try_wait()? {
                return Err(format!(
                    "the function exited ({status}); its output: {}",
                    self.log.display()
                )
                .into());
            }
            let wait = LIVENESS_CHECK.min(deadline.saturating_duration_since(Instant::now()));
            if wait.is_zero() {
                return Err(format!(
                    "the function did nothing for {} s; its output: {}",
                    timeout.as_secs(),
                    self.log.display()
                )
                .into());
            }
            if let Some(report) = self.api.report(wait).await {
                return Ok(report);
            }
        }
    }

    /// Waits until the function asks for its next event; when it asked.
    async fn next_requested(&mut self, timeout: Duration) -> Result<Instant, BoxError> {
        match self.report(timeout).await? {
            Report::NextRequested { at } => Ok(at),
            Report::InitError { body } => Err(format!(
                "the function failed to initialise: {}",
                String::from_utf8_lossy(&body)
            )
            .into()),
            Report::Answered { request_id, .. } => {
                Err(format!("unexpected answer to {request_id} while idle").into())
            }
        }
    }

    /// Waits for the answer to `request_id`: when it was served, when answered, and what.
    async fn answer(&mut self, request_id: &str) -> Result<(Instant, Instant, Vec<u8>), BoxError> {
        match self.report(EVENT_TIMEOUT).await? {
            Report::Answered {
                request_id: answered,
                outcome,
                served_at,
                answered_at,
                body,
            } if answered == request_id => match outcome {
                Outcome::Response => Ok((served_at, answered_at, body.to_vec())),
                Outcome::Error => {
                    Err(format!("the invocation failed: {}", String::from_utf8_lossy(&body)).into())
                }
            },
            other => Err(format!("expected the answer to {request_id}, got {other:?}").into()),
        }
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The nearest-rank `p`th percentile of `sorted` (ascending, not empty).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), 50.0);
        assert_eq!(percentile(&values, 99.0), 99.0);
        assert_eq!(percentile(&[3.0], 99.0), 3.0);
        assert_eq!(percentile(&[1.0, 2.0], 50.0), 1.0);
    }

    #[test]
    fn answers_are_checked_per_workload() {
        let ignored = br#"{"statusCode":200,"body":"{\"status\":\"ignored\"}"}"#;
        assert!(Workload::StageChange.check(ignored).is_ok());
        let refused = br#"{"statusCode":401,"body":"{\"error\":{}}"}"#;
        assert!(Workload::StageChange.check(refused).is_err());
        let batch = Workload::WorkerBatch { messages: 10 };
        assert!(batch.check(br#"{"batchItemFailures":[]}"#).is_ok());
        assert!(batch
            .check(br#"{"batchItemFailures":[{"itemIdentifier":"m1"}]}"#)
            .is_err());
    }
}
