//! Lever's Application Created webhook: `POST /lever/{tenant}/application-created`.
//! Verifies, dedupes and queues the delivery; the worker confirms it and orders (HRLogics).

use lever_screening::http;
use lever_screening::lever::webhook::WebhookKind;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::LeverWebhook(WebhookKind::ApplicationCreated)).await
}
