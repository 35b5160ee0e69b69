//! API Gateway in, JSON out. Every HTTP function's `main` hands its request to [`handle`]
//! with its [`Route`], and the local server does the same, so both run identical code.
//! Errors become statuses through [`AppError`]'s own mapping.

use crate::app::App;
use crate::error::AppError;
use crate::flows::{lever_webhook, oauth, vendor_callback, Ack};
use crate::ids::TenantId;
use crate::lever::webhook::WebhookKind;
use crate::telemetry::metrics;
use crate::vendors::{self, Module, VendorId, Vendors};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;

/// The HTTP routes, one per function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /lever/{tenant}/{kind}`.
    LeverWebhook(WebhookKind),
    /// `POST /callbacks/{vendor}/{tenant}` (and `…/{secret}` for unsigned callbacks).
    VendorCallback(VendorId),
    /// `GET /lever/oauth/callback`.
    LeverOAuthCallback,
    /// `GET|POST /console/{proxy+}`: the setup console's HTML pages ([`crate::console`]).
    Console,
}

/// What one HTTP function answers. Each function's `main` names its own endpoint type, so
/// the binary holds that endpoint's code and not every route's (the console's pages, the
/// OAuth exchange); [`Route`] answers any of them, for the local server.
pub trait Endpoint: Copy + Send + Sync + 'static {
    /// The vendors its app holds: adapters only where the endpoint speaks to a vendor or
    /// reads its callbacks, so a function that does not links no vendor's wire code.
    fn vendors(self) -> Vendors;

    /// Answers one request (without the [`security_headers`], which [`Endpoint::serve`] adds).
    fn answer(
        self,
        app: &App,
        request: Request,
    ) -> impl std::future::Future<Output = Response<Body>> + Send;

    /// Answers one request as it is sent back: with the [`security_headers`], whatever the
    /// route and the answer. The Lambda functions and the local server serve through this.
    fn serve(
        self,
        app: &App,
        request: Request,
    ) -> impl std::future::Future<Output = Response<Body>> + Send {
        async move {
            let mut response = self.answer(app, request).await;
            security_headers(&mut response);
            response
        }
    }
}

/// The headers every answer carries, HTML pages (the console, the OAuth return page) and
/// JSON alike, since any of them may be opened in a browser: never stored (URLs and pages
/// carry invitation links, OAuth codes and states, CSRF tokens), never framed, never
/// sniffed as another type, a referrer to the deployment's own origin only (`same-origin`,
/// not `no-referrer`: with `no-referrer` a browser sends `Origin: null` on a form post, and
/// the console checks a post's `Origin`), no script but the deployment's own file (the
/// console's local-time script), forms posted to the deployment alone.
pub fn security_headers(response: &mut Response<Body>) {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// [`security_headers`]' names and values, so an outside check (the operator's `smoke`)
/// expects exactly what the product sends.
pub const SECURITY_HEADERS: [(header::HeaderName, &str); 5] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; script-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
];

/// `POST /lever/{tenant}/{kind}`: one Lever webhook type's intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeverWebhook(pub WebhookKind);

/// `POST /callbacks/{vendor}/{tenant}[/{secret}]`: one vendor's callbacks, named by the
/// vendor's [`Module`] (`vendors::checkr::MODULE`), so the function links that vendor's
/// callback reader and no other vendor's.
#[derive(Clone, Copy)]
pub struct VendorCallback(pub &'static Module);

/// `GET /lever/oauth/callback`: Lever's OAuth redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeverOAuthCallback;

/// `GET|POST /console/{proxy+}`: the setup console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Console;

impl Endpoint for LeverWebhook {
    fn vendors(self) -> Vendors {
        Vendors::described()
    }

    async fn answer(self, app: &App, request: Request) -> Response<Body> {
        let LeverWebhook(kind) = self;
        metrics::webhook_received(kind.event_name());
        let result = match accept(app, &request) {
            Ok(accepted) => {
                let base = public_base_url(app, &request);
                lever_webhook::handle(&app.intake(), kind, &accepted.tenant, accepted.body, &base)
                    .await
            }
            Err(e) => {
                metrics::webhook_rejected(e.code());
                Err(e)
            }
        };
        respond(result)
    }
}

impl Endpoint for VendorCallback {
    fn vendors(self) -> Vendors {
        Vendors::described().with_module(self.0)
    }

    async fn answer(self, app: &App, request: Request) -> Response<Body> {
        let vendor = self.0.description.id;
        let result = match accept(app, &request) {
            Ok(accepted) => {
                let callback = vendor_callback::Callback {
                    headers: request.headers(),
                    body: accepted.body,
                    url_secret: request
                        .path_parameters_ref()
                        .and_then(|params| params.first("secret")),
                };
                vendor_callback::handle(&app.intake(), vendor, &accepted.tenant, &callback).await
            }
            Err(e) => {
                metrics::callback(vendor, e.code());
                Err(e)
            }
        };
        respond(result)
    }
}

impl Endpoint for LeverOAuthCallback {
    fn vendors(self) -> Vendors {
        Vendors::described()
    }

    async fn answer(self, app: &App, request: Request) -> Response<Body> {
        lever_oauth_callback(app, request).await
    }
}

impl Endpoint for Console {
    /// The console checks a vendor's credentials with the vendor as they are typed.
    fn vendors(self) -> Vendors {
        Vendors::standard()
    }

    async fn answer(self, app: &App, request: Request) -> Response<Body> {
        let base = public_base_url(app, &request);
        crate::console::handle(app, request, &base).await
    }
}

impl Endpoint for Route {
    /// Any route: the local server holds every vendor.
    fn vendors(self) -> Vendors {
        Vendors::standard()
    }

    async fn answer(self, app: &App, request: Request) -> Response<Body> {
        answer(app, self, request).await
    }
}

/// Answers one request on `route`, as its function does ([`Endpoint::serve`]).
pub async fn handle(app: &App, route: Route, request: Request) -> Response<Body> {
    route.serve(app, request).await
}

/// The answer of `route`'s endpoint, before the [`security_headers`].
async fn answer(app: &App, route: Route, request: Request) -> Response<Body> {
    match route {
        Route::LeverWebhook(kind) => LeverWebhook(kind).answer(app, request).await,
        Route::VendorCallback(vendor) => {
            VendorCallback(vendors::module(vendor))
                .answer(app, request)
                .await
        }
        Route::LeverOAuthCallback => LeverOAuthCallback.answer(app, request).await,
        Route::Console => Console.answer(app, request).await,
    }
}

/// Lever's OAuth redirect, where the tenant's Super Admin lands after accepting (or
/// declining) the app. A person reads the answer: a page in the console's frame that links
/// back to it.
async fn lever_oauth_callback(app: &App, request: Request) -> Response<Body> {
    if request.method() != Method::GET {
        return respond(Err(AppError::MethodNotAllowed { allowed: "GET" }));
    }
    let query = request.query_string_parameters();
    let redirect = oauth::Redirect {
        code: query.first("code"),
        state: query.first("state"),
        error: query.first("error"),
    };
    let result = match app.oauth_apps().await {
        Ok(oauth_apps) => {
            oauth::complete(
                app.store().as_ref(),
                app.store().as_ref(),
                app.secrets(),
                &oauth_apps,
                app.http(),
                &app.settings.retry,
                redirect,
            )
            .await
        }
        Err(e) => Err(e),
    };
    let base = public_base_url(app, &request);
    let page = match result {
        Ok(connected) => {
            app.tenants().invalidate(&connected.tenant);
            crate::console::OAuthReturn {
                status: StatusCode::OK,
                heading: "Lever connected",
                message: format!("Lever is connected for tenant {}.", connected.tenant),
                tenant: Some(connected.tenant),
            }
        }
        Err(error) => {
            tracing::warn!(status = error.status().as_u16(), code = error.code(), %error,
                "OAuth callback refused");
            crate::console::OAuthReturn {
                status: error.status(),
                heading: "Lever not connected",
                message: error.public_message(),
                tenant: None,
            }
        }
    };
    crate::console::oauth_return(app, &base, page)
}

/// What every POST route checks before any flow runs.
struct Accepted<'a> {
    tenant: TenantId,
    body: &'a [u8],
}

