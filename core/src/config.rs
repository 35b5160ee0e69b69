//! Tunables, from the environment in Lambda (the README's configuration reference).
//! Durations are [`Duration`]s; environment variables ending in `_SECS` are whole seconds.

use crate::lever::webhook::FreshnessWindow;
use crate::retry::RetryPolicy;
use std::time::Duration;

/// Every tunable of a deployment; [`Default`] is what a deployment gets with no
/// environment overrides.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How old (and how far in the future) a Lever delivery's `triggeredAt` may be.
    pub webhook_window: FreshnessWindow,
    /// Outbound calls to Lever and vendors.
    pub retry: RetryPolicy,
    /// A delivery claimed longer ago than this is assumed crashed and may be taken over
    /// (longer than any function's timeout).
    pub delivery_stale_after: Duration,
    /// Larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    /// How long a warm function reuses a tenant's secrets (default 5 min).
    pub secrets_ttl: Duration,
    /// How long a warm function reuses a tenant's configuration (default 1 min).
    pub tenant_ttl: Duration,
    /// How long stage lists fetched through Lever's API are reused.
    pub stage_cache_ttl: Duration,
    /// Lever requests per second and credential, from every function together (Lever's
    /// budget is 10 with bursts of 20; see [`crate::pacing`]).
    pub lever_requests_per_second: u32,
    /// How far the time Lever records a stage change may be from the delivery's
    /// `triggeredAt` for the delivery to be confirmed.
    pub stage_change_tolerance: Duration,
    /// Retries and dead-lettering of queued work.
    pub work: WorkSettings,
    /// An open order whose vendor said nothing for this long is re-read from the vendor.
    pub reconcile_quiet_after: Duration,
    /// Base of the URLs handed to vendors (callbacks) and Lever (webhooks) when a custom
    /// domain fronts the API; `None`: the host each request came to.
    pub public_base_url: Option<String>,
    /// Name of the secret holding this deployment's Lever OAuth app.
    pub lever_oauth_app_secret: Option<String>,
    /// How long the delivery log keeps an entry (default 30 days; DynamoDB TTL).
    pub delivery_log_retention: Duration,
    /// Locally only: the page acting as a recruiter in each tenant's simulated Lever
    /// (`{this}/{tenant}`), linked from the console's navigation. `None` in AWS.
    pub local_lever_page: Option<String>,
}

/// How the worker retries work: exponential backoff from `first_retry`, doubling up to
/// `max_retry`, dead-lettered after `max_attempts` (sized in the README to outlast a
/// 24-hour Lever outage).
#[derive(Debug, Clone)]
pub struct WorkSettings {
    /// Attempts, the first included, before a message is dead-lettered (default 20).
    pub max_attempts: u32,
    /// The wait after the first failure (default 30 s).
    pub first_retry: Duration,
    /// Longest wait between attempts (default 3 h).
    pub max_retry: Duration,
    /// Time kept at the end of an invocation to record outcomes (retry, dead-letter).
    pub deadline_margin: Duration,
}

impl Default for WorkSettings {
    fn default() -> Self {
        WorkSettings {
            max_attempts: 20,
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3 * 3600),
            deadline_margin: Duration::from_secs(3),
        }
    }
}

impl WorkSettings {
    /// The wait before attempt `attempt + 1`, after `attempt` (1-based) failed: 30 s, 1 min,
    /// 2 min … up to `max_retry`, each with up to 10 % of jitter so a burst of failures
    /// does not come back at once.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        let base = self.first_retry.saturating_mul(factor).min(self.max_retry);
        base.mul_f64(1.0 + 0.1 * jitter.clamp(0.0, 1.0))
    }

    /// How long work keeps being retried before it is dead-lettered (no jitter).
    pub fn retry_span(&self) -> Duration {
        (1..self.max_attempts).map(|n| self.backoff(n, 0.0)).sum()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            webhook_window: FreshnessWindow::default(),
            retry: RetryPolicy::default(),
            delivery_stale_after: Duration::from_secs(60),
            max_body_bytes: 256 * 1024,
            secrets_ttl: Duration::from_secs(300),
            tenant_ttl: Duration::from_secs(60),
            stage_cache_ttl: Duration::from_secs(600),
            lever_requests_per_second: 8,
            stage_change_tolerance: Duration::from_secs(600),
            work: WorkSettings::default(),
            reconcile_quiet_after: Duration::from_secs(12 * 3600),
            public_base_url: None,
            lever_oauth_app_secret: None,
            delivery_log_retention: Duration::from_secs(30 * 86_400),
            local_lever_page: None,
        }
    }
}

