//! Each setup rule through both ways an integration is set up: the console's settings form
//! (or its credentials form) and the operator's `tenant put`. Both call
//! `lever_screening::setup`, so one rule can never be enforced by one and not the other;
//! these tests hold them to it, rule by rule. Two rules have one way only, because the
//! console has no field for what they check: the tenant's `lever_api_base` and an
//! integration's completion stage are set with `tenant put` alone.

use crate::console::Visitor;
use crate::support::{start, tenant, Harness};
use clap::Parser;
use lever_screening::store::TenantStore;
use lever_screening_admin::{run, Cli};
use lever_screening_local::demo_tenant as demo;
use serde_json::Value;

/// The demo tenant's configuration as `tenant put` takes it, changed by `change`, put with
/// the command: what it refused, if it did.
async fn through_the_command(
    h: &Harness,
    change: impl FnOnce(&mut Value),
    secret: Option<Value>,
) -> Option<String> {
    let stored = h
        .store
        .get_tenant(&tenant(demo::TENANT))
        .await
        .unwrap()
        .unwrap();
    let mut config = serde_json::to_value(&stored).unwrap();
    change(&mut config);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), config.to_string()).unwrap();
    let path = file.path().to_str().unwrap();
    let mut args = vec!["lever-screening-admin", "tenant", "put", path];
    let secret_file = tempfile::NamedTempFile::new().unwrap();
    if let Some(secret) = secret {
        std::fs::write(secret_file.path(), secret.to_string()).unwrap();
        args.extend(["--secret", secret_file.path().to_str().unwrap()]);
    }
    let cli = Cli::try_parse_from(args).unwrap();
    let mut out = Vec::new();
    run(cli, &h.stack.app, &mut out)
        .await
        .err()
        .map(|e| e.to_string())
}

/// One of the vendor's forms in the console (`settings`, `credentials`), submitted with
/// `fields`: the page, if it was refused (400, the form shown again with the field's error).
async fn through_the_console(
    h: &Harness,
    vendor: &str,
    form: &str,
    fields: &[(&str, &str)],
) -> Option<String> {
    let mut visitor = Visitor::new(h);
    visitor
        .sign_in(&crate::console::invitation(h, demo::TENANT).await)
        .await;
    let page = format!("/console/tenants/demo/vendors/{vendor}");
    let answer = visitor
        .submit(&page, &format!("{page}/{form}"), fields)
        .await;
    (answer.status == 400).then_some(answer.page)
}

/// Both refuse, each naming the rule with `words`; the stored configuration is unchanged.
async fn both_refuse(
    h: &Harness,
    vendor: &str,
    change: impl FnOnce(&mut Value),
    fields: &[(&str, &str)],
    words: &str,
) {
    both_refuse_with(h, vendor, (change, None), ("settings", fields), words).await;
}

/// As [`both_refuse`], the command given a secret document too, the console's form named.
async fn both_refuse_with(
    h: &Harness,
    vendor: &str,
    (change, secret): (impl FnOnce(&mut Value), Option<Value>),
    (form, fields): (&str, &[(&str, &str)]),
    words: &str,
) {
    let before = h.store.get_tenant(&tenant(demo::TENANT)).await.unwrap();
    let secrets_before = h.stack.app.secrets().source().load(demo::TENANT).await;
    let command = through_the_command(h, change, secret).await;
    assert!(
        command.as_deref().is_some_and(|e| e.contains(words)),
        "tenant put: {command:?}"
    );
    let console = through_the_console(h, vendor, form, fields).await;
    assert!(
        console.as_deref().is_some_and(|page| page.contains(words)),
        "the console: {console:?}"
    );
    assert_eq!(
        h.store.get_tenant(&tenant(demo::TENANT)).await.unwrap(),
        before
    );
    let secrets_after = h.stack.app.secrets().source().load(demo::TENANT).await;
    assert_eq!(
        format!("{secrets_after:?}"),
        format!("{secrets_before:?}"),
        "the secret is unchanged"
    );
}

/// Xref's settings form as it is, but for `api_base`.
fn xref_form(api_base: &str) -> Vec<(&str, &str)> {
    vec![
        ("enabled", "yes"),
        ("api_base", api_base),
        ("trigger_stage", demo::REFERENCE_CHECK_STAGE_ID),
    ]
}

