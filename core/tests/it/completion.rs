//! Moving the candidate on when a screening completes (optional per integration): once, only
//! for the configured results, never backwards, never an archived candidate.

use crate::support::{World, ADA, BGC, PREHIRE, REFCHECK};
use lever_screening::tenant::{OnCompletion, StageRef};
use lever_screening::vendors::VendorId;
use serde_json::{json, Value};

/// Xref moves the candidate on to 'Background Check' (by name) on completion, for `results`.
async fn moving_on(results: &[&str]) -> World {
    let world = World::new().await;
    world
        .configure(|config| {
            config
                .vendors
                .get_mut(&VendorId::Xref)
                .unwrap()
                .on_completion = Some(OnCompletion {
                move_to_stage: StageRef::by_name("background check"),
                when_results: results.iter().map(|r| (*r).to_owned()).collect(),
            });
        })
        .await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    world
}

async fn report(world: &World, body: Value) {
    world.callback(VendorId::Xref, body).await.unwrap();
    world.run_worker().await;
}

fn stage_moves(world: &World) -> usize {
    world
        .lever
        .calls()
        .iter()
        .filter(|c| *c == "PUT stage")
        .count()
}

#[tokio::test]
async fn a_completed_screening_moves_the_candidate_on_once() {
    let world = moving_on(&[]).await;
    let id = world.xref.orders()[0].id.clone();
    report(
        &world,
        json!({ "id": id, "status": "References in progress" }),
    )
    .await;
    assert_eq!(
        world.lever.stage(ADA).as_deref(),
        Some(REFCHECK),
        "not yet complete"
    );
    report(&world, json!({ "id": id, "status": "Completed" })).await;
    assert_eq!(world.lever.stage(ADA).as_deref(), Some(BGC));
    report(
        &world,
        json!({ "id": id, "status": "Completed", "report_url": "https://x/r" }),
    )
    .await;
    assert_eq!(
        stage_moves(&world),
        1,
        "moved once, however often it is synced"
    );
}

#[tokio::test]
async fn only_the_configured_results_move_the_candidate() {
    let world = moving_on(&["Clear"]).await;
    let id = world.xref.orders()[0].id.clone();
    report(
        &world,
        json!({ "id": id, "status": "Completed", "result_code": "Review" }),
    )
    .await;
    assert_eq!(world.lever.stage(ADA).as_deref(), Some(REFCHECK));
    assert_eq!(stage_moves(&world), 0);
}

#[tokio::test]
async fn a_candidate_already_further_on_is_not_moved_back() {
    let world = moving_on(&[]).await;
    let id = world.xref.orders()[0].id.clone();
    world
        .lever
        .move_to(ADA, PREHIRE, lever_screening::clock::now_millis());
    report(&world, json!({ "id": id, "status": "Completed" })).await;
    assert_eq!(world.lever.stage(ADA).as_deref(), Some(PREHIRE));
    assert_eq!(stage_moves(&world), 0);
}

#[tokio::test]
async fn an_archived_candidate_is_not_moved() {
    let world = moving_on(&[]).await;
    let id = world.xref.orders()[0].id.clone();
    world.lever.archive(ADA);
    report(&world, json!({ "id": id, "status": "Completed" })).await;
    assert_eq!(world.lever.stage(ADA).as_deref(), Some(REFCHECK));
    assert_eq!(stage_moves(&world), 0);
}

#[tokio::test]
async fn without_a_rule_nothing_moves() {
    let world = World::new().await;
    world.stage_change(ADA, REFCHECK).await.unwrap();
    world.run_worker().await;
    let id = world.xref.orders()[0].id.clone();
    report(&world, json!({ "id": id, "status": "Completed" })).await;
    assert_eq!(world.lever.stage(ADA).as_deref(), Some(REFCHECK));
    assert_eq!(stage_moves(&world), 0);
}

#[tokio::test]
async fn a_configured_result_moves_the_candidate_whatever_its_case() {
    let world = moving_on(&["clear"]).await;
    let id = world.xref.orders()[0].id.clone();
    report(
        &world,
        json!({ "id": id, "status": "Completed", "result_code": "Clear" }),
    )
    .await;
    assert_eq!(world.lever.stage(ADA).as_deref(), Some(BGC));
}
