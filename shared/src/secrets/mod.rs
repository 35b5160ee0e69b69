//! Tenant secrets: Lever credentials, webhook signature tokens and vendor credentials, one
//! JSON document per tenant. [`aws::SecretsManagerSource`] reads them in AWS,
//! [`file::FileSource`] from a local file; [`cache::CachedSecrets`] sits in front of either.
//!
//! Every secret value is a [`SecretString`], so `Debug` and logs never show it.

pub mod aws;
pub mod cache;
pub mod file;

use crate::model::VendorId;
use async_trait::async_trait;
use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("no secret for tenant {0}")]
    NotFound(String),
    #[error("tenant secret is malformed: {0}")]
    Malformed(String),
    #[error("secrets backend unavailable: {0}")]
    Unavailable(String),
}

/// Where tenant secrets come from (no caching here; see [`cache::CachedSecrets`]).
#[async_trait]
pub trait SecretsSource: Send + Sync {
    async fn load(&self, tenant_id: &str) -> Result<TenantSecrets, SecretsError>;
}

/// A secret that can be rotated: the previous value stays valid until it is removed.
#[derive(Debug, Clone, Deserialize)]
pub struct RotatingSecret {
    pub current: SecretString,
    #[serde(default)]
    pub previous: Option<SecretString>,
}

impl RotatingSecret {
    /// Current first, then previous.
    pub fn candidates(&self) -> impl Iterator<Item = &SecretString> {
        std::iter::once(&self.current).chain(self.previous.iter())
    }
}

/// How this product authenticates to a tenant's Lever account.
#[derive(Debug, Clone, Deserialize)]
pub struct LeverCredentials {
    /// Basic auth `KEY:` (Sterling and Xref connect this way).
    #[serde(default)]
    pub api_key: Option<SecretString>,
}

/// One signature token per Lever webhook type, each rotatable.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookTokens {
    #[serde(default)]
    pub candidate_stage_change: Option<RotatingSecret>,
    #[serde(default)]
    pub application_created: Option<RotatingSecret>,
}

/// A vendor's credentials for one tenant. Each adapter takes the fields its transport needs
/// and reports a clear error when one is missing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VendorSecrets {
    /// Authenticates the vendor's callbacks (Standard Webhooks `whsec_…` secret).
    #[serde(default)]
    pub callback_secret: Option<RotatingSecret>,
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// OAuth2 client credentials (Sterling's API).
    #[serde(default)]
    pub client_id: Option<SecretString>,
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    #[serde(default)]
    pub username: Option<SecretString>,
    #[serde(default)]
    pub password: Option<SecretString>,
}

/// The JSON document stored per tenant (Secrets Manager secret `{prefix}{tenant}`).
///
/// ```json
/// {
///   "lever": { "api_key": "…" },
///   "webhooks": { "candidateStageChange": { "current": "…", "previous": "…" } },
///   "vendors": { "xref": { "api_key": "…", "callback_secret": { "current": "whsec_…" } } }
/// }
/// ```
#[derive(Debug, Clone, Deserialize)]
pub struct TenantSecrets {
    pub lever: LeverCredentials,
    #[serde(default)]
    pub webhooks: WebhookTokens,
    #[serde(default)]
    pub vendors: BTreeMap<VendorId, VendorSecrets>,
}

impl TenantSecrets {
    pub fn parse(json: &str) -> Result<Self, SecretsError> {
        serde_json::from_str(json).map_err(|e| SecretsError::Malformed(describe_json_error(&e)))
    }

    pub fn vendor(&self, vendor: VendorId) -> Option<&VendorSecrets> {
        self.vendors.get(&vendor)
    }
}

/// What is wrong with a secret document, without quoting it: serde names fields and
/// variants (kept, they help), but for a value of the wrong type it quotes the value, which
/// may be the secret itself (replaced by its position).
pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let names_only = [
        "missing field",
        "unknown field",
        "unknown variant",
        "duplicate field",
    ];
    if names_only.iter().any(|prefix| message.starts_with(prefix)) {
        return message;
    }
    let kind = match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "a value of the wrong type",
        serde_json::error::Category::Eof => "truncated",
    };
    match error.line() {
        0 => kind.to_owned(),
        line => format!("{kind} at line {line} column {}", error.column()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_secret_is_described_without_quoting_its_values() {
        let json =
            r#"{"lever":{"api_key":"k"},"webhooks":{"candidateStageChange":"s3cr3t-token"}}"#;
        let Err(SecretsError::Malformed(message)) = TenantSecrets::parse(json) else {
            panic!("a token given as a string instead of {{current}} is malformed");
        };
        assert!(!message.contains("s3cr3t"), "{message}");
        assert!(message.contains("line 1"), "{message}");
    }

    #[test]
    fn a_missing_field_is_named() {
        let Err(SecretsError::Malformed(message)) = TenantSecrets::parse(r#"{"webhooks":{}}"#)
        else {
            panic!("a document without `lever` is malformed");
        };
        assert!(message.contains("missing field `lever`"), "{message}");
    }
}
