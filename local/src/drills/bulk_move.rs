//! The bulk-move drill (issue 10.3): many candidates of one tenant moved at once, and how
//! the work is paced against Lever's per-key budget (a token bucket of 10 requests/s with
//! bursts of 20, which the Lever simulator enforces and counts).
//!
//! Each mechanism runs on a stack of its own (embedded store and queue, every function,
//! the simulators): `N` candidates are seeded in the demo tenant's Lever account, all moved
//! at once — most into Xref's trigger stage, a share into Sterling's, whose simulator is
//! made slow — and the `N` signed deliveries posted concurrently. Then the drill waits for
//! the queue to drain and counts at the witnesses: orders in the vendor simulators (one
//! per moved candidate, never two), Lever's 429s in the Lever simulator, and each Lever
//! request as it reached Lever (through a tap in front of the simulator that also adds
//! Lever's latency), from which the busiest second per API key is derived.
//!
//! Mechanisms:
//! - `limiter`: the product as deployed — a standard queue, `workers` worker tasks (the
//!   template's `WorkerMaximumConcurrency`), batches of 10 run concurrently, and the shared
//!   per-credential limiter (`lever_requests_per_second`).
//! - `unpaced`: the same with the limiter effectively off: Lever's 429s, retried.
//! - `fifo`: what a FIFO queue with one message group per tenant gives: one message of the
//!   tenant in flight at a time (one worker task receiving batches of one), limiter on.

use super::DrillError;
use crate::demo_tenant as demo;
use crate::stack::{Stack, StackOptions};
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use base64::Engine;
use lever_screening::clock::Deadline;
use lever_screening::ids::TenantId;
use lever_screening::queue::memory::MemoryQueue;
use lever_screening::queue::{
    Consumer, DeadLetter, DeadLetters, Queue, QueueDepth, QueueError, Received, Retries, WorkQueue,
};
use lever_screening::store::memory::MemoryStore;
use lever_screening::store::TenantStore;
use lever_screening::work::Work;
use lever_screening::{App, Settings};
use lever_screening_simulators::SimOpportunity;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// The worker's Lambda timeout, which bounds each batch (as in the local server).
const WORKER_TIMEOUT: Duration = Duration::from_secs(60);
/// What the product's limiter is set to for `unpaced`: far above anything sent.
const UNPACED_PER_SECOND: u32 = 10_000;
/// How often the witnesses are looked at while the work runs.
const POLL: Duration = Duration::from_millis(50);
/// Longest the stack may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How the tenant's work is paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mechanism {
    /// Standard queue, concurrent workers, the shared per-credential limiter (the product).
    Limiter,
    /// Standard queue, concurrent workers, the limiter off: Lever's 429s are retried.
    Unpaced,
    /// A FIFO queue with one message group per tenant: one message in flight at a time.
    Fifo,
}

impl Mechanism {
    pub const ALL: [Mechanism; 3] = [Mechanism::Limiter, Mechanism::Unpaced, Mechanism::Fifo];

    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Limiter => "limiter",
            Mechanism::Unpaced => "unpaced",
            Mechanism::Fifo => "fifo",
        }
    }
}

/// Which mechanisms to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Choice {
    Limiter,
    Unpaced,
    Fifo,
    All,
}

impl Choice {
    fn mechanisms(self) -> Vec<Mechanism> {
        match self {
            Choice::Limiter => vec![Mechanism::Limiter],
            Choice::Unpaced => vec![Mechanism::Unpaced],
            Choice::Fifo => vec![Mechanism::Fifo],
            Choice::All => Mechanism::ALL.to_vec(),
        }
    }
}

