//! HRLogics' WOTC eligibility callbacks: `POST /callbacks/hrlogics/{tenant}`
//! (Standard Webhooks).

use lever_screening::http;
use lever_screening::vendors::hrlogics;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::VendorCallback(&hrlogics::MODULE)).await
}
