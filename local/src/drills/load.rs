//! The load drill (issue 23, target 4): intake under a constant arrival rate, through the
//! local API Gateway path, on DynamoDB Local and (when `AWS_ENDPOINT_URL_SQS` is set) SQS
//! on moto.
//!
//! For each rate in `--rates`, for `--seconds`: freshly signed, unique Candidate Stage
//! Change deliveries of the demo tenant are posted to
//! `/lever/{tenant}/candidate-stage-change` on an open-loop schedule (delivery `i` is due at
//! `i / rate` s, whether or not earlier ones were answered), and each one's latency is
//! measured from its *scheduled* send time to its answer, so a stalled server shows up in
//! the percentiles instead of slowing the sender (coordinated omission). Most deliveries
//! move a candidate into 'Offer', which triggers nothing (verify, claim, log, answer); a
//! share (`--trigger-share`, 2 % by default) moves a seeded candidate into Xref's trigger
//! stage, which queues work that the worker tasks turn into an Xref order.
//!
//! After each rate: the worker's drain time (from the last answer until the queue is empty
//! and every order placed), then the drill's own checks, at the witnesses: every accepted
//! delivery is in the tenant's delivery log exactly once, every triggering one ordered at
//! Xref exactly once, nothing dead-lettered. Lever's request budget is lifted (the
//! bulk-move drill measures pacing) and the simulators answer at once, so the drain time
//! is the worker's own.

use super::faults::StoreKind;
use super::DrillError;
use crate::demo_tenant as demo;
use crate::fixture;
use crate::stack::{Stack, StackOptions};
use hdrhistogram::Histogram;
use lever_screening::clock::{now_millis, Deadline};
use lever_screening::delivery_log::Received;
use lever_screening::ids::TenantId;
use lever_screening::queue::memory::MemoryQueue;
use lever_screening::queue::sqs::SqsQueue;
use lever_screening::queue::Queue;
use lever_screening::store::dynamodb::{self, DynamoStore};
use lever_screening::store::memory::MemoryStore;
use lever_screening::store::Store;
use lever_screening::{App, Settings};
use lever_screening_simulators::SimOpportunity;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;

/// Longest one delivery may take before it counts as unanswered (an error).
const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// Most deliveries in flight at once. Past it the sender waits (it has become closed-loop),
/// but latency still counts from the schedule, and the report says how often it waited.
const MAX_IN_FLIGHT: usize = 4096;
/// Longest the stack, or a table or queue, may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The worker's Lambda timeout, which bounds each batch (as in the local server).
const WORKER_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the drain is looked at: each look is two GetQueueAttributes calls on SQS.
const DRAIN_POLL: Duration = Duration::from_millis(50);
/// Most deliveries one rate may send: the drill keeps one flag per delivery.
const MAX_DELIVERIES: u64 = 2_000_000;
/// The domain of the seeded candidates' addresses.
const EMAIL_DOMAIN: &str = "@load.example.com";
/// Lever's event name of the stage change webhook.
const STAGE_CHANGE: &str = "candidateStageChange";
/// Latencies are recorded in µs, up to an hour: counted from the schedule, a saturated
/// run's latency is the sender's backlog, far past the 20 s a send may take itself.
const HISTOGRAM_MAX_US: u64 = 3_600_000_000;

const NEEDS_DYNAMODB: &str = "AWS_ENDPOINT_URL_DYNAMODB is not set: the load drill runs \
     the product on DynamoDB Local. Run it with `scripts/local-aws run -- cargo run -p \
     lever-screening-local --release -- load` (it starts DynamoDB Local and moto and exports \
     their endpoints), or pass `--store memory` for a run on the in-memory store.";
const NEEDS_SQS: &str = "--queue sqs needs AWS_ENDPOINT_URL_SQS (moto, started by \
     `scripts/local-aws`); the drill never sends load to a real AWS endpoint.";

/// Which queue carries the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum QueueKind {
    /// SQS when `AWS_ENDPOINT_URL_SQS` is set (moto), else the in-memory queue.
    Auto,
    /// SQS at `AWS_ENDPOINT_URL_SQS` (moto): a fresh work queue and dead-letter queue.
    Sqs,
    /// The in-memory queue.
    Memory,
}

/// The drill's knobs. The defaults are the issue's: 50, 200 and 1,000 deliveries/s for 60 s.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Arrival rates to run, one after the other, in deliveries per second.
    #[arg(long, value_delimiter = ',', default_values_t = [50, 200, 1000])]
    pub rates: Vec<u32>,
    /// How long each rate is sent for.
    #[arg(long, default_value_t = 60)]
    pub seconds: u32,
    /// The product's store: `dynamodb` needs `AWS_ENDPOINT_URL_DYNAMODB` (run through
    /// `scripts/local-aws run -- …`).
    #[arg(long, value_enum, default_value_t = StoreKind::Dynamodb)]
    pub store: StoreKind,
    /// The work queue: `auto` takes SQS on moto when `AWS_ENDPOINT_URL_SQS` is set.
    #[arg(long, value_enum, default_value_t = QueueKind::Auto)]
    pub queue: QueueKind,
    /// Percent of deliveries that move a candidate into Xref's trigger stage (an order);
    /// the others move one into 'Offer', which triggers nothing.
    #[arg(long, default_value_t = 2)]
    pub trigger_share: u32,
    /// Worker tasks draining the queue (each long-polls SQS, as the event source mapping
    /// does; fewer than the template's 10 so that idle polls of moto cost the host little).
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Deliveries sent at the first rate before the measured ones, not counted: DynamoDB
    /// Local's JVM, the connections and the caches start cold.
    #[arg(long, default_value_t = 10)]
    pub warmup_seconds: u32,
    /// Longest the drill waits for the worker to drain the queue after each rate.
    #[arg(long, default_value_t = 600)]
    pub drain_timeout_secs: u64,
    /// Print the report as JSON instead of markdown tables.
    #[arg(long)]
    pub json: bool,
}

