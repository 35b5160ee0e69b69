//! One behaviour suite for every work queue: each case runs against `MemoryQueue` and against
//! `SqsQueue` on moto_server (a fresh work queue and dead-letter queue per test), as
//! `memory::<case>` and `sqs::<case>`. What only SQS does (moving a message itself after the
//! redrive policy's maximum receives) and reading Lambda's SQS events are tested on their own.

use crate::support::aws::local_queues;
use lever_screening::ids::{OrderId, TenantId};
use lever_screening::queue::memory::MemoryQueue;
use lever_screening::queue::sqs::{from_event, SqsQueue};
use lever_screening::queue::{DeadLetter, Queue, QueueDepth, QueueError, Received};
use lever_screening::work::Work;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The shortest wait SQS can express (whole seconds) that still shows a delay.
const RETRY_DELAY: Duration = Duration::from_secs(1);
/// How long a test waits for something that should happen at once (SQS's counts are
/// approximate, and a real queue may answer a receive with part of what it holds).
const PATIENCE: Duration = Duration::from_secs(5);

fn work(n: u32) -> Work {
    Work::SyncLever {
        tenant: TenantId::parse("acme").unwrap(),
        order: OrderId::parse(format!("order-{n}")).unwrap(),
    }
}

fn works(messages: &[Received]) -> BTreeSet<String> {
    messages
        .iter()
        .map(|m| format!("{:?}", m.work().unwrap()))
        .collect()
}

fn expected(works: &[Work]) -> BTreeSet<String> {
    works.iter().map(|w| format!("{w:?}")).collect()
}

fn dead_works(dead: &[DeadLetter]) -> BTreeSet<String> {
    dead.iter()
        .map(|d| {
            let work: Work = serde_json::from_str(&d.body).unwrap();
            format!("{work:?}")
        })
        .collect()
}

/// Receives until `n` messages came (or `PATIENCE` passed), then checks nothing more is
/// visible.
async fn receive_exactly(queue: &dyn Queue, n: usize) -> Vec<Received> {
    let until = Instant::now() + PATIENCE;
    let mut received = Vec::new();
    while received.len() < n && Instant::now() < until {
        received.extend(queue.receive(10, Duration::from_secs(1)).await.unwrap());
    }
    assert_eq!(received.len(), n, "{received:?}");
    assert_nothing_visible(queue).await;
    received
}

async fn assert_nothing_visible(queue: &dyn Queue) {
    let more = queue.receive(10, Duration::ZERO).await.unwrap();
    assert!(more.is_empty(), "unexpected messages: {more:?}");
}

