//! The work queue: intake sends [`Work`], the worker receives it, retries it later with
//! growing gaps, or moves it to the dead-letter queue with its last error; an operator lists
//! and redrives dead letters. [`sqs::SqsQueue`] is Amazon SQS (a standard queue and its
//! dead-letter queue); [`memory::MemoryQueue`] backs the local server and the fast tests.
//! Both pass the same suite (`core/tests/it/queue.rs`).
//!
//! In AWS, Lambda's event source mapping receives and deletes; [`Consumer`] is for the local
//! worker task and the tests.

pub mod memory;
pub mod sqs;

use crate::work::Work;
use async_trait::async_trait;
use std::time::Duration;

/// How a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue service failed or could not be reached (the SDK's error, with context).
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    /// A message body that is not [`Work`] (or work that could not be serialised).
    #[error("queue message unreadable: {0}")]
    Malformed(String),
}

/// Where intake puts work.
#[async_trait]
pub trait WorkQueue: Send + Sync {
    /// Enqueues `work` as JSON, for the worker to receive shortly. Intake acknowledges
    /// work it queues only once this has succeeded.
    async fn send(&self, work: &Work) -> Result<(), QueueError>;
}

/// A message as the worker receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The queue's id of the message, the same on every receive.
    pub message_id: String,
    /// What [`Retries::retry_later`] and [`Consumer::delete`] name it by.
    pub receipt: String,
    /// The [`Work`], as JSON.
    pub body: String,
    /// How many times it has been received, this time included (SQS's
    /// `ApproximateReceiveCount`).
    pub receive_count: u32,
}

impl Received {
    /// The body as [`Work`]; [`QueueError::Malformed`] if it is not (dead-lettered at once).
    pub fn work(&self) -> Result<Work, QueueError> {
        serde_json::from_str(&self.body).map_err(|e| QueueError::Malformed(e.to_string()))
    }
}

/// What the worker does with a message that failed (one that succeeded is acknowledged:
/// Lambda deletes it, the local worker calls [`Consumer::delete`]).
#[async_trait]
pub trait Retries: Send + Sync {
    /// Makes the message visible again after `delay`: its next attempt.
    async fn retry_later(&self, receipt: &str, delay: Duration) -> Result<(), QueueError>;
    /// Copies it to the dead-letter queue with why it failed; the caller then acknowledges
    /// the original.
    async fn dead_letter(&self, message: &Received, last_error: &str) -> Result<(), QueueError>;
}

/// How many dead letters a person's listing or lookup reads: the dead-letter queue is the
/// deployment's, and what a tenant sees of it is among these.
pub const DEAD_LETTERS_READ: usize = 100;

/// A message in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadLetter {
    /// Its id in the dead-letter queue (what [`DeadLetters::redrive`] takes).
    pub message_id: String,
    /// The work, as it was queued.
    pub body: String,
    /// Why its last attempt failed; `None` when the queue moved it (the worker crashed or
    /// timed out on every attempt).
    pub last_error: Option<String>,
    /// How many times it was received before it was dead-lettered; `None` when the queue
    /// moved it.
    pub attempts: Option<u32>,
}

impl DeadLetter {
    /// The body as [`Work`]; `None` for a body that never was (what the worker
    /// dead-lettered as unreadable).
    pub fn work(&self) -> Option<Work> {
        serde_json::from_str(&self.body).ok()
    }
}

/// What an operator does with dead letters.
#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// Up to `max` dead letters, left where they are.
    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, QueueError>;
    /// Sends one dead letter (by message id), or all, back to the work queue, and removes
    /// them from the dead-letter queue. Returns how many.
    async fn redrive(&self, message_id: Option<&str>) -> Result<usize, QueueError>;
}

/// How many messages a queue holds (approximately, in SQS).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueDepth {
    /// Ready to be received.
    pub waiting: usize,
    /// Being processed, or waiting for their retry.
    pub in_flight: usize,
    /// In the dead-letter queue.
    pub dead: usize,
}

impl QueueDepth {
    /// No work left to do (dead letters aside).
    pub fn is_idle(&self) -> bool {
        self.waiting == 0 && self.in_flight == 0
    }
}

/// Receiving and deleting, where no event source mapping does it, and the queue's depth.
#[async_trait]
pub trait Consumer: Send + Sync {
    /// Up to `max` messages, waiting up to `wait` for the first.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError>;
    /// Acknowledges a received message: it is gone for good.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;
    /// How many messages the work queue and its dead-letter queue hold now.
    async fn depth(&self) -> Result<QueueDepth, QueueError>;
}

/// Everything a queue does, as one object to share.
pub trait Queue: WorkQueue + Retries + DeadLetters + Consumer {}
impl<T: WorkQueue + Retries + DeadLetters + Consumer> Queue for T {}
