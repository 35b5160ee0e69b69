//! Bounded retries for outbound HTTP (Lever and vendors): 429, 500/502/503/504, timeouts
//! and connect errors are retried with capped exponential backoff and full jitter, or after
//! the server's `Retry-After`. Whatever still fails goes to the outbox, so the bound is kept
//! small enough to fit inside one Lambda invocation.

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Per attempt.
    pub timeout: Duration,
    /// Longest `Retry-After` worth waiting for inside one invocation; a longer one gives up
    /// at once so the work goes to the outbox instead of burning Lambda time.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Invalid URL, header value or body: retrying cannot help.
    #[error("the request could not be built")]
    Build(#[source] reqwest::Error),
    /// `last` is a short description ("HTTP 503", "timeout"): never a URL or a body.
    #[error("gave up after {attempts} attempt(s), last: {last}")]
    GaveUp { attempts: u32, last: String },
}

/// Sends `request()` (called again for each attempt) under `policy`. Any response that is
/// not worth retrying is returned as is, error statuses included: mapping them is the
/// caller's business.
pub async fn send_with_retry(
    policy: &RetryPolicy,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, SendError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (last, retry_after) = match request().timeout(policy.timeout).send().await {
            Ok(response) if !is_retryable(response.status()) => return Ok(response),
            Ok(response) => (
                format!("HTTP {}", response.status().as_u16()),
                retry_after(response.headers(), SystemTime::now()),
            ),
            Err(e) if e.is_builder() => return Err(SendError::Build(e.without_url())),
            Err(e) if e.is_timeout() => ("timeout".to_owned(), None),
            Err(e) if e.is_connect() => ("connect error".to_owned(), None),
            // Whether the server acted on it is unknown: leave the retry to the outbox.
            Err(e) => {
                return Err(SendError::GaveUp {
                    attempts: attempt,
                    last: e.without_url().to_string(),
                })
            }
        };
        let Some(delay) = next_delay(policy, attempt, retry_after, fastrand::f64()) else {
            return Err(SendError::GaveUp {
                attempts: attempt,
                last,
            });
        };
        tracing::warn!(attempt, status = %last, "outbound request failed, retrying");
        tokio::time::sleep(delay).await;
    }
}

/// Statuses that say "later", not "never".
fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
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
        assert_eq!(
            next_delay(&p, 1, Some(p.max_retry_after), 0.0),
            Some(p.max_retry_after)
        );
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
        assert_eq!(retry_after(&headers("-1"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
