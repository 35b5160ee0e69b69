//! Lever's request budget, shared by every function and worker that calls Lever with one
//! credential. Lever gives each API key a token bucket of 10 requests/s with bursts of 20;
//! this product allows `per_second` requests in each calendar second per credential (8 by
//! default), counted in the store so all concurrent invocations share one count.
//!
//! Why that stays inside Lever's bucket: at most `n` per calendar second means at most
//! `n × (⌈t⌉ + 1)` in any span of `t` seconds, and `n ≤ 10` makes that ≤ 20 + 10 × t, which is
//! what a bucket of 20 refilled at 10/s accepts. The margin below 10 absorbs the jitter
//! between when a request leaves here and when it reaches Lever.

use crate::clock::{now_millis, Deadline};
use crate::retry::{OutOfBudget, Throttle};
use crate::store::{RateLimiter, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// Why a request could not be paced in.
#[derive(Debug, thiserror::Error)]
pub enum PaceError {
    /// The next free second starts after the deadline.
    #[error("no request budget left before the deadline")]
    OutOfTime,
    /// The shared count could not be read. [`Pacer::acquire`] does not return it: an
    /// outage lets the request through.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One credential's budget.
#[derive(Clone)]
pub struct Pacer {
    limiter: Arc<dyn RateLimiter>,
    key: String,
    per_second: u32,
}

impl Pacer {
    /// `per_second` requests per calendar second for the credential named by `key` (never
    /// the credential itself), counted in `limiter`.
    pub fn new(limiter: Arc<dyn RateLimiter>, key: impl Into<String>, per_second: u32) -> Self {
        Pacer {
            limiter,
            key: key.into(),
            per_second,
        }
    }

    /// Waits for a slot in the budget, at the start of the next second each time this one is
    /// spent. A store outage lets the request through: Lever's own 429 (retried with
    /// backoff) is the fallback, and work is not held up by a budget it cannot read.
    pub async fn acquire(&self, deadline: &Deadline) -> Result<(), PaceError> {
        loop {
            let now = now_millis();
            match self.limiter.try_take(&self.key, now, self.per_second).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, "request budget unreadable; sending unpaced");
                    return Ok(());
                }
            }
            // Into the next second, with a little jitter so waiters do not stampede.
            let wait = Duration::from_millis(
                (1000 - now.rem_euclid(1000)).unsigned_abs() + fastrand::u64(0..50),
            );
            if wait >= deadline.remaining() {
                return Err(PaceError::OutOfTime);
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// What retrying sees of the budget: a slot, or none before the deadline.
#[async_trait::async_trait]
impl Throttle for Pacer {
    async fn acquire(&self, deadline: &Deadline) -> Result<(), OutOfBudget> {
        Pacer::acquire(self, deadline)
            .await
            .map_err(|_| OutOfBudget)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn a_spent_second_waits_for_the_next() {
        let store = Arc::new(MemoryStore::new());
        let pacer = Pacer::new(store, "acme/key", 3);
        let deadline = Deadline::after(Duration::from_secs(5));
        let mut seconds = Vec::new();
        for _ in 0..7 {
            pacer.acquire(&deadline).await.unwrap();
            seconds.push(now_millis() / 1000);
        }
        // No calendar second holds more than three of them.
        for second in &seconds {
            let in_it = seconds.iter().filter(|s| *s == second).count();
            assert!(in_it <= 3, "{seconds:?}");
        }
    }

    #[tokio::test]
    async fn no_time_left_is_reported_instead_of_waiting() {
        let store = Arc::new(MemoryStore::new());
        let pacer = Pacer::new(store, "acme/key", 1);
        let deadline = Deadline::after(Duration::from_millis(1));
        let _ = pacer
            .acquire(&Deadline::after(Duration::from_secs(5)))
            .await;
        assert!(matches!(
            pacer.acquire(&deadline).await,
            Err(PaceError::OutOfTime)
        ));
    }
}