fn accept<'a>(app: &App, request: &'a Request) -> Result<Accepted<'a>, AppError> {
    if request.method() != Method::POST {
        return Err(AppError::MethodNotAllowed { allowed: "POST" });
    }
    if !is_json(request.headers()) {
        return Err(AppError::UnsupportedMediaType {
            expected: "application/json",
        });
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
    // An id no tenant can have is no tenant.
    let tenant = TenantId::parse(tenant).map_err(|_| AppError::NotFound("tenant"))?;
    Ok(Accepted { tenant, body })
}

/// `application/json`, with or without parameters. API Gateway joins repeated headers with
/// commas, so a list of types is JSON when every member is (`application/json,application/json`)
/// and not when any is another type. Lever's docs show the value in quotes, so those are
/// tolerated too.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(values) = headers
        .get_all(header::CONTENT_TYPE)
        .iter()
        .map(|value| value.to_str().ok())
        .collect::<Option<Vec<_>>>()
    else {
        return false;
    };
    let mut members = values
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|member| !member.is_empty())
        .peekable();
    members.peek().is_some()
        && members.all(|member| {
            let essence = member
                .trim_matches('"')
                .split(';')
                .next()
                .unwrap_or_default();
            essence.trim().eq_ignore_ascii_case("application/json")
        })
}

/// Where this deployment is reachable, for the callback URLs handed to vendors: the
/// configured base (a custom domain), else the domain API Gateway says the request came to
/// (not a header the sender controls); without API Gateway (the local server), the `Host`.
fn public_base_url(app: &App, request: &Request) -> String {
    if let Some(base) = &app.settings.public_base_url {
        return base.clone();
    }
    let domain = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.domain_name.clone(),
        _ => None,
    };
    if let Some(domain) = domain {
        return format!("https://{domain}");
    }
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let proto = header("x-forwarded-proto").unwrap_or("https");
    let host = header(header::HOST.as_str()).unwrap_or("localhost");
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
            let status = error.status();
            let code = error.code();
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), code, %error, "request failed");
            } else {
                tracing::warn!(status = status.as_u16(), code, %error, "request refused");
            }
            let mut response = json_response(
                status,
                &json!({ "error": { "code": code, "message": error.public_message() } }),
            );
            error.add_allow(response.headers_mut());
            response
        }
    }
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content_types(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::CONTENT_TYPE, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn json_is_json_however_api_gateway_joined_the_headers() {
        for json in [
            &["application/json"][..],
            &["Application/JSON; charset=utf-8"],
            &["\"application/json\""],
            &["application/json,application/json"],
            &["application/json, application/json; charset=utf-8"],
            &["application/json; charset=utf-8,application/json"],
            &["application/json", "application/json"],
        ] {
            assert!(is_json(&content_types(json)), "{json:?}");
        }
    }

    #[test]
    fn a_list_with_another_type_or_none_is_not_json() {
        for other in [
            &[][..],
            &[""],
            &[","],
            &["text/plain"],
            &["application/json,text/plain"],
            &["text/plain, application/json"],
            &["application/json", "text/plain"],
            &["application/jsonx"],
            &["application/json-patch+json"],
        ] {
            assert!(!is_json(&content_types(other)), "{other:?}");
        }
    }
}