/// The drill's knobs. The defaults are Lever's documented budget and realistic latencies.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Candidates of the demo tenant moved at once.
    #[arg(long, default_value_t = 200)]
    pub candidates: usize,
    /// Which pacing mechanism(s) to run, each on a fresh stack.
    #[arg(long, value_enum, default_value_t = Choice::All)]
    pub mechanism: Choice,
    /// The Lever simulator's bucket: tokens refilled per second, per API key.
    #[arg(long, default_value_t = 10)]
    pub lever_rate: u32,
    /// The Lever simulator's bucket: burst (capacity), per API key.
    #[arg(long, default_value_t = 20)]
    pub lever_burst: u32,
    /// The product's limiter: Lever requests per second and credential
    /// (`LEVER_REQUESTS_PER_SECOND`), for `limiter` and `fifo`.
    #[arg(long, default_value_t = 8)]
    pub limiter_rate: u32,
    /// Latency of every call to the slow vendor (Sterling).
    #[arg(long, default_value_t = 2000)]
    pub slow_vendor_ms: u64,
    /// Percent of the candidates moved into Sterling's stage instead of Xref's.
    #[arg(long, default_value_t = 25)]
    pub slow_share: u32,
    /// Latency of every Lever call.
    #[arg(long, default_value_t = 120)]
    pub lever_latency_ms: u64,
    /// Latency of every call to Xref.
    #[arg(long, default_value_t = 250)]
    pub vendor_latency_ms: u64,
    /// Worker tasks of the standard-queue mechanisms (the template's
    /// `WorkerMaximumConcurrency`, 10 by default).
    #[arg(long, default_value_t = 10)]
    pub workers: usize,
    /// First retry delay of failed work, in ms; the product's (30 s) when not given.
    #[arg(long)]
    pub work_retry_ms: Option<u64>,
    /// Longest one mechanism may take before the drill stops waiting for it.
    #[arg(long, default_value_t = 1200)]
    pub timeout_secs: u64,
    /// Print the report as JSON instead of a markdown table.
    #[arg(long)]
    pub json: bool,
}

impl Default for Options {
    /// The command's defaults.
    fn default() -> Self {
        Options {
            candidates: 200,
            mechanism: Choice::All,
            lever_rate: 10,
            lever_burst: 20,
            limiter_rate: 8,
            slow_vendor_ms: 2000,
            slow_share: 25,
            lever_latency_ms: 120,
            vendor_latency_ms: 250,
            workers: 10,
            work_retry_ms: None,
            timeout_secs: 1200,
            json: false,
        }
    }
}

impl Options {
    fn check(&self) -> Result<(), DrillError> {
        if self.candidates == 0 {
            return Err("--candidates must be at least 1".into());
        }
        if self.slow_share > 100 {
            return Err("--slow-share is a percentage, 0 to 100".into());
        }
        if self.lever_rate == 0 || self.lever_burst == 0 || self.limiter_rate == 0 {
            return Err("--lever-rate, --lever-burst and --limiter-rate must be at least 1".into());
        }
        if self.workers == 0 {
            return Err("--workers must be at least 1".into());
        }
        Ok(())
    }
}

/// What the drill ran with.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    pub candidates: usize,
    pub to_xref: usize,
    pub to_sterling: usize,
    pub lever_rate: u32,
    pub lever_burst: u32,
    pub limiter_rate: u32,
    pub workers: usize,
    pub lever_latency_ms: u64,
    pub vendor_latency_ms: u64,
    pub slow_vendor_ms: u64,
}

/// One vendor's orders, as its simulator holds them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VendorCount {
    /// Candidates moved into this vendor's trigger stage.
    pub expected: usize,
    /// Orders the vendor holds.
    pub orders: usize,
    /// Of the expected candidates, how many have an order.
    pub ordered: usize,
    /// Orders beyond the first for one candidate.
    pub duplicates: usize,
    /// Orders for candidates not moved into this vendor's stage.
    pub unexpected: usize,
    /// Expected candidates without an order.
    pub lost: usize,
}

/// Lever requests with one API key, as they reached Lever.
#[derive(Debug, Clone, Serialize)]
pub struct KeyLoad {
    /// Whose key: `xref`, `sterling`, or `other`.
    pub key: String,
    pub requests: usize,
    /// Answered 429 by the bucket.
    pub throttled: usize,
    /// Most requests in any 1 s window.
    pub peak_1s: usize,
    /// Most requests in any 10 s window.
    pub peak_10s: usize,
}

