//! TLS for every outbound connection (the AWS APIs, Lever, the vendors): rustls with *ring*
//! as its cryptography instead of the SDK's and reqwest's default, aws-lc-rs (a larger C
//! library, see docs/performance.md); ring serves the same TLS 1.2/1.3 suites.
//!
//! Certificates are checked against the system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR`
//! when set, as OpenSSL reads them).
//!
//! One HTTP stack for both: the AWS SDK's requests go through reqwest too ([`aws_http_client`]),
//! instead of the SDK's own hyper client, which would link a second client and HTTP/2 that
//! the AWS APIs used here do not need (docs/performance.md).
//!
//! Also the SDK configuration: in Lambda it comes from the environment alone (see
//! [`aws_config`]), which keeps the SDK's default credential and region chains out of every
//! function's binary.

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider, SharedHttpClient};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use std::collections::HashMap;
use std::sync::Mutex;
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

/// The HTTPS client for the AWS APIs: reqwest on rustls + ring ([`http_client`]'s stack).
pub fn aws_http_client() -> SharedHttpClient {
    SharedHttpClient::new(SdkHttpClient::default())
}

/// The SDK's [`HttpClient`] on reqwest: one reqwest client per connect timeout the SDK asks
/// for (one in practice: the configuration's), each with its own connection pool, kept for
/// the process's life as the SDK expects of a client.
///
/// Unlike reqwest's defaults, and like the SDK's own client, it follows no redirect (a
/// signed request must reach the endpoint it was signed for, and a misdirected endpoint
/// should show its 3xx) and reads no proxy from the environment (`HTTPS_PROXY` set for the
/// vendors' calls must not carry DynamoDB's).
#[derive(Debug, Default)]
struct SdkHttpClient {
    clients: Mutex<Vec<(Option<Duration>, reqwest::Client)>>,
}

impl SdkHttpClient {
    /// The client for `connect_timeout`, built the first time; an error when reqwest cannot
    /// build one (no trusted root could be loaded), which each call then reports.
    fn client(&self, connect_timeout: Option<Duration>) -> Result<reqwest::Client, String> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, client)) = clients.iter().find(|(t, _)| *t == connect_timeout) {
            return Ok(client.clone());
        }
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(timeout) = connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        let client = builder
            .build()
            .map_err(|e| format!("the HTTPS client for AWS could not be built: {e}"))?;
        clients.push((connect_timeout, client.clone()));
        Ok(client)
    }
}

impl HttpClient for SdkHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(SdkConnector {
            client: self.client(settings.connect_timeout()),
            read_timeout: settings.read_timeout(),
        })
    }
}

/// One SDK client's connector: its requests, each bounded by the read timeout when one is
/// set (reqwest's timeout covers the whole exchange, a little stricter than a read timeout).
#[derive(Debug)]
struct SdkConnector {
    client: Result<reqwest::Client, String>,
    read_timeout: Option<Duration>,
}

