//! The fault-injection drill (`lever-screening-local faults`) at its small size with a fixed
//! seed, asserting every figure it requires; and minimal reproductions of what it found.
//!
//! The drill runs the product on DynamoDB Local when `AWS_ENDPOINT_URL_DYNAMODB` is set
//! (`scripts/local-aws run -- cargo test -p lever-screening-local --test it -- faults::`);
//! without it these tests fall back to the in-memory store, as the store's own suite
//! (`core/tests/it/store.rs`) already covers DynamoDB's behaviour.

use crate::support::{start, Harness, SUBMITTED};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::response::Response;
use lever_screening::callback_auth::sign_headers;
use lever_screening::clock::now_millis;
use lever_screening::store::TenantStore;
use lever_screening_local::demo_tenant as demo;
use lever_screening_local::drills::faults::{measure, Options, Report, Scenario, Size, StoreKind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const SEED: u64 = 20_261_130;

fn options(scenarios: &[Scenario]) -> Options {
    let dynamodb = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok_and(|v| !v.is_empty());
    Options {
        size: Size::Small,
        seed: SEED,
        store: if dynamodb {
            StoreKind::Dynamodb
        } else {
            StoreKind::Memory
        },
        scenarios: scenarios.to_vec(),
        ..Options::default()
    }
}

/// A figure's value; fails the test if the report lacks it.
fn number(report: &Report, scenario: &str, name: &str) -> f64 {
    report
        .number(scenario, name)
        .unwrap_or_else(|| panic!("no figure {scenario} / {name}:\n{report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_late_archives_and_forged_deletes_cancel_and_purge_nothing() {
    let report = measure(&options(&[Scenario::Lifecycle]))
        .await
        .expect("the drill starts");
    assert!(report.passed(), "{report}");
    assert_eq!(number(&report, "lifecycle", "wrong cancels"), 0.0);
    assert_eq!(number(&report, "lifecycle", "wrong purges"), 0.0);
    assert_eq!(
        number(&report, "lifecycle", "real archives that cancelled"),
        3.0,
        "{report}"
    );
    assert_eq!(
        number(
            &report,
            "lifecycle",
            "late archives (retried after the unarchive)"
        ),
        3.0,
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_forged_replays_and_permuted_callbacks_hold_under_lever_failures() {
    let report = measure(&options(&[
        Scenario::Deliveries,
        Scenario::Forged,
        Scenario::Callbacks,
    ]))
    .await
    .expect("the drill starts");

    let events = number(
        &report,
        "deliveries",
        "unique triggering events (Xref 18, Sterling 6)",
    );
    assert_eq!(events, 24.0, "{report}");
    assert!(
        number(&report, "deliveries", "deliveries sent") > events,
        "redeliveries were sent: {report}"
    );
    assert_eq!(
        number(&report, "deliveries", "orders created (vendor simulators)"),
        events,
        "one order per unique event: {report}"
    );
    for (scenario, figure) in [
        ("deliveries", "duplicate orders"),
        (
            "deliveries",
            "write-backs lost (order's status not shown in Lever)",
        ),
        (
            "deliveries",
            "duplicate notes (same creation time or status twice)",
        ),
        ("deliveries", "work dead-lettered"),
        ("forged", "orders created by forged replays"),
        ("forged", "Lever writes on the forged candidates"),
        ("forged", "of them accepted"),
        ("forged", "Checkr orders moved by them"),
        (
            "callbacks",
            "status regressions (product or Lever not at the furthest status)",
        ),
        ("callbacks", "duplicate notes"),
        ("callbacks", "duplicate orders"),
    ] {
        assert_eq!(number(&report, scenario, figure), 0.0, "{figure}: {report}");
    }
    assert!(
        number(
            &report,
            "Lever",
            "failure rate injected (503 before applying)"
        ) > 30.0,
        "Lever failed about half its calls: {report}"
    );
    assert!(
        number(
            &report,
            "Lever",
            "note writes made ambiguous (applied, answer dropped)"
        ) >= 1.0,
        "{report}"
    );
    assert_eq!(
        number(&report, "forged", "Checkr webhooks signed with another key"),
        2.0,
        "{report}"
    );
    assert_eq!(
        number(
            &report,
            "forged",
            "Checkr webhooks signed with the account's key, saying a pending invitation's report is clear"
        ),
        2.0,
        "{report}"
    );
    assert!(report.passed(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_hundred_hostile_inputs_are_each_refused_with_a_4xx() {
    let report = measure(&options(&[Scenario::Hostile]))
        .await
        .expect("the drill starts");
    assert!(
        number(&report, "hostile", "hostile inputs tried") >= 100.0,
        "{report}"
    );
    for figure in [
        "answered 5xx",
        "answered 2xx (accepted)",
        "unanswered, twice (connection dropped or timed out)",
        "4xx without a JSON error body",
        "orders created by them",
        "Lever writes on the bait candidates",
    ] {
        assert_eq!(
            number(&report, "hostile", figure),
            0.0,
            "{figure}: {report}"
        );
    }
    assert_eq!(
        number(
            &report,
            "hostile",
            "rejected with a 4xx and a JSON error body"
        ),
        100.0,
        "{report}"
    );
    assert!(report.passed(), "{report}");
}

// Minimal reproductions of what the drill found.

/// Found by `callbacks` (orders whose callbacks race their placement): a status applied
/// while the order's first write-back is running is written without removing the tag that
/// write-back just added, so Lever shows two Xref statuses for good. The first sync writes
/// with the tags it read before ordering (`known_tags`) in every round, though its own
/// first round added one (core/src/flows/lever_sync.rs, `write_pending` → `perform`).
#[tokio::test]
async fn a_status_applied_during_the_first_tag_write_still_leaves_one_xref_tag() {
    let h = start().await;
    // Xref reports "Completed" while the worker is adding the first tag.
    let tap = Tap::start(&h).await;
    h.stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    h.settle().await;
    assert!(
        tap.fired.load(Ordering::SeqCst),
        "the tap saw the tag write"
    );
    let order = &h.store.orders()[0];
    assert_eq!(order.status(), Some("Completed"));
    assert_eq!(
        h.tags(),
        ["Xref - Completed"],
        "one Xref status tag, the order's (not also {SUBMITTED:?})"
    );
}

/// Found by `hostile`: a `webhook-timestamp` of i64::MIN overflows `now - ts` in the
/// `standardwebhooks` crate's timestamp check (reached from
/// core/src/callback_auth.rs `verify`), which panics in debug builds (the local stack, the
/// tests): the connection is dropped instead of a 401. Release builds wrap around, and the
/// timestamp then passes the freshness check.
#[tokio::test]
async fn a_callback_timestamp_of_i64_min_is_a_401_not_a_dropped_connection() {
    let h = start().await;
    let body = br#"{"id":"xref_1","status":"Completed"}"#;
    let headers = sign_headers(demo::XREF_CALLBACK_SECRET, "msg_1", i64::MIN, body).unwrap();
    let answer = h
        .http
        .post(format!(
            "{}/callbacks/xref/{}",
            h.stack.functions_url,
            demo::TENANT
        ))
        .headers(headers)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await;
    let status = answer.map(|a| a.status().as_u16());
    assert!(matches!(status, Ok(401)), "{status:?}");
}

/// Found by `hostile`: a callback for a vendor the tenant does not use (globex has no Xref,
/// no Sterling) is answered 500 `tenant_misconfigured` — anyone can make the product report
/// a server error and a misconfigured tenant. core/src/flows/vendor_callback.rs:
/// `authenticate` treats the missing callback secret as the tenant's misconfiguration
/// without asking whether the tenant has that integration at all.
#[tokio::test]
async fn a_callback_for_a_vendor_the_tenant_does_not_use_is_a_4xx() {
    let h = start().await;
    let body = br#"{"id":"xref_1","status":"Completed"}"#;
    let headers = sign_headers(
        demo::XREF_CALLBACK_SECRET,
        "msg_1",
        now_millis() / 1000,
        body,
    )
    .unwrap();
    let xref = h
        .http
        .post(format!(
            "{}/callbacks/xref/{}",
            h.stack.functions_url,
            demo::OAUTH_TENANT
        ))
        .headers(headers)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let sterling = h
        .http
        .post(format!(
            "{}/callbacks/sterling/{}/{}",
            h.stack.functions_url,
            demo::OAUTH_TENANT,
            demo::STERLING_CALLBACK_SECRET
        ))
        .header("content-type", "application/json")
        .body(r#"{"type":"screening","payload":{"id":"1","status":"Completed"}}"#)
        .send()
        .await
        .unwrap();
    let statuses = [xref.status().as_u16(), sterling.status().as_u16()];
    assert!(
        statuses.iter().all(|s| (400..500).contains(s)),
        "{statuses:?}"
    );
}

/// A proxy in front of the demo tenant's Lever account: the first time the worker adds
/// tags, Xref first reports the order "Completed" (and the product applies it), then the
/// request goes on to Lever.
struct Tap {
    fired: Arc<AtomicBool>,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct TapState {
    upstream: String,
    xref: lever_screening_simulators::XrefSim,
    fired: Arc<AtomicBool>,
    http: reqwest::Client,
}

impl Tap {
    async fn start(h: &Harness) -> Tap {
        let fired = Arc::new(AtomicBool::new(false));
        let state = TapState {
            upstream: h.stack.lever_url.clone(),
            xref: h.stack.xref.clone(),
            fired: fired.clone(),
            http: reqwest::Client::new(),
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = axum::Router::new().fallback(tap).with_state(state);
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        let tenant = crate::support::tenant(demo::TENANT);
        let mut config = h.store.get_tenant(&tenant).await.unwrap().unwrap();
        config.lever_api_base = format!("{url}/v1");
        h.store.put_tenant(&config).await.unwrap();
        h.stack.app.tenants().invalidate(&tenant);
        Tap {
            fired,
            _server: server,
        }
    }
}

async fn tap(State(tap): State<TapState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.uri.path().ends_with("/addTags") && !tap.fired.swap(true, Ordering::SeqCst) {
        let order = tap.xref.orders()[0].id.clone();
        let sent = tap
            .xref
            .post_status(&order, "Completed", None)
            .await
            .unwrap();
        assert_eq!(sent.status, 200, "{}", sent.response);
    }
    let body = to_bytes(body, 1 << 20).await.unwrap();
    let mut headers = parts.headers.clone();
    headers.remove("host");
    headers.remove("content-length");
    let answer = tap
        .http
        .request(
            parts.method.clone(),
            format!("{}{}", tap.upstream, parts.uri),
        )
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap();
    let mut response = Response::builder().status(answer.status());
    if let Some(content_type) = answer.headers().get("content-type") {
        response = response.header("content-type", content_type.clone());
    }
    response
        .body(Body::from(answer.bytes().await.unwrap()))
        .unwrap()
}
