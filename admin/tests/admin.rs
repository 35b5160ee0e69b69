//! The operator's command, against the local stack (the simulators of Lever and the
//! vendors, the in-memory store and queue): what an operator types and reads.

#[path = "admin/conformance.rs"]
mod conformance;

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

/// A recruiter moves the demo candidate into 'Reference Check'; the stack's worker settles.
async fn move_ada_into_reference_check(stack: &Stack) {
    stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert!(stack.settle(Duration::from_secs(10)).await);
}

/// Runs `lever-screening-admin <args>` against the stack; its output, or its error.
async fn admin(stack: &Stack, args: &str) -> Result<String, AdminError> {
    let args: Vec<&str> = args.split_whitespace().collect();
    admin_args(stack, &args).await
}

/// [`admin`] with the arguments as given (empty or with spaces), as a shell passes them.
async fn admin_args(stack: &Stack, args: &[&str]) -> Result<String, AdminError> {
    let (out, outcome) = admin_output(stack, args).await;
    outcome.map(|()| out)
}

/// What the command printed on stdout, and how it ended: a failing command may print too.
async fn admin_output(stack: &Stack, args: &[&str]) -> (String, Result<(), AdminError>) {
    let argv = std::iter::once("lever-screening-admin").chain(args.iter().copied());
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return (String::new(), Err(AdminError::Usage(e.to_string()))),
    };
    let mut out = Vec::new();
    let outcome = run(cli, &stack.app, &mut out).await;
    (String::from_utf8(out).unwrap(), outcome)
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
async fn what_the_safety_net_found_is_shown_in_tenant_list_and_status() {
    use lever_screening::clock::{now_millis, Deadline};
    use lever_screening::flows::safety_net;
    let stack = stack().await;
    let table = admin(&stack, "tenant list").await.unwrap();
    assert!(table.contains("not run yet"), "{table}");
    let worker = stack.app.worker(Deadline::after(Duration::from_secs(60)));
    let tenant_id = TenantId::parse(demo::TENANT).unwrap();
    let tenant = stack.app.tenants().tenant(&tenant_id).await.unwrap();
    let now = now_millis();
    safety_net::run(&worker, &tenant, now).await.unwrap();
    // The stage-change webhook is gone; a recruiter moves Ada all the same.
    assert!(stack.lever.remove_webhook("candidateStageChange"));
    let moved = stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await;
    assert!(moved.is_err(), "not delivered");
    safety_net::run(&worker, &tenant, now + 6 * 60_000)
        .await
        .unwrap();
    let table = admin(&stack, "tenant list").await.unwrap();
    assert!(
        table.contains("last run found 1 stage entry and 0 archives no webhook delivered"),
        "{table}"
    );
    let status: serde_json::Value =
        serde_json::from_str(&admin(&stack, "status --json").await.unwrap()).unwrap();
    assert_eq!(status["safety_net_found"], 1, "{status}");
}

#[tokio::test]
async fn an_unknown_tenant_fails_and_an_unknown_vendor_is_a_usage_error() {
    let stack = stack().await;
    let error = admin(&stack, "tenant show nobody").await.unwrap_err();
    assert_eq!(error.to_string(), "no tenant nobody");
    assert_eq!(error.exit_code(), 1, "failed, not wrong usage");
    let error = admin(&stack, "integration delete demo clearstar")
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("unknown vendor clearstar (one of xref, sterling"),
        "{error}"
    );
    assert_eq!(error.exit_code(), 2);
}

