//! The events the functions are invoked with, as Lambda delivers them.
//!
//! - [`stage_change`]: an API Gateway HTTP API (payload 2.0) request carrying a Lever
//!   Candidate Stage Change delivery, freshly signed with a new delivery token each time (so
//!   no two deduplicate), into a stage that triggers no integration: the intake verifies,
//!   records the token and answers `ignored` without queueing anything.
//! - [`sqs_batch`]: an SQS event source mapping batch of `sync_lever` work for orders that do
//!   not exist, which the worker looks up and drops.

use lever_screening::lever::webhook;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// The stage the bench tenant's integration is triggered by; deliveries go elsewhere.
pub const TRIGGER_STAGE: &str = "stage-ref";
/// The stage every delivery moves the candidate into.
pub const OTHER_STAGE: &str = "stage-phone-screen";

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// A Lever delivery token: 48 random hex characters, unique per delivery.
fn delivery_token() -> String {
    let a = Uuid::new_v4().simple().to_string();
    let b = Uuid::new_v4().simple().to_string();
    format!("{a}{}", &b[..16])
}

/// An API Gateway HTTP API event for `POST /lever/{tenant}/candidate-stage-change`, signed
/// with `signature_token`.
pub fn stage_change(tenant: &str, signature_token: &str) -> Vec<u8> {
    let token = delivery_token();
    let triggered_at = now_millis();
    let opportunity = Uuid::new_v4().to_string();
    let delivery = json!({
        "id": Uuid::new_v4().to_string(),
        "event": "candidateStageChange",
        "triggeredAt": triggered_at,
        "token": token,
        "signature": webhook::sign(signature_token, &token, triggered_at),
        "data": {
            "opportunityId": opportunity,
            "candidateId": opportunity,
            "contactId": Uuid::new_v4().to_string(),
            "fromStageId": "stage-new-applicant",
            "toStageId": OTHER_STAGE,
        },
    });
    let path = format!("/lever/{tenant}/candidate-stage-change");
    let route = "POST /lever/{tenant}/candidate-stage-change";
    let domain = "abcdef1234.execute-api.us-east-1.amazonaws.com";
    json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "host": domain,
            "user-agent": "Lever-Webhooks",
            "x-forwarded-for": "203.0.113.10",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": domain,
            "domainPrefix": "abcdef1234",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "Lever-Webhooks",
            },
            "requestId": Uuid::new_v4().simple().to_string(),
            "routeKey": route,
            "stage": "$default",
            "timeEpoch": triggered_at,
        },
        "pathParameters": { "tenant": tenant },
        "body": delivery.to_string(),
        "isBase64Encoded": false,
    })
    .to_string()
    .into_bytes()
}

/// An SQS event of `size` messages, each `sync_lever` work for a random order of `tenant`
/// that does not exist.
pub fn sqs_batch(tenant: &str, size: usize, queue_arn: &str) -> Vec<u8> {
    let now = now_millis().to_string();
    let attribute = |value: &str| {
        json!({
            "stringValue": value,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        })
    };
    let records: Vec<_> = (0..size)
        .map(|_| {
            let order = Uuid::new_v4().simple().to_string();
            json!({
                "messageId": Uuid::new_v4().to_string(),
                "receiptHandle": format!("AQEB{}", Uuid::new_v4().simple()),
                "body": json!({ "work": "sync_lever", "tenant": tenant, "order": order })
                    .to_string(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now,
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": now,
                },
                "messageAttributes": {
                    "tenant": attribute(tenant),
                    "work": attribute("sync_lever"),
                },
                "md5OfBody": "098f6bcd4621d373cade4e832627b4f6",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    json!({ "Records": records }).to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_delivery_is_signed_with_a_fresh_token() {
        let event = |bytes: Vec<u8>| -> serde_json::Value {
            let event: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            serde_json::from_str(event["body"].as_str().unwrap()).unwrap()
        };
        let (a, b) = (
            event(stage_change("bench", "key")),
            event(stage_change("bench", "key")),
        );
        assert_ne!(a["token"], b["token"]);
        assert_eq!(a["token"].as_str().unwrap().len(), 48);
        let signature = webhook::sign(
            "key",
            a["token"].as_str().unwrap(),
            a["triggeredAt"].as_i64().unwrap(),
        );
        assert_eq!(a["signature"], signature.as_str());
        assert_eq!(a["data"]["toStageId"], OTHER_STAGE);
    }

    #[test]
    fn a_batch_has_its_size() {
        let batch: serde_json::Value =
            serde_json::from_slice(&sqs_batch("bench", 3, "arn:aws:sqs:us-east-1:1:q")).unwrap();
        assert_eq!(batch["Records"].as_array().unwrap().len(), 3);
    }
}