/// What one mechanism measured.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub mechanism: Mechanism,
    pub candidates: usize,
    /// Deliveries answered 2xx by lever-candidate-stage-change.
    pub deliveries_accepted: usize,
    /// Deliveries answered otherwise, or not answered.
    pub deliveries_refused: usize,
    pub xref: VendorCount,
    pub sterling: VendorCount,
    pub dead_letters: usize,
    /// Every `/v1` request that reached Lever.
    pub lever_requests: usize,
    /// The Lever simulator's count of 429s answered.
    pub lever_429s: usize,
    pub keys: Vec<KeyLoad>,
    /// Queue messages received, and how many times work was put back for a later attempt.
    pub messages_received: usize,
    pub work_retried: usize,
    /// Seconds from the moves until half of, and all of, the Xref orders were placed.
    pub xref_half_secs: Option<f64>,
    pub xref_all_secs: Option<f64>,
    /// The longest time without a new Xref order, from the moves until the last one:
    /// how long other work (a slow vendor's, a retry's wait) held Xref's back.
    pub xref_longest_gap_secs: Option<f64>,
    /// Seconds until every Sterling order was placed.
    pub sterling_all_secs: Option<f64>,
    /// Seconds until the queue was drained; `None` if it was not within the timeout.
    pub settled_secs: Option<f64>,
    pub timeout_secs: u64,
}

impl Row {
    /// Every moved candidate ordered exactly once at its vendor, nothing dead-lettered,
    /// every delivery accepted, and the work done within the timeout.
    pub fn held(&self) -> bool {
        self.problems().is_empty()
    }

    /// What did not hold, in words.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.deliveries_refused > 0 {
            problems.push(format!("{} deliveries refused", self.deliveries_refused));
        }
        for (name, count) in [("Xref", &self.xref), ("Sterling", &self.sterling)] {
            if count.lost > 0 {
                problems.push(format!("{} lost at {name}", count.lost));
            }
            if count.duplicates > 0 {
                problems.push(format!("{} duplicates at {name}", count.duplicates));
            }
            if count.unexpected > 0 {
                problems.push(format!("{} unexpected orders at {name}", count.unexpected));
            }
        }
        if self.dead_letters > 0 {
            problems.push(format!("{} dead letters", self.dead_letters));
        }
        if self.settled_secs.is_none() {
            problems.push(format!("not settled within {} s", self.timeout_secs));
        }
        problems
    }

    fn orders(&self) -> usize {
        self.xref.orders + self.sterling.orders
    }

    fn duplicates(&self) -> usize {
        self.xref.duplicates
            + self.sterling.duplicates
            + self.xref.unexpected
            + self.sterling.unexpected
    }

    fn lost(&self) -> usize {
        self.xref.lost + self.sterling.lost
    }

    fn peak(&self, key: &str) -> String {
        self.keys
            .iter()
            .find(|k| k.key == key)
            .map_or("–".to_owned(), |k| k.peak_1s.to_string())
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
    /// Whether every mechanism run placed every order exactly once and lost none.
    pub fn held(&self) -> bool {
        self.rows.iter().all(Row::held)
    }
}

fn secs(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |s| format!("{s:.1} s"))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.json {
            let text = serde_json::to_string_pretty(self).map_err(|_| fmt::Error)?;
            return f.write_str(&text);
        }
        let s = &self.setup;
        writeln!(
            f,
            "{} candidates of tenant `{}` moved at once: {} into Xref's stage, {} into \
             Sterling's (Sterling {} ms per call). Lever bucket {}/s, burst {}, per API key; \
             limiter {}/s per key; {} worker tasks; Lever {} ms and Xref {} ms per call.",
            s.candidates,
            demo::TENANT,
            s.to_xref,
            s.to_sterling,
            s.slow_vendor_ms,
            s.lever_rate,
            s.lever_burst,
            s.limiter_rate,
            s.workers,
            s.lever_latency_ms,
            s.vendor_latency_ms,
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "| mechanism | deliveries 2xx | orders (Xref + Sterling) | duplicates | lost | \
             dead letters | Lever requests | Lever 429s | peak req/1 s (Xref key / Sterling key) \
             | work retried | longest gap between Xref orders | all Xref placed | all Sterling \
             placed | settled |"
        )?;
        writeln!(
            f,
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        )?;
        for row in &self.rows {
            let settled = match row.settled_secs {
                Some(_) => secs(row.settled_secs),
                None => format!("not in {} s", row.timeout_secs),
            };
            writeln!(
                f,
                "| {} | {}/{} | {} ({} + {}) | {} | {} | {} | {} | {} | {} / {} | {} | {} | {} | {} | {} |",
                row.mechanism.name(),
                row.deliveries_accepted,
                row.candidates,
                row.orders(),
                row.xref.orders,
                row.sterling.orders,
                row.duplicates(),
                row.lost(),
                row.dead_letters,
                row.lever_requests,
                row.lever_429s,
                row.peak("xref"),
                row.peak("sterling"),
                row.work_retried,
                secs(row.xref_longest_gap_secs),
                secs(row.xref_all_secs),
                secs(row.sterling_all_secs),
                settled,
            )?;
        }
        writeln!(f)?;
        let names = |held: bool| -> Vec<&str> {
            self.rows
                .iter()
                .filter(|r| r.held() == held)
                .map(|r| r.mechanism.name())
                .collect()
        };
        let claim = format!("{} orders, 0 duplicates, 0 lost", self.setup.candidates);
        if self.held() {
            write!(f, "{claim}: held for {}.", names(true).join(", "))
        } else {
            let failed: Vec<String> = self
                .rows
                .iter()
                .filter(|r| !r.held())
                .map(|r| format!("{} ({})", r.mechanism.name(), r.problems().join(", ")))
                .collect();
            write!(f, "{claim}: NOT held for {}", failed.join("; "))?;
            let held = names(true);
            if !held.is_empty() {
                write!(f, "; held for {}", held.join(", "))?;
            }
            f.write_str(".")
        }
    }
}