#[tokio::test]
async fn a_deleted_webhook_is_reported_then_re_created_with_its_token_stored() {
    let stack = stack().await;
    assert!(stack.lever.remove_webhook("candidateArchiveChange"));
    let check = admin(&stack, "webhooks check demo").await.unwrap();
    assert!(
        check.contains("candidateArchiveChange") && check.contains("Missing"),
        "{check}"
    );
    let registered = admin(&stack, "webhooks register demo").await.unwrap();
    assert!(
        registered.contains("candidateArchiveChange") && registered.contains("created"),
        "{registered}"
    );
    assert!(
        registered.contains("kept"),
        "the others were there: {registered}"
    );
    // Lever's delivery for the new webhook verifies with the token stored.
    let archived = stack.lever.archive(demo::OPPORTUNITY_ID).await.unwrap();
    assert!(
        (200..300).contains(&archived.status),
        "{}",
        archived.response
    );
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
    move_ada_into_reference_check(&stack).await;
    let list = admin(&stack, "tenant list").await.unwrap();
    assert!(list.contains("revoked"), "{list}");
    stack.lever.add_api_key("a-fresh-xref-key");
    let answer = admin(
        &stack,
        "tenant connect demo --vendor xref --api-key a-fresh-xref-key",
    )
    .await
    .unwrap();
    assert!(answer.ends_with("xref now uses it\n"), "{answer}");
    let list = admin(&stack, "tenant list --json").await.unwrap();
    assert!(!list.contains("revoked"), "{list}");
    // Starts afresh: the move made while revoked was not replayed.
    assert!(stack.xref.orders().is_empty());
    stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::PHONE_SCREEN_STAGE_ID)
        .await
        .unwrap();
    move_ada_into_reference_check(&stack).await;
    assert_eq!(stack.xref.orders().len(), 1);
}

#[tokio::test]
async fn orders_of_an_opportunity_show_status_and_what_lever_was_shown() {
    let stack = stack().await;
    move_ada_into_reference_check(&stack).await;
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
        delivery: None,
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
    assert_eq!(
        error.exit_code(),
        1,
        "refused, as every unusable configuration"
    );
    let secret_with = |name: &str, xref_key: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                r#"{{"vendors":{{"xref":{{"lever":{{"api_key":"demo-xref-lever-key"}},"api_key":"{xref_key}","callback_secret":{{"current":"{}"}}}}}}}}"#,
                demo::XREF_CALLBACK_SECRET
            ),
        )
        .unwrap();
        path
    };
    // A key Xref refuses is tried first and not stored.
    let wrong = secret_with("wrong.json", "not-the-xref-key");
    let put_wrong = format!(
        "tenant put {} --secret {}",
        config.display(),
        wrong.display()
    );
    let error = admin(&stack, &put_wrong).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("vendors.xref: Xref refused these credentials (HTTP 401"),
        "{error}"
    );
    assert_eq!(error.exit_code(), 1);
    assert!(
        admin(&stack, "tenant show initech").await.is_err(),
        "nothing stored"
    );
    let good = secret_with("secret.json", demo::XREF_API_KEY);
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

