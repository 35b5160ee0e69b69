//! ESR's status and flag callbacks: `POST /callbacks/esr/{tenant}` (Standard Webhooks).

use lever_screening::http;
use lever_screening::vendors::esr;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::VendorCallback(&esr::MODULE)).await
}
