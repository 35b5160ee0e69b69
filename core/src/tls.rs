//! TLS for every outbound connection (the AWS APIs, Lever, the vendors): rustls with *ring*
//! as its cryptography instead of the SDK's and reqwest's default, aws-lc-rs (a larger C
//! library, see docs/performance.md); ring serves the same TLS 1.2/1.3 suites.
//!
//! Certificates are checked against the system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR`
//! when set, as OpenSSL reads them).

use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

/// Makes ring rustls' process-wide default, so that every client built without its own
/// configuration (reqwest's) uses it. Idempotent; when another provider was installed first
/// (a test harness, a tool), that one stays.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one in between: that one is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The SDK configuration from the environment (region, credentials, endpoint overrides such
/// as `AWS_ENDPOINT_URL_DYNAMODB`), with every AWS client's HTTPS on rustls + ring instead of
/// the SDK's default client.
pub async fn aws_config() -> aws_config::SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client)
        .load()
        .await
}

/// A new HTTP client for outbound calls (Lever, the vendors), on rustls + ring.
pub fn http_client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::new()
}
