//! Tenant secrets: one suite every source passes (in memory, a local file, Secrets Manager on
//! moto_server), what each source reports when things go wrong, the cache in front of a
//! counting fake source, and how a tenant's document is read (which Lever credential an
//! integration uses, webhook tokens, nothing secret in errors or `Debug`).

use crate::support::aws::local_aws_config;
use async_trait::async_trait;
use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::Client;
use lever_screening::clock::now_millis;
use lever_screening::secrets::aws::SecretsManagerSource;
use lever_screening::secrets::cache::CachedSecrets;
use lever_screening::secrets::file::FileSource;
use lever_screening::secrets::memory::MemorySource;
use lever_screening::secrets::{
    CredentialPath, LeverCredentials, OAuthTokens, SecretsError, SecretsSource, TenantSecrets,
};
use lever_screening::vendors::VendorId;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

const TENANT: &str = "acme";

/// A full tenant document whose every value is derived from `api_key`, so a test can tell
/// versions apart and look for leaked values.
fn document(api_key: &str) -> Value {
    json!({
        "lever": { "api_key": api_key },
        "webhooks": {
            "candidateStageChange": {
                "current": format!("{api_key}-stage-current"),
                "previous": format!("{api_key}-stage-previous"),
            }
        },
        "vendors": {
            "xref": {
                "api_key": format!("{api_key}-xref-key"),
                "callback_secret": { "current": format!("whsec_{api_key}") },
            }
        }
    })
}

fn lever_api_key(secrets: &TenantSecrets) -> &str {
    secrets
        .lever
        .api_key
        .as_ref()
        .expect("lever api key")
        .expose_secret()
}

fn assert_document(secrets: &TenantSecrets, api_key: &str) {
    assert_eq!(lever_api_key(secrets), api_key);
    let stage = secrets
        .webhook_token("candidateStageChange")
        .expect("stage-change token");
    let candidates: Vec<&str> = stage.candidates().map(|s| s.expose_secret()).collect();
    assert_eq!(
        candidates,
        [
            format!("{api_key}-stage-current"),
            format!("{api_key}-stage-previous")
        ]
    );
    assert!(secrets.webhook_token("applicationCreated").is_none());
    let xref = secrets.vendor(VendorId::Xref).expect("xref secrets");
    assert_eq!(
        xref.api_key.as_ref().expect("xref api key").expose_secret(),
        format!("{api_key}-xref-key")
    );
    assert_eq!(
        xref.callback_secret
            .as_ref()
            .expect("xref callback secret")
            .current
            .expose_secret(),
        format!("whsec_{api_key}")
    );
    assert!(secrets.vendor(VendorId::Sterling).is_none());
}

fn credential_key(credential: &LeverCredentials) -> &str {
    credential
        .api_key
        .as_ref()
        .expect("an api key")
        .expose_secret()
}

// ---- One suite for every source ----

/// A secrets source and a way to write its documents behind its back.
#[async_trait]
trait Backend: Send + Sync {
    fn source(&self) -> Arc<dyn SecretsSource>;
    /// Replaces `tenant`'s whole document.
    async fn put(&self, tenant: &str, document: &Value);
    /// Stores a named document; returns the name the source knows it by.
    async fn put_named(&self, name: &str, document: &Value) -> String;
}

struct InMemory(Arc<MemorySource>);

#[async_trait]
impl Backend for InMemory {
    fn source(&self) -> Arc<dyn SecretsSource> {
        self.0.clone()
    }
    async fn put(&self, tenant: &str, document: &Value) {
        self.0.put(tenant, document.clone());
    }
    async fn put_named(&self, name: &str, document: &Value) -> String {
        self.0.put_named(name, document.clone());
        name.to_owned()
    }
}

struct InFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
    source: Arc<FileSource>,
}

impl InFile {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, json!({ "tenants": {} }).to_string()).unwrap();
        InFile {
            source: Arc::new(FileSource::new(&path)),
            path,
            _dir: dir,
        }
    }

    fn edit(&self, section: &str, key: &str, document: &Value) {
        let mut file: Value =
            serde_json::from_str(&std::fs::read_to_string(&self.path).unwrap()).unwrap();
        let section = file
            .as_object_mut()
            .unwrap()
            .entry(section)
            .or_insert_with(|| json!({}));
        section[key] = document.clone();
        std::fs::write(&self.path, file.to_string()).unwrap();
    }
}

