//! The stack the end-to-end tests drive, with helpers to send what Lever and the vendors
//! send and to read what Lever shows.
#![allow(dead_code)]

use lever_screening::callback_auth::sign_headers;
use lever_screening::model::now_millis;
use lever_screening::retry::RetryPolicy;
use lever_screening::store::memory::MemoryStore;
use lever_screening::store::TenantStore;
use lever_screening::Settings;
use lever_screening_local::demo_tenant as demo;
use lever_screening_local::sim::lever::sign;
use lever_screening_local::stack::{Stack, StackOptions};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub const SUBMITTED: &str = "Xref - Candidate submitted";

pub struct Harness {
    pub stack: Stack,
    pub store: Arc<MemoryStore>,
    pub http: reqwest::Client,
}

/// A stack with fast retries (so outage tests finish quickly) and a second tenant,
/// `other`, whose secrets differ from the demo tenant's.
pub async fn start() -> Harness {
    let other = json!({
        "lever": { "api_key": "other-key" },
        "webhooks": { "candidateStageChange": { "current": "other-token" } },
        "vendors": {
            "xref": { "api_key": "k", "callback_secret": { "current": OTHER_SECRET } },
            "sterling": {
                "client_id": demo::STERLING_CLIENT_ID,
                "client_secret": demo::STERLING_CLIENT_SECRET,
                "callback_secret": { "current": OTHER_STERLING_SECRET }
            }
        }
    });
    let store = Arc::new(MemoryStore::new());
    let settings = Settings {
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            timeout: Duration::from_secs(2),
            ..RetryPolicy::default()
        },
        ..Settings::default()
    };
    let stack = Stack::start(StackOptions {
        store: store.clone(),
        secrets: None,
        extra_secrets: [("other".to_owned(), other)].into_iter().collect(),
        settings,
        port: 0,
    })
    .await
    .unwrap();
    let mut other = store.get_tenant(demo::TENANT).await.unwrap().unwrap();
    other.tenant_id = "other".into();
    store.put_tenant(&other).await.unwrap();
    Harness {
        stack,
        store,
        http: reqwest::Client::new(),
    }
}

pub const OTHER_STERLING_SECRET: &str = "other-tenant-sterling-secret";
pub const OTHER_SECRET: &str = "whsec_b3RoZXItdGVuYW50LWNhbGxiYWNrLXNlY3JldA==";

impl Harness {
    pub fn tags(&self) -> Vec<String> {
        self.stack
            .lever
            .opportunity(demo::OPPORTUNITY_ID)
            .unwrap()
            .tags
    }

    pub fn webhook_url(&self, tenant: &str) -> String {
        format!(
            "{}/lever/{tenant}/candidate-stage-change",
            self.stack.functions_url
        )
    }

    /// A correctly signed stage change delivery, not yet sent.
    pub fn delivery(&self, to_stage: &str, triggered_at: i64) -> Value {
        let token = format!("{}", uuid::Uuid::new_v4().simple()) + "0123456789abcdef";
        json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "event": "candidateStageChange",
            "triggeredAt": triggered_at,
            "token": token,
            "signature": sign(demo::STAGE_CHANGE_TOKEN, &token, triggered_at),
            "data": {
                "opportunityId": demo::OPPORTUNITY_ID,
                "candidateId": demo::OPPORTUNITY_ID,
                "contactId": "c1",
                "toStageId": to_stage,
                "fromStageId": demo::PHONE_SCREEN_STAGE_ID,
            }
        })
    }

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

    /// Posts a callback for `xref_id` to `tenant`'s callback URL, signed with `secret`.
    pub async fn callback(
        &self,
        tenant: &str,
        secret: &str,
        xref_id: &str,
        status: &str,
    ) -> (u16, Value) {
        let body = json!({ "id": xref_id, "status": status }).to_string();
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let headers = sign_headers(secret, &id, now_millis() / 1000, body.as_bytes()).unwrap();
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

    pub async fn order_reference_check(&self) -> String {
        let sent = self
            .stack
            .lever
            .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
            .await
            .unwrap();
        assert_eq!(sent.status, 200, "{}", sent.response);
        let orders = self.stack.xref.orders();
        assert_eq!(orders.len(), 1);
        orders[0].id.clone()
    }

    pub fn lever_calls_since(&self, before: usize) -> Vec<String> {
        self.stack.lever.api_calls()[before..]
            .iter()
            .map(|c| format!("{} {}", c.method, c.path))
            .collect()
    }
}

/// The authorize link, opened by the OAuth tenant's Super Admin, who accepts: Lever
/// redirects to lever-oauth-callback. Returns the final page's status and text.
pub async fn connect_oauth_tenant(stack: &Stack, http: &reqwest::Client) -> (u16, String) {
    let link = lever_screening::flows::oauth::authorize_link(&stack.app, demo::OAUTH_TENANT)
        .await
        .unwrap();
    let page = http.get(link).send().await.unwrap();
    (page.status().as_u16(), page.text().await.unwrap())
}

/// Five requests at once with an expired access token: Lever sees one refresh, all succeed.
pub async fn refresh_once_under_concurrency(stack: &Stack) {
    let lever_sim = &stack.oauth_lever;
    lever_sim.expire_access_tokens();
    lever_sim.set_token_delay(Duration::from_millis(300));
    let tenant = lever_screening::flows::load_tenant(&stack.app, demo::OAUTH_TENANT)
        .await
        .unwrap();
    let mut clients = Vec::new();
    for _ in 0..5 {
        let client = stack
            .app
            .lever_client(&tenant.config, &tenant.secrets)
            .await;
        clients.push(client.unwrap());
    }
    let reads = clients
        .iter()
        .map(|client| client.get_opportunity(demo::JUSTIFACTS_OPPORTUNITY_ID));
    let results = futures::future::join_all(reads).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        lever_sim.refresh_count(),
        1,
        "one refresh for five concurrent requests"
    );
}
