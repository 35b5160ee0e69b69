//! HTTPS in front of the local AWS services, as the functions meet AWS in Lambda.
//!
//! In Lambda every call to DynamoDB, Secrets Manager and SQS is HTTPS: the first one of an
//! execution environment pays a TCP connect and a TLS handshake (certificate chain checked
//! against the trusted roots), which is part of what the first caller of a cold function
//! waits. DynamoDB Local and moto speak plain HTTP, so without this a bench never paid it.
//!
//! [`TlsProxy::start`] generates a root CA and a `localhost` certificate it issues (rcgen,
//! ring), writes the root's PEM to a file, and for each distinct upstream endpoint found in
//! the environment (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`,
//! `AWS_ENDPOINT_URL_SQS`; moto serves the last two on one port, so they share a proxy)
//! listens on a loopback port, terminates TLS there (tokio-rustls, TLS 1.3 or 1.2) and
//! copies the bytes to and from the plain-HTTP upstream. Each measured function is pointed at
//! `https://localhost:<port>` and trusts the root only (`SSL_CERT_FILE` for the Rust
//! functions, which load their roots with rustls-native-certs; `AWS_CA_BUNDLE` for boto3).
//! The harness's own SDK clients keep the plain endpoints.
//!
//! The proxy runs on its own multi-thread runtime (one worker thread), not on the harness's
//! current-thread runtime that times the events, so relaying a function's calls never waits
//! for the harness and the other way round.

use crate::BoxError;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The endpoint overrides put behind the proxy, as the SDKs (Rust and boto3) read them.
pub const ENDPOINT_VARIABLES: [&str; 3] = [
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_SQS",
];

/// The root's PEM, under the log directory.
const ROOT_FILE: &str = "tls-proxy-root.pem";

/// The running proxies; stopped when dropped.
pub struct TlsProxy {
    /// The root CA the functions trust, PEM.
    pub root_pem: PathBuf,
    /// Each endpoint variable, its HTTPS endpoint through the proxy, and its upstream.
    pub endpoints: Vec<Endpoint>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// One endpoint variable put behind the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub variable: String,
    /// `https://localhost:<port>[path]`.
    pub https: String,
    /// The plain endpoint it relays to, as the environment gave it.
    pub upstream: String,
}

impl TlsProxy {
    /// Starts one proxy per distinct upstream of `variables` (name, plain `http://` URL),
    /// writing the root's PEM into `dir`. `None` when there is no variable to proxy.
    pub fn start(variables: &[(String, String)], dir: &Path) -> Result<Option<TlsProxy>, BoxError> {
        if variables.is_empty() {
            return Ok(None);
        }
        let (root, acceptor) = authority_and_acceptor()?;
        let root_pem = std::path::absolute(dir.join(ROOT_FILE))?;
        std::fs::write(&root_pem, root.pem())
            .map_err(|e| format!("writing {}: {e}", root_pem.display()))?;

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bench-tls-proxy")
            .enable_all()
            .build()?;
        let mut ports: Vec<(String, u16)> = Vec::new();
        let mut endpoints = Vec::new();
        for (variable, url) in variables {
            let (authority, path) = upstream(url).map_err(|e| format!("{variable}: {e}"))?;
            let port = match ports.iter().find(|(a, _)| *a == authority) {
                Some((_, port)) => *port,
                None => {
                    let port = listen(&runtime, acceptor.clone(), authority.clone())?;
                    ports.push((authority, port));
                    port
                }
            };
            endpoints.push(Endpoint {
                variable: variable.clone(),
                https: format!("https://localhost:{port}{path}"),
                upstream: url.clone(),
            });
        }
        Ok(Some(TlsProxy {
            root_pem,
            endpoints,
            runtime: Some(runtime),
        }))
    }

    /// The environment a Rust function gets: the HTTPS endpoints, and the root as its only
    /// trusted one (rustls-native-certs reads `SSL_CERT_FILE` instead of the system's store).
    pub fn rust_env(&self) -> Vec<(String, String)> {
        self.env("SSL_CERT_FILE")
    }

    /// The environment the Python baseline gets: the HTTPS endpoints, and the root as
    /// botocore's CA bundle (`AWS_CA_BUNDLE`).
    pub fn python_env(&self) -> Vec<(String, String)> {
        self.env("AWS_CA_BUNDLE")
    }

    fn env(&self, roots_variable: &str) -> Vec<(String, String)> {
        self.endpoints
            .iter()
            .map(|e| (e.variable.clone(), e.https.clone()))
            .chain([(
                roots_variable.to_owned(),
                self.root_pem.display().to_string(),
            )])
            .collect()
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        // Dropped from the harness's async context, where a blocking shutdown would panic.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The endpoint variables of `vars` that the proxy can front: set, not empty.
pub fn endpoint_variables(vars: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    let vars: Vec<(String, String)> = vars.collect();
    ENDPOINT_VARIABLES
        .iter()
        .filter_map(|name| {
            vars.iter()
                .find(|(k, v)| k == name && !v.is_empty())
                .cloned()
        })
        .collect()
}

/// The `host:port` to connect to and the path of a plain `http://` endpoint URL.
fn upstream(url: &str) -> Result<(String, String), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("{url}: not an http:// endpoint (the TLS proxy fronts plain HTTP; --plain-http to go without it)")
    })?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, ""),
    };
    if authority.is_empty() {
        return Err(format!("{url}: no host"));
    }
    let has_port = authority.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
    }) && !authority.ends_with(']');
    let authority = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.trim_end_matches('/').to_owned()))
}

