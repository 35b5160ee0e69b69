//! The Sterling simulator, exercised over real HTTP.

use crate::support::{serve, Receiver};
use lever_screening_simulators::{SterlingSim, Vocabulary};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "sterling-client";
const CLIENT_SECRET: &str = "sterling-secret";
const SERVICES: [&str; 2] = ["Criminal Record Check", "Employment Verification"];
const NOWHERE: &str = "http://127.0.0.1:9/cb";

/// The simulator with one package, served, and a client that holds a token.
struct Api {
    client: Client,
    sim: SterlingSim,
    base: String,
    token: String,
}

impl Api {
    async fn start() -> Self {
        let sim = SterlingSim::new(CLIENT_ID, CLIENT_SECRET);
        sim.add_package("pkg-1", "Standard", &SERVICES);
        let base = serve(sim.router()).await;
        let token = token(&base).await;
        Api {
            client: Client::new(),
            sim,
            base,
            token,
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(self.request(Method::GET, path)).await
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        send(self.request(Method::POST, path).json(body)).await
    }

    /// A new candidate; returns its id.
    async fn candidate(&self, reference: &str, email: &str) -> String {
        let body = candidate_body(reference, email);
        let (status, candidate) = self.post("/v2/candidates", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{candidate}");
        candidate["id"].as_str().unwrap().to_owned()
    }

    /// A candidate and a screening for it, with an email invite; returns the screening id.
    async fn screening(&self, callback_uri: &str) -> String {
        let candidate = self.candidate("ref-1", "ada@example.com").await;
        let body = screening_body(&candidate, callback_uri, "email");
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

async fn token(base: &str) -> String {
    let (status, body) = send(oauth(base, CLIENT_ID, CLIENT_SECRET)).await;
    assert_eq!(status, StatusCode::OK);
    body["access_token"].as_str().unwrap().to_owned()
}

async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

/// The codes of a Sterling error body, `{"errors":[{code, message}]}`; every message is
/// a string.
fn codes(error: &Value) -> Vec<&str> {
    let errors = error["errors"].as_array().unwrap();
    for e in errors {
        assert!(e["message"].is_string(), "{e}");
    }
    errors.iter().map(|e| e["code"].as_str().unwrap()).collect()
}

fn candidate_body(reference: &str, email: &str) -> Value {
    json!({
        "clientReferenceId": reference,
        "givenName": "Ada",
        "familyName": "Lovelace",
        "email": email,
        "phone": "+61400000000",
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
    assert_eq!(codes(&error), ["401#client?invalid"]);
    let anonymous = Client::new()
        .post(format!("{}/v2/oauth", api.base))
        .form(&[("grant_type", "client_credentials")]);
    assert_eq!(send(anonymous).await.0, StatusCode::UNAUTHORIZED);

    for form in [vec![("grant_type", "password")], vec![]] {
        let request = Client::new()
            .post(format!("{}/v2/oauth", api.base))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&form);
        let (status, error) = send(request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(codes(&error), ["400#grant_type?unsupported"]);
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
        client.post(format!("{}/v2/candidates", api.base)),
    ] {
        let (status, error) = send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(codes(&error), ["401#unauthorized"]);
    }
    assert_eq!(api.get("/v2/packages").await.0, StatusCode::OK);

    api.sim.expire_tokens();
    let (status, error) = api.get("/v2/packages").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(codes(&error), ["401#unauthorized"]);
    let fresh = client.get(&url).bearer_auth(token(&api.base).await);
    assert_eq!(send(fresh).await.0, StatusCode::OK);
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let api = Api::start().await;
    api.sim.set_token_lifetime(Duration::from_millis(800));
    let (_, body) = send(oauth(&api.base, CLIENT_ID, CLIENT_SECRET)).await;
    assert_eq!(body["expires_in"], 1);
    let short = body["access_token"].as_str().unwrap().to_owned();
    let packages = || {
        Client::new()
            .get(format!("{}/v2/packages", api.base))
            .bearer_auth(&short)
    };
    assert_eq!(send(packages()).await.0, StatusCode::OK);

    tokio::time::sleep(Duration::from_millis(900)).await;
    let (status, error) = send(packages()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(codes(&error), ["401#token?expired"]);
    // The token issued before the change keeps its 10 hours.
    assert_eq!(api.get("/v2/packages").await.0, StatusCode::OK);
}

#[tokio::test]
async fn packages_are_listed_as_a_bare_array() {
    let api = Api::start().await;
    api.sim.add_package("pkg-2", "Basic", &["Identity Check"]);
    api.sim
        .add_package("pkg-2", "Basic+", &["Identity Check", "Credit Check"]);
    let (status, packages) = api.get("/v2/packages").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        packages,
        json!([
            {"id": "pkg-1", "title": "Standard", "active": true, "components": SERVICES, "requiredFields": []},
            {"id": "pkg-2", "title": "Basic+", "active": true, "components": ["Identity Check", "Credit Check"], "requiredFields": []},
        ])
    );
}

#[tokio::test]
async fn candidate_needs_its_required_fields_in_their_formats() {
    let api = Api::start().await;
    let body = candidate_body("ref-1", "ada@example.com");
    for field in ["clientReferenceId", "givenName", "familyName", "email"] {
        let mut missing = body.clone();
        missing.as_object_mut().unwrap().remove(field);
        let mut blank = body.clone();
        blank[field] = json!(" ");
        for bad in [missing, blank] {
            let (status, error) = api.post("/v2/candidates", &bad).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{field}");
            assert_eq!(
                error,
                json!({"errors": [{"code": "400#required-field", "message": format!("{field} is required")}]})
            );
        }
    }
    let (status, error) = api.post("/v2/candidates", &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&error), ["400#required-field"; 4]);

    for phone in ["+61 400 000 000", "61400000000", "+0400", ""] {
        let mut bad = body.clone();
        bad["phone"] = json!(phone);
        let (status, error) = api.post("/v2/candidates", &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{phone}");
        assert_eq!(codes(&error), ["400#phone?format"]);
    }
    for email in ["ada", "ada@example", "ada@exa mple.com"] {
        let (status, error) = api
            .post("/v2/candidates", &candidate_body("ref-1", email))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email}");
        assert_eq!(codes(&error), ["400#email?format"]);
    }
    let not_json = api.request(Method::POST, "/v2/candidates").body("{oops");
    let (status, error) = send(not_json).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&error), ["400#body?format"]);
    assert!(api.sim.candidates().is_empty());

    let mut no_phone = body.clone();
    no_phone.as_object_mut().unwrap().remove("phone");
    let (status, created) = api.post("/v2/candidates", &no_phone).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(created.get("phone").is_none());
}

#[tokio::test]
async fn candidates_are_unique_by_email_and_by_client_reference() {
    let api = Api::start().await;
    let (status, created) = api
        .post(
            "/v2/candidates",
            &candidate_body("ref-1", "ada@example.com"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let mut expected = candidate_body("ref-1", "ada@example.com");
    expected["id"] = json!(id);
    expected["screeningIds"] = json!([]);
    assert_eq!(created, expected);

    let conflicts = [
        (candidate_body("ref-2", "ADA@example.com"), "email"),
        (
            candidate_body("ref-1", "grace@example.com"),
            "clientReferenceId",
        ),
    ];
    for (body, field) in conflicts {
        // An idempotency key changes nothing: v2 documents none.
        let request = api
            .request(Method::POST, "/v2/candidates")
            .header("Idempotency-Key", "key-1")
            .json(&body);
        let (status, error) = send(request).await;
        assert_eq!(status, StatusCode::CONFLICT, "{field}");
        assert_eq!(
            error,
            json!({"errors": [{"code": format!("409#{field}?already-in-use"), "message": format!("{field} already in use")}]})
        );
    }
    let (status, error) = api
        .post(
            "/v2/candidates",
            &candidate_body("ref-1", "ada@example.com"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        codes(&error),
        [
            "409#email?already-in-use",
            "409#clientReferenceId?already-in-use"
        ]
    );

    let other = api.candidate("ref-2", "grace@example.com").await;
    assert_ne!(other, id);
    let candidates = api.sim.candidates();
    assert_eq!(candidates.len(), 2);
    assert_eq!(candidates[0].phone.as_deref(), Some("+61400000000"));
}

#[tokio::test]
async fn candidates_are_read_by_id_and_never_searched() {
    let api = Api::start().await;
    let ada = api.candidate("ref-1", "ada@example.com").await;
    // Sterling's public v2 reference defines no candidate search: the simulator serves none.
    for query in ["?clientReferenceId=ref-1", "?email=ada%40example.com", ""] {
        let response = api
            .request(Method::GET, &format!("/v2/candidates{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{query}");
    }

    let (status, found) = api.get(&format!("/v2/candidates/{ada}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["clientReferenceId"], "ref-1");
    assert_eq!(found["screeningIds"], json!([]));
    let (status, error) = api.get("/v2/candidates/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(codes(&error), ["404#not-found"]);
}

#[tokio::test]
async fn screening_needs_its_fields_a_known_package_and_a_known_candidate() {
    let api = Api::start().await;
    let candidate = api.candidate("ref-1", "ada@example.com").await;
    let body = screening_body(&candidate, NOWHERE, "email");
    let remove = |pointer: &str| {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let mut bad = body.clone();
        bad.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap()
            .remove(key);
        bad
    };
    for (pointer, field) in [
        ("/packageId", "packageId"),
        ("/candidateId", "candidateId"),
        ("/callback", "callback.uri"),
        ("/callback/uri", "callback.uri"),
        ("/invite", "invite.method"),
        ("/invite/method", "invite.method"),
    ] {
        let (status, error) = api.post("/v2/screenings", &remove(pointer)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{pointer}");
        assert_eq!(
            error,
            json!({"errors": [{"code": "400#required-field", "message": format!("{field} is required")}]})
        );
    }

    let with = |pointer: &str, value: &str| {
        let mut bad = body.clone();
        *bad.pointer_mut(pointer).unwrap() = json!(value);
        bad
    };
    for (bad, code) in [
        (with("/invite/method", "fax"), "400#invite.method?format"),
        (
            with("/callback/uri", "not a url"),
            "400#callback.uri?format",
        ),
        (with("/packageId", "pkg-9"), "400#packageId?unknown"),
        (with("/candidateId", "cand-9"), "400#candidateId?unknown"),
    ] {
        let (status, error) = api.post("/v2/screenings", &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(codes(&error), [code]);
    }
    assert!(api.sim.screenings().is_empty());
    assert!(api.sim.emails().is_empty());
}

#[tokio::test]
async fn screening_carries_the_v2_fields_and_the_backcheck_fields() {
    let api = Api::start().await;
    let candidate = api.candidate("ref-1", "ada@example.com").await;
    let (status, screening) = api
        .post(
            "/v2/screenings",
            &screening_body(&candidate, NOWHERE, "email"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = screening["id"].as_str().unwrap();
    assert!(
        id.len() >= 10 && id.chars().all(|c| c.is_ascii_digit()),
        "{id}"
    );

    let mut keys: Vec<&str> = screening
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut expected_keys = [
        "id",
        "packageId",
        "candidateId",
        "status",
        "result",
        "invite",
        "links",
        "reportItems",
        "submittedAt",
        "updatedAt",
        "score",
        "overallServiceStatus",
        "reportUrl",
        "completedAt",
        "errorMessage",
    ];
    expected_keys.sort_unstable();
    assert_eq!(keys, expected_keys, "no orderNumber, no callback");

    assert_eq!(screening["packageId"], "pkg-1");
    assert_eq!(screening["candidateId"], candidate.as_str());
    assert_eq!(screening["status"], "Initiated");
    assert_eq!(screening["overallServiceStatus"], "In Production");
    for field in [
        "result",
        "score",
        "reportUrl",
        "completedAt",
        "errorMessage",
    ] {
        assert_eq!(screening[field], Value::Null, "{field}");
    }
    assert_eq!(screening["invite"]["method"], "email");
    let portal = screening["invite"]["link"].as_str().unwrap();
    assert!(portal.starts_with("https://candidate.sterling.example/portal/"));
    assert!(screening["links"]["admin"]["web"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/{id}")));
    let submitted = screening["submittedAt"].as_str().unwrap();
    assert_eq!(screening["updatedAt"], submitted);
    assert!(submitted.ends_with('Z'));
    let item = |n: usize| {
        json!({
            "id": format!("{id}-{n}"),
            "type": SERVICES[n - 1],
            "status": "Not Started",
            "result": null,
            "updatedAt": submitted,
            "score": null,
            "completedAt": null,
            "reportUrl": null,
        })
    };
    assert_eq!(screening["reportItems"], json!([item(1), item(2)]));

    let (_, found) = api.get(&format!("/v2/candidates/{candidate}")).await;
    assert_eq!(found["screeningIds"], json!([id]));
    let emails = api.sim.emails();
    assert_eq!(emails.len(), 1);
    assert_eq!(
        (emails[0].to.as_str(), emails[0].portal_url.as_str()),
        ("ada@example.com", portal)
    );
}

#[tokio::test]
async fn screenings_are_never_deduplicated() {
    let api = Api::start().await;
    let candidate = api.candidate("ref-1", "ada@example.com").await;
    let body = screening_body(&candidate, NOWHERE, "email");
    let create = || {
        api.request(Method::POST, "/v2/screenings")
            .header("Idempotency-Key", "order-1")
            .json(&body)
    };
    let (status, first) = send(create()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, second) = send(create()).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = |s: &Value| s["id"].as_str().unwrap().parse::<u64>().unwrap();
    assert_eq!(id(&second), id(&first) + 1);
    assert_ne!(first["invite"]["link"], second["invite"]["link"]);
    assert_eq!(api.sim.emails().len(), 2);

    // A link invite sends no email.
    let (status, linked) = api
        .post(
            "/v2/screenings",
            &screening_body(&candidate, NOWHERE, "link"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(linked["invite"]["method"], "link");
    assert_eq!(api.sim.emails().len(), 2);

    let (_, found) = api.get(&format!("/v2/candidates/{candidate}")).await;
    assert_eq!(
        found["screeningIds"],
        json!([first["id"], second["id"], linked["id"]])
    );
    assert_eq!(api.sim.screenings().len(), 3);
}

#[tokio::test]
async fn get_screening_answers_its_current_state_and_nothing_cancels() {
    let api = Api::start().await;
    let id = api.screening(NOWHERE).await;
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

    let (status, error) = api.get("/v2/screenings/1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(codes(&error), ["404#not-found"]);
    for path in [
        format!("/v2/screenings/{id}/cancel"),
        format!("/v2/screenings/{id}/cancellation"),
        "/v2/nothing".to_owned(),
    ] {
        let (status, error) = api.post(&path, &json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(codes(&error), ["404#not-found"]);
    }
    assert_eq!(api.sim.screening(&id).unwrap().status, "pending");
    assert!(api.sim.set_status("1", "Canceled").is_err());
}

#[tokio::test]
async fn services_complete_one_by_one_then_the_order_completes() {
    let api = Api::start().await;
    let id = api.screening(NOWHERE).await;
    let report = "https://sterling.example/reports/1";

    let screening = api
        .sim
        .complete_service(&id, SERVICES[0], "Green", report)
        .unwrap()
        .to_json();
    let item = &screening["reportItems"][0];
    assert_eq!(
        (&item["status"], &item["score"], &item["result"]),
        (&json!("Complete"), &json!("Green"), &json!("Green"))
    );
    assert_eq!(item["reportUrl"], report);
    assert!(is_date(&item["completedAt"]));
    assert_eq!(item["updatedAt"], screening["updatedAt"]);
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
    assert_eq!(
        (&json["score"], &json["result"]),
        (&json!("Amber"), &json!("Amber"))
    );
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
    let id = api.screening(NOWHERE).await;
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
    let id = api.screening(NOWHERE).await;
    api.sim
        .set_error(&id, "Candidate portal link expired")
        .unwrap();
    let (_, screening) = api.get(&format!("/v2/screenings/{id}")).await;
    assert_eq!(screening["status"], "Error");
    assert_eq!(screening["errorMessage"], "Candidate portal link expired");
    assert!(api.sim.set_error("1", "nope").is_err());
}

#[tokio::test]
async fn v2_vocabulary_renders_the_same_states_in_v2_words() {
    let api = Api::start().await;
    api.sim.set_vocabulary(Vocabulary::V2);
    assert_eq!(api.sim.vocabulary(), Vocabulary::V2);
    let id = api.screening(NOWHERE).await;
    let path = format!("/v2/screenings/{id}");
    let (_, screening) = api.get(&path).await;
    assert_eq!(
        (&screening["status"], &screening["result"]),
        (&json!("new"), &json!("n/a"))
    );
    assert_eq!(screening["score"], Value::Null);
    assert_eq!(screening["overallServiceStatus"], Value::Null);
    assert_eq!(screening["reportItems"][0]["status"], "pending");

    for (status, word) in [
        ("In Progress", "pending"),
        ("Canceled", "canceled"),
        ("Error", "expired"),
        ("PreDraft", "PreDraft"),
    ] {
        api.sim.set_status(&id, status).unwrap();
        assert_eq!(api.get(&path).await.1["status"], word, "{status}");
    }

    let report = "https://sterling.example/r/1";
    api.sim
        .complete_service(&id, SERVICES[0], "Amber", report)
        .unwrap();
    let completed = api.sim.complete(&id, "Red", report).unwrap();
    let (_, screening) = api.get(&path).await;
    assert_eq!(screening, completed.to_json_in(Vocabulary::V2));
    assert_eq!(
        (&screening["status"], &screening["result"]),
        (&json!("complete"), &json!("Adverse"))
    );
    assert_eq!(screening["reportUrl"], report);
    assert!(is_date(&screening["completedAt"]));
    let items = &screening["reportItems"];
    assert_eq!(
        (&items[0]["status"], &items[0]["result"]),
        (&json!("complete"), &json!("consider"))
    );
    assert_eq!(items[1]["result"], "adverse");
    assert_eq!(items[0]["score"], Value::Null);

    // The same state, back in Backcheck words.
    api.sim.set_vocabulary(Vocabulary::Backcheck);
    let (_, screening) = api.get(&path).await;
    assert_eq!(screening, completed.to_json());
    assert_eq!(
        (&screening["status"], &screening["score"]),
        (&json!("Completed"), &json!("Red"))
    );
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

    api.sim.set_vocabulary(Vocabulary::V2);
    api.sim.post_callback(&id).await.unwrap();

    let hits = receiver.hits();
    assert_eq!(hits.len(), 4);
    assert_eq!(hits[0].1, hits[1].1);
    for (headers, _) in &hits {
        assert_eq!(headers["content-type"], "application/json");
        assert!(!headers.contains_key("webhook-signature"));
        assert!(!headers.contains_key("authorization"));
    }
    let body = |n: usize| serde_json::from_slice::<Value>(&hits[n].1).unwrap();
    assert_eq!(
        body(0),
        json!({"type": "screening", "payload": completed.to_json()})
    );
    assert_eq!(body(0).to_string(), sent.body);
    assert_eq!(body(2), json!({"type": "screening", "payload": forged}));
    assert_eq!(
        body(3),
        json!({"type": "screening", "payload": completed.to_json_in(Vocabulary::V2)})
    );

    assert!(api.sim.post_callback("1").await.is_err());
    assert!(api.sim.post_callback_with("1", json!({})).await.is_err());
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

#[tokio::test]
async fn fail_after_applying_loses_the_answer_not_the_create() {
    let api = Api::start().await;
    let body = candidate_body("ref-1", "ada@example.com");

    // Token requests and refused creates do not count.
    api.sim.fail_after_applying(1, 504);
    token(&api.base).await;
    assert_eq!(
        api.post("/v2/candidates", &json!({})).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, error) = api.post("/v2/candidates", &body).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(error["code"], "SimulatedFailure");
    let (status, _) = api.post("/v2/candidates", &body).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // The answer was lost; the create was not (no documented call finds it: only the
    // simulator's own record shows it).
    let candidate = api
        .sim
        .candidates()
        .into_iter()
        .find(|c| c.client_reference_id == "ref-1")
        .unwrap()
        .id;

    // Only screening creates count for the screenings' own fault; the retry makes a second.
    api.sim.fail_screenings_after_applying(1, 504);
    let other = candidate_body("ref-2", "grace@example.com");
    assert_eq!(
        api.post("/v2/candidates", &other).await.0,
        StatusCode::CREATED
    );
    let screening = screening_body(&candidate, NOWHERE, "email");
    assert_eq!(
        api.post("/v2/screenings", &screening).await.0,
        StatusCode::GATEWAY_TIMEOUT
    );
    let (_, found) = api.get(&format!("/v2/candidates/{candidate}")).await;
    let lost = found["screeningIds"][0].as_str().unwrap().to_owned();
    assert!(api.sim.screening(&lost).is_some());
    let (status, retried) = api.post("/v2/screenings", &screening).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(retried["id"], lost.as_str());
    assert_eq!(api.sim.screenings().len(), 2);
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let api = Api::start().await;
    let latency = Duration::from_millis(300);
    api.sim.set_latency(latency);
    let started = Instant::now();
    assert_eq!(api.get("/v2/packages").await.0, StatusCode::OK);
    assert!(started.elapsed() >= latency);
    api.sim.set_latency(Duration::ZERO);
    let started = Instant::now();
    api.get("/v2/packages").await;
    assert!(started.elapsed() < latency);
}
