//! Scenario `lifecycle`: candidates with an open Xref check, then signed lifecycle
//! deliveries Lever does not confirm, among real ones. Lever's signature covers only
//! `token + triggeredAt`, so each of these passes intake:
//! - a forged archive: `candidateArchiveChange` naming a candidate Lever shows active;
//! - a late archive: the candidate was archived (that delivery was lost) and restored; the
//!   archive's retry arrives after the unarchive;
//! - a forged delete: `candidateDeleted` naming a candidate Lever still has;
//! - and, as the control, real archives, which must cancel.
//!
//! Counted at the witnesses: Xref's cancellations and the orders' purge marks. No wrong
//! cancel, no wrong purge; every real archive cancels.

use super::report::{Report, Value};
use super::witness::VendorOrders;
use super::world::{bounded, stage_change, Tally, World};
use super::{DrillError, Size};
use crate::demo_tenant as demo;
use lever_screening::ids::OpportunityId;
use serde_json::json;
use std::sync::Arc;

const SCENARIO: &str = "lifecycle";
const ARCHIVE: &str = "candidateArchiveChange";
const DELETED: &str = "candidateDeleted";

/// What each candidate is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    ForgedArchive,
    LateArchive,
    ForgedDelete,
    RealArchive,
}

impl Case {
    fn of(index: usize) -> Case {
        [
            Case::ForgedArchive,
            Case::LateArchive,
            Case::ForgedDelete,
            Case::RealArchive,
        ][index % 4]
    }
}

