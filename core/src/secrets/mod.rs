//! Tenant secrets: Lever credentials, webhook signature tokens and vendor credentials, one
//! JSON document per tenant. [`aws::SecretsManagerSource`] reads them in AWS,
//! [`file::FileSource`] from a local file; [`cache::CachedSecrets`] sits in front of either.
//!
//! Every secret value is a [`SecretString`], so `Debug` and logs never show it.

pub mod aws;
pub mod cache;
pub mod file;
pub mod memory;

use crate::ids::VendorId;
use async_trait::async_trait;
use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Why a secret could not be read or written. Messages never quote secret values.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// No such secret (a tenant not yet given one; names it). Readers treat a tenant's as
    /// empty.
    #[error("no secret for tenant {0}")]
    NotFound(String),
    /// The document does not parse as [`TenantSecrets`]; says where, not what.
    #[error("tenant secret is malformed: {0}")]
    Malformed(String),
    /// The backend failed or refused (Secrets Manager's error, or a source that cannot
    /// write): retried later.
    #[error("secrets backend unavailable: {0}")]
    Unavailable(String),
    /// The document would be larger than a secret can be: refused before any write.
    #[error(
        "the tenant's secret would be {bytes} bytes, over the {SECRET_MAX_BYTES} bytes \
         Secrets Manager keeps in one secret: nothing was saved (a credential is a few \
         hundred characters at most)"
    )]
    TooLarge {
        /// The document's size, as JSON.
        bytes: usize,
    },
}

/// The largest secret value Secrets Manager stores: 65,536 bytes
/// (`SecretString`, AWS Secrets Manager quotas).
pub const SECRET_MAX_BYTES: usize = 65_536;

/// Refuses a tenant document larger than a secret can be, before it is written (every
/// source, so the local file refuses what AWS would).
pub(crate) fn within_limit(document: &serde_json::Value) -> Result<(), SecretsError> {
    let bytes = document.to_string().len();
    if bytes > SECRET_MAX_BYTES {
        return Err(SecretsError::TooLarge { bytes });
    }
    Ok(())
}

/// Where tenant secrets come from (no caching here; see [`cache::CachedSecrets`]).
#[async_trait]
pub trait SecretsSource: Send + Sync {
    /// The tenant's whole document, read now.
    async fn load(&self, tenant_id: &str) -> Result<TenantSecrets, SecretsError>;

    /// Sets one field of the tenant's document (`path` of object keys; `null` removes
    /// it), keeping the rest: OAuth tokens, a regenerated webhook token, a deleted vendor.
    async fn set_field(
        &self,
        tenant_id: &str,
        _path: &[&str],
        _value: serde_json::Value,
    ) -> Result<(), SecretsError> {
        Err(SecretsError::Unavailable(format!(
            "this secrets source cannot write secrets for {tenant_id}"
        )))
    }

    /// As [`SecretsSource::set_field`], creating the tenant's document when it has none yet:
    /// a tenant whose first secret is the Lever credential being connected.
    ///
    /// # Errors
    /// As [`SecretsSource::set_field`] and [`SecretsSource::put_document`].
    async fn set_field_creating(
        &self,
        tenant_id: &str,
        path: &[&str],
        value: serde_json::Value,
    ) -> Result<(), SecretsError> {
        match self.set_field(tenant_id, path, value.clone()).await {
            Err(SecretsError::NotFound(_)) => {
                let document = with_field(serde_json::json!({}), path, value)?;
                self.put_document(tenant_id, &document).await
            }
            other => other,
        }
    }

    /// Replaces the tenant's Lever OAuth tokens.
    async fn store_lever_tokens(
        &self,
        tenant_id: &str,
        tokens: &OAuthTokens,
    ) -> Result<(), SecretsError> {
        self.set_field(tenant_id, &["lever", "oauth"], tokens.to_document())
            .await
    }

