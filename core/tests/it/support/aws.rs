//! Connections to the real local services the integration tests run against. `tests/run`
//! starts DynamoDB Local and moto_server on free loopback ports and exports their endpoints
//! through the AWS SDK's standard variables; without them these tests fail with a clear
//! message instead of silently passing.
#![allow(dead_code)]

fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{name} is not set: this test talks to a real local service. \
             Run the suite with `tests/run` (it starts DynamoDB Local and moto_server), \
             or export {name} yourself."
        ),
    }
}

/// An SDK config pointed at the local services with test credentials.
pub async fn local_aws_config() -> aws_config::SdkConfig {
    required_env("AWS_ENDPOINT_URL_DYNAMODB");
    required_env("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
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
