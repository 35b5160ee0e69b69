//! A gateway between the product and the Lever simulator (the demo tenant's
//! `lever_api_base` points at it). It forwards every request as it is; for a share of the
//! note and tag writes it first arms the simulator's `fail_after_applying`, so that the
//! simulator applies the write and then answers 502 instead of its answer, as a gateway that
//! lost Lever's response would. Every request is held for Lever's latency first. It records
//! each request with the status it got: that is how the drill counts Lever's injected
//! failures and the writes that were made ambiguous.

use super::rng::Rng;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{header, Method, StatusCode};
use lever_screening_simulators::LeverSim;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the Lever simulator answers a write whose answer was dropped.
pub const AMBIGUOUS: u16 = 502;
/// What the Lever simulator answers a call it fails on purpose (`set_failure_rate`).
pub const INJECTED_FAILURE: u16 = 503;
/// Longest a forwarded request may take.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest request body forwarded (Lever's notes are small).
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// What a Lever request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `POST …/notes` or `PUT …/notes/{id}`.
    NoteWrite,
    /// `POST …/addTags` or `POST …/removeTags`.
    TagWrite,
    Other,
}

impl Kind {
    fn of(method: &Method, path: &str) -> Kind {
        let segments: Vec<&str> = path.trim_end_matches('/').rsplit('/').take(2).collect();
        match (method.as_str(), segments.as_slice()) {
            ("POST", ["notes", ..]) | ("PUT", [_, "notes"]) => Kind::NoteWrite,
            ("POST", ["addTags" | "removeTags", ..]) => Kind::TagWrite,
            _ => Kind::Other,
        }
    }
}

/// One request through the gateway.
#[derive(Debug, Clone)]
pub struct Call {
    pub kind: Kind,
    /// What the Lever simulator answered; 0 when it did not answer.
    pub status: u16,
}

struct Inner {
    upstream: String,
    latency: Duration,
    lever: LeverSim,
    http: reqwest::Client,
    state: Mutex<GatewayState>,
}

struct GatewayState {
    rng: Rng,
    ambiguous_rate: f64,
    calls: Vec<Call>,
}

/// A running gateway; dropping it does not stop it, [`Gateway::stop`] does.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
    server: Arc<Mutex<Option<JoinHandle<()>>>>,
    /// Base URL, without `/v1`.
    pub url: String,
}

impl Gateway {
    /// Serves the gateway on a free loopback port in front of the simulator at `upstream`.
    pub async fn start(
        upstream: &str,
        lever: LeverSim,
        latency: Duration,
        seed: u64,
        ambiguous_rate: f64,
    ) -> std::io::Result<Gateway> {
        let http = reqwest::Client::builder()
            .timeout(UPSTREAM_TIMEOUT)
            .build()
            .map_err(std::io::Error::other)?;
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            latency,
            lever,
            http,
            state: Mutex::new(GatewayState {
                rng: Rng::new(seed ^ 0xA5A5_5A5A_0F0F_F0F0),
                ambiguous_rate,
                calls: Vec::new(),
            }),
        });
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let router = Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&inner));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "the drill's Lever gateway stopped");
            }
        });
        Ok(Gateway {
            inner,
            server: Arc::new(Mutex::new(Some(server))),
            url,
        })
    }

    /// Every request forwarded so far.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.inner.state).calls.clone()
    }

    pub fn stop(&self) {
        if let Some(server) = lock(&self.server).take() {
            server.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn forward(State(gateway): State<Arc<Inner>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let kind = Kind::of(&parts.method, parts.uri.path());
    let Ok(body) = to_bytes(body, BODY_LIMIT).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if !gateway.latency.is_zero() {
        tokio::time::sleep(gateway.latency).await;
    }
    if kind != Kind::Other {
        let mut state = lock(&gateway.state);
        let rate = state.ambiguous_rate;
        if state.rng.chance(rate) {
            // The next write that reaches a handler (most likely this one) loses its answer.
            gateway.lever.fail_after_applying(1, AMBIGUOUS);
        }
    }
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let mut headers = parts.headers.clone();
    for hop in [
        header::HOST,
        header::CONTENT_LENGTH,
        header::CONNECTION,
        header::TRANSFER_ENCODING,
    ] {
        headers.remove(hop);
    }
    let sent = gateway
        .http
        .request(
            parts.method.clone(),
            format!("{}{target}", gateway.upstream),
        )
        .headers(headers)
        .body(body)
        .send()
        .await;
    let (status, response) = match sent {
        Ok(answer) => relay(answer).await,
        Err(_) => (
            0,
            (StatusCode::GATEWAY_TIMEOUT, "Lever did not answer").into_response(),
        ),
    };
    lock(&gateway.state).calls.push(Call { kind, status });
    response
}

/// The simulator's answer as the gateway's: status, body and the headers that matter.
async fn relay(answer: reqwest::Response) -> (u16, Response) {
    let status = answer.status();
    let mut builder = Response::builder().status(status);
    for name in [header::CONTENT_TYPE, header::RETRY_AFTER] {
        if let Some(value) = answer.headers().get(&name) {
            builder = builder.header(name, value.clone());
        }
    }
    let body = match answer.bytes().await {
        Ok(bytes) => bytes,
        Err(_) => return (0, StatusCode::BAD_GATEWAY.into_response()),
    };
    let response = builder
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response());
    (status.as_u16(), response)
}

#[cfg(test)]
mod tests {
    use super::Kind;
    use http::Method;

    #[test]
    fn note_and_tag_writes_are_told_apart() {
        let kind = |method: Method, path: &str| Kind::of(&method, path);
        assert_eq!(
            kind(Method::POST, "/v1/opportunities/a/notes"),
            Kind::NoteWrite
        );
        assert_eq!(
            kind(Method::PUT, "/v1/opportunities/a/notes/n1"),
            Kind::NoteWrite
        );
        assert_eq!(kind(Method::GET, "/v1/opportunities/a/notes"), Kind::Other);
        assert_eq!(
            kind(Method::POST, "/v1/opportunities/a/addTags"),
            Kind::TagWrite
        );
        assert_eq!(
            kind(Method::POST, "/v1/opportunities/a/removeTags"),
            Kind::TagWrite
        );
        assert_eq!(kind(Method::GET, "/v1/opportunities/a"), Kind::Other);
        assert_eq!(kind(Method::PUT, "/v1/opportunities/a/stage"), Kind::Other);
    }
}
