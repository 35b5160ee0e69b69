//! The fault-injection drill (issue 11, "The suite"): the whole product — every function
//! behind the local server, worker tasks, DynamoDB Local as the store — driven through
//! simulators that inject faults, and what held counted at the witnesses (the simulators of
//! Lever and the vendors), never in the product's own bookkeeping.
//!
//! Scenarios, run in this order on one stack:
//! - `deliveries`: candidates moved into Xref's and Sterling's trigger stages, each delivery
//!   sent 1–3 times (some copies at once, some after the work is done), while Lever fails
//!   half its API calls (each answered after 50 ms) and some of its note and tag writes, and
//!   some vendor creates, lose their answer after being applied. One order per move, every
//!   write-back in Lever once.
//! - `forged`: signed deliveries (Lever's connection tests, real deliveries) replayed with
//!   forged `data` naming candidates who never moved: no order; Sterling callbacks with a
//!   forged payload: no status change. Runs `deliveries` too, whose deliveries and orders it
//!   uses.
//! - `callbacks`: vendor status callbacks posted in random permutations, with repeats, some
//!   at once, for orders from `deliveries` and for orders placed now (their callbacks race
//!   the placement): what the product and Lever show ends at the furthest status. Runs
//!   `deliveries` too, whose orders it needs.
//! - `lifecycle`: candidates with an open Xref check, then signed archives and deletes
//!   Lever does not confirm (forged archives of active candidates, late archives retried
//!   after the unarchive, forged deletes of candidates Lever still has) among real
//!   archives: no wrong cancel, no wrong purge, every real archive cancels.
//! - `hostile`: over a hundred malformed, unauthenticated or oversized requests: each a 4xx
//!   with a JSON error body, none a 5xx or a hang, no order.
//!
//! `run` prints nothing itself when every required figure holds; when one fails it prints
//! the report and answers an error, so the command exits non-zero. [`measure`] answers the
//! report either way (the tests assert on it).

mod callbacks;
mod deliveries;
mod forged;
mod gateway;
mod hostile;
mod lifecycle;
mod report;
mod rng;
mod witness;
mod world;

pub use report::{Figure, Report, Value};

use super::DrillError;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;
use world::World;

/// How much the drill does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// Tens of deliveries: for CI, well under a minute.
    Small,
    /// Hundreds of deliveries: the figures the documentation shows.
    Full,
}

/// Where the product keeps its state during the drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// DynamoDB Local (or any DynamoDB) at `AWS_ENDPOINT_URL_DYNAMODB`, a fresh table.
    Dynamodb,
    /// The in-memory store: for a quick run without DynamoDB Local (the store's own suite
    /// covers DynamoDB's behaviour).
    Memory,
}

/// A group of figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    Deliveries,
    Forged,
    Callbacks,
    Lifecycle,
    Hostile,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::Deliveries,
        Scenario::Forged,
        Scenario::Callbacks,
        Scenario::Lifecycle,
        Scenario::Hostile,
    ];
}

/// The drill's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// `small` (tens of deliveries, for CI) or `full` (hundreds).
    #[arg(long, value_enum, default_value_t = Size::Small)]
    pub size: Size,
    /// Seed of every random choice the drill makes (the order of concurrent work still
    /// varies from run to run).
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
    /// Share of Lever API calls the Lever simulator fails with 503 before applying them.
    #[arg(long, default_value_t = 0.5)]
    pub lever_failure_rate: f64,
    /// Share of Lever note and tag writes whose answer is dropped (502) after the Lever
    /// simulator applied them.
    #[arg(long, default_value_t = 0.3)]
    pub ambiguous_writes: f64,
    /// Latency of every Lever API call, in ms (Lever's own is of this order or more).
    #[arg(long, default_value_t = 50)]
    pub lever_latency_ms: u64,
    /// The product's store: `dynamodb` needs `AWS_ENDPOINT_URL_DYNAMODB` (run through
    /// `scripts/local-aws run -- …`).
    #[arg(long, value_enum, default_value_t = StoreKind::Dynamodb)]
    pub store: StoreKind,
    /// Scenarios to run, repeatable; all when none is given.
    #[arg(long = "scenario", value_enum)]
    pub scenarios: Vec<Scenario>,
    /// Print the report as JSON instead of a markdown table.
    #[arg(long)]
    pub json: bool,
}

impl Default for Options {
    /// The command's defaults.
    fn default() -> Self {
        Options {
            size: Size::Small,
            seed: 11,
            lever_failure_rate: 0.5,
            ambiguous_writes: 0.3,
            lever_latency_ms: 50,
            store: StoreKind::Dynamodb,
            scenarios: Vec::new(),
            json: false,
        }
    }
}

impl Options {
    fn wants(&self, scenario: Scenario) -> bool {
        self.scenarios.is_empty()
            || self.scenarios.contains(&scenario)
            // The forged replays and the callbacks use the orders the deliveries placed.
            || (scenario == Scenario::Deliveries
                && (self.scenarios.contains(&Scenario::Forged)
                    || self.scenarios.contains(&Scenario::Callbacks)))
    }

    fn check(&self) -> Result<(), DrillError> {
        for (name, value) in [
            ("--lever-failure-rate", self.lever_failure_rate),
            ("--ambiguous-writes", self.ambiguous_writes),
        ] {
            if !(0.0..=0.9).contains(&value) {
                return Err(format!("{name} must be between 0 and 0.9, not {value}").into());
            }
        }
        Ok(())
    }
}

/// Runs the drill; an error when it could not be set up, or (after printing the report)
/// when a required figure failed, so that the command exits non-zero.
pub async fn run(options: &Options) -> Result<Report, DrillError> {
    let report = measure(options).await?;
    if report.passed() {
        return Ok(report);
    }
    println!("{report}");
    let failed: Vec<String> = report
        .failed()
        .iter()
        .map(|figure| format!("{} / {}", figure.scenario, figure.name))
        .collect();
    Err(format!(
        "the fault-injection drill failed {} required figure(s): {}",
        failed.len(),
        failed.join("; ")
    )
    .into())
}

/// Runs the drill and answers what it measured, whether or not it held; an error only
/// when it could not be set up.
pub async fn measure(options: &Options) -> Result<Report, DrillError> {
    options.check()?;
    let started = Instant::now();
    let world = Arc::new(World::start(options).await?);
    let mut report = Report::new(options, world.store_description());
    let outcome = scenarios(&world, options, &mut report).await;
    world.stop().await;
    outcome?;
    report.finish(started.elapsed());
    Ok(report)
}

async fn scenarios(
    world: &Arc<World>,
    options: &Options,
    report: &mut Report,
) -> Result<(), DrillError> {
    let mut placed = None;
    if options.wants(Scenario::Deliveries) {
        placed = Some(deliveries::run(world, options, report).await?);
    }
    if options.wants(Scenario::Forged) {
        forged::run(world, options, placed.as_ref(), report).await?;
    }
    if options.wants(Scenario::Callbacks) {
        if let Some(placed) = &placed {
            callbacks::run(world, options, placed, report).await?;
        }
    }
    if options.wants(Scenario::Lifecycle) {
        lifecycle::run(world, report).await?;
    }
    if options.wants(Scenario::Hostile) {
        hostile::run(world, report).await?;
    }
    world.lever_figures(report);
    Ok(())
}
