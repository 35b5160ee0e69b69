//! Tenant secrets from a local JSON file, for the local server and tests:
//! `{"tenants": {"<tenant>": <TenantSecrets document>}}`.

use super::{describe_json_error, SecretsError, SecretsSource, TenantSecrets};
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;

pub struct FileSource {
    path: PathBuf,
}

/// Tenants stay raw JSON so one malformed tenant does not hide the others.
#[derive(Deserialize)]
struct SecretsFile {
    tenants: HashMap<String, serde_json::Value>,
}

impl FileSource {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

#[async_trait]
impl SecretsSource for FileSource {
    /// Reads the file on every call so an edit (a rotated token) takes effect at once.
    async fn load(&self, tenant_id: &str) -> Result<TenantSecrets, SecretsError> {
        let path = self.path.display();
        let text = tokio::fs::read_to_string(&self.path)
            .await
            .map_err(|e| SecretsError::Unavailable(format!("cannot read {path}: {e}")))?;
        let mut file: SecretsFile = serde_json::from_str(&text)
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
}
