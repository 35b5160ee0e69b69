//! The one retry helper for outbound HTTP (Lever and vendors). 429, 503 and connect errors are
//! retried with capped exponential backoff and full jitter, or after the server's
//! `Retry-After`; every attempt is paced (Lever's per-key budget) and budgeted from the
//! invocation's [`Deadline`], and an attempt that could not finish in time is not started.
//!
//! A request that may have reached the server before failing (a timeout, a reset, a 500, 502
//! or 504) is *ambiguous*: it is re-sent only if it is safe to repeat ([`Resend::Safe`]: a
//! read, or a create carrying an idempotency key). Otherwise the caller gets
//! [`SendError::Ambiguous`] and reconciles by reading back (a Lever note) instead.

use crate::clock::Deadline;
use crate::telemetry::metrics;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::{Duration, SystemTime};

/// Bounds of [`Outbound::send`]'s retries within one invocation (defaults: 4 attempts,
/// 200 ms doubling to 5 s, 10 s per attempt).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub max_attempts: u32,
    /// Backoff window after the first failure; doubles with each further one.
    pub base_delay: Duration,
    /// Cap of the backoff window (a `Retry-After` is bounded by `max_retry_after` instead).
    pub max_delay: Duration,
    /// Longest single attempt; shortened to what the deadline leaves.
    pub timeout: Duration,
    /// Longest `Retry-After` worth waiting for inside one invocation; a longer one gives up
    /// at once so the work is retried later instead of burning Lambda time.
    pub max_retry_after: Duration,
    /// An attempt is not started with less time than this left before the deadline.
    pub min_attempt: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(10),
            min_attempt: Duration::from_millis(500),
        }
    }
}

/// Whether a request may be sent again after an ambiguous failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// A read, an idempotent write (`PUT`, tags), or a create with an idempotency key.
    Safe,
    /// A create the server cannot recognise as repeated (a Lever note, an OAuth refresh
    /// whose refresh token rotates): never re-sent blindly.
    Never,
}

/// Why [`Outbound::send`] returned no response. Never carries a URL or a body (URLs may
/// hold secrets).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Invalid URL, header value or body: retrying cannot help.
    #[error("the request could not be built")]
    Build(#[source] reqwest::Error),
    /// `last` is a short description ("HTTP 503", "timeout"): never a URL or a body.
    /// Retries ran out (attempts, a too-long `Retry-After`, or the deadline); nothing is
    /// known to have been applied, or it was safe to repeat.
    #[error("gave up after {attempts} attempt(s), last: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The request may have been applied; it was not re-sent ([`Resend::Never`]).
    #[error("the outcome is unknown ({last}); not re-sent")]
    Ambiguous {
        /// The failure that left the outcome unknown (a timeout, a 500, 502 or 504).
        last: String,
    },
    /// No time left in this invocation for (another) attempt.
    #[error("no time left for the request (after {attempts} attempt(s))")]
    OutOfTime {
        /// Attempts made before time ran out (0: none was started).
        attempts: u32,
    },
}

impl SendError {
    /// The request may have been applied ([`SendError::Ambiguous`]): the caller must read
    /// back before doing it again. Every other error can simply be retried later.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, SendError::Ambiguous { .. })
    }
}

/// The HTTP client for outbound calls, built on first use: building one (TLS roots
/// included) costs tens of milliseconds, which intake, making no outbound call, never pays.
#[derive(Clone, Default)]
pub struct HttpClient(std::sync::Arc<std::sync::OnceLock<reqwest::Client>>);

impl HttpClient {
    /// The client, built by the first caller; clones of this handle share it.
    pub fn get(&self) -> &reqwest::Client {
        self.0.get_or_init(crate::tls::http_client)
    }
}

/// A request budget each attempt first takes a slot in (Lever's per-credential budget is
/// [`crate::pacing::Pacer`]). Retrying only needs to wait for a slot; how the budget is
/// counted, and where, is the throttle's business.
#[async_trait::async_trait]
pub trait Throttle: Send + Sync {
    /// Waits for a slot; [`OutOfBudget`] when none is free before `deadline`.
    async fn acquire(&self, deadline: &Deadline) -> Result<(), OutOfBudget>;
}

/// No slot of the budget is free before the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no request budget left before the deadline")]
pub struct OutOfBudget;

/// How the outbound calls of one invocation are retried, paced, and by when they must end.
#[derive(Clone)]
pub struct Outbound {
    /// Whom the calls go to, for metrics: `lever`, or a vendor's id.
    pub target: &'static str,
    /// Attempts, backoff and per-attempt timeout.
    pub policy: RetryPolicy,
    /// When the invocation must be done: no attempt is started that cannot finish by then.
    pub deadline: Deadline,
    /// The request budget of the credential the calls use; `None` for calls no budget
    /// applies to.
    pub throttle: Option<std::sync::Arc<dyn Throttle>>,
}

impl Outbound {
    /// Calls to `target` under `policy` until `deadline`, unpaced.
    pub fn new(target: &'static str, policy: RetryPolicy, deadline: Deadline) -> Self {
        Outbound {
            target,
            policy,
            deadline,
            throttle: None,
        }
    }

    /// Each attempt first takes a slot in `throttle`'s budget (calls to Lever).
    pub fn paced(mut self, throttle: impl Throttle + 'static) -> Self {
        self.throttle = Some(std::sync::Arc::new(throttle));
        self
    }

