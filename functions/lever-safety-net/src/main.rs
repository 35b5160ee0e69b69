//! Scheduled (EventBridge): asks each tenant's Lever account for stage entries and archives
//! since the last run that no webhook delivered, and puts them on the work queue (log,
//! metric, alarm on what it finds).

use lever_screening::lambda::Job;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::run_scheduled(Job::SafetyNet).await
}
