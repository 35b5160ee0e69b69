//! Time: wall-clock milliseconds (as Lever and DynamoDB's TTL arithmetic use them), the dates
//! Lever notes show, and the deadline every outbound call is budgeted against.

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type EpochMillis = i64;

/// Wall-clock time in ms. One function so every record agrees on "now".
pub fn now_millis() -> EpochMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as EpochMillis)
        .unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339, UTC) of a time in ms; its first 10 characters are the
/// date (`YYYY-MM-DD`), as Lever notes show it.
pub fn utc_timestamp(millis: EpochMillis) -> String {
    // Whole seconds: RFC 3339 without a fraction.
    DateTime::from_secs(millis.div_euclid(1000))
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// `YYYY-MM-DD` (UTC) of a time in ms.
pub fn utc_date(millis: EpochMillis) -> String {
    utc_timestamp(millis)[..10].to_owned()
}

/// `Duration` as ms for epoch arithmetic, saturating instead of overflowing.
pub fn millis(duration: Duration) -> EpochMillis {
    EpochMillis::try_from(duration.as_millis()).unwrap_or(EpochMillis::MAX)
}

/// When the current invocation must be done: Lambda's deadline (`Context::deadline`) less a
/// margin to store what is left for later, or a local default. Outbound calls ask it how
/// long they may take and are not started when they cannot finish in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Instant);

impl Deadline {
    /// `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Deadline(Instant::now() + budget)
    }

    /// Lambda's deadline (ms since the epoch, `Context::deadline`) brought forward by
    /// `margin`, the time kept to record the outcome (retry later, or dead-letter).
    ///
    /// A value below [`Self::EPOCH_MS_FLOOR`] is read as a duration in ms from now: Lambda
    /// always sends a time, but `cargo lambda watch` (1.9) sends `600000` (ten minutes),
    /// which as a time is long past and would leave a local worker no time at all.
    pub fn lambda(deadline_epoch_ms: u64, margin: Duration) -> Self {
        let left = if deadline_epoch_ms < Self::EPOCH_MS_FLOOR {
            Duration::from_millis(deadline_epoch_ms)
        } else {
            let left = i64::try_from(deadline_epoch_ms)
                .unwrap_or(EpochMillis::MAX)
                .saturating_sub(now_millis())
                .max(0);
            Duration::from_millis(left.unsigned_abs())
        };
        Deadline::after(left.saturating_sub(margin))
    }

    /// 2001-09-09 in ms since the epoch: no invocation's deadline is earlier.
    pub const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

    /// Time left; zero once passed.
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// The earlier of the two.
    pub fn min(self, other: Deadline) -> Deadline {
        Deadline(self.0.min(other.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_are_utc() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_431_454_330_072), "2015-05-12");
        assert_eq!(utc_date(951_782_400_000), "2000-02-29");
        assert_eq!(utc_timestamp(1_700_000_000_999), "2023-11-14T22:13:20Z");
        assert_eq!(utc_timestamp(-1_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn a_lambda_deadline_keeps_its_margin() {
        let in_ten_seconds = u64::try_from(now_millis() + 10_000).unwrap();
        let deadline = Deadline::lambda(in_ten_seconds, Duration::from_secs(3));
        let left = deadline.remaining();
        assert!(
            left <= Duration::from_secs(7) && left > Duration::from_secs(6),
            "{left:?}"
        );
        let passed = Deadline::lambda(0, Duration::from_secs(1));
        assert_eq!(passed.remaining(), Duration::ZERO);
        let an_hour_ago = u64::try_from(now_millis() - 3_600_000).unwrap();
        let passed = Deadline::lambda(an_hour_ago, Duration::from_secs(1));
        assert_eq!(passed.remaining(), Duration::ZERO);
    }

    #[test]
    fn cargo_lambda_watchs_deadline_is_read_as_ten_minutes() {
        let deadline = Deadline::lambda(600_000, Duration::from_secs(3));
        let left = deadline.remaining();
        assert!(
            left <= Duration::from_secs(597) && left > Duration::from_secs(596),
            "{left:?}"
        );
    }
}
