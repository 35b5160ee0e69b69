//! Every function on its API Gateway path, in one axum server. Requests are turned into the
//! very `lambda_http::Request` API Gateway would hand the Lambda (with the path parameters
//! set), and the shared crate's handlers answer them: the same code path as in AWS.

use axum::body::{to_bytes, Body};
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use lambda_http::RequestExt;
use lever_screening::flows::outbox;
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::model::{now_millis, VendorId};
use lever_screening::{http as handlers, App};
use std::collections::HashMap;
use std::sync::Arc;

/// API Gateway's payload limit; the handlers apply their own, smaller one.
const GATEWAY_BODY_LIMIT: usize = 10 * 1024 * 1024;

/// The functions' routes, plus `/_local/…` endpoints to inspect and drain the outbox.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/lever/{tenant}/candidate-stage-change",
            any(candidate_stage_change),
        )
        .route(
            "/lever/{tenant}/application-created",
            any(application_created),
        )
        .route("/lever/oauth/callback", any(lever_oauth_callback))
        .route("/callbacks/{vendor}/{tenant}", any(vendor_callback))
        .route(
            "/callbacks/{vendor}/{tenant}/{secret}",
            any(vendor_callback),
        )
        .route("/_local/outbox", get(list_outbox))
        .route("/_local/outbox/drain", post(drain_outbox))
        .with_state(app)
}

async fn candidate_stage_change(
    State(app): State<Arc<App>>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    lever_webhook(&app, WebhookKind::CandidateStageChange, tenant, request).await
}

async fn application_created(
    State(app): State<Arc<App>>,
    Path(tenant): Path<String>,
    request: Request,
) -> Response {
    lever_webhook(&app, WebhookKind::ApplicationCreated, tenant, request).await
}

async fn lever_webhook(app: &App, kind: WebhookKind, tenant: String, request: Request) -> Response {
    match to_lambda(request, &[("tenant", tenant)]).await {
        Ok(request) => from_lambda(handlers::lever_webhook(app, kind, request).await),
        Err(response) => response,
    }
}

/// `/callbacks/{vendor}/{tenant}` and, for vendors with unsigned callbacks (Sterling),
/// `/callbacks/{vendor}/{tenant}/{secret}`.
async fn vendor_callback(
    State(app): State<Arc<App>>,
    Path(params): Path<HashMap<String, String>>,
    request: Request,
) -> Response {
    // API Gateway has one route per vendor; an unknown vendor matches none.
    let Some(vendor) = params.get("vendor").and_then(|v| VendorId::parse(v)) else {
        return not_found();
    };
    let forwarded: Vec<(&str, String)> = ["tenant", "secret"]
        .into_iter()
        .filter_map(|name| params.get(name).map(|value| (name, value.clone())))
        .collect();
    match to_lambda(request, &forwarded).await {
        Ok(request) => from_lambda(handlers::vendor_callback(&app, vendor, request).await),
        Err(response) => response,
    }
}

async fn lever_oauth_callback(State(app): State<Arc<App>>, request: Request) -> Response {
    match to_lambda(request, &[]).await {
        Ok(request) => from_lambda(handlers::lever_oauth_callback(&app, request).await),
        Err(response) => response,
    }
}

async fn list_outbox(State(app): State<Arc<App>>) -> Response {
    match app.store.list_outbox(1000).await {
        Ok(items) => Json(items).into_response(),
        Err(e) => error_response(http::StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

async fn drain_outbox(State(app): State<Arc<App>>) -> Response {
    match outbox::drain(&app, now_millis(), 1000).await {
        Ok(report) => Json(report).into_response(),
        Err(e) => error_response(http::StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

async fn to_lambda(
    request: Request,
    path_parameters: &[(&str, String)],
) -> Result<lambda_http::Request, Response> {
    let (mut parts, body) = request.into_parts();
    // API Gateway tells the function how it was reached; so does this gateway.
    parts
        .headers
        .insert("x-forwarded-proto", http::HeaderValue::from_static("http"));
    let bytes = to_bytes(body, GATEWAY_BODY_LIMIT).await.map_err(|_| {
        error_response(
            http::StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        )
    })?;
    let parameters: HashMap<String, String> = path_parameters
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    // As API Gateway does, hand the function the query string already parsed.
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| {
            reqwest::Url::parse(&format!("http://query/?{q}"))
                .map(|url| url.query_pairs().into_owned().collect())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    Ok(
        http::Request::from_parts(parts, lambda_http::Body::Binary(bytes.to_vec()))
            .with_path_parameters(parameters)
            .with_query_string_parameters(query),
    )
}

fn from_lambda(response: lambda_http::Response<lambda_http::Body>) -> Response {
    let (parts, body) = response.into_parts();
    let body = match body {
        lambda_http::Body::Empty => Body::empty(),
        lambda_http::Body::Text(text) => Body::from(text),
        lambda_http::Body::Binary(bytes) => Body::from(bytes),
        // `Body` is non-exhaustive; nothing else is produced by the handlers.
        _ => Body::empty(),
    };
    Response::from_parts(parts, body)
}

fn not_found() -> Response {
    error_response(http::StatusCode::NOT_FOUND, "no such route")
}

fn error_response(status: http::StatusCode, message: &str) -> Response {
    let code = status
        .canonical_reason()
        .unwrap_or("error")
        .to_lowercase()
        .replace(' ', "_");
    (
        status,
        Json(serde_json::json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}
