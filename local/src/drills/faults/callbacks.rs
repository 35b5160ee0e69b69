//! Scenario `callbacks`: the vendors report on orders, their callbacks arriving out of
//! order, repeated, some at once — while Lever still fails half its calls. Statuses apply
//! forward only, so what the product stores and what Lever shows must end at the furthest
//! status each order reached, whatever the order of arrival.
//!
//! - Xref (signed Standard Webhooks callbacks, applied as they say): "Referees nominated",
//!   "References in progress" and "Completed" in a random order, with the older "Candidate
//!   submitted" and repeats (new messages, and the same message again) mixed in. Lever must
//!   show the one tag "Xref - Completed".
//! - Sterling (unsigned callbacks, only a hint: the worker re-reads the screening): the case
//!   moves to In Progress, then Completed, while callbacks carrying the screening as it was
//!   at each step (stale ones included) arrive in random order. Lever's newest status note
//!   must say Completed, and the product's order too.
//!
//! Most orders are the `deliveries` scenario's, settled. Others are placed now, and their
//! callbacks start as soon as the vendor has the order: they race the product recording
//! the order (its answer may have been lost) and writing its first status to Lever. The
//! vendors resend a callback until it is answered 2xx, as Standard Webhooks senders and
//! Sterling do.

use super::deliveries::{Placed, PlacedOrder};
use super::report::{Report, Value};
use super::rng::Rng;
use super::witness::{self, VendorOrders};
use super::world::{bounded, pause, Tally, World};
use super::{DrillError, Options, Size};
use crate::demo_tenant as demo;
use lever_screening::vendors::VendorId;
use lever_screening_simulators::{SentCallback, SterlingCallback};
use serde_json::Value as Json;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

const SCENARIO: &str = "callbacks";
const XREF_STEPS: [&str; 3] = ["Referees nominated", "References in progress", "Completed"];
const XREF_FIRST: &str = "Candidate submitted";
const FURTHEST: &str = "Completed";
/// How many orders are driven at once.
const CONCURRENCY: usize = 8;
/// How often a vendor sends one callback, the first included (about ten seconds in all).
const CALLBACK_ATTEMPTS: usize = 25;
/// Longest an early order may take to reach its vendor.
const PLACEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// One order's callbacks, as sent.
struct Drive {
    sterling: bool,
    /// The order, for orders placed by this scenario (once the vendor had it).
    early: Option<PlacedOrder>,
    tally: Tally,
    /// Callbacks still not answered 2xx after every resend.
    unacknowledged: usize,
    problem: Option<String>,
}

impl Drive {
    fn new(sterling: bool) -> Self {
        Drive {
            sterling,
            early: None,
            tally: Tally::default(),
            unacknowledged: 0,
            problem: None,
        }
    }

    fn add(&mut self, (acknowledged, tally): (bool, Tally)) {
        self.tally.merge(&tally);
        if !acknowledged {
            self.unacknowledged += 1;
        }
    }
}

pub async fn run(
    world: &Arc<World>,
    _options: &Options,
    placed: &Placed,
    report: &mut Report,
) -> Result<(), DrillError> {
    let (xref_count, sterling_count, early_xref, early_sterling) = match world.size {
        Size::Small => (8, 4, 8, 2),
        Size::Full => (80, 25, 30, 10),
    };
    let mut rng = world.rng();
    let late: Vec<(PlacedOrder, bool)> = placed
        .xref
        .iter()
        .take(xref_count)
        .map(|o| (o.clone(), false))
        .chain(
            placed
                .sterling
                .iter()
                .take(sterling_count)
                .map(|o| (o.clone(), true)),
        )
        .collect();
    let early: Vec<(String, bool)> = (0..early_xref + early_sterling)
        .map(|i| (format!("fc-{i:04}"), i >= early_xref))
        .collect();
    for (i, (candidate, _)) in early.iter().enumerate() {
        world.add_candidate(candidate, i, demo::PHONE_SCREEN_STAGE_ID);
    }
    let gate = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut drives = JoinSet::new();
    for (order, sterling) in late.iter().cloned() {
        let world = Arc::clone(world);
        let gate = Arc::clone(&gate);
        let rng = rng.fork();
        drives.spawn(async move {
            let _permit = gate.acquire_owned().await;
            drive(&world, order, sterling, rng).await
        });
    }
    for (candidate, sterling) in early.iter().cloned() {
        let world = Arc::clone(world);
        let rng = rng.fork();
        drives.spawn(async move { drive_early(world, candidate, sterling, rng).await });
    }
    let mut done = Vec::new();
    while let Some(drive) = drives.join_next().await {
        done.push(drive?);
    }
    world.settle(report, SCENARIO).await;
    let mut orders: Vec<(PlacedOrder, bool)> = late;
    orders.extend(
        done.iter()
            .filter_map(|d| d.early.clone().map(|o| (o, d.sterling))),
    );
    measure(world, &orders, &early, &done, report).await;
    Ok(())
}

