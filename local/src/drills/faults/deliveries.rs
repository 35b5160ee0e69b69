//! Scenario `deliveries`: candidates moved into Xref's and Sterling's trigger stages, each
//! move's delivery sent one to three times — some copies at once, some one after another,
//! some again once the work is done (Lever's "Rerun") — while Lever fails half its API calls
//! and drops the answer of some note and tag writes it applied. Counted at the witnesses:
//! one vendor order per move, and each order's status shown in Lever, once.

use super::gateway;
use super::report::{Report, Value};
use super::rng::Rng;
use super::witness::{self, VendorOrders};
use super::world::{bounded, pause, stage_change, Tally, World, SENDER_ATTEMPTS};
use super::{DrillError, Options, Size};
use crate::demo_tenant as demo;
use lever_screening::ids::OrderId;
use lever_screening::vendors::VendorId;
use serde_json::Value as Json;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const SCENARIO: &str = "deliveries";
/// Candidates moved at once.
const CONCURRENCY: usize = 12;

/// An order this scenario placed, for the scenarios after it.
#[derive(Debug, Clone)]
pub struct PlacedOrder {
    pub candidate: String,
    /// Our order id (the delivery's: tenant, vendor, token).
    pub order_id: OrderId,
    /// The vendor's: Xref's check id, Sterling's screening id.
    pub vendor_order_id: String,
}

/// What the scenario leaves behind.
#[derive(Debug, Clone, Default)]
pub struct Placed {
    pub xref: Vec<PlacedOrder>,
    pub sterling: Vec<PlacedOrder>,
    /// Every delivery as Lever signed it, for replays with forged data.
    pub deliveries: Vec<Json>,
}

#[derive(Debug, Clone)]
struct Plan {
    index: usize,
    candidate: String,
    vendor: VendorId,
    /// How many times Lever sends the delivery.
    copies: usize,
    /// All copies at once (else one after another).
    together: bool,
    /// Sent once more after the work settled.
    rerun: bool,
}

impl Plan {
    fn stage(&self) -> &'static str {
        match self.vendor {
            VendorId::Sterling => demo::BACKGROUND_CHECK_STAGE_ID,
            _ => demo::REFERENCE_CHECK_STAGE_ID,
        }
    }
}

/// What one move did.
struct Moved {
    plan: Plan,
    /// The delivery, if Lever could build it.
    body: Option<Json>,
    tally: Tally,
}

fn plans(size: Size, rng: &mut Rng) -> Vec<Plan> {
    let (xref, sterling) = match size {
        Size::Small => (18, 6),
        Size::Full => (240, 60),
    };
    let mut vendors: Vec<VendorId> = std::iter::repeat_n(VendorId::Xref, xref)
        .chain(std::iter::repeat_n(VendorId::Sterling, sterling))
        .collect();
    rng.shuffle(&mut vendors);
    vendors
        .into_iter()
        .enumerate()
        .map(|(index, vendor)| Plan {
            index,
            candidate: format!("fd-{index:04}"),
            vendor,
            copies: 1 + rng.below(3),
            together: rng.chance(0.5),
            rerun: rng.chance(0.15),
        })
        .collect()
}

