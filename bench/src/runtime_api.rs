//! A mock of the Lambda Runtime API (`2018-06-01`), served on a loopback port: the protocol a
//! function's runtime client speaks in Lambda, so the functions (and `awslambdaric`) run
//! unmodified.
//!
//! - `GET /2018-06-01/runtime/invocation/next` long-polls until the harness hands out an
//!   invocation, then answers its event with `Lambda-Runtime-Aws-Request-Id`,
//!   `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn` and
//!   `Lambda-Runtime-Trace-Id`.
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `…/{id}/error` end an invocation.
//! - `POST /2018-06-01/runtime/init/error` reports a function that could not start.
//!
//! Each request is reported to the harness as a [`Report`] stamped with the [`Instant`] it
//! arrived (or, for `next`, the instant its event was handed out), so the timings are taken
//! where Lambda takes them: a `next` request is the function saying it is idle (its first one
//! ends Lambda's *Init Duration*), and an invocation lasts from the event handed out to its
//! answer received (Lambda's *Duration*).

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

/// How long a function is given per invocation (the `Lambda-Runtime-Deadline-Ms` header).
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(30);

/// One event to hand to the function.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub event: Vec<u8>,
}

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `POST …/invocation/{id}/response`.
    Response,
    /// `POST …/invocation/{id}/error`.
    Error,
}

/// What the function did, in the order it did it.
#[derive(Debug)]
pub enum Report {
    /// The function asked for its next event: it is idle.
    NextRequested { at: Instant },
    /// An invocation ended: `served_at` is when its event was handed out, `answered_at`
    /// when its answer arrived.
    Answered {
        request_id: String,
        outcome: Outcome,
        served_at: Instant,
        answered_at: Instant,
        body: Bytes,
    },
    /// The function reported that it could not initialise.
    InitError { body: Bytes },
}

struct Shared {
    invocations: Mutex<mpsc::Receiver<Invocation>>,
    served_at: std::sync::Mutex<HashMap<String, Instant>>,
    reports: mpsc::UnboundedSender<Report>,
    function_arn: String,
}

/// A running mock Runtime API for one function process. Dropping it stops the server.
pub struct RuntimeApi {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: SocketAddr,
    invocations: mpsc::Sender<Invocation>,
    reports: mpsc::UnboundedReceiver<Report>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    /// Starts serving on a free loopback port; invocations are for `function_name`.
    pub async fn start(function_name: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        // One invocation at a time, as Lambda gives one execution environment.
        let (invocations_tx, invocations_rx) = mpsc::channel(1);
        let (reports_tx, reports_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            invocations: Mutex::new(invocations_rx),
            served_at: std::sync::Mutex::new(HashMap::new()),
            reports: reports_tx,
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared);
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("bench: mock Runtime API stopped: {error}");
            }
        });
        Ok(RuntimeApi {
            address,
            invocations: invocations_tx,
            reports: reports_rx,
            server,
        })
    }

    /// Hands `invocation` to the function's pending (or next) `next` request.
    pub async fn invoke(&self, invocation: Invocation) -> Result<(), &'static str> {
        self.invocations
            .send(invocation)
            .await
            .map_err(|_| "the mock Runtime API is gone")
    }

    /// The next thing the function did, or `None` if nothing within `timeout`.
    pub async fn report(&mut self, timeout: Duration) -> Option<Report> {
        tokio::time::timeout(timeout, self.reports.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn epoch_millis(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let _ = shared
        .reports
        .send(Report::NextRequested { at: Instant::now() });
    let invocation = {
        let mut invocations = shared.invocations.lock().await;
        invocations.recv().await
    };
    let Some(invocation) = invocation else {
        // The harness is done with this function; it is about to be stopped.
        return StatusCode::GONE.into_response();
    };
    let deadline = epoch_millis(SystemTime::now() + INVOCATION_TIMEOUT);
    let trace_id = format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        deadline / 1000,
        &invocation.request_id.replace('-', "")[..24],
        &invocation.request_id.replace('-', "")[..16],
    );
    let served = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header("Lambda-Runtime-Aws-Request-Id", &invocation.request_id)
        .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
        .header("Lambda-Runtime-Invoked-Function-Arn", &shared.function_arn)
        .header("Lambda-Runtime-Trace-Id", trace_id)
        .body(Body::from(invocation.event));
    match served {
        Ok(served) => {
            if let Ok(mut served_at) = shared.served_at.lock() {
                served_at.insert(invocation.request_id, Instant::now());
            }
            served
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn answered(shared: &Shared, request_id: String, outcome: Outcome, body: Bytes) -> Response {
    let answered_at = Instant::now();
    let served_at = shared
        .served_at
        .lock()
        .ok()
        .and_then(|mut served_at| served_at.remove(&request_id));
    let Some(served_at) = served_at else {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"errorMessage":"unknown or already answered request id","errorType":"InvalidRequestID"}"#,
        )
            .into_response();
    };
    let _ = shared.reports.send(Report::Answered {
        request_id,
        outcome,
        served_at,
        answered_at,
        body,
    });
    accepted()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    answered(&shared, id, Outcome::Response, body)
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    answered(&shared, id, Outcome::Error, body)
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let _ = shared.reports.send(Report::InitError { body });
    accepted()
}
