//! The published vendor contract (docs/vendor-contract.openapi.json) against what really
//! speaks it: the document holds together, every simulator passes the conformance suite and
//! its callbacks match the contract, the product's adapters send what it describes, and a
//! broken implementation fails with a report that names what is wrong.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use lever_screening::clock::Deadline;
use lever_screening::retry::{Outbound, RetryPolicy};
use lever_screening::secrets::VendorSecrets;
use lever_screening::tenant::Package;
use lever_screening::vendors::{CandidateOrder, Placement, VendorAccount, VendorApi, VendorId};
use lever_screening_admin::conformance::{self, contract, violations, Credential, Report, Target};
use lever_screening_simulators::{EsrSim, HrLogicsSim, JustifactsSim, XrefSim};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A simulator of `vendor` with its router, and the suite's target for it.
fn simulator(vendor: VendorId) -> (Router, Credential, Option<Value>) {
    match vendor {
        VendorId::Xref => (
            XrefSim::new("xref-key", SECRET).router(),
            Credential::Header("X-Api-Key", "xref-key".into()),
            None,
        ),
        VendorId::Justifacts => (
            JustifactsSim::new("jweb", "jweb-password", SECRET).router(),
            Credential::Basic("jweb".into(), "jweb-password".into()),
            None,
        ),
        VendorId::HrLogics => (
            HrLogicsSim::new("hrl-key", SECRET).router(),
            Credential::Bearer("hrl-key".into()),
            None,
        ),
        _ => {
            let esr = EsrSim::new("acct-1", "esr-key", SECRET);
            esr.add_package("pkg-basic", "Basic");
            (
                esr.router(),
                Credential::Basic("acct-1".into(), "esr-key".into()),
                None,
            )
        }
    }
}

async fn run(
    vendor: VendorId,
    router: Router,
    credential: Credential,
    package: Option<Value>,
) -> Report {
    let target = Target {
        vendor,
        base_url: serve(router).await,
        credential,
        package,
    };
    conformance::run(&target).await.unwrap()
}

fn failures(report: &Report) -> Vec<&str> {
    report
        .checks
        .iter()
        .filter(|c| c.outcome.is_err())
        .map(|c| c.name.as_str())
        .collect()
}