/// The ids of the webhooks the demo tenant's Lever account has.
fn webhook_ids(stack: &Stack) -> Vec<String> {
    let mut ids: Vec<_> = stack.lever.webhooks().into_iter().map(|w| w.id).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_rotation_grace_period_is_at_most_30_days() {
    let stack = stack().await;
    let before = webhook_ids(&stack);
    for hours in ["18446744073709551615", "721"] {
        let error = admin(
            &stack,
            &format!("webhooks rotate demo candidateStageChange --grace-hours {hours}"),
        )
        .await
        .unwrap_err();
        assert_eq!(error.exit_code(), 2, "{error}");
        assert!(error.to_string().contains("0..=720"), "{error}");
    }
    assert_eq!(webhook_ids(&stack), before, "nothing rotated");
    let help = admin(&stack, "webhooks rotate --help").await.unwrap_err();
    assert!(help.to_string().contains("0 to 720 (30 days)"), "{help}");
    let answer = admin(
        &stack,
        "webhooks rotate demo candidateStageChange --grace-hours 720",
    )
    .await
    .unwrap();
    assert!(answer.contains("the old one works 720 h more"), "{answer}");
}

#[tokio::test]
async fn tenant_connect_refuses_blank_or_huge_keys_and_integrations_the_tenant_lacks() {
    let stack = stack().await;
    let huge = "k".repeat(70 * 1024);
    for (key, expected) in [
        ("", "--api-key is empty"),
        ("   ", "--api-key is empty"),
        ("<the key>", "--api-key is a placeholder"),
        (huge.as_str(), "a Lever API key has at most 1024"),
    ] {
        let args = [
            "tenant",
            "connect",
            "demo",
            "--vendor",
            "xref",
            "--api-key",
            key,
        ];
        let error = admin_args(&stack, &args).await.unwrap_err();
        assert!(error.to_string().contains(expected), "{error}");
        assert_eq!(error.exit_code(), 2, "{error}");
    }
    for command in [
        "tenant connect demo --vendor esr --api-key a-key-for-nothing",
        "tenant connect demo --vendor esr --oauth",
    ] {
        let error = admin(&stack, command).await.unwrap_err();
        assert!(
            error.to_string().starts_with("demo has no esr integration"),
            "{command}: {error}"
        );
        assert_eq!(error.exit_code(), 1, "{command}");
    }
    let demo = TenantId::parse(demo::TENANT).unwrap();
    stack.app.tenants().invalidate(&demo);
    let tenant = stack.app.tenants().tenant(&demo).await.unwrap();
    assert!(
        tenant
            .secrets
            .vendor(VendorId::Esr)
            .is_none_or(|esr| esr.lever.is_none()),
        "nothing stored"
    );
    let (_, xref) = tenant.secrets.lever_credential(VendorId::Xref).unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(
        xref.api_key.as_ref().unwrap().expose_secret(),
        demo::XREF_LEVER_KEY
    );
}

/// `tenant put` with these documents, written to files.
async fn put(
    stack: &Stack,
    config: &serde_json::Value,
    secret: Option<&serde_json::Value>,
) -> Result<String, AdminError> {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("tenant.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let mut args = vec![
        "tenant".to_owned(),
        "put".to_owned(),
        config_path.display().to_string(),
    ];
    if let Some(secret) = secret {
        let secret_path = dir.path().join("secret.json");
        std::fs::write(&secret_path, secret.to_string()).unwrap();
        args.extend(["--secret".to_owned(), secret_path.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    admin_args(stack, &args).await
}

/// A configuration of tenant `initech` with one Xref integration, against the stack.
fn initech(stack: &Stack) -> serde_json::Value {
    serde_json::json!({
        "tenant_id": "initech",
        "lever_api_base": format!("{}/v1", stack.lever_url),
        "vendors": { "xref": {
            "enabled": true,
            "api_base": stack.xref_url,
            "trigger_stage": { "name": "reference check" }
        } }
    })
}

/// A usable secret for [`initech`], which Lever accepts.
fn initech_secret() -> serde_json::Value {
    serde_json::json!({ "vendors": { "xref": {
        "lever": { "api_key": demo::XREF_LEVER_KEY },
        "api_key": demo::XREF_API_KEY,
        "callback_secret": { "current": demo::XREF_CALLBACK_SECRET }
    } } })
}

#[tokio::test]
async fn tenant_put_refuses_configurations_that_cannot_work_naming_the_field() {
    let stack = stack().await;
    let secret = initech_secret();
    let cases: [(&str, serde_json::Value, &str); 8] = [
        (
            "/lever_api_base",
            "http://api.lever.co/v1".into(),
            "lever_api_base: must be an https:// URL",
        ),
        (
            "/lever_api_base",
            "api.lever.co".into(),
            "lever_api_base: is not an absolute URL",
        ),
        (
            "/vendors/xref/api_base",
            "http://api.xref.example/v1".into(),
            "vendors.xref.api_base: must be an https:// URL",
        ),
        (
            "/vendors/xref/trigger_stage",
            serde_json::Value::Null,
            "vendors.xref.trigger_stage: missing",
        ),
        (
            "/vendors/xref/trigger_stage",
            serde_json::json!({ "name": "Reference Chek" }),
            "vendors.xref.trigger_stage: Lever has no stage named \"Reference Chek\"",
        ),
        (
            "/vendors/xref/trigger_stage",
            serde_json::json!({ "id": "no-such-stage" }),
            "vendors.xref.trigger_stage: Lever has no stage with id \"no-such-stage\"",
        ),
        (
            "/vendors/xref/on_completion",
            serde_json::json!({ "move_to_stage": { "name": "Nowhere" } }),
            "vendors.xref.on_completion.move_to_stage: Lever has no stage named \"Nowhere\"",
        ),
        (
            "/vendors/xref/on_completion",
            serde_json::json!({ "move_to_stage": {} }),
            "vendors.xref.on_completion.move_to_stage: names no stage",
        ),
    ];
    for (pointer, value, expected) in cases {
        let mut config = initech(&stack);
        config["vendors"]["xref"]["on_completion"] = serde_json::Value::Null;
        *config.pointer_mut(pointer).unwrap() = value;
        let error = put(&stack, &config, Some(&secret)).await.unwrap_err();
        assert!(
            error.to_string().contains(expected),
            "{expected} in {error}"
        );
        assert_eq!(error.exit_code(), 1, "{error}");
        let show = admin(&stack, "tenant show initech").await.unwrap_err();
        assert_eq!(show.to_string(), "no tenant initech", "nothing saved");
    }
    // Stages given by name are stored with their ids.
    let mut config = initech(&stack);
    config["vendors"]["xref"]["on_completion"] =
        serde_json::json!({ "move_to_stage": { "name": "background check" } });
    let answer = put(&stack, &config, Some(&secret)).await.unwrap();
    assert_eq!(answer.trim(), "saved tenant initech");
    let json: serde_json::Value =
        serde_json::from_str(&admin(&stack, "tenant show initech --json").await.unwrap()).unwrap();
    let xref = &json["config"]["vendors"]["xref"];
    assert_eq!(xref["trigger_stage"]["id"], demo::REFERENCE_CHECK_STAGE_ID);
    assert_eq!(
        xref["on_completion"]["move_to_stage"]["id"],
        demo::BACKGROUND_CHECK_STAGE_ID
    );
}

#[tokio::test]
async fn tenant_put_saves_with_a_warning_when_lever_cannot_be_asked_for_stages() {
    let stack = stack().await;
    let mut config = initech(&stack);
    config["vendors"]["xref"]["trigger_stage"] = serde_json::json!({ "name": "Reference Chek" });
    // Lever cannot be reached (nothing listens on port 9).
    config["lever_api_base"] = serde_json::json!("http://127.0.0.1:9/v1");
    let secret = initech_secret();
    let answer = put(&stack, &config, Some(&secret)).await.unwrap();
    assert!(answer.starts_with("saved tenant initech"), "{answer}");
    assert!(
        answer.contains("warning: stages not checked") && answer.contains("xref: "),
        "{answer}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&admin(&stack, "tenant show initech --json").await.unwrap()).unwrap();
    assert_eq!(
        json["config"]["vendors"]["xref"]["trigger_stage"],
        serde_json::json!({ "name": "Reference Chek" }),
        "left by name"
    );
}

#[tokio::test]
async fn an_enabled_integration_without_a_lever_credential_is_refused_as_in_the_console() {
    let stack = stack().await;
    let mut secret = initech_secret();
    secret["vendors"]["xref"]
        .as_object_mut()
        .unwrap()
        .remove("lever");
    let error = put(&stack, &initech(&stack), Some(&secret))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("vendors.xref.lever: no Lever credential: connect Lever"),
        "{error}"
    );
    // Switched off, it may wait for its credential.
    let mut config = initech(&stack);
    config["vendors"]["xref"]["enabled"] = serde_json::json!(false);
    put(&stack, &config, Some(&secret)).await.unwrap();
}

#[tokio::test]
async fn two_background_checks_on_one_trigger_stage_need_the_confirmation_that_both_are_ordered() {
    let stack = stack().await;
    let mut config = initech(&stack);
    let background = serde_json::json!({
        "enabled": true,
        "api_base": stack.esr_url,
        "trigger_stage": { "name": "Background Check" },
    });
    config["vendors"]["esr"] = background.clone();
    config["vendors"]["justifacts"] = background;
    config["vendors"]["justifacts"]["api_base"] = serde_json::json!(stack.justifacts_url);
    let mut secret = initech_secret();
    secret["lever"] = serde_json::json!({ "api_key": demo::XREF_LEVER_KEY });
    let error = put(&stack, &config, Some(&secret)).await.unwrap_err();
    assert!(
        error.to_string().contains(
            "vendors.esr.shares_trigger_stage: Justifacts is also ordered by a move into \
             Background Check: one move would order both background checks"
        ),
        "{error}"
    );
    config["vendors"]["esr"]["shares_trigger_stage"] = serde_json::json!(true);
    let saved = put(&stack, &config, Some(&secret)).await;
    assert!(
        saved
            .as_ref()
            .is_ok_and(|s| s.starts_with("saved tenant initech")),
        "{saved:?}"
    );
}

#[tokio::test]
async fn tenant_put_refuses_placeholder_blank_or_short_webhook_tokens() {
    let stack = stack().await;
    let config = initech(&stack);
    // The library's checks (`callback_auth::problems`) word the reasons.
    for token in [
        "<Candidate Stage Change signature token from Lever>",
        "<placeholder>",
        "",
        "a token with spaces",
        "short-token",
    ] {
        let mut secret = initech_secret();
        secret["webhooks"] = serde_json::json!({ "candidateStageChange": { "current": token } });
        let error = put(&stack, &config, Some(&secret)).await.unwrap_err();
        let field = "\n    webhooks.candidateStageChange.current: ";
        assert!(error.to_string().contains(field), "{token:?}: {error}");
        assert!(
            token.is_empty() || !error.to_string().contains(token),
            "never quoted: {error}"
        );
        assert_eq!(error.exit_code(), 1);
        let show = admin(&stack, "tenant show initech").await.unwrap_err();
        assert_eq!(show.to_string(), "no tenant initech", "nothing saved");
    }
    let mut secret = initech_secret();
    secret["webhooks"] = serde_json::json!({ "candidateStageChange": { "current": "a-signature-token-from-lever" } });
    let answer = put(&stack, &config, Some(&secret)).await.unwrap();
    assert_eq!(answer.trim(), "saved tenant initech");
}

#[tokio::test]
async fn failures_exit_1_and_tenant_check_prints_its_report_on_stdout() {
    let stack = stack().await;
    let error = admin(
        &stack,
        "order demo xref 00000000-0000-4000-8000-000000000000",
    )
    .await
    .unwrap_err();
    assert_eq!(error.to_string(), "not found: opportunity");
    assert_eq!(error.exit_code(), 1);
    assert!(admin(&stack, "tenant check demo")
        .await
        .unwrap()
        .starts_with("all good"));
    stack.lever.disable_api_key(demo::XREF_LEVER_KEY);
    let (table, outcome) = admin_output(&stack, &["tenant", "check", "demo"]).await;
    assert!(
        table.starts_with("1 problem(s)") && table.contains("FAILED"),
        "{table}"
    );
    let error = outcome.unwrap_err();
    assert_eq!(error.to_string(), "demo: 1 problem(s)");
    assert_eq!(error.exit_code(), 1);
    let (json, outcome) = admin_output(&stack, &["tenant", "check", "demo", "--json"]).await;
    assert_eq!(outcome.unwrap_err().exit_code(), 1);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["tenant"], "demo");
    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{json}");
    assert!(
        problems[0].as_str().unwrap().starts_with("xref: "),
        "{json}"
    );
}

#[tokio::test]
async fn commands_refuse_integrations_the_tenant_does_not_have() {
    let stack = stack().await;
    let webhooks = webhook_ids(&stack);
    let calls = stack.lever.api_calls().len();
    let error = admin(&stack, "webhooks rotate demo applicationCreated")
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("none of demo's enabled integrations needs applicationCreated"),
        "{error}"
    );
    assert_eq!(error.exit_code(), 1);
    for command in [
        "tenant disable demo --vendor esr",
        "webhooks register demo --vendor esr",
        "integration delete demo esr",
        "order demo esr 3410c8b9-5c31-4bab-b7e9-9f710206d647",
    ] {
        let error = admin(&stack, command).await.unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("demo has no esr integration (it has: "),
            "{command}: {error}"
        );
        assert_eq!(error.exit_code(), 1, "{command}");
    }
    assert_eq!(webhook_ids(&stack), webhooks, "no webhook created");
    assert_eq!(stack.lever.api_calls().len(), calls, "Lever not called");
    let show = admin(&stack, "tenant show demo --json").await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert_eq!(json["config"]["vendors"]["xref"]["enabled"], true);
    assert_eq!(json["config"]["vendors"]["sterling"]["enabled"], true);
}

#[tokio::test]
async fn a_public_base_url_that_is_not_an_http_url_is_refused_naming_the_variable() {
    for bad in ["d", "javascript:alert(1)"] {
        let mut options = StackOptions::embedded();
        options.settings.public_base_url = Some(bad.to_owned());
        let stack = Stack::start(options).await.unwrap();
        let webhooks = webhook_ids(&stack);
        for command in [
            "console invite demo",
            "webhooks register demo",
            "webhooks rotate demo candidateStageChange",
        ] {
            let error = admin(&stack, command).await.unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("PUBLIC_BASE_URL ({bad:?}) is not an absolute URL")),
                "{command}: {error}"
            );
            assert_eq!(error.exit_code(), 2);
        }
        assert_eq!(webhook_ids(&stack), webhooks, "nothing registered");
    }
}

