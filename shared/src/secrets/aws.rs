//! Tenant secrets from AWS Secrets Manager: one secret per tenant, named `{prefix}{tenant}`.

use super::{SecretsError, SecretsSource, TenantSecrets};
use crate::model::is_valid_tenant_id;
use async_trait::async_trait;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use aws_sdk_secretsmanager::Client;

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
        if !is_valid_tenant_id(tenant_id) {
            return Err(SecretsError::NotFound(tenant_id.to_owned()));
        }
        let output = self
            .client
            .get_secret_value()
            .secret_id(format!("{}{tenant_id}", self.prefix))
            .send()
            .await
            .map_err(|err| match err.as_service_error() {
                Some(service) if service.is_resource_not_found_exception() => {
                    SecretsError::NotFound(tenant_id.to_owned())
                }
                // Error details name the failure (code, message, connection), never the value.
                _ => SecretsError::Unavailable(DisplayErrorContext(&err).to_string()),
            })?;
        let json = output.secret_string().ok_or_else(|| {
            SecretsError::Malformed(format!("secret for tenant {tenant_id} has no SecretString"))
        })?;
        TenantSecrets::parse(json)
    }
}
