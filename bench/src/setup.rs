//! What the functions find in the (local) AWS services: one tenant, `bench`, whose secret
//! (Secrets Manager) holds the Candidate Stage Change signature token, whose configuration
//! (DynamoDB) has one Xref integration triggered by a stage no delivery moves into, and the
//! SQS work and dead-letter queues. Each run gets a fresh table, so every function and run
//! starts from the same empty store. Lever and the vendor are at an unused loopback URL: the
//! paths measured call neither.
//!
//! Endpoints and credentials come from the environment as the AWS SDK reads them
//! (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_SQS`,
//! `AWS_ACCESS_KEY_ID`, `AWS_REGION`, …), which `scripts/local-aws` sets.

use crate::events::TRIGGER_STAGE;
use crate::BoxError;
use lever_screening::store::dynamodb::{create_table, DynamoStore};
use lever_screening::store::TenantStore;
use lever_screening::tenant::TenantConfig;
use serde_json::json;
use uuid::Uuid;

/// The tenant every event is for.
pub const TENANT: &str = "bench";
/// Nothing listens here (the discard port): a call to Lever or the vendor would fail fast.
const UNUSED_URL: &str = "http://127.0.0.1:9";

/// The tenant, its secret and the queues, created once per bench.
pub struct Fixture {
    dynamodb: aws_sdk_dynamodb::Client,
    secrets: aws_sdk_secretsmanager::Client,
    sqs: aws_sdk_sqs::Client,
    /// `SECRETS_PREFIX`: unique per bench, so benches never share a secret.
    pub secrets_prefix: String,
    /// The Candidate Stage Change signature token stored in the tenant's secret.
    pub signature_token: String,
    pub work_queue_url: String,
    pub work_queue_arn: String,
    pub dead_letter_queue_url: String,
    config: TenantConfig,
}

impl Fixture {
    /// Creates the tenant's secret and the queues.
    pub async fn create() -> Result<Self, BoxError> {
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
        let secrets = aws_sdk_secretsmanager::Client::new(&aws);
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let run = Uuid::new_v4().simple().to_string();
        let secrets_prefix = format!("lever-screening-bench/{}/", &run[..12]);
        let signature_token = Uuid::new_v4().simple().to_string();
        let secret = json!({
            "lever": { "api_key": "bench-lever-key" },
            "webhooks": { "candidateStageChange": { "current": signature_token } },
            "vendors": { "xref": { "api_key": "bench-xref-key" } },
        });
        secrets
            .create_secret()
            .name(format!("{secrets_prefix}{TENANT}"))
            .secret_string(secret.to_string())
            .send()
            .await
            .map_err(|e| format!("creating the tenant secret: {}", error_text(&e)))?;
        let dead_letter_queue_url =
            create_queue(&sqs, &format!("bench-dead-letters-{}", &run[..12])).await?;
        let work_queue_name = format!("bench-work-{}", &run[..12]);
        let work_queue_url = create_queue(&sqs, &work_queue_name).await?;
        let config: TenantConfig = serde_json::from_value(json!({
            "tenant_id": TENANT,
            "lever_api_base": format!("{UNUSED_URL}/lever/v1"),
            "vendors": {
                "xref": {
                    "enabled": true,
                    "api_base": format!("{UNUSED_URL}/xref/v1"),
                    "trigger_stage": { "id": TRIGGER_STAGE },
                },
            },
        }))?;
        Ok(Fixture {
            dynamodb,
            secrets,
            sqs,
            secrets_prefix,
            signature_token,
            work_queue_url,
            work_queue_arn: format!("arn:aws:sqs:us-east-1:123456789012:{work_queue_name}"),
            dead_letter_queue_url,
            config,
        })
    }

    /// A fresh table `name`, as the SAM template declares it, holding the tenant's
    /// configuration.
    pub async fn create_table(&self, name: &str) -> Result<(), BoxError> {
        create_table(&self.dynamodb, name)
            .await
            .map_err(|e| format!("creating table {name}: {e}"))?;
        DynamoStore::new(self.dynamodb.clone(), name)
            .put_tenant(&self.config)
            .await
            .map_err(|e| format!("storing the tenant in {name}: {e}"))?;
        Ok(())
    }

    /// Deletes a run's table (DynamoDB Local keeps it in memory).
    pub async fn delete_table(&self, name: &str) {
        if let Err(e) = self.dynamodb.delete_table().table_name(name).send().await {
            eprintln!("bench: could not delete table {name}: {}", error_text(&e));
        }
    }

    /// Removes the secret and the queues.
    pub async fn remove(self) {
        let secret = format!("{}{TENANT}", self.secrets_prefix);
        let deleted = self
            .secrets
            .delete_secret()
            .secret_id(&secret)
            .force_delete_without_recovery(true)
            .send()
            .await;
        if let Err(e) = deleted {
            eprintln!(
                "bench: could not delete secret {secret}: {}",
                error_text(&e)
            );
        }
        for url in [&self.work_queue_url, &self.dead_letter_queue_url] {
            if let Err(e) = self.sqs.delete_queue().queue_url(url).send().await {
                eprintln!("bench: could not delete queue {url}: {}", error_text(&e));
            }
        }
    }
}

async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<String, BoxError> {
    let created = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| format!("creating queue {name}: {}", error_text(&e)))?;
    Ok(created.queue_url.ok_or("SQS returned no queue URL")?)
}

/// An SDK error with its causes (the SDK's `Display` alone says only "service error").
fn error_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
