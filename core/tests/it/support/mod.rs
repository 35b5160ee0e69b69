//! The world the flow tests run in: the real flows and stores (in memory), fakes of Lever
//! and the vendors, one tenant with every integration, and helpers to send what Lever and
//! the vendors send and to read what Lever shows.
#![allow(dead_code)]

pub mod aws;
pub mod fakes;

use fakes::{FakeLever, FakeVendor};
use lever_screening::callback_auth::sign_headers;
use lever_screening::clock::{now_millis, Deadline};
use lever_screening::flows::worker::Outcome;
use lever_screening::flows::{lever_webhook, vendor_callback, Ack};
use lever_screening::ids::TenantId;
use lever_screening::lever::webhook::{sign, WebhookKind};
use lever_screening::order::Order;
use lever_screening::queue::memory::MemoryQueue;
use lever_screening::queue::{Consumer, Retries};
use lever_screening::secrets::memory::MemorySource;
use lever_screening::store::memory::MemoryStore;
use lever_screening::store::TenantStore;
use lever_screening::tenant::{Integration, Package, PackageSettings, StageRef, TenantConfig};
use lever_screening::vendors::{esr, hrlogics, justifacts, sterling, xref, VendorId, Vendors};
use lever_screening::{App, AppError, Settings};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub const TENANT: &str = "acme";
pub const STAGE_TOKEN: &str = "stage-change-token";
pub const APPLICATION_TOKEN: &str = "application-created-token";
pub const ARCHIVE_TOKEN: &str = "archive-change-token";
pub const DELETED_TOKEN: &str = "candidate-deleted-token";
pub const XREF_SECRET: &str = "whsec_bGV2ZXItc2NyZWVuaW5nLXRlc3QteHJlZg==";
pub const STERLING_URL_SECRET: &str = "sterling-url-secret-0123456789";
pub const CALLBACK_BASE: &str = "https://screening.example";

pub const SCREEN: &str = "stage-screen";
pub const REFCHECK: &str = "stage-refcheck";
pub const BGC: &str = "stage-bgc";
pub const PREHIRE: &str = "stage-prehire";
pub const POSTING: &str = "posting-eng";

pub const ADA: &str = "opp-ada";
pub const GRACE: &str = "opp-grace-no-email";

pub struct World {
    pub app: App,
    pub store: Arc<MemoryStore>,
    pub queue: Arc<MemoryQueue>,
    pub secrets: Arc<MemorySource>,
    pub lever: FakeLever,
    pub xref: FakeVendor,
    pub sterling: FakeVendor,
    pub justifacts: FakeVendor,
    pub hrlogics: FakeVendor,
    pub esr: FakeVendor,
}

pub fn tenant_id() -> TenantId {
    TenantId::parse(TENANT).unwrap()
}

fn integration(stage: Option<StageRef>, package: PackageSettings) -> Integration {
    Integration {
        enabled: true,
        api_base: "https://vendor.example".into(),
        trigger_stage: stage,
        package,
        lever_access_revoked: None,
        on_completion: None,
        shares_trigger_stage: false,
    }
}

/// Acme: Xref on 'Reference Check' (by id), Sterling on 'Background Check' (by id and name,
/// as the operator command stores it, with a default package), HRLogics on new applications. Justifacts and ESR are configured but
/// off, for the tests that switch them on.
pub fn acme() -> TenantConfig {
    let sterling_package = PackageSettings {
        tag_prefix: Some("STERLING BGC PKG:".into()),
        default: Some(Package {
            name: Some("Standard".into()),
            id: "pkg-1".into(),
        }),
        catalog: Vec::new(),
    };
    let off = |stage, package| Integration {
        enabled: false,
        ..integration(stage, package)
    };
    TenantConfig {
        tenant_id: tenant_id(),
        lever_api_base: "https://lever.example/v1".into(),
        vendors: [
            (
                VendorId::Xref,
                integration(Some(StageRef::by_id(REFCHECK)), PackageSettings::default()),
            ),
            (
                VendorId::Sterling,
                integration(
                    Some(StageRef {
                        id: Some(BGC.into()),
                        name: Some("Background Check".into()),
                    }),
                    sterling_package,
                ),
            ),
            (
                VendorId::HrLogics,
                integration(None, PackageSettings::default()),
            ),
            (
                VendorId::Justifacts,
                off(Some(StageRef::by_id(BGC)), PackageSettings::default()),
            ),
            (
                VendorId::Esr,
                off(Some(StageRef::by_id(PREHIRE)), PackageSettings::default()),
            ),
        ]
        .into(),
        phone_region: None,
    }
}

