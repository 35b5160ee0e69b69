//! The stack the end-to-end tests drive — the functions behind the local server, the worker
//! task, the real vendor adapters against the simulators — with helpers to send what Lever
//! and the vendors send and to read what Lever shows.
#![allow(dead_code)]

use lever_screening::callback_auth::{sign_headers, HEADER_SIGNATURE};
use lever_screening::clock::now_millis;
use lever_screening::ids::TenantId;
use lever_screening::retry::RetryPolicy;
use lever_screening::store::memory::MemoryStore;
use lever_screening::store::TenantStore;
use lever_screening::Settings;
use lever_screening_local::demo_tenant as demo;
use lever_screening_local::stack::{Stack, StackOptions};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub const SUBMITTED: &str = "Xref - Candidate submitted";
/// How long the worker may take over one step.
pub const SETTLE: Duration = Duration::from_secs(20);

pub struct Harness {
    pub stack: Stack,
    pub store: Arc<MemoryStore>,
    pub http: reqwest::Client,
}

pub const OTHER_STERLING_SECRET: &str = "other-tenant-sterling-secret";
pub const OTHER_SECRET: &str = "whsec_b3RoZXItdGVuYW50LWNhbGxiYWNrLXNlY3JldA==";

/// Fast retries, so outage tests finish quickly.
pub fn fast_settings() -> Settings {
    let mut settings = Settings {
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            timeout: Duration::from_secs(2),
            ..RetryPolicy::default()
        },
        ..Settings::default()
    };
    settings.work.first_retry = Duration::from_millis(50);
    settings.work.max_retry = Duration::from_millis(200);
    settings
}

/// A stack with fast retries and a second tenant, `other`, configured like the demo tenant
/// but with secrets of its own.
pub async fn start() -> Harness {
    start_with(fast_settings()).await
}

pub async fn start_with(settings: Settings) -> Harness {
    let other = json!({
        "webhooks": { "candidateStageChange": { "current": "other-tenant-stage-token" } },
        "vendors": {
            "xref": {
                "lever": { "api_key": demo::XREF_LEVER_KEY },
                "api_key": "k",
                "callback_secret": { "current": OTHER_SECRET }
            },
            "sterling": {
                "lever": { "api_key": demo::STERLING_LEVER_KEY },
                "client_id": demo::STERLING_CLIENT_ID,
                "client_secret": demo::STERLING_CLIENT_SECRET,
                "callback_secret": { "current": OTHER_STERLING_SECRET }
            }
        }
    });
    let store = Arc::new(MemoryStore::new());
    let stack = Stack::start(StackOptions {
        store: store.clone(),
        extra_secrets: [("other".to_owned(), other)].into_iter().collect(),
        settings,
        ..StackOptions::embedded()
    })
    .await
    .unwrap();
    let mut other = store
        .get_tenant(&tenant(demo::TENANT))
        .await
        .unwrap()
        .unwrap();
    other.tenant_id = tenant("other");
    store.put_tenant(&other).await.unwrap();
    Harness {
        stack,
        store,
        http: reqwest::Client::new(),
    }
}

pub fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

impl Harness {
    /// Waits for the worker to finish what was queued; fails the test if it does not.
    pub async fn settle(&self) {
        assert!(self.stack.settle(SETTLE).await, "the worker did not finish");
    }

    /// The demo candidate's tags in Lever.
    pub fn tags(&self) -> Vec<String> {
        self.tags_of(demo::OPPORTUNITY_ID)
    }

    pub fn tags_of(&self, opportunity: &str) -> Vec<String> {
        self.stack.lever.opportunity(opportunity).unwrap().tags
    }

    /// The texts of the notes Lever shows on `opportunity` (demo tenant's account).
    pub fn notes(&self, opportunity: &str) -> Vec<String> {
        self.stack
            .lever
            .notes(opportunity)
            .into_iter()
            .map(|n| n.value)
            .collect()
    }

    pub fn webhook_url(&self, tenant: &str) -> String {
        format!(
            "{}/lever/{tenant}/candidate-stage-change",
            self.stack.functions_url
        )
    }

