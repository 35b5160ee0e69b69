//! The drill's stack and what every scenario does with it: start the product on DynamoDB
//! Local (or the memory store) with fast retries, put the Lever gateway in front of the
//! Lever simulator, seed candidates, send deliveries and callbacks as their senders do
//! (retrying what was not acknowledged), wait for the work to settle.

use super::gateway::{self, Gateway, Kind};
use super::report::{Report, Value};
use super::rng::Rng;
use super::{DrillError, Options, Size, StoreKind};
use crate::demo_tenant as demo;
use crate::stack::{Stack, StackOptions};
use lever_screening::ids::{OpportunityId, OrderId, TenantId};
use lever_screening::queue::memory::MemoryQueue;
use lever_screening::retry::RetryPolicy;
use lever_screening::store::dynamodb::{self, DynamoStore};
use lever_screening::store::memory::MemoryStore;
use lever_screening::store::Store;
use lever_screening::vendors::VendorId;
use lever_screening::Settings;
use lever_screening_simulators::SimOpportunity;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Longest any one request of a sender may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// How often a sender (Lever, a vendor) sends what was not acknowledged, the first included.
pub const SENDER_ATTEMPTS: usize = 6;
/// Worker tasks polling the queue (Lambda runs several workers at once).
const WORKERS: usize = 4;
/// Longest the stack, or DynamoDB Local's table, may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

const NEEDS_DYNAMODB: &str = "AWS_ENDPOINT_URL_DYNAMODB is not set: the fault-injection drill \
     runs the product on DynamoDB Local. Run it with \
     `scripts/local-aws run -- cargo run -p lever-screening-local -- faults` (it starts \
     DynamoDB Local and exports the endpoint), or pass `--store memory` for a quick run on \
     the in-memory store.";

const FIRST_NAMES: [&str; 12] = [
    "Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Radia", "Ken",
    "Margaret", "Tony",
];
const LAST_NAMES: [&str; 10] = [
    "Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Perlman",
    "Hamilton",
];

enum Backing {
    Memory,
    Dynamo {
        client: aws_sdk_dynamodb::Client,
        table: String,
    },
}

/// The stack the scenarios drive.
pub struct World {
    pub stack: Stack,
    pub gateway: Gateway,
    pub tenant: TenantId,
    pub size: Size,
    /// The demo tenant's Candidate Stage Change URL.
    pub webhook_url: String,
    /// For requests the drill makes itself (hostile input).
    pub http: reqwest::Client,
    rng: std::sync::Mutex<Rng>,
    backing: Backing,
}

impl World {
    /// The order the product names after `candidate`'s latest entry into `stage` in Lever's
    /// `stageChanges` (what every delivery of that move orders at most once).
    pub fn stage_entry_order(&self, candidate: &str, vendor: VendorId, stage: &str) -> OrderId {
        let entered_at = self
            .stack
            .lever
            .stage_changes(candidate)
            .iter()
            .rev()
            .find(|change| change.to_stage_id == stage)
            .map_or(0, |change| change.updated_at);
        let opportunity = OpportunityId::parse(candidate).expect("the drill's candidate ids");
        OrderId::for_stage_entry(&self.tenant, vendor.as_str(), &opportunity, entered_at)
    }

    pub async fn start(options: &Options) -> Result<World, DrillError> {
        let (store, backing) = store(options.store).await?;
        let stack = tokio::time::timeout(
            START_TIMEOUT,
            Stack::start(StackOptions {
                store,
                queue: Arc::new(MemoryQueue::new()),
                secrets: None,
                extra_secrets: serde_json::Map::new(),
                settings: settings(),
                port: 0,
                workers: WORKERS,
                per_function: None,
            }),
        )
        .await
        .map_err(|_| "the stack did not start within a minute")??;
        // Lever's request budget is the bulk-move drill's subject, not this one's.
        stack.lever.set_rate_limit(None);
        stack
            .lever
            .set_failure_rate(options.lever_failure_rate, options.seed);
        let gateway = Gateway::start(
            &stack.lever_url,
            stack.lever.clone(),
            Duration::from_millis(options.lever_latency_ms),
            options.seed,
            options.ambiguous_writes,
        )
        .await?;
        let tenant = TenantId::parse(demo::TENANT)?;
        let mut config = stack
            .app
            .store()
            .get_tenant(&tenant)
            .await?
            .ok_or("the stack did not seed the demo tenant")?;
        config.lever_api_base = format!("{}/v1", gateway.url);
        stack.app.store().put_tenant(&config).await?;
        stack.app.tenants().invalidate(&tenant);
        let http = reqwest::Client::builder().timeout(SEND_TIMEOUT).build()?;
        Ok(World {
            webhook_url: stack.stage_change_url(demo::TENANT),
            stack,
            gateway,
            tenant,
            size: options.size,
            http,
            rng: std::sync::Mutex::new(Rng::new(options.seed)),
            backing,
        })
    }

    /// Where the product's state is, for the report.
    pub fn store_description(&self) -> String {
        match &self.backing {
            Backing::Memory => "memory".into(),
            Backing::Dynamo { table, .. } => format!("DynamoDB Local (table {table})"),
        }
    }

