//! The worker, on the work queue's SQS event source mapping: confirms Lever deliveries,
//! orders from vendors, writes statuses back to Lever, cancels and purges; reports the
//! messages to retry (partial batch response).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::run_worker().await
}
