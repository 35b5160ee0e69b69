//! Lever's Candidate Hired webhook: `POST /lever/{tenant}/candidate-hired`. Verified and
//! acknowledged: hiring cancels nothing.

use lever_screening::http;
use lever_screening::lever::webhook::WebhookKind;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lever_screening::lambda::serve_http(http::LeverWebhook(WebhookKind::CandidateHired)).await
}
