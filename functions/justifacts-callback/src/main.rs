//! Justifacts' status callbacks: `POST /callbacks/justifacts/{tenant}` (Standard Webhooks).

use lever_screening::http;
use lever_screening::vendors::justifacts;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::VendorCallback(&justifacts::MODULE)).await
}