pub async fn run(
    world: &Arc<World>,
    options: &Options,
    report: &mut Report,
) -> Result<Placed, DrillError> {
    let mut rng = world.rng();
    let plans = plans(world.size, &mut rng);
    for plan in &plans {
        world.add_candidate(&plan.candidate, plan.index, demo::PHONE_SCREEN_STAGE_ID);
    }
    // The vendors lose answers too: the first creates that succeed (one per order at
    // Xref; screenings at Sterling) are answered 502 after being applied. Not Sterling's
    // candidate creates: v2 documents no way to find a candidate but by the id whose
    // answer was lost, so that case ends in a note, not in an order (docs/vendor-apis.md).
    let share = |vendor: VendorId| {
        let orders = plans.iter().filter(|p| p.vendor == vendor).count();
        (orders as f64 * options.ambiguous_writes).round() as usize
    };
    let (xref_lost, sterling_lost) = (share(VendorId::Xref), share(VendorId::Sterling));
    world
        .stack
        .xref
        .fail_after_applying(xref_lost, gateway::AMBIGUOUS);
    world
        .stack
        .sterling
        .fail_screenings_after_applying(sterling_lost, gateway::AMBIGUOUS);
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let mut moves = JoinSet::new();
    for plan in plans.iter().cloned() {
        let world = Arc::clone(world);
        let gate = Arc::clone(&gate);
        let pauses = rng.fork();
        moves.spawn(async move {
            let _permit = gate.acquire_owned().await;
            move_candidate(world, plan, pauses).await
        });
    }
    let mut moved = Vec::new();
    while let Some(done) = moves.join_next().await {
        moved.push(done?);
    }
    world.settle(report, SCENARIO).await;
    // Lever's "Rerun" of deliveries already done.
    for one in moved.iter_mut().filter(|m| m.plan.rerun) {
        if let Some(body) = &one.body {
            world.deliver(body, &mut one.tally).await;
        }
    }
    world.settle(report, SCENARIO).await;
    Ok(measure(world, &moved, (xref_lost, sterling_lost), report).await)
}

/// Moves the candidate and sends the delivery as planned.
async fn move_candidate(world: Arc<World>, plan: Plan, mut rng: Rng) -> Moved {
    let lever = &world.stack.lever;
    let mut tally = Tally::default();
    let stage = plan.stage();
    if plan.together {
        // Lever's copies of one delivery arriving at once (its retries after a slow answer):
        // the candidate is in the stage, then every copy is posted concurrently.
        let mut opportunity = lever.opportunity(&plan.candidate);
        if let Some(opportunity) = opportunity.as_mut() {
            opportunity.stage = stage.to_owned();
            lever.add_opportunity(opportunity.clone());
        }
        let body = lever
            .signed_delivery("candidateStageChange", stage_change(&plan.candidate, stage))
            .ok();
        if let Some(body) = &body {
            let mut copies = JoinSet::new();
            for _ in 0..plan.copies {
                let world = Arc::clone(&world);
                let body = body.clone();
                copies.spawn(async move {
                    let mut tally = Tally::default();
                    world.deliver(&body, &mut tally).await;
                    tally
                });
            }
            while let Some(Ok(copy)) = copies.join_next().await {
                tally.merge(&copy);
            }
        }
        return Moved { plan, body, tally };
    }
    // A recruiter moves the candidate: Lever delivers, then retries (one after another).
    let Some(first) = bounded(lever.move_to_stage(&plan.candidate, stage)).await else {
        tally.record(None);
        return Moved {
            plan,
            body: None,
            tally,
        };
    };
    let body = first.body.clone();
    let mut again = tally.record(Some(&(first.status, first.response)));
    let mut attempt = 1;
    while again && attempt < SENDER_ATTEMPTS {
        pause(attempt).await;
        let sent = bounded(lever.send_raw(&world.webhook_url, &body)).await;
        again = tally.record(sent.map(|s| (s.status, s.response)).as_ref());
        attempt += 1;
    }
    for _ in 1..plan.copies {
        tokio::time::sleep(std::time::Duration::from_millis(rng.below(40) as u64)).await;
        world.deliver(&body, &mut tally).await;
    }
    Moved {
        plan,
        body: Some(body),
        tally,
    }
}