/// Acme's secret: one Lever API key per integration (Xref's and Sterling's toggles each
/// generate one), HRLogics on the tenant-wide key, the webhooks' tokens, vendor secrets.
pub fn acme_secret() -> Value {
    json!({
        "lever": { "api_key": "tenant-wide-key" },
        "webhooks": {
            "candidateStageChange": { "current": STAGE_TOKEN },
            "applicationCreated": { "current": APPLICATION_TOKEN },
            "candidateArchiveChange": { "current": ARCHIVE_TOKEN },
            "candidateDeleted": { "current": DELETED_TOKEN }
        },
        "vendors": {
            "xref": {
                "lever": { "api_key": "xref-toggle-key" },
                "api_key": "xref-key",
                "callback_secret": { "current": XREF_SECRET }
            },
            "sterling": {
                "lever": { "api_key": "sterling-toggle-key" },
                "client_id": "c", "client_secret": "s",
                "callback_secret": { "current": STERLING_URL_SECRET }
            },
            "hrlogics": { "api_key": "h", "callback_secret": { "current": XREF_SECRET } },
            "justifacts": { "username": "u", "password": "p", "callback_secret": { "current": XREF_SECRET } },
            "esr": { "username": "u", "api_key": "k", "callback_secret": { "current": XREF_SECRET } }
        }
    })
}

impl World {
    pub async fn new() -> World {
        World::with_settings(Settings::default()).await
    }

    pub async fn with_settings(settings: Settings) -> World {
        let store = Arc::new(MemoryStore::new());
        let queue = Arc::new(MemoryQueue::new());
        let secrets = Arc::new(MemorySource::new());
        secrets.put(TENANT, acme_secret());
        let lever = FakeLever::new();
        for (id, text) in [
            (SCREEN, "Phone Screen"),
            (REFCHECK, "Reference Check"),
            (BGC, "Background Check"),
            (PREHIRE, "Pre-hire Screening"),
        ] {
            lever.add_stage(id, text);
        }
        lever.add_posting(POSTING, "Senior Engineer", &[]);
        lever.add_opportunity(
            ADA,
            Some("Ada Lovelace"),
            Some("ada@example.com"),
            SCREEN,
            Some(POSTING),
        );
        lever.add_opportunity(GRACE, Some("Grace Hopper"), None, SCREEN, Some(POSTING));
        let xref = FakeVendor::new("Candidate submitted");
        let sterling = FakeVendor::new("Initiated").with_steps(&["candidate"]);
        let justifacts = FakeVendor::new("InProgressCandidate");
        let hrlogics = FakeVendor::new("Survey sent");
        let esr = FakeVendor::new("Draft");
        let vendors = Vendors::standard()
            .with(&xref::DESCRIPTION, Arc::new(xref.clone()))
            .with(&sterling::DESCRIPTION, Arc::new(sterling.clone()))
            .with(&justifacts::DESCRIPTION, Arc::new(justifacts.clone()))
            .with(&hrlogics::DESCRIPTION, Arc::new(hrlogics.clone()))
            .with(&esr::DESCRIPTION, Arc::new(esr.clone()));
        let app = App::new(
            store.clone(),
            secrets.clone(),
            queue.clone(),
            settings,
            vendors,
        )
        .with_lever(Arc::new(lever.clone()));
        store.put_tenant(&acme()).await.unwrap();
        World {
            app,
            store,
            queue,
            secrets,
            lever,
            xref,
            sterling,
            justifacts,
            hrlogics,
            esr,
        }
    }

    /// Changes the tenant's configuration (and forgets the cached one).
    pub async fn configure(&self, change: impl FnOnce(&mut TenantConfig)) {
        let mut config = self.store.get_tenant(&tenant_id()).await.unwrap().unwrap();
        change(&mut config);
        self.store.put_tenant(&config).await.unwrap();
        self.app.tenants().invalidate(&tenant_id());
    }

    /// A delivery of `event` signed with `token` now, as Lever posts it.
    pub fn delivery(&self, event: &str, token: &str, data: Value) -> Value {
        self.delivery_at(event, token, data, now_millis())
    }

