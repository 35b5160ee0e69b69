//! The work queue on Amazon SQS: a standard queue, and its dead-letter queue (which also
//! receives what SQS itself moves after the redrive policy's maximum receives: work whose
//! worker crashed or timed out every time).

use super::{
    Consumer, DeadLetter, DeadLetters, QueueDepth, QueueError, Received, Retries, WorkQueue,
};
use crate::work::Work;
use async_trait::async_trait;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{Message, MessageAttributeValue, MessageSystemAttributeName};
use aws_sdk_sqs::Client;
use std::collections::HashSet;
use std::time::Duration;

/// Message attributes this product sets.
const TENANT: &str = "tenant";
const WORK: &str = "work";
const LAST_ERROR: &str = "last_error";
const ATTEMPTS: &str = "attempts";
/// How long a dead-letter scan hides what it read (it makes what it kept visible again).
const SCAN_VISIBILITY_SECS: i32 = 30;
/// SQS caps a visibility timeout at 12 hours.
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);
/// Longest error text kept on a dead letter (attributes count toward the 256 KiB message).
const MAX_ERROR_CHARS: usize = 1000;

/// The work queue and its dead-letter queue on SQS, by URL.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dead_letter_url: String,
}

impl SqsQueue {
    /// The queues at `queue_url` and `dead_letter_url` (the stack's `WorkQueueUrl` and
    /// `DeadLetterQueueUrl`); nothing is called yet.
    pub fn new(
        client: Client,
        queue_url: impl Into<String>,
        dead_letter_url: impl Into<String>,
    ) -> Self {
        SqsQueue {
            client,
            queue_url: queue_url.into(),
            dead_letter_url: dead_letter_url.into(),
        }
    }

    async fn send_to(
        &self,
        queue_url: &str,
        body: &str,
        attributes: Vec<(&str, MessageAttributeValue)>,
    ) -> Result<(), QueueError> {
        let mut send = self
            .client
            .send_message()
            .queue_url(queue_url)
            .message_body(body);
        for (name, value) in attributes {
            send = send.message_attributes(name, value);
        }
        send.send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn receive_from(
        &self,
        queue_url: &str,
        max: usize,
        wait: Duration,
        visibility_secs: Option<i32>,
    ) -> Result<Vec<Message>, QueueError> {
        let output = self
            .client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(i32::try_from(max.clamp(1, 10)).unwrap_or(10))
            .wait_time_seconds(i32::try_from(wait.as_secs().min(20)).unwrap_or(20))
            .set_visibility_timeout(visibility_secs)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.messages.unwrap_or_default())
    }

    async fn delete_from(&self, queue_url: &str, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

impl SqsQueue {
    async fn attributes(
        &self,
        queue_url: &str,
    ) -> Result<std::collections::HashMap<aws_sdk_sqs::types::QueueAttributeName, String>, QueueError>
    {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.attributes.unwrap_or_default())
    }
}

fn unavailable(error: impl std::error::Error) -> QueueError {
    QueueError::Unavailable(DisplayErrorContext(error).to_string())
}

fn text(value: &str) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(unavailable)
}

fn attribute<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .message_attributes
        .as_ref()?
        .get(name)?
        .string_value()
}

fn received(message: Message) -> Result<Received, QueueError> {
    let receive_count = message
        .attributes
        .as_ref()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|count| count.parse().ok())
        .unwrap_or(1);
    Ok(Received {
        message_id: message.message_id.unwrap_or_default(),
        receipt: message
            .receipt_handle
            .ok_or_else(|| QueueError::Malformed("a message without a receipt handle".into()))?,
        body: message.body.unwrap_or_default(),
        receive_count,
    })
}

/// A message as Lambda's SQS event source mapping delivers it; `None` without a receipt
/// handle (nothing could be done with it).
pub fn from_event(record: aws_lambda_events::event::sqs::SqsMessage) -> Option<Received> {
    let receive_count = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1);
    Some(Received {
        message_id: record.message_id.unwrap_or_default(),
        receipt: record.receipt_handle?,
        body: record.body.unwrap_or_default(),
        receive_count,
    })
}

#[async_trait]
impl WorkQueue for SqsQueue {
    async fn send(&self, work: &Work) -> Result<(), QueueError> {
        let body = serde_json::to_string(work).map_err(|e| QueueError::Malformed(e.to_string()))?;
        let attributes = vec![
            (TENANT, text(work.tenant().as_str())?),
            (WORK, text(work.kind())?),
        ];
        self.send_to(&self.queue_url, &body, attributes).await
    }
}