/// Runs the drill: each chosen mechanism on a fresh stack, one after the other.
pub async fn run(options: &Options) -> Result<Report, DrillError> {
    options.check()?;
    let mut rows = Vec::new();
    for mechanism in options.mechanism.mechanisms() {
        let run = run_one(mechanism, options).await?;
        rows.push(run.row.clone());
        drop(run);
    }
    let plan = Plan::new(options.candidates, options.slow_share);
    Ok(Report {
        setup: Setup {
            candidates: options.candidates,
            to_xref: plan.xref.len(),
            to_sterling: plan.sterling.len(),
            lever_rate: options.lever_rate,
            lever_burst: options.lever_burst,
            limiter_rate: options.limiter_rate,
            workers: options.workers,
            lever_latency_ms: options.lever_latency_ms,
            vendor_latency_ms: options.vendor_latency_ms,
            slow_vendor_ms: options.slow_vendor_ms,
        },
        rows,
        json: options.json,
    })
}

/// A seeded candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The Lever opportunity id.
    pub opportunity_id: String,
    pub email: String,
}

/// Who is moved where.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Moved into Xref's trigger stage ('Reference Check').
    pub xref: Vec<Candidate>,
    /// Moved into Sterling's ('Background Check').
    pub sterling: Vec<Candidate>,
}

impl Plan {
    /// `n` candidates, `share` percent of them spread evenly among the others for Sterling.
    pub fn new(n: usize, share: u32) -> Plan {
        let share = share.min(100) as usize;
        let mut plan = Plan::default();
        for i in 0..n {
            let candidate = Candidate {
                opportunity_id: format!("b0c4d1e5-0000-4000-8000-{i:012}"),
                email: format!("bulk.candidate{i:04}@example.com"),
            };
            // Candidate i goes to Sterling when the running count of Sterling's share
            // steps up at i: `share` percent, evenly spread.
            if (i + 1) * share / 100 > i * share / 100 {
                plan.sterling.push(candidate);
            } else {
                plan.xref.push(candidate);
            }
        }
        plan
    }

    /// Each candidate and the stage it is moved into, in the candidates' order (Sterling's
    /// spread among Xref's).
    fn moves(&self) -> Vec<(&Candidate, &'static str)> {
        let xref = self
            .xref
            .iter()
            .map(|c| (c, demo::REFERENCE_CHECK_STAGE_ID));
        let sterling = self
            .sterling
            .iter()
            .map(|c| (c, demo::BACKGROUND_CHECK_STAGE_ID));
        let mut moves: Vec<_> = xref.chain(sterling).collect();
        // The ids end with the candidate's number, zero-padded.
        moves.sort_by(|a, b| a.0.opportunity_id.cmp(&b.0.opportunity_id));
        moves
    }
}