/// Places an order for `candidate` and reports on it as soon as its vendor has it.
async fn drive_early(world: Arc<World>, candidate: String, sterling: bool, rng: Rng) -> Drive {
    let mut failed = Drive::new(sterling);
    let (vendor, stage) = if sterling {
        (VendorId::Sterling, demo::BACKGROUND_CHECK_STAGE_ID)
    } else {
        (VendorId::Xref, demo::REFERENCE_CHECK_STAGE_ID)
    };
    let Some(sent) = bounded(world.stack.lever.move_to_stage(&candidate, stage)).await else {
        failed.problem = Some(format!("callbacks: Lever could not move {candidate}"));
        return failed;
    };
    if !(200..300).contains(&sent.status) {
        // Lever resends it; the deliveries scenario counts those answers.
        let mut tally = Tally::default();
        world.deliver(&sent.body, &mut tally).await;
    }
    let order_id = world.stage_entry_order(&candidate, vendor, stage);
    let until = tokio::time::Instant::now() + PLACEMENT_TIMEOUT;
    let vendor_order_id = loop {
        let found = VendorOrders::read(&world.stack).of(&candidate);
        let id = if sterling {
            found.sterling.first().cloned()
        } else {
            found.xref.first().cloned()
        };
        if let Some(id) = id {
            break id;
        }
        if tokio::time::Instant::now() >= until {
            failed.problem = Some(format!(
                "callbacks: {candidate}'s order did not reach {vendor} within a minute"
            ));
            return failed;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let order = PlacedOrder {
        candidate,
        order_id,
        vendor_order_id,
    };
    let mut drive = drive(&world, order.clone(), sterling, rng).await;
    drive.early = Some(order);
    drive
}

async fn drive(world: &Arc<World>, order: PlacedOrder, sterling: bool, rng: Rng) -> Drive {
    if sterling {
        drive_sterling(world, &order.vendor_order_id, rng).await
    } else {
        drive_xref(world, &order.vendor_order_id, rng).await
    }
}

/// Posts Xref's callbacks for one order in a random order, with repeats.
async fn drive_xref(world: &Arc<World>, id: &str, mut rng: Rng) -> Drive {
    let mut statuses: Vec<&'static str> = XREF_STEPS.to_vec();
    if rng.chance(0.7) {
        statuses.push(XREF_FIRST);
    }
    if rng.chance(0.5) {
        if let Some(again) = rng.pick(&XREF_STEPS) {
            statuses.push(again);
        }
    }
    rng.shuffle(&mut statuses);
    let mut drive = Drive::new(false);
    let mut sent: Vec<SentCallback> = Vec::new();
    if rng.chance(0.4) {
        let mut posts = JoinSet::new();
        for status in statuses {
            let world = Arc::clone(world);
            let id = id.to_owned();
            posts.spawn(async move { xref_post(&world, &id, status).await });
        }
        while let Some(Ok((posted, outcome))) = posts.join_next().await {
            drive.add(outcome);
            sent.extend(posted);
        }
    } else {
        for status in statuses {
            let (posted, outcome) = xref_post(world, id, status).await;
            drive.add(outcome);
            sent.extend(posted);
            tokio::time::sleep(Duration::from_millis(rng.below(30) as u64)).await;
        }
    }
    // The vendor's own retry of a message already delivered: same webhook-id.
    if rng.chance(0.6) {
        if let Some(again) = rng.pick(&sent).cloned() {
            drive.add(xref_resend(world, &again, 0).await);
        }
    }
    drive
}

/// Xref reports `status` (a new message), resending it until it is acknowledged.
async fn xref_post(world: &World, id: &str, status: &str) -> (Option<SentCallback>, (bool, Tally)) {
    let mut tally = Tally::default();
    let Some(first) = bounded(world.stack.xref.post_status(id, status, None)).await else {
        tally.record_callback(None);
        return (None, (false, tally));
    };
    if !tally.record_callback(Some(&(first.status, first.response.clone()))) {
        return (Some(first), (true, tally));
    }
    let (acknowledged, more) = xref_resend(world, &first, 1).await;
    tally.merge(&more);
    (Some(first), (acknowledged, tally))
}

/// Sends `sent` again (same webhook-id) until it is acknowledged; `already` attempts made.
async fn xref_resend(world: &World, sent: &SentCallback, already: usize) -> (bool, Tally) {
    let mut tally = Tally::default();
    for attempt in already..CALLBACK_ATTEMPTS {
        if attempt > 0 {
            pause(attempt).await;
        }
        let answer = bounded(world.stack.xref.resend(sent)).await;
        if !tally.record_callback(answer.map(|a| (a.status, a.response)).as_ref()) {
            return (true, tally);
        }
    }
    (false, tally)
}

/// Moves one Sterling case forward while its callbacks, stale ones included, arrive in a
/// random order.
async fn drive_sterling(world: &Arc<World>, id: &str, mut rng: Rng) -> Drive {
    let sterling = &world.stack.sterling;
    let mut drive = Drive::new(true);
    let snapshot = |id: &str| sterling.screening(id).map(|s| s.to_json());
    let Some(initiated) = snapshot(id) else {
        drive.problem = Some(format!("callbacks: Sterling has no screening {id}"));
        return drive;
    };
    let mut payloads = vec![initiated];
    let steps: [fn(&World, &str) -> bool; 2] = [
        |world, id| world.stack.sterling.set_status(id, "In Progress").is_ok(),
        |world, id| {
            world
                .stack
                .sterling
                .complete(
                    id,
                    "Green",
                    &format!("https://sterling.example/reports/{id}"),
                )
                .is_ok()
        },
    ];
    let mut sent: Vec<SterlingCallback> = Vec::new();
    for step in steps {
        if !step(world, id) {
            drive.problem = Some(format!("callbacks: Sterling could not move {id} on"));
            break;
        }
        if let Some(now) = snapshot(id) {
            payloads.push(now);
        }
        // This step's callback, and stale ones of earlier steps, in a random order.
        let mut posts: Vec<Json> = payloads.clone();
        if rng.chance(0.5) {
            if let Some(again) = rng.pick(&payloads).cloned() {
                posts.push(again);
            }
        }
        rng.shuffle(&mut posts);
        if rng.chance(0.5) {
            let mut at_once = JoinSet::new();
            for payload in posts {
                let world = Arc::clone(world);
                let id = id.to_owned();
                at_once.spawn(async move { sterling_post(&world, &id, payload).await });
            }
            while let Some(Ok((posted, outcome))) = at_once.join_next().await {
                drive.add(outcome);
                sent.extend(posted);
            }
        } else {
            for payload in posts {
                let (posted, outcome) = sterling_post(world, id, payload).await;
                drive.add(outcome);
                sent.extend(posted);
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.below(60) as u64)).await;
    }
    // Sterling's 15-minute retry of a callback it already delivered: the same body.
    if let Some(again) = rng.pick(&sent).cloned() {
        drive.add(sterling_resend(world, &again, 0).await);
    }
    drive
}

async fn sterling_post(
    world: &World,
    id: &str,
    payload: Json,
) -> (Option<SterlingCallback>, (bool, Tally)) {
    let mut tally = Tally::default();
    let Some(first) = bounded(world.stack.sterling.post_callback_with(id, payload)).await else {
        tally.record_callback(None);
        return (None, (false, tally));
    };
    if !tally.record_callback(Some(&(first.status, first.response.clone()))) {
        return (Some(first), (true, tally));
    }
    let (acknowledged, more) = sterling_resend(world, &first, 1).await;
    tally.merge(&more);
    (Some(first), (acknowledged, tally))
}

async fn sterling_resend(world: &World, sent: &SterlingCallback, already: usize) -> (bool, Tally) {
    let mut tally = Tally::default();
    for attempt in already..CALLBACK_ATTEMPTS {
        if attempt > 0 {
            pause(attempt).await;
        }
        let answer = bounded(world.stack.sterling.resend(sent)).await;
        if !tally.record_callback(answer.map(|a| (a.status, a.response)).as_ref()) {
            return (true, tally);
        }
    }
    (false, tally)
}

async fn measure(
    world: &World,
    orders: &[(PlacedOrder, bool)],
    early: &[(String, bool)],
    drives: &[Drive],
    report: &mut Report,
) {
    let mut tally = Tally::default();
    let mut unacknowledged = 0;
    for drive in drives {
        tally.merge(&drive.tally);
        unacknowledged += drive.unacknowledged;
        if let Some(problem) = &drive.problem {
            report.problem(problem.clone());
        }
    }
    let sterling_orders = orders.iter().filter(|(_, sterling)| *sterling).count();
    report.info(
        SCENARIO,
        format!(
            "orders reported on (Xref {}, Sterling {sterling_orders})",
            orders.len() - sterling_orders
        ),
        Value::count(orders.len()),
    );
    report.info(
        SCENARIO,
        "… of which placed now, callbacks racing the placement",
        Value::count(drives.iter().filter(|d| d.early.is_some()).count()),
    );
    report.info(
        SCENARIO,
        "callbacks posted (permuted, repeated, resent)",
        Value::count(tally.sent()),
    );
    report.info(
        SCENARIO,
        "answered applied / unchanged / duplicate / queued",
        Value::count(
            tally.get("200 applied")
                + tally.get("200 unchanged")
                + tally.get("200 duplicate")
                + tally.get("202 queued")
                + tally.get("200 received"),
        ),
    );
    report.info(
        SCENARIO,
        "answered 404 or 409 first (order not recorded yet, or busy), then resent",
        Value::count(tally.count(|s| s == 404 || s == 409)),
    );
    let failed = tally.count(|s| s >= 500) + tally.unanswered();
    report.zero(SCENARIO, "callbacks answered 5xx or unanswered", failed);
    report.zero(
        SCENARIO,
        "callbacks never acknowledged after the vendor's resends",
        unacknowledged,
    );
    if failed + unacknowledged > 0 {
        report.problem(format!("callbacks: answers {}", tally.summary()));
    }

    let vendors = VendorOrders::read(&world.stack);
    let early_duplicates: usize = early
        .iter()
        .map(|(candidate, _)| vendors.of(candidate).total().saturating_sub(1))
        .sum();
    report.zero(SCENARIO, "duplicate orders", early_duplicates);
    let store = world.stack.app.store();
    let mut behind_in_product = 0;
    let mut behind_in_lever = 0;
    let mut regressed = 0;
    let mut duplicates = Vec::new();
    for (order, sterling) in orders {
        let candidate = &order.candidate;
        let stored = store
            .get_order(&order.order_id)
            .await
            .ok()
            .flatten()
            .and_then(|o| o.status().map(str::to_owned));
        let notes = world.stack.lever.notes(candidate);
        let tags = world
            .stack
            .lever
            .opportunity(candidate)
            .map(|o| o.tags)
            .unwrap_or_default();
        let shown = if *sterling {
            witness::sterling_statuses(&notes).last().cloned()
        } else {
            match witness::xref_tags(&tags).as_slice() {
                [one] => one
                    .strip_prefix(witness::XREF_TAG_PREFIX)
                    .map(str::to_owned),
                _ => None,
            }
        };
        let product_behind = stored.as_deref() != Some(FURTHEST);
        let lever_behind = shown.as_deref() != Some(FURTHEST);
        behind_in_product += usize::from(product_behind);
        behind_in_lever += usize::from(lever_behind);
        if product_behind || lever_behind {
            regressed += 1;
            let what = if *sterling {
                format!("status notes {:?}", witness::sterling_statuses(&notes))
            } else {
                format!("tags {tags:?}")
            };
            report.problem(format!(
                "callbacks: {candidate} ({}) ends at {stored:?} in the product; Lever shows {what}",
                order.vendor_order_id
            ));
        }
        for duplicate in witness::duplicate_notes(&notes) {
            duplicates.push(format!("{candidate}: {duplicate}"));
        }
    }
    report.zero(
        SCENARIO,
        "status regressions (product or Lever not at the furthest status)",
        regressed,
    );
    report.info(
        SCENARIO,
        "… of which the product's stored status",
        Value::count(behind_in_product),
    );
    report.info(
        SCENARIO,
        "… of which what Lever shows",
        Value::count(behind_in_lever),
    );
    report.zero(SCENARIO, "duplicate notes", duplicates.len());
    for duplicate in duplicates {
        report.problem(format!("callbacks: duplicate note on {duplicate}"));
    }
    world.dead_letters(report, SCENARIO).await;
}