impl Default for Options {
    /// The command's defaults.
    fn default() -> Self {
        Options {
            rates: vec![50, 200, 1000],
            seconds: 60,
            store: StoreKind::Dynamodb,
            queue: QueueKind::Auto,
            trigger_share: 2,
            workers: 4,
            warmup_seconds: 10,
            drain_timeout_secs: 600,
            json: false,
        }
    }
}

impl Options {
    fn check(&self) -> Result<(), DrillError> {
        if self.rates.is_empty() {
            return Err("--rates needs at least one rate".into());
        }
        if self.rates.iter().any(|&rate| !(1..=20_000).contains(&rate)) {
            return Err("each of --rates must be 1 to 20000 deliveries/s".into());
        }
        if self.seconds == 0 {
            return Err("--seconds must be at least 1".into());
        }
        for &rate in &self.rates {
            for seconds in [self.seconds, self.warmup_seconds] {
                if u64::from(rate) * u64::from(seconds) > MAX_DELIVERIES {
                    return Err(format!(
                        "{rate}/s for {seconds} s is over {MAX_DELIVERIES} deliveries"
                    )
                    .into());
                }
            }
        }
        if self.trigger_share > 100 {
            return Err("--trigger-share is a percentage, 0 to 100".into());
        }
        if self.workers == 0 {
            return Err("--workers must be at least 1".into());
        }
        Ok(())
    }
}

/// What the drill ran on.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    pub seconds: u32,
    /// Seconds of uncounted deliveries at the first rate before the measured ones.
    pub warmup_seconds: u32,
    pub store: String,
    pub queue: String,
    pub workers: usize,
    pub trigger_share: u32,
    /// `release` or `debug`: the product's code runs in this process, built this way.
    pub build: &'static str,
    /// CPUs this process may use.
    pub cpus: usize,
    /// The host's load average (1, 5, 15 min) before the first rate.
    pub load_before: Option<[f64; 3]>,
}

/// What one rate measured.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Offered rate, deliveries/s.
    pub rate: u32,
    pub sent: u64,
    /// Deliveries sent per second, as the sender managed it.
    pub achieved_rate: f64,
    /// Times the sender waited because [`MAX_IN_FLIGHT`] deliveries were unanswered.
    pub in_flight_waits: u64,
    /// Intake latency from the scheduled send time to the answer, in ms.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Answers by `"{status} {word}"` (`202 queued`, `200 ignored`, `no answer`).
    pub answers: BTreeMap<String, u64>,
    /// Deliveries answered other than 2xx, or not at all.
    pub errors: u64,
    /// Deliveries answered 2xx.
    pub accepted: u64,
    /// 2xx answers saying the delivery was a duplicate: every delivery is new, so none
    /// should be.
    pub duplicates_answered: u64,
    /// Accepted deliveries in the delivery log exactly once, more than once, or not at all.
    pub stored_once: u64,
    pub stored_twice: u64,
    pub not_stored: u64,
    /// Deliveries into Xref's trigger stage: sent, and accepted.
    pub triggers_sent: u64,
    pub triggers_accepted: u64,
    /// Xref orders for this rate's candidates. A delivery its sender gave up on may still
    /// have been taken in (and ordered): so the orders are between the accepted triggers
    /// and the triggers sent.
    pub orders: u64,
    /// Accepted triggers with an order at Xref (all of them, if nothing was lost).
    pub accepted_ordered: u64,
    /// Orders beyond the first for one candidate.
    pub duplicate_orders: u64,
    pub dead_letters: u64,
    /// Seconds from the last answer until the queue was empty and every order placed;
    /// `None` if not within the timeout.
    pub drain_secs: Option<f64>,
    pub drain_timeout_secs: u64,
    /// Share of the host's CPU time busy while the rate was sent (all processes: this one,
    /// DynamoDB Local, moto), and of it stolen by the hypervisor.
    pub host_cpu_busy: Option<f64>,
    pub host_cpu_steal: Option<f64>,
    /// This process's CPU seconds (server, worker, simulators and sender together) per
    /// wall second while the rate was sent.
    pub process_cpus: Option<f64>,
    /// The host's 1-minute load average when the rate ended.
    pub load_after: Option<f64>,
}

impl Row {
    /// What did not hold, in words: the drill's required figures.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.errors > 0 {
            problems.push(format!(
                "{} deliveries answered non-2xx or not at all",
                self.errors
            ));
        }
        if self.duplicates_answered > 0 {
            problems.push(format!(
                "{} new deliveries answered as duplicates",
                self.duplicates_answered
            ));
        }
        if self.stored_twice > 0 || self.not_stored > 0 {
            problems.push(format!(
                "delivery log: {} accepted deliveries stored twice or more, {} not stored",
                self.stored_twice, self.not_stored
            ));
        }
        if self.accepted_ordered != self.triggers_accepted
            || self.duplicate_orders > 0
            || self.orders > self.triggers_sent
        {
            problems.push(format!(
                "{} of {} accepted triggering deliveries ordered at Xref; {} orders ({} \
                 duplicates) for {} sent",
                self.accepted_ordered,
                self.triggers_accepted,
                self.orders,
                self.duplicate_orders,
                self.triggers_sent
            ));
        }
        if self.dead_letters > 0 {
            problems.push(format!("{} dead letters", self.dead_letters));
        }
        if self.drain_secs.is_none() {
            problems.push(format!(
                "the queue was not drained within {} s",
                self.drain_timeout_secs
            ));
        }
        problems
    }
}

/// What the drill measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub setup: Setup,
    pub rows: Vec<Row>,
    #[serde(skip)]
    pub json: bool,
}

impl Report {
    /// Whether every rate's required figures held.
    pub fn held(&self) -> bool {
        self.rows.iter().all(|row| row.problems().is_empty())
    }
}

