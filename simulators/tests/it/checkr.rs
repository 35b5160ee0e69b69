//! The Checkr simulator, held to Checkr's public API reference over real HTTP: Basic auth
//! with the API key, `{"error": …}` answers, the rate limit and its headers, idempotency
//! keys, form and JSON bodies, invitations and reports, and webhooks signed with
//! `X-Checkr-Signature` and retried on Checkr's schedule.

use crate::support::serve;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use lever_screening_simulators::checkr::{retry_schedule_minutes, sign};
use lever_screening_simulators::CheckrSim;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "83ebeabdec09f6670863766f792ead24d61fe3f9";

struct Checkr {
    sim: CheckrSim,
    base: String,
    http: Client,
}

impl Checkr {
    async fn start() -> Self {
        let sim = CheckrSim::new(KEY);
        sim.add_package("tasker_standard", "Tasker Standard");
        let base = serve(sim.router()).await;
        Checkr {
            sim,
            base,
            http: Client::new(),
        }
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.http
            .post(format!("{}/v1/{path}", self.base))
            .basic_auth(KEY, Some(""))
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.http
            .get(format!("{}/v1/{path}", self.base))
            .basic_auth(KEY, Some(""))
    }

    async fn candidate(&self, email: &str) -> String {
        let response = self
            .post("candidates")
            .form(&[("email", email)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        body(response).await["id"].as_str().unwrap().to_owned()
    }

    async fn invite(&self, candidate: &str) -> Value {
        let response = self
            .post("invitations")
            .json(&json!({
                "candidate_id": candidate,
                "package": "tasker_standard",
                "work_locations": [{"country": "US", "state": "CA"}],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        body(response).await
    }
}

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn error(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body = body(response).await;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error"], "Checkr's error shape: {body}");
    (status, body["error"].as_str().unwrap().to_owned())
}

/// A webhook receiver that answers the statuses in `answers` in turn (200 once they run
/// out) and keeps every request.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    answers: Arc<Mutex<Vec<u16>>>,
    calls: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(answers: &[u16]) -> (Self, String) {
        let receiver = Receiver {
            answers: Arc::new(Mutex::new(answers.iter().rev().copied().collect())),
            ..Receiver::default()
        };
        let hits = receiver.clone();
        let router = Router::new().route(
            "/checkr",
            post(move |headers: HeaderMap, body: Bytes| async move {
                hits.calls.fetch_add(1, Ordering::SeqCst);
                hits.got.lock().unwrap().push((headers, body));
                let status = hits.answers.lock().unwrap().pop().unwrap_or(200);
                AxumStatus::from_u16(status).unwrap()
            }),
        );
        let url = format!("{}/checkr", serve(router).await);
        (receiver, url)
    }

    /// Waits (at most 5 s) for `n` requests, then answers the event types received.
    async fn wait_for(&self, n: usize) -> Vec<(HeaderMap, Value)> {
        let start = Instant::now();
        while self.calls.load(Ordering::SeqCst) < n && start.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(h, b)| (h.clone(), serde_json::from_slice(b).unwrap()))
            .collect()
    }
}

#[test]
fn the_signature_is_checkrs_published_test_vector() {
    assert_eq!(
        sign("test-secret", br#"{"monday":"75F","tuesday":"80F"}"#),
        "b7412f05e981a473b5ecbdb5393afaea02a679db6d7c8e56803512ec4ba98151"
    );
}

#[test]
fn failed_webhooks_are_retried_every_minute_for_ten_minutes_then_hourly_for_a_day() {
    let schedule = retry_schedule_minutes();
    assert_eq!(&schedule[..10], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(schedule[10], 70);
    assert_eq!(*schedule.last().unwrap(), 10 + 24 * 60);
    assert_eq!(schedule.len(), 34);
}

#[tokio::test]
async fn only_the_api_key_as_basic_user_with_an_empty_password_is_let_in() {
    let checkr = Checkr::start().await;
    let url = format!("{}/v1/packages", checkr.base);
    for request in [
        checkr.http.get(&url),
        checkr.http.get(&url).basic_auth("wrong", Some("")),
        checkr.http.get(&url).basic_auth(KEY, Some("password")),
        checkr.http.get(&url).bearer_auth(KEY),
    ] {
        let (status, message) = error(request.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(message, "Bad authentication error");
    }
    let packages = body(checkr.get("packages").send().await.unwrap()).await;
    assert_eq!(packages["object"], "list");
    assert_eq!(packages["data"][0]["slug"], "tasker_standard");
    assert_eq!(packages["count"], 1);
}

#[tokio::test]
async fn every_answer_carries_the_rate_limit_and_the_limit_is_enforced() {
    let checkr = Checkr::start().await;
    checkr.sim.set_requests_per_minute(2);
    let first = checkr.get("packages").send().await.unwrap();
    assert_eq!(first.headers()["x-ratelimit-limit"], "2");
    assert_eq!(first.headers()["x-ratelimit-remaining"], "1");
    assert!(first.headers().contains_key("x-ratelimit-reset"));
    let unauthenticated = checkr
        .http
        .get(format!("{}/v1/packages", checkr.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.headers()["x-ratelimit-remaining"], "0");
    let over = checkr.get("packages").send().await.unwrap();
    let same_minute = over.headers()["x-ratelimit-reset"] == first.headers()["x-ratelimit-reset"];
    assert!(same_minute || over.status() == StatusCode::OK);
    if same_minute {
        assert_eq!(
            error(over).await,
            (
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests".to_owned()
            )
        );
    }
}

#[tokio::test]
async fn a_candidate_needs_a_valid_email_and_names_in_checkrs_characters() {
    let checkr = Checkr::start().await;
    for (form, message) in [
        (vec![("first_name", "Ada")], "Email is required"),
        (vec![("email", "ada@")], "Email is not a valid email address"),
        (
            vec![("email", "ada@example.com"), ("first_name", "<script>")],
            "First name must only contain letters, numbers, spaces, hyphens, apostrophes, periods, and commas",
        ),
    ] {
        let response = checkr.post("candidates").form(&form).send().await.unwrap();
        assert_eq!(error(response).await, (StatusCode::BAD_REQUEST, message.to_owned()));
    }
    let json = checkr
        .post("candidates")
        .json(&json!({"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace-Byron"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::CREATED);
    let candidate = body(json).await;
    assert_eq!(candidate["object"], "candidate");
    assert_eq!(candidate["id"].as_str().unwrap().len(), 24);
    let id = candidate["id"].as_str().unwrap();
    let read = body(
        checkr
            .get(&format!("candidates/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(read["email"], "ada@example.com");
    let found = body(
        checkr
            .get("candidates?email=ada@example.com")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(found["count"], 1);
}

#[tokio::test]
async fn duplicate_candidates_are_allowed_twice_a_day_then_refused() {
    let checkr = Checkr::start().await;
    let ids = [
        checkr.candidate("ada@example.com").await,
        checkr.candidate("ada@example.com").await,
        checkr.candidate("ADA@example.com").await,
    ];
    assert_ne!(ids[0], ids[1], "Checkr allows duplicate candidates");
    let fourth = checkr
        .post("candidates")
        .form(&[("email", "ada@example.com")])
        .send()
        .await
        .unwrap();
    let (status, message) = error(fourth).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        message.starts_with("Duplicate candidate detected"),
        "{message}"
    );
}

#[tokio::test]
async fn an_invitation_needs_a_known_package_a_candidate_and_a_work_location() {
    let checkr = Checkr::start().await;
    let candidate = checkr.candidate("ada@example.com").await;
    let location = json!([{"country": "US", "state": "CA"}]);
    for (body, status, message) in [
        (
            json!({"candidate_id": candidate, "work_locations": location}),
            400,
            "package is required",
        ),
        (
            json!({"package": "tasker_standard", "work_locations": location}),
            400,
            "candidate_id is required",
        ),
        (
            json!({"candidate_id": candidate, "package": "tasker_standard"}),
            400,
            "work_locations is required",
        ),
        (
            json!({"candidate_id": candidate, "package": "tasker_standard", "work_locations": [{"country": "US"}]}),
            400,
            "work_locations state is required for US candidates",
        ),
        (
            json!({"candidate_id": candidate, "package": "driver_pro", "work_locations": location}),
            404,
            "Package not found",
        ),
        (
            json!({"candidate_id": "nosuch", "package": "tasker_standard", "work_locations": location}),
            404,
            "Candidate not found",
        ),
    ] {
        let response = checkr.post("invitations").json(&body).send().await.unwrap();
        assert_eq!(
            error(response).await,
            (StatusCode::from_u16(status).unwrap(), message.to_owned()),
            "{body}"
        );
    }
    assert!(checkr.sim.invitations().is_empty());

    // Form-urlencoded, Checkr's default encoding, with a non-US location.
    let form = [
        ("candidate_id", candidate.as_str()),
        ("package", "tasker_standard"),
        ("work_locations[][country]", "GB"),
        ("work_locations[][city]", "London"),
    ];
    let response = checkr.post("invitations").form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let invitation = body(response).await;
    assert_eq!(invitation["status"], "pending");
    assert_eq!(invitation["work_locations"][0]["country"], "GB");
    assert_eq!(invitation["work_locations"][0]["city"], "London");
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_successful_answer() {
    let checkr = Checkr::start().await;
    let candidate = checkr.candidate("ada@example.com").await;
    let invite = || {
        checkr
            .post("invitations")
            .header("Idempotency-Key", "7f1c3a6e-8f0d-4a5e-9b43-2f3f0c1d2e3f")
            .json(&json!({
                "candidate_id": candidate,
                "package": "tasker_standard",
                "work_locations": [{"state": "NY"}],
            }))
    };
    let first = body(invite().send().await.unwrap()).await;
    let again = invite().send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(body(again).await, first);
    assert_eq!(checkr.sim.invitations().len(), 1);
    let other = checkr.invite(&candidate).await;
    assert_ne!(other["id"], first["id"]);
    assert_eq!(checkr.sim.invitations().len(), 2);
}

#[tokio::test]
async fn only_a_pending_invitation_can_be_cancelled_and_then_reads_as_deleted() {
    let checkr = Checkr::start().await;
    let candidate = checkr.candidate("ada@example.com").await;
    let id = checkr.invite(&candidate).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let delete = || {
        checkr
            .http
            .delete(format!("{}/v1/invitations/{id}", checkr.base))
            .basic_auth(KEY, Some(""))
    };
    let cancelled = delete().send().await.unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert!(body(cancelled).await["deleted_at"].is_string());
    let gone = checkr
        .get(&format!("invitations/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let shown = checkr
        .get(&format!("invitations/{id}?include_deleted=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(
        delete().send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    let completed = checkr.invite(&candidate).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    checkr.sim.complete_invitation(&completed).await.unwrap();
    let refused = checkr
        .http
        .delete(format!("{}/v1/invitations/{completed}", checkr.base))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(error(refused).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn webhooks_are_signed_with_the_api_key_and_follow_the_invitation_to_its_report() {
    let checkr = Checkr::start().await;
    let (receiver, url) = Receiver::start(&[]).await;
    checkr.sim.add_webhook_url(&url).unwrap();
    let candidate = checkr.candidate("ada@example.com").await;
    let invitation = checkr.invite(&candidate).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    receiver.wait_for(1).await;
    let report = checkr.sim.complete_invitation(&invitation).await.unwrap();
    checkr.sim.complete_report(&report, "clear").await.unwrap();
    let got = receiver.wait_for(4).await;
    let types: Vec<&str> = got
        .iter()
        .map(|(_, b)| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "invitation.created",
            "invitation.completed",
            "report.created",
            "report.completed"
        ]
    );
    for ((headers, body), (_, raw)) in got.iter().zip(receiver.got.lock().unwrap().iter()) {
        let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
        mac.update(raw);
        assert_eq!(
            headers["x-checkr-signature"].to_str().unwrap(),
            hex::encode(mac.finalize().into_bytes())
        );
        assert!(headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("Checkr-Webhook/"));
        assert_eq!(body["object"], "event");
        assert_eq!(body["webhook_url"], url.as_str());
    }
    let completed = &got[3].1["data"]["object"];
    assert_eq!(completed["id"], report.as_str());
    assert_eq!(completed["status"], "complete");
    assert_eq!(completed["result"], "clear");
    let read = body(
        checkr
            .get(&format!("reports/{report}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(read["result"], "clear");
    assert_eq!(read["candidate_id"], candidate.as_str());
}

#[tokio::test]
async fn a_webhook_without_the_object_names_it_only() {
    let checkr = Checkr::start().await;
    let (receiver, url) = Receiver::start(&[]).await;
    checkr.sim.add_webhook_url(&url).unwrap();
    checkr.sim.set_include_object(false);
    let candidate = checkr.candidate("ada@example.com").await;
    let id = checkr.invite(&candidate).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = receiver.wait_for(1).await;
    let object = &got[0].1["data"]["object"];
    assert_eq!(
        object,
        &json!({"id": id, "object": "invitation", "uri": format!("/v1/invitations/{id}")})
    );
}

#[tokio::test]
async fn a_failed_webhook_is_retried_until_acknowledged() {
    let checkr = Checkr::start().await;
    checkr.sim.set_minute(Duration::from_millis(5));
    let (receiver, url) = Receiver::start(&[500, 503]).await;
    checkr.sim.add_webhook_url(&url).unwrap();
    let candidate = checkr.candidate("ada@example.com").await;
    checkr.invite(&candidate).await;
    receiver.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let attempts = checkr.sim.webhooks();
    let statuses: Vec<u16> = attempts.iter().map(|w| w.status).collect();
    assert_eq!(
        statuses,
        [500, 503, 200],
        "retried after each failure, stopped at the first 2xx"
    );
    assert_eq!(
        attempts.iter().map(|w| w.retry).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert!(attempts.iter().all(|w| w.event_id == attempts[0].event_id));
}

#[tokio::test]
async fn unknown_paths_answer_checkrs_error_shape() {
    let checkr = Checkr::start().await;
    let (status, _) = error(checkr.get("reports/nosuch").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = error(checkr.get("nothing/here").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
