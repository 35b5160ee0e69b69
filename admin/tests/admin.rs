//! The operator's command, against the local stack (the simulators of Lever and the
//! vendors, the in-memory store and queue): what an operator types and reads.

use clap::Parser;
use lever_screening::ids::TenantId;
use lever_screening::vendors::VendorId;
use lever_screening::work::Work;
use lever_screening_admin::{run, AdminError, Cli};
use lever_screening_local::demo_tenant as demo;
use lever_screening_local::stack::{Stack, StackOptions};
use std::time::Duration;

async fn stack() -> Stack {
    Stack::start(StackOptions::embedded()).await.unwrap()
}

/// Runs `lever-screening-admin <args>` against the stack; its output, or its error.
async fn admin(stack: &Stack, args: &str) -> Result<String, AdminError> {
    let argv = std::iter::once("lever-screening-admin").chain(args.split_whitespace());
    let cli = Cli::try_parse_from(argv).map_err(|e| AdminError::Usage(e.to_string()))?;
    let mut out = Vec::new();
    run(cli, &stack.app, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn tenants_are_listed_with_each_integrations_state_as_a_table_or_json() {
    let stack = stack().await;
    let table = admin(&stack, "tenant list").await.unwrap();
    assert!(table.contains("2 tenant(s)"), "{table}");
    for expected in [
        "demo",
        "globex",
        "xref",
        "sterling",
        "justifacts",
        "api key",
        "connected",
    ] {
        assert!(table.contains(expected), "{expected} in\n{table}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&admin(&stack, "tenant list --json").await.unwrap()).unwrap();
    assert_eq!(json[0]["tenant"], "demo");
    assert_eq!(json[0]["integrations"][0]["credential"], "api key");
}

#[tokio::test]
async fn an_unknown_tenant_or_vendor_is_a_clear_usage_error() {
    let stack = stack().await;
    let error = admin(&stack, "tenant show nobody").await.unwrap_err();
    assert_eq!(error.to_string(), "no tenant nobody");
    assert_eq!(error.exit_code(), 2);
    let error = admin(&stack, "integration delete demo checkr")
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("unknown vendor checkr (one of xref, sterling"),
        "{error}"
    );
}

#[tokio::test]
async fn a_deleted_webhook_is_reported_then_re_created_with_its_token_stored() {
    let stack = stack().await;
    assert!(stack.lever.remove_webhook("candidateHired"));
    let check = admin(&stack, "webhooks check demo").await.unwrap();
    assert!(
        check.contains("candidateHired") && check.contains("Missing"),
        "{check}"
    );
    let registered = admin(&stack, "webhooks register demo").await.unwrap();
    assert!(
        registered.contains("candidateHired") && registered.contains("created"),
        "{registered}"
    );
    assert!(
        registered.contains("kept"),
        "the others were there: {registered}"
    );
    // Lever's delivery for the new webhook verifies with the token stored.
    let hired = stack.lever.hire(demo::OPPORTUNITY_ID).await.unwrap();
    assert_eq!(hired.status, 200, "{}", hired.response);
    let after = admin(&stack, "webhooks check demo").await.unwrap();
    assert!(!after.contains("Missing"), "{after}");
}

#[tokio::test]
async fn rotating_a_token_keeps_the_old_one_working_for_the_grace_period() {
    let stack = stack().await;
    let old = stack
        .lever
        .signed_delivery("candidateStageChange", serde_json::json!({}))
        .unwrap();
    let answer = admin(
        &stack,
        "webhooks rotate demo candidateStageChange --grace-hours 1",
    )
    .await
    .unwrap();
    assert!(answer.contains("the old one works 1 h more"), "{answer}");
    let url = format!("{}/lever/demo/candidate-stage-change", stack.functions_url);
    let sent = stack.lever.send_raw(&url, &old).await.unwrap();
    assert_eq!(
        sent.status, 200,
        "signed with the previous token: {}",
        sent.response
    );
    let new = stack
        .lever
        .send_test_delivery("candidateStageChange", "candidateStageChange")
        .await
        .unwrap();
    assert_eq!(
        new.status, 200,
        "signed with the new token: {}",
        new.response
    );
}

#[tokio::test]
async fn deleting_one_integration_leaves_the_shared_webhook_to_the_others() {
    let stack = stack().await;
    let answer = admin(&stack, "integration delete demo xref").await.unwrap();
    assert!(
        answer.contains("webhooks deleted in Lever: none"),
        "Sterling still needs them: {answer}"
    );
    assert!(stack
        .lever
        .webhooks()
        .iter()
        .any(|w| w.event == "candidateStageChange"));
    let show = admin(&stack, "tenant show demo --json").await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert!(json["config"]["vendors"].get("xref").is_none());
    assert!(json["config"]["vendors"].get("sterling").is_some());
}

#[tokio::test]
async fn a_revoked_key_is_replaced_and_the_integration_works_again() {
    let stack = stack().await;
    stack.lever.disable_api_key(demo::XREF_LEVER_KEY);
    stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert!(stack.settle(Duration::from_secs(10)).await);
    let list = admin(&stack, "tenant list").await.unwrap();
    assert!(list.contains("revoked"), "{list}");
    stack.lever.add_api_key("a-fresh-xref-key");
    let answer = admin(
        &stack,
        "tenant connect demo --vendor xref --api-key a-fresh-xref-key",
    )
    .await
    .unwrap();
    assert!(answer.contains("xref now use it"), "{answer}");
    let list = admin(&stack, "tenant list --json").await.unwrap();
    assert!(!list.contains("revoked"), "{list}");
    // Starts afresh: the move made while revoked was not replayed.
    assert!(stack.xref.orders().is_empty());
    stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::PHONE_SCREEN_STAGE_ID)
        .await
        .unwrap();
    stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert!(stack.settle(Duration::from_secs(10)).await);
    assert_eq!(stack.xref.orders().len(), 1);
}

#[tokio::test]
async fn orders_of_an_opportunity_show_status_and_what_lever_was_shown() {
    let stack = stack().await;
    stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert!(stack.settle(Duration::from_secs(10)).await);
    let table = admin(&stack, &format!("orders demo {}", demo::OPPORTUNITY_ID))
        .await
        .unwrap();
    assert!(table.contains("1 order(s)"), "{table}");
    assert!(
        table.contains("Candidate submitted") && table.contains("tag"),
        "{table}"
    );
}

#[tokio::test]
async fn dead_letters_are_listed_with_their_error_and_redriven() {
    let stack = stack().await;
    let doomed = Work::ReadVendorOrder {
        tenant: TenantId::parse(demo::TENANT).unwrap(),
        vendor: VendorId::Xref,
        vendor_order_id: "xref_404".into(),
    };
    stack.app.queue().send(&doomed).await.unwrap();
    assert!(stack.settle(Duration::from_secs(10)).await);
    let list = admin(&stack, "dlq list").await.unwrap();
    assert!(
        list.contains("1 dead letter(s)") && list.contains("xref_404"),
        "{list}"
    );
    assert!(
        list.contains("refused") || list.contains("404"),
        "the last error: {list}"
    );
    let status = admin(&stack, "status --json").await.unwrap();
    assert!(status.contains("\"dead\": 1"), "{status}");
    assert_eq!(
        admin(&stack, "dlq redrive").await.unwrap_err().exit_code(),
        2
    );
    let redriven = admin(&stack, "dlq redrive --all").await.unwrap();
    assert!(
        redriven.contains("1 dead letter(s) sent back"),
        "{redriven}"
    );
}

#[tokio::test]
async fn tenant_put_refuses_an_unusable_secret_and_resolves_stage_names() {
    let stack = stack().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tenant.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"tenant_id":"initech","lever_api_base":"{}/v1","vendors":{{"xref":{{"enabled":true,"api_base":"{}","trigger_stage":{{"name":"reference check"}}}}}}}}"#,
            stack.lever_url, stack.xref_url
        ),
    )
    .unwrap();
    let bad = dir.path().join("bad-secret.json");
    std::fs::write(
        &bad,
        r#"{"vendors":{"xref":{"lever":{"api_key":"demo-xref-lever-key"},"api_key":"k","callback_secret":{"current":"whsec_c2hvcnQ="}}}}"#,
    )
    .unwrap();
    let error = admin(
        &stack,
        &format!("tenant put {} --secret {}", config.display(), bad.display()),
    )
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("vendors.xref.callback_secret.current: decodes to 5 bytes"),
        "{error}"
    );
    assert_eq!(error.exit_code(), 2);
    let good = dir.path().join("secret.json");
    std::fs::write(
        &good,
        format!(
            r#"{{"vendors":{{"xref":{{"lever":{{"api_key":"demo-xref-lever-key"}},"api_key":"k","callback_secret":{{"current":"{}"}}}}}}}}"#,
            demo::XREF_CALLBACK_SECRET
        ),
    )
    .unwrap();
    let answer = admin(
        &stack,
        &format!(
            "tenant put {} --secret {}",
            config.display(),
            good.display()
        ),
    )
    .await
    .unwrap();
    assert_eq!(answer.trim(), "saved tenant initech");
    let json: serde_json::Value =
        serde_json::from_str(&admin(&stack, "tenant show initech --json").await.unwrap()).unwrap();
    assert_eq!(
        json["config"]["vendors"]["xref"]["trigger_stage"]["id"],
        demo::REFERENCE_CHECK_STAGE_ID,
        "resolved through Lever's stage list"
    );
}