    /// A correctly signed stage change delivery of the demo candidate, not yet sent.
    pub fn delivery(&self, to_stage: &str, triggered_at: i64) -> Value {
        let token = format!("{}", uuid::Uuid::new_v4().simple()) + "0123456789abcdef";
        json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "event": "candidateStageChange",
            "triggeredAt": triggered_at,
            "token": token,
            "signature": lever_screening_simulators::lever::sign(demo::STAGE_CHANGE_TOKEN, &token, triggered_at),
            "data": {
                "opportunityId": demo::OPPORTUNITY_ID,
                "candidateId": demo::OPPORTUNITY_ID,
                "contactId": "c1",
                "toStageId": to_stage,
                "fromStageId": demo::PHONE_SCREEN_STAGE_ID,
            }
        })
    }

    /// Posts `body` as `content_type` to `url`; every answer must be JSON.
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, Value) {
        let response = self
            .http
            .post(url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "every answer is JSON"
        );
        (status, response.json().await.unwrap())
    }

    pub async fn send_delivery(&self, delivery: &Value) -> (u16, Value) {
        self.post(
            &self.webhook_url(demo::TENANT),
            "application/json",
            delivery.to_string(),
        )
        .await
    }

    /// Posts an Xref status callback for `xref_id` to `tenant`'s callback URL, signed with
    /// `secret`.
    pub async fn xref_callback(
        &self,
        tenant: &str,
        secret: &str,
        xref_id: &str,
        status: &str,
    ) -> (u16, Value) {
        self.xref_callback_signed(tenant, secret, xref_id, status, str::to_owned)
            .await
    }

    /// [`Self::xref_callback`] with its `webhook-signature` as `signature` makes it from
    /// the one `secret` gives (several joined, as a sender or API Gateway joins them).
    pub async fn xref_callback_signed(
        &self,
        tenant: &str,
        secret: &str,
        xref_id: &str,
        status: &str,
        signature: impl FnOnce(&str) -> String,
    ) -> (u16, Value) {
        let body = json!({ "id": xref_id, "status": status }).to_string();
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let mut headers = sign_headers(secret, &id, now_millis() / 1000, body.as_bytes()).unwrap();
        let signed = signature(headers[HEADER_SIGNATURE].to_str().unwrap());
        headers.insert(HEADER_SIGNATURE, signed.parse().unwrap());
        let response = self
            .http
            .post(format!(
                "{}/callbacks/xref/{tenant}",
                self.stack.functions_url
            ))
            .headers(headers)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// Moves the demo candidate into 'Reference Check' and waits for the worker: the Xref
    /// order's id.
    pub async fn order_reference_check(&self) -> String {
        self.move_into_reference_check().await;
        let orders = self.stack.xref.orders();
        assert_eq!(orders.len(), 1);
        orders[0].id.clone()
    }

    /// Xref stops accepting the demo tenant's stored key (rotated on Xref's side).
    pub async fn xref_key_goes_bad(&self) {
        self.stack
            .app
            .secrets()
            .source()
            .set_field(
                demo::TENANT,
                &["vendors", "xref", "api_key"],
                json!("a-key-xref-revoked"),
            )
            .await
            .unwrap();
        self.stack.app.secrets().invalidate(demo::TENANT);
    }

    /// Moves the demo candidate into 'Reference Check' (the delivery queued) and waits for
    /// the worker.
    pub async fn move_into_reference_check(&self) {
        let sent = self
            .stack
            .lever
            .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
            .await
            .unwrap();
        assert_eq!(sent.status, 202, "{}", sent.response);
        self.settle().await;
    }

    /// The demo tenant's Lever calls from index `before` on, as `METHOD /path`.
    pub fn lever_calls_since(&self, before: usize) -> Vec<String> {
        self.stack.lever.api_calls()[before..]
            .iter()
            .map(|c| format!("{} {}", c.method, c.path))
            .collect()
    }

    /// The OAuth tenant's Super Admin opens an authorize link (for `vendor`'s integration,
    /// or tenant-wide) and accepts: Lever redirects to lever-oauth-callback. Returns the
    /// final page's status and text.
    pub async fn connect_oauth_tenant(
        &self,
        vendor: Option<lever_screening::vendors::VendorId>,
    ) -> (u16, String) {
        let app = &self.stack.app;
        let link = lever_screening::flows::oauth::authorize_link(
            app.store().as_ref(),
            app.store().as_ref(),
            &app.oauth_apps().await.unwrap(),
            &tenant(demo::OAUTH_TENANT),
            vendor,
        )
        .await
        .unwrap();
        let page = self.http.get(link).send().await.unwrap();
        (page.status().as_u16(), page.text().await.unwrap())
    }
}

/// A stack whose OAuth tenant (globex) its Super Admin has connected tenant-wide.
pub async fn start_connected() -> Harness {
    let h = start().await;
    let (status, page) = h.connect_oauth_tenant(None).await;
    assert_eq!(status, 200, "{page}");
    h
}

impl Harness {
    /// The OAuth tenant's candidate's tags in Lever.
    pub fn oauth_tags_of(&self, opportunity: &str) -> Vec<String> {
        self.stack
            .oauth_lever
            .opportunity(opportunity)
            .unwrap()
            .tags
    }

    /// The texts of the notes Lever shows on `opportunity` (OAuth tenant's account).
    pub fn oauth_notes(&self, opportunity: &str) -> Vec<String> {
        self.stack
            .oauth_lever
            .notes(opportunity)
            .into_iter()
            .map(|n| n.value)
            .collect()
    }

    /// `tenant`'s document in the stack's secrets file, as the functions stored it.
    pub fn stored_secret(&self, tenant: &str) -> Value {
        let path = self.stack.secrets_file.as_ref().expect("a secrets file");
        let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        file["tenants"][tenant].clone()
    }

    /// `tenant`'s configuration as stored now.
    pub async fn tenant_config(&self, tenant_id: &str) -> lever_screening::tenant::TenantConfig {
        self.store
            .get_tenant(&tenant(tenant_id))
            .await
            .unwrap()
            .unwrap()
    }
}

/// Asserts the headers every answer of the deployment carries, JSON and HTML alike: never
/// stored, never framed, never sniffed, a referrer to its own origin only, no script, forms
/// to itself only.
pub fn assert_security_headers(headers: &reqwest::header::HeaderMap, what: &str) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("cache-control"), "no-store", "{what}");
    assert_eq!(header("referrer-policy"), "same-origin", "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    let policy = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(policy.contains(directive), "{what}: {policy}");
    }
}