impl HttpConnector for SdkConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = match &self.client {
            Ok(client) => client.clone(),
            Err(error) => {
                return HttpConnectorFuture::ready(Err(ConnectorError::other(
                    error.clone().into(),
                    None,
                )))
            }
        };
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::user(e.into()))?;
            let (parts, body) = request.into_parts();
            // The AWS APIs used here take small JSON bodies, always in memory.
            let body = body
                .bytes()
                .ok_or_else(|| ConnectorError::user("a streaming request body".into()))?
                .to_vec();
            let mut outgoing = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body);
            if let Some(timeout) = read_timeout {
                outgoing = outgoing.timeout(timeout);
            }
            let response = outgoing.send().await.map_err(connector_error)?;
            // The body streams on, so that the SDK's stalled-stream protection still stops
            // a response that stops arriving, as it does with the SDK's own client.
            let response: http::Response<reqwest::Body> = response.into();
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// How the SDK's retry policy sees a failed exchange: a timeout or an I/O failure (refused,
/// reset, TLS refused) is transient and retried; a request that could not be built is not.
fn connector_error(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else if error.is_builder() {
        ConnectorError::user(error.into())
    } else {
        ConnectorError::io(error.into())
    }
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

    /// A connector as the SDK gets one, with a read timeout of `read_timeout`.
    fn connector(read_timeout: Duration) -> SdkConnector {
        SdkConnector {
            client: SdkHttpClient::default().client(Some(Duration::from_secs(1))),
            read_timeout: Some(read_timeout),
        }
    }

    /// Serves one connection on a loopback port: reads the request head, writes `answer`,
    /// then holds the connection open for `hold`.
    async fn serve_once(answer: &'static str, hold: Duration) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut chunk = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&chunk[..n]),
                }
            }
            stream.write_all(answer.as_bytes()).await.unwrap();
            tokio::time::sleep(hold).await;
        });
        port
    }

    #[tokio::test]
    async fn the_sdk_connector_follows_no_redirect() {
        let port = serve_once(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:9/\r\n\
             content-length: 0\r\n\r\n",
            Duration::ZERO,
        )
        .await;
        let request = HttpRequest::get(format!("http://127.0.0.1:{port}/")).unwrap();
        let response = connector(Duration::from_secs(5))
            .call(request)
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 307);
    }

    #[tokio::test]
    async fn the_sdk_connector_hands_the_body_over_as_it_arrives() {
        // Headers and half the body, then nothing for a minute: the response is handed over
        // at once, so that the SDK's stalled-stream protection can judge the body.
        let port = serve_once(
            "HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n0123456789",
            Duration::from_secs(60),
        )
        .await;
        let request = HttpRequest::get(format!("http://127.0.0.1:{port}/")).unwrap();
        let call = connector(Duration::from_secs(120)).call(request);
        let response = tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .expect("the connector waited for the whole body")
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.body().bytes().is_none(), "the body is a stream");
    }

    #[tokio::test]
    async fn the_sdk_connector_carries_the_status_headers_and_body_both_ways() {
        use aws_smithy_types::byte_stream::ByteStream;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut chunk = [0u8; 1024];
            while !request.ends_with(br#"{"TableName":"t"}"#) {
                let n = stream.read(&mut chunk).await.unwrap();
                assert_ne!(n, 0, "the request ended early");
                request.extend_from_slice(&chunk[..n]);
            }
            let body = r#"{"__type":"ResourceNotFoundException"}"#;
            let answer = format!(
                "HTTP/1.1 400 Bad Request\r\nx-amzn-requestid: r-1\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8(request).unwrap()
        });
        let mut request = HttpRequest::new(SdkBody::from(r#"{"TableName":"t"}"#));
        request
            .set_uri(format!("http://127.0.0.1:{port}/"))
            .unwrap();
        request.set_method("POST").unwrap();
        request
            .headers_mut()
            .insert("x-amz-target", "DynamoDB_20120810.DescribeTable");

        let response = connector(Duration::from_secs(5))
            .call(request)
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400);
        assert_eq!(response.headers().get("x-amzn-requestid"), Some("r-1"));
        let body = ByteStream::new(response.into_body())
            .collect()
            .await
            .unwrap();
        assert_eq!(
            body.into_bytes(),
            &br#"{"__type":"ResourceNotFoundException"}"#[..]
        );
        let sent = server.await.unwrap().to_ascii_lowercase();
        assert!(sent.starts_with("post / http/1.1\r\n"), "{sent}");
        assert!(
            sent.contains("x-amz-target: dynamodb_20120810.describetable"),
            "{sent}"
        );
    }

    #[tokio::test]
    async fn the_sdk_retries_a_refused_connection_and_a_timeout_as_transient() {
        let refused = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let request = |port: u16| HttpRequest::get(format!("http://127.0.0.1:{port}/")).unwrap();
        let error = connector(Duration::from_secs(5))
            .call(request(refused))
            .await
            .unwrap_err();
        assert!(error.is_io(), "{error:?}");

        // Accepted by the kernel, never answered.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        let error = connector(Duration::from_millis(200))
            .call(request(port))
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
    }
}