    /// A deployment-wide secret document by name, as raw JSON (the Lever OAuth app's
    /// client credentials).
    async fn load_named(&self, name: &str) -> Result<String, SecretsError> {
        Err(SecretsError::NotFound(name.to_owned()))
    }

    /// Creates or replaces the tenant's whole document (the operator's `tenant put`).
    async fn put_document(
        &self,
        tenant_id: &str,
        _document: &serde_json::Value,
    ) -> Result<(), SecretsError> {
        Err(SecretsError::Unavailable(format!(
            "this secrets source cannot write secrets for {tenant_id}"
        )))
    }
}

/// A tenant's Lever OAuth tokens (authorized-app tenants). Access tokens last an hour;
/// each refresh also replaces the refresh token.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthTokens {
    /// Sent as `Authorization: Bearer …`.
    pub access_token: SecretString,
    /// Spent by the next refresh, which returns its replacement.
    pub refresh_token: SecretString,
    /// When the access token expires, ms since the epoch.
    pub expires_at: crate::clock::EpochMillis,
}

impl OAuthTokens {
    /// The stored form. The one place token values leave their `SecretString`s.
    pub fn to_document(&self) -> serde_json::Value {
        use secrecy::ExposeSecret;
        serde_json::json!({
            "access_token": self.access_token.expose_secret(),
            "refresh_token": self.refresh_token.expose_secret(),
            "expires_at": self.expires_at,
        })
    }
}

/// Sets (or with `null` removes) the field at `path` in a secret document, creating
/// objects on the way.
pub(crate) fn with_field(
    mut document: serde_json::Value,
    path: &[&str],
    value: serde_json::Value,
) -> Result<serde_json::Value, SecretsError> {
    let Some((last, parents)) = path.split_last() else {
        return Ok(value);
    };
    let mut node = &mut document;
    for key in parents {
        node = node
            .as_object_mut()
            .ok_or_else(|| SecretsError::Malformed(format!("`{key}`'s parent is not an object")))?
            .entry(*key)
            .or_insert_with(|| serde_json::json!({}));
    }
    let object = node
        .as_object_mut()
        .ok_or_else(|| SecretsError::Malformed(format!("`{last}`'s parent is not an object")))?;
    if value.is_null() {
        object.remove(*last);
    } else {
        object.insert((*last).to_owned(), value);
    }
    Ok(document)
}

/// A secret that can be rotated: the previous value stays valid until it is removed, or
/// until `previous_expires_at`.
#[derive(Debug, Clone, Deserialize)]
pub struct RotatingSecret {
    /// The value in use now; always accepted.
    pub current: SecretString,
    /// The value it replaced, still accepted during a rotation.
    #[serde(default)]
    pub previous: Option<SecretString>,
    /// When set, the previous value is accepted only until then (ms since the epoch): the
    /// grace period after a regeneration.
    #[serde(default)]
    pub previous_expires_at: Option<crate::clock::EpochMillis>,
}

impl RotatingSecret {
    /// Current first, then previous while its grace period lasts.
    pub fn candidates(&self) -> impl Iterator<Item = &SecretString> {
        let now = crate::clock::now_millis();
        let previous_valid = self.previous_expires_at.is_none_or(|until| now < until);
        std::iter::once(&self.current).chain(self.previous.iter().filter(move |_| previous_valid))
    }

    /// The stored form. The one place these values leave their `SecretString`s.
    pub fn to_document(&self) -> serde_json::Value {
        use secrecy::ExposeSecret;
        serde_json::json!({
            "current": self.current.expose_secret(),
            "previous": self.previous.as_ref().map(|p| p.expose_secret().to_owned()),
            "previous_expires_at": self.previous_expires_at,
        })
    }
}

/// How this product authenticates to a tenant's Lever account for one integration (or, at
/// the top of the document, for every integration without its own).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LeverCredentials {
    /// Basic auth `KEY:`: the key Lever generates with an integration's toggle (Xref,
    /// Sterling).
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// OAuth tokens of an authorized app (Justifacts, HRLogics, ESR); written by the OAuth
    /// callback and each refresh.
    #[serde(default)]
    pub oauth: Option<OAuthTokens>,
}