/// A Lambda's environment is not one this product can start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The named variable is unset or empty.
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    /// The named variable is set but unparseable (a number expected).
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// The parse error.
        reason: String,
    },
}

impl Settings {
    /// Defaults, overridden by `LEVER_WEBHOOK_MAX_AGE_SECS`, `SECRETS_TTL_SECS`,
    /// `TENANT_TTL_SECS`, `LEVER_REQUESTS_PER_SECOND`, `WORK_MAX_ATTEMPTS`,
    /// `RECONCILE_QUIET_AFTER_SECS`, `DELIVERY_LOG_DAYS`, `PUBLIC_BASE_URL` and
    /// `LEVER_OAUTH_APP_SECRET`.
    /// `LEVER_REQUESTS_PER_SECOND` is clamped to 1–10 and `WORK_MAX_ATTEMPTS` to at least 1;
    /// a number that does not parse is [`ConfigError::Invalid`].
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut settings = Settings::default();
        if let Some(secs) = env_number("LEVER_WEBHOOK_MAX_AGE_SECS")? {
            settings.webhook_window.max_age = Duration::from_secs(secs);
        }
        if let Some(secs) = env_number("SECRETS_TTL_SECS")? {
            settings.secrets_ttl = Duration::from_secs(secs);
        }
        if let Some(secs) = env_number("TENANT_TTL_SECS")? {
            settings.tenant_ttl = Duration::from_secs(secs);
        }
        if let Some(rate) = env_number("LEVER_REQUESTS_PER_SECOND")? {
            settings.lever_requests_per_second = u32::try_from(rate.clamp(1, 10)).unwrap_or(8);
        }
        if let Some(attempts) = env_number("WORK_MAX_ATTEMPTS")? {
            settings.work.max_attempts = u32::try_from(attempts.max(1)).unwrap_or(u32::MAX);
        }
        if let Some(secs) = env_number("RECONCILE_QUIET_AFTER_SECS")? {
            settings.reconcile_quiet_after = Duration::from_secs(secs);
        }
        if let Some(days) = env_number("DELIVERY_LOG_DAYS")? {
            settings.delivery_log_retention = Duration::from_secs(days.clamp(1, 3650) * 86_400);
        }
        settings.public_base_url = env_optional("PUBLIC_BASE_URL");
        settings.lever_oauth_app_secret = env_optional("LEVER_OAUTH_APP_SECRET");
        Ok(settings)
    }

    /// Until when a delivery-log entry written at `now` is kept, ms.
    pub fn log_keep_until(&self, now: crate::clock::EpochMillis) -> crate::clock::EpochMillis {
        now.saturating_add(crate::clock::millis(self.delivery_log_retention))
    }

    /// How long a delivery token is remembered: at least the freshness window, so a
    /// replay inside the window is always recognised.
    pub fn delivery_memory(&self) -> Duration {
        self.webhook_window.max_age + self.webhook_window.max_future + Duration::from_secs(3600)
    }
}

fn env_number(name: &'static str) -> Result<Option<u64>, ConfigError> {
    match std::env::var(name) {
        Err(_) => Ok(None),
        Ok(value) => value
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|e| ConfigError::Invalid {
                name,
                reason: e.to_string(),
            }),
    }
}

pub(crate) fn env_optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub(crate) fn env_required(name: &'static str) -> Result<String, ConfigError> {
    env_optional(name).ok_or(ConfigError::Missing(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_backs_off_from_seconds_to_hours_and_outlasts_a_day() {
        let work = WorkSettings::default();
        assert_eq!(work.backoff(1, 0.0), Duration::from_secs(30));
        assert_eq!(work.backoff(2, 0.0), Duration::from_secs(60));
        assert_eq!(work.backoff(9, 0.0), Duration::from_secs(7680));
        assert_eq!(work.backoff(10, 0.0), Duration::from_secs(3 * 3600));
        assert_eq!(work.backoff(1000, 0.0), Duration::from_secs(3 * 3600));
        assert!(work.backoff(1, 1.0) <= Duration::from_secs(33));
        // A 24-hour Lever outage: work is still being retried when Lever comes back.
        assert!(
            work.retry_span() > Duration::from_secs(30 * 3600),
            "{:?}",
            work.retry_span()
        );
    }
}
