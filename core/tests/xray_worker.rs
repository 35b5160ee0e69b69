//! The worker's AWS calls carry the X-Ray trace of the invocation that made them, without
//! `_X_AMZN_TRACE_ID` ([`lever_screening::xray`]; the harness is `xray/common.rs`).

#[path = "xray/common.rs"]
mod common;

use serde_json::json;

/// An SQS event of one `sync_lever` message for an order that does not exist.
fn sqs_event(order: &str) -> String {
    let attribute = |value: &str| json!({ "stringValue": value, "dataType": "String" });
    json!({ "Records": [{
        "messageId": format!("message-{order}"),
        "receiptHandle": "AQEBtest",
        "body": json!({ "work": "sync_lever", "tenant": "acme", "order": order }).to_string(),
        "attributes": { "ApproximateReceiveCount": "1" },
        "messageAttributes": { "tenant": attribute("acme"), "work": attribute("sync_lever") },
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:work",
        "awsRegion": "us-east-1",
    }]})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_aws_call_of_the_worker_carries_its_invocations_trace() {
    common::each_aws_call_carries_its_invocations_trace(
        "screening-worker",
        [sqs_event("order0"), sqs_event("order1")],
        lever_screening::lambda::run_worker,
    )
    .await;
}