/// One mechanism's run, with the stack it ran on, left as it ended, for a test to inspect.
pub struct Run {
    pub row: Row,
    pub plan: Plan,
    pub stack: Stack,
    _tasks: Tasks,
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

/// Runs one mechanism on a fresh stack and counts what happened.
pub async fn run_one(mechanism: Mechanism, options: &Options) -> Result<Run, DrillError> {
    options.check()?;
    let mut tasks = Tasks::default();
    let store = Arc::new(MemoryStore::new());
    let queue = Arc::new(ObservedQueue::default());
    let mut settings = Settings {
        lever_requests_per_second: match mechanism {
            Mechanism::Unpaced => UNPACED_PER_SECOND,
            Mechanism::Limiter | Mechanism::Fifo => options.limiter_rate,
        },
        ..Settings::default()
    };
    if let Some(ms) = options.work_retry_ms {
        settings.work.first_retry = Duration::from_millis(ms.max(1));
        settings.work.max_retry = Duration::from_millis(ms.max(1).saturating_mul(20));
    }
    let workers = match mechanism {
        Mechanism::Limiter | Mechanism::Unpaced => options.workers,
        // Started below, once the stack is set up: one at a time.
        Mechanism::Fifo => 0,
    };
    let started = Stack::start(StackOptions {
        store: store.clone(),
        queue: queue.clone(),
        settings,
        workers,
        ..StackOptions::embedded()
    });
    let stack = tokio::time::timeout(START_TIMEOUT, started)
        .await
        .map_err(|_| "the stack did not start within 30 s")??;

    // Lever's budget and latencies.
    let lever = &stack.lever;
    lever.set_rate_limit(Some((options.lever_burst, options.lever_rate)));
    stack
        .xref
        .set_latency(Duration::from_millis(options.vendor_latency_ms));
    stack
        .sterling
        .set_latency(Duration::from_millis(options.slow_vendor_ms));
    let tap = LeverTap::new(Duration::from_millis(options.lever_latency_ms));
    let tap_url = tap.serve(lever.router(), &mut tasks).await?;
    let tenant = TenantId::parse(demo::TENANT)?;
    let mut config = store
        .get_tenant(&tenant)
        .await?
        .ok_or("the demo tenant was not seeded")?;
    config.lever_api_base = format!("{tap_url}/v1");
    store.put_tenant(&config).await?;
    stack.app.tenants().invalidate(&tenant);

    let plan = Plan::new(options.candidates, options.slow_share);
    for (candidate, _) in plan.moves() {
        lever.add_opportunity(opportunity(candidate));
    }
    if mechanism == Mechanism::Fifo {
        tasks.0.push(spawn_serial_worker(Arc::clone(&stack.app)));
    }

    // Every candidate moved at once: each move delivers its signed webhook concurrently.
    let accepted = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    for (candidate, stage) in plan.moves() {
        let lever = lever.clone();
        let id = candidate.opportunity_id.clone();
        let (accepted, answered) = (Arc::clone(&accepted), Arc::clone(&answered));
        tasks.0.push(tokio::spawn(async move {
            let sent = lever.move_to_stage(&id, stage).await;
            if sent.is_ok_and(|s| (200..300).contains(&s.status)) {
                accepted.fetch_add(1, Ordering::SeqCst);
            }
            answered.fetch_add(1, Ordering::SeqCst);
        }));
    }

    // Watch the witnesses until the queue is drained (or the time is up).
    let timeout = Duration::from_secs(options.timeout_secs);
    let mut xref_seen: HashMap<String, f64> = HashMap::new();
    let mut sterling_seen: HashMap<String, f64> = HashMap::new();
    let mut settled_secs = None;
    let total = options.candidates;
    loop {
        let elapsed = started.elapsed().as_secs_f64();
        for email in xref_emails(&stack) {
            xref_seen.entry(email).or_insert(elapsed);
        }
        for email in sterling_emails(&stack) {
            sterling_seen.entry(email).or_insert(elapsed);
        }
        let posted = answered.load(Ordering::SeqCst) >= total;
        let idle = match stack.app.queue().depth().await {
            Ok(depth) => depth.is_idle(),
            Err(_) => false,
        };
        if posted && idle {
            settled_secs = Some(started.elapsed().as_secs_f64());
            break;
        }
        if started.elapsed() >= timeout {
            break;
        }
        tokio::time::sleep(POLL).await;
    }

    let xref = count(&plan.xref, &xref_emails(&stack));
    let sterling = count(&plan.sterling, &sterling_emails(&stack));
    let dead_letters = stack.app.queue().dead_letters(100_000).await?.len();
    let accepted = accepted.load(Ordering::SeqCst);
    let keys = tap.loads();
    let row = Row {
        mechanism,
        candidates: total,
        deliveries_accepted: accepted,
        deliveries_refused: total - accepted.min(total),
        dead_letters,
        lever_requests: keys.iter().map(|k| k.requests).sum(),
        lever_429s: stack.lever.throttled_count(),
        keys,
        messages_received: queue.received.load(Ordering::SeqCst),
        work_retried: queue.retried.load(Ordering::SeqCst),
        xref_half_secs: placed_by(&plan.xref, &xref_seen, plan.xref.len().div_ceil(2)),
        xref_all_secs: placed_by(&plan.xref, &xref_seen, plan.xref.len()),
        xref_longest_gap_secs: longest_gap(&plan.xref, &xref_seen),
        sterling_all_secs: placed_by(&plan.sterling, &sterling_seen, plan.sterling.len()),
        settled_secs,
        timeout_secs: options.timeout_secs,
        xref,
        sterling,
    };
    Ok(Run {
        row,
        plan,
        stack,
        _tasks: tasks,
    })
}

/// The opportunity seeded for `candidate`: in 'Phone Screen', on the demo posting.
fn opportunity(candidate: &Candidate) -> SimOpportunity {
    let number = candidate
        .opportunity_id
        .rsplit('-')
        .next()
        .unwrap_or_default()
        .trim_start_matches('0');
    SimOpportunity {
        id: candidate.opportunity_id.clone(),
        name: format!("Bulk Candidate{number}"),
        emails: vec![candidate.email.clone()],
        phones: vec![],
        tags: vec![],
        stage: demo::PHONE_SCREEN_STAGE_ID.into(),
        posting_id: Some(demo::POSTING_ID.into()),
        location: Some("Toronto".into()),
    }
}

/// The candidate email of every Xref order, one entry per order.
fn xref_emails(stack: &Stack) -> Vec<String> {
    stack
        .xref
        .orders()
        .into_iter()
        .map(|order| order.candidate.email)
        .collect()
}

/// The candidate email of every Sterling screening, one entry per screening.
fn sterling_emails(stack: &Stack) -> Vec<String> {
    let emails: HashMap<String, String> = stack
        .sterling
        .candidates()
        .into_iter()
        .map(|c| (c.id, c.email))
        .collect();
    stack
        .sterling
        .screenings()
        .into_iter()
        .map(|s| {
            emails
                .get(&s.candidate_id)
                .cloned()
                .unwrap_or_else(|| format!("(unknown candidate {})", s.candidate_id))
        })
        .collect()
}

/// A vendor's orders (one email per order) against the candidates moved to it.
fn count(expected: &[Candidate], orders: &[String]) -> VendorCount {
    let wanted: HashSet<&str> = expected.iter().map(|c| c.email.as_str()).collect();
    let mut per_candidate: HashMap<&str, usize> = HashMap::new();
    for email in orders {
        *per_candidate.entry(email.as_str()).or_default() += 1;
    }
    let ordered = wanted
        .iter()
        .filter(|email| per_candidate.contains_key(*email))
        .count();
    VendorCount {
        expected: expected.len(),
        orders: orders.len(),
        ordered,
        duplicates: per_candidate.values().map(|n| n - 1).sum(),
        unexpected: per_candidate
            .keys()
            .filter(|email| !wanted.contains(*email))
            .count(),
        lost: wanted.len() - ordered,
    }
}

/// When the `k`th of the candidates had an order (seconds from the moves); `None` if
/// fewer did, or `k` is 0.
fn placed_by(candidates: &[Candidate], seen: &HashMap<String, f64>, k: usize) -> Option<f64> {
    let mut times: Vec<f64> = candidates
        .iter()
        .filter_map(|c| seen.get(&c.email).copied())
        .collect();
    times.sort_by(f64::total_cmp);
    k.checked_sub(1).and_then(|i| times.get(i).copied())
}

/// The longest time between the moves and the first of the candidates' orders, or
/// between two consecutive ones; `None` if none was placed.
fn longest_gap(candidates: &[Candidate], seen: &HashMap<String, f64>) -> Option<f64> {
    let mut times: Vec<f64> = candidates
        .iter()
        .filter_map(|c| seen.get(&c.email).copied())
        .collect();
    times.sort_by(f64::total_cmp);
    let mut previous = 0.0;
    let mut longest = None;
    for at in times {
        longest = Some(f64::max(longest.unwrap_or(0.0), at - previous));
        previous = at;
    }
    longest
}

/// The worker as a FIFO queue with one message group per tenant allows it: one message of
/// the tenant at a time (a batch of one, then the next).
fn spawn_serial_worker(app: Arc<App>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let worker = app.worker(Deadline::after(WORKER_TIMEOUT));
            if let Err(error) = worker
                .poll(app.queue().as_ref(), 1, Duration::from_millis(200))
                .await
            {
                tracing::error!(%error, "the drill's worker could not read the queue");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One `/v1` request as it reached Lever.
struct TappedCall {
    at: Instant,
    authorization: String,
    status: u16,
}

/// In front of the Lever simulator: adds Lever's latency and records each `/v1` request
/// (when it reached Lever, with which credential, and its answer).
#[derive(Clone)]
struct LeverTap {
    latency: Duration,
    calls: Arc<Mutex<Vec<TappedCall>>>,
}

impl LeverTap {
    fn new(latency: Duration) -> Self {
        LeverTap {
            latency,
            calls: Arc::default(),
        }
    }

    /// Serves the simulator's router behind the tap on a free port; its base URL.
    async fn serve(&self, lever: axum::Router, tasks: &mut Tasks) -> Result<String, DrillError> {
        let router = lever.layer(middleware::from_fn_with_state(self.clone(), tap));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        tasks.0.push(tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "the drill's Lever tap stopped");
            }
        }));
        Ok(url)
    }

    /// Per API key: requests, 429s and the busiest windows.
    fn loads(&self) -> Vec<KeyLoad> {
        let basic = |key: &str| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
            format!("Basic {encoded}")
        };
        let names = [
            (basic(demo::XREF_LEVER_KEY), "xref"),
            (basic(demo::STERLING_LEVER_KEY), "sterling"),
        ];
        let calls = lock(&self.calls);
        let mut by_key: Vec<(&str, Vec<Instant>, usize)> = Vec::new();
        for call in calls.iter() {
            let name = names
                .iter()
                .find(|(auth, _)| *auth == call.authorization)
                .map_or("other", |(_, name)| *name);
            let index = match by_key.iter().position(|(n, _, _)| *n == name) {
                Some(index) => index,
                None => {
                    by_key.push((name, Vec::new(), 0));
                    by_key.len() - 1
                }
            };
            let entry = &mut by_key[index];
            entry.1.push(call.at);
            entry.2 += usize::from(call.status == 429);
        }
        by_key.sort_by_key(|(name, _, _)| *name != "xref");
        by_key
            .into_iter()
            .map(|(name, mut times, throttled)| {
                times.sort();
                KeyLoad {
                    key: name.to_owned(),
                    requests: times.len(),
                    throttled,
                    peak_1s: peak(&times, Duration::from_secs(1)),
                    peak_10s: peak(&times, Duration::from_secs(10)),
                }
            })
            .collect()
    }
}