#[tokio::test]
async fn an_integration_without_a_lever_credential_is_listed_as_not_connected() {
    let stack = stack().await;
    let json: serde_json::Value =
        serde_json::from_str(&admin(&stack, "tenant list --json").await.unwrap()).unwrap();
    let tenant = |id: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|t| t["tenant"] == id)
            .unwrap()["integrations"]
            .as_array()
            .unwrap()
            .clone()
    };
    for state in tenant("globex") {
        assert_eq!(state["credential"], "none", "{state}");
        assert_eq!(state["lever_access"], "not connected", "{state}");
    }
    for state in tenant("demo") {
        assert_eq!(state["lever_access"], "connected", "{state}");
    }
    let table = admin(&stack, "tenant list").await.unwrap();
    assert!(table.contains("not connected"), "{table}");
    // As `tenant check` says.
    let error = admin(&stack, "tenant check globex").await.unwrap_err();
    assert!(error.to_string().starts_with("globex: "), "{error}");
}

#[tokio::test]
async fn connecting_says_which_integrations_use_the_key_in_good_grammar() {
    let stack = stack().await;
    stack.oauth_lever.add_api_key("a-globex-wide-key");
    let answer = admin(&stack, "tenant connect globex --api-key a-globex-wide-key")
        .await
        .unwrap();
    assert!(
        answer.trim_end().ends_with(" now use it") && answer.contains(", "),
        "{answer}"
    );
    stack.lever.add_api_key("a-demo-wide-key");
    let answer = admin(&stack, "tenant connect demo --api-key a-demo-wide-key")
        .await
        .unwrap();
    assert!(
        answer.contains("no integration uses it (each has its own Lever credential)"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_lever_key_lever_refuses_is_not_stored_unless_replaced_anyway() {
    let stack = stack().await;
    let error = admin(
        &stack,
        "tenant connect demo --vendor xref --api-key mistyped-key",
    )
    .await
    .unwrap_err();
    assert_eq!(error.exit_code(), 1, "{error}");
    assert!(
        error
            .to_string()
            .contains("Lever refused this API key (HTTP 401)"),
        "{error}"
    );
    assert_eq!(
        xref_lever_key(&stack).await,
        demo::XREF_LEVER_KEY,
        "the working key stays"
    );
    let answer = admin(
        &stack,
        "tenant connect demo --vendor xref --api-key not-yet-active-key --replace-anyway",
    )
    .await
    .unwrap();
    assert!(answer.ends_with("xref now uses it\n"), "{answer}");
    assert_eq!(xref_lever_key(&stack).await, "not-yet-active-key");
}

/// The Lever API key the demo tenant's Xref integration uses, as stored now.
async fn xref_lever_key(stack: &Stack) -> String {
    use secrecy::ExposeSecret;
    let demo = TenantId::parse(demo::TENANT).unwrap();
    stack.app.tenants().invalidate(&demo);
    let tenant = stack.app.tenants().tenant(&demo).await.unwrap();
    let (_, xref) = tenant.secrets.lever_credential(VendorId::Xref).unwrap();
    xref.api_key.as_ref().unwrap().expose_secret().to_owned()
}

#[tokio::test]
async fn an_integration_lever_refuses_is_deleted_naming_the_webhooks_to_remove_by_hand() {
    let stack = stack().await;
    for other in ["sterling", "checkr"] {
        admin(&stack, &format!("integration delete demo {other}"))
            .await
            .unwrap();
    }
    stack.lever.disable_api_key(demo::XREF_LEVER_KEY);
    let answer = admin(&stack, "integration delete demo xref").await.unwrap();
    assert!(answer.starts_with("xref removed from demo"), "{answer}");
    assert!(
        answer.contains("Lever could not be asked to delete")
            && answer.contains("candidateStageChange")
            && answer.contains("by hand in Lever"),
        "{answer}"
    );
    let list = admin(&stack, "tenant show demo --json").await.unwrap();
    assert!(!list.contains("\"xref\""), "{list}");
}

/// The exit code a command's outcome gives (0 done).
fn exit_code(outcome: &Result<String, AdminError>) -> u8 {
    outcome.as_ref().map_or_else(AdminError::exit_code, |_| 0)
}

#[tokio::test]
async fn an_unknown_tenant_is_an_error_in_every_command_that_names_one() {
    let stack = stack().await;
    for command in [
        "orders nosuch abc",
        "tenant show nosuch",
        "tenant check nosuch",
        "tenant disable nosuch",
        "webhooks check nosuch",
        "webhooks register nosuch",
        "order nosuch xref abc",
        "console invite nosuch",
        "integration delete nosuch xref",
    ] {
        let outcome = admin(&stack, command).await;
        assert_eq!(exit_code(&outcome), 1, "{command}: {outcome:?}");
        let message = outcome.unwrap_err().to_string();
        assert!(message.contains("no tenant nosuch"), "{command}: {message}");
    }
}

#[tokio::test]
async fn tenant_show_prints_one_table_for_people_and_json_only_with_json() {
    let stack = stack().await;
    let text = admin(&stack, "tenant show globex").await.unwrap();
    assert!(
        text.starts_with(&format!(
            "tenant globex: Lever API {}/v1",
            stack.oauth_lever_url
        )),
        "{text}"
    );
    assert!(!text.contains('{'), "no JSON in the table form:\n{text}");
    for expected in [
        "justifacts",
        "Background Check",
        "new applications",
        "tag \"ESR PKG:\"; default Standard; 2 in catalog",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&admin(&stack, "tenant show globex --json").await.unwrap()).unwrap();
    assert_eq!(json["config"]["tenant_id"], "globex");
}

#[tokio::test]
async fn a_wrong_webhook_name_is_answered_with_the_valid_ones() {
    let stack = stack().await;
    let error = admin(&stack, "webhooks rotate demo stagechange")
        .await
        .unwrap_err();
    assert_eq!(error.exit_code(), 2);
    let message = error.to_string();
    for event in [
        "candidateStageChange",
        "applicationCreated",
        "candidateArchiveChange",
        "candidateDeleted",
        "candidateHired",
    ] {
        assert!(message.contains(event), "{event} in {message}");
    }
}

#[test]
fn every_missing_setting_is_reported_at_once() {
    let problem = lever_screening_admin::environment_problem(|name| {
        (name == "SECRETS_PREFIX").then(|| "tenants/".to_owned())
    })
    .unwrap();
    assert!(
        problem.starts_with("set TABLE_NAME, WORK_QUEUE_URL, DEAD_LETTER_QUEUE_URL to"),
        "{problem}"
    );
    assert_eq!(
        lever_screening_admin::environment_problem(|_| Some("x".into())),
        None
    );
}

/// The installed command, run with only `env` in its environment.
fn admin_binary(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_lever-screening-admin"))
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        // No credentials anywhere: an empty home, no instance metadata.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn the_command_names_every_missing_setting_in_one_line_and_in_json_with_json() {
    let output = admin_binary(&["status"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for name in [
        "TABLE_NAME",
        "SECRETS_PREFIX",
        "WORK_QUEUE_URL",
        "DEAD_LETTER_QUEUE_URL",
    ] {
        assert!(stderr.contains(name), "{name} in {stderr}");
    }
    let output = admin_binary(&["status", "--json"], &[]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        json["error"].as_str().unwrap().contains("TABLE_NAME"),
        "{json}"
    );
}

#[test]
fn missing_aws_credentials_are_explained_in_one_line_with_the_fix() {
    let settings = [
        ("TABLE_NAME", "t"),
        ("SECRETS_PREFIX", "p/"),
        ("WORK_QUEUE_URL", "http://127.0.0.1:9/q"),
        ("DEAD_LETTER_QUEUE_URL", "http://127.0.0.1:9/d"),
    ];
    let output = admin_binary(&["status"], &settings);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: no AWS credentials"), "{stderr}");
    assert!(stderr.contains("AWS_PROFILE"), "{stderr}");
}

#[tokio::test]
async fn deliveries_are_listed_with_what_they_did_and_a_delivery_is_replayed() {
    let stack = stack().await;
    move_ada_into_reference_check(&stack).await;
    let table = admin(&stack, "deliveries demo").await.unwrap();
    assert!(
        table.contains("lever candidateStageChange")
            && table.contains("queued")
            && table.contains("xref: ordered"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&admin(&stack, "deliveries demo --json").await.unwrap()).unwrap();
    let id = json["entries"][0]["delivery"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let none = admin(&stack, "deliveries demo --outcome rejected")
        .await
        .unwrap();
    assert!(none.contains("0 shown"), "{none}");

    let replayed = admin(&stack, &format!("replay demo {id}")).await.unwrap();
    assert!(replayed.contains("its work queued again"), "{replayed}");
    assert!(stack.settle(Duration::from_secs(10)).await);
    assert_eq!(stack.xref.orders().len(), 1, "a replay never orders twice");
    let after = admin(&stack, "deliveries demo").await.unwrap();
    assert!(after.contains("xref: ordered"), "{after}");

    let error = admin(&stack, "replay demo 000000000000001-00000000")
        .await
        .unwrap_err();
    assert_eq!(error.exit_code(), 1);
    assert!(error.to_string().starts_with("no delivery"), "{error}");
    let error = admin(&stack, "replay demo not#an#id").await.unwrap_err();
    assert_eq!(error.exit_code(), 2, "{error}");
}

#[tokio::test]
async fn tenant_put_stores_untried_vendor_credentials_only_when_told_to() {
    let stack = stack().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tenant.json");
    std::fs::write(&config, initech(&stack).to_string()).unwrap();
    let mut secret = initech_secret();
    secret["vendors"]["xref"]["api_key"] = "a-key-xref-activates-tomorrow".into();
    let path = dir.path().join("secret.json");
    std::fs::write(&path, secret.to_string()).unwrap();
    let put = format!(
        "tenant put {} --secret {}",
        config.display(),
        path.display()
    );
    let error = admin(&stack, &put).await.unwrap_err();
    assert!(error.to_string().contains("--replace-anyway"), "{error}");
    let saved = admin(&stack, &format!("{put} --replace-anyway"))
        .await
        .unwrap();
    assert_eq!(saved.trim(), "saved tenant initech");
    let error = admin(
        &stack,
        &format!("tenant put {} --replace-anyway", config.display()),
    )
    .await
    .unwrap_err();
    assert_eq!(error.exit_code(), 2, "only with a secret: {error}");
}
