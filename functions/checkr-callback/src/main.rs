//! Checkr's webhooks: `POST /callbacks/checkr/{tenant}` (`X-Checkr-Signature`, the hex
//! HMAC-SHA256 of the body with the tenant's Checkr API key). Each names an invitation or a
//! report; the worker re-reads it from Checkr's API.

use lever_screening::http;
use lever_screening::vendors::checkr;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::VendorCallback(&checkr::MODULE)).await
}
