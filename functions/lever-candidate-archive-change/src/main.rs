//! Lever's Candidate Archive State Change webhook:
//! `POST /lever/{tenant}/candidate-archive-change`. Archiving queues the cancellation of open
//! orders.

use lever_screening::http;
use lever_screening::lever::webhook::WebhookKind;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::LeverWebhook(WebhookKind::CandidateArchiveChange))
        .await
}
