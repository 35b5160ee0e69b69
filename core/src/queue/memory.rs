//! An in-memory queue and dead-letter queue with SQS's semantics: a received message is
//! invisible until deleted or its visibility ends, its receive count grows with each
//! receive, a dead letter keeps its last error.

use super::{
    Consumer, DeadLetter, DeadLetters, QueueDepth, QueueError, Received, Retries, WorkQueue,
};
use crate::work::Work;
use async_trait::async_trait;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// How long a received message stays invisible unless retried or deleted (the worker's
/// visibility timeout).
const VISIBILITY: Duration = Duration::from_secs(60);

/// The work queue in memory, for one process (the local server, the tests).
#[derive(Default)]
pub struct MemoryQueue {
    inner: Mutex<Inner>,
    sent: Notify,
}

#[derive(Default)]
struct Inner {
    messages: VecDeque<Message>,
    dead: Vec<DeadLetter>,
    next_id: u64,
    /// Sends that fail, for tests of intake's answer when the queue is down.
    failing: bool,
}

struct Message {
    id: String,
    body: String,
    visible_at: Instant,
    receive_count: u32,
    /// Each receive issues a new receipt; an old one no longer names the message.
    receipt: Option<String>,
}

impl MemoryQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Each operation leaves the queue whole: a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes every send fail (or succeed again).
    pub fn set_failing(&self, failing: bool) {
        self.lock().failing = failing;
    }

    /// The work of every message waiting or in flight, oldest first.
    pub fn pending(&self) -> Vec<Work> {
        self.lock()
            .messages
            .iter()
            .filter_map(|m| serde_json::from_str(&m.body).ok())
            .collect()
    }

    /// Makes every message visible now (a test's way past backoff delays).
    pub fn expire_delays(&self) {
        let now = Instant::now();
        for message in &mut self.lock().messages {
            message.visible_at = now;
        }
        self.sent.notify_waiters();
    }

    fn push(&self, body: String) {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = format!("msg-{}", inner.next_id);
        inner.messages.push_back(Message {
            id,
            body,
            visible_at: Instant::now(),
            receive_count: 0,
            receipt: None,
        });
        drop(inner);
        self.sent.notify_waiters();
    }

    fn take_visible(&self, max: usize) -> Vec<Received> {
        let now = Instant::now();
        let mut inner = self.lock();
        let mut received = Vec::new();
        let mut next = inner.next_id;
        for message in inner.messages.iter_mut() {
            if received.len() >= max {
                break;
            }
            if message.visible_at > now {
                continue;
            }
            next += 1;
            let receipt = format!("{}#{next}", message.id);
            message.receipt = Some(receipt.clone());
            message.receive_count += 1;
            message.visible_at = now + VISIBILITY;
            received.push(Received {
                message_id: message.id.clone(),
                receipt,
                body: message.body.clone(),
                receive_count: message.receive_count,
            });
        }
        inner.next_id = next;
        received
    }
}

#[async_trait]
impl WorkQueue for MemoryQueue {
    async fn send(&self, work: &Work) -> Result<(), QueueError> {
        if self.lock().failing {
            return Err(QueueError::Unavailable(
                "the queue is failing (test)".into(),
            ));
        }
        let body = serde_json::to_string(work).map_err(|e| QueueError::Malformed(e.to_string()))?;
        self.push(body);
        Ok(())
    }
}

#[async_trait]
impl Retries for MemoryQueue {
    async fn retry_later(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let mut inner = self.lock();
        if let Some(message) = inner
            .messages
            .iter_mut()
            .find(|m| m.receipt.as_deref() == Some(receipt))
        {
            message.visible_at = Instant::now() + delay;
        }
        Ok(())
    }

    async fn dead_letter(&self, message: &Received, last_error: &str) -> Result<(), QueueError> {
        self.lock().dead.push(DeadLetter {
            message_id: message.message_id.clone(),
            body: message.body.clone(),
            last_error: Some(last_error.to_owned()),
            attempts: Some(message.receive_count),
        });
        Ok(())
    }
}

#[async_trait]
impl DeadLetters for MemoryQueue {
    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, QueueError> {
        Ok(self.lock().dead.iter().take(max).cloned().collect())
    }

    async fn redrive(&self, message_id: Option<&str>) -> Result<usize, QueueError> {
        let moved: Vec<DeadLetter> = {
            let mut inner = self.lock();
            let (moved, kept) = std::mem::take(&mut inner.dead)
                .into_iter()
                // A body that is no work stays, as in SQS.
                .partition(|d| {
                    message_id.is_none_or(|id| d.message_id == id)
                        && serde_json::from_str::<crate::work::Work>(&d.body).is_ok()
                });
            inner.dead = kept;
            moved
        };
        for dead in &moved {
            self.push(dead.body.clone());
        }
        Ok(moved.len())
    }
}

#[async_trait]
impl Consumer for MemoryQueue {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        let until = Instant::now() + wait;
        loop {
            // Registered before looking, so a send in between is not missed.
            let sent = self.sent.notified();
            let received = self.take_visible(max);
            if !received.is_empty() || Instant::now() >= until {
                return Ok(received);
            }
            let next_visible = self.lock().messages.iter().map(|m| m.visible_at).min();
            let wake = next_visible.map_or(until, |at| at.min(until));
            let _ = tokio::time::timeout_at(wake, sent).await;
        }
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.lock()
            .messages
            .retain(|m| m.receipt.as_deref() != Some(receipt));
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        let now = Instant::now();
        let inner = self.lock();
        let waiting = inner
            .messages
            .iter()
            .filter(|m| m.visible_at <= now)
            .count();
        Ok(QueueDepth {
            waiting,
            in_flight: inner.messages.len() - waiting,
            dead: inner.dead.len(),
        })
    }
}