#[async_trait]
impl Backend for InFile {
    fn source(&self) -> Arc<dyn SecretsSource> {
        self.source.clone()
    }
    async fn put(&self, tenant: &str, document: &Value) {
        self.edit("tenants", tenant, document);
    }
    async fn put_named(&self, name: &str, document: &Value) -> String {
        self.edit("named", name, document);
        name.to_owned()
    }
}

/// Secrets Manager on moto_server.
struct Moto {
    client: Client,
    /// Unique per test so tests share one server without seeing each other's secrets.
    prefix: String,
    created: Mutex<HashSet<String>>,
}

impl Moto {
    async fn new() -> Self {
        Moto {
            client: Client::new(&local_aws_config().await),
            prefix: format!("lever-screening-test/{}/", uuid::Uuid::new_v4().simple()),
            created: Mutex::default(),
        }
    }

    fn secrets_manager(&self) -> SecretsManagerSource {
        SecretsManagerSource::new(self.client.clone(), self.prefix.clone())
    }

    /// Creates the secret, or writes a new version of it.
    async fn write(&self, name: String, secret: &str) {
        let new = self.created.lock().unwrap().insert(name.clone());
        if new {
            self.client
                .create_secret()
                .name(name)
                .secret_string(secret)
                .send()
                .await
                .expect("create secret");
        } else {
            self.client
                .put_secret_value()
                .secret_id(name)
                .secret_string(secret)
                .send()
                .await
                .expect("put secret value");
        }
    }
}

#[async_trait]
impl Backend for Moto {
    fn source(&self) -> Arc<dyn SecretsSource> {
        Arc::new(self.secrets_manager())
    }
    async fn put(&self, tenant: &str, document: &Value) {
        self.write(format!("{}{tenant}", self.prefix), &document.to_string())
            .await;
    }
    async fn put_named(&self, name: &str, document: &Value) -> String {
        let name = format!("{}{name}", self.prefix);
        self.write(name.clone(), &document.to_string()).await;
        name
    }
}

async fn loads_a_tenant_and_picks_up_changes(backend: &dyn Backend) {
    backend.put(TENANT, &document("key-1")).await;
    backend.put("globex", &document("globex-key")).await;
    let source = backend.source();
    assert_document(&source.load(TENANT).await.expect("load"), "key-1");

    backend.put(TENANT, &document("key-2")).await;
    assert_document(&source.load(TENANT).await.expect("load"), "key-2");
    assert_document(&source.load("globex").await.expect("load"), "globex-key");
}

async fn an_unknown_tenant_is_not_found(backend: &dyn Backend) {
    backend.put(TENANT, &document("key-1")).await;
    for nobody in ["nobody", "no/such#tenant"] {
        let err = backend.source().load(nobody).await.unwrap_err();
        assert!(
            matches!(&err, SecretsError::NotFound(t) if t == nobody),
            "{err:?}"
        );
    }
}

async fn a_malformed_document_is_reported_without_its_values(backend: &dyn Backend) {
    let malformed = [
        // A token given as a string instead of {current, previous}.
        json!({ "webhooks": { "candidateStageChange": "s3cr3t-token" } }),
        json!({ "webhooks": { "candidateStageChange": { "previous": "s3cr3t-previous" } } }),
        json!({ "lever": { "api_key": "k", "oauth": "s3cr3t-oauth" } }),
        json!({ "lever": { "oauth": { "access_token": "s3cr3t-a", "refresh_token": "s3cr3t-r",
                                      "expires_at": "s3cr3t-when" } } }),
        json!({ "lever": "s3cr3t-whole-credential" }),
        json!({ "vendors": { "xref": { "callback_secret": "whsec_s3cr3t" } } }),
        json!({ "vendors": { "xref": { "api_key": 31_415_926_535_u64 } } }),
    ];
    let source = backend.source();
    for document in malformed {
        backend.put(TENANT, &document).await;
        let err = source.load(TENANT).await.unwrap_err();
        let SecretsError::Malformed(message) = &err else {
            panic!("{document} must be malformed, got {err:?}");
        };
        let shown = format!("{message} {err} {err:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("31415926535"),
            "{document}: {shown}"
        );
    }
}

