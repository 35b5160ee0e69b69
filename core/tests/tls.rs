//! TLS on rustls + ring (`lever_screening::tls`): the AWS SDK's clients and the HTTP client
//! for Lever and the vendors each complete a handshake with a server whose certificate chains
//! to a root the system trusts, and refuse one whose root it does not trust.
//!
//! Its own test binary: the system's trust store here is `SSL_CERT_FILE`, set once for the
//! process before any client is built, holding only a root this test generates.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::Write;
use std::sync::{Arc, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

type Authority = CertifiedIssuer<'static, KeyPair>;

fn authority(name: &str) -> Authority {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// The one root in this process's trust store, and the environment the SDK reads (region,
/// credentials), set before the first client is built.
fn trusted_root() -> &'static Authority {
    static ROOT: OnceLock<(Authority, tempfile::TempPath)> = OnceLock::new();
    &ROOT
        .get_or_init(|| {
            let root = authority("lever-screening test root");
            let mut file = tempfile::NamedTempFile::new().unwrap();
            file.write_all(root.pem().as_bytes()).unwrap();
            let path = file.into_temp_path();
            std::env::set_var("SSL_CERT_FILE", &path);
            std::env::remove_var("SSL_CERT_DIR");
            std::env::set_var("AWS_REGION", "us-east-1");
            std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDTEST");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "test-secret");
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
            (root, path)
        })
        .0
}

fn untrusted_root() -> Authority {
    authority("a root nobody trusts")
}

/// Serves HTTPS for `localhost` on a loopback port with a certificate issued by `issuer`;
/// each connection gets one `200` with the JSON `body`. Returns the port.
async fn serve(issuer: &Authority, body: &'static str) -> u16 {
    let key = KeyPair::generate().unwrap();
    let certificate = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, issuer)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![certificate.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake here.
                if let Ok(mut stream) = acceptor.accept(tcp).await {
                    answer(&mut stream, body).await;
                }
            });
        }
    });
    port
}

/// Reads one HTTP/1.1 request (head and `content-length` body) and answers `200` with `body`.
async fn answer(stream: &mut tokio_rustls::server::TlsStream<tokio::net::TcpStream>, body: &str) {
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
        let Some(head_end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |value| value.trim().parse().unwrap());
        if request.len() >= head_end + 4 + length {
            break;
        }
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A DynamoDB client as the functions build theirs (`tls::aws_config`), pointed at `port`,
/// without retries (a refused certificate is final).
async fn dynamodb(port: u16) -> aws_sdk_dynamodb::Client {
    trusted_root();
    let config = lever_screening::tls::aws_config().await;
    let config = aws_sdk_dynamodb::config::Builder::from(&config)
        .endpoint_url(format!("https://localhost:{port}"))
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

#[tokio::test]
async fn aws_clients_call_a_server_whose_certificate_chains_to_a_trusted_root() {
    let port = serve(trusted_root(), r#"{"TableNames":["lever-screening"]}"#).await;
    let tables = dynamodb(port).await.list_tables().send().await.unwrap();
    assert_eq!(tables.table_names(), ["lever-screening"]);
}

#[tokio::test]
async fn aws_clients_refuse_a_certificate_from_an_untrusted_root() {
    let port = serve(&untrusted_root(), r#"{"TableNames":[]}"#).await;
    let error = dynamodb(port).await.list_tables().send().await.unwrap_err();
    assert!(
        matches!(error, aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)),
        "{error:?}"
    );
}

/// A GET to `port` with the HTTP client the flows use for Lever and the vendors.
async fn outbound_get(port: u16) -> reqwest::Result<reqwest::Response> {
    trusted_root();
    let http = lever_screening::retry::HttpClient::default();
    let url = format!("https://localhost:{port}/");
    http.get().get(url).send().await
}

#[tokio::test]
async fn outbound_http_calls_a_server_whose_certificate_chains_to_a_trusted_root() {
    let port = serve(trusted_root(), r#"{"ok":true}"#).await;
    let response = outbound_get(port).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), r#"{"ok":true}"#);
}

#[tokio::test]
async fn outbound_http_refuses_a_certificate_from_an_untrusted_root() {
    let port = serve(&untrusted_root(), r#"{"ok":true}"#).await;
    let error = outbound_get(port).await.unwrap_err();
    assert!(error.is_connect(), "{error:?}");
}
