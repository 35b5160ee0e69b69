//! Tenant secrets from a local JSON file, for the local server and tests:
//! `{"tenants": {"<tenant>": <TenantSecrets document>}, "named": {"<name>": <document>}}`.

use super::{
    describe_json_error, with_field, within_limit, SecretsError, SecretsSource, TenantSecrets,
};
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;

/// [`SecretsSource`] over one JSON file, read on every call and rewritten whole on a write.
pub struct FileSource {
    path: PathBuf,
    /// Serialises this process's read-modify-write of the file.
    writing: tokio::sync::Mutex<()>,
}

/// Tenants stay raw JSON so one malformed tenant does not hide the others.
#[derive(Deserialize)]
struct SecretsFile {
    tenants: HashMap<String, serde_json::Value>,
}

/// Writes `contents` to a new or truncated file at `path` that only its owner may read
/// (0600): the file holds credentials.
pub async fn write_owner_only(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    // `mode` applies only when the file is created: an older file is narrowed too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .await?;
    }
    file.write_all(contents).await?;
    file.flush().await
}

impl FileSource {
    /// The file at `path`; it is not read until the first call.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            writing: tokio::sync::Mutex::new(()),
        }
    }
}

#[async_trait]
impl SecretsSource for FileSource {
    /// Reads the file on every call so an edit (a rotated token) takes effect at once.
    async fn load(&self, tenant_id: &str) -> Result<TenantSecrets, SecretsError> {
        let path = self.path.display();
        let mut file: SecretsFile = serde_json::from_value(self.read().await?)
            .map_err(|e| SecretsError::Malformed(format!("{path}: {}", describe_json_error(&e))))?;
        let document = file
            .tenants
            .remove(tenant_id)
            .ok_or_else(|| SecretsError::NotFound(tenant_id.to_owned()))?;
        TenantSecrets::deserialize(document).map_err(|e| {
            SecretsError::Malformed(format!(
                "{path}, tenant {tenant_id}: {}",
                describe_json_error(&e)
            ))
        })
    }

    async fn set_field(
        &self,
        tenant_id: &str,
        path: &[&str],
        value: serde_json::Value,
    ) -> Result<(), SecretsError> {
        self.update(|file| {
            let tenant = file
                .get_mut("tenants")
                .and_then(|tenants| tenants.get_mut(tenant_id))
                .ok_or_else(|| SecretsError::NotFound(tenant_id.to_owned()))?;
            // A refusal leaves the file unwritten (`update` writes only on success).
            let updated = with_field(tenant.take(), path, value)?;
            within_limit(&updated)?;
            *tenant = updated;
            Ok(())
        })
        .await
    }

    async fn put_document(
        &self,
        tenant_id: &str,
        document: &serde_json::Value,
    ) -> Result<(), SecretsError> {
        within_limit(document)?;
        self.update(|file| {
            *file = with_field(file.take(), &["tenants", tenant_id], document.clone())?;
            Ok(())
        })
        .await
    }

    async fn load_named(&self, name: &str) -> Result<String, SecretsError> {
        self.read()
            .await?
            .get("named")
            .and_then(|named| named.get(name))
            .map(|document| document.to_string())
            .ok_or_else(|| SecretsError::NotFound(name.to_owned()))
    }
}

impl FileSource {
    /// Applies `change` to the file under this process's write lock, then writes it beside
    /// and renames it: a reader never sees half a file.
    async fn update(
        &self,
        change: impl FnOnce(&mut serde_json::Value) -> Result<(), SecretsError>,
    ) -> Result<(), SecretsError> {
        let _writing = self.writing.lock().await;
        let mut file = self.read().await?;
        change(&mut file)?;
        let text = serde_json::to_string_pretty(&file)
            .map_err(|e| SecretsError::Malformed(describe_json_error(&e)))?;
        let partial = self.path.with_extension("json.partial");
        let unavailable = |e: std::io::Error| SecretsError::Unavailable(e.to_string());
        write_owner_only(&partial, text.as_bytes())
            .await
            .map_err(unavailable)?;
        tokio::fs::rename(&partial, &self.path)
            .await
            .map_err(unavailable)
    }

    async fn read(&self) -> Result<serde_json::Value, SecretsError> {
        let path = self.path.display();
        let text = tokio::fs::read_to_string(&self.path)
            .await
            .map_err(|e| SecretsError::Unavailable(format!("cannot read {path}: {e}")))?;
        serde_json::from_str(&text)
            .map_err(|e| SecretsError::Malformed(format!("{path}: {}", describe_json_error(&e))))
    }
}