async fn measure(
    world: &World,
    moved: &[Moved],
    (xref_lost, sterling_lost): (usize, usize),
    report: &mut Report,
) -> Placed {
    let mut tally = Tally::default();
    for one in moved {
        tally.merge(&one.tally);
    }
    let events = moved.len();
    let sterling_events = moved
        .iter()
        .filter(|m| m.plan.vendor == VendorId::Sterling)
        .count();
    report.info(
        SCENARIO,
        format!(
            "unique triggering events (Xref {}, Sterling {sterling_events})",
            events - sterling_events
        ),
        Value::count(events),
    );
    report.info(SCENARIO, "deliveries sent", Value::count(tally.sent()));
    report.info(
        SCENARIO,
        "duplicate deliveries (redeliveries, copies at once, reruns)",
        Value::count(tally.sent().saturating_sub(events)),
    );
    report.equal(
        SCENARIO,
        "deliveries queued for work",
        tally.get("202 queued"),
        events,
        "unique events",
    );
    report.info(
        SCENARIO,
        "copies answered `duplicate` (200) or `in_progress` (409)",
        Value::count(tally.get("200 duplicate") + tally.get("409 in_progress")),
    );
    report.info(
        SCENARIO,
        format!("vendor creates made ambiguous (Xref {xref_lost}, Sterling {sterling_lost})"),
        Value::count(xref_lost + sterling_lost),
    );
    let refused = tally.count(|s| s != 409 && !(200..300).contains(&s)) + tally.unanswered();
    report.zero(
        SCENARIO,
        "deliveries refused, failed (5xx) or unanswered",
        refused,
    );
    if refused > 0 {
        report.problem(format!("deliveries: answers {}", tally.summary()));
    }

    let vendors = VendorOrders::read(&world.stack);
    let mut placed = Placed::default();
    let (mut orders, mut duplicates, mut unordered, mut lost, mut two_tags) = (0, 0, 0, 0, 0);
    let mut duplicate_notes = Vec::new();
    for one in moved {
        let candidate = &one.plan.candidate;
        let found = vendors.of(candidate);
        orders += found.total();
        duplicates += found.total().saturating_sub(1);
        if found.total() == 0 {
            unordered += 1;
            report.problem(format!(
                "deliveries: no order for {candidate} ({})",
                one.plan.vendor
            ));
            continue;
        }
        if found.total() > 1 {
            report.problem(format!(
                "deliveries: {} orders for {candidate}: {found:?}",
                found.total()
            ));
        }
        let Some(opportunity) = world.stack.lever.opportunity(candidate) else {
            continue;
        };
        let notes = world.stack.lever.notes(candidate);
        let shown = witness::xref_tags(&opportunity.tags);
        if shown.len() > 1 {
            two_tags += 1;
            report.problem(format!(
                "deliveries: {candidate} shows {} Xref tags: {shown:?}",
                shown.len()
            ));
        }
        let order_id = world.stage_entry_order(candidate, one.plan.vendor, one.plan.stage());
        match one.plan.vendor {
            VendorId::Sterling => {
                let statuses = witness::sterling_statuses(&notes);
                if !statuses.iter().any(|s| s == "New") {
                    lost += 1;
                    report.problem(format!(
                        "deliveries: Lever shows no \"New\" note for {candidate}'s Sterling case"
                    ));
                }
                if let Some(id) = found.sterling.first() {
                    placed.sterling.push(PlacedOrder {
                        candidate: candidate.clone(),
                        order_id,
                        vendor_order_id: id.clone(),
                    });
                }
            }
            _ => {
                if shown != ["Xref - Candidate submitted"] {
                    lost += 1;
                    report.problem(format!(
                        "deliveries: Lever shows {shown:?} for {candidate}'s Xref check"
                    ));
                }
                if let Some(id) = found.xref.first() {
                    placed.xref.push(PlacedOrder {
                        candidate: candidate.clone(),
                        order_id,
                        vendor_order_id: id.clone(),
                    });
                }
            }
        }
        for duplicate in witness::duplicate_notes(&notes) {
            duplicate_notes.push(format!("{candidate}: {duplicate}"));
        }
    }
    report.equal(
        SCENARIO,
        "orders created (vendor simulators)",
        orders,
        events,
        "unique events",
    );
    report.zero(SCENARIO, "duplicate orders", duplicates);
    report.zero(SCENARIO, "events without an order", unordered);
    report.zero(
        SCENARIO,
        "write-backs lost (order's status not shown in Lever)",
        lost,
    );
    report.zero(
        SCENARIO,
        "duplicate notes (same creation time or status twice)",
        duplicate_notes.len(),
    );
    report.zero(
        SCENARIO,
        "candidates showing two Xref status tags",
        two_tags,
    );
    for duplicate in duplicate_notes {
        report.problem(format!("deliveries: duplicate note on {duplicate}"));
    }
    world.dead_letters(report, SCENARIO).await;
    placed.deliveries = moved.iter().filter_map(|m| m.body.clone()).collect();
    placed
}