/// Runs the drill; an error when it could not be set up or (after printing the report)
/// when a required figure failed, so that the command exits non-zero.
pub async fn run(options: &Options) -> Result<Report, DrillError> {
    let report = measure(options).await?;
    if report.held() {
        return Ok(report);
    }
    println!("{report}");
    let failed: Vec<String> = report
        .rows
        .iter()
        .filter(|row| !row.problems().is_empty())
        .map(|row| format!("{}/s: {}", row.rate, row.problems().join(", ")))
        .collect();
    Err(format!("the load drill failed: {}", failed.join("; ")).into())
}

/// Runs every rate and answers what was measured, whether or not it held; an error only
/// when the drill could not be set up.
pub async fn measure(options: &Options) -> Result<Report, DrillError> {
    options.check()?;
    let load_before = host::load_average();
    let world = World::start(options).await?;
    let mut rows = Vec::new();
    let mut outcome = Ok(());
    if let (Some(&rate), true) = (options.rates.first(), options.warmup_seconds > 0) {
        outcome = world.warm_up(rate, options).await;
    }
    for (level, &rate) in options.rates.iter().enumerate() {
        if outcome.is_err() {
            break;
        }
        match world.level(level, rate, options).await {
            Ok(row) => rows.push(row),
            Err(error) => {
                outcome = Err(error);
                break;
            }
        }
    }
    let setup = Setup {
        seconds: options.seconds,
        warmup_seconds: options.warmup_seconds,
        store: world.store_name.clone(),
        queue: world.queue_name.clone(),
        workers: options.workers,
        trigger_share: options.trigger_share,
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        load_before,
    };
    world.stop().await;
    outcome?;
    Ok(Report {
        setup,
        rows,
        json: options.json,
    })
}

/// Tasks the drill started; aborted when dropped.
#[derive(Default)]
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// What to delete when the drill ends.
enum Cleanup {
    Table {
        client: aws_sdk_dynamodb::Client,
        table: String,
    },
    Queues {
        client: aws_sdk_sqs::Client,
        urls: Vec<String>,
    },
}

/// The stack the drill loads, and the worker tasks draining its queue.
struct World {
    stack: Stack,
    tenant: TenantId,
    webhook_url: String,
    http: reqwest::Client,
    store_name: String,
    queue_name: String,
    cleanup: Vec<Cleanup>,
    _workers: Tasks,
}

impl World {
    async fn start(options: &Options) -> Result<World, DrillError> {
        let mut cleanup = Vec::new();
        let (store, store_name) = store(options.store, &mut cleanup).await?;
        let (queue, queue_name, wait) = queue(options.queue, &mut cleanup).await?;
        let settings = Settings {
            // The bulk-move drill measures pacing against Lever's budget; here it would only
            // stretch the drain to what Lever allows.
            lever_requests_per_second: 10_000,
            ..Settings::default()
        };
        let started = Stack::start(StackOptions {
            store,
            queue,
            secrets: None,
            extra_secrets: serde_json::Map::new(),
            settings,
            port: 0,
            // Started below: the local server's short polls would spin against SQS.
            workers: 0,
            per_function: None,
        });
        let stack = tokio::time::timeout(START_TIMEOUT, started)
            .await
            .map_err(|_| "the stack did not start within a minute")??;
        stack.lever.set_rate_limit(None);
        let mut workers = Tasks::default();
        for _ in 0..options.workers {
            workers.0.push(spawn_worker(Arc::clone(&stack.app), wait));
        }
        let http = reqwest::Client::builder().timeout(SEND_TIMEOUT).build()?;
        Ok(World {
            webhook_url: stack.stage_change_url(demo::TENANT),
            tenant: TenantId::parse(demo::TENANT)?,
            stack,
            http,
            store_name,
            queue_name,
            cleanup,
            _workers: workers,
        })
    }

    /// Uncounted deliveries at `rate`, then the drain; an error only if it does not drain.
    async fn warm_up(&self, rate: u32, options: &Options) -> Result<(), DrillError> {
        let plan = Plan {
            tag: "warm".into(),
            n: u64::from(rate) * u64::from(options.warmup_seconds),
            share: options.trigger_share,
        };
        self.seed(&plan);
        let sent = self.send(&plan, rate).await;
        let timeout = Duration::from_secs(options.drain_timeout_secs);
        match self
            .drain(&plan, &sent.accepted, sent.last_answer, timeout)
            .await
        {
            Some(_) => Ok(()),
            None => Err(format!(
                "the warm-up's work was not drained within {} s",
                timeout.as_secs()
            )
            .into()),
        }
    }

    /// Seeds Lever with the candidates whose deliveries trigger an order.
    fn seed(&self, plan: &Plan) {
        for i in (0..plan.n).filter(|&i| plan.triggers(i)) {
            self.stack.lever.add_opportunity(plan.opportunity(i));
        }
    }