/// A tenant connected before it had any secret (the operator's `tenant connect`, the
/// OAuth redirect) gets one with just that field.
async fn set_field_creating_makes_a_missing_document(backend: &dyn Backend) {
    backend.put(TENANT, &document("key-1")).await;
    let source = backend.source();
    source
        .set_field_creating(
            "newco",
            &["vendors", "xref", "lever", "api_key"],
            json!("k"),
        )
        .await
        .expect("created");
    let secrets = source.load("newco").await.expect("load");
    let (path, credential) = secrets.lever_credential(VendorId::Xref).expect("own");
    assert_eq!(path, CredentialPath::Vendor(VendorId::Xref));
    assert_eq!(credential_key(credential), "k");
    // An existing document keeps the rest.
    source
        .set_field_creating(TENANT, &["vendors", "esr", "username"], json!("u"))
        .await
        .expect("set");
    assert_document(&source.load(TENANT).await.expect("load"), "key-1");
}

async fn set_field_changes_one_field_and_keeps_the_rest(backend: &dyn Backend) {
    backend.put(TENANT, &document("key-1")).await;
    backend.put("globex", &document("globex-key")).await;
    let source = backend.source();

    source
        .set_field(
            TENANT,
            &["vendors", "xref", "lever"],
            json!({ "api_key": "xref-own-key" }),
        )
        .await
        .expect("set");
    let secrets = source.load(TENANT).await.expect("load");
    assert_document(&secrets, "key-1");
    let (path, credential) = secrets.lever_credential(VendorId::Xref).expect("own");
    assert_eq!(path, CredentialPath::Vendor(VendorId::Xref));
    assert_eq!(credential_key(credential), "xref-own-key");

    // New objects are made on the way.
    source
        .set_field(
            TENANT,
            &["webhooks", "applicationCreated"],
            json!({ "current": "app-token" }),
        )
        .await
        .expect("set");
    source
        .set_field(TENANT, &["vendors", "esr", "username"], json!("esr-user"))
        .await
        .expect("set");
    let secrets = source.load(TENANT).await.expect("load");
    let token = secrets.webhook_token("applicationCreated").expect("token");
    assert_eq!(token.current.expose_secret(), "app-token");
    let esr = secrets.vendor(VendorId::Esr).expect("esr");
    assert_eq!(esr.username.as_ref().unwrap().expose_secret(), "esr-user");

    // `null` removes the field.
    source
        .set_field(TENANT, &["vendors", "xref", "lever"], Value::Null)
        .await
        .expect("remove");
    let secrets = source.load(TENANT).await.expect("load");
    assert_eq!(
        secrets.lever_credential(VendorId::Xref).map(|(p, _)| p),
        Some(CredentialPath::Tenant)
    );
    assert!(secrets.vendor(VendorId::Xref).unwrap().api_key.is_some());
    assert_document(&source.load("globex").await.expect("load"), "globex-key");

    let err = source
        .set_field("nobody", &["lever", "api_key"], json!("k"))
        .await
        .unwrap_err();
    assert!(matches!(err, SecretsError::NotFound(_)), "{err:?}");
}