    /// Sends `request()` (called again for each attempt). Any response not worth retrying
    /// is returned as is, error statuses included: mapping them is the caller's business.
    /// Retried: 429, 500, 502, 503, 504, connect errors and timeouts; an ambiguous failure
    /// (see the module) only when `resend` is [`Resend::Safe`].
    pub async fn send(
        &self,
        resend: Resend,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SendError> {
        let mut attempt = 0;
        loop {
            let left = self.deadline.remaining();
            if left < self.policy.min_attempt {
                return Err(SendError::OutOfTime { attempts: attempt });
            }
            if let Some(throttle) = &self.throttle {
                if throttle.acquire(&self.deadline).await.is_err() {
                    return Err(SendError::OutOfTime { attempts: attempt });
                }
            }
            attempt += 1;
            let timeout = self.policy.timeout.min(self.deadline.remaining());
            let started = std::time::Instant::now();
            let sent = request().timeout(timeout).send().await;
            metrics::outbound(
                self.target,
                status_class(&sent),
                started.elapsed().as_secs_f64() * 1000.0,
            );
            let (last, retry_after, ambiguous) = match sent {
                Ok(response) if !is_retryable(response.status()) => return Ok(response),
                Ok(response) => {
                    let status = response.status();
                    let wait = retry_after(response.headers(), SystemTime::now());
                    (
                        format!("HTTP {}", status.as_u16()),
                        wait,
                        may_have_applied(status),
                    )
                }
                Err(e) if e.is_builder() => return Err(SendError::Build(e.without_url())),
                // Refused before anything was sent.
                Err(e) if e.is_connect() => ("connect error".to_owned(), None, false),
                Err(e) if e.is_timeout() => ("timeout".to_owned(), None, true),
                Err(e) => (e.without_url().to_string(), None, true),
            };
            if ambiguous && resend == Resend::Never {
                return Err(SendError::Ambiguous { last });
            }
            let Some(delay) = next_delay(&self.policy, attempt, retry_after, fastrand::f64())
            else {
                return Err(SendError::GaveUp {
                    attempts: attempt,
                    last,
                });
            };
            if delay + self.policy.min_attempt > self.deadline.remaining() {
                return Err(SendError::GaveUp {
                    attempts: attempt,
                    last,
                });
            }
            tracing::warn!(attempt, status = %last, "outbound request failed, retrying");
            tokio::time::sleep(delay).await;
        }
    }
}

fn status_class(sent: &Result<reqwest::Response, reqwest::Error>) -> &'static str {
    match sent {
        Ok(response) => match response.status().as_u16() {
            429 => "429",
            200..=299 => "2xx",
            400..=499 => "4xx",
            500..=599 => "5xx",
            _ => "other",
        },
        Err(_) => "error",
    }
}

/// Statuses that say "later", not "never".
fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// A 429 or 503 was turned away before any work; a 500, 502 or 504 may have been applied.
fn may_have_applied(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 504)
}

/// The wait before the next attempt after `attempt` (1-based) failed, or `None` to give
/// up. `jitter` in [0, 1) picks the point in the backoff window (full jitter).
fn next_delay(
    policy: &RetryPolicy,
    attempt: u32,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Option<Duration> {
    if attempt >= policy.max_attempts {
        return None;
    }
    match retry_after {
        Some(wait) if wait > policy.max_retry_after => None,
        Some(wait) => Some(wait),
        None => {
            let factor = 2u32.saturating_pow(attempt - 1);
            let backoff = policy
                .base_delay
                .saturating_mul(factor)
                .min(policy.max_delay);
            Some(backoff.mul_f64(jitter.clamp(0.0, 1.0)))
        }
    }
}

/// `Retry-After` as delay-seconds or an HTTP-date; a date in the past means now.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    match value.parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds)),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            Some(at.duration_since(now).unwrap_or(Duration::ZERO))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            timeout: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(10),
            min_attempt: Duration::from_millis(100),
        }
    }

    #[test]
    fn retries_only_throttling_and_transient_server_errors() {
        for code in [429, 500, 502, 503, 504] {
            assert!(is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 501, 505] {
            assert!(!is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        assert!(!may_have_applied(StatusCode::TOO_MANY_REQUESTS));
        assert!(!may_have_applied(StatusCode::SERVICE_UNAVAILABLE));
        assert!(may_have_applied(StatusCode::GATEWAY_TIMEOUT));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_scales_it() {
        let p = policy();
        let full = |attempt| next_delay(&p, attempt, None, 1.0);
        assert_eq!(full(1), Some(Duration::from_millis(100)));
        assert_eq!(full(2), Some(Duration::from_millis(200)));
        assert_eq!(full(3), Some(Duration::from_millis(300)));
        assert_eq!(next_delay(&p, 2, None, 0.0), Some(Duration::ZERO));
        assert_eq!(
            next_delay(&p, 2, None, 0.5),
            Some(Duration::from_millis(100))
        );
    }

    #[test]
    fn gives_up_at_the_attempt_bound() {
        let p = policy();
        assert_eq!(next_delay(&p, 4, None, 1.0), None);
        assert_eq!(next_delay(&p, 4, Some(Duration::from_secs(1)), 1.0), None);
        let once = RetryPolicy {
            max_attempts: 1,
            ..policy()
        };
        assert_eq!(next_delay(&once, 1, None, 1.0), None);
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        let p = RetryPolicy {
            max_attempts: u32::MAX,
            ..policy()
        };
        assert_eq!(next_delay(&p, 200, None, 1.0), Some(p.max_delay));
    }

    #[test]
    fn retry_after_is_honoured_exactly_unless_too_long() {
        let p = policy();
        let wait = Duration::from_secs(7);
        assert_eq!(next_delay(&p, 1, Some(wait), 0.0), Some(wait));
        assert_eq!(next_delay(&p, 1, Some(Duration::from_secs(11)), 0.0), None);
    }

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn parses_retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            retry_after(&headers(" 3 "), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:27:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
