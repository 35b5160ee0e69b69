//! The Sterling simulator, exercised over real HTTP.

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use lever_screening_simulators::SterlingSim;
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const CLIENT_ID: &str = "sterling-client";
const CLIENT_SECRET: &str = "sterling-secret";
const SERVICES: [&str; 2] = ["Criminal Record Check", "Employment Verification"];

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A callback receiver that answers 200 and keeps what it got.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

impl Receiver {
    async fn start() -> (Self, String) {
        let receiver = Receiver::default();
        let hits = receiver.0.clone();
        let router = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| async move {
                hits.lock().unwrap().push((headers, body));
                "ok"
            }),
        );
        let url = format!("{}/hook", serve(router).await);
        (receiver, url)
    }

    fn hits(&self) -> Vec<(HeaderMap, Bytes)> {
        self.0.lock().unwrap().clone()
    }
}

/// The simulator with one package, served, and a client that holds a token.
struct Api {
    sim: SterlingSim,
    base: String,
    token: String,
}

impl Api {
    async fn start() -> Self {
        let sim = SterlingSim::new(CLIENT_ID, CLIENT_SECRET);
        sim.add_package("pkg-1", "Standard", &SERVICES);
        let base = serve(sim.router()).await;
        let (status, body) = send(oauth(&base, CLIENT_ID, CLIENT_SECRET)).await;
        assert_eq!(status, StatusCode::OK);
        let token = body["access_token"].as_str().unwrap().to_owned();
        Api { sim, base, token }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(self.request(Method::GET, path)).await
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        send(self.request(Method::POST, path).json(body)).await
    }

    /// A candidate and a screening for it, with an email invite; returns the screening id.
    async fn screening(&self, callback_uri: &str) -> String {
        let (status, candidate) = self.post("/v2/candidates", &candidate_body("ref-1")).await;
        assert!(status.is_success());
        let body = screening_body(candidate["id"].as_str().unwrap(), callback_uri, "email");
        let (status, screening) = self.post("/v2/screenings", &body).await;
        assert_eq!(status, StatusCode::CREATED);
        screening["id"].as_str().unwrap().to_owned()
    }
}

fn oauth(base: &str, client_id: &str, client_secret: &str) -> RequestBuilder {
    Client::new()
        .post(format!("{base}/v2/oauth"))
        .basic_auth(client_id, Some(client_secret))
        .form(&[("grant_type", "client_credentials")])
}

async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn candidate_body(reference: &str) -> Value {
    json!({
        "clientReferenceId": reference,
        "givenName": "Ada",
        "familyName": "Lovelace",
        "email": "ada@example.com",
        "phone": "+61 400 000 000",
    })
}

fn screening_body(candidate_id: &str, callback_uri: &str, invite: &str) -> Value {
    json!({
        "packageId": "pkg-1",
        "candidateId": candidate_id,
        "callback": {"uri": callback_uri},
        "invite": {"method": invite},
    })
}

fn is_date(value: &Value) -> bool {
    value.as_str().is_some_and(|d| {
        d.len() == 10
            && d.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            })
    })
}

