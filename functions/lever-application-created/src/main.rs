//! Lever's Application Created webhook: `POST /lever/{tenant}/application-created`.
//! Builds the clients once per execution environment; the lever-screening library does the rest.

use lambda_http::{run, service_fn, Error, Request};
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::{http, telemetry, App};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(http::lever_webhook(app, WebhookKind::ApplicationCreated, request).await)
    }))
    .await
}
