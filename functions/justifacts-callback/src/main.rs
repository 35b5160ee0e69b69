//! Justifacts' status callbacks: `POST /callbacks/justifacts/{tenant}`.
//! Builds the clients once per execution environment; the lever-screening library does the rest.

use lambda_http::{run, service_fn, Error, Request};
use lever_screening::model::VendorId;
use lever_screening::{http, telemetry, App};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(http::vendor_callback(app, VendorId::Justifacts, request).await)
    }))
    .await
}
