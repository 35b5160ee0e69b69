//! Xref's status callbacks: `POST /callbacks/xref/{tenant}` (Standard Webhooks).

use lever_screening::http;
use lever_screening::vendors::xref;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::VendorCallback(&xref::MODULE)).await
}