impl LeverCredentials {
    /// Neither an API key nor OAuth tokens: as if absent.
    pub fn is_empty(&self) -> bool {
        self.api_key.is_none() && self.oauth.is_none()
    }

    /// What kind of credential this is, for operators: `api key`, `oauth`, or `none`.
    pub fn kind(&self) -> &'static str {
        match (&self.oauth, &self.api_key) {
            (Some(_), _) => "oauth",
            (None, Some(_)) => "api key",
            (None, None) => "none",
        }
    }
}

/// Where in the tenant's secret document an integration's Lever credential is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialPath {
    /// `lever`: the tenant-wide credential, used by every integration without its own.
    Tenant,
    /// `vendors.<vendor>.lever`: the integration's own.
    Vendor(VendorId),
}

impl CredentialPath {
    /// The object keys leading to the credential, for [`SecretsSource::set_field`].
    pub fn keys(self) -> Vec<&'static str> {
        match self {
            CredentialPath::Tenant => vec!["lever"],
            CredentialPath::Vendor(vendor) => vec!["vendors", vendor.as_str(), "lever"],
        }
    }

    /// A short, stable name for store keys and logs: `tenant`, `vendor:xref`.
    pub fn name(self) -> String {
        match self {
            CredentialPath::Tenant => "tenant".to_owned(),
            CredentialPath::Vendor(vendor) => format!("vendor:{vendor}"),
        }
    }
}

/// A vendor's credentials for one tenant. Each adapter takes the fields its transport needs
/// and reports a clear error when one is missing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VendorSecrets {
    /// This integration's own Lever credential (Lever gives each integration its own API
    /// key or authorization); without it, the tenant-wide `lever` one is used.
    #[serde(default)]
    pub lever: Option<LeverCredentials>,
    /// Authenticates the vendor's callbacks: a Standard Webhooks `whsec_…` secret, or for
    /// vendors with unsigned callbacks (Sterling) the secret ending the callback URL.
    #[serde(default)]
    pub callback_secret: Option<RotatingSecret>,
    /// The vendor API key: Xref's `X-Api-Key`, HRLogics' Bearer token, ESR's Basic
    /// password.
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// OAuth2 client credentials (Sterling's API).
    #[serde(default)]
    pub client_id: Option<SecretString>,
    /// Goes with `client_id`.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// Basic auth user: Justifacts' JWeb user, ESR's account id.
    #[serde(default)]
    pub username: Option<SecretString>,
    /// Basic auth password (Justifacts).
    #[serde(default)]
    pub password: Option<SecretString>,
}

impl VendorSecrets {
    /// Whether the field named `name` (a [`crate::vendors::CredentialField`]'s) holds a
    /// value; `false` for a name that is no field.
    pub fn is_set(&self, name: &str) -> bool {
        match name {
            "api_key" => self.api_key.is_some(),
            "client_id" => self.client_id.is_some(),
            "client_secret" => self.client_secret.is_some(),
            "username" => self.username.is_some(),
            "password" => self.password.is_some(),
            "callback_secret" => self.callback_secret.is_some(),
            _ => false,
        }
    }
}

/// The JSON document stored per tenant (Secrets Manager secret `{prefix}{tenant}`).
///
/// ```json
/// {
///   "webhooks": { "candidateStageChange": { "current": "…", "previous": "…" } },
///   "vendors": {
///     "xref": {
///       "lever": { "api_key": "<the key of Xref's toggle in Lever>" },
///       "api_key": "…",
///       "callback_secret": { "current": "whsec_…" }
///     }
///   }
/// }
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TenantSecrets {
    /// The tenant-wide Lever credential, for integrations without their own.
    #[serde(default)]
    pub lever: LeverCredentials,
    /// One signature token per Lever webhook, by its event name (`candidateStageChange`).
    #[serde(default)]
    pub webhooks: BTreeMap<String, RotatingSecret>,
    /// Each integration's credentials, by vendor id (`xref`…).
    #[serde(default)]
    pub vendors: BTreeMap<VendorId, VendorSecrets>,
}