    /// One rate: send, drain, check.
    async fn level(&self, level: usize, rate: u32, options: &Options) -> Result<Row, DrillError> {
        let n = u64::from(rate) * u64::from(options.seconds);
        let plan = Plan {
            tag: format!("load{level}"),
            n,
            share: options.trigger_share,
        };
        self.seed(&plan);
        let cpu_before = host::cpu_times();
        let process_before = host::process_cpu_secs();
        let sent = self.send(&plan, rate).await;
        let cpu = host::cpu_times()
            .zip(cpu_before)
            .map(|(after, before)| after.since(&before));
        let process_cpus = host::process_cpu_secs()
            .zip(process_before)
            .map(|(after, before)| (after - before) / sent.sending_secs.max(1e-3));
        let load_after = host::load_average().map(|load| load[0]);

        let triggers_accepted = (0..n)
            .filter(|&i| plan.triggers(i) && accepted(&sent.accepted, i))
            .count() as u64;
        let drain_secs = self
            .drain(
                &plan,
                &sent.accepted,
                sent.last_answer,
                Duration::from_secs(options.drain_timeout_secs),
            )
            .await;
        let orders = self.orders(&plan, &sent.accepted);
        let stored = self.stored(&plan, &sent.accepted).await?;
        let dead_letters = self.stack.app.queue().dead_letters(100_000).await?.len() as u64;
        let quantile = |q: f64| sent.latency.value_at_quantile(q) as f64 / 1000.0;
        Ok(Row {
            rate,
            sent: n,
            achieved_rate: n as f64 / sent.send_span_secs.max(1e-3),
            in_flight_waits: sent.in_flight_waits,
            p50_ms: quantile(0.5),
            p99_ms: quantile(0.99),
            p999_ms: quantile(0.999),
            max_ms: sent.latency.max() as f64 / 1000.0,
            errors: sent
                .answers
                .iter()
                .filter(|(key, _)| !is_2xx(key))
                .map(|(_, n)| n)
                .sum(),
            accepted: sent.accepted.iter().filter(|a| **a).count() as u64,
            duplicates_answered: sent
                .answers
                .iter()
                .filter(|(key, _)| is_2xx(key) && key.ends_with(" duplicate"))
                .map(|(_, n)| n)
                .sum(),
            answers: sent.answers,
            stored_once: stored.once,
            stored_twice: stored.twice,
            not_stored: stored.missing,
            triggers_sent: (0..n).filter(|&i| plan.triggers(i)).count() as u64,
            triggers_accepted,
            orders: orders.orders,
            accepted_ordered: orders.accepted_ordered,
            duplicate_orders: orders.duplicates,
            dead_letters,
            drain_secs,
            drain_timeout_secs: options.drain_timeout_secs,
            host_cpu_busy: cpu.map(|c| c.busy),
            host_cpu_steal: cpu.map(|c| c.steal),
            process_cpus,
            load_after,
        })
    }

    /// Sends the plan's deliveries at `rate` per second, open loop.
    async fn send(&self, plan: &Plan, rate: u32) -> Sent {
        let (answers_tx, mut answers_rx) = mpsc::unbounded_channel::<Answer>();
        let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut in_flight_waits = 0;
        // A moment's lead, so that the first deliveries are not late already.
        let start = tokio::time::Instant::now() + Duration::from_millis(20);
        let mut last_sent = start;
        for i in 0..plan.n {
            let scheduled = start + schedule(i, rate);
            tokio::time::sleep_until(scheduled).await;
            let permit = match Arc::clone(&in_flight).try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    in_flight_waits += 1;
                    match Arc::clone(&in_flight).acquire_owned().await {
                        Ok(permit) => permit,
                        // The semaphore is never closed.
                        Err(_) => break,
                    }
                }
            };
            last_sent = tokio::time::Instant::now();
            let delivery = self.delivery(plan, i);
            let answers = answers_tx.clone();
            tokio::spawn(async move {
                let key = delivery.await;
                drop(permit);
                let _ = answers.send(Answer {
                    index: i,
                    key,
                    latency: scheduled.elapsed(),
                    at: Instant::now(),
                });
            });
        }
        drop(answers_tx);
        let mut latency = histogram();
        let mut answers = BTreeMap::new();
        let mut accepted = vec![false; index(plan.n)];
        let mut last_answer = Instant::now();
        let mut first = true;
        while let Some(answer) = answers_rx.recv().await {
            let micros = u64::try_from(answer.latency.as_micros()).unwrap_or(u64::MAX);
            latency.saturating_record(micros.clamp(1, HISTOGRAM_MAX_US));
            if is_2xx(&answer.key) {
                if let Some(flag) = accepted.get_mut(index(answer.index)) {
                    *flag = true;
                }
            }
            *answers.entry(answer.key).or_insert(0) += 1;
            if first || answer.at > last_answer {
                last_answer = answer.at;
                first = false;
            }
        }
        let interval = 1.0 / f64::from(rate);
        Sent {
            latency,
            answers,
            accepted,
            in_flight_waits,
            // From the first scheduled send to one interval past the last actual one: a
            // sender that kept to the schedule achieved exactly `rate`.
            send_span_secs: last_sent.duration_since(start).as_secs_f64() + interval,
            sending_secs: start.elapsed().as_secs_f64(),
            last_answer,
        }
    }

    /// Delivery `i` of the plan, posted as Lever posts it; its answer's key.
    fn delivery(
        &self,
        plan: &Plan,
        i: u64,
    ) -> impl std::future::Future<Output = String> + Send + 'static {
        let lever = self.stack.lever.clone();
        let http = self.http.clone();
        let url = self.webhook_url.clone();
        let candidate = plan.candidate(i);
        let triggers = plan.triggers(i);
        async move {
            let answer = if triggers {
                // The seeded candidate really moves in Lever, which the worker confirms.
                let moved = lever.move_to_stage(&candidate, demo::REFERENCE_CHECK_STAGE_ID);
                match tokio::time::timeout(SEND_TIMEOUT, moved).await {
                    Ok(Ok(sent)) => Some((sent.status, sent.response)),
                    _ => None,
                }
            } else {
                match lever.signed_delivery(STAGE_CHANGE, stage_change(&candidate)) {
                    Ok(body) => post(&http, &url, &body).await,
                    Err(_) => None,
                }
            };
            answer_key(answer.as_ref())
        }
    }

    /// Waits until the queue is empty and every accepted trigger of the plan is ordered;
    /// the seconds from `since`, or `None` at the timeout.
    async fn drain(
        &self,
        plan: &Plan,
        accepted: &[bool],
        since: Instant,
        timeout: Duration,
    ) -> Option<f64> {
        let until = Instant::now() + timeout;
        let wanted = (0..plan.n)
            .filter(|&i| plan.triggers(i) && self::accepted(accepted, i))
            .count() as u64;
        loop {
            let idle = matches!(self.stack.app.queue().depth().await, Ok(d) if d.is_idle());
            if idle && self.orders(plan, accepted).accepted_ordered >= wanted {
                return Some(since.elapsed().as_secs_f64());
            }
            if Instant::now() >= until {
                return None;
            }
            tokio::time::sleep(DRAIN_POLL).await;
        }
    }

    /// The plan's Xref orders, counted per candidate (by the address seeded for it).
    fn orders(&self, plan: &Plan, accepted: &[bool]) -> Orders {
        let mut per_candidate: HashMap<u64, u64> = HashMap::new();
        for order in self.stack.xref.orders() {
            if let Some(i) = plan.number(&order.candidate.email) {
                *per_candidate.entry(i).or_default() += 1;
            }
        }
        let orders = per_candidate.values().sum();
        Orders {
            orders,
            duplicates: orders - per_candidate.len() as u64,
            accepted_ordered: per_candidate
                .keys()
                .filter(|&&i| self::accepted(accepted, i))
                .count() as u64,
        }
    }

    /// How many accepted deliveries the tenant's delivery log holds once, twice or more, or
    /// not at all (by the candidate, which is unique per delivery).
    async fn stored(&self, plan: &Plan, accepted: &[bool]) -> Result<Stored, DrillError> {
        // Newest first: this rate's entries come before the earlier rates'. Every delivery
        // sent may have one (those the sender gave up on too), so read as many as were sent.
        let entries = self
            .stack
            .app
            .store()
            .delivery_log(&self.tenant, None, index(plan.n) + 1000, now_millis())
            .await?;
        let prefix = plan.prefix();
        let mut per_candidate: HashMap<u64, u64> = HashMap::new();
        for entry in entries {
            let logged = entry.delivery;
            if !matches!(logged.received, Received::Ignored | Received::Queued) {
                continue;
            }
            let Some(number) = logged
                .opportunity
                .as_ref()
                .and_then(|o| o.as_str().strip_prefix(&prefix))
                .and_then(|rest| rest.parse::<u64>().ok())
            else {
                continue;
            };
            *per_candidate.entry(number).or_default() += 1;
        }
        let mut stored = Stored::default();
        for (i, _) in accepted.iter().enumerate().filter(|(_, a)| **a) {
            match per_candidate.get(&(i as u64)).copied().unwrap_or(0) {
                0 => stored.missing += 1,
                1 => stored.once += 1,
                _ => stored.twice += 1,
            }
        }
        Ok(stored)
    }

    async fn stop(&self) {
        for cleanup in &self.cleanup {
            let done = async {
                match cleanup {
                    Cleanup::Table { client, table } => {
                        let _ = client.delete_table().table_name(table).send().await;
                    }
                    Cleanup::Queues { client, urls } => {
                        for url in urls {
                            let _ = client.delete_queue().queue_url(url).send().await;
                        }
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(10), done).await;
        }
    }
}

/// Delivery `i`'s place in the per-delivery vectors (the count is checked to fit).
fn index(i: u64) -> usize {
    usize::try_from(i).unwrap_or(usize::MAX)
}

/// Whether delivery `i` was answered 2xx.
fn accepted(accepted: &[bool], i: u64) -> bool {
    accepted.get(index(i)).copied().unwrap_or(false)
}

/// A rate's Xref orders.
struct Orders {
    orders: u64,
    duplicates: u64,
    accepted_ordered: u64,
}

/// When delivery `i` is due, from the first: `i / rate` seconds, exact in nanoseconds.
fn schedule(i: u64, rate: u32) -> Duration {
    let nanos = u128::from(i) * 1_000_000_000 / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The latency histogram: 1 µs to a minute, 3 significant figures.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, 3)
        .unwrap_or_else(|_| unreachable!("the bounds are constants that hdrhistogram accepts"))
}

