//! An HTTP function's AWS calls carry the X-Ray trace of the invocation that made them,
//! without `_X_AMZN_TRACE_ID` ([`lever_screening::xray`]; the harness is `xray/common.rs`).

#[path = "xray/common.rs"]
mod common;

use lever_screening::http::LeverWebhook;
use lever_screening::lever::webhook::WebhookKind;
use serde_json::json;

/// An API Gateway (HTTP API, payload 2.0) request: a Candidate Stage Change delivery for
/// tenant `acme`, which does not exist, so the function's one AWS call is the tenant's read.
fn delivery(id: &str) -> String {
    let path = "/lever/acme/candidate-stage-change";
    let route = "POST /lever/{tenant}/candidate-stage-change";
    let body = json!({
        "id": id,
        "event": "candidateStageChange",
        "triggeredAt": 1_700_000_000_000_i64,
        "token": "token",
        "signature": "signature",
        "data": { "opportunityId": "o", "candidateId": "o", "toStageId": "s", "fromStageId": "t" },
    });
    json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "",
        "headers": { "content-type": "application/json", "host": "api.example.com" },
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "Lever-Webhooks",
            },
            "requestId": id,
            "routeKey": route,
            "stage": "$default",
            "timeEpoch": 1_700_000_000_000_i64,
        },
        "pathParameters": { "tenant": "acme" },
        "body": body.to_string(),
        "isBase64Encoded": false,
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_aws_call_of_an_http_function_carries_its_invocations_trace() {
    common::each_aws_call_carries_its_invocations_trace(
        "lever-candidate-stage-change",
        [delivery("delivery0"), delivery("delivery1")],
        || lever_screening::lambda::serve_http(LeverWebhook(WebhookKind::CandidateStageChange)),
    )
    .await;
}
