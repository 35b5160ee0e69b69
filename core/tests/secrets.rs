//! Tenant secrets: Secrets Manager against a real moto_server, the local file source, and the
//! cache in front of a counting fake source.

mod support;

use async_trait::async_trait;
use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::Client;
use lever_screening::model::VendorId;
use lever_screening::secrets::aws::SecretsManagerSource;
use lever_screening::secrets::cache::CachedSecrets;
use lever_screening::secrets::file::FileSource;
use lever_screening::secrets::{SecretsError, SecretsSource, TenantSecrets};
use secrecy::ExposeSecret;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TENANT: &str = "acme";

/// A full tenant document whose every value is derived from `api_key`, so a test can tell
/// versions apart and look for leaked values.
fn document(api_key: &str) -> serde_json::Value {
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
        .webhooks
        .candidate_stage_change
        .as_ref()
        .expect("stage-change token");
    let candidates: Vec<&str> = stage.candidates().map(|s| s.expose_secret()).collect();
    assert_eq!(
        candidates,
        [
            format!("{api_key}-stage-current"),
            format!("{api_key}-stage-previous")
        ]
    );
    assert!(secrets.webhooks.application_created.is_none());
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
}

// ---- Secrets Manager (moto_server) ----

struct Moto {
    client: Client,
    /// Unique per test so tests share one server without seeing each other's secrets.
    prefix: String,
}

impl Moto {
    async fn new() -> Self {
        let config = support::local_aws_config().await;
        Self {
            client: Client::new(&config),
            prefix: format!("lever-screening-test/{}/", uuid::Uuid::new_v4().simple()),
        }
    }

    fn source(&self) -> SecretsManagerSource {
        SecretsManagerSource::new(self.client.clone(), self.prefix.clone())
    }

    async fn create(&self, tenant: &str, secret: &str) {
        self.client
            .create_secret()
            .name(format!("{}{tenant}", self.prefix))
            .secret_string(secret)
            .send()
            .await
            .expect("create secret");
    }

    async fn rotate(&self, tenant: &str, secret: &str) {
        self.client
            .put_secret_value()
            .secret_id(format!("{}{tenant}", self.prefix))
            .secret_string(secret)
            .send()
            .await
            .expect("put secret value");
    }
}

#[tokio::test]
async fn secrets_manager_source_parses_tenant_secret() {
    let moto = Moto::new().await;
    moto.create(TENANT, &document("key-1").to_string()).await;

    let secrets = moto.source().load(TENANT).await.expect("load");

    assert_document(&secrets, "key-1");
}

#[tokio::test]
async fn secrets_manager_source_reports_missing_secret_as_not_found() {
    let moto = Moto::new().await;

    let err = moto.source().load("nobody").await.unwrap_err();

    assert!(
        matches!(&err, SecretsError::NotFound(t) if t == "nobody"),
        "{err:?}"
    );
}