async fn assert_depth(queue: &dyn Queue, expected: QueueDepth) {
    let until = Instant::now() + PATIENCE;
    loop {
        let depth = queue.depth().await.unwrap();
        if depth == expected {
            return;
        }
        assert!(
            Instant::now() < until,
            "depth {depth:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn send_all(queue: &dyn Queue, works: &[Work]) {
    for work in works {
        queue.send(work).await.unwrap();
    }
}

/// Sends each work, receives it and dead-letters it with `error <n>`, as the worker does.
async fn dead_letter_all(queue: &dyn Queue, works: &[Work]) {
    send_all(queue, works).await;
    for message in receive_exactly(queue, works.len()).await {
        let error = format!("error for {:?}", message.work().unwrap());
        queue.dead_letter(&message, &error).await.unwrap();
        queue.delete(&message.receipt).await.unwrap();
    }
}

async fn sent_work_is_received_once(queue: Arc<dyn Queue>) {
    queue.send(&work(1)).await.unwrap();
    let received = receive_exactly(&*queue, 1).await;
    let message = &received[0];
    assert_eq!(message.work().unwrap(), work(1));
    assert_eq!(message.receive_count, 1);
    assert!(!message.message_id.is_empty());
    assert!(!message.receipt.is_empty());
}

async fn a_retried_message_comes_back_after_its_delay(queue: Arc<dyn Queue>) {
    queue.send(&work(1)).await.unwrap();
    let first = receive_exactly(&*queue, 1).await.remove(0);

    let retried_at = Instant::now();
    queue
        .retry_later(&first.receipt, RETRY_DELAY)
        .await
        .unwrap();
    assert_nothing_visible(&*queue).await;
    let again = queue.receive(10, PATIENCE).await.unwrap();
    let waited = retried_at.elapsed();
    assert_eq!(again.len(), 1, "{again:?}");
    let again = &again[0];
    assert!(
        waited >= RETRY_DELAY - Duration::from_millis(100),
        "visible again after {waited:?}"
    );
    assert_eq!(again.message_id, first.message_id);
    assert_eq!(again.body, first.body);
    assert_eq!(again.receive_count, 2);

    // No delay: visible at once.
    queue
        .retry_later(&again.receipt, Duration::ZERO)
        .await
        .unwrap();
    let third = receive_exactly(&*queue, 1).await.remove(0);
    assert_eq!(third.message_id, first.message_id);
    assert_eq!(third.receive_count, 3);
}

async fn a_deleted_message_is_gone(queue: Arc<dyn Queue>) {
    send_all(&*queue, &[work(1), work(2)]).await;
    let received = receive_exactly(&*queue, 2).await;
    let (done, retried): (Vec<&Received>, Vec<&Received>) =
        received.iter().partition(|m| m.work().unwrap() == work(1));
    queue.delete(&done[0].receipt).await.unwrap();
    queue
        .retry_later(&retried[0].receipt, Duration::ZERO)
        .await
        .unwrap();

    let left = receive_exactly(&*queue, 1).await;
    assert_eq!(left[0].work().unwrap(), work(2));
    queue.delete(&left[0].receipt).await.unwrap();
    assert_depth(&*queue, QueueDepth::default()).await;
}

async fn a_dead_letter_keeps_its_body_error_and_attempts(queue: Arc<dyn Queue>) {
    queue.send(&work(1)).await.unwrap();
    let first = receive_exactly(&*queue, 1).await.remove(0);
    queue
        .retry_later(&first.receipt, Duration::ZERO)
        .await
        .unwrap();
    let second = receive_exactly(&*queue, 1).await.remove(0);
    assert_eq!(second.receive_count, 2);

    queue
        .dead_letter(&second, "Xref refused the order: no email")
        .await
        .unwrap();
    queue.delete(&second.receipt).await.unwrap();

    let dead = queue.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].body, second.body);
    assert_eq!(
        dead[0].last_error.as_deref(),
        Some("Xref refused the order: no email")
    );
    assert_eq!(dead[0].attempts, Some(2));
    assert_nothing_visible(&*queue).await;
    assert_depth(
        &*queue,
        QueueDepth {
            waiting: 0,
            in_flight: 0,
            dead: 1,
        },
    )
    .await;
}

async fn listing_dead_letters_leaves_them_in_place(queue: Arc<dyn Queue>) {
    let sent = [work(1), work(2)];
    dead_letter_all(&*queue, &sent).await;

    let first = queue.dead_letters(10).await.unwrap();
    assert_eq!(dead_works(&first), expected(&sent));
    for dead in &first {
        let work: Work = serde_json::from_str(&dead.body).unwrap();
        assert_eq!(
            dead.last_error.as_deref(),
            Some(format!("error for {work:?}").as_str())
        );
        assert_eq!(dead.attempts, Some(1));
    }
    let second = queue.dead_letters(10).await.unwrap();
    assert_eq!(
        second
            .iter()
            .map(|d| &d.message_id)
            .collect::<BTreeSet<_>>(),
        first.iter().map(|d| &d.message_id).collect::<BTreeSet<_>>(),
        "the same dead letters again"
    );
    assert_eq!(queue.dead_letters(1).await.unwrap().len(), 1, "at most max");
    assert_nothing_visible(&*queue).await;
}