pub async fn run(world: &Arc<World>, report: &mut Report) -> Result<(), DrillError> {
    let count = match world.size {
        Size::Small => 12,
        Size::Full => 48,
    };
    let lever = &world.stack.lever;
    let candidates: Vec<(String, Case)> = (0..count)
        .map(|i| (format!("lc-{i:04}"), Case::of(i)))
        .collect();
    // Every candidate gets an open Xref check, through its real stage change.
    let mut moves = Tally::default();
    for (i, (candidate, _)) in candidates.iter().enumerate() {
        world.add_candidate(candidate, i, demo::PHONE_SCREEN_STAGE_ID);
        let body = lever
            .signed_delivery(
                "candidateStageChange",
                stage_change(candidate, demo::REFERENCE_CHECK_STAGE_ID),
            )
            .ok();
        if bounded(lever.move_to_stage(candidate, demo::REFERENCE_CHECK_STAGE_ID))
            .await
            .is_none()
        {
            // Lever retries what was not acknowledged.
            if let Some(body) = body {
                world.deliver(&body, &mut moves).await;
            }
        }
    }
    world.settle(report, SCENARIO).await;
    let placed = VendorOrders::read(&world.stack);

    let Some(archive_webhook) = lever.webhooks().into_iter().find(|w| w.event == ARCHIVE) else {
        report.problem("lifecycle: the demo tenant has no archive webhook");
        return Ok(());
    };
    let Some(deleted_url) = lever
        .webhooks()
        .into_iter()
        .find(|w| w.event == DELETED)
        .map(|w| w.url)
    else {
        report.problem("lifecycle: the demo tenant has no delete webhook");
        return Ok(());
    };
    // The late archives: archived while the webhook was briefly gone (nothing delivered),
    // the delivery its retry will carry captured, then restored (delivered).
    lever.remove_webhook(ARCHIVE);
    let late: Vec<&String> = candidates
        .iter()
        .filter(|(_, case)| *case == Case::LateArchive)
        .map(|(candidate, _)| candidate)
        .collect();
    for candidate in &late {
        let _ = lever.archive(candidate).await;
    }
    lever.subscribe(
        ARCHIVE,
        archive_webhook.url.clone(),
        archive_webhook.signature_token.clone(),
    );
    let mut retries = Vec::new();
    for candidate in &late {
        let archived_at = lever.archived(candidate).map(|a| a.archived_at);
        if let Ok(body) = lever.signed_delivery(ARCHIVE, archived(candidate, archived_at)) {
            retries.push(body);
        }
        let _ = bounded(lever.unarchive(candidate)).await;
    }
    world.settle(report, SCENARIO).await;

    let mut sent = Tally::default();
    for body in &retries {
        world
            .deliver_to(&archive_webhook.url, body, &mut sent)
            .await;
    }
    for (candidate, case) in &candidates {
        match case {
            Case::ForgedArchive => {
                let now = Some(lever_screening::clock::now_millis());
                if let Ok(body) = lever.signed_delivery(ARCHIVE, archived(candidate, now)) {
                    world
                        .deliver_to(&archive_webhook.url, &body, &mut sent)
                        .await;
                }
            }
            Case::ForgedDelete => {
                let data = json!({ "opportunityId": candidate });
                if let Ok(body) = lever.signed_delivery(DELETED, data) {
                    world.deliver_to(&deleted_url, &body, &mut sent).await;
                }
            }
            Case::RealArchive => {
                if let Some(done) = bounded(lever.archive(candidate)).await {
                    if !(200..300).contains(&done.status) {
                        world
                            .deliver_to(&archive_webhook.url, &done.body, &mut sent)
                            .await;
                    }
                }
            }
            Case::LateArchive => {}
        }
    }
    world.settle(report, SCENARIO).await;

    let cancelled = world.stack.xref.cancelled();
    let store = world.stack.app.store();
    let (mut wrong_cancels, mut wrong_purges, mut missed, mut real) = (0, 0, 0, 0);
    for (candidate, case) in &candidates {
        let ours = placed.of(candidate).xref;
        if ours.is_empty() {
            report.problem(format!("lifecycle: {candidate} was never ordered"));
            continue;
        }
        let was_cancelled = ours.iter().any(|id| cancelled.contains(id));
        let purged = match OpportunityId::parse(candidate.as_str()) {
            Ok(id) => store
                .orders_for_opportunity(&world.tenant, &id)
                .await
                .map(|orders| orders.iter().any(|o| o.purged_at().is_some()))
                .unwrap_or(false),
            Err(_) => false,
        };
        if purged {
            wrong_purges += 1;
            report.problem(format!("lifecycle: {candidate}'s orders were purged"));
        }
        if *case == Case::RealArchive {
            real += 1;
            if !was_cancelled {
                missed += 1;
                report.problem(format!(
                    "lifecycle: {candidate}'s real archive cancelled nothing"
                ));
            }
        } else if was_cancelled {
            wrong_cancels += 1;
            report.problem(format!(
                "lifecycle: an unconfirmed delivery cancelled {candidate}'s check"
            ));
        }
    }
    let of = |case: Case| candidates.iter().filter(|(_, c)| *c == case).count();
    report.info(
        SCENARIO,
        "forged archives (candidate active in Lever)",
        Value::count(of(Case::ForgedArchive)),
    );
    report.info(
        SCENARIO,
        "late archives (retried after the unarchive)",
        Value::count(retries.len()),
    );
    report.info(
        SCENARIO,
        "forged deletes (candidate still in Lever)",
        Value::count(of(Case::ForgedDelete)),
    );
    report.info(
        SCENARIO,
        "lifecycle deliveries answered 202 (queued, then checked in Lever)",
        Value::count(sent.get("202 queued")),
    );
    report.zero(SCENARIO, "wrong cancels", wrong_cancels);
    report.zero(SCENARIO, "wrong purges", wrong_purges);
    report.equal(
        SCENARIO,
        "real archives that cancelled",
        real - missed,
        real,
        "real archives",
    );
    world.dead_letters(report, SCENARIO).await;
    Ok(())
}

/// A `candidateArchiveChange`'s `data`: `candidate` archived at `archived_at`.
fn archived(candidate: &str, archived_at: Option<i64>) -> serde_json::Value {
    json!({
        "opportunityId": candidate,
        "toArchived": { "archivedAt": archived_at, "reason": "withdrew" },
        "fromArchived": null,
    })
}
