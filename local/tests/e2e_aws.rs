//! The main job on the real local AWS services the Lambdas use: DynamoDB Local for the
//! store (conditional writes, the by-vendor-order index) and moto's Secrets Manager for the
//! tenant secret. `tests/run` starts both and exports `AWS_ENDPOINT_URL_*`.

use lever_screening_local::demo_tenant as demo;
use lever_screening_local::fixture;
use serde_json::Value;

fn require_local_aws() {
    for name in [
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    ] {
        assert!(
            std::env::var(name).is_ok_and(|v| !v.is_empty()),
            "{name} is not set: run this through `tests/run`, which starts DynamoDB Local and moto_server"
        );
    }
}

#[tokio::test]
async fn reference_check_round_trip_on_dynamodb_and_secrets_manager() {
    require_local_aws();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let stack = fixture::start(&format!("e2e-{id}"), &format!("e2e-{id}/tenants/"))
        .await
        .unwrap();
    let lever = &stack.lever;

    let sent = lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    let replay = lever.send_raw(&sent_url(&stack), &sent.body).await.unwrap();
    let answer: Value = serde_json::from_str(&replay.response).unwrap();
    assert_eq!(answer["status"], "duplicate");
    let orders = stack.xref.orders();
    assert_eq!(orders.len(), 1);
    let tags = || lever.opportunity(demo::OPPORTUNITY_ID).unwrap().tags;
    assert_eq!(tags(), ["Xref - Candidate submitted"]);

    // The callback finds the order through the GSI.
    let callback = stack
        .xref
        .post_status(&orders[0].id, "References in progress", None)
        .await
        .unwrap();
    assert_eq!(callback.status, 200, "{}", callback.response);
    assert_eq!(tags(), ["Xref - References in progress"]);
    let late = stack
        .xref
        .post_status(&orders[0].id, "Referees nominated", None)
        .await
        .unwrap();
    assert_eq!(late.status, 200);
    assert_eq!(tags(), ["Xref - References in progress"], "never backwards");
}

fn sent_url(stack: &lever_screening_local::stack::Stack) -> String {
    format!(
        "{}/lever/{}/candidate-stage-change",
        stack.functions_url,
        demo::TENANT
    )
}