async fn redrive_moves_one_or_all_back(queue: Arc<dyn Queue>) {
    let sent = [work(1), work(2), work(3)];
    dead_letter_all(&*queue, &sent).await;
    let dead = queue.dead_letters(10).await.unwrap();
    let chosen = dead
        .iter()
        .find(|d| serde_json::from_str::<Work>(&d.body).unwrap() == work(2))
        .expect("work 2 is a dead letter");

    assert_eq!(queue.redrive(Some(&chosen.message_id)).await.unwrap(), 1);
    assert_eq!(
        dead_works(&queue.dead_letters(10).await.unwrap()),
        expected(&[work(1), work(3)])
    );
    let back = receive_exactly(&*queue, 1).await;
    assert_eq!(back[0].work().unwrap(), work(2));
    assert_eq!(back[0].receive_count, 1, "a fresh start");
    queue.delete(&back[0].receipt).await.unwrap();

    assert_eq!(queue.redrive(Some("no-such-message")).await.unwrap(), 0);
    assert_eq!(queue.dead_letters(10).await.unwrap().len(), 2);

    assert_eq!(queue.redrive(None).await.unwrap(), 2);
    assert_eq!(queue.dead_letters(10).await.unwrap(), vec![]);
    let back = receive_exactly(&*queue, 2).await;
    assert_eq!(works(&back), expected(&[work(1), work(3)]));
    assert_eq!(queue.redrive(None).await.unwrap(), 0);
}

/// A dead letter that is no work (it was dead-lettered for that) stays for a person; the
/// others are still redriven.
async fn redrive_all_leaves_what_is_no_work(queue: Arc<dyn Queue>) {
    dead_letter_all(&*queue, &[work(1)]).await;
    let garbage = Received {
        message_id: "garbage".into(),
        receipt: "garbage".into(),
        body: "{\"work\":\"not_a_kind_of_work\"}".into(),
        receive_count: 1,
    };
    queue
        .dead_letter(&garbage, "the message is no work")
        .await
        .unwrap();
    assert_eq!(queue.redrive(None).await.unwrap(), 1);
    let left = queue.dead_letters(10).await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].body, garbage.body);
    assert_eq!(
        works(&receive_exactly(&*queue, 1).await),
        expected(&[work(1)])
    );
}

async fn depth_counts_waiting_in_flight_and_dead(queue: Arc<dyn Queue>) {
    assert_depth(&*queue, QueueDepth::default()).await;
    assert!(queue.depth().await.unwrap().is_idle());
    send_all(&*queue, &[work(1), work(2), work(3)]).await;
    assert_depth(
        &*queue,
        QueueDepth {
            waiting: 3,
            in_flight: 0,
            dead: 0,
        },
    )
    .await;

    let mut received = Vec::new();
    let until = Instant::now() + PATIENCE;
    while received.len() < 2 && Instant::now() < until {
        received.extend(queue.receive(1, Duration::from_secs(1)).await.unwrap());
    }
    assert_eq!(received.len(), 2, "{received:?}");
    queue
        .retry_later(&received[0].receipt, Duration::from_secs(60))
        .await
        .unwrap();
    assert_depth(
        &*queue,
        QueueDepth {
            waiting: 1,
            in_flight: 2,
            dead: 0,
        },
    )
    .await;
    assert!(!queue.depth().await.unwrap().is_idle());

    queue.dead_letter(&received[1], "gave up").await.unwrap();
    queue.delete(&received[1].receipt).await.unwrap();
    assert_depth(
        &*queue,
        QueueDepth {
            waiting: 1,
            in_flight: 1,
            dead: 1,
        },
    )
    .await;
}

fn memory_queue() -> Arc<dyn Queue> {
    Arc::new(MemoryQueue::new())
}

async fn sqs_queue_with(max_receive_count: u32) -> Arc<dyn Queue> {
    let queues = local_queues(max_receive_count).await;
    Arc::new(SqsQueue::new(
        queues.client,
        queues.queue_url,
        queues.dead_letter_url,
    ))
}

