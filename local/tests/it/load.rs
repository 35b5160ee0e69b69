//! The load drill (`lever-screening-local load`) at a small size: its figures add up and
//! what it requires holds (every accepted delivery stored once, every accepted trigger
//! ordered once, the queue drained). On DynamoDB Local and moto's SQS when
//! `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL_SQS` are set (`scripts/local-aws run --
//! cargo test -p lever-screening-local --test it -- load::`), else in memory.

use lever_screening_local::drills::faults::StoreKind;
use lever_screening_local::drills::load::{measure, Options, QueueKind};

fn options() -> Options {
    let dynamodb = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok_and(|v| !v.is_empty());
    Options {
        rates: vec![20, 40],
        seconds: 2,
        store: if dynamodb {
            StoreKind::Dynamodb
        } else {
            StoreKind::Memory
        },
        queue: QueueKind::Auto,
        // One in ten, so that a two-second run orders something.
        trigger_share: 10,
        workers: 2,
        warmup_seconds: 1,
        drain_timeout_secs: 60,
        json: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delivery_is_answered_stored_once_and_its_work_drained() {
    let report = measure(&options()).await.expect("the drill starts");
    assert!(report.held(), "{report}");
    assert_eq!(report.rows.len(), 2, "{report}");
    for (row, rate) in report.rows.iter().zip([20u32, 40]) {
        let n = u64::from(rate) * 2;
        assert_eq!(row.rate, rate);
        assert_eq!(row.sent, n, "{report}");
        assert_eq!(row.accepted, n, "{report}");
        assert_eq!(row.answers.values().sum::<u64>(), n, "{report}");
        assert_eq!(row.stored_once, n, "{report}");
        assert_eq!(row.triggers_accepted, n / 10, "{report}");
        assert_eq!(row.orders, n / 10, "{report}");
        assert_eq!(row.accepted_ordered, n / 10, "{report}");
        assert_eq!(
            row.answers.get("202 queued").copied(),
            Some(n / 10),
            "{report}"
        );
        assert_eq!(
            row.answers.get("200 ignored").copied(),
            Some(n - n / 10),
            "{report}"
        );
        // Open loop: the sender keeps to the schedule on an idle stack.
        assert!(
            row.achieved_rate > f64::from(rate) * 0.9,
            "achieved {} of {rate}/s\n{report}",
            row.achieved_rate
        );
        assert!(
            0.0 < row.p50_ms && row.p50_ms <= row.p99_ms && row.p99_ms <= row.p999_ms,
            "{report}"
        );
        assert!(row.p999_ms <= row.max_ms, "{report}");
        assert!(row.drain_secs.is_some(), "{report}");
    }
    let text = report.to_string();
    assert!(
        text.contains("| rate /s | sent | achieved /s | p50 ms"),
        "{text}"
    );
    assert!(text.contains("Against the targets"), "{text}");
    assert!(text.contains("held at every rate"), "{text}");
}
