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
//! only a hint to re-read the screening, so no order may move. Likewise Checkr webhooks
//! saying the report of an invitation still pending came back clear: signed with another
//! key, they are refused; signed with the account's own key (a replay, or a sender that is
//! wrong), they are only a hint to re-read the invitation, so no order may move either.

use super::deliveries::{Placed, PlacedOrder};
use super::report::{Report, Value};
use super::witness::{self, VendorOrders};
use super::world::{bounded, stage_change, Tally, World};
use super::{DrillError, Options, Size};
use crate::demo_tenant as demo;
use lever_screening::callback_auth;
use lever_screening::vendors::{checkr, VendorId};
use secrecy::SecretString;
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
            .and_then(|o| o.status().map(str::to_owned));
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
    checkr(world, report).await;
    world.dead_letters(report, SCENARIO).await;
    Ok(())
}

/// Checkr orders placed now (their invitations stay pending), then for each two webhooks
/// saying its report came back clear: one signed with another key, one with the account's.
async fn checkr(world: &Arc<World>, report: &mut Report) {
    let count = match world.size {
        Size::Small => 2,
        Size::Full => 8,
    };
    let lever = &world.stack.lever;
    let candidates: Vec<String> = (0..count).map(|i| format!("fk-{i:04}")).collect();
    for (i, candidate) in candidates.iter().enumerate() {
        world.add_candidate_on(
            candidate,
            i,
            demo::PHONE_SCREEN_STAGE_ID,
            demo::CHECKR_POSTING_ID,
            "Boston, MA",
        );
        bounded(lever.move_to_stage(candidate, demo::PRE_HIRE_SCREENING_STAGE_ID)).await;
    }
    world.settle(report, SCENARIO).await;
    let checkr = &world.stack.checkr;
    let url = format!(
        "{}/callbacks/checkr/{}",
        world.stack.functions_url,
        demo::TENANT
    );
    let keys = [
        SecretString::from("a-key-that-is-not-the-accounts"),
        SecretString::from(demo::CHECKR_API_KEY),
    ];
    let (mut forged, mut accepted, mut hints) = (0, 0, 0);
    let mut invitations = Vec::new();
    for candidate in &candidates {
        let email = super::world::email(candidate);
        let Some(candidate_id) = checkr
            .candidates()
            .into_iter()
            .find(|c| c.email == email)
            .map(|c| c.id)
        else {
            report.problem(format!("forged: no Checkr candidate for {candidate}"));
            continue;
        };
        let Some(invitation) = checkr
            .invitations()
            .into_iter()
            .find(|i| i.candidate_id == candidate_id)
        else {
            report.problem(format!("forged: no Checkr invitation for {candidate}"));
            continue;
        };
        let body = json!({
            "id": format!("evt_forged_{}", invitation.id),
            "object": "event",
            "type": "report.completed",
            "data": {"object": {
                "id": format!("rpt_forged_{}", invitation.id),
                "object": "report",
                "status": "complete",
                "result": "clear",
                "tags": invitation.tags,
            }},
        })
        .to_string();
        for (n, key) in keys.iter().enumerate() {
            let sent = bounded(
                world
                    .http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(
                        checkr::SIGNATURE_HEADER,
                        callback_auth::sign_hex_hmac(key, body.as_bytes()).unwrap_or_default(),
                    )
                    .body(body.clone())
                    .send(),
            )
            .await;
            let status = sent.as_ref().map_or(0, |r| r.status().as_u16());
            if n == 0 {
                forged += 1;
                if status != 401 {
                    accepted += 1;
                    report.problem(format!(
                        "forged: a Checkr webhook signed with another key was answered {status}"
                    ));
                }
            } else {
                hints += 1;
                if status != 200 {
                    report.problem(format!(
                        "forged: a Checkr webhook signed with the account's key was answered {status}, not 200 (a hint to re-read)"
                    ));
                }
            }
        }
        invitations.push((candidate.clone(), invitation.id));
    }
    world.settle(report, SCENARIO).await;
    let mut moved = 0;
    for (candidate, invitation) in &invitations {
        let stored = world
            .stack
            .app
            .store()
            .find_by_vendor_order(VendorId::Checkr, invitation)
            .await
            .ok()
            .flatten()
            .and_then(|o| o.status().map(str::to_owned));
        let tags = lever
            .opportunity(candidate)
            .map(|o| o.tags)
            .unwrap_or_default();
        if stored.as_deref() != Some("Invitation Pending") || tags != ["Invitation Pending"] {
            moved += 1;
            report.problem(format!(
                "forged: a forged Checkr webhook moved {candidate} ({invitation}): product {stored:?}, Lever {tags:?}"
            ));
        }
    }
    report.info(
        SCENARIO,
        "Checkr webhooks signed with another key",
        Value::count(forged),
    );
    report.zero(SCENARIO, "of them accepted", accepted);
    report.info(
        SCENARIO,
        "Checkr webhooks signed with the account's key, saying a pending invitation's report is clear",
        Value::count(hints),
    );
    report.zero(SCENARIO, "Checkr orders moved by them", moved);
}
