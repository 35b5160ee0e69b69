//! API Gateway in, JSON out. Every function's `main` hands its request to one of these
//! handlers, and the local server does the same, so both run identical code. This is the
//! one place where errors become HTTP statuses.

use crate::app::App;
use crate::callback_auth::CallbackAuthError;
use crate::error::AppError;
use crate::flows::{lever_webhook, oauth, vendor_callback, Ack};
use crate::lever::webhook::{SignatureError, WebhookKind};
use crate::lever::LeverError;
use crate::model::{is_valid_tenant_id, VendorId};
use crate::secrets::SecretsError;
use crate::store::StoreError;
use crate::vendors::VendorError;
use http::{header, HeaderMap, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;
use tracing::Instrument;

/// `POST /lever/{tenant}/candidate-stage-change` (and the other Lever webhook routes).
pub async fn lever_webhook(app: &App, kind: WebhookKind, request: Request) -> Response<Body> {
    let result = match accept(app, &request) {
        Ok(accepted) => {
            let base = public_base_url(app, request.headers());
            let span = tracing::info_span!(
                "lever_webhook",
                tenant = accepted.tenant,
                event = kind.event_name()
            );
            lever_webhook::handle(app, kind, accepted.tenant, accepted.body, &base)
                .instrument(span)
                .await
        }
        Err(e) => Err(e),
    };
    respond(result)
}

/// `POST /callbacks/{vendor}/{tenant}`, and `POST /callbacks/{vendor}/{tenant}/{secret}`
/// for vendors whose callbacks are unsigned.
pub async fn vendor_callback(app: &App, vendor: VendorId, request: Request) -> Response<Body> {
    let result = match accept(app, &request) {
        Ok(accepted) => {
            let span = tracing::info_span!("vendor_callback", tenant = accepted.tenant, %vendor);
            let callback = vendor_callback::Callback {
                headers: request.headers(),
                body: accepted.body,
                url_secret: request
                    .path_parameters_ref()
                    .and_then(|params| params.first("secret")),
            };
            vendor_callback::handle(app, vendor, accepted.tenant, &callback)
                .instrument(span)
                .await
        }
        Err(e) => Err(e),
    };
    respond(result)
}

/// `GET /lever/oauth/callback`: where Lever sends the tenant's Super Admin back after they
/// accept (or decline) the app. A person reads the answer, so it is a small HTML page.
pub async fn lever_oauth_callback(app: &App, request: Request) -> Response<Body> {
    if request.method() != Method::GET {
        return respond(Err(AppError::MethodNotAllowed));
    }
    let query = request.query_string_parameters();
    let result = oauth::complete(
        app,
        query.first("code"),
        query.first("state"),
        query.first("error"),
    )
    .await;
    let (status, title, message) = match result {
        Ok(tenant) => (
            StatusCode::OK,
            "Lever connected",
            format!("Lever is connected for tenant {tenant}. You can close this window."),
        ),
        Err(error) => {
            let (status, code) = classify(&error);
            tracing::warn!(status = status.as_u16(), code, error = %error, "OAuth callback refused");
            (
                status,
                "Lever not connected",
                public_message(&error, status),
            )
        }
    };
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{}</p></body></html>",
        escape_html(&message)
    );
    let mut response = Response::new(Body::Text(page));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn escape_html(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            other => other.to_string(),
        })
        .collect()
}

/// What every POST route checks before any flow runs.
struct Accepted<'a> {
    tenant: &'a str,
    body: &'a [u8],
}

fn accept<'a>(app: &App, request: &'a Request) -> Result<Accepted<'a>, AppError> {
    if request.method() != Method::POST {
        return Err(AppError::MethodNotAllowed);
    }
    if !is_json(request.headers()) {
        return Err(AppError::UnsupportedMediaType);
    }
    let body: &[u8] = request.body().as_ref();
    let limit = app.settings.max_body_bytes;
    if body.len() > limit {
        return Err(AppError::PayloadTooLarge { limit });
    }
    let tenant = request
        .path_parameters_ref()
        .and_then(|params| params.first("tenant"))
        .ok_or_else(|| AppError::BadRequest("the URL names no tenant".into()))?;
    if !is_valid_tenant_id(tenant) {
        return Err(AppError::NotFound("tenant"));
    }
    Ok(Accepted { tenant, body })
}

