//! Tenant secrets held in memory, for the fast tests and the local server's embedded mode:
//! the same documents as Secrets Manager, written with the same field updates.

use super::{
    describe_json_error, with_field, within_limit, SecretsError, SecretsSource, TenantSecrets,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Secret documents by tenant id, and named deployment-wide documents.
#[derive(Default)]
pub struct MemorySource {
    tenants: Mutex<HashMap<String, serde_json::Value>>,
    named: Mutex<HashMap<String, serde_json::Value>>,
}

impl MemorySource {
    /// No documents.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (replaces) a tenant's whole document.
    pub fn put(&self, tenant: &str, document: serde_json::Value) {
        lock(&self.tenants).insert(tenant.to_owned(), document);
    }

    /// Sets a named document (the Lever OAuth app).
    pub fn put_named(&self, name: &str, document: serde_json::Value) {
        lock(&self.named).insert(name.to_owned(), document);
    }

    /// A tenant's document as stored now.
    pub fn document(&self, tenant: &str) -> Option<serde_json::Value> {
        lock(&self.tenants).get(tenant).cloned()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Documents are replaced whole: a poisoned map holds nothing half-written.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl SecretsSource for MemorySource {
    async fn load(&self, tenant_id: &str) -> Result<TenantSecrets, SecretsError> {
        let document = self
            .document(tenant_id)
            .ok_or_else(|| SecretsError::NotFound(tenant_id.to_owned()))?;
        serde_json::from_value(document)
            .map_err(|e| SecretsError::Malformed(describe_json_error(&e)))
    }

    async fn set_field(
        &self,
        tenant_id: &str,
        path: &[&str],
        value: serde_json::Value,
    ) -> Result<(), SecretsError> {
        let mut tenants = lock(&self.tenants);
        let document = tenants
            .get_mut(tenant_id)
            .ok_or_else(|| SecretsError::NotFound(tenant_id.to_owned()))?;
        // On a copy: a refused change leaves the document as it was.
        let updated = with_field(document.clone(), path, value)?;
        within_limit(&updated)?;
        *document = updated;
        Ok(())
    }

    async fn put_document(
        &self,
        tenant_id: &str,
        document: &serde_json::Value,
    ) -> Result<(), SecretsError> {
        within_limit(document)?;
        self.put(tenant_id, document.clone());
        Ok(())
    }

    async fn load_named(&self, name: &str) -> Result<String, SecretsError> {
        lock(&self.named)
            .get(name)
            .map(|document| document.to_string())
            .ok_or_else(|| SecretsError::NotFound(name.to_owned()))
    }
}
