//! Lever's OAuth redirect: `GET /lever/oauth/callback?code=…&state=…`, where a tenant's
//! Super Admin lands after accepting the app. Stores the tenant's tokens; answers a page.

use lambda_http::{run, service_fn, Error, Request};
use lever_screening::{http, telemetry, App};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(http::lever_oauth_callback(app, request).await)
    }))
    .await
}