#[tokio::test]
async fn secrets_manager_source_reports_invalid_json_as_malformed() {
    let moto = Moto::new().await;
    moto.create(TENANT, "{not json").await;

    let err = moto.source().load(TENANT).await.unwrap_err();

    assert!(matches!(err, SecretsError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn secrets_manager_source_reports_binary_secret_as_malformed() {
    let moto = Moto::new().await;
    moto.client
        .create_secret()
        .name(format!("{}{TENANT}", moto.prefix))
        .secret_binary(Blob::new(document("key-1").to_string()))
        .send()
        .await
        .expect("create binary secret");

    let err = moto.source().load(TENANT).await.unwrap_err();

    assert!(matches!(err, SecretsError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn secrets_manager_source_reports_unreachable_backend_as_unavailable() {
    let config = support::local_aws_config().await;
    let config = aws_sdk_secretsmanager::config::Builder::from(&config)
        .endpoint_url("http://127.0.0.1:1")
        .build();
    let source = SecretsManagerSource::new(Client::from_conf(config), "lever-screening-test/");

    let err = source.load(TENANT).await.unwrap_err();

    assert!(matches!(err, SecretsError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn cached_secrets_manager_picks_up_rotation_after_ttl() {
    let moto = Moto::new().await;
    moto.create(TENANT, &document("key-1").to_string()).await;
    let cache = CachedSecrets::new(Arc::new(moto.source()), Duration::from_millis(200));
    assert_eq!(
        lever_api_key(&cache.get(TENANT).await.expect("get")),
        "key-1"
    );

    moto.rotate(TENANT, &document("key-2").to_string()).await;

    assert_eq!(
        lever_api_key(&cache.get(TENANT).await.expect("get")),
        "key-1",
        "served from memory within the ttl"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_document(&cache.get(TENANT).await.expect("get"), "key-2");
}

// ---- Cache, with a counting fake source ----

/// Serves `document` (or fails with Unavailable when it is None) and counts loads.
#[derive(Default)]
struct FakeSource {
    document: Mutex<Option<String>>,
    loads: AtomicUsize,
}

impl FakeSource {
    fn serving(api_key: &str) -> Arc<Self> {
        let source = Arc::new(Self::default());
        source.serve(Some(api_key));
        source
    }

    fn serve(&self, api_key: Option<&str>) {
        *self.document.lock().unwrap() = api_key.map(|key| document(key).to_string());
    }

    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl SecretsSource for FakeSource {
    async fn load(&self, _tenant_id: &str) -> Result<TenantSecrets, SecretsError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        let document = self.document.lock().unwrap().clone();
        match document {
            Some(json) => TenantSecrets::parse(&json),
            None => Err(SecretsError::Unavailable("backend down".into())),
        }
    }
}

#[tokio::test]
async fn cache_serves_from_memory_within_ttl() {
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
async fn cache_reloads_after_ttl() {
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
async fn cache_invalidate_forces_next_get_to_reload() {
    let source = FakeSource::serving("key-1");
    let cache = CachedSecrets::new(source.clone(), Duration::from_secs(60));
    cache.get(TENANT).await.expect("get");
    source.serve(Some("key-2"));

    cache.invalidate(TENANT);

    assert_eq!(
        lever_api_key(&cache.get(TENANT).await.expect("get")),
        "key-2"
    );
    assert_eq!(source.loads(), 2);
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
async fn failed_mismatch_reload_still_counts_against_the_interval() {
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

// ---- Local file ----

fn write_file(file: &tempfile::NamedTempFile, contents: &str) {
    std::fs::write(file.path(), contents).expect("write secrets file");
}

fn tenants_file(tenants: serde_json::Value) -> String {
    json!({ "tenants": tenants }).to_string()
}

#[tokio::test]
async fn file_source_reads_tenant_and_picks_up_edits() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    write_file(&file, &tenants_file(json!({ TENANT: document("key-1") })));
    let source = FileSource::new(file.path());

    assert_document(&source.load(TENANT).await.expect("load"), "key-1");

    write_file(&file, &tenants_file(json!({ TENANT: document("key-2") })));
    assert_document(&source.load(TENANT).await.expect("load"), "key-2");
}

#[tokio::test]
async fn file_source_reports_missing_tenant_as_not_found() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    write_file(&file, &tenants_file(json!({ TENANT: document("key-1") })));

    let err = FileSource::new(file.path())
        .load("nobody")
        .await
        .unwrap_err();

    assert!(
        matches!(&err, SecretsError::NotFound(t) if t == "nobody"),
        "{err:?}"
    );
}

#[tokio::test]
async fn file_source_reports_malformed_tenant_by_name_without_other_tenants_failing() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    write_file(
        &file,
        &tenants_file(
            json!({ TENANT: document("key-1"), "broken": { "webhooks": { "candidateStageChange": {} } } }),
        ),
    );
    let source = FileSource::new(file.path());

    let err = source.load("broken").await.unwrap_err();
    assert!(
        matches!(&err, SecretsError::Malformed(m) if m.contains("broken") && m.contains("current")),
        "{err:?}"
    );
    assert_document(&source.load(TENANT).await.expect("load"), "key-1");
}

#[tokio::test]
async fn file_source_reports_invalid_json_as_malformed() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    write_file(&file, "{\"tenants\": ");

    let err = FileSource::new(file.path()).load(TENANT).await.unwrap_err();

    assert!(matches!(err, SecretsError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn file_source_reports_unreadable_file_as_unavailable() {
    let dir = tempfile::tempdir().expect("temp dir");

    let err = FileSource::new(dir.path().join("missing.json"))
        .load(TENANT)
        .await
        .unwrap_err();

    assert!(matches!(err, SecretsError::Unavailable(_)), "{err:?}");
}

// ---- No secret in Debug output ----

#[test]
fn debug_output_does_not_reveal_secret_values() {
    let secrets = TenantSecrets::parse(&document("key-1").to_string()).expect("parse");

    let debug = format!("{secrets:?}");

    for value in [
        "key-1",
        "key-1-stage-current",
        "key-1-stage-previous",
        "key-1-xref-key",
        "whsec_key-1",
    ] {
        assert!(
            !debug.contains(value),
            "Debug output reveals {value}: {debug}"
        );
    }
}
