//! In-memory simulators of Lever and the vendors, for the local server, its demo and the
//! end-to-end tests. Each is a cheap-to-clone handle: an axum `Router` for the product to
//! call, plus a Rust API to seed data, inspect it, inject faults and send webhooks.

pub mod lever;
pub mod sterling;
pub mod xref;

pub use lever::{LeverSim, RecordedCall, SentWebhook, SimNote, SimOpportunity, SimPosting};
pub use sterling::{
    InviteMethod, SentEmail, SterlingCallback, SterlingCandidate, SterlingInvite, SterlingPackage,
    SterlingReportItem, SterlingScreening, SterlingSim,
};
pub use xref::{SentCallback, XrefCandidate, XrefOrder, XrefSim};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the simulator has no {what} {id:?}")]
    NotFound { what: &'static str, id: String },
    #[error("nothing is subscribed to {0}")]
    NotSubscribed(String),
    #[error("delivery failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("cannot sign the callback: {0}")]
    Signing(#[from] standardwebhooks::WebhookError),
}

impl SimError {
    fn not_found(what: &'static str, id: &str) -> Self {
        SimError::NotFound {
            what,
            id: id.to_owned(),
        }
    }
}

/// The next `remaining` requests answer `status` instead of being served.
#[derive(Debug, Default)]
struct Faults {
    remaining: usize,
    status: u16,
}

impl Faults {
    fn arm(&mut self, n: usize, status: u16) {
        *self = Faults {
            remaining: n,
            status,
        };
    }

    /// The injected answer for this request, if a fault is armed.
    fn take(&mut self) -> Option<Response> {
        self.remaining = self.remaining.checked_sub(1)?;
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = json_error(
            status,
            "SimulatedFailure",
            "fault injected by the simulator",
        )
        .into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        Some(response)
    }
}

/// An error answer with the body in Lever's shape, `{"code","message"}`, which the vendor
/// contract reuses. Small (unlike a `Response`), so handlers return it through `?`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}

fn json_error(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code,
        message: message.into(),
    }
}

/// Parses a JSON request body: 400 when it is not JSON, `invalid` when it is JSON of the
/// wrong shape (Lever says 400, the vendor contract 422).
fn parse_json<T: DeserializeOwned>(body: &[u8], invalid: StatusCode) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let (status, code) = if e.is_data() {
            (invalid, "InvalidRequest")
        } else {
            (StatusCode::BAD_REQUEST, "BadRequestError")
        };
        json_error(status, code, e.to_string())
    })
}

/// A panic in one test handler must not take the simulator down for the others.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
