//! The demo tenant in real AWS services (or their local emulators: DynamoDB Local and
//! moto_server, for Secrets Manager and SQS, via `AWS_ENDPOINT_URL_*`), with the simulators
//! and a worker serving, so the Lambda binaries can be invoked with `events/` exactly as
//! they run in AWS.

use crate::demo_tenant as demo;
use crate::stack::{Stack, StackOptions};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use lever_screening::queue::sqs::SqsQueue;
use lever_screening::secrets::aws::SecretsManagerSource;
use lever_screening::store::dynamodb::{self, DynamoStore};
use lever_screening::Settings;
use std::sync::Arc;
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where the fixture's queues are, for the functions' environment.
pub struct Queues {
    pub work: String,
    pub dead_letters: String,
}

/// Creates the table, the demo tenant's secret (or overwrites its value) and the work
/// queue with its dead-letter queue, starts the stack on them, and places the orders the
/// events' callbacks report on.
pub async fn start(table: &str, secrets_prefix: &str) -> Result<(Stack, Queues), BoxError> {
    let (stack, queues) = start_on_aws(table, secrets_prefix, 0, &[demo::TENANT]).await?;
    place_orders(&stack).await?;
    Ok((stack, queues))
}

/// The stack on DynamoDB, Secrets Manager and SQS (`AWS_ENDPOINT_URL_*` may point at
/// DynamoDB Local and moto), as the Lambdas and the operator command see them: creates the
/// table and the queues, stores `tenants`' secrets and the OAuth app's (overwriting older
/// values), and serves the functions on `port`.
pub async fn start_on_aws(
    table: &str,
    secrets_prefix: &str,
    port: u16,
    tenants: &[&str],
) -> Result<(Stack, Queues), BoxError> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    dynamodb::create_table(&dynamo, table).await?;
    let secrets = aws_sdk_secretsmanager::Client::new(&aws);
    for tenant in tenants {
        let tenant_secret = demo::secret_document(tenant)?;
        put_secret(
            &secrets,
            &format!("{secrets_prefix}{tenant}"),
            &tenant_secret,
        )
        .await?;
    }
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let queues = create_queues(&sqs, table).await?;
    let stack = Stack::start(StackOptions {
        store: Arc::new(DynamoStore::new(dynamo, table)),
        queue: Arc::new(SqsQueue::new(sqs, &queues.work, &queues.dead_letters)),
        secrets: Some(Arc::new(SecretsManagerSource::new(
            secrets.clone(),
            secrets_prefix,
        ))),
        extra_secrets: serde_json::Map::new(),
        settings: Settings {
            lever_oauth_app_secret: Some(oauth_app_secret(secrets_prefix)),
            ..Settings::default()
        },
        port,
        workers: 1,
        per_function: None,
    })
    .await?;
    let run = demo::secrets_for_run(&stack.functions_url, serde_json::Map::new())?;
    let oauth_app = &run["named"][demo::OAUTH_APP_SECRET_NAME];
    put_secret(&secrets, &oauth_app_secret(secrets_prefix), oauth_app).await?;
    Ok((stack, queues))
}

/// The name of the secret holding the Lever OAuth app (`LEVER_OAUTH_APP_SECRET`).
pub fn oauth_app_secret(secrets_prefix: &str) -> String {
    format!("{secrets_prefix}{}", demo::OAUTH_APP_SECRET_NAME)
}

/// Creates secret `name` holding `document`, or overwrites its value.
pub(crate) async fn put_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    name: &str,
    document: &serde_json::Value,
) -> Result<(), BoxError> {
    let document = document.to_string();
    let created = secrets
        .create_secret()
        .name(name)
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
            .secret_id(name)
            .secret_string(&document)
            .send()
            .await?;
    }
    Ok(())
}

/// `{prefix}-work` and its dead-letter queue `{prefix}-dead-letters`, as the template
/// makes them (a standard queue whose redrive policy moves a message after 25 receives).
pub(crate) async fn create_queues(
    sqs: &aws_sdk_sqs::Client,
    prefix: &str,
) -> Result<Queues, BoxError> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let dead_letters = sqs
        .create_queue()
        .queue_name(format!("{prefix}-dead-letters"))
        .send()
        .await?
        .queue_url
        .ok_or("no dead-letter queue URL")?;
    let dead_letter_arn = sqs
        .get_queue_attributes()
        .queue_url(&dead_letters)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or("no dead-letter queue ARN")?;
    let redrive =
        serde_json::json!({ "deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": 25 });
    let work = sqs
        .create_queue()
        .queue_name(format!("{prefix}-work"))
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .attributes(QueueAttributeName::VisibilityTimeout, "360")
        .send()
        .await?
        .queue_url
        .ok_or("no work queue URL")?;
    Ok(Queues { work, dead_letters })
}

/// An Xref reference check for Ada and a Sterling case for Alan, placed through the product,
/// for `events/xref-callback.json` and `events/sterling-callback.json` to report on; the
/// Sterling case is then moved to "In Progress" in Sterling, so the callback's re-read of
/// the screening finds a step forward.
async fn place_orders(stack: &Stack) -> Result<(), BoxError> {
    stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await?;
    stack
        .lever
        .move_to_stage(
            demo::STERLING_OPPORTUNITY_ID,
            demo::BACKGROUND_CHECK_STAGE_ID,
        )
        .await?;
    if !stack.settle(Duration::from_secs(60)).await {
        return Err("the fixture's orders were not placed within a minute".into());
    }
    let placed = stack.sterling.screenings();
    let [screening] = placed.as_slice() else {
        return Err(format!(
            "the fixture placed {} Sterling cases, not one",
            placed.len()
        )
        .into());
    };
    if stack.xref.orders().len() != 1 {
        return Err("the fixture's Xref order was not placed".into());
    }
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
