//! `/_local/xref/orders`: what the Xref simulator holds, and a way to make it report a
//! status, so that a callback can be driven with curl as a candidate can be in the local
//! Lever. Local only: it is never deployed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lever_screening_simulators::{SimError, XrefSim};
use serde::Deserialize;
use serde_json::json;

/// `GET /_local/xref/orders` and `POST /_local/xref/orders/{id}/status`.
pub fn router(xref: XrefSim) -> Router {
    Router::new()
        .route("/_local/xref/orders", get(orders))
        .route("/_local/xref/orders/{id}/status", post(report))
        .with_state(xref)
}

async fn orders(State(xref): State<XrefSim>) -> Json<serde_json::Value> {
    let orders: Vec<_> = xref
        .orders()
        .into_iter()
        .map(|order| {
            json!({
                "id": order.id,
                "candidate": order.candidate.name,
                "status": order.status,
            })
        })
        .collect();
    Json(json!({ "data": orders }))
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    #[serde(default)]
    report_url: Option<String>,
}

/// Xref moves the order to `status` and posts its signed callback; answers what the
/// product's callback endpoint said.
async fn report(
    State(xref): State<XrefSim>,
    Path(id): Path<String>,
    Json(body): Json<StatusBody>,
) -> Response {
    match xref
        .post_status(&id, &body.status, body.report_url.as_deref())
        .await
    {
        Ok(sent) => Json(json!({
            "callback": { "status": sent.status, "response": sent.response }
        }))
        .into_response(),
        Err(error @ SimError::NotFound { .. }) => {
            let body = json!({ "code": "NotFound", "message": error.to_string() });
            (StatusCode::NOT_FOUND, Json(body)).into_response()
        }
        Err(error) => {
            let body = json!({ "code": "CallbackFailed", "message": error.to_string() });
            (StatusCode::BAD_GATEWAY, Json(body)).into_response()
        }
    }
}