#[tokio::test]
async fn token_needs_the_client_credentials_and_the_grant_type() {
    let api = Api::start().await;
    let (status, body) = send(oauth(&api.base, CLIENT_ID, CLIENT_SECRET)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 36000);
    assert_ne!(body["access_token"], api.token.as_str());
    assert_eq!(api.sim.tokens_issued(), 2);

    let (status, error) = send(oauth(&api.base, CLIENT_ID, "wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(error["message"].is_string());
    let anonymous = Client::new()
        .post(format!("{}/v2/oauth", api.base))
        .form(&[("grant_type", "client_credentials")]);
    assert_eq!(send(anonymous).await.0, StatusCode::UNAUTHORIZED);

    for form in [vec![("grant_type", "password")], vec![]] {
        let request = Client::new()
            .post(format!("{}/v2/oauth", api.base))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&form);
        assert_eq!(send(request).await.0, StatusCode::BAD_REQUEST);
    }
    assert_eq!(api.sim.tokens_issued(), 2);
}

#[tokio::test]
async fn api_needs_a_live_bearer_token() {
    let api = Api::start().await;
    let url = format!("{}/v2/packages", api.base);
    let client = Client::new();
    for request in [
        client.get(&url),
        client.get(&url).bearer_auth("made-up"),
        client.get(&url).basic_auth(CLIENT_ID, Some(CLIENT_SECRET)),
    ] {
        let (status, error) = send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(error["code"], "Unauthorized");
    }
    assert_eq!(api.get("/v2/packages").await.0, StatusCode::OK);

    api.sim.expire_tokens();
    assert_eq!(api.get("/v2/packages").await.0, StatusCode::UNAUTHORIZED);
    let (_, body) = send(oauth(&api.base, CLIENT_ID, CLIENT_SECRET)).await;
    let fresh = client
        .get(&url)
        .bearer_auth(body["access_token"].as_str().unwrap());
    assert_eq!(send(fresh).await.0, StatusCode::OK);
}

#[tokio::test]
async fn packages_are_listed_as_seeded() {
    let api = Api::start().await;
    api.sim.add_package("pkg-2", "Basic", &["Identity Check"]);
    api.sim
        .add_package("pkg-2", "Basic+", &["Identity Check", "Credit Check"]);
    let (status, packages) = api.get("/v2/packages").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        packages,
        json!([
            {"id": "pkg-1", "title": "Standard", "services": SERVICES},
            {"id": "pkg-2", "title": "Basic+", "services": ["Identity Check", "Credit Check"]},
        ])
    );
}

#[tokio::test]
async fn candidate_is_created_once_per_client_reference() {
    let api = Api::start().await;
    let (status, created) = api.post("/v2/candidates", &candidate_body("ref-1")).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut expected = candidate_body("ref-1");
    expected["id"] = json!("cand_1");
    assert_eq!(created, expected);

    let (status, again) = api.post("/v2/candidates", &candidate_body("ref-1")).await;
    assert_eq!((status, again), (StatusCode::OK, created));
    let (status, other) = api.post("/v2/candidates", &candidate_body("ref-2")).await;
    assert_eq!(
        (status, &other["id"]),
        (StatusCode::CREATED, &json!("cand_2"))
    );

    for field in ["givenName", "familyName", "email"] {
        let mut missing = candidate_body("ref-3");
        missing.as_object_mut().unwrap().remove(field);
        let (status, error) = api.post("/v2/candidates", &missing).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(error["message"].as_str().unwrap().contains(field));
        let mut blank = candidate_body("ref-3");
        blank[field] = json!(" ");
        let (status, _) = api.post("/v2/candidates", &blank).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
    }
    let not_json = api.request(Method::POST, "/v2/candidates").body("{oops");
    assert_eq!(send(not_json).await.0, StatusCode::BAD_REQUEST);

    let candidates = api.sim.candidates();
    assert_eq!(candidates.len(), 2);
    assert_eq!(candidates[0].phone.as_deref(), Some("+61 400 000 000"));
}

