//! What `xray_worker.rs` and `xray_http.rs` share: a Lambda function's entry point, run as
//! Lambda runs it, under a mock Lambda Runtime API that hands out two invocations with
//! different X-Ray trace headers, against a mock of every AWS service; then the checks that
//! each AWS call carried the `X-Amzn-Trace-Id` of the invocation that made it and that the
//! (patched) runtime never set `_X_AMZN_TRACE_ID`, whose every value glibc would keep
//! (docs/performance.md, *No `setenv` per invocation*).
//!
//! Each user is its own test binary with one test: it sets the process's environment (the
//! Lambda variables, the AWS endpoint) and installs the process-wide logger and metrics
//! recorder, once.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const TRACES: [&str; 2] = [
    "Root=1-67a0b1c2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
    "Root=1-67a0b1c3-fedcba9876543210fedcba98;Parent=fedcba9876543210;Sampled=1",
];

/// Invocation `n` (request id `request-n`) of `event`, carrying `TRACES[n]`.
fn invocation(n: usize, function: &str, event: String) -> ResponseTemplate {
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(60);
    ResponseTemplate::new(200)
        .insert_header("lambda-runtime-aws-request-id", format!("request-{n}"))
        .insert_header(
            "lambda-runtime-deadline-ms",
            deadline.as_millis().to_string(),
        )
        .insert_header(
            "lambda-runtime-invoked-function-arn",
            format!("arn:aws:lambda:us-east-1:000000000000:function:{function}"),
        )
        .insert_header("lambda-runtime-trace-id", TRACES[n])
        .set_body_raw(event, "application/json")
}

fn is_runtime_api(request: &Request) -> bool {
    request.url.path().starts_with("/2018-06-01/")
}

/// Runs `function` (its entry point started by `start`, after the environment is set) for
/// the two `events`, and checks the trace header of every AWS call it made.
pub async fn each_aws_call_carries_its_invocations_trace<F, E>(
    function: &str,
    events: [String; 2],
    start: impl FnOnce() -> F,
) where
    F: Future<Output = Result<(), E>>,
    E: std::fmt::Debug,
{
    // One server plays the Runtime API and every AWS service, so that the order in which it
    // received requests tells which invocation made each AWS call.
    let server = MockServer::start().await;
    for (n, event) in events.into_iter().enumerate() {
        Mock::given(method("GET"))
            .and(path(NEXT))
            .respond_with(invocation(n, function, event))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    // After the two, the runtime waits (as on Lambda, until the next event).
    Mock::given(method("GET"))
        .and(path(NEXT))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3600)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(
            r"^/2018-06-01/runtime/invocation/[^/]+/(response|error)$",
        ))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    // Every AWS call finds nothing (an empty JSON answer): unknown tenants and orders.
    Mock::given(method("POST"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{}", "application/x-amz-json-1.0"))
        .mount(&server)
        .await;

    for (name, value) in [
        ("AWS_LAMBDA_RUNTIME_API", server.address().to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", function.into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "test".into()),
        // Every service here, whatever the test run points them at (tests/run exports
        // per-service endpoints for DynamoDB Local and moto, which take precedence).
        ("AWS_ENDPOINT_URL", server.uri()),
        ("AWS_ENDPOINT_URL_DYNAMODB", server.uri()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", server.uri()),
        ("AWS_ENDPOINT_URL_SQS", server.uri()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "AKIDTEST".into()),
        ("AWS_SECRET_ACCESS_KEY", "test-secret".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("TABLE_NAME", "screening".into()),
        ("SECRETS_PREFIX", "lever-screening/".into()),
        (
            "WORK_QUEUE_URL",
            format!("{}/000000000000/work", server.uri()),
        ),
        (
            "DEAD_LETTER_QUEUE_URL",
            format!("{}/000000000000/dead", server.uri()),
        ),
    ] {
        std::env::set_var(name, value);
    }
    std::env::remove_var("_X_AMZN_TRACE_ID");

    let answered = async {
        loop {
            let requests = server.received_requests().await.unwrap_or_default();
            let answers = requests
                .iter()
                .filter(|r| r.method.as_str() == "POST" && is_runtime_api(r))
                .count();
            if answers == 2 {
                return requests;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let requests = tokio::select! {
        ended = start() => panic!("the function stopped: {ended:?}"),
        _ = tokio::time::sleep(Duration::from_secs(60)) => panic!("not answered in 60 s"),
        requests = answered => requests,
    };

    // Each AWS call belongs to the invocation the runtime fetched last.
    let mut fetched = 0;
    let mut calls = [0, 0];
    for request in &requests {
        if request.url.path() == NEXT {
            fetched += 1;
            continue;
        }
        if is_runtime_api(request) {
            continue;
        }
        assert!(
            (1..=2).contains(&fetched),
            "an AWS call outside an invocation"
        );
        let n = fetched - 1;
        let operation = request.headers.get("x-amz-target");
        let trace = request.headers.get("x-amzn-trace-id");
        assert_eq!(
            trace.and_then(|t| t.to_str().ok()),
            Some(TRACES[n]),
            "the trace of AWS call {operation:?} during invocation {n}"
        );
        calls[n] += 1;
    }
    assert!(
        calls.iter().all(|&c| c > 0),
        "each invocation made AWS calls: {calls:?}"
    );
    assert_eq!(
        std::env::var("_X_AMZN_TRACE_ID").ok(),
        None,
        "the runtime set _X_AMZN_TRACE_ID"
    );
}
