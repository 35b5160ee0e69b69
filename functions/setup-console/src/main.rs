//! The setup console: `GET|POST /console/{proxy+}`, server-rendered pages where a tenant's
//! Lever admin, signed in by an invitation link, connects Lever and each vendor.

use lever_screening::http;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::Console).await
}
