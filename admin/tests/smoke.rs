//! `lever-screening-admin smoke` against the local stack (every function behind its API
//! Gateway path, the worker on its queue, the secrets file): a deployment that serves passes
//! every check but the schedules, which the local stack has none of (EventBridge rules are
//! smoke-tested on the emulated stack, by scripts/emulated-stack); one without the Lever
//! OAuth app's secret fails, naming it and its fix.

use clap::Parser;
use lever_screening::Settings;
use lever_screening_admin::{run, Cli};
use lever_screening_local::stack::{Stack, StackOptions};

async fn smoke(stack: &Stack) -> (String, bool) {
    let cli = Cli::try_parse_from(["lever-screening-admin", "smoke"]).unwrap();
    let mut out = Vec::new();
    let outcome = run(cli, &stack.app, &mut out).await;
    (String::from_utf8(out).unwrap(), outcome.is_ok())
}

#[tokio::test]
async fn a_serving_deployment_passes_every_check_but_the_schedules_it_has_none_of() {
    let stack = Stack::start(StackOptions::embedded()).await.unwrap();
    let (out, ok) = smoke(&stack).await;
    assert!(!ok, "{out}");
    assert!(out.contains(" 1 missing"), "{out}");
    assert!(out.contains("SCHEDULE_RULES is not set"), "{out}");
    assert!(
        out.contains("set SCHEDULE_RULES to the stack's ScheduleRules output"),
        "{out}"
    );
    for route in [
        "POST /lever/{tenant}/candidate-stage-change (unknown tenant: 404)",
        "POST /callbacks/sterling/{tenant}/",
        "GET /lever/oauth/callback",
        "GET /console/sign-in",
        "with a forged signature (401)",
        "the worker consumes a test message",
        "tenant globex: its secret is readable",
        "the Lever OAuth app's secret",
    ] {
        assert!(out.contains(route), "{route} in\n{out}");
    }
}

#[tokio::test]
async fn a_missing_oauth_app_secret_fails_the_smoke_with_its_fix() {
    let stack = Stack::start(StackOptions {
        settings: Settings {
            lever_oauth_app_secret: Some("not-stored-yet".into()),
            ..Settings::default()
        },
        ..StackOptions::embedded()
    })
    .await
    .unwrap();
    let (out, ok) = smoke(&stack).await;
    assert!(!ok, "{out}");
    // The secret, the OAuth redirect that needs it, and the schedules the local stack has
    // none of.
    assert!(out.contains(" 3 missing"), "{out}");
    assert!(out.contains("MISSING"), "{out}");
    assert!(
        out.contains("under LeverOAuthAppSecretName (README"),
        "{out}"
    );
    assert!(
        out.contains("if the Lever OAuth app's secret is missing"),
        "{out}"
    );
}
