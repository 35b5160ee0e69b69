//! Every function on its API Gateway path, in one axum server, and the worker as a task.
//! Requests are turned into the very `lambda_http::Request` API Gateway would hand the
//! Lambda (with the path parameters set), and the library's handlers answer them; the
//! worker task receives from the work queue and settles messages as Lambda's event source
//! mapping does. The same code paths as in AWS.

use axum::body::{to_bytes, Body};
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use lambda_http::RequestExt;
use lever_screening::clock::Deadline;
use lever_screening::http::{self as handlers, Route};
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::vendors::VendorId;
use lever_screening::App;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// API Gateway's payload limit; the handlers apply their own, smaller one.
const GATEWAY_BODY_LIMIT: usize = 10 * 1024 * 1024;
/// The worker's Lambda timeout, which bounds each batch.
const WORKER_TIMEOUT: Duration = Duration::from_secs(60);

/// Which [`App`] answers each function: one for all (the embedded stack), or one per
/// function, each with its own AWS identity (the IAM drill), keyed by the function's binary
/// name (`template.yaml`'s `BuildProperties.Binary`).
#[derive(Clone)]
pub struct Apps {
    all: Arc<App>,
    by_function: HashMap<String, Arc<App>>,
}

impl Apps {
    /// Every function served by `app`.
    pub fn one(app: Arc<App>) -> Self {
        Apps {
            all: app,
            by_function: HashMap::new(),
        }
    }

    /// Each function in `by_function` served by its own app; the others by `all`.
    pub fn per_function(all: Arc<App>, by_function: HashMap<String, Arc<App>>) -> Self {
        Apps { all, by_function }
    }

    /// The app of function `binary`.
    pub fn function(&self, binary: &str) -> &Arc<App> {
        self.by_function.get(binary).unwrap_or(&self.all)
    }

    fn route(&self, route: Route) -> &Arc<App> {
        self.function(&function_of(route))
    }
}

/// Every function's binary name, as `template.yaml` builds them.
pub fn functions() -> Vec<String> {
    let mut all: Vec<String> = WebhookKind::ALL
        .into_iter()
        .map(|kind| function_of(Route::LeverWebhook(kind)))
        .chain(
            VendorId::ALL
                .iter()
                .map(|vendor| function_of(Route::VendorCallback(*vendor))),
        )
        .collect();
    all.extend(
        [
            function_of(Route::LeverOAuthCallback),
            function_of(Route::Console),
        ]
        .into_iter()
        .chain(
            [WORKER, RECONCILE_ORDERS, CHECK_WEBHOOKS, LEVER_SAFETY_NET]
                .into_iter()
                .map(String::from),
        ),
    );
    all
}

/// The worker's binary (it also runs the console's and operator's worker actions locally).
pub const WORKER: &str = "screening-worker";
/// The hourly reconciliation's binary.
pub const RECONCILE_ORDERS: &str = "reconcile-orders";
/// The hourly webhook check's binary.
pub const CHECK_WEBHOOKS: &str = "check-webhooks";
/// The hourly safety net's binary (stage entries and archives no webhook delivered).
pub const LEVER_SAFETY_NET: &str = "lever-safety-net";

/// The binary that answers `route` in AWS: one per webhook type, one per vendor's callbacks,
/// the OAuth redirect and the console.
pub fn function_of(route: Route) -> String {
    match route {
        Route::LeverWebhook(kind) => format!("lever-{}", kind.path()),
        Route::VendorCallback(vendor) => format!("{vendor}-callback"),
        Route::LeverOAuthCallback => "lever-oauth-callback".into(),
        Route::Console => "setup-console".into(),
    }
}

/// The functions' routes (the setup console's included), plus `GET /_local/dead-letters`
/// to inspect the dead-letter queue.
pub fn router(app: Arc<App>) -> Router {
    router_for(Apps::one(app))
}

/// [`router`], each route answered by its function's app.
pub fn router_for(apps: Apps) -> Router {
    Router::new()
        .route("/lever/oauth/callback", any(lever_oauth_callback))
        .route("/lever/{tenant}/{kind}", any(lever_webhook))
        .route("/callbacks/{vendor}/{tenant}", any(vendor_callback))
        .route(
            "/callbacks/{vendor}/{tenant}/{secret}",
            any(vendor_callback),
        )
        .route("/console/{*proxy}", any(console))
        .route("/_local/dead-letters", get(dead_letters))
        // API Gateway answers an unknown route itself; here, like the functions, in JSON.
        .fallback(|| async { not_found() })
        .with_state(apps)
}

/// The worker, as a task: receives batches from the work queue until aborted.
pub fn spawn_worker(app: Arc<App>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let worker = app.worker(Deadline::after(WORKER_TIMEOUT));
            if let Err(error) = worker
                .poll(app.queue().as_ref(), 10, Duration::from_millis(200))
                .await
            {
                tracing::error!(%error, "the local worker could not read the queue");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    })
}

/// `/lever/{tenant}/{kind}`: one route per webhook type in API Gateway.
async fn lever_webhook(
    State(apps): State<Apps>,
    Path((tenant, kind)): Path<(String, String)>,
    request: Request,
) -> Response {
    let Some(kind) = WebhookKind::ALL.into_iter().find(|k| k.path() == kind) else {
        return not_found();
    };
    answer(
        &apps,
        Route::LeverWebhook(kind),
        request,
        &[("tenant", tenant)],
    )
    .await
}

/// `/callbacks/{vendor}/{tenant}` and, for vendors with unsigned callbacks (Sterling),
/// `/callbacks/{vendor}/{tenant}/{secret}`.
async fn vendor_callback(
    State(apps): State<Apps>,
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
    answer(&apps, Route::VendorCallback(vendor), request, &forwarded).await
}

/// `/console/{proxy+}`: the setup console's pages.
async fn console(
    State(apps): State<Apps>,
    Path(proxy): Path<String>,
    request: Request,
) -> Response {
    answer(&apps, Route::Console, request, &[("proxy", proxy)]).await
}

async fn lever_oauth_callback(State(apps): State<Apps>, request: Request) -> Response {
    answer(&apps, Route::LeverOAuthCallback, request, &[]).await
}

async fn answer(
    apps: &Apps,
    route: Route,
    request: Request,
    path_parameters: &[(&str, String)],
) -> Response {
    match to_lambda(request, path_parameters).await {
        Ok(request) => from_lambda(handlers::handle(apps.route(route), route, request).await),
        Err(response) => response,
    }
}

async fn dead_letters(State(apps): State<Apps>) -> Response {
    match apps
        .function(&function_of(Route::Console))
        .queue()
        .dead_letters(100)
        .await
    {
        Ok(letters) => Json(letters).into_response(),
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