    /// A generator for one scenario's plans, drawn from the run's seed.
    pub fn rng(&self) -> Rng {
        self.rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .fork()
    }

    /// Longest the drill waits for the worker after a scenario.
    pub fn settle_timeout(&self) -> Duration {
        match self.size {
            Size::Small => Duration::from_secs(120),
            Size::Full => Duration::from_secs(900),
        }
    }

    /// Waits for every queued message to be done; records a failed figure if it is not.
    pub async fn settle(&self, report: &mut Report, scenario: &'static str) {
        let settled = self.stack.settle(self.settle_timeout()).await;
        if !settled {
            report.zero(scenario, "work still queued at the deadline", 1);
            report.problem(format!(
                "{scenario}: the worker had not finished after {} s",
                self.settle_timeout().as_secs()
            ));
        }
    }

    /// Adds candidate `id` to Lever in `stage`, created now (its stage history starts there).
    pub fn add_candidate(&self, id: &str, index: usize, stage: &str) {
        self.add_candidate_on(id, index, stage, demo::POSTING_ID, "Toronto");
    }

    /// [`World::add_candidate`] on another posting, at its location.
    pub fn add_candidate_on(
        &self,
        id: &str,
        index: usize,
        stage: &str,
        posting: &str,
        location: &str,
    ) {
        let first = FIRST_NAMES[index % FIRST_NAMES.len()];
        let last = LAST_NAMES[(index / FIRST_NAMES.len()) % LAST_NAMES.len()];
        self.stack.lever.add_opportunity(SimOpportunity {
            id: id.to_owned(),
            name: format!("{first} {last}"),
            emails: vec![email(id)],
            phones: if index.is_multiple_of(2) {
                vec![format!("+1 416 555 {:04}", index % 10_000)]
            } else {
                Vec::new()
            },
            tags: Vec::new(),
            stage: stage.to_owned(),
            posting_id: Some(posting.to_owned()),
            location: Some(location.to_owned()),
        });
    }

    /// Posts a Lever delivery as Lever does: again (up to [`SENDER_ATTEMPTS`] in all) while
    /// it is answered 409, 5xx or not at all. Every post is counted in `tally`.
    pub async fn deliver(&self, body: &Json, tally: &mut Tally) {
        self.deliver_to(&self.webhook_url, body, tally).await;
    }

    /// [`World::deliver`] to the webhook URL `url` (another event's).
    pub async fn deliver_to(&self, url: &str, body: &Json, tally: &mut Tally) {
        for attempt in 0..SENDER_ATTEMPTS {
            if attempt > 0 {
                pause(attempt).await;
            }
            let sent = bounded(self.stack.lever.send_raw(url, body)).await;
            let answer = sent.map(|s| (s.status, s.response));
            if !tally.record(answer.as_ref()) {
                return;
            }
        }
    }

    /// Lever's figures, from the gateway: calls, injected failures, ambiguous writes.
    pub fn lever_figures(&self, report: &mut Report) {
        let calls = self.gateway.calls();
        let failed = calls
            .iter()
            .filter(|c| c.status == gateway::INJECTED_FAILURE)
            .count();
        let ambiguous = |kind: Kind| {
            calls
                .iter()
                .filter(|c| c.kind == kind && c.status == gateway::AMBIGUOUS)
                .count()
        };
        let (notes, tags) = (ambiguous(Kind::NoteWrite), ambiguous(Kind::TagWrite));
        let note_writes = calls.iter().filter(|c| c.kind == Kind::NoteWrite).count();
        let scenario = "Lever";
        report.info(
            scenario,
            "API calls the product made",
            Value::count(calls.len()),
        );
        report.info(
            scenario,
            "failure rate injected (503 before applying)",
            Value::share(failed, calls.len()),
        );
        // The in-doubt path of note writes must have been exercised for the run to prove it.
        if report.ambiguous_writes > 0.0 && note_writes > 0 {
            report.at_least(
                scenario,
                "note writes made ambiguous (applied, answer dropped)",
                notes,
                1,
            );
        } else {
            report.info(
                scenario,
                "note writes made ambiguous (applied, answer dropped)",
                Value::count(notes),
            );
        }
        report.info(
            scenario,
            "tag writes made ambiguous (applied, answer dropped)",
            Value::count(tags),
        );
    }

    /// Dead letters: work the worker gave up on.
    pub async fn dead_letters(&self, report: &mut Report, scenario: &'static str) {
        let depth = self.stack.app.queue().depth().await.map(|d| d.dead);
        let dead = depth.unwrap_or(usize::MAX);
        report.zero(scenario, "work dead-lettered", dead.min(1_000_000));
        if dead > 0 {
            if let Ok(letters) = self.stack.app.queue().dead_letters(5).await {
                for letter in letters {
                    report.problem(format!(
                        "{scenario}: dead letter after {:?} attempts: {} ({})",
                        letter.attempts,
                        letter.last_error.unwrap_or_default(),
                        letter.body
                    ));
                }
            }
        }
    }