/// The tap's middleware.
async fn tap(State(tap): State<LeverTap>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/v1") {
        return next.run(request).await;
    }
    if !tap.latency.is_zero() {
        tokio::time::sleep(tap.latency).await;
    }
    let at = Instant::now();
    let authorization = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = next.run(request).await;
    lock(&tap.calls).push(TappedCall {
        at,
        authorization,
        status: response.status().as_u16(),
    });
    response
}

/// Most of the (sorted) instants within any window of length `window`.
fn peak(times: &[Instant], window: Duration) -> usize {
    let mut best = 0;
    let mut start = 0;
    for (end, at) in times.iter().enumerate() {
        while start < end && at.duration_since(times[start]) >= window {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

/// The in-memory queue, counting what the workers receive and put back for later.
#[derive(Default)]
struct ObservedQueue {
    inner: MemoryQueue,
    received: AtomicUsize,
    retried: AtomicUsize,
}

/// What the queue traits' methods return (they are `async_trait` methods).
type QueueFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, QueueError>> + Send + 'a>>;

impl WorkQueue for ObservedQueue {
    fn send<'s, 'w, 'a>(&'s self, work: &'w Work) -> QueueFuture<'a, ()>
    where
        's: 'a,
        'w: 'a,
        Self: 'a,
    {
        self.inner.send(work)
    }
}

impl Retries for ObservedQueue {
    fn retry_later<'s, 'r, 'a>(&'s self, receipt: &'r str, delay: Duration) -> QueueFuture<'a, ()>
    where
        's: 'a,
        'r: 'a,
        Self: 'a,
    {
        self.retried.fetch_add(1, Ordering::SeqCst);
        self.inner.retry_later(receipt, delay)
    }

    fn dead_letter<'s, 'm, 'e, 'a>(
        &'s self,
        message: &'m Received,
        last_error: &'e str,
    ) -> QueueFuture<'a, ()>
    where
        's: 'a,
        'm: 'a,
        'e: 'a,
        Self: 'a,
    {
        self.inner.dead_letter(message, last_error)
    }
}

impl DeadLetters for ObservedQueue {
    fn dead_letters<'s, 'a>(&'s self, max: usize) -> QueueFuture<'a, Vec<DeadLetter>>
    where
        's: 'a,
        Self: 'a,
    {
        self.inner.dead_letters(max)
    }

    fn redrive<'s, 'i, 'a>(&'s self, message_id: Option<&'i str>) -> QueueFuture<'a, usize>
    where
        's: 'a,
        'i: 'a,
        Self: 'a,
    {
        self.inner.redrive(message_id)
    }
}

impl Consumer for ObservedQueue {
    fn receive<'s, 'a>(&'s self, max: usize, wait: Duration) -> QueueFuture<'a, Vec<Received>>
    where
        's: 'a,
        Self: 'a,
    {
        Box::pin(async move {
            let received = self.inner.receive(max, wait).await?;
            self.received.fetch_add(received.len(), Ordering::SeqCst);
            Ok(received)
        })
    }

    fn delete<'s, 'r, 'a>(&'s self, receipt: &'r str) -> QueueFuture<'a, ()>
    where
        's: 'a,
        'r: 'a,
        Self: 'a,
    {
        self.inner.delete(receipt)
    }

    fn depth<'s, 'a>(&'s self) -> QueueFuture<'a, QueueDepth>
    where
        's: 'a,
        Self: 'a,
    {
        self.inner.depth()
    }
}

/// The wrapper is a whole queue.
const _: fn() = || {
    fn is_queue<Q: Queue>() {}
    is_queue::<ObservedQueue>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_goes_to_sterling_evenly_spread() {
        let plan = Plan::new(200, 25);
        assert_eq!(plan.sterling.len(), 50);
        assert_eq!(plan.xref.len(), 150);
        assert_eq!(Plan::new(7, 0).sterling.len(), 0);
        assert_eq!(Plan::new(7, 100).xref.len(), 0);
    }

    #[test]
    fn the_longest_gap_counts_from_the_moves() {
        let c = |e: &str| Candidate {
            opportunity_id: e.to_owned(),
            email: e.to_owned(),
        };
        let seen: HashMap<String, f64> = [("a", 1.0), ("b", 1.5), ("c", 4.0)]
            .into_iter()
            .map(|(e, t)| (e.to_owned(), t))
            .collect();
        assert_eq!(longest_gap(&[c("a"), c("b"), c("c")], &seen), Some(2.5));
        assert_eq!(longest_gap(&[c("a")], &seen), Some(1.0));
        assert_eq!(longest_gap(&[c("x")], &seen), None);
        let plan = Plan::new(8, 25);
        let stages: Vec<&str> = plan.moves().iter().map(|(_, stage)| *stage).collect();
        assert_eq!(stages[3], demo::BACKGROUND_CHECK_STAGE_ID);
        assert_eq!(stages[4], demo::REFERENCE_CHECK_STAGE_ID);
    }

    #[test]
    fn peaks_count_the_busiest_window() {
        let t = Instant::now();
        let at = |ms: u64| t + Duration::from_millis(ms);
        let times = [at(0), at(100), at(900), at(1000), at(1001), at(2500)];
        assert_eq!(peak(&times, Duration::from_secs(1)), 4);
        assert_eq!(peak(&[], Duration::from_secs(1)), 0);
    }

    #[test]
    fn duplicates_unexpected_and_lost_are_counted_per_candidate() {
        let c = |e: &str| Candidate {
            opportunity_id: e.to_owned(),
            email: e.to_owned(),
        };
        let expected = [c("a"), c("b"), c("c")];
        let orders = ["a", "a", "b", "z"].map(str::to_owned);
        let counted = count(&expected, &orders);
        assert_eq!(counted.orders, 4);
        assert_eq!(counted.ordered, 2);
        assert_eq!(counted.duplicates, 1);
        assert_eq!(counted.unexpected, 1);
        assert_eq!(counted.lost, 1);
    }
}