#[test]
fn the_contract_is_openapi_3_1_and_every_reference_resolves() {
    let document = contract().unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1."));
    fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(document, &mut found);
    assert!(found.len() > 20);
    for target in found {
        let pointer = target.strip_prefix('#').unwrap();
        assert!(document.pointer(pointer).is_some(), "{target} resolves");
    }
    for name in document["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
    {
        // Compiles (a schema that does not is reported as a violation of anything).
        let problems = violations(name, &json!(null));
        assert!(
            !problems.iter().any(|p| p.contains("does not compile")),
            "{name}: {problems:?}"
        );
    }
    // Each create example is a valid create, and the schemas are not vacuous.
    for (path, schema) in [
        ("/reference-checks", "XrefCreate"),
        ("/invitations", "JustifactsCreate"),
        ("/wotc/applicants", "HrLogicsCreate"),
        ("/orders", "EsrCreate"),
    ] {
        let example = &document["paths"][path]["post"]["requestBody"]["content"]
            ["application/json"]["example"];
        assert_eq!(violations(schema, example), Vec::<String>::new(), "{path}");
        let mut broken = example.clone();
        broken.as_object_mut().unwrap().remove("callback_url");
        assert!(
            !violations(schema, &broken).is_empty(),
            "{schema} requires callback_url"
        );
    }
}

#[tokio::test]
async fn every_simulator_passes_the_conformance_suite() {
    for vendor in conformance::contract_vendors() {
        let (router, credential, _) = simulator(vendor);
        let package = (vendor == VendorId::Esr).then(|| json!("pkg-basic"));
        let report = run(vendor, router, credential, package).await;
        assert_eq!(
            failures(&report),
            Vec::<&str>::new(),
            "{vendor}: {:#?}",
            report.checks
        );
        let expected = if vendor == VendorId::HrLogics { 10 } else { 13 };
        assert_eq!(report.checks.len(), expected, "{vendor}");
    }
}

/// Middleware for broken implementations.
async fn forget_idempotency_keys(mut request: Request, next: Next) -> Response {
    request.headers_mut().remove("idempotency-key");
    next.run(request).await
}

async fn accept_any_bearer(mut request: Request, next: Next) -> Response {
    let token = HeaderValue::from_static("Bearer hrl-key");
    request.headers_mut().insert("authorization", token);
    next.run(request).await
}

async fn answer_202_for_201(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.status() == StatusCode::CREATED {
        *response.status_mut() = StatusCode::ACCEPTED;
    }
    response
}

#[tokio::test]
async fn a_broken_implementation_fails_with_the_checks_it_breaks_named() {
    let (router, credential, _) = simulator(VendorId::Xref);
    let router = router.layer(middleware::from_fn(forget_idempotency_keys));
    let report = run(VendorId::Xref, router, credential, None).await;
    assert_eq!(
        failures(&report),
        ["a create repeated under the same Idempotency-Key answers 200 with the same order"]
    );
    let why = report
        .checks
        .iter()
        .find_map(|c| c.outcome.clone().err())
        .unwrap();
    assert!(why.contains("answered 409"), "{why}");

    let (router, credential, _) = simulator(VendorId::HrLogics);
    let router = router.layer(middleware::from_fn(accept_any_bearer));
    let report = run(VendorId::HrLogics, router, credential, None).await;
    assert_eq!(
        failures(&report),
        [
            "the credential check refuses a wrong credential with 401",
            "a create with a wrong credential is refused with 401"
        ]
    );

    let (router, credential, _) = simulator(VendorId::Esr);
    let router = router.layer(middleware::from_fn(answer_202_for_201));
    let report = run(VendorId::Esr, router, credential, Some(json!("pkg-basic"))).await;
    assert_eq!(
        failures(&report),
        ["a create answers 201 with the new order"]
    );
    assert_eq!(
        report.checks.len(),
        6,
        "nothing is checked on an order not made"
    );

    // An implementation without the credential check at all.
    let none = Router::new().fallback(|| async { (StatusCode::NOT_FOUND, "no") });
    let report = run(
        VendorId::Xref,
        none,
        Credential::Header("X-Api-Key", "k".into()),
        None,
    )
    .await;
    assert!(
        failures(&report).contains(&"the credential check (GET /account) accepts the credential")
    );
    let why = report.checks[0].outcome.clone().unwrap_err();
    assert!(why.contains("not JSON"), "{why}");
}

#[tokio::test]
async fn the_command_needs_no_deployment_and_exits_1_with_the_report_when_checks_fail() {
    let binary = env!("CARGO_BIN_EXE_lever-screening-admin");
    let (router, _, _) = simulator(VendorId::Xref);
    let good = serve(router).await;
    let (router, _, _) = simulator(VendorId::Xref);
    let broken = serve(router.layer(middleware::from_fn(forget_idempotency_keys))).await;
    let passed = admin_binary(
        binary,
        &["--base-url", &good, "--api-key", "xref-key"],
        "xref",
    )
    .await;
    let stdout = String::from_utf8_lossy(&passed.stdout);
    assert!(
        passed.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&passed.stderr)
    );
    assert!(stdout.contains("13 of 13 checks passed"), "{stdout}");

    let failed = admin_binary(
        binary,
        &["--base-url", &broken, "--api-key", "xref-key"],
        "xref",
    )
    .await;
    assert_eq!(failed.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(stdout.contains("12 of 13 checks passed"), "{stdout}");
    assert!(stdout.contains("FAILED"), "{stdout}");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("does not conform"), "{stderr}");

    let usage = admin_binary(binary, &["--base-url", &good], "sterling").await;
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("publishes its own API"));
}