#[async_trait]
impl Retries for SqsQueue {
    async fn retry_later(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let seconds = delay.min(MAX_VISIBILITY).as_secs();
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(i32::try_from(seconds).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn dead_letter(&self, message: &Received, last_error: &str) -> Result<(), QueueError> {
        let error: String = last_error.chars().take(MAX_ERROR_CHARS).collect();
        let attempts = MessageAttributeValue::builder()
            .data_type("Number")
            .string_value(message.receive_count.to_string())
            .build()
            .map_err(unavailable)?;
        let attributes = vec![(LAST_ERROR, text(&error)?), (ATTEMPTS, attempts)];
        self.send_to(&self.dead_letter_url, &message.body, attributes)
            .await
    }
}

impl SqsQueue {
    /// Every dead letter, each read once and hidden while the caller decides what to do.
    /// Long polls (a 1 s wait makes SQS look on all its servers, where a short poll samples
    /// some), until two in a row bring nothing new.
    async fn receive_dead_letters(&self) -> Result<Vec<Message>, QueueError> {
        let mut seen = HashSet::new();
        let mut all = Vec::new();
        let mut empty_polls = 0;
        while empty_polls < 2 {
            let batch = self
                .receive_from(
                    &self.dead_letter_url,
                    10,
                    Duration::from_secs(1),
                    Some(SCAN_VISIBILITY_SECS),
                )
                .await?;
            let before = all.len();
            all.extend(
                batch
                    .into_iter()
                    .filter(|m| seen.insert(m.message_id.clone().unwrap_or_default())),
            );
            empty_polls = if all.len() == before {
                empty_polls + 1
            } else {
                0
            };
        }
        Ok(all)
    }

    /// Makes dead letters read by [`Self::receive_dead_letters`] visible again at once; a
    /// failure only leaves one hidden for the scan's timeout.
    async fn release(&self, messages: &[Message]) {
        for receipt in messages.iter().filter_map(|m| m.receipt_handle.as_deref()) {
            let _ = self
                .client
                .change_message_visibility()
                .queue_url(&self.dead_letter_url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await;
        }
    }
}

#[async_trait]
impl DeadLetters for SqsQueue {
    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, QueueError> {
        let all = self.receive_dead_letters().await?;
        self.release(&all).await;
        Ok(all
            .iter()
            .take(max)
            .map(|message| DeadLetter {
                message_id: message.message_id.clone().unwrap_or_default(),
                body: message.body.clone().unwrap_or_default(),
                last_error: attribute(message, LAST_ERROR).map(str::to_owned),
                attempts: attribute(message, ATTEMPTS).and_then(|a| a.parse().ok()),
            })
            .collect())
    }

    async fn redrive(&self, message_id: Option<&str>) -> Result<usize, QueueError> {
        let (chosen, kept): (Vec<Message>, Vec<Message>) = self
            .receive_dead_letters()
            .await?
            .into_iter()
            .partition(|m| message_id.is_none_or(|wanted| m.message_id.as_deref() == Some(wanted)));
        self.release(&kept).await;
        let mut redriven = 0;
        for message in &chosen {
            let body = message.body.as_deref().unwrap_or_default();
            // A body that is no work stays where it is (its listing shows why): the others
            // are still redriven.
            let Ok(work) = serde_json::from_str::<Work>(body) else {
                self.release(std::slice::from_ref(message)).await;
                continue;
            };
            self.send(&work).await?;
            if let Some(receipt) = message.receipt_handle.as_deref() {
                self.delete_from(&self.dead_letter_url, receipt).await?;
            }
            redriven += 1;
        }
        Ok(redriven)
    }
}

#[async_trait]
impl Consumer for SqsQueue {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        self.receive_from(&self.queue_url, max, wait, None)
            .await?
            .into_iter()
            .map(received)
            .collect()
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.delete_from(&self.queue_url, receipt).await
    }

    async fn depth(&self) -> Result<QueueDepth, QueueError> {
        use aws_sdk_sqs::types::QueueAttributeName as Name;
        let work = self.attributes(&self.queue_url).await?;
        let dead = self.attributes(&self.dead_letter_url).await?;
        let count = |attributes: &std::collections::HashMap<Name, String>, name: Name| {
            attributes
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok(QueueDepth {
            waiting: count(&work, Name::ApproximateNumberOfMessages),
            in_flight: count(&work, Name::ApproximateNumberOfMessagesNotVisible)
                + count(&work, Name::ApproximateNumberOfMessagesDelayed),
            dead: count(&dead, Name::ApproximateNumberOfMessages),
        })
    }
}
