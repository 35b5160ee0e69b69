//! Drills: the whole product on one machine under load and under faults, with figures.
//! Each drill is a command of `lever-screening-local` that prints a table, and a test in
//! `local/tests/it` that runs it at a small size and asserts what must hold.

pub mod bulk_move;
pub mod faults;
pub mod iam;
pub mod load;

/// What a drill fails with: its set-up, not what it measures (that is in its report).
pub type DrillError = Box<dyn std::error::Error + Send + Sync>;

/// AWS configuration for the local emulators (DynamoDB Local, moto): their endpoints from
/// `AWS_ENDPOINT_URL_*`, and a region and credentials when none are set (the emulators
/// accept any). `drill` names the credentials' source.
async fn emulators_aws_config(drill: &'static str) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        loader = loader.region(aws_config::Region::new("us-east-1"));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, drill,
        ));
    }
    loader.load().await
}
