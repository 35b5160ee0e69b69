//! Lever's OAuth redirect: `GET /lever/oauth/callback?code=…&state=…`, where a tenant's
//! Super Admin lands after accepting the app. Stores the integration's tokens; answers a page.

use lever_screening::http;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::LeverOAuthCallback).await
}
