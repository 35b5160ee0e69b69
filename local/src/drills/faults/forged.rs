//! Scenario `forged`: signed deliveries replayed with forged `data` naming candidates who
//! never left Phone Screen. Lever signs only `token + triggeredAt`, so a captured delivery
//! keeps a valid signature whatever `data` says. Three captures:
//! - a connection test ("Verify connection", `data: {}`) that reached the product, replayed
//!   with data: its token was claimed by the test;
//! - a connection test captured on its way and never delivered, replayed with data: it
//!   passes intake, and the worker's check through Lever's API finds no such move;
//! - a real delivery of the `deliveries` scenario, replayed with another candidate's data.
//!
//! No order may come of any of them, and nothing may be written to those candidates in Lever.
//!
//! And Sterling callbacks (unsigned: the secret in the URL is all that authenticates them)
//! with a forged payload saying a case that has just started is Completed: a callback is
//! only a hint to re-read the screening, so no order may move.

use super::deliveries::{Placed, PlacedOrder};
use super::report::{Report, Value};
use super::witness::{self, VendorOrders};
use super::world::{bounded, stage_change, Tally, World};
use super::{DrillError, Options, Size};
use crate::demo_tenant as demo;
use serde_json::{json, Value as Json};
use std::sync::Arc;

const SCENARIO: &str = "forged";
const EVENT: &str = "candidateStageChange";

pub async fn run(
    world: &Arc<World>,
    _options: &Options,
    placed: Option<&Placed>,
    report: &mut Report,
) -> Result<(), DrillError> {
    let count = match world.size {
        Size::Small => 9,
        Size::Full => 45,
    };
    let lever = &world.stack.lever;
    let real: &[Json] = placed.map(|p| p.deliveries.as_slice()).unwrap_or_default();
    let mut tests = Tally::default();
    let mut replays = Tally::default();
    let mut targets = Vec::new();
    for i in 0..count {
        let candidate = format!("ff-{i:04}");
        world.add_candidate(&candidate, i, demo::PHONE_SCREEN_STAGE_ID);
        let stage = if i % 2 == 0 {
            demo::REFERENCE_CHECK_STAGE_ID
        } else {
            demo::BACKGROUND_CHECK_STAGE_ID
        };
        let captured = match i % 3 {
            0 => {
                let sent = bounded(lever.send_test_delivery(EVENT, EVENT)).await;
                let body = sent.as_ref().map(|s| s.body.clone());
                tests.record(sent.map(|s| (s.status, s.response)).as_ref());
                body
            }
            1 => lever.signed_delivery(EVENT, json!({})).ok(),
            _ => match real.get(i % real.len().max(1)) {
                Some(delivery) => Some(delivery.clone()),
                None => lever.signed_delivery(EVENT, json!({})).ok(),
            },
        };
        let Some(mut forged) = captured else {
            report.problem(format!("forged: no capture to forge for {candidate}"));
            continue;
        };
        forged["data"] = stage_change(&candidate, stage);
        world.deliver(&forged, &mut replays).await;
        targets.push(candidate);
    }
    // The last Sterling orders (the callbacks scenario reports on the first ones).
    let cases: Vec<PlacedOrder> = placed
        .map(|p| {
            let keep = match world.size {
                Size::Small => 2,
                Size::Full => 10,
            };
            p.sterling.iter().rev().take(keep).cloned().collect()
        })
        .unwrap_or_default();
    let mut hints = Tally::default();
    for case in &cases {
        let Some(mut payload) = world
            .stack
            .sterling
            .screening(&case.vendor_order_id)
            .map(|s| s.to_json())
        else {
            continue;
        };
        payload["status"] = json!("Completed");
        payload["score"] = json!("Green");
        payload["reportUrl"] = json!("https://attacker.example/report");
        let sent = bounded(
            world
                .stack
                .sterling
                .post_callback_with(&case.vendor_order_id, payload),
        )
        .await;
        hints.record(sent.map(|s| (s.status, s.response)).as_ref());
    }
    world.settle(report, SCENARIO).await;

    let vendors = VendorOrders::read(&world.stack);
    let (mut orders, mut writes, mut moved) = (0, 0, 0);
    for candidate in &targets {
        let found = vendors.of(candidate);
        if found.total() > 0 {
            report.problem(format!(
                "forged: a forged replay ordered for {candidate}: {found:?}"
            ));
        }
        orders += found.total();
        let notes = lever.notes(candidate).len();
        let opportunity = lever.opportunity(candidate);
        let tags = opportunity.as_ref().map_or(0, |o| o.tags.len());
        if notes + tags > 0 {
            report.problem(format!(
                "forged: Lever shows {notes} notes and {tags} tags on {candidate}"
            ));
        }
        writes += notes + tags;
        if opportunity.is_some_and(|o| o.stage != demo::PHONE_SCREEN_STAGE_ID) {
            moved += 1;
        }
    }
    report.info(
        SCENARIO,
        "connection tests acknowledged (then captured)",
        Value::count(tests.get("200 test")),
    );
    report.info(
        SCENARIO,
        "test-delivery and delivery replays with forged data",
        Value::count(replays.sent()),
    );
    report.info(
        SCENARIO,
        "refused at intake (token already used)",
        Value::count(replays.get("200 duplicate")),
    );
    report.info(
        SCENARIO,
        "queued, then not confirmed through Lever's API",
        Value::count(replays.get("202 queued")),
    );
    report.zero(SCENARIO, "orders created by forged replays", orders);
    report.zero(SCENARIO, "Lever writes on the forged candidates", writes);
    report.zero(SCENARIO, "forged candidates moved", moved);
    let mut advanced = 0;
    for case in &cases {
        let stored = world
            .stack
            .app
            .store()
            .get_order(&case.order_id)
            .await
            .ok()
            .flatten()
            .and_then(|o| o.status);
        let shown = witness::sterling_statuses(&lever.notes(&case.candidate));
        if stored.as_deref() != Some("Initiated") || shown != ["New"] {
            advanced += 1;
            report.problem(format!(
                "forged: a forged Sterling callback moved {} ({}): product {stored:?}, Lever {shown:?}",
                case.candidate, case.vendor_order_id
            ));
        }
    }
    report.info(
        SCENARIO,
        "Sterling callbacks with a forged payload (case said Completed)",
        Value::count(hints.sent()),
    );
    report.zero(SCENARIO, "Sterling cases moved by them", advanced);
    world.dead_letters(report, SCENARIO).await;
    Ok(())
}