/// A root CA, and a TLS acceptor serving a `localhost` certificate it issued. The extensions
/// are those a strict verifier (OpenSSL's `X509_V_FLAG_X509_STRICT`, webpki) asks for: key
/// usages on both, the server-auth extended usage and the authority key id on the leaf.
fn authority_and_acceptor() -> Result<(CertifiedIssuer<'static, KeyPair>, TlsAcceptor), BoxError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "lever-screening-bench TLS proxy root");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let root = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;

    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let leaf = params.signed_by(&key, &root)?;

    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )?;
    Ok((root, TlsAcceptor::from(Arc::new(config))))
}

/// Listens on a loopback port (127.0.0.1, and ::1 on the same port where the machine has
/// it, since `localhost` may resolve to either) and relays each connection to `upstream`.
fn listen(
    runtime: &tokio::runtime::Runtime,
    acceptor: TlsAcceptor,
    upstream: String,
) -> Result<u16, BoxError> {
    let v4 = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = v4.local_addr()?.port();
    let v6 = std::net::TcpListener::bind(("::1", port)).ok();
    let _entered = runtime.enter();
    for listener in std::iter::once(v4).chain(v6) {
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        runtime.spawn(serve(listener, acceptor.clone(), upstream.clone()));
    }
    Ok(port)
}

/// Accepts connections for ever, each relayed on its own task.
async fn serve(listener: TcpListener, acceptor: TlsAcceptor, upstream: String) {
    loop {
        let client = match listener.accept().await {
            Ok((client, _)) => client,
            Err(e) => {
                eprintln!("bench: TLS proxy for {upstream}: accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let upstream = upstream.clone();
        tokio::spawn(async move {
            if let Err(e) = relay(client, &acceptor, &upstream).await {
                eprintln!("bench: TLS proxy for {upstream}: {e}");
            }
        });
    }
}

/// Completes the client's handshake, connects to `upstream` and copies both ways until
/// either side closes. Both sockets without Nagle's delay, as a direct connection would be.
async fn relay(client: TcpStream, acceptor: &TlsAcceptor, upstream: &str) -> Result<(), String> {
    client.set_nodelay(true).ok();
    let mut tls = acceptor
        .accept(client)
        .await
        .map_err(|e| format!("TLS handshake with a function failed: {e}"))?;
    let mut server = TcpStream::connect(upstream)
        .await
        .map_err(|e| format!("connecting to the upstream: {e}"))?;
    server.set_nodelay(true).ok();
    // A function killed at the end of its run resets its connections: not an error.
    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::CertificateDer;

    #[test]
    fn upstreams_are_host_port_and_path() {
        let up = |url: &str| upstream(url).unwrap();
        assert_eq!(
            up("http://127.0.0.1:8000"),
            ("127.0.0.1:8000".into(), "".into())
        );
        assert_eq!(
            up("http://127.0.0.1:5000/"),
            ("127.0.0.1:5000".into(), "".into())
        );
        assert_eq!(up("http://localhost"), ("localhost:80".into(), "".into()));
        assert_eq!(
            up("http://[::1]:4566/x"),
            ("[::1]:4566".into(), "/x".into())
        );
        assert_eq!(up("http://[::1]"), ("[::1]:80".into(), "".into()));
        assert!(upstream("https://dynamodb.us-east-1.amazonaws.com").is_err());
        assert!(upstream("http:///").is_err());
    }

    #[test]
    fn only_set_endpoint_variables_are_proxied_in_a_fixed_order() {
        let vars = [
            ("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", ""),
            ("AWS_REGION", "us-east-1"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let found = endpoint_variables(vars.into_iter());
        let names: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"]);
    }

    /// An upstream that answers each connection's first bytes with `echo:` and those bytes.
    async fn echo_upstream() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    let n = tcp.read(&mut buf).await.unwrap();
                    tcp.write_all(&[b"echo:", &buf[..n]].concat())
                        .await
                        .unwrap();
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn a_client_trusting_the_root_reaches_the_upstream_through_tls_and_equal_upstreams_share_a_port(
    ) {
        let upstream_port = echo_upstream().await;
        let plain = format!("http://127.0.0.1:{upstream_port}");
        let dir = std::env::temp_dir().join(format!("bench-tls-proxy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let proxy = TlsProxy::start(
            &[
                ("AWS_ENDPOINT_URL_SECRETS_MANAGER".into(), plain.clone()),
                ("AWS_ENDPOINT_URL_SQS".into(), plain.clone()),
            ],
            &dir,
        )
        .unwrap()
        .unwrap();
        assert_eq!(proxy.endpoints.len(), 2);
        assert_eq!(proxy.endpoints[0].https, proxy.endpoints[1].https);
        let env = proxy.rust_env();
        assert!(env.contains(&("SSL_CERT_FILE".into(), proxy.root_pem.display().to_string())));
        assert!(proxy.python_env().iter().any(|(k, _)| k == "AWS_CA_BUNDLE"));

        // A client that trusts only the root in the PEM file.
        let pem = std::fs::read(&proxy.root_pem).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let port: u16 = proxy.endpoints[0]
            .https
            .rsplit_once(':')
            .unwrap()
            .1
            .parse()
            .unwrap();
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        tls.write_all(b"ping").await.unwrap();
        let mut answer = Vec::new();
        tls.read_to_end(&mut answer).await.unwrap_or_default();
        assert_eq!(answer, b"echo:ping");
        drop(proxy);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