/// `lever-screening-admin vendor conformance <vendor> <args>` with no deployment in the
/// environment, run off the runtime's thread so the simulators it calls keep serving.
async fn admin_binary(binary: &str, args: &[&str], vendor: &str) -> std::process::Output {
    let mut command = std::process::Command::new(binary);
    command
        .args(["vendor", "conformance", vendor])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// A callback receiver answering 200.
async fn receiver() -> String {
    let router = Router::new().route("/cb", post(|| async { "ok" }));
    format!("{}/cb", serve(router).await)
}

#[tokio::test]
async fn every_simulators_callbacks_match_the_contract() {
    let url = receiver().await;
    let client = reqwest::Client::new();
    let create = |base: String, path: &str, auth: Credential, body: Value| {
        let request = client
            .post(format!("{base}{path}"))
            .header("Idempotency-Key", "k1")
            .json(&body);
        let request = match auth {
            Credential::Header(name, key) => request.header(name, key),
            Credential::Basic(user, password) => request.basic_auth(user, Some(password)),
            Credential::Bearer(token) => request.bearer_auth(token),
        };
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let example = |path: &str| {
        let mut body = contract().unwrap()["paths"][path]["post"]["requestBody"]["content"]
            ["application/json"]["example"]
            .clone();
        body["callback_url"] = json!(url);
        body
    };

    let xref = XrefSim::new("xref-key", SECRET);
    let base = serve(xref.router()).await;
    let id = create(
        base,
        "/reference-checks",
        Credential::Header("X-Api-Key", "xref-key".into()),
        example("/reference-checks"),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = xref
        .post_status(&id, "Completed", Some("https://xref.example/r/1"))
        .await
        .unwrap();
    assert_eq!(
        violations("XrefOrder", &serde_json::from_str(&sent.body).unwrap()),
        Vec::<String>::new()
    );

    let justifacts = JustifactsSim::new("u", "p", SECRET);
    let base = serve(justifacts.router()).await;
    let id = create(
        base,
        "/invitations",
        Credential::Basic("u".into(), "p".into()),
        example("/invitations"),
    )
    .await["request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = justifacts
        .post_status(
            &id,
            "Complete",
            Some("Clear"),
            Some("https://jf.example/r/1"),
        )
        .await
        .unwrap();
    assert_eq!(
        violations(
            "JustifactsInvitation",
            &serde_json::from_str(&sent.body).unwrap()
        ),
        Vec::<String>::new()
    );

    let hrlogics = HrLogicsSim::new("hrl-key", SECRET);
    let base = serve(hrlogics.router()).await;
    let id = create(
        base,
        "/wotc/applicants",
        Credential::Bearer("hrl-key".into()),
        example("/wotc/applicants"),
    )
    .await["applicant_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = hrlogics
        .post_eligibility(&id, "Pre Qualified")
        .await
        .unwrap();
    assert_eq!(
        violations(
            "HrLogicsApplicant",
            &serde_json::from_str(&sent.body).unwrap()
        ),
        Vec::<String>::new()
    );

    let esr = EsrSim::new("acct-1", "esr-key", SECRET);
    esr.add_package("pkg-basic", "Basic");
    let base = serve(esr.router()).await;
    let id = create(
        base,
        "/orders",
        Credential::Basic("acct-1".into(), "esr-key".into()),
        example("/orders"),
    )
    .await["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = esr
        .post_status(
            &id,
            "Completed",
            &[("Criminal", "Record found")],
            Some("https://esr.example/r/1"),
        )
        .await
        .unwrap();
    assert_eq!(
        violations("EsrOrder", &serde_json::from_str(&sent.body).unwrap()),
        Vec::<String>::new()
    );
}

type Recorded = Arc<Mutex<Vec<(String, Value)>>>;

/// `router` behind a recorder of every request's path and JSON body.
fn recording(router: Router) -> (Router, Recorded) {
    let recorded: Recorded = Arc::default();
    let keep = recorded.clone();
    let router = router.layer(middleware::from_fn(move |request: Request, next: Next| {
        let keep = keep.clone();
        async move {
            let (parts, body) = request.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            keep.lock()
                .unwrap()
                .push((parts.uri.path().to_owned(), json));
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    }));
    (router, recorded)
}

#[tokio::test]
async fn the_product_adapters_send_what_the_contract_describes() {
    let http = reqwest::Client::new();
    let package = Package {
        name: Some("EmpCod".into()),
        id: "13558".into(),
    };
    let esr_package = Package {
        name: Some("Basic".into()),
        id: "pkg-basic".into(),
    };
    for vendor in conformance::contract_vendors() {
        let (router, _, _) = simulator(vendor);
        let (router, recorded) = recording(router);
        let base = serve(router).await;
        let secrets: VendorSecrets = serde_json::from_value(match vendor {
            VendorId::Xref => json!({"api_key": "xref-key"}),
            VendorId::Justifacts => json!({"username": "jweb", "password": "jweb-password"}),
            VendorId::HrLogics => json!({"api_key": "hrl-key"}),
            _ => json!({"username": "acct-1", "api_key": "esr-key"}),
        })
        .unwrap();
        let account = VendorAccount {
            http: &http,
            outbound: Outbound::new(
                "conformance",
                RetryPolicy::default(),
                Deadline::after(Duration::from_secs(20)),
            ),
            base_url: &base,
            secrets: &secrets,
        };
        let order = CandidateOrder {
            order_id: "0f3a9c4e1b2d4c6e8a0b1c2d3e4f5a6b",
            name: "Ada Lovelace",
            email: "ada@example.com",
            phone: Some("+14165550104"),
            role: Some("Engineer"),
            location: Some("Toronto"),
            package: Some(if vendor == VendorId::Esr {
                &esr_package
            } else {
                &package
            }),
            callback_url: "https://screening.example.com/callbacks/vendor/acme",
        };
        let api = adapter(vendor);
        let placed = match api.place(&account, &order, &BTreeMap::new()).await.unwrap() {
            Placement::Placed(placed) => placed,
            Placement::Steps(steps) => {
                panic!("{vendor}: one call places a contract order: {steps:?}")
            }
        };
        api.read_order(&account, &placed.vendor_order_id)
            .await
            .unwrap();
        let (schema, path) = match vendor {
            VendorId::Xref => ("XrefCreate", "/reference-checks"),
            VendorId::Justifacts => ("JustifactsCreate", "/invitations"),
            VendorId::HrLogics => ("HrLogicsCreate", "/wotc/applicants"),
            _ => ("EsrCreate", "/orders"),
        };
        let recorded = recorded.lock().unwrap().clone();
        let create = recorded
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, body)| body)
            .unwrap();
        assert_eq!(
            violations(schema, create),
            Vec::<String>::new(),
            "{vendor}: {create}"
        );
        let read = format!("{path}/{}", placed.vendor_order_id);
        assert!(
            recorded.iter().any(|(p, _)| *p == read),
            "{vendor} reads at {read}: {recorded:?}"
        );
    }
}

fn adapter(vendor: VendorId) -> Arc<dyn VendorApi> {
    (lever_screening::vendors::module(vendor).adapter)()
}
