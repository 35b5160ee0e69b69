//! Tenant secrets from AWS Secrets Manager: one secret per tenant, named `{prefix}{tenant}`.

use super::{
    describe_json_error, with_field, within_limit, SecretsError, SecretsSource, TenantSecrets,
};
use crate::ids::TenantId;
use async_trait::async_trait;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use aws_sdk_secretsmanager::Client;

/// [`SecretsSource`] over Secrets Manager: `GetSecretValue` to read, `PutSecretValue` (or
/// `CreateSecret` for a new tenant) to write.
pub struct SecretsManagerSource {
    client: Client,
    prefix: String,
}

impl SecretsManagerSource {
    /// `prefix` is prepended to the tenant id, e.g. `lever-screening/tenants/`.
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
        }
    }
}

#[async_trait]
impl SecretsSource for SecretsManagerSource {
    async fn load(&self, tenant_id: &str) -> Result<TenantSecrets, SecretsError> {
        // The tenant comes from a public URL: an id no tenant can have is not worth a call.
        if TenantId::parse(tenant_id).is_err() {
            return Err(SecretsError::NotFound(tenant_id.to_owned()));
        }
        let json = self
            .read(&format!("{}{tenant_id}", self.prefix))
            .await
            .map_err(|e| match e {
                SecretsError::NotFound(_) => SecretsError::NotFound(tenant_id.to_owned()),
                other => other,
            })?;
        TenantSecrets::parse(&json)
    }

    async fn set_field(
        &self,
        tenant_id: &str,
        path: &[&str],
        value: serde_json::Value,
    ) -> Result<(), SecretsError> {
        let name = format!("{}{tenant_id}", self.prefix);
        let current = self.read(&name).await?;
        let current: serde_json::Value = serde_json::from_str(&current)
            .map_err(|e| SecretsError::Malformed(describe_json_error(&e)))?;
        let updated = with_field(current, path, value)?;
        within_limit(&updated)?;
        self.client
            .put_secret_value()
            .secret_id(&name)
            .secret_string(updated.to_string())
            .send()
            .await
            .map_err(|err| SecretsError::Unavailable(DisplayErrorContext(&err).to_string()))?;
        Ok(())
    }

    async fn put_document(
        &self,
        tenant_id: &str,
        document: &serde_json::Value,
    ) -> Result<(), SecretsError> {
        within_limit(document)?;
        let name = format!("{}{tenant_id}", self.prefix);
        let text = document.to_string();
        let created = self
            .client
            .create_secret()
            .name(&name)
            .secret_string(&text)
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_exists_exception()) =>
            {
                self.client
                    .put_secret_value()
                    .secret_id(&name)
                    .secret_string(text)
                    .send()
                    .await
                    .map_err(|err| {
                        SecretsError::Unavailable(DisplayErrorContext(&err).to_string())
                    })?;
                Ok(())
            }
            Err(err) => Err(SecretsError::Unavailable(
                DisplayErrorContext(&err).to_string(),
            )),
        }
    }

    async fn load_named(&self, name: &str) -> Result<String, SecretsError> {
        self.read(name).await
    }
}

impl SecretsManagerSource {
    /// The secret's JSON text.
    async fn read(&self, name: &str) -> Result<String, SecretsError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .map_err(|err| match err.as_service_error() {
                Some(service) if service.is_resource_not_found_exception() => {
                    SecretsError::NotFound(name.to_owned())
                }
                _ => SecretsError::Unavailable(DisplayErrorContext(&err).to_string()),
            })?;
        output
            .secret_string()
            .map(str::to_owned)
            .ok_or_else(|| SecretsError::Malformed(format!("secret {name} has no SecretString")))
    }
}
