//! Scheduled (EventBridge) retry of the outbox: Lever writes and vendor orders that failed
//! on the way out. Items still failing after the attempt limit are parked for the admin
//! command to list and replay.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use lever_screening::flows::outbox;
use lever_screening::model::now_millis;
use lever_screening::{telemetry, App};

/// Items per run; the schedule comes back for the rest.
const BATCH: usize = 100;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let report = outbox::drain(app, now_millis(), BATCH).await?;
            Ok::<_, Error>(serde_json::to_value(report)?)
        },
    ))
    .await
}
