//! Scheduled (EventBridge): checks each tenant's Lever webhooks are still there, and reports
//! the missing ones (log, metric, alarm).

use lever_screening::lambda::Job;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::run_scheduled(Job::CheckWebhooks).await
}
