//! The main job on the real local AWS services the Lambdas use: DynamoDB Local for the
//! store (conditional writes, the by-vendor-order index) and moto's Secrets Manager for the
//! tenant secret. `tests/run` starts both and exports `AWS_ENDPOINT_URL_*`.

mod support;

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

/// Every row of the seed's status and score tables, on DynamoDB Local and moto: each case
/// is submitted (New), consented (In Progress) and then ends one way.
#[tokio::test]
async fn every_sterling_status_and_score_reaches_lever_notes_on_the_real_stores() {
    require_local_aws();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let stack = fixture::start(&format!("e2e-st-{id}"), &format!("e2e-st-{id}/tenants/"))
        .await
        .unwrap();
    let sterling = &stack.sterling;
    let endings: [(&str, Option<&str>); 5] = [
        ("Completed", Some("Green")),
        ("Completed", Some("Amber")),
        ("Completed", Some("Red")),
        ("Canceled", None),
        ("Error", None),
    ];
    for (n, (ending, score)) in endings.into_iter().enumerate() {
        let opportunity = format!("sterling-case-{n}");
        stack
            .lever
            .add_opportunity(lever_screening_local::sim::SimOpportunity {
                id: opportunity.clone(),
                name: format!("Candidate {n}"),
                emails: vec![format!("candidate{n}@example.com")],
                stage: demo::PHONE_SCREEN_STAGE_ID.into(),
                ..Default::default()
            });
        let sent = stack
            .lever
            .move_to_stage(&opportunity, demo::BACKGROUND_CHECK_STAGE_ID)
            .await
            .unwrap();
        assert_eq!(sent.status, 200, "{}", sent.response);
        let screening = sterling.screenings().last().unwrap().id.clone();
        sterling.set_status(&screening, "In Progress").unwrap();
        sterling.post_callback(&screening).await.unwrap();
        if n == 0 {
            // The piecemeal rows: one service done (Complete), one not (Not Started), the
            // case In Production; then Fulfilled once the case completes.
            sterling
                .complete_service(
                    &screening,
                    demo::STERLING_PACKAGE_SERVICES[0],
                    "Clear",
                    "https://sterling.example/c",
                )
                .unwrap();
            sterling.post_callback(&screening).await.unwrap();
            let services = services_note(&stack, &opportunity);
            assert!(services.contains("Status: In Production"), "{services}");
            assert!(services.contains(&format!(
                "{} | Complete | Clear",
                demo::STERLING_PACKAGE_SERVICES[0]
            )));
            assert!(services.contains(&format!(
                "{} | Not Started",
                demo::STERLING_PACKAGE_SERVICES[1]
            )));
        }
        match (ending, score) {
            ("Completed", Some(score)) => {
                sterling
                    .complete(&screening, score, "https://sterling.example/r")
                    .unwrap();
            }
            ("Error", _) => {
                sterling.set_error(&screening, "Screening expired").unwrap();
            }
            (status, _) => {
                sterling.set_status(&screening, status).unwrap();
            }
        }
        let last = sterling.post_callback(&screening).await.unwrap();
        assert_eq!(last.status, 200, "{}", last.response);

        let notes: Vec<String> = stack
            .lever
            .notes(&opportunity)
            .into_iter()
            .map(|n| n.value)
            .collect();
        let status_notes: Vec<&str> = notes
            .iter()
            .filter(|n| !n.contains("screening services"))
            .filter_map(|n| n.lines().find_map(|l| l.strip_prefix("Status: ")))
            .collect();
        assert_eq!(status_notes, ["New", "In Progress", ending], "{notes:#?}");
        let final_note = notes
            .iter()
            .find(|n| n.contains(&format!("Status: {ending}")))
            .unwrap();
        match score {
            Some(score) => assert!(
                final_note.contains(&format!("Score: {score}")),
                "{final_note}"
            ),
            None => assert!(!final_note.contains("Score:"), "{final_note}"),
        }
        if ending == "Completed" {
            assert!(services_note(&stack, &opportunity).contains("Status: Fulfilled"));
        }
        if ending == "Error" {
            assert!(
                final_note.contains("Error: Screening expired"),
                "{final_note}"
            );
        }
    }
}

fn services_note(stack: &lever_screening_local::stack::Stack, opportunity: &str) -> String {
    stack
        .lever
        .notes(opportunity)
        .into_iter()
        .map(|n| n.value)
        .find(|n| n.contains("screening services"))
        .unwrap_or_default()
}

#[tokio::test]
async fn concurrent_lambdas_refresh_an_expired_oauth_token_once_through_a_dynamodb_lease() {
    require_local_aws();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let table = format!("e2e-oauth-{}", uuid::Uuid::new_v4().simple());
    lever_screening::store::dynamodb::create_table(&dynamo, &table)
        .await
        .unwrap();
    let stack =
        lever_screening_local::stack::Stack::start(lever_screening_local::stack::StackOptions {
            store: std::sync::Arc::new(lever_screening::store::dynamodb::DynamoStore::new(
                dynamo, table,
            )),
            ..lever_screening_local::stack::StackOptions::embedded()
        })
        .await
        .unwrap();
    let (status, page) = support::connect_oauth_tenant(&stack, &reqwest::Client::new()).await;
    assert_eq!(status, 200, "{page}");
    support::refresh_once_under_concurrency(&stack).await;
}