async fn sqs_queue() -> Arc<dyn Queue> {
    // More receives than any case makes: only the worker dead-letters here.
    sqs_queue_with(10).await
}

/// Runs every case once per queue, as `memory::<case>` and `sqs::<case>`.
macro_rules! queue_suite {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::memory_queue()).await;
                }
            )*
        }

        mod sqs {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::sqs_queue().await).await;
                }
            )*
        }
    };
}

queue_suite!(
    sent_work_is_received_once,
    a_retried_message_comes_back_after_its_delay,
    a_deleted_message_is_gone,
    a_dead_letter_keeps_its_body_error_and_attempts,
    listing_dead_letters_leaves_them_in_place,
    redrive_moves_one_or_all_back,
    redrive_all_leaves_what_is_no_work,
    depth_counts_waiting_in_flight_and_dead,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_moves_a_message_received_too_often_without_an_error() {
    let queue = sqs_queue_with(1).await;
    queue.send(&work(1)).await.unwrap();
    let first = receive_exactly(&*queue, 1).await.remove(0);
    // The worker crashed: the message becomes visible without being settled.
    queue
        .retry_later(&first.receipt, Duration::ZERO)
        .await
        .unwrap();

    // Past the maximum receives: SQS moves it instead of delivering it.
    assert_nothing_visible(&*queue).await;
    let dead = queue.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].body, first.body);
    assert_eq!(dead[0].last_error, None);
    assert_eq!(dead[0].attempts, None);

    // And an operator can send it back.
    assert_eq!(queue.redrive(None).await.unwrap(), 1);
    let back = receive_exactly(&*queue, 1).await;
    assert_eq!(back[0].work().unwrap(), work(1));
}

/// A record of Lambda's SQS event, as the event source mapping delivers it.
fn lambda_record(
    receipt: Option<&str>,
    attributes: serde_json::Value,
    body: &str,
) -> serde_json::Value {
    let mut record = serde_json::json!({
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "body": body,
        "attributes": attributes,
        "messageAttributes": {
            "tenant": {
                "stringValue": "acme",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String"
            }
        },
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:lever-screening-work",
        "awsRegion": "us-east-1"
    });
    if let Some(receipt) = receipt {
        record["receiptHandle"] = receipt.into();
    }
    record
}

#[test]
fn a_lambda_sqs_record_is_read_as_a_received_message() {
    let body = serde_json::to_string(&work(7)).unwrap();
    let attributes = serde_json::json!({
        "ApproximateReceiveCount": "3",
        "SentTimestamp": "1545082649183",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1545082649185"
    });
    let record = lambda_record(
        Some("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a"),
        attributes.clone(),
        &body,
    );
    let message = from_event(serde_json::from_value(record).unwrap()).expect("a receipt");
    assert_eq!(
        message,
        Received {
            message_id: "059f36b4-87a3-44ab-83d2-661975830a7d".into(),
            receipt: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a".into(),
            body: body.clone(),
            receive_count: 3,
        }
    );
    assert_eq!(message.work().unwrap(), work(7));

    // Without a count: a first receive.
    let record = lambda_record(Some("r"), serde_json::json!({}), &body);
    let message = from_event(serde_json::from_value(record).unwrap()).unwrap();
    assert_eq!(message.receive_count, 1);

    // Without a receipt handle nothing can be done with it.
    let record = lambda_record(None, attributes.clone(), &body);
    assert_eq!(from_event(serde_json::from_value(record).unwrap()), None);

    // A body that is no work is reported, not guessed at.
    let record = lambda_record(Some("r"), attributes, r#"{"work":"unknown"}"#);
    let message = from_event(serde_json::from_value(record).unwrap()).unwrap();
    assert!(
        matches!(message.work(), Err(QueueError::Malformed(_))),
        "{:?}",
        message.work()
    );
}
