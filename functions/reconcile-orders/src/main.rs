//! Scheduled (EventBridge): queues a re-read of every open order whose vendor went quiet.

use lever_screening::lambda::Job;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::run_scheduled(Job::ReconcileOrders).await
}