/// `application/json`, with or without parameters. Lever's docs show the value in quotes,
/// so those are tolerated too.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().trim_matches('"').split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Where this deployment is reachable, for the callback URLs handed to vendors: the
/// configured base (a custom domain), else the host the request came to.
fn public_base_url(app: &App, headers: &HeaderMap) -> String {
    if let Some(base) = &app.settings.public_base_url {
        return base.clone();
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let proto = header("x-forwarded-proto").unwrap_or("https");
    let host = header("x-forwarded-host")
        .or_else(|| header(header::HOST.as_str()))
        .unwrap_or("localhost");
    format!("{proto}://{host}")
}

/// The one mapping from outcome to HTTP answer. Error bodies are
/// `{"error": {"code": "...", "message": "..."}}`; the message never carries secrets.
pub fn respond(result: Result<Ack, AppError>) -> Response<Body> {
    match result {
        Ok(ack) => {
            let status = if ack.is_accepted_only() {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            tracing::info!(status = status.as_u16(), outcome = ?ack.status, "answered");
            json_response(status, &serde_json::to_value(&ack).unwrap_or_default())
        }
        Err(error) => {
            let (status, code) = classify(&error);
            let message = public_message(&error, status);
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), code, error = %error, "request failed");
            } else {
                tracing::warn!(status = status.as_u16(), code, error = %error, "request refused");
            }
            json_response(
                status,
                &json!({ "error": { "code": code, "message": message } }),
            )
        }
    }
}

fn classify(error: &AppError) -> (StatusCode, &'static str) {
    match error {
        AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
        AppError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        AppError::UnsupportedMediaType => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
        }
        AppError::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        AppError::LeverSignature(_)
        | AppError::CallbackAuth(CallbackAuthError::Mismatch)
        | AppError::CallbackAuth(CallbackAuthError::Stale)
        | AppError::CallbackAuth(CallbackAuthError::MissingHeaders) => {
            (StatusCode::UNAUTHORIZED, "unauthorized")
        }
        AppError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
        AppError::InProgress => (StatusCode::CONFLICT, "in_progress"),
        AppError::CallbackAuth(CallbackAuthError::NotConfigured) | AppError::Misconfigured(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "tenant_misconfigured")
        }
        AppError::Lever(LeverError::Disconnected) => {
            (StatusCode::SERVICE_UNAVAILABLE, "lever_disconnected")
        }
        AppError::Store(StoreError::Unavailable(_))
        | AppError::Secrets(SecretsError::Unavailable(_))
        | AppError::Lever(LeverError::Unavailable(_))
        | AppError::Vendor(VendorError::Unavailable(_)) => {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
        AppError::Store(_) | AppError::Secrets(_) | AppError::Lever(_) | AppError::Vendor(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
    }
}

/// What the sender is told. Authentication failures say no more than that (no hint which
/// check failed); server errors stay generic; client errors explain themselves.
fn public_message(error: &AppError, status: StatusCode) -> String {
    match error {
        AppError::LeverSignature(SignatureError::Stale | SignatureError::Future) => {
            "triggeredAt is outside the accepted window".into()
        }
        AppError::LeverSignature(_) | AppError::CallbackAuth(_)
            if status == StatusCode::UNAUTHORIZED =>
        {
            "authentication failed".into()
        }
        _ if status.is_server_error() => match status {
            StatusCode::SERVICE_UNAVAILABLE => "temporarily unavailable; retry later".into(),
            _ if matches!(
                error,
                AppError::Misconfigured(_) | AppError::CallbackAuth(_)
            ) =>
            {
                "this tenant is not fully configured".into()
            }
            _ => "internal error".into(),
        },
        other => other.to_string(),
    }
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}