async fn a_refused_set_field_leaves_the_document_as_it_was(backend: &dyn Backend) {
    backend.put(TENANT, &document("key-1")).await;
    let source = backend.source();

    // Through a value that is not an object: refused, the value not quoted.
    let err = source
        .set_field(TENANT, &["lever", "api_key", "nested"], json!("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SecretsError::Malformed(m) if !m.contains("key-1")),
        "{err:?}"
    );

    assert_document(&source.load(TENANT).await.expect("load"), "key-1");
}

async fn put_document_creates_or_replaces_a_tenant(backend: &dyn Backend) {
    backend.put(TENANT, &document("key-1")).await;
    let source = backend.source();

    source
        .put_document("globex", &document("globex-1"))
        .await
        .expect("create");
    assert_document(&source.load("globex").await.expect("load"), "globex-1");
    source
        .put_document("globex", &document("globex-2"))
        .await
        .expect("replace");
    assert_document(&source.load("globex").await.expect("load"), "globex-2");
    assert_document(&source.load(TENANT).await.expect("load"), "key-1");
}

async fn lever_tokens_are_stored_as_the_oauth_credential(backend: &dyn Backend) {
    backend.put(TENANT, &document("key-1")).await;
    let source = backend.source();
    let tokens = OAuthTokens {
        access_token: SecretString::from("access-1"),
        refresh_token: SecretString::from("refresh-1"),
        expires_at: 1_700_000_000_000,
    };
    source
        .store_lever_tokens(TENANT, &tokens)
        .await
        .expect("store");

    let secrets = source.load(TENANT).await.expect("load");
    assert_eq!(secrets.lever.kind(), "oauth");
    let stored = secrets.lever.oauth.as_ref().expect("oauth tokens");
    assert_eq!(stored.access_token.expose_secret(), "access-1");
    assert_eq!(stored.refresh_token.expose_secret(), "refresh-1");
    assert_eq!(stored.expires_at, 1_700_000_000_000);
    assert_document(&secrets, "key-1");
}

async fn named_documents_are_read_as_json(backend: &dyn Backend) {
    let app = json!({
        "client_id": "cid",
        "client_secret": "app-secret",
        "redirect_uri": "https://screening.example/lever/oauth/callback"
    });
    let name = backend.put_named("lever-oauth-app", &app).await;
    let source = backend.source();
    let text = source.load_named(&name).await.expect("named");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), app);
    let err = source.load_named("no-such-document").await.unwrap_err();
    assert!(matches!(err, SecretsError::NotFound(_)), "{err:?}");
}

/// Runs every case once per source, as `memory::<case>`, `file::<case>` and
/// `secrets_manager::<case>`.
macro_rules! source_suite {
    ($($case:ident),* $(,)?) => {
        mod memory {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&InMemory(Arc::new(MemorySource::new()))).await;
                }
            )*
        }

        mod file {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&InFile::new()).await;
                }
            )*
        }

        mod secrets_manager {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&Moto::new().await).await;
                }
            )*
        }
    };
}

source_suite!(
    loads_a_tenant_and_picks_up_changes,
    an_unknown_tenant_is_not_found,
    a_malformed_document_is_reported_without_its_values,
    set_field_changes_one_field_and_keeps_the_rest,
    set_field_creating_makes_a_missing_document,
    a_refused_set_field_leaves_the_document_as_it_was,
    put_document_creates_or_replaces_a_tenant,
    lever_tokens_are_stored_as_the_oauth_credential,
    named_documents_are_read_as_json,
);

// ---- What each source reports when its backend fails ----