/// Who is moved where, for one rate.
struct Plan {
    /// Tells this rate's candidates from the others' (`load0`, `warm`).
    tag: String,
    n: u64,
    /// Percent of the deliveries that trigger an order.
    share: u32,
}

impl Plan {
    /// What every candidate id of this rate starts with.
    fn prefix(&self) -> String {
        format!("{}-", self.tag)
    }

    /// Candidate `i`'s opportunity id (and the local part of its email address).
    fn candidate(&self, i: u64) -> String {
        format!("{}{i:07}", self.prefix())
    }

    /// The number of this rate's candidate with this email address.
    fn number(&self, email: &str) -> Option<u64> {
        let local = email.strip_suffix(EMAIL_DOMAIN)?;
        local.strip_prefix(&self.prefix())?.parse().ok()
    }

    /// Whether delivery `i` moves its candidate into Xref's trigger stage: `share` percent,
    /// evenly spread (when the running count of the share steps up at `i`).
    fn triggers(&self, i: u64) -> bool {
        let share = u64::from(self.share.min(100));
        (i + 1) * share / 100 > i * share / 100
    }

    /// The opportunity seeded in Lever for a triggering delivery: in 'Phone Screen', on the
    /// demo posting, with an address of its own (the Xref order's key in the witness).
    fn opportunity(&self, i: u64) -> SimOpportunity {
        let id = self.candidate(i);
        SimOpportunity {
            emails: vec![format!("{id}{EMAIL_DOMAIN}")],
            name: format!("Load Candidate {i}"),
            id,
            phones: Vec::new(),
            tags: Vec::new(),
            stage: demo::PHONE_SCREEN_STAGE_ID.into(),
            posting_id: Some(demo::POSTING_ID.into()),
            location: Some("Toronto".into()),
        }
    }
}

/// A move into 'Offer' (no integration's trigger stage), as Lever's `data` carries it.
fn stage_change(candidate: &str) -> serde_json::Value {
    serde_json::json!({
        "opportunityId": candidate,
        "candidateId": candidate,
        "contactId": format!("{candidate}-contact"),
        "toStageId": demo::OFFER_STAGE_ID,
        "fromStageId": demo::PHONE_SCREEN_STAGE_ID,
    })
}