    pub async fn stop(&self) {
        self.gateway.stop();
        if let Backing::Dynamo { client, table } = &self.backing {
            let delete = client.delete_table().table_name(table).send();
            let _ = tokio::time::timeout(Duration::from_secs(10), delete).await;
        }
    }
}

/// The candidate's email address (unique per candidate: the witnesses key on it).
pub fn email(candidate: &str) -> String {
    format!("{candidate}@faults.example.com")
}

/// A stage change delivery's `data`, as Lever sends it.
pub fn stage_change(candidate: &str, to_stage: &str) -> Json {
    json!({
        "opportunityId": candidate,
        "candidateId": candidate,
        "contactId": format!("{candidate}-contact"),
        "toStageId": to_stage,
        "fromStageId": demo::PHONE_SCREEN_STAGE_ID,
    })
}

/// Fast retries, so that the work's retries (Lever failing half its calls) happen within
/// the run; the product's pacing of Lever calls out of the way.
fn settings() -> Settings {
    let mut settings = Settings {
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(40),
            timeout: Duration::from_secs(5),
            ..RetryPolicy::default()
        },
        lever_requests_per_second: 10_000,
        ..Settings::default()
    };
    settings.work.first_retry = Duration::from_millis(25);
    settings.work.max_retry = Duration::from_millis(800);
    settings.work.max_attempts = 25;
    settings
}

async fn store(kind: StoreKind) -> Result<(Arc<dyn Store>, Backing), DrillError> {
    if kind == StoreKind::Memory {
        return Ok((Arc::new(MemoryStore::new()), Backing::Memory));
    }
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .ok()
        .filter(|value| !value.trim().is_empty())
        .ok_or(NEEDS_DYNAMODB)?;
    let client =
        aws_sdk_dynamodb::Client::new(&super::super::emulators_aws_config("faults-drill").await);
    let table = format!("faults-{}", uuid::Uuid::new_v4().simple());
    tokio::time::timeout(START_TIMEOUT, dynamodb::create_table(&client, &table))
        .await
        .map_err(|_| format!("DynamoDB at {endpoint} did not create a table within a minute"))?
        .map_err(|e| format!("cannot create a table in DynamoDB at {endpoint}: {e}"))?;
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(client.clone(), &table));
    Ok((store, Backing::Dynamo { client, table }))
}

/// `future`'s value, or `None` if it failed or took longer than [`SEND_TIMEOUT`].
pub async fn bounded<T, E>(future: impl Future<Output = Result<T, E>>) -> Option<T> {
    tokio::time::timeout(SEND_TIMEOUT, future)
        .await
        .ok()
        .and_then(Result::ok)
}

/// A sender's wait before attempt `attempt` (1-based retries): 50, 100, 150 … ms, at most
/// half a second.
pub async fn pause(attempt: usize) {
    tokio::time::sleep(Duration::from_millis((50 * attempt as u64).min(500))).await;
}

/// What a sender was answered, by `"{status} {word}"` (the `status` of an ack, the
/// `error.code` of a refusal), each post counted.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub answers: BTreeMap<String, usize>,
}

impl Tally {
    /// Counts one post's answer (`None`: no answer); true if the sender must send it again
    /// (Lever resends what is answered 409, 5xx or not at all).
    pub fn record(&mut self, answer: Option<&(u16, String)>) -> bool {
        let (key, again) = match answer {
            None => ("no answer".to_owned(), true),
            Some((status, body)) => {
                let parsed: Json = serde_json::from_str(body).unwrap_or_default();
                let word = parsed["status"]
                    .as_str()
                    .or_else(|| parsed["error"]["code"].as_str())
                    .unwrap_or("-");
                (format!("{status} {word}"), *status == 409 || *status >= 500)
            }
        };
        *self.answers.entry(key).or_default() += 1;
        again
    }

    /// Counts one callback's answer; true if the vendor must send it again: Standard
    /// Webhooks senders (and Sterling) resend whatever is not a 2xx.
    pub fn record_callback(&mut self, answer: Option<&(u16, String)>) -> bool {
        self.record(answer);
        !answer.is_some_and(|(status, _)| (200..300).contains(status))
    }

    pub fn merge(&mut self, other: &Tally) {
        for (key, n) in &other.answers {
            *self.answers.entry(key.clone()).or_default() += n;
        }
    }

    pub fn sent(&self) -> usize {
        self.answers.values().sum()
    }

    /// Posts answered with a status for which `pick` is true.
    pub fn count(&self, pick: impl Fn(u16) -> bool) -> usize {
        self.answers
            .iter()
            .filter(|(key, _)| {
                key.split(' ')
                    .next()
                    .and_then(|s| s.parse::<u16>().ok())
                    .is_some_and(&pick)
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// Posts answered exactly `key` (`"202 queued"`).
    pub fn get(&self, key: &str) -> usize {
        self.answers.get(key).copied().unwrap_or_default()
    }

    pub fn unanswered(&self) -> usize {
        self.get("no answer")
    }

    /// The answers as one line, `202 queued × 24, 200 duplicate × 20`.
    pub fn summary(&self) -> String {
        self.answers
            .iter()
            .map(|(key, n)| format!("{key} × {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
