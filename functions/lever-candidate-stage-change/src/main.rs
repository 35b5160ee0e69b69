//! Lever's Candidate Stage Change webhook: `POST /lever/{tenant}/candidate-stage-change`.
//! Verifies, dedupes and queues the delivery; the worker confirms it and orders.

use lever_screening::http;
use lever_screening::lever::webhook::WebhookKind;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::LeverWebhook(WebhookKind::CandidateStageChange)).await
}
