//! The Justifacts, HRLogics and ESR simulators, exercised over real HTTP; their callbacks
//! go to a receiver that verifies them as the product does, with Standard Webhooks.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use axum::Router;
use lever_screening_simulators::{EsrSim, HrLogicsSim, JustifactsSim, SentCallback};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use standardwebhooks::Webhook;
use std::sync::{Arc, Mutex};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_c2VjcmV0LXByZXZpb3VzLXByZXZpb3Vz";

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A callback receiver that verifies each callback with `secret`: 200 and kept when the
/// signature holds, 401 otherwise.
#[derive(Clone)]
struct Receiver {
    webhook: Arc<Webhook>,
    /// `webhook-id` and body of each verified callback.
    verified: Arc<Mutex<Vec<(String, Value)>>>,
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

    fn verified(&self) -> Vec<(String, Value)> {
        self.verified.lock().unwrap().clone()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> AxumStatus {
    if receiver.webhook.verify(&body, &headers).is_err() {
        return AxumStatus::UNAUTHORIZED;
    }
    let id = headers["webhook-id"].to_str().unwrap().to_owned();
    let body = serde_json::from_slice(&body).unwrap();
    receiver.verified.lock().unwrap().push((id, body));
    AxumStatus::OK
}

#[derive(Clone, Copy)]
enum Auth {
    Basic(&'static str, &'static str),
    Bearer(&'static str),
}

/// A vendor's create endpoint, served, and the credential it accepts.
struct Endpoint {
    url: String,
    auth: Auth,
}

impl Endpoint {
    async fn new(router: Router, path: &str, auth: Auth) -> Self {
        Endpoint {
            url: format!("{}{path}", serve(router).await),
            auth,
        }
    }

    /// A create request with `auth` (none when `None`).
    fn request(&self, auth: Option<Auth>, body: &Value) -> RequestBuilder {
        let request = Client::new().post(&self.url).json(body);
        match auth {
            None => request,
            Some(Auth::Basic(user, password)) => request.basic_auth(user, Some(password)),
            Some(Auth::Bearer(token)) => request.bearer_auth(token),
        }
    }

    async fn create(&self, body: &Value) -> (StatusCode, Value) {
        send(self.request(Some(self.auth), body)).await
    }
}

async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

/// No credential, or any of `wrong`, is refused with 401.
async fn assert_requires(endpoint: &Endpoint, body: &Value, wrong: &[Auth]) {
    let (status, error) = send(endpoint.request(None, body)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(error["message"].is_string());
    for auth in wrong {
        let (status, _) = send(endpoint.request(Some(*auth), body)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

/// Each field (a JSON pointer into `body`) missing, or blank, is refused with 422; a body
/// that is not JSON, with 400.
async fn assert_requires_fields(endpoint: &Endpoint, body: &Value, fields: &[&str]) {
    for field in fields {
        let (parent, key) = field.rsplit_once('/').unwrap();
        let mut missing = body.clone();
        missing
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap()
            .remove(key);
        let (status, error) = endpoint.create(&missing).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field} missing");
        assert_eq!(error["code"], "InvalidRequest");

        let mut blank = body.clone();
        *blank.pointer_mut(field).unwrap() = json!(" ");
        let (status, error) = endpoint.create(&blank).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field} blank");
        assert_eq!(
            error["message"],
            format!("{} must not be empty", &field[1..].replace('/', "."))
        );
    }
    let not_json = endpoint.request(Some(endpoint.auth), body).body("{oops");
    assert_eq!(
        not_json.send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
}

/// `body` creates an order (201); the same body again, or another client reference under
/// the same `Idempotency-Key`, answers 200 with the same order. Returns the answer.
async fn assert_created_once(endpoint: &Endpoint, body: &Value) -> Value {
    let (status, created) = endpoint.create(body).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, again) = endpoint.create(body).await;
    assert_eq!((status, &again), (StatusCode::OK, &created));

    let keyed = |reference: &str| {
        let mut body = body.clone();
        body["client_reference"] = json!(reference);
        endpoint
            .request(Some(endpoint.auth), &body)
            .header("Idempotency-Key", "key-1")
    };
    let (status, first) = send(keyed("keyed-1")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(first, created);
    let (status, repeat) = send(keyed("keyed-2")).await;
    assert_eq!((status, &repeat), (StatusCode::OK, &first));
    created
}

/// With `fail_next(2, 429)` armed the next two creates answer 429 with `Retry-After`, and
/// the third is served again.
async fn assert_fails_next(endpoint: &Endpoint, body: &Value, fail_next: impl Fn(usize, u16)) {
    fail_next(2, 429);
    for _ in 0..2 {
        let response = endpoint
            .request(Some(endpoint.auth), body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "1");
    }
    fail_next(1, 503);
    assert_eq!(
        endpoint.create(body).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(endpoint.create(body).await.0, StatusCode::CREATED);
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
    for (id, body) in verified {
        assert_eq!(
            (id.as_str(), body),
            (sent.webhook_id.as_str(), expected.clone())
        );
    }
}

// Justifacts

const JF_USER: &str = "jweb-user";
const JF_PASSWORD: &str = "jweb-password";

async fn justifacts() -> (JustifactsSim, Endpoint) {
    let sim = JustifactsSim::new(JF_USER, JF_PASSWORD, SECRET);
    let endpoint = Endpoint::new(
        sim.router(),
        "/invitations",
        Auth::Basic(JF_USER, JF_PASSWORD),
    )
    .await;
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
    let body = invitation_body("http://127.0.0.1:9/cb");
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
    assert!(sim.invitations().is_empty());
}

#[tokio::test]
async fn justifacts_invites_the_applicant_once() {
    let (sim, endpoint) = justifacts().await;
    let created = assert_created_once(&endpoint, &invitation_body("http://127.0.0.1:9/cb")).await;
    assert_eq!(created, json!({"request_id": "jf_1"}));

    let invitations = sim.invitations();
    assert_eq!(invitations.len(), 2);
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
    assert_eq!(invitation.callback_url, "http://127.0.0.1:9/cb");
    assert_eq!(invitation.status, "InProgressCandidate");
}

#[tokio::test]
async fn justifacts_fails_next_on_demand() {
    let (sim, endpoint) = justifacts().await;
    assert_fails_next(
        &endpoint,
        &invitation_body("http://127.0.0.1:9/cb"),
        |n, s| sim.fail_next(n, s),
    )
    .await;
    assert_eq!(sim.invitations().len(), 1);
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
        serde_json::from_str::<Value>(&progress.body).unwrap(),
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
    let endpoint = Endpoint::new(
        sim.router(),
        "/invitations",
        Auth::Basic(JF_USER, JF_PASSWORD),
    )
    .await;
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
    let endpoint = Endpoint::new(sim.router(), "/wotc/applicants", Auth::Bearer(HRL_KEY)).await;
    (sim, endpoint)
}

fn applicant_body(callback_url: &str) -> Value {
    json!({
        "client_reference": "order-1",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+1 555 0100",
        "job_title": "Engineer",
        "location": "Austin",
        "callback_url": callback_url,
    })
}

#[tokio::test]
async fn hrlogics_requires_the_bearer_key_and_every_field() {
    let (sim, endpoint) = hrlogics().await;
    let body = applicant_body("http://127.0.0.1:9/cb");
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
    assert!(sim.applicants().is_empty());
}

#[tokio::test]
async fn hrlogics_sends_the_survey_once() {
    let (sim, endpoint) = hrlogics().await;
    let created = assert_created_once(&endpoint, &applicant_body("http://127.0.0.1:9/cb")).await;
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
    assert_eq!(applicant.phone.as_deref(), Some("+1 555 0100"));
    assert_eq!(applicant.job_title.as_deref(), Some("Engineer"));
    assert_eq!(applicant.location.as_deref(), Some("Austin"));
    assert_eq!(applicant.eligibility, None);
}

#[tokio::test]
async fn hrlogics_takes_an_applicant_without_the_optional_fields() {
    let (sim, endpoint) = hrlogics().await;
    let mut body = applicant_body("http://127.0.0.1:9/cb");
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
async fn hrlogics_fails_next_on_demand() {
    let (sim, endpoint) = hrlogics().await;
    assert_fails_next(
        &endpoint,
        &applicant_body("http://127.0.0.1:9/cb"),
        |n, s| sim.fail_next(n, s),
    )
    .await;
    assert_eq!(sim.applicants().len(), 1);
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
    let endpoint = Endpoint::new(sim.router(), "/orders", Auth::Basic(ESR_ACCOUNT, ESR_KEY)).await;
    (sim, endpoint)
}

fn esr_body(callback_url: &str) -> Value {
    json!({
        "client_reference": "order-1",
        "package_id": "pkg-7",
        "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+1 555 0100"},
        "callback_url": callback_url,
    })
}

#[tokio::test]
async fn esr_requires_basic_auth_and_every_field() {
    let (sim, endpoint) = esr().await;
    let body = esr_body("http://127.0.0.1:9/cb");
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
    assert!(sim.orders().is_empty());
}

#[tokio::test]
async fn esr_orders_once_and_only_known_packages() {
    let (sim, endpoint) = esr().await;
    let mut unknown = esr_body("http://127.0.0.1:9/cb");
    unknown["package_id"] = json!("pkg-8");
    let (status, error) = endpoint.create(&unknown).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["code"], "UnknownPackage");
    assert!(sim.orders().is_empty());

    let created = assert_created_once(&endpoint, &esr_body("http://127.0.0.1:9/cb")).await;
    assert_eq!(created, json!({"order_id": "esr_1", "status": "Draft"}));
    let order = &sim.orders()[0];
    assert_eq!(
        (order.package_id.as_str(), order.status.as_str()),
        ("pkg-7", "Draft")
    );
    assert_eq!(order.candidate.email, "ada@example.com");
    assert_eq!(order.candidate.phone.as_deref(), Some("+1 555 0100"));

    sim.add_package("pkg-8", "Executive");
    unknown["client_reference"] = json!("order-2");
    assert_eq!(endpoint.create(&unknown).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn esr_fails_next_on_demand() {
    let (sim, endpoint) = esr().await;
    assert_fails_next(&endpoint, &esr_body("http://127.0.0.1:9/cb"), |n, s| {
        sim.fail_next(n, s)
    })
    .await;
    assert_eq!(sim.orders().len(), 1);
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
        serde_json::from_str::<Value>(&progress.body).unwrap(),
        json!({"order_id": "esr_1", "client_reference": "order-1", "status": "In-Progress"})
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
