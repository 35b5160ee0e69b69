//! Lever's Candidate Deleted webhook: `POST /lever/{tenant}/candidate-deleted`. Queues the
//! cancellation of open orders and the purge of what is stored about the candidate.

use lever_screening::http;
use lever_screening::lever::webhook::WebhookKind;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::LeverWebhook(WebhookKind::CandidateDeleted)).await
}
