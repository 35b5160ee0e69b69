//! Sterling Backcheck's status callbacks: `POST /callbacks/sterling/{tenant}/{secret}`
//! (unsigned: the URL's secret authenticates them; the worker re-reads the screening).

use lever_screening::http;
use lever_screening::vendors::sterling;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::VendorCallback(&sterling::MODULE)).await
}