    /// A delivery of `event` signed with `token`, stamped `triggered_at` (ms).
    pub fn delivery_at(&self, event: &str, token: &str, data: Value, triggered_at: i64) -> Value {
        let delivery_token = uuid::Uuid::new_v4().simple().to_string();
        json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "event": event,
            "triggeredAt": triggered_at,
            "token": delivery_token,
            "signature": sign(token, &delivery_token, triggered_at),
            "data": data,
        })
    }

    /// Posts `body` to the `kind` webhook of `tenant`, as API Gateway hands it to intake.
    pub async fn post(&self, kind: WebhookKind, body: &Value) -> Result<Ack, AppError> {
        let body = serde_json::to_vec(body).unwrap();
        lever_webhook::handle(&self.app.intake(), kind, &tenant_id(), &body, CALLBACK_BASE).await
    }

    /// A recruiter moves `opportunity` into `stage` in Lever, and Lever delivers the change.
    pub async fn stage_change(&self, opportunity: &str, stage: &str) -> Result<Ack, AppError> {
        self.lever.move_to(opportunity, stage, now_millis());
        let body = self.delivery(
            "candidateStageChange",
            STAGE_TOKEN,
            json!({ "opportunityId": opportunity, "toStageId": stage, "fromStageId": SCREEN }),
        );
        self.post(WebhookKind::CandidateStageChange, &body).await
    }

    /// Lever reports a new application of `opportunity`.
    pub async fn application_created(&self, opportunity: &str) -> Result<Ack, AppError> {
        let body = self.delivery(
            "applicationCreated",
            APPLICATION_TOKEN,
            json!({ "opportunityId": opportunity, "applicationId": format!("{opportunity}-app") }),
        );
        self.post(WebhookKind::ApplicationCreated, &body).await
    }

    /// The worker processes every message visible now, settling each (retries wait in the
    /// queue). Returns the outcomes, in order.
    pub async fn run_worker(&self) -> Vec<Outcome> {
        let worker = self.app.worker(Deadline::after(Duration::from_secs(30)));
        let mut outcomes = Vec::new();
        loop {
            let messages = self.queue.receive(10, Duration::ZERO).await.unwrap();
            if messages.is_empty() {
                return outcomes;
            }
            for message in messages {
                let outcome = worker.process(&message).await;
                match &outcome {
                    Outcome::Done | Outcome::Dropped => {
                        self.queue.delete(&message.receipt).await.unwrap()
                    }
                    Outcome::RetryLater(delay) => self
                        .queue
                        .retry_later(&message.receipt, *delay)
                        .await
                        .unwrap(),
                    Outcome::DeadLetter(error) => {
                        self.queue.dead_letter(&message, error).await.unwrap();
                        self.queue.delete(&message.receipt).await.unwrap();
                    }
                }
                outcomes.push(outcome);
            }
        }
    }

    /// A Standard Webhooks callback from `vendor`, signed with the tenant's secret.
    pub async fn callback(&self, vendor: VendorId, body: Value) -> Result<Ack, AppError> {
        self.callback_with_id(
            vendor,
            &format!("msg_{}", uuid::Uuid::new_v4().simple()),
            body,
        )
        .await
    }

    pub async fn callback_with_id(
        &self,
        vendor: VendorId,
        id: &str,
        body: Value,
    ) -> Result<Ack, AppError> {
        let body = serde_json::to_vec(&body).unwrap();
        let headers = sign_headers(XREF_SECRET, id, now_millis() / 1000, &body).unwrap();
        let callback = vendor_callback::Callback {
            headers: &headers,
            body: &body,
            url_secret: None,
        };
        vendor_callback::handle(&self.app.intake(), vendor, &tenant_id(), &callback).await
    }

    /// Every order, oldest first.
    pub fn orders(&self) -> Vec<Order> {
        self.store.orders()
    }

    pub fn orders_of(&self, vendor: VendorId) -> Vec<Order> {
        self.orders()
            .into_iter()
            .filter(|o| o.vendor() == vendor)
            .collect()
    }

    /// The texts of the notes Lever shows on `opportunity`.
    pub fn note_texts(&self, opportunity: &str) -> Vec<String> {
        self.lever
            .notes(opportunity)
            .into_iter()
            .map(|n| n.note.value)
            .collect()
    }
}