/// Posts a delivery as Lever does; its status and body, `None` if unanswered.
async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> Option<(u16, String)> {
    let response = http
        .post(url)
        .header(http::header::USER_AGENT, "Lever-Webhooks")
        .json(body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}

/// `"{status} {word}"`: the ack's `status` or the refusal's `error.code`; `no answer`.
fn answer_key(answer: Option<&(u16, String)>) -> String {
    let Some((status, body)) = answer else {
        return "no answer".into();
    };
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let word = parsed["status"]
        .as_str()
        .or_else(|| parsed["error"]["code"].as_str())
        .unwrap_or("-");
    format!("{status} {word}")
}

fn is_2xx(key: &str) -> bool {
    key.starts_with('2')
}

/// One delivery's answer.
struct Answer {
    index: u64,
    key: String,
    latency: Duration,
    at: Instant,
}

/// What sending one rate gave.
struct Sent {
    latency: Histogram<u64>,
    answers: BTreeMap<String, u64>,
    /// Per delivery: answered 2xx.
    accepted: Vec<bool>,
    in_flight_waits: u64,
    send_span_secs: f64,
    /// From the first scheduled send until every answer was in.
    sending_secs: f64,
    last_answer: Instant,
}

#[derive(Debug, Default)]
struct Stored {
    once: u64,
    twice: u64,
    missing: u64,
}

/// The worker as Lambda's event source mapping runs it: batches of up to 10, received
/// with a long poll (a short one would spin against SQS).
fn spawn_worker(app: Arc<App>, wait: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let worker = app.worker(Deadline::after(WORKER_TIMEOUT));
            if let Err(error) = worker.poll(app.queue().as_ref(), 10, wait).await {
                tracing::error!(%error, "the load drill's worker could not read the queue");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    })
}

/// AWS configuration for the local emulators.
async fn aws() -> aws_config::SdkConfig {
    super::emulators_aws_config("load-drill").await
}

fn endpoint(variable: &str) -> Option<String> {
    std::env::var(variable)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

async fn store(
    kind: StoreKind,
    cleanup: &mut Vec<Cleanup>,
) -> Result<(Arc<dyn Store>, String), DrillError> {
    if kind == StoreKind::Memory {
        return Ok((Arc::new(MemoryStore::new()), "memory".into()));
    }
    let endpoint = endpoint("AWS_ENDPOINT_URL_DYNAMODB").ok_or(NEEDS_DYNAMODB)?;
    let client = aws_sdk_dynamodb::Client::new(&aws().await);
    let table = format!("load-{}", uuid::Uuid::new_v4().simple());
    tokio::time::timeout(START_TIMEOUT, dynamodb::create_table(&client, &table))
        .await
        .map_err(|_| format!("DynamoDB at {endpoint} did not create a table within a minute"))?
        .map_err(|e| format!("cannot create a table in DynamoDB at {endpoint}: {e}"))?;
    cleanup.push(Cleanup::Table {
        client: client.clone(),
        table: table.clone(),
    });
    Ok((
        Arc::new(DynamoStore::new(client, &table)),
        format!("DynamoDB Local at {endpoint}"),
    ))
}

/// The queue, its description, and how long a worker's receive waits.
async fn queue(
    kind: QueueKind,
    cleanup: &mut Vec<Cleanup>,
) -> Result<(Arc<dyn Queue>, String, Duration), DrillError> {
    let endpoint = endpoint("AWS_ENDPOINT_URL_SQS");
    let endpoint = match (kind, endpoint) {
        (QueueKind::Memory, _) | (QueueKind::Auto, None) => {
            let name = "in-memory queue (no AWS_ENDPOINT_URL_SQS)";
            let name = if kind == QueueKind::Memory {
                "in-memory queue"
            } else {
                name
            };
            return Ok((
                Arc::new(MemoryQueue::new()),
                name.into(),
                Duration::from_millis(200),
            ));
        }
        (QueueKind::Sqs, None) => return Err(NEEDS_SQS.into()),
        (_, Some(endpoint)) => endpoint,
    };
    let client = aws_sdk_sqs::Client::new(&aws().await);
    let prefix = format!("load-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let queues = tokio::time::timeout(START_TIMEOUT, fixture::create_queues(&client, &prefix))
        .await
        .map_err(|_| format!("SQS at {endpoint} did not create the queues within a minute"))?
        .map_err(|e| format!("cannot create the queues in SQS at {endpoint}: {e}"))?;
    cleanup.push(Cleanup::Queues {
        client: client.clone(),
        urls: vec![queues.work.clone(), queues.dead_letters.clone()],
    });
    Ok((
        Arc::new(SqsQueue::new(client, &queues.work, &queues.dead_letters)),
        format!("SQS on moto at {endpoint}"),
        // Lambda's event source mapping long-polls; 1 s keeps an idle worker's cost low.
        Duration::from_secs(1),
    ))
}

/// The host's figures, from Linux's `/proc`; `None` elsewhere (never a failure).
mod host {
    /// The load average over 1, 5 and 15 minutes.
    pub fn load_average() -> Option<[f64; 3]> {
        parse_load(&std::fs::read_to_string("/proc/loadavg").ok()?)
    }

    pub fn parse_load(text: &str) -> Option<[f64; 3]> {
        let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
        Some([fields.next()??, fields.next()??, fields.next()??])
    }

    /// The host's CPU time so far, in ticks: all of it, idle (with I/O wait), stolen.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct CpuTimes {
        total: u64,
        idle: u64,
        steal: u64,
    }

    /// Shares of the CPU time between two readings.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct CpuShare {
        pub busy: f64,
        pub steal: f64,
    }

    impl CpuTimes {
        pub fn since(&self, before: &CpuTimes) -> CpuShare {
            let total = self.total.saturating_sub(before.total).max(1) as f64;
            let idle = self.idle.saturating_sub(before.idle) as f64;
            let steal = self.steal.saturating_sub(before.steal) as f64;
            CpuShare {
                busy: 1.0 - idle / total,
                steal: steal / total,
            }
        }
    }

    pub fn cpu_times() -> Option<CpuTimes> {
        parse_cpu(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// The `cpu` line: user nice system idle iowait irq softirq steal …
    pub fn parse_cpu(text: &str) -> Option<CpuTimes> {
        let line = text.lines().find(|line| line.starts_with("cpu "))?;
        let fields: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().ok())
            .collect::<Option<_>>()?;
        // guest and guest_nice are already counted in user and nice.
        let total = fields.iter().take(8).sum();
        Some(CpuTimes {
            total,
            idle: fields.get(3)? + fields.get(4).copied().unwrap_or(0),
            steal: fields.get(7).copied().unwrap_or(0),
        })
    }

    /// This process's CPU time (user and system), in seconds.
    pub fn process_cpu_secs() -> Option<f64> {
        parse_process_cpu(&std::fs::read_to_string("/proc/self/stat").ok()?)
    }

    /// Fields 14 and 15 of `/proc/self/stat`, counted after the command's closing `)` (it
    /// may hold spaces), in clock ticks of 1/100 s (`USER_HZ` on Linux).
    pub fn parse_process_cpu(text: &str) -> Option<f64> {
        let rest = &text[text.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime) as f64 / 100.0)
    }
}

fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn share(value: Option<f64>) -> String {
    value.map_or("–".into(), |v| format!("{:.0} %", v * 100.0))
}

/// `a / b` as `1.23×`; `–` when `b` is 0.
fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "–".into()
    }
}

fn met(held: bool) -> &'static str {
    if held {
        "met"
    } else {
        "NOT met"
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.json {
            let text = serde_json::to_string_pretty(self).map_err(|_| fmt::Error)?;
            return f.write_str(&text);
        }
        let s = &self.setup;
        let load = s.load_before.map_or("unknown".into(), |[a, b, c]| {
            format!("{a:.2} {b:.2} {c:.2}")
        });
        writeln!(
            f,
            "Intake under load: signed Candidate Stage Change deliveries of tenant `{}`, open \
             loop (constant arrival rate, latency from each delivery's scheduled send time to \
             its answer), {} s per rate, through the local API Gateway path; {} % move a \
             candidate into Xref's trigger stage (an order), the rest into 'Offer' (nothing \
             to order); {} s of uncounted deliveries at the first rate before. Store: {}; \
             queue: {}; {} worker tasks (batches of 10); Lever's request \
             budget lifted and the simulators answering at once, so the drain is the \
             worker's own. {} build; host: {} CPUs, load average {} before.",
            demo::TENANT,
            s.seconds,
            s.trigger_share,
            s.warmup_seconds,
            s.store,
            s.queue,
            s.workers,
            s.build,
            s.cpus,
            load,
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "| rate /s | sent | achieved /s | p50 ms | p99 ms | p99.9 ms | max ms | errors | \
             stored once | accepted triggers ordered (orders) | drain s | host CPU busy (steal) | this process, CPUs | \
             load avg 1 min after |"
        )?;
        writeln!(
            f,
            "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
        )?;
        for row in &self.rows {
            writeln!(
                f,
                "| {} | {} | {:.1} | {} | {} | {} | {} | {} | {}/{} | {}/{} ({}) | {} | {} ({}) | {} | {} |",
                row.rate,
                row.sent,
                row.achieved_rate,
                ms(row.p50_ms),
                ms(row.p99_ms),
                ms(row.p999_ms),
                ms(row.max_ms),
                row.errors,
                row.stored_once,
                row.accepted,
                row.accepted_ordered,
                row.triggers_accepted,
                row.orders,
                row.drain_secs
                    .map_or(format!("not in {} s", row.drain_timeout_secs), |s| {
                        format!("{s:.2}")
                    }),
                share(row.host_cpu_busy),
                share(row.host_cpu_steal),
                row.process_cpus.map_or("–".into(), |c| format!("{c:.2}")),
                row.load_after.map_or("–".into(), |l| format!("{l:.2}")),
            )?;
        }
        writeln!(f)?;
        // Latency has no published target to compare with (none of the webhook gateways or
        // the vendors publishes intake percentiles): its ratio is to the first rate's.
        let first = self.rows.first();
        writeln!(
            f,
            "Against the targets (latency: no published target; ratio to the {}/s row):",
            first.map_or(0, |r| r.rate)
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "| rate /s | achieved / offered | errors (target 0) | stored exactly once (target: \
             every accepted) | orders once (target: every accepted trigger) | dead letters \
             (target 0) | drained | p50 ratio | p99 ratio | p99.9 ratio |"
        )?;
        writeln!(f, "|--:|--:|---|---|---|---|---|--:|--:|--:|")?;
        for row in &self.rows {
            let base = |pick: fn(&Row) -> f64| first.map_or(0.0, pick);
            writeln!(
                f,
                "| {} | {} | {} {} | {}/{} {} | {}/{} {} | {} {} | {} | {} | {} | {} |",
                row.rate,
                ratio(row.achieved_rate, f64::from(row.rate)),
                row.errors,
                met(row.errors == 0),
                row.stored_once,
                row.accepted,
                met(row.stored_once == row.accepted && row.stored_twice == 0),
                row.accepted_ordered,
                row.triggers_accepted,
                met(row.accepted_ordered == row.triggers_accepted
                    && row.duplicate_orders == 0
                    && row.orders <= row.triggers_sent),
                row.dead_letters,
                met(row.dead_letters == 0),
                met(row.drain_secs.is_some()),
                ratio(row.p50_ms, base(|r| r.p50_ms)),
                ratio(row.p99_ms, base(|r| r.p99_ms)),
                ratio(row.p999_ms, base(|r| r.p999_ms)),
            )?;
        }
        writeln!(f)?;
        for row in &self.rows {
            let answers: Vec<String> = row
                .answers
                .iter()
                .map(|(key, n)| format!("{key} × {n}"))
                .collect();
            writeln!(
                f,
                "{}/s answers: {}{}",
                row.rate,
                answers.join(", "),
                if row.in_flight_waits > 0 {
                    format!(
                        "; the sender waited {} times for one of {MAX_IN_FLIGHT} deliveries in \
                         flight to be answered",
                        row.in_flight_waits
                    )
                } else {
                    String::new()
                }
            )?;
        }
        writeln!(f)?;
        if self.held() {
            write!(
                f,
                "Every accepted delivery stored exactly once, every accepted trigger ordered \
                 once, the queue drained, no errors: held at every rate."
            )
        } else {
            let failed: Vec<String> = self
                .rows
                .iter()
                .filter(|row| !row.problems().is_empty())
                .map(|row| format!("{}/s: {}", row.rate, row.problems().join(", ")))
                .collect();
            write!(f, "NOT held: {}.", failed.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_open_loop_and_exact() {
        assert_eq!(schedule(0, 50), Duration::ZERO);
        assert_eq!(schedule(1, 50), Duration::from_millis(20));
        assert_eq!(schedule(3, 1000), Duration::from_millis(3));
        assert_eq!(schedule(59_999, 1000), Duration::from_millis(59_999));
        assert_eq!(schedule(1, 3), Duration::from_nanos(333_333_333));
    }

    #[test]
    fn the_trigger_share_is_spread_evenly() {
        let plan = |n, share| Plan {
            tag: "load0".into(),
            n,
            share,
        };
        let count = |p: &Plan| (0..p.n).filter(|&i| p.triggers(i)).count();
        assert_eq!(count(&plan(3000, 2)), 60);
        assert_eq!(count(&plan(100, 0)), 0);
        assert_eq!(count(&plan(100, 100)), 100);
        // One in 50, not the first 60 in a row.
        let p = plan(3000, 2);
        assert!(!p.triggers(0) && p.triggers(49) && !p.triggers(50) && p.triggers(99));
        assert!(p.candidate(7).starts_with(&p.prefix()));
        assert_eq!(p.candidate(7), "load0-0000007");
        assert_eq!(p.number("load0-0000007@load.example.com"), Some(7));
        assert_eq!(p.number("load1-0000007@load.example.com"), None);
        assert_eq!(p.number("load0-0000007@elsewhere.example.com"), None);
    }

    #[test]
    fn candidates_are_valid_lever_ids() {
        let plan = Plan {
            tag: "load12".into(),
            n: 2_000_000,
            share: 2,
        };
        let id = plan.candidate(1_999_999);
        assert!(
            lever_screening::ids::OpportunityId::parse(&id).is_ok(),
            "{id}"
        );
    }

    #[test]
    fn answers_are_keyed_by_status_and_word() {
        assert_eq!(answer_key(None), "no answer");
        let ack = (202, r#"{"status":"queued"}"#.to_owned());
        assert_eq!(answer_key(Some(&ack)), "202 queued");
        let refusal = (401, r#"{"error":{"code":"unauthorized"}}"#.to_owned());
        assert_eq!(answer_key(Some(&refusal)), "401 unauthorized");
        assert_eq!(answer_key(Some(&(502, "<html>".to_owned()))), "502 -");
        assert!(is_2xx("200 ignored") && !is_2xx("no answer") && !is_2xx("503 -"));
    }

    #[test]
    fn percentiles_come_from_the_histogram() {
        let mut h = histogram();
        for us in 1..=1000u64 {
            h.saturating_record(us * 1000);
        }
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        assert!((ms(0.5) - 500.0).abs() < 1.0);
        assert!((ms(0.99) - 990.0).abs() < 1.0);
        assert!((ms(0.999) - 999.0).abs() < 1.0);
        // Past the highest trackable value: clamped, not lost.
        h.saturating_record(u64::MAX);
        assert_eq!(h.len(), 1001);
    }

    #[test]
    fn host_figures_parse_from_proc() {
        assert_eq!(
            host::parse_load("0.52 0.61 0.70 1/234 5678\n"),
            Some([0.52, 0.61, 0.70])
        );
        assert_eq!(host::parse_load("garbage"), None);
        let before = host::parse_cpu("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n").unwrap();
        let after = host::parse_cpu("cpu  200 0 100 900 50 0 0 50 0 0\n").unwrap();
        let share = after.since(&before);
        // 300 ticks passed: 100 idle, 50 stolen.
        assert!((share.busy - 2.0 / 3.0).abs() < 1e-9, "{share:?}");
        assert!((share.steal - 1.0 / 6.0).abs() < 1e-9, "{share:?}");
        assert_eq!(host::parse_cpu("intr 1 2"), None);
        let stat = "42 (my (odd) name) S 1 1 1 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1";
        assert_eq!(host::parse_process_cpu(stat), Some(3.0));
        assert_eq!(host::parse_process_cpu("42 (x"), None);
    }

    #[test]
    fn a_row_fails_on_what_must_hold() {
        let row = Row {
            rate: 50,
            sent: 100,
            achieved_rate: 50.0,
            in_flight_waits: 0,
            p50_ms: 1.0,
            p99_ms: 2.0,
            p999_ms: 3.0,
            max_ms: 4.0,
            answers: BTreeMap::new(),
            errors: 0,
            accepted: 100,
            duplicates_answered: 0,
            stored_once: 100,
            stored_twice: 0,
            not_stored: 0,
            triggers_sent: 3,
            triggers_accepted: 2,
            orders: 3,
            accepted_ordered: 2,
            duplicate_orders: 0,
            dead_letters: 0,
            drain_secs: Some(0.5),
            drain_timeout_secs: 600,
            host_cpu_busy: None,
            host_cpu_steal: None,
            process_cpus: None,
            load_after: None,
        };
        assert!(row.problems().is_empty());
        let broken = [
            Row {
                errors: 1,
                ..row.clone()
            },
            Row {
                not_stored: 1,
                ..row.clone()
            },
            Row {
                stored_twice: 1,
                ..row.clone()
            },
            Row {
                orders: 4,
                duplicate_orders: 1,
                ..row.clone()
            },
            Row {
                accepted_ordered: 1,
                ..row.clone()
            },
            Row {
                orders: 4,
                ..row.clone()
            },
            Row {
                dead_letters: 1,
                ..row.clone()
            },
            Row {
                drain_secs: None,
                ..row.clone()
            },
            Row {
                duplicates_answered: 1,
                ..row.clone()
            },
        ];
        for row in broken {
            assert_eq!(row.problems().len(), 1, "{row:?}");
        }
    }
}