#[tokio::test]
async fn console_invite_prints_a_single_use_link_to_the_tenants_console() {
    let stack = stack().await;
    let out = admin(&stack, "console invite demo").await.unwrap();
    assert!(out.contains("once, within 24 hours"), "{out}");
    let link = out
        .lines()
        .find(|line| line.contains("/console/invite/"))
        .unwrap()
        .trim();
    let token = link
        .strip_prefix(&format!("{}/console/invite/", stack.functions_url))
        .unwrap_or_else(|| panic!("{link}"));
    assert_eq!(token.len(), 64, "{link}");
    let store = stack.app.store().as_ref();
    let now = lever_screening::clock::now_millis();
    let session = lever_screening::console::session::redeem(store, token, now)
        .await
        .unwrap()
        .expect("the link signs in");
    assert_eq!(session.tenant.as_str(), "demo");
    assert!(lever_screening::console::session::redeem(store, token, now)
        .await
        .unwrap()
        .is_none());
    let json: serde_json::Value =
        serde_json::from_str(&admin(&stack, "--json console invite demo").await.unwrap()).unwrap();
    assert!(json["link"].as_str().unwrap().contains("/console/invite/"));
    let error = admin(&stack, "console invite nobody").await.unwrap_err();
    assert_eq!(error.to_string(), "no tenant nobody");
}
