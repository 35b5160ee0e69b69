//! The contract vendors' simulators (Xref, Justifacts, HRLogics, ESR), exercised over real
//! HTTP; their callbacks go to a receiver that verifies them as the product does, with
//! Standard Webhooks.

use crate::support::serve;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use axum::Router;
use lever_screening_simulators::{EsrSim, HrLogicsSim, JustifactsSim, SentCallback, XrefSim};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use standardwebhooks::Webhook;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_c2VjcmV0LXByZXZpb3VzLXByZXZpb3Vz";
const NOWHERE: &str = "http://127.0.0.1:9/cb";

/// One verified callback: its `webhook-id`, `content-type` and body.
type Verified = (String, String, Value);

/// A callback receiver that verifies each callback with `secret`: 200 and kept when the
/// signature holds, 401 otherwise.
#[derive(Clone)]
struct Receiver {
    webhook: Arc<Webhook>,
    verified: Arc<Mutex<Vec<Verified>>>,
}

impl Receiver {
    async fn start(secret: &str) -> (Self, String) {
        let receiver = Receiver {
            webhook: Arc::new(Webhook::new(secret).unwrap()),
            verified: Arc::default(),
        };
        let router = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        let url = format!("{}/hook", serve(router).await);
        (receiver, url)
    }

    fn verified(&self) -> Vec<Verified> {
        self.verified.lock().unwrap().clone()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> AxumStatus {
    if receiver.webhook.verify(&body, &headers).is_err() {
        return AxumStatus::UNAUTHORIZED;
    }
    let header = |name: &str| headers[name].to_str().unwrap().to_owned();
    let body = serde_json::from_slice(&body).unwrap();
    let verified = (header("webhook-id"), header("content-type"), body);
    receiver.verified.lock().unwrap().push(verified);
    AxumStatus::OK
}

#[derive(Clone, Copy)]
enum Auth {
    Basic(&'static str, &'static str),
    Bearer(&'static str),
    Header(&'static str, &'static str),
}

/// A vendor's API, served: its resource path, the credential it accepts, and what its
/// orders' ids are called in its bodies.
struct Endpoint {
    client: Client,
    base: String,
    path: &'static str,
    auth: Auth,
    id_field: &'static str,
}

impl Endpoint {
    async fn new(router: Router, path: &'static str, auth: Auth, id_field: &'static str) -> Self {
        Endpoint {
            client: Client::new(),
            base: serve(router).await,
            path,
            auth,
            id_field,
        }
    }

    /// A request to `{path}{suffix}` with `auth` (none when `None`).
    fn request(&self, method: Method, suffix: &str, auth: Option<Auth>) -> RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{}{suffix}", self.base, self.path));
        match auth {
            None => request,
            Some(Auth::Basic(user, password)) => request.basic_auth(user, Some(password)),
            Some(Auth::Bearer(token)) => request.bearer_auth(token),
            Some(Auth::Header(name, value)) => request.header(name, value),
        }
    }

    /// A create request with `auth` (none when `None`).
    fn create_request(&self, auth: Option<Auth>, body: &Value) -> RequestBuilder {
        self.request(Method::POST, "", auth).json(body)
    }

    async fn create(&self, body: &Value) -> (StatusCode, Value) {
        send(self.create_request(Some(self.auth), body)).await
    }

    /// A create under `Idempotency-Key: key`.
    async fn create_keyed(&self, key: &str, body: &Value) -> (StatusCode, Value) {
        let request = self.create_request(Some(self.auth), body);
        send(request.header("Idempotency-Key", key)).await
    }

    async fn read(&self, id: &str) -> (StatusCode, Value) {
        send(self.request(Method::GET, &format!("/{id}"), Some(self.auth))).await
    }

    async fn cancel(&self, id: &str) -> (StatusCode, Value) {
        send(self.request(Method::POST, &format!("/{id}/cancel"), Some(self.auth))).await
    }
}

async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn with(body: &Value, pointer: &str, value: Value) -> Value {
    let mut body = body.clone();
    *body.pointer_mut(pointer).unwrap() = value;
    body
}

fn without(body: &Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let mut body = body.clone();
    body.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap()
        .remove(key);
    body
}

/// No credential, or any of `wrong`, is refused with 401, on the create and the read alike.
async fn assert_requires(endpoint: &Endpoint, body: &Value, wrong: &[Auth]) {
    for auth in [None].into_iter().chain(wrong.iter().copied().map(Some)) {
        for request in [
            endpoint.create_request(auth, body),
            endpoint.request(Method::GET, "/any", auth),
        ] {
            let (status, error) = send(request).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(error["code"], "Unauthorized");
            assert!(error["message"].is_string());
        }
    }
}

/// Each field (a JSON pointer into `body`) missing, or blank, is refused with 422; a body
/// that is not JSON, with 400.
async fn assert_requires_fields(endpoint: &Endpoint, body: &Value, fields: &[&str]) {
    for field in fields {
        let (status, error) = endpoint.create(&without(body, field)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field} missing");
        assert_eq!(error["code"], "InvalidRequest");

        let (status, error) = endpoint.create(&with(body, field, json!(" "))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field} blank");
        assert_eq!(
            error["message"],
            format!("{} must not be empty", &field[1..].replace('/', "."))
        );
    }
    let not_json = endpoint
        .create_request(Some(endpoint.auth), body)
        .body("{oops");
    assert_eq!(
        not_json.send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
}

/// Each `(field, bad values)` is refused with 422 naming the field.
async fn assert_formats(endpoint: &Endpoint, body: &Value, checks: &[(&str, &[&str])]) {
    for (field, values) in checks {
        let name = field[1..].replace('/', ".");
        for value in *values {
            let (status, error) = endpoint.create(&with(body, field, json!(value))).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{field} = {value}"
            );
            assert_eq!(error["code"], "InvalidRequest");
            let message = error["message"].as_str().unwrap();
            assert!(
                message.starts_with(&format!("{name} must be ")),
                "{message}"
            );
        }
    }
}

const NOT_EMAILS: &[&str] = &["ada", "ada@example", "ada@@example.com", "ada @example.com"];
const NOT_E164: &[&str] = &[
    "+1 555 555 0100",
    "15555550100",
    "+0555",
    "",
    "+1555555010012345",
];
const NOT_URLS: &[&str] = &["127.0.0.1:9/cb", "ftp://example.com/cb"];

/// `body` creates an order (201). The same client reference again, without a key or
/// under another key, is 409 `duplicate_reference` naming that order; a create under a key
/// already used answers 200 with the order made under it, whatever its body. Returns the
/// first create's answer.
async fn assert_created_once(endpoint: &Endpoint, body: &Value) -> Value {
    let (status, created) = endpoint.create(body).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = &created[endpoint.id_field];
    assert!(id.is_string());

    for (status, conflict) in [
        endpoint.create(body).await,
        endpoint.create_keyed("key-0", body).await,
    ] {
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(conflict["code"], "duplicate_reference");
        assert_eq!(&conflict["id"], id);
        assert!(conflict["message"].is_string());
    }

    let keyed = |reference: &str| with(body, "/client_reference", json!(reference));
    let (status, first) = endpoint.create_keyed("key-1", &keyed("keyed-1")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(first, created);
    for again in [keyed("keyed-1"), keyed("keyed-2")] {
        let (status, repeat) = endpoint.create_keyed("key-1", &again).await;
        assert_eq!((status, &repeat), (StatusCode::OK, &first));
    }
    let (status, conflict) = endpoint.create_keyed("key-2", &keyed("keyed-1")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["id"], first[endpoint.id_field]);

    // Nothing the conflicts or repeats sent made an order, or took a key.
    let (status, _) = endpoint.create_keyed("key-0", &keyed("keyed-3")).await;
    assert_eq!(status, StatusCode::CREATED);
    created
}

/// With `fail_next(2, 429)` armed the next two creates answer 429 with `Retry-After`, and
/// the third is served again.
async fn assert_fails_next(endpoint: &Endpoint, body: &Value, fail_next: impl Fn(usize, u16)) {
    fail_next(2, 429);
    for _ in 0..2 {
        let response = endpoint
            .create_request(Some(endpoint.auth), body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "1");
    }
    fail_next(1, 503);
    let (status, error) = endpoint.create(body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error["code"], "SimulatedFailure");
    assert_eq!(endpoint.create(body).await.0, StatusCode::CREATED);
}

/// With `fail_after_applying(1, 504)` armed, a create answers 504 yet makes its order,
/// which a retry under the same key finds (200), and one without a key is told of (409).
/// Returns the order's id.
async fn assert_fails_after_applying(
    endpoint: &Endpoint,
    body: &Value,
    fail_after_applying: impl Fn(usize, u16),
) -> String {
    fail_after_applying(1, 504);
    let (status, error) = endpoint.create_keyed("key-1", body).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(error["code"], "SimulatedFailure");

    let (status, found) = endpoint.create_keyed("key-1", body).await;
    assert_eq!(status, StatusCode::OK);
    let id = found[endpoint.id_field].as_str().unwrap().to_owned();
    let (status, conflict) = endpoint.create(body).await;
    assert_eq!(
        (status, &conflict["id"]),
        (StatusCode::CONFLICT, &json!(id))
    );
    assert_eq!(endpoint.read(&id).await.0, StatusCode::OK);
    id
}

/// `GET {path}/{id}` answers `expected`; an unknown id is 404 `NotFound`.
async fn assert_reads(endpoint: &Endpoint, id: &str, expected: Value) {
    let (status, order) = endpoint.read(id).await;
    assert_eq!((status, order), (StatusCode::OK, expected));
    let (status, error) = endpoint.read("nope_9").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["code"], "NotFound");
    assert!(error["message"].as_str().unwrap().contains("nope_9"));
}

/// `id`, open, cancels (with the credential only): 200 with its body, status `cancelled`,
/// which reading it shows. A second cancel, or one of `ended` (an order already ended), is
/// 409 `order_ended`; an unknown id 404.
async fn assert_cancels(endpoint: &Endpoint, id: &str, ended: &str, cancelled: &str) {
    let anonymous = endpoint.request(Method::POST, &format!("/{id}/cancel"), None);
    let (status, error) = send(anonymous).await;
    assert_eq!(
        (status, &error["code"]),
        (StatusCode::UNAUTHORIZED, &json!("Unauthorized"))
    );

    let (status, body) = endpoint.cancel(id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body[endpoint.id_field], id);
    assert_eq!(body["status"], cancelled);
    assert_eq!(endpoint.read(id).await.1, body);

    for id in [id, ended] {
        let (status, error) = endpoint.cancel(id).await;
        assert_eq!(status, StatusCode::CONFLICT, "{id}");
        assert_eq!(error["code"], "order_ended");
        assert!(error["message"].as_str().unwrap().contains(id));
    }
    let (status, error) = endpoint.cancel("nope_9").await;
    assert_eq!(
        (status, &error["code"]),
        (StatusCode::NOT_FOUND, &json!("NotFound"))
    );
}

/// `sent` reached the receiver, verified, with body `expected`; `again` (its resend)
/// carried the same `webhook-id` and body.
fn assert_delivered_twice(
    receiver: &Receiver,
    sent: &SentCallback,
    again: &SentCallback,
    expected: Value,
) {
    assert_eq!((sent.status, again.status), (200, 200));
    assert!(sent.webhook_id.starts_with("msg_"));
    assert_eq!(
        (&again.webhook_id, &again.body),
        (&sent.webhook_id, &sent.body)
    );
    let verified = receiver.verified();
    assert_eq!(verified.len(), 2);
    for (id, content_type, body) in verified {
        assert_eq!(content_type, "application/json");
        assert_eq!(
            (id.as_str(), body),
            (sent.webhook_id.as_str(), expected.clone())
        );
    }
}

/// The callback body of `sent`.
fn body_of(sent: &SentCallback) -> Value {
    serde_json::from_str(&sent.body).unwrap()
}

// Xref

const XREF_KEY: &str = "xref-key";

async fn xref() -> (XrefSim, Endpoint) {
    let sim = XrefSim::new(XREF_KEY, SECRET);
    let auth = Auth::Header("X-Api-Key", XREF_KEY);
    let endpoint = Endpoint::new(sim.router(), "/reference-checks", auth, "id").await;
    (sim, endpoint)
}

fn xref_body(callback_url: &str) -> Value {
    json!({
        "client_reference": "order-1",
        "candidate": {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+61400000000"},
        "role": "Engineer",
        "callback_url": callback_url,
    })
}

#[tokio::test]
async fn xref_requires_the_api_key_and_every_field() {
    let (sim, endpoint) = xref().await;
    let body = xref_body(NOWHERE);
    let wrong = [
        Auth::Header("X-Api-Key", "wrong"),
        Auth::Bearer(XREF_KEY),
        Auth::Basic(XREF_KEY, ""),
    ];
    assert_requires(&endpoint, &body, &wrong).await;
    let fields = [
        "/client_reference",
        "/candidate/name",
        "/candidate/email",
        "/callback_url",
    ];
    assert_requires_fields(&endpoint, &body, &fields).await;
    assert!(sim.orders().is_empty());
}

#[tokio::test]
async fn xref_checks_the_email_phone_and_callback_url() {
    let (sim, endpoint) = xref().await;
    let body = xref_body(NOWHERE);
    let checks: [(&str, &[&str]); 3] = [
        ("/candidate/email", NOT_EMAILS),
        ("/candidate/phone", NOT_E164),
        ("/callback_url", NOT_URLS),
    ];
    assert_formats(&endpoint, &body, &checks).await;
    assert!(sim.orders().is_empty());

    let no_phone = with(&body, "/candidate/phone", Value::Null);
    assert_eq!(endpoint.create(&no_phone).await.0, StatusCode::CREATED);
    assert_eq!(sim.orders()[0].candidate.phone, None);
}

#[tokio::test]
async fn xref_orders_once_per_client_reference_and_per_key() {
    let (sim, endpoint) = xref().await;
    let created = assert_created_once(&endpoint, &xref_body(NOWHERE)).await;
    assert_eq!(
        created,
        json!({"id": "xref_1", "status": "Candidate submitted"})
    );
    let orders = sim.orders();
    assert_eq!(orders.len(), 3);
    assert_eq!(orders[0].candidate.email, "ada@example.com");
    assert_eq!(orders[0].candidate.phone.as_deref(), Some("+61400000000"));
    assert_eq!(orders[0].role.as_deref(), Some("Engineer"));
}

#[tokio::test]
async fn xref_reads_an_order_back_as_its_callback_has_it() {
    let (sim, endpoint) = xref().await;
    let (receiver, url) = Receiver::start(SECRET).await;
    endpoint.create(&xref_body(&url)).await;
    let first =
        json!({"id": "xref_1", "client_reference": "order-1", "status": "Candidate submitted"});
    assert_reads(&endpoint, "xref_1", first).await;

    let report = "https://xref.example/r/1";
    let sent = sim
        .post_status("xref_1", "Completed", Some(report))
        .await
        .unwrap();
    assert_eq!(sim.orders()[0].report_url.as_deref(), Some(report));
    assert_eq!(endpoint.read("xref_1").await.1, body_of(&sent));
    assert_eq!(receiver.verified()[0].2, body_of(&sent));
}

#[tokio::test]
async fn xref_cancels_a_check_until_it_ends() {
    let (sim, endpoint) = xref().await;
    for reference in ["order-1", "order-2"] {
        let body = with(&xref_body(NOWHERE), "/client_reference", json!(reference));
        endpoint.create(&body).await;
    }
    // The callback goes nowhere; the status is set all the same.
    let _ = sim.post_status("xref_2", "Completed", None).await;
    assert_cancels(&endpoint, "xref_1", "xref_2", "Cancelled").await;
    assert_eq!(sim.cancelled(), ["xref_1"]);
    assert_eq!(sim.orders()[0].status, "Cancelled");
    assert_eq!(sim.orders()[1].status, "Completed");
}

#[tokio::test]
async fn xref_fails_on_demand() {
    let (sim, endpoint) = xref().await;
    let body = xref_body(NOWHERE);
    assert_fails_next(&endpoint, &body, |n, s| sim.fail_next(n, s)).await;
    let other = with(&body, "/client_reference", json!("order-2"));
    let id =
        assert_fails_after_applying(&endpoint, &other, |n, s| sim.fail_after_applying(n, s)).await;
    assert_eq!(id, "xref_2");
    assert_eq!(sim.orders().len(), 2);
}

#[tokio::test]
async fn xref_callback_verifies_and_resend_keeps_its_id() {
    let (sim, endpoint) = xref().await;
    let (receiver, url) = Receiver::start(SECRET).await;
    endpoint.create(&xref_body(&url)).await;

    let report = "https://xref.example/r/1";
    let sent = sim
        .post_status("xref_1", "Completed", Some(report))
        .await
        .unwrap();
    assert_eq!(sim.orders()[0].status, "Completed");
    let again = sim.resend(&sent).await.unwrap();
    let expected = json!({"id": "xref_1", "client_reference": "order-1", "status": "Completed", "report_url": report});
    assert_delivered_twice(&receiver, &sent, &again, expected);

    assert!(sim.post_status("xref_9", "Completed", None).await.is_err());
}

// Justifacts

const JF_USER: &str = "jweb-user";
const JF_PASSWORD: &str = "jweb-password";

async fn justifacts() -> (JustifactsSim, Endpoint) {
    let sim = JustifactsSim::new(JF_USER, JF_PASSWORD, SECRET);
    let auth = Auth::Basic(JF_USER, JF_PASSWORD);
    let endpoint = Endpoint::new(sim.router(), "/invitations", auth, "request_id").await;
    (sim, endpoint)
}

fn invitation_body(callback_url: &str) -> Value {
    json!({
        "client_reference": "order-1",
        "package": {"code": "EmpCod", "id": "13558"},
        "applicant": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "callback_url": callback_url,
    })
}

#[tokio::test]
async fn justifacts_requires_basic_auth_and_every_field() {
    let (sim, endpoint) = justifacts().await;
    let body = invitation_body(NOWHERE);
    let wrong = [
        Auth::Basic(JF_USER, "wrong"),
        Auth::Basic("wrong", JF_PASSWORD),
        Auth::Bearer(JF_PASSWORD),
    ];
    assert_requires(&endpoint, &body, &wrong).await;
    let fields = [
        "/client_reference",
        "/package/code",
        "/package/id",
        "/applicant/first_name",
        "/applicant/last_name",
        "/applicant/email",
        "/callback_url",
    ];
    assert_requires_fields(&endpoint, &body, &fields).await;
    let checks: [(&str, &[&str]); 2] = [
        ("/applicant/email", NOT_EMAILS),
        ("/callback_url", NOT_URLS),
    ];
    assert_formats(&endpoint, &body, &checks).await;
    assert!(sim.invitations().is_empty());
}

#[tokio::test]
async fn justifacts_invites_the_applicant_once() {
    let (sim, endpoint) = justifacts().await;
    let created = assert_created_once(&endpoint, &invitation_body(NOWHERE)).await;
    assert_eq!(created, json!({"request_id": "jf_1"}));

    let invitations = sim.invitations();
    assert_eq!(invitations.len(), 3);
    let invitation = &invitations[0];
    assert_eq!(
        (
            invitation.request_id.as_str(),
            invitation.client_reference.as_str()
        ),
        ("jf_1", "order-1")
    );
    assert_eq!(
        (
            invitation.package_code.as_str(),
            invitation.package_id.as_str()
        ),
        ("EmpCod", "13558")
    );
    assert_eq!(
        (
            invitation.first_name.as_str(),
            invitation.last_name.as_str(),
            invitation.email.as_str()
        ),
        ("Ada", "Lovelace", "ada@example.com")
    );
    assert_eq!(invitation.callback_url, NOWHERE);
    assert_eq!(invitation.status, "InProgressCandidate");
    assert_eq!(
        (&invitation.result_status, &invitation.result_url),
        (&None, &None)
    );
}

#[tokio::test]
async fn justifacts_reads_a_request_back_as_its_callback_has_it() {
    let (sim, endpoint) = justifacts().await;
    let (_receiver, url) = Receiver::start(SECRET).await;
    endpoint.create(&invitation_body(&url)).await;
    let first = json!({"request_id": "jf_1", "client_reference": "order-1", "status": "InProgressCandidate"});
    assert_reads(&endpoint, "jf_1", first).await;

    let report = "https://justifacts.example/reports/1";
    let sent = sim
        .post_status("jf_1", "Complete", Some("Review"), Some(report))
        .await
        .unwrap();
    let (_, order) = endpoint.read("jf_1").await;
    assert_eq!(order, body_of(&sent));
    assert_eq!(
        (&order["result_status"], &order["result_url"]),
        (&json!("Review"), &json!(report))
    );

    // The results are the last status's: a later status without them clears them.
    let sent = sim
        .post_status("jf_1", "InProgressJustifacts", None, None)
        .await
        .unwrap();
    let expected = json!({"request_id": "jf_1", "client_reference": "order-1", "status": "InProgressJustifacts"});
    assert_eq!(body_of(&sent), expected);
    assert_eq!(endpoint.read("jf_1").await.1, expected);
}

#[tokio::test]
async fn justifacts_cancels_a_request_until_it_completes() {
    let (sim, endpoint) = justifacts().await;
    let (receiver, url) = Receiver::start(SECRET).await;
    for reference in ["order-1", "order-2"] {
        let body = with(
            &invitation_body(&url),
            "/client_reference",
            json!(reference),
        );
        endpoint.create(&body).await;
    }
    sim.post_status("jf_2", "Complete", Some("Clear"), None)
        .await
        .unwrap();
    assert_cancels(&endpoint, "jf_1", "jf_2", "Cancelled").await;
    assert_eq!(sim.cancelled(), ["jf_1"]);
    assert_eq!(receiver.verified().len(), 1, "a cancel sends no callback");
}

#[tokio::test]
async fn justifacts_fails_on_demand() {
    let (sim, endpoint) = justifacts().await;
    let body = invitation_body(NOWHERE);
    assert_fails_next(&endpoint, &body, |n, s| sim.fail_next(n, s)).await;
    let other = with(&body, "/client_reference", json!("order-2"));
    assert_fails_after_applying(&endpoint, &other, |n, s| sim.fail_after_applying(n, s)).await;
    assert_eq!(sim.invitations().len(), 2);
}

#[tokio::test]
async fn justifacts_status_callback_verifies_and_resend_keeps_its_id() {
    let (sim, endpoint) = justifacts().await;
    let (receiver, url) = Receiver::start(SECRET).await;
    endpoint.create(&invitation_body(&url)).await;

    let progress = sim
        .post_status("jf_1", "InProgressJustifacts", None, None)
        .await
        .unwrap();
    assert_eq!(progress.status, 200);
    assert_eq!(
        body_of(&progress),
        json!({"request_id": "jf_1", "client_reference": "order-1", "status": "InProgressJustifacts"})
    );
    receiver.verified.lock().unwrap().clear();

    let report = "https://justifacts.example/reports/1";
    let sent = sim
        .post_status("jf_1", "Complete", Some("Clear"), Some(report))
        .await
        .unwrap();
    assert_eq!(sim.invitations()[0].status, "Complete");
    let again = sim.resend(&sent).await.unwrap();
    let expected = json!({
        "request_id": "jf_1",
        "client_reference": "order-1",
        "status": "Complete",
        "result_status": "Clear",
        "result_url": report,
    });
    assert_delivered_twice(&receiver, &sent, &again, expected);

    assert!(sim
        .post_status("jf_9", "Complete", None, None)
        .await
        .is_err());
}

#[tokio::test]
async fn a_callback_signed_with_another_secret_is_refused() {
    let sim = JustifactsSim::new(JF_USER, JF_PASSWORD, OTHER_SECRET);
    let auth = Auth::Basic(JF_USER, JF_PASSWORD);
    let endpoint = Endpoint::new(sim.router(), "/invitations", auth, "request_id").await;
    let (receiver, url) = Receiver::start(SECRET).await;
    endpoint.create(&invitation_body(&url)).await;
    let sent = sim
        .post_status("jf_1", "Complete", None, None)
        .await
        .unwrap();
    assert_eq!(sent.status, 401);
    assert!(receiver.verified().is_empty());
}

// HRLogics

const HRL_KEY: &str = "hrl-key";

async fn hrlogics() -> (HrLogicsSim, Endpoint) {
    let sim = HrLogicsSim::new(HRL_KEY, SECRET);
    let auth = Auth::Bearer(HRL_KEY);
    let endpoint = Endpoint::new(sim.router(), "/wotc/applicants", auth, "applicant_id").await;
    (sim, endpoint)
}

fn applicant_body(callback_url: &str) -> Value {
    json!({
        "client_reference": "order-1",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+15555550100",
        "job_title": "Engineer",
        "location": "Austin",
        "callback_url": callback_url,
    })
}

#[tokio::test]
async fn hrlogics_requires_the_bearer_key_and_every_field() {
    let (sim, endpoint) = hrlogics().await;
    let body = applicant_body(NOWHERE);
    let wrong = [Auth::Bearer("wrong"), Auth::Basic(HRL_KEY, "")];
    assert_requires(&endpoint, &body, &wrong).await;
    let fields = [
        "/client_reference",
        "/first_name",
        "/last_name",
        "/email",
        "/callback_url",
    ];
    assert_requires_fields(&endpoint, &body, &fields).await;
    let checks: [(&str, &[&str]); 3] = [
        ("/email", NOT_EMAILS),
        ("/phone", NOT_E164),
        ("/callback_url", NOT_URLS),
    ];
    assert_formats(&endpoint, &body, &checks).await;
    assert!(sim.applicants().is_empty());
}

#[tokio::test]
async fn hrlogics_sends_the_survey_once() {
    let (sim, endpoint) = hrlogics().await;
    let created = assert_created_once(&endpoint, &applicant_body(NOWHERE)).await;
    assert_eq!(created["applicant_id"], "hrl_1");
    let survey_url = created["survey_url"].as_str().unwrap();
    assert!(survey_url.starts_with("https://"));

    let applicant = &sim.applicants()[0];
    assert_eq!(applicant.survey_url, survey_url);
    assert_eq!(
        (
            applicant.first_name.as_str(),
            applicant.last_name.as_str(),
            applicant.email.as_str()
        ),
        ("Ada", "Lovelace", "ada@example.com")
    );
    assert_eq!(applicant.phone.as_deref(), Some("+15555550100"));
    assert_eq!(applicant.job_title.as_deref(), Some("Engineer"));
    assert_eq!(applicant.location.as_deref(), Some("Austin"));
    assert_eq!(applicant.eligibility, None);
}

#[tokio::test]
async fn hrlogics_takes_an_applicant_without_the_optional_fields() {
    let (sim, endpoint) = hrlogics().await;
    let mut body = applicant_body(NOWHERE);
    for key in ["phone", "job_title", "location"] {
        body.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(endpoint.create(&body).await.0, StatusCode::CREATED);
    let applicant = &sim.applicants()[0];
    assert_eq!(
        (&applicant.phone, &applicant.job_title, &applicant.location),
        (&None, &None, &None)
    );
}

#[tokio::test]
async fn hrlogics_reads_an_applicant_back_without_eligibility_until_evaluated() {
    let (sim, endpoint) = hrlogics().await;
    let (_receiver, url) = Receiver::start(SECRET).await;
    endpoint.create(&applicant_body(&url)).await;
    let first = json!({"applicant_id": "hrl_1", "client_reference": "order-1"});
    assert_reads(&endpoint, "hrl_1", first).await;

    let sent = sim
        .post_eligibility("hrl_1", "Not Qualified")
        .await
        .unwrap();
    let (_, applicant) = endpoint.read("hrl_1").await;
    assert_eq!(applicant, body_of(&sent));
    assert_eq!(applicant["eligibility"], "Not Qualified");
}

#[tokio::test]
async fn hrlogics_has_nothing_to_cancel() {
    let (sim, endpoint) = hrlogics().await;
    endpoint.create(&applicant_body(NOWHERE)).await;
    let (status, error) = endpoint.cancel("hrl_1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["code"], "NotFound");
    assert_eq!(endpoint.read("hrl_1").await.0, StatusCode::OK);
    assert_eq!(sim.applicants().len(), 1);
}

#[tokio::test]
async fn hrlogics_fails_on_demand() {
    let (sim, endpoint) = hrlogics().await;
    let body = applicant_body(NOWHERE);
    assert_fails_next(&endpoint, &body, |n, s| sim.fail_next(n, s)).await;
    let other = with(&body, "/client_reference", json!("order-2"));
    assert_fails_after_applying(&endpoint, &other, |n, s| sim.fail_after_applying(n, s)).await;
    assert_eq!(sim.applicants().len(), 2);
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let (sim, endpoint) = hrlogics().await;
    let latency = Duration::from_millis(300);
    sim.set_latency(latency);
    let started = Instant::now();
    assert_eq!(
        endpoint.create(&applicant_body(NOWHERE)).await.0,
        StatusCode::CREATED
    );
    assert_eq!(endpoint.read("hrl_1").await.0, StatusCode::OK);
    assert!(started.elapsed() >= latency * 2, "{:?}", started.elapsed());

    sim.set_latency(Duration::ZERO);
    let started = Instant::now();
    endpoint.read("hrl_1").await;
    assert!(started.elapsed() < latency);
}

#[tokio::test]
async fn hrlogics_eligibility_callback_verifies_and_resend_keeps_its_id() {
    let (sim, endpoint) = hrlogics().await;
    let (receiver, url) = Receiver::start(SECRET).await;
    endpoint.create(&applicant_body(&url)).await;

    let sent = sim
        .post_eligibility("hrl_1", "Pre Qualified")
        .await
        .unwrap();
    assert_eq!(
        sim.applicants()[0].eligibility.as_deref(),
        Some("Pre Qualified")
    );
    let again = sim.resend(&sent).await.unwrap();
    let expected = json!({"applicant_id": "hrl_1", "client_reference": "order-1", "eligibility": "Pre Qualified"});
    assert_delivered_twice(&receiver, &sent, &again, expected);

    assert!(sim
        .post_eligibility("hrl_9", "Not Qualified")
        .await
        .is_err());
}

// ESR

const ESR_ACCOUNT: &str = "esr-account";
const ESR_KEY: &str = "esr-key";

async fn esr() -> (EsrSim, Endpoint) {
    let sim = EsrSim::new(ESR_ACCOUNT, ESR_KEY, SECRET);
    sim.add_package("pkg-7", "Standard Criminal");
    let auth = Auth::Basic(ESR_ACCOUNT, ESR_KEY);
    let endpoint = Endpoint::new(sim.router(), "/orders", auth, "order_id").await;
    (sim, endpoint)
}

fn esr_body(callback_url: &str) -> Value {
    json!({
        "client_reference": "order-1",
        "package_id": "pkg-7",
        "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+15555550100"},
        "callback_url": callback_url,
    })
}

#[tokio::test]
async fn esr_requires_basic_auth_and_every_field() {
    let (sim, endpoint) = esr().await;
    let body = esr_body(NOWHERE);
    let wrong = [Auth::Basic(ESR_ACCOUNT, "wrong"), Auth::Bearer(ESR_KEY)];
    assert_requires(&endpoint, &body, &wrong).await;
    let fields = [
        "/client_reference",
        "/package_id",
        "/candidate/first_name",
        "/candidate/last_name",
        "/candidate/email",
        "/callback_url",
    ];
    assert_requires_fields(&endpoint, &body, &fields).await;
    let checks: [(&str, &[&str]); 3] = [
        ("/candidate/email", NOT_EMAILS),
        ("/candidate/phone", NOT_E164),
        ("/callback_url", NOT_URLS),
    ];
    assert_formats(&endpoint, &body, &checks).await;
    assert!(sim.orders().is_empty());
}

#[tokio::test]
async fn esr_orders_once_and_only_known_packages() {
    let (sim, endpoint) = esr().await;
    let mut unknown = esr_body(NOWHERE);
    unknown["package_id"] = json!("pkg-8");
    let (status, error) = endpoint.create(&unknown).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["code"], "UnknownPackage");
    assert!(sim.orders().is_empty());

    let created = assert_created_once(&endpoint, &esr_body(NOWHERE)).await;
    assert_eq!(created, json!({"order_id": "esr_1", "status": "Draft"}));
    let order = &sim.orders()[0];
    assert_eq!(
        (order.package_id.as_str(), order.status.as_str()),
        ("pkg-7", "Draft")
    );
    assert_eq!(order.candidate.email, "ada@example.com");
    assert_eq!(order.candidate.phone.as_deref(), Some("+15555550100"));

    sim.add_package("pkg-8", "Executive");
    unknown["client_reference"] = json!("order-2");
    assert_eq!(endpoint.create(&unknown).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn esr_reads_an_order_back_as_its_callback_has_it() {
    let (sim, endpoint) = esr().await;
    let (_receiver, url) = Receiver::start(SECRET).await;
    endpoint.create(&esr_body(&url)).await;
    let first =
        json!({"order_id": "esr_1", "client_reference": "order-1", "status": "Draft", "flags": []});
    assert_reads(&endpoint, "esr_1", first).await;

    let report = "https://esr.example/reports/1";
    let flags = [("Criminal", "Record found, review")];
    let sent = sim
        .post_status("esr_1", "Completed", &flags, Some(report))
        .await
        .unwrap();
    let (_, order) = endpoint.read("esr_1").await;
    assert_eq!(order, body_of(&sent));
    assert_eq!(
        order["flags"],
        json!([{"category": "Criminal", "description": "Record found, review"}])
    );
    assert_eq!(order["report_url"], report);
    assert_eq!(sim.orders()[0].flags[0].category, "Criminal");
}

#[tokio::test]
async fn esr_cancels_an_order_until_it_ends() {
    let (sim, endpoint) = esr().await;
    for reference in ["order-1", "order-2", "order-3"] {
        let body = with(&esr_body(NOWHERE), "/client_reference", json!(reference));
        endpoint.create(&body).await;
    }
    let _ = sim.post_status("esr_2", "Archived", &[], None).await;
    assert_cancels(&endpoint, "esr_1", "esr_2", "Canceled").await;

    // A cancel whose answer is lost is applied all the same.
    sim.fail_after_applying(1, 504);
    assert_eq!(
        endpoint.cancel("esr_3").await.0,
        StatusCode::GATEWAY_TIMEOUT
    );
    let (status, error) = endpoint.cancel("esr_3").await;
    assert_eq!(
        (status, &error["code"]),
        (StatusCode::CONFLICT, &json!("order_ended"))
    );
    assert_eq!(sim.cancelled(), ["esr_1", "esr_3"]);
    assert_eq!(sim.orders()[2].status, "Canceled");
}

#[tokio::test]
async fn esr_fails_on_demand() {
    let (sim, endpoint) = esr().await;
    let body = esr_body(NOWHERE);
    assert_fails_next(&endpoint, &body, |n, s| sim.fail_next(n, s)).await;
    let other = with(&body, "/client_reference", json!("order-2"));
    assert_fails_after_applying(&endpoint, &other, |n, s| sim.fail_after_applying(n, s)).await;
    assert_eq!(sim.orders().len(), 2);

    // Reads and cancels are requests too.
    sim.fail_next(1, 500);
    assert_eq!(
        endpoint.read("esr_1").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(endpoint.read("esr_1").await.0, StatusCode::OK);
}

#[tokio::test]
async fn esr_status_callback_verifies_and_resend_keeps_its_id() {
    let (sim, endpoint) = esr().await;
    let (receiver, url) = Receiver::start(SECRET).await;
    endpoint.create(&esr_body(&url)).await;

    let progress = sim
        .post_status("esr_1", "In-Progress", &[], None)
        .await
        .unwrap();
    assert_eq!(
        body_of(&progress),
        json!({"order_id": "esr_1", "client_reference": "order-1", "status": "In-Progress", "flags": []})
    );
    receiver.verified.lock().unwrap().clear();

    let report = "https://esr.example/reports/1";
    let flags = [("Criminal", "Record found, review")];
    let sent = sim
        .post_status("esr_1", "Completed", &flags, Some(report))
        .await
        .unwrap();
    assert_eq!(sim.orders()[0].status, "Completed");
    let again = sim.resend(&sent).await.unwrap();
    let expected = json!({
        "order_id": "esr_1",
        "client_reference": "order-1",
        "status": "Completed",
        "flags": [{"category": "Criminal", "description": "Record found, review"}],
        "report_url": report,
    });
    assert_delivered_twice(&receiver, &sent, &again, expected);

    assert!(sim
        .post_status("esr_9", "Canceled", &[], None)
        .await
        .is_err());
}
