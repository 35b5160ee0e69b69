//! The demo tenant in real AWS services (or their local emulators: DynamoDB Local and
//! moto_server via `AWS_ENDPOINT_URL_*`), with the simulators serving, so the Lambda
//! binaries can be invoked with `events/` exactly as they run in AWS.

use crate::demo_tenant as demo;
use crate::stack::{Stack, StackOptions};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use lever_screening::secrets::aws::SecretsManagerSource;
use lever_screening::store::dynamodb::{self, DynamoStore};
use lever_screening::Settings;
use std::sync::Arc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Creates the table and the tenant's secret (or overwrites its value), then starts the
/// stack on them.
pub async fn start(table: &str, secrets_prefix: &str) -> Result<Stack, BoxError> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    dynamodb::create_table(&dynamo, table).await?;
    let secrets = aws_sdk_secretsmanager::Client::new(&aws);
    let name = format!("{secrets_prefix}{}", demo::TENANT);
    let document = demo::secret_document().to_string();
    let created = secrets
        .create_secret()
        .name(&name)
        .secret_string(&document)
        .send()
        .await;
    if let Err(error) = created {
        if error.code() != Some("ResourceExistsException") {
            return Err(aws_sdk_secretsmanager::error::DisplayErrorContext(error)
                .to_string()
                .into());
        }
        secrets
            .put_secret_value()
            .secret_id(&name)
            .secret_string(&document)
            .send()
            .await?;
    }
    let stack = Stack::start(StackOptions {
        store: Arc::new(DynamoStore::new(dynamo, table)),
        secrets: Some(Arc::new(SecretsManagerSource::new(secrets, secrets_prefix))),
        extra_secrets: serde_json::Map::new(),
        settings: Settings::default(),
        port: 0,
    })
    .await?;
    place_sterling_order(&stack).await?;
    Ok(stack)
}

/// A Sterling case for `events/sterling-callback.json` to report on: placed through the
/// product (screening `scr_1`), then moved to "In Progress" in Sterling, so the callback
/// function re-reading it from Sterling's API finds a step forward.
async fn place_sterling_order(stack: &Stack) -> Result<(), BoxError> {
    let sent = stack
        .lever
        .move_to_stage(
            demo::STERLING_OPPORTUNITY_ID,
            demo::BACKGROUND_CHECK_STAGE_ID,
        )
        .await?;
    let placed = stack.sterling.screenings();
    let [screening] = placed.as_slice() else {
        return Err(format!(
            "the fixture's Sterling order was not placed: {}",
            sent.response
        )
        .into());
    };
    stack.sterling.set_status(&screening.id, "In Progress")?;
    Ok(())
}

/// Until SIGTERM (how test scripts stop it) or Ctrl-C.
pub async fn wait_for_shutdown() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = terminate.recv() => Ok(()),
        result = tokio::signal::ctrl_c() => result,
    }
}