impl TenantSecrets {
    /// The document from its JSON; [`SecretsError::Malformed`] (quoting no value) if it is
    /// not one.
    pub fn parse(json: &str) -> Result<Self, SecretsError> {
        serde_json::from_str(json).map_err(|e| SecretsError::Malformed(describe_json_error(&e)))
    }

    /// `vendor`'s credentials, if the document has any.
    pub fn vendor(&self, vendor: VendorId) -> Option<&VendorSecrets> {
        self.vendors.get(&vendor)
    }

    /// The signature token of the Lever webhook for `event` (`candidateStageChange`).
    pub fn webhook_token(&self, event: &str) -> Option<&RotatingSecret> {
        self.webhooks.get(event)
    }

    /// The Lever credential `vendor`'s integration uses, and where it is stored: its own,
    /// else the tenant-wide one.
    pub fn lever_credential(
        &self,
        vendor: VendorId,
    ) -> Option<(CredentialPath, &LeverCredentials)> {
        match self.vendor(vendor).and_then(|v| v.lever.as_ref()) {
            Some(own) if !own.is_empty() => Some((CredentialPath::Vendor(vendor), own)),
            _ if !self.lever.is_empty() => Some((CredentialPath::Tenant, &self.lever)),
            _ => None,
        }
    }

    /// The Lever credential stored at `path`, if any.
    pub fn credential_at(&self, path: CredentialPath) -> Option<&LeverCredentials> {
        match path {
            CredentialPath::Tenant => Some(&self.lever),
            CredentialPath::Vendor(vendor) => self.vendor(vendor)?.lever.as_ref(),
        }
    }

    /// Every integration whose Lever credential is the one stored at `path` (revoking it
    /// disables exactly these).
    pub fn sharing(
        &self,
        path: CredentialPath,
        vendors: impl IntoIterator<Item = VendorId>,
    ) -> Vec<VendorId> {
        vendors
            .into_iter()
            .filter(|vendor| self.lever_credential(*vendor).map(|(p, _)| p) == Some(path))
            .collect()
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
        let json = r#"{"webhooks":{"candidateStageChange":{"previous":"p"}}}"#;
        let Err(SecretsError::Malformed(message)) = TenantSecrets::parse(json) else {
            panic!("a rotating secret without `current` is malformed");
        };
        assert!(message.contains("missing field `current`"), "{message}");
    }
}

#[cfg(test)]
mod limit_tests {
    use super::memory::MemorySource;
    use super::*;
    use crate::error::AppError;

    #[tokio::test]
    async fn a_document_larger_than_a_secret_is_refused_before_any_write() {
        let source = MemorySource::new();
        source.put("acme", serde_json::json!({ "vendors": {} }));
        let near = "k".repeat(SECRET_MAX_BYTES - 200);
        source
            .set_field(
                "acme",
                &["vendors", "xref", "api_key"],
                serde_json::json!(near),
            )
            .await
            .unwrap();
        let over = source
            .set_field(
                "acme",
                &["vendors", "esr", "api_key"],
                serde_json::json!("k".repeat(500)),
            )
            .await;
        assert!(
            matches!(over, Err(SecretsError::TooLarge { bytes }) if bytes > SECRET_MAX_BYTES),
            "{over:?}"
        );
        let kept = source.load("acme").await.unwrap();
        assert!(kept.vendor(VendorId::Esr).is_none(), "nothing written");
        let whole = serde_json::json!({ "lever": { "api_key": "k".repeat(SECRET_MAX_BYTES) } });
        assert!(matches!(
            source.put_document("globex", &whole).await,
            Err(SecretsError::TooLarge { .. })
        ));
        assert!(AppError::from(SecretsError::TooLarge { bytes: 70_000 })
            .status()
            .is_client_error());
    }
}