#[tokio::test]
async fn screening_lists_the_package_services_and_emails_the_portal_link() {
    let api = Api::start().await;
    let (_, candidate) = api.post("/v2/candidates", &candidate_body("ref-1")).await;
    let body = screening_body("cand_1", "http://127.0.0.1:9/cb", "email");
    let create = || {
        api.request(Method::POST, "/v2/screenings")
            .header("Idempotency-Key", "order-1")
            .json(&body)
    };
    let (status, screening) = send(create()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(screening["id"], "scr_1");
    assert_eq!(screening["orderNumber"], "BC-100001");
    assert_eq!(screening["packageId"], "pkg-1");
    assert_eq!(screening["candidateId"], candidate["id"]);
    assert_eq!(screening["status"], "Initiated");
    assert_eq!(screening["overallServiceStatus"], "In Production");
    for field in ["score", "reportUrl", "completedAt", "errorMessage"] {
        assert_eq!(screening[field], Value::Null, "{field}");
    }
    assert_eq!(
        screening["callback"],
        json!({"uri": "http://127.0.0.1:9/cb"})
    );
    assert_eq!(screening["invite"]["method"], "email");
    let portal = screening["invite"]["link"].as_str().unwrap();
    assert!(portal.starts_with("https://candidate.sterling.example/portal/"));
    assert!(screening["links"]["admin"]["web"]
        .as_str()
        .unwrap()
        .ends_with("/scr_1"));
    assert_eq!(screening["submittedAt"], screening["updatedAt"]);
    assert!(screening["submittedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        screening["reportItems"],
        json!([
            {"id": "scr_1-1", "type": SERVICES[0], "status": "Not Started", "score": null, "completedAt": null, "reportUrl": null},
            {"id": "scr_1-2", "type": SERVICES[1], "status": "Not Started", "score": null, "completedAt": null, "reportUrl": null},
        ])
    );

    let (status, again) = send(create()).await;
    assert_eq!((status, &again), (StatusCode::OK, &screening));
    assert_eq!(api.sim.screenings().len(), 1);
    let emails = api.sim.emails();
    assert_eq!(emails.len(), 1);
    assert_eq!(
        (emails[0].to.as_str(), emails[0].portal_url.as_str()),
        ("ada@example.com", portal)
    );

    // Without the header nothing ties a repeat to the first screening; a link invite
    // sends no email.
    let (status, linked) = api
        .post(
            "/v2/screenings",
            &screening_body("cand_1", "http://127.0.0.1:9/cb", "link"),
        )
        .await;
    assert_eq!(
        (status, &linked["id"]),
        (StatusCode::CREATED, &json!("scr_2"))
    );
    assert_eq!(linked["orderNumber"], "BC-100002");
    assert_eq!(api.sim.emails().len(), 1);

    let mut unknown_package = body.clone();
    unknown_package["packageId"] = json!("pkg-9");
    let unknown_candidate = screening_body("cand_9", "http://127.0.0.1:9/cb", "email");
    let fax = screening_body("cand_1", "http://127.0.0.1:9/cb", "fax");
    let mut no_callback = body.clone();
    no_callback.as_object_mut().unwrap().remove("callback");
    for bad in [unknown_package, unknown_candidate, fax, no_callback] {
        let (status, error) = api.post("/v2/screenings", &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(error["message"].is_string());
    }
    assert_eq!(api.sim.screenings().len(), 2);
}

#[tokio::test]
async fn get_screening_answers_its_current_state() {
    let api = Api::start().await;
    let id = api.screening("http://127.0.0.1:9/cb").await;
    let updated = api.sim.set_status(&id, "In Progress").unwrap();
    let (status, screening) = api.get(&format!("/v2/screenings/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(screening["status"], "In Progress");
    assert_eq!(screening, updated.to_json());
    assert_eq!(api.sim.screening(&id), Some(updated));

    api.sim.set_status(&id, "pending").unwrap();
    assert_eq!(
        api.get(&format!("/v2/screenings/{id}")).await.1["status"],
        "pending"
    );

    let (status, error) = api.get("/v2/screenings/scr_9").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error["message"].is_string());
    assert_eq!(api.get("/v2/nothing").await.0, StatusCode::NOT_FOUND);
    assert!(api.sim.set_status("scr_9", "Canceled").is_err());
}

#[tokio::test]
async fn services_complete_one_by_one_then_the_order_completes() {
    let api = Api::start().await;
    let id = api.screening("http://127.0.0.1:9/cb").await;
    let report = "https://sterling.example/reports/1";

    let screening = api
        .sim
        .complete_service(&id, SERVICES[0], "Green", report)
        .unwrap()
        .to_json();
    let item = &screening["reportItems"][0];
    assert_eq!(
        (&item["status"], &item["score"]),
        (&json!("Complete"), &json!("Green"))
    );
    assert_eq!(item["reportUrl"], report);
    assert!(is_date(&item["completedAt"]));
    assert_eq!(
        item["completedAt"].as_str(),
        screening["updatedAt"].as_str().map(|t| &t[..10])
    );
    assert_eq!(screening["reportItems"][1]["status"], "Not Started");
    assert_eq!(screening["overallServiceStatus"], "In Production");
    assert_eq!(screening["status"], "Initiated");
    assert!(api
        .sim
        .complete_service(&id, "Drug Test", "Red", report)
        .is_err());

    let screening = api
        .sim
        .complete_service(&id, SERVICES[1], "Amber", report)
        .unwrap();
    assert_eq!(screening.overall_service_status, "Fulfilled");
    assert_eq!(screening.score, None);

    let completed = api
        .sim
        .complete(&id, "Amber", "https://sterling.example/r/all")
        .unwrap();
    let json = completed.to_json();
    assert_eq!(json["status"], "Completed");
    assert_eq!(json["score"], "Amber");
    assert_eq!(json["reportUrl"], "https://sterling.example/r/all");
    assert!(is_date(&json["completedAt"]));
    assert_eq!(json["overallServiceStatus"], "Fulfilled");
    // Items completed earlier keep their own score.
    assert_eq!(json["reportItems"][0]["score"], "Green");
    assert_eq!(api.get(&format!("/v2/screenings/{id}")).await.1, json);
}

#[tokio::test]
async fn complete_finishes_every_service_left() {
    let api = Api::start().await;
    let id = api.screening("http://127.0.0.1:9/cb").await;
    let screening = api
        .sim
        .complete(&id, "Red", "https://sterling.example/r/1")
        .unwrap();
    assert_eq!(screening.status, "Completed");
    assert_eq!(screening.overall_service_status, "Fulfilled");
    for item in &screening.report_items {
        assert_eq!(item.status, "Complete");
        assert_eq!(item.score.as_deref(), Some("Red"));
        assert_eq!(item.completed_at, screening.completed_at);
    }
}

#[tokio::test]
async fn set_error_records_the_message() {
    let api = Api::start().await;
    let id = api.screening("http://127.0.0.1:9/cb").await;
    api.sim
        .set_error(&id, "Candidate portal link expired")
        .unwrap();
    let (_, screening) = api.get(&format!("/v2/screenings/{id}")).await;
    assert_eq!(screening["status"], "Error");
    assert_eq!(screening["errorMessage"], "Candidate portal link expired");
    assert!(api.sim.set_error("scr_9", "nope").is_err());
}

#[tokio::test]
async fn callback_posts_the_screening_and_resend_repeats_it() {
    let api = Api::start().await;
    let (receiver, url) = Receiver::start().await;
    let id = api.screening(&url).await;
    let completed = api
        .sim
        .complete(&id, "Green", "https://sterling.example/r/1")
        .unwrap();

    let sent = api.sim.post_callback(&id).await.unwrap();
    assert_eq!((sent.status, sent.response.as_str()), (200, "ok"));
    assert_eq!(sent.url, url);
    let again = api.sim.resend(&sent).await.unwrap();
    assert_eq!(again.body, sent.body);

    let forged = json!({"id": id, "status": "Completed", "score": "Green"});
    let stale = api
        .sim
        .post_callback_with(&id, forged.clone())
        .await
        .unwrap();
    assert_eq!(stale.status, 200);

    let hits = receiver.hits();
    assert_eq!(hits.len(), 3);
    assert_eq!(hits[0].1, hits[1].1);
    for (headers, _) in &hits {
        assert_eq!(headers["content-type"], "application/json");
        assert!(!headers.contains_key("webhook-signature"));
    }
    let body: Value = serde_json::from_slice(&hits[0].1).unwrap();
    assert_eq!(
        body,
        json!({"type": "screening", "payload": completed.to_json()})
    );
    assert_eq!(body.to_string(), sent.body);
    let body: Value = serde_json::from_slice(&hits[2].1).unwrap();
    assert_eq!(body, json!({"type": "screening", "payload": forged}));

    assert!(api.sim.post_callback("scr_9").await.is_err());
    assert!(api
        .sim
        .post_callback_with("scr_9", json!({}))
        .await
        .is_err());
}

#[tokio::test]
async fn fail_next_answers_the_injected_status() {
    let api = Api::start().await;
    api.sim.fail_next(2, 503);
    let (status, error) = send(oauth(&api.base, CLIENT_ID, CLIENT_SECRET)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error["code"], "SimulatedFailure");
    assert_eq!(
        api.get("/v2/packages").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(api.get("/v2/packages").await.0, StatusCode::OK);
    assert_eq!(api.sim.tokens_issued(), 1);

    api.sim.fail_next(1, 429);
    let response = api
        .request(Method::GET, "/v2/packages")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(api.get("/v2/packages").await.0, StatusCode::OK);
}
