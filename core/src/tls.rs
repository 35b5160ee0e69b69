//! TLS for every outbound connection (the AWS APIs, Lever, the vendors): rustls with *ring*
//! as its cryptography instead of the SDK's and reqwest's default, aws-lc-rs (a larger C
//! library, see docs/performance.md); ring serves the same TLS 1.2/1.3 suites.
//!
//! Certificates are checked against the system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR`
//! when set, as OpenSSL reads them).
//!
//! Also the SDK configuration: in Lambda it comes from the environment alone (see
//! [`aws_config`]), which keeps the SDK's default credential and region chains out of every
//! function's binary.

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider, SharedHttpClient};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use std::collections::HashMap;
use std::time::Duration;

/// Makes ring rustls' process-wide default, so that every client built without its own
/// configuration (reqwest's) uses it. Idempotent; when another provider was installed first
/// (a test harness, a tool), that one stays.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one in between: that one is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The HTTPS client for the AWS APIs, on rustls + ring instead of the SDK's default client.
pub fn aws_http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::rustls(CryptoMode::Ring))
        .build_https()
}

/// The SDK configuration every AWS client of the app is built from, with HTTPS on
/// rustls + ring ([`aws_http_client`]).
///
/// In a function it comes from the environment alone, as Lambda sets it: the region
/// (`AWS_REGION`, else `AWS_DEFAULT_REGION`), the execution role's credentials
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and endpoint overrides
/// (`AWS_ENDPOINT_URL_<SERVICE>`, e.g. `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`),
/// with the SDK's defaults otherwise (standard retries, a 3.1 s connect timeout). The SDK's
/// default chains (`aws_config::load_defaults`) also read profile files, web identity tokens
/// (with an STS client) and the container and instance metadata endpoints: about 0.8 MB of
/// every function's x86_64 binary that Lambda never uses (docs/performance.md). A tool that needs
/// them builds its app with [`crate::app::App::from_env_with`].
pub async fn aws_config() -> aws_config::SdkConfig {
    from_vars(
        std::env::vars()
            .filter(|(name, value)| name.starts_with("AWS_") && !value.is_empty())
            .collect(),
    )
}

/// [`aws_config`]'s configuration for a function, from the environment's `AWS_*` variables.
fn from_vars(vars: HashMap<String, String>) -> aws_config::SdkConfig {
    let var = |name: &str| vars.get(name).cloned();
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(region.map(Region::new))
        .http_client(aws_http_client())
        .retry_config(RetryConfig::standard())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .build(),
        );
    if let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        let credentials = Credentials::new(key, secret, var("AWS_SESSION_TOKEN"), None, "env");
        builder = builder.credentials_provider(SharedCredentialsProvider::new(credentials));
    }
    builder.set_endpoint_url(var("AWS_ENDPOINT_URL"));
    builder.service_config(ServiceSettings(vars)).build()
}

/// The SDK's default connect timeout (`aws_config::load_defaults` sets the same).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// Per-service settings as each client looks them up when it is built (endpoint overrides):
/// the service's variable, e.g. `AWS_ENDPOINT_URL_DYNAMODB` for the service id "DynamoDB"
/// and `AWS_ENDPOINT_URL_SECRETS_MANAGER` for "Secrets Manager", else the global one.
#[derive(Debug)]
struct ServiceSettings(HashMap<String, String>);

impl LoadServiceConfig for ServiceSettings {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        let service = key.service_id().to_uppercase().replace(' ', "_");
        self.0
            .get(&format!("{}_{service}", key.env()))
            .or_else(|| self.0.get(key.env()))
            .cloned()
    }
}

/// A new HTTP client for outbound calls (Lever, the vendors), on rustls + ring.
pub fn http_client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::ProvideCredentials;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn endpoint(settings: &ServiceSettings, service_id: &str) -> Option<String> {
        let key = ServiceConfigKey::builder()
            .service_id(service_id)
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .unwrap();
        settings.load_config(key)
    }

    #[test]
    fn each_service_takes_its_own_endpoint_override_else_the_global_one() {
        let settings = ServiceSettings(vars(&[
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:5000"),
        ]));
        assert_eq!(
            endpoint(&settings, "DynamoDB").as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(
            endpoint(&settings, "Secrets Manager").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(endpoint(&settings, "SQS"), None);
        let settings = ServiceSettings(vars(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")]));
        assert_eq!(
            endpoint(&settings, "SQS").as_deref(),
            Some("http://127.0.0.1:4566")
        );
    }

    #[tokio::test]
    async fn region_and_credentials_come_from_lambdas_variables() {
        let config = from_vars(vars(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ]));
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        let credentials = config
            .credentials_provider()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(credentials.access_key_id(), "AKID");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("token"));
        assert_eq!(
            config.timeout_config().and_then(|t| t.connect_timeout()),
            Some(CONNECT_TIMEOUT)
        );

        let config = from_vars(vars(&[("AWS_DEFAULT_REGION", "us-east-1")]));
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert!(config.credentials_provider().is_none());
    }
}
