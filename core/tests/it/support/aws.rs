//! Connections to the real local services the integration tests run against.
//! `scripts/local-aws run -- …` starts DynamoDB Local and moto_server (Secrets Manager and
//! SQS) on free loopback ports and exports their endpoints through the AWS SDK's standard
//! variables; without them these tests fail with a clear message instead of silently passing.
#![allow(dead_code)]

use aws_sdk_sqs::types::QueueAttributeName;

fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{name} is not set: this test talks to a real local service. \
             Run the suite with `scripts/local-aws run -- cargo test -p lever-screening` \
             (it starts DynamoDB Local and moto_server), or export {name} yourself."
        ),
    }
}

/// An SDK config pointed at the local services with test credentials.
pub async fn local_aws_config() -> aws_config::SdkConfig {
    required_env("AWS_ENDPOINT_URL_DYNAMODB");
    required_env("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    required_env("AWS_ENDPOINT_URL_SQS");
    // The functions' own HTTP client (reqwest), so that every suite here goes through it.
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(lever_screening::tls::aws_http_client())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await
}

/// A table name no other test uses, so tests can run in parallel against one server.
pub fn unique_table_name(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A work queue and its dead-letter queue on the local SQS, fresh for one test.
pub struct LocalQueues {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub dead_letter_url: String,
}

/// Creates a standard queue whose redrive policy moves a message to a new dead-letter queue
/// after `max_receive_count` receives, as the SAM template declares them.
pub async fn local_queues(max_receive_count: u32) -> LocalQueues {
    let client = aws_sdk_sqs::Client::new(&local_aws_config().await);
    let name = unique_table_name("work");
    let dead_letter_url = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .expect("create the dead-letter queue")
        .queue_url
        .expect("a queue url");
    let dead_letter_arn = client
        .get_queue_attributes()
        .queue_url(&dead_letter_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("read the dead-letter queue's arn")
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .expect("a queue arn");
    let redrive_policy = serde_json::json!({
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": max_receive_count.to_string(),
    });
    let queue_url = client
        .create_queue()
        .queue_name(name)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            redrive_policy.to_string(),
        )
        .send()
        .await
        .expect("create the work queue")
        .queue_url
        .expect("a queue url");
    LocalQueues {
        client,
        queue_url,
        dead_letter_url,
    }
}