#[tokio::test]
async fn an_api_base_must_be_https_except_to_a_loopback_host() {
    let h = start().await;
    let base = "http://vendor.example";
    let change = |c: &mut Value| c["vendors"]["xref"]["api_base"] = base.into();
    both_refuse(
        &h,
        "xref",
        change,
        &xref_form(base),
        "must be an https:// URL",
    )
    .await;
}

#[tokio::test]
async fn an_api_base_carries_no_user_name_or_password() {
    let h = start().await;
    let base = "https://user:secret@vendor.example";
    let change = |c: &mut Value| c["vendors"]["xref"]["api_base"] = base.into();
    both_refuse(
        &h,
        "xref",
        change,
        &xref_form(base),
        "carries a user name or password",
    )
    .await;
}

#[tokio::test]
async fn an_api_base_has_no_query_or_fragment() {
    let h = start().await;
    let base = "https://vendor.example/api?region=eu";
    let change = |c: &mut Value| c["vendors"]["xref"]["api_base"] = base.into();
    both_refuse(
        &h,
        "xref",
        change,
        &xref_form(base),
        "has a query or fragment",
    )
    .await;
}

#[tokio::test]
async fn an_enabled_integration_ordered_on_a_stage_needs_its_trigger_stage() {
    let h = start().await;
    let xref = h.stack.xref_url.clone();
    let change = |c: &mut Value| c["vendors"]["xref"]["trigger_stage"] = Value::Null;
    let form = [
        ("enabled", "yes"),
        ("api_base", xref.as_str()),
        ("trigger_stage", ""),
    ];
    both_refuse(
        &h,
        "xref",
        change,
        &form,
        "orders when a candidate moves into this stage",
    )
    .await;
}

#[tokio::test]
async fn two_background_checks_on_one_stage_need_the_confirmation_that_both_are_ordered() {
    let h = start().await;
    // Checkr moved onto Sterling's stage, 'Background Check', without "Order both".
    let checkr = h.stack.checkr_url.clone();
    let change = |c: &mut Value| {
        c["vendors"]["checkr"]["trigger_stage"] = serde_json::json!({
            "id": demo::BACKGROUND_CHECK_STAGE_ID,
            "name": demo::BACKGROUND_CHECK_STAGE_NAME,
        });
    };
    let form = [
        ("enabled", "yes"),
        ("api_base", checkr.as_str()),
        ("trigger_stage", demo::BACKGROUND_CHECK_STAGE_ID),
        ("default_id", demo::CHECKR_PACKAGE),
        ("default_name", "Tasker Standard"),
    ];
    both_refuse(&h, "checkr", change, &form, "one move would order both").await;
}

#[tokio::test]
async fn an_enabled_integration_needs_its_lever_credential() {
    let h = start().await;
    let app = &h.stack.app;
    // Xref's Lever key removed: nothing it could read Lever's stages or write back with.
    app.secrets()
        .source()
        .set_field(demo::TENANT, &["vendors", "xref", "lever"], Value::Null)
        .await
        .unwrap();
    app.secrets().invalidate(demo::TENANT);
    app.tenants().invalidate(&tenant(demo::TENANT));
    let xref = h.stack.xref_url.clone();
    both_refuse(&h, "xref", |_| {}, &xref_form(&xref), "Lever credential: connect Lever (its API key, or Connect with Lever) before enabling the integration").await;
}

#[tokio::test]
async fn a_trigger_stage_is_one_lever_has() {
    let h = start().await;
    let xref = h.stack.xref_url.clone();
    let change = |c: &mut Value| {
        c["vendors"]["xref"]["trigger_stage"] = serde_json::json!({ "id": "no-such-stage" });
    };
    let form = [
        ("enabled", "yes"),
        ("api_base", xref.as_str()),
        ("trigger_stage", "no-such-stage"),
    ];
    both_refuse(&h, "xref", change, &form, "Lever has no stage with id").await;
}

#[tokio::test]
async fn a_callback_secret_is_not_a_placeholder() {
    let h = start().await;
    let placeholder = "whsec_<paste-the-signing-secret>";
    let secret = serde_json::json!({
        "vendors": { "xref": { "callback_secret": { "current": placeholder } } }
    });
    both_refuse_with(
        &h,
        "xref",
        (|_: &mut Value| {}, Some(secret)),
        ("credentials", &[("callback_secret", placeholder)]),
        "is not standard base64 after `whsec_`",
    )
    .await;
}
