//! In-memory simulators of Lever and the vendors, for the local server, its demo, the
//! end-to-end tests and the benchmark. Each is a cheap-to-clone handle: an axum `Router` for
//! the product to call, plus a Rust API to seed data, inspect it, inject faults and send
//! webhooks.
//!
//! They are witnesses, not mirrors: each is written from the external API's own
//! documentation (Lever's, Sterling's public API v2, Checkr's API v1) or from this product's vendor contract
//! (`docs/vendor-apis.md`), and this crate does not depend on the product, so a simulator cannot
//! quietly accept whatever the product's adapter happens to send.

pub mod checkr;
mod contract;
pub mod esr;
pub mod hrlogics;
pub mod justifacts;
pub mod lever;
pub mod sterling;
pub mod xref;

pub use checkr::{
    CheckrCandidate, CheckrInvitation, CheckrPackage, CheckrReport, CheckrSim, CheckrWebhook,
    WorkLocation,
};
pub use contract::SentCallback;
pub use esr::{EsrCandidate, EsrFlag, EsrOrder, EsrSim};
pub use hrlogics::{HrLogicsApplicant, HrLogicsSim};
pub use justifacts::{JustifactsInvitation, JustifactsSim};
pub use lever::{
    Delivery, DriveError, Driven, LeverSim, NewCandidate, RecordedCall, SentWebhook, SimArchived,
    SimNote, SimOpportunity, SimPosting, SimStageChange, SimWebhook,
};
pub use sterling::{
    InviteMethod, SentEmail, SterlingCallback, SterlingCandidate, SterlingInvite, SterlingPackage,
    SterlingReportItem, SterlingScreening, SterlingSim, Vocabulary,
};
pub use xref::{XrefCandidate, XrefOrder, XrefSim};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Milliseconds since the Unix epoch.
pub type EpochMillis = i64;

/// Wall-clock time in ms.
pub fn now_millis() -> EpochMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as EpochMillis)
        .unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) of a time in ms; its first 10 characters are the date.
pub fn timestamp(millis: EpochMillis) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

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

/// A fault armed for the next `remaining` requests it applies to.
#[derive(Debug, Default)]
struct Armed {
    remaining: usize,
    status: u16,
}

impl Armed {
    fn new(remaining: usize, status: u16) -> Self {
        Armed { remaining, status }
    }

    /// The injected answer, if the fault is still armed; counts it off.
    fn fire(&mut self) -> Option<Response> {
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

/// What a simulator does to requests besides serving them: answer an injected status
/// instead ([`Faults::arm`]), serve them and then answer an injected status, as a gateway
/// that lost the answer ([`Faults::arm_after`]), or serve them late.
#[derive(Debug, Default)]
struct Faults {
    before: Armed,
    after: Armed,
    latency: Duration,
}

impl Faults {
    /// The next `n` requests answer `status` (429 with `Retry-After: 1`) unserved.
    fn arm(&mut self, n: usize, status: u16) {
        self.before = Armed::new(n, status);
    }

    /// The injected answer for this request, if a fault is armed.
    fn take(&mut self) -> Option<Response> {
        self.before.fire()
    }

    /// The next `n` requests that change state are applied, then answered `status`.
    fn arm_after(&mut self, n: usize, status: u16) {
        self.after = Armed::new(n, status);
    }

    /// The answer that replaces the one of a request just applied, if such a fault is armed.
    fn take_after(&mut self) -> Option<Response> {
        self.after.fire()
    }
}

/// A simulator whose requests go through [`gate`].
trait FaultSource: Clone + Send + Sync + 'static {
    fn with_faults<R>(&self, f: impl FnOnce(&mut Faults) -> R) -> R;
}

/// Middleware: waits out the configured latency, then answers an armed fault instead of
/// the request, or serves it.
async fn gate<S: FaultSource>(State(source): State<S>, request: Request, next: Next) -> Response {
    let latency = source.with_faults(|faults| faults.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match source.with_faults(Faults::take) {
        Some(fault) => fault,
        None => next.run(request).await,
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

/// `local@domain.tld`: one `@`, nothing blank or whitespace, a domain of two or more
/// dot-separated labels of letters, digits and inner hyphens, and a top-level label of two
/// or more letters.
fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let label = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@')
        && labels.len() >= 2
        && labels.iter().all(|l| label(l))
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

/// An E.164 phone number: `^\+[1-9][0-9]{1,14}$`.
fn is_e164(value: &str) -> bool {
    value.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.chars().all(|c| c.is_ascii_digit())
    })
}

/// An absolute `http` or `https` URL with a host.
fn is_http_url(value: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        value.strip_prefix(scheme).is_some_and(|rest| {
            !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::{is_e164, is_email, is_http_url, timestamp};

    #[test]
    fn timestamps_are_utc_civil_dates() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(timestamp(1_700_000_000_999), "2023-11-14T22:13:20Z");
        assert_eq!(timestamp(-1_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        for good in ["ada@example.com", "a.b+c@mail.example.co.uk", "x@a-b.io"] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@example.c",
            "ada@example.123",
            "ada@@example.com",
            "a da@example.com",
            "ada@exa mple.com",
            "ada@.example.com",
            "ada@example..com",
            "ada@-example.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn phones_must_be_e164() {
        for good in ["+15555551234", "+442079460018", "+12", "+123456789012345"] {
            assert!(is_e164(good), "{good}");
        }
        for bad in [
            "",
            "+",
            "+1",
            "15555551234",
            "+05555551234",
            "+1 555 555 1234",
            "+1-555-555-1234",
            "+1234567890123456",
            "+1555555123a",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(is_http_url("http://127.0.0.1:9/cb"));
        assert!(is_http_url("https://example.com"));
        for bad in [
            "",
            "127.0.0.1/cb",
            "ftp://x",
            "http://",
            "https:///x",
            "http://a b",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }
}