#[tokio::test]
async fn secrets_manager_reports_invalid_json_as_malformed() {
    let moto = Moto::new().await;
    moto.write(format!("{}{TENANT}", moto.prefix), "{not json")
        .await;

    let err = moto.secrets_manager().load(TENANT).await.unwrap_err();

    assert!(matches!(err, SecretsError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn secrets_manager_reports_a_binary_secret_as_malformed() {
    let moto = Moto::new().await;
    moto.client
        .create_secret()
        .name(format!("{}{TENANT}", moto.prefix))
        .secret_binary(Blob::new(document("key-1").to_string()))
        .send()
        .await
        .expect("create binary secret");

    let err = moto.secrets_manager().load(TENANT).await.unwrap_err();

    assert!(matches!(err, SecretsError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn secrets_manager_reports_an_unreachable_backend_as_unavailable() {
    let config = local_aws_config().await;
    let config = aws_sdk_secretsmanager::config::Builder::from(&config)
        .endpoint_url("http://127.0.0.1:1")
        .build();
    let source = SecretsManagerSource::new(Client::from_conf(config), "lever-screening-test/");

    let err = source.load(TENANT).await.unwrap_err();

    assert!(matches!(err, SecretsError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn cached_secrets_manager_picks_up_a_rotation_after_the_ttl() {
    let moto = Moto::new().await;
    moto.put(TENANT, &document("key-1")).await;
    let cache = CachedSecrets::new(Arc::new(moto.secrets_manager()), Duration::from_millis(200));
    assert_eq!(
        lever_api_key(&cache.get(TENANT).await.expect("get")),
        "key-1"
    );

    moto.put(TENANT, &document("key-2")).await;

    assert_eq!(
        lever_api_key(&cache.get(TENANT).await.expect("get")),
        "key-1",
        "served from memory within the ttl"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_document(&cache.get(TENANT).await.expect("get"), "key-2");
}

#[tokio::test]
async fn file_source_names_a_malformed_tenant_without_failing_the_others() {
    let file = InFile::new();
    file.put(TENANT, &document("key-1")).await;
    file.put(
        "broken",
        &json!({ "webhooks": { "candidateStageChange": {} } }),
    )
    .await;

    let err = file.source.load("broken").await.unwrap_err();
    assert!(
        matches!(&err, SecretsError::Malformed(m) if m.contains("broken") && m.contains("current")),
        "{err:?}"
    );
    assert_document(&file.source.load(TENANT).await.expect("load"), "key-1");
}

#[tokio::test]
async fn file_source_reports_invalid_json_as_malformed() {
    let file = InFile::new();
    std::fs::write(&file.path, "{\"tenants\": ").unwrap();

    let err = file.source.load(TENANT).await.unwrap_err();

    assert!(matches!(err, SecretsError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn file_source_reports_an_unreadable_file_as_unavailable() {
    let dir = tempfile::tempdir().expect("temp dir");

    let err = FileSource::new(dir.path().join("missing.json"))
        .load(TENANT)
        .await
        .unwrap_err();

    assert!(matches!(err, SecretsError::Unavailable(_)), "{err:?}");
}

// ---- The cache, in front of a counting fake source ----

/// Serves `document(api_key)` (or fails with Unavailable when there is none) and counts
/// loads. A load may be scripted to wait for a gate and serve a given key.
#[derive(Default)]
struct FakeSource {
    api_key: Mutex<Option<String>>,
    scripted: Mutex<VecDeque<(String, oneshot::Receiver<()>)>>,
    loads: AtomicUsize,
}

impl FakeSource {
    fn serving(api_key: &str) -> Arc<Self> {
        let source = Arc::new(Self::default());
        source.serve(Some(api_key));
        source
    }

    fn serve(&self, api_key: Option<&str>) {
        *self.api_key.lock().unwrap() = api_key.map(str::to_owned);
    }

    /// The next load serves `api_key`, once `gate` opens.
    fn script(&self, api_key: &str, gate: oneshot::Receiver<()>) {
        self.scripted
            .lock()
            .unwrap()
            .push_back((api_key.to_owned(), gate));
    }

    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl SecretsSource for FakeSource {
    async fn load(&self, _tenant_id: &str) -> Result<TenantSecrets, SecretsError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        let scripted = self.scripted.lock().unwrap().pop_front();
        let api_key = match scripted {
            Some((api_key, gate)) => {
                gate.await.expect("the gate opens");
                Some(api_key)
            }
            None => self.api_key.lock().unwrap().clone(),
        };
        match api_key {
            Some(key) => TenantSecrets::parse(&document(&key).to_string()),
            None => Err(SecretsError::Unavailable("backend down".into())),
        }
    }
}

#[tokio::test]
async fn cache_serves_from_memory_within_the_ttl() {
    let source = FakeSource::serving("key-1");
    let cache = CachedSecrets::new(source.clone(), Duration::from_secs(60));

    let first = cache.get(TENANT).await.expect("get");
    source.serve(Some("key-2"));
    let second = cache.get(TENANT).await.expect("get");

    assert_eq!(source.loads(), 1);
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(lever_api_key(&second), "key-1");
}

#[tokio::test]
async fn cache_reloads_after_the_ttl() {
    let source = FakeSource::serving("key-1");
    let cache = CachedSecrets::new(source.clone(), Duration::from_millis(20));
    cache.get(TENANT).await.expect("get");
    source.serve(Some("key-2"));

    tokio::time::sleep(Duration::from_millis(50)).await;

    assert_eq!(
        lever_api_key(&cache.get(TENANT).await.expect("get")),
        "key-2"
    );
    assert_eq!(source.loads(), 2);
}

#[tokio::test]
async fn cache_keeps_tenants_apart() {
    let source = FakeSource::serving("key-1");
    let cache = CachedSecrets::new(source.clone(), Duration::from_secs(60));

    cache.get("tenant-a").await.expect("get a");
    cache.get("tenant-b").await.expect("get b");
    cache.get("tenant-a").await.expect("get a again");

    assert_eq!(source.loads(), 2);
}

#[tokio::test]
async fn cache_invalidate_makes_the_next_get_reload() {
    let source = FakeSource::serving("key-1");
    let cache = CachedSecrets::new(source.clone(), Duration::from_secs(60));
    cache.get(TENANT).await.expect("get");
    cache.get("other").await.expect("get");
    source.serve(Some("key-2"));

    cache.invalidate(TENANT);

    assert_eq!(
        lever_api_key(&cache.get(TENANT).await.expect("get")),
        "key-2"
    );
    assert_eq!(
        lever_api_key(&cache.get("other").await.expect("get")),
        "key-1",
        "only that tenant is forgotten"
    );
    assert_eq!(source.loads(), 3);
    cache.invalidate("never-loaded");
}

#[tokio::test]
async fn cache_does_not_keep_failed_loads() {
    let source = Arc::new(FakeSource::default());
    let cache = CachedSecrets::new(source.clone(), Duration::from_secs(60));

    let err = cache.get(TENANT).await.unwrap_err();
    assert!(matches!(err, SecretsError::Unavailable(_)), "{err:?}");
    source.serve(Some("key-1"));

    assert_eq!(
        lever_api_key(&cache.get(TENANT).await.expect("get")),
        "key-1"
    );
    assert_eq!(source.loads(), 2);
}

#[tokio::test]
async fn mismatch_reload_rereads_at_most_once_per_interval() {
    let source = FakeSource::serving("key-1");
    let cache = CachedSecrets::new(source.clone(), Duration::from_secs(60))
        .with_mismatch_reload_interval(Duration::from_millis(300));
    cache.get(TENANT).await.expect("get");
    source.serve(Some("key-2"));

    let reloaded = cache.reload_after_mismatch(TENANT).await.expect("reload");
    assert_eq!(lever_api_key(&reloaded.expect("re-read")), "key-2");
    assert_eq!(
        lever_api_key(&cache.get(TENANT).await.expect("get")),
        "key-2"
    );
    assert_eq!(source.loads(), 2);

    source.serve(Some("key-3"));
    let throttled = cache.reload_after_mismatch(TENANT).await.expect("reload");
    assert!(throttled.is_none(), "second mismatch within the interval");
    assert_eq!(source.loads(), 2);

    tokio::time::sleep(Duration::from_millis(350)).await;
    let reloaded = cache.reload_after_mismatch(TENANT).await.expect("reload");
    assert_eq!(lever_api_key(&reloaded.expect("re-read")), "key-3");
    assert_eq!(source.loads(), 3);
}

#[tokio::test]
async fn the_default_mismatch_interval_is_a_minute() {
    let source = FakeSource::serving("key-1");
    let cache = CachedSecrets::new(source.clone(), Duration::from_secs(60));
    assert!(cache
        .reload_after_mismatch(TENANT)
        .await
        .expect("reload")
        .is_some());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(cache
        .reload_after_mismatch(TENANT)
        .await
        .expect("reload")
        .is_none());
    assert_eq!(source.loads(), 1);
}

#[tokio::test]
async fn mismatch_reload_interval_is_per_tenant() {
    let source = FakeSource::serving("key-1");
    let cache = CachedSecrets::new(source.clone(), Duration::from_secs(60));

    assert!(cache
        .reload_after_mismatch("tenant-a")
        .await
        .expect("a")
        .is_some());
    assert!(cache
        .reload_after_mismatch("tenant-b")
        .await
        .expect("b")
        .is_some());
    assert!(cache
        .reload_after_mismatch("tenant-a")
        .await
        .expect("a")
        .is_none());
    assert_eq!(source.loads(), 2);
}

#[tokio::test]
async fn a_failed_mismatch_reload_still_counts_against_the_interval() {
    let source = Arc::new(FakeSource::default());
    let cache = CachedSecrets::new(source.clone(), Duration::from_secs(60));

    let err = cache.reload_after_mismatch(TENANT).await.unwrap_err();
    assert!(matches!(err, SecretsError::Unavailable(_)), "{err:?}");
    assert!(cache
        .reload_after_mismatch(TENANT)
        .await
        .expect("reload")
        .is_none());
    assert_eq!(source.loads(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_load_does_not_replace_secrets_read_after_it_started() {
    let source = Arc::new(FakeSource::default());
    let (open, gate) = oneshot::channel();
    source.script("key-old", gate);
    source.serve(Some("key-rotated"));
    let cache = Arc::new(CachedSecrets::new(source.clone(), Duration::from_secs(60)));

    let slow = tokio::spawn({
        let cache = cache.clone();
        async move { cache.get(TENANT).await }
    });
    while source.loads() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Meanwhile a mismatch reads the rotated secret.
    let rotated = cache.reload_after_mismatch(TENANT).await.expect("reload");
    assert_eq!(lever_api_key(&rotated.expect("re-read")), "key-rotated");

    open.send(()).unwrap();
    let slow = slow.await.unwrap().expect("get");
    assert_eq!(lever_api_key(&slow), "key-rotated", "the newer secrets win");
    assert_eq!(
        lever_api_key(&cache.get(TENANT).await.expect("get")),
        "key-rotated"
    );
    assert_eq!(source.loads(), 2);
}

// ---- Reading a tenant's document ----

fn parse(document: Value) -> TenantSecrets {
    TenantSecrets::parse(&document.to_string()).expect("parse")
}

#[test]
fn an_integrations_own_lever_credential_wins_over_the_tenant_wide_one() {
    let secrets = parse(json!({
        "lever": { "api_key": "tenant-wide" },
        "vendors": {
            "xref": { "lever": { "api_key": "xref-own" } },
            // Switched off in Lever, or never set: an empty credential is none.
            "sterling": { "lever": {} },
            "justifacts": { "lever": { "oauth": {
                "access_token": "a", "refresh_token": "r", "expires_at": 1
            } } },
            "hrlogics": { "api_key": "h" }
        }
    }));

    let (path, credential) = secrets.lever_credential(VendorId::Xref).unwrap();
    assert_eq!(path, CredentialPath::Vendor(VendorId::Xref));
    assert_eq!(credential_key(credential), "xref-own");

    for vendor in [VendorId::Sterling, VendorId::HrLogics, VendorId::Esr] {
        let (path, credential) = secrets.lever_credential(vendor).unwrap();
        assert_eq!(path, CredentialPath::Tenant, "{vendor:?}");
        assert_eq!(credential_key(credential), "tenant-wide");
    }

    let (path, credential) = secrets.lever_credential(VendorId::Justifacts).unwrap();
    assert_eq!(path, CredentialPath::Vendor(VendorId::Justifacts));
    assert_eq!(credential.kind(), "oauth");
}

#[test]
fn without_any_lever_credential_there_is_none() {
    let secrets = parse(json!({
        "lever": {},
        "vendors": { "xref": { "lever": {} }, "sterling": { "api_key": "s" } }
    }));
    for &vendor in VendorId::ALL {
        assert!(secrets.lever_credential(vendor).is_none(), "{vendor:?}");
    }
    assert!(parse(json!({})).lever_credential(VendorId::Xref).is_none());
    assert_eq!(secrets.lever.kind(), "none");
}

#[test]
fn sharing_names_the_integrations_a_credential_serves() {
    let secrets = parse(json!({
        "lever": { "api_key": "tenant-wide" },
        "vendors": {
            "xref": { "lever": { "api_key": "xref-own" } },
            "sterling": { "lever": {} }
        }
    }));
    assert_eq!(
        secrets.sharing(CredentialPath::Tenant, VendorId::ALL.iter().copied()),
        [
            VendorId::Sterling,
            VendorId::Justifacts,
            VendorId::HrLogics,
            VendorId::Esr,
            VendorId::Checkr
        ]
    );
    assert_eq!(
        secrets.sharing(
            CredentialPath::Vendor(VendorId::Xref),
            VendorId::ALL.iter().copied()
        ),
        [VendorId::Xref]
    );
    assert_eq!(
        secrets.sharing(
            CredentialPath::Vendor(VendorId::Sterling),
            VendorId::ALL.iter().copied()
        ),
        [],
        "an empty own credential serves nobody"
    );
    assert_eq!(
        secrets.sharing(CredentialPath::Tenant, [VendorId::Xref, VendorId::Esr]),
        [VendorId::Esr],
        "only among the integrations asked about"
    );

    let no_tenant_wide = parse(json!({ "vendors": { "xref": { "lever": { "api_key": "x" } } } }));
    assert_eq!(
        no_tenant_wide.sharing(CredentialPath::Tenant, VendorId::ALL.iter().copied()),
        []
    );
}

#[test]
fn credential_at_reads_the_credential_stored_at_a_path() {
    let secrets = parse(json!({
        "lever": { "api_key": "tenant-wide" },
        "vendors": {
            "xref": { "lever": { "api_key": "xref-own" } },
            "sterling": { "lever": {} },
            "esr": { "api_key": "e" }
        }
    }));
    assert_eq!(
        credential_key(secrets.credential_at(CredentialPath::Tenant).unwrap()),
        "tenant-wide"
    );
    assert_eq!(
        credential_key(
            secrets
                .credential_at(CredentialPath::Vendor(VendorId::Xref))
                .unwrap()
        ),
        "xref-own"
    );
    assert!(secrets
        .credential_at(CredentialPath::Vendor(VendorId::Sterling))
        .unwrap()
        .is_empty());
    assert!(secrets
        .credential_at(CredentialPath::Vendor(VendorId::Esr))
        .is_none());
    assert!(secrets
        .credential_at(CredentialPath::Vendor(VendorId::Justifacts))
        .is_none());
    assert_eq!(CredentialPath::Tenant.keys(), ["lever"]);
    assert_eq!(
        CredentialPath::Vendor(VendorId::HrLogics).keys(),
        ["vendors", "hrlogics", "lever"]
    );
}

#[test]
fn webhook_tokens_are_read_by_event_with_their_grace_period() {
    let now = now_millis();
    let secrets = parse(json!({
        "webhooks": {
            "candidateStageChange": { "current": "stage-new", "previous": "stage-old" },
            "applicationCreated": {
                "current": "app-new", "previous": "app-old", "previous_expires_at": now + 60_000
            },
            "candidateHired": {
                "current": "hired-new", "previous": "hired-old", "previous_expires_at": now - 1
            },
            "candidateDeleted": { "current": "deleted" }
        }
    }));
    let candidates = |event: &str| -> Vec<String> {
        secrets
            .webhook_token(event)
            .unwrap_or_else(|| panic!("a token for {event}"))
            .candidates()
            .map(|s| s.expose_secret().to_owned())
            .collect()
    };
    assert_eq!(
        candidates("candidateStageChange"),
        ["stage-new", "stage-old"]
    );
    assert_eq!(candidates("applicationCreated"), ["app-new", "app-old"]);
    assert_eq!(candidates("candidateHired"), ["hired-new"], "grace ended");
    assert_eq!(candidates("candidateDeleted"), ["deleted"]);
    assert!(secrets.webhook_token("candidateArchiveChange").is_none());
}

#[test]
fn debug_output_does_not_reveal_secret_values() {
    let mut document = document("key-1");
    document["lever"]["oauth"] = json!({
        "access_token": "key-1-access", "refresh_token": "key-1-refresh", "expires_at": 1
    });
    let secrets = parse(document);

    let debug = format!("{secrets:?}");

    assert!(debug.contains("candidateStageChange"), "{debug}");
    assert!(
        !debug.contains("key-1"),
        "Debug output reveals a value: {debug}"
    );
}
