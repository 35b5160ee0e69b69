//! The setup console: server-rendered pages (no JavaScript) where a tenant's Lever admin
//! connects Lever and each vendor, as the vendors' own setup screens do, without a terminal.
//! One function (`setup-console`) serves `GET|POST /console/{proxy+}`.
//!
//! - `GET /console/sign-in`: how to get in (an invitation link; there is no other way).
//! - `GET /console/invite/{token}`: an invitation, checked but not used; its form
//!   `POST`s to the same URL, which uses it and starts the session (a link scanner that
//!   only fetches the link does not spend it).
//! - `/console/tenants/{tenant}…`: the tenant's pages, for its session alone (any other
//!   tenant is 404): the overview, one page per vendor (`/vendors/{vendor}`) and the status
//!   (`/status`), and the forms they post to.
//! - `POST /console/sign-out`.
//!
//! Lever's OAuth return page (`GET /lever/oauth/callback`, [`crate::http`]) is drawn here
//! too ([`oauth_return`]), in the console's frame, with a link back to it.
//!
//! Access control is in [`session`]. Every `POST` must come from the console's own origin
//! (`Origin`, else `Referer`; 403 otherwise) and every form carries the session's CSRF token
//! (403 without it). Pages are sent with [`crate::http::security_headers`], as every
//! answer of the deployment: `no-store`, framing-denied, a referrer only to the console's
//! own origin (an invitation URL is a credential), a CSP that allows no script and forms to
//! the console alone. Errors map through [`AppError`]'s status, as HTML pages.

mod handlers;
mod pages;
pub mod session;

use crate::app::App;
use crate::clock::{now_millis, EpochMillis};
use crate::error::AppError;
use crate::ids::TenantId;
use crate::lever::LeverError;
use crate::store::StoreError;
use crate::telemetry::metrics;
use askama::Template;
use http::{header, HeaderValue, Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use pages::{Layout, Link, MessagePage};
use session::Session;

/// The cookie that holds the session.
pub const SESSION_COOKIE: &str = "console_session";

/// Why a console request was not served as asked.
#[derive(Debug)]
enum Refusal {
    /// No session (or it ended): to the sign-in page.
    NoSession,
    /// A form without its session's CSRF token. 403.
    Csrf,
    /// A post that did not come from the console's own origin. 403.
    ForeignOrigin,
    /// Too many invitation attempts from one source. 429.
    Throttled,
    /// An invitation link that is unknown, used or expired. 404.
    Invitation,
    /// What the form says cannot be used; the sentence says why. 400.
    Form(String),
    /// One field of the form cannot be used: its input's `id` and the sentence saying why.
    /// 400; the form is shown again with the sentence under that field.
    Field {
        /// The input's `id` on the page.
        field: &'static str,
        /// Why, and what to write instead.
        message: String,
    },
    /// A flow's error, with its own status.
    App(AppError),
}

impl From<AppError> for Refusal {
    fn from(error: AppError) -> Self {
        Refusal::App(error)
    }
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        Refusal::App(error.into())
    }
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Refusal::NoSession => StatusCode::SEE_OTHER,
            Refusal::Csrf | Refusal::ForeignOrigin => StatusCode::FORBIDDEN,
            Refusal::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Refusal::Invitation => StatusCode::NOT_FOUND,
            Refusal::Form(_) | Refusal::Field { .. } => StatusCode::BAD_REQUEST,
            Refusal::App(error) => error.status(),
        }
    }

    /// Whether the form's own page can show it (with the form as typed): anything but a
    /// missing session, a foreign or expired form and throttling, which say nothing about
    /// what was typed.
    fn shown_on_form(&self) -> bool {
        matches!(
            self,
            Refusal::Form(_) | Refusal::Field { .. } | Refusal::App(_)
        )
    }

    /// The input's `id`, for a refusal about one field.
    fn field(&self) -> Option<&'static str> {
        match self {
            Refusal::Field { field, .. } => Some(field),
            _ => None,
        }
    }

    /// For metrics: the error code.
    fn code(&self) -> &'static str {
        match self {
            Refusal::NoSession => "no_session",
            Refusal::Csrf => "csrf",
            Refusal::ForeignOrigin => "foreign_origin",
            Refusal::Throttled => "throttled",
            Refusal::Invitation => "invitation_refused",
            Refusal::Form(_) | Refusal::Field { .. } => "bad_request",
            Refusal::App(error) => error.code(),
        }
    }

    /// What the signed-in admin is told: client errors explain themselves; a tenant's own
    /// configuration problem names its field (it is their tenant); outages stay generic.
    fn explain(&self) -> (String, String) {
        match self {
            Refusal::NoSession => ("Sign in".into(), String::new()),
            Refusal::Csrf => (
                "Form expired".into(),
                "This form did not come from your current session. Go back, reload the page and \
                 try again."
                    .into(),
            ),
            Refusal::ForeignOrigin => (
                "Not sent from the setup console".into(),
                "This form was not sent from the setup console's own pages, so it was not \
                 used. If you meant to send it, open the console from your invitation link or \
                 its address and submit the form there."
                    .into(),
            ),
            Refusal::Throttled => (
                "Too many attempts".into(),
                "Too many invitation links were tried from here. Wait a minute, then open your \
                 link again."
                    .into(),
            ),
            Refusal::Invitation => (
                "Invitation not valid".into(),
                "This invitation link is unknown, already used or expired. Ask your operator \
                 for a new one."
                    .into(),
            ),
            Refusal::Form(sentence)
            | Refusal::Field {
                message: sentence, ..
            } => ("Check the form".into(), sentence.clone()),
            Refusal::App(error) => {
                let message = match error {
                    AppError::Misconfigured(detail) => format!("Not set up yet: {detail}."),
                    AppError::NotFound(_) => "Not found.".into(),
                    AppError::Lever(LeverError::Unauthorized { .. } | LeverError::Disconnected) => {
                        "Lever refused this integration's credential: connect Lever again.".into()
                    }
                    AppError::Lever(rejected @ LeverError::Rejected { .. }) => {
                        format!("{rejected}.")
                    }
                    AppError::BadRequest(detail) | AppError::Unprocessable(detail) => {
                        sentence(detail)
                    }
                    other => sentence(&other.public_message()),
                };
                let title = if error.status() == StatusCode::NOT_FOUND {
                    "Not found"
                } else if error.status().is_server_error() {
                    "That did not work"
                } else {
                    "Refused"
                };
                (title.into(), message)
            }
        }
    }
}

/// One request's view of the deployment.
struct Console<'a> {
    app: &'a App,
    /// The public base URL (`https://…`), for links handed out (webhooks, callbacks).
    base: &'a str,
    /// The console's path under the base: `/console`.
    root: String,
    /// Whether cookies are `Secure`: always, but for a local http base.
    secure: bool,
    /// The console's own origin (`https://host[:port]`), which every post must come from;
    /// `None` if the base URL has none (then no post is accepted).
    origin: Option<String>,
    now: EpochMillis,
}

/// Answers one console request. `base` is the deployment's public base URL.
pub async fn handle(app: &App, request: Request, base: &str) -> Response<Body> {
    let console = Console::new(app, base);
    let path = console_path(&request);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let method = request.method().clone();
    let takes_posts = matches!(
        segments.as_slice(),
        ["invite", _] | ["sign-out"] | ["tenants", ..]
    );
    if method == Method::POST
        && takes_posts
        && !from_own_origin(&request, console.origin.as_deref())
    {
        tracing::warn!("console form posted from another origin, or from none");
        return console.refusal(Refusal::ForeignOrigin, None);
    }
    let result = match (&method, segments.as_slice()) {
        (&Method::GET, ["sign-in"]) => console.sign_in_or_signed_in(&request).await,
        (&Method::GET, ["assets", "local-time.js"]) => Ok(local_time_script()),
        (&Method::GET, ["invite", token]) => console.invitation(&request, token, false).await,
        (&Method::POST, ["invite", token]) => console.invitation(&request, token, true).await,
        (&Method::POST, ["sign-out"]) => console.sign_out(&request).await,
        (_, ["tenants", tenant, rest @ ..]) => {
            return handlers::tenant(&console, &request, tenant, rest).await;
        }
        (_, ["sign-in"]) => Err(AppError::MethodNotAllowed { allowed: "GET" }.into()),
        (_, ["sign-out"]) => Err(AppError::MethodNotAllowed { allowed: "POST" }.into()),
        (_, ["invite", _]) => Err(AppError::MethodNotAllowed {
            allowed: "GET, POST",
        }
        .into()),
        _ => Err(AppError::NotFound("page").into()),
    };
    match result {
        Ok(response) => response,
        Err(refusal) => console.refusal(refusal, None),
    }
}

/// The console's one script (see `core/assets/console/local-time.js`), served from the
/// console's own path so the pages' `script-src 'self'` allows it and nothing inline.
fn local_time_script() -> Response<Body> {
    const SCRIPT: &str = include_str!("../../assets/console/local-time.js");
    let mut response = Response::new(Body::from(SCRIPT));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    response
}

/// What Lever's OAuth redirect came to: the page's status, heading and sentence, and the
/// tenant connected (its overview is the way back), if any.
pub struct OAuthReturn {
    /// The page's status.
    pub status: StatusCode,
    /// Its heading (and title).
    pub heading: &'static str,
    /// What happened, for the Super Admin.
    pub message: String,
    /// The tenant connected.
    pub tenant: Option<TenantId>,
}

/// Lever's OAuth return page, in the console's frame, linking back to the console: the
/// tenant's overview when one was connected, else the sign-in page (which leads a signed-in
/// admin on to their overview). `base` is the deployment's public base URL.
pub fn oauth_return(app: &App, base: &str, page: OAuthReturn) -> Response<Body> {
    let console = Console::new(app, base);
    let href = match &page.tenant {
        Some(tenant) => format!("{}/tenants/{tenant}", console.root),
        None => format!("{}/sign-in", console.root),
    };
    let shown = MessagePage {
        layout: console.layout(page.heading, None),
        heading: page.heading.to_owned(),
        paragraphs: vec![page.message],
        link: Some(Link {
            href,
            text: "Back to the setup console".into(),
        }),
    };
    console.page(page.status, &shown)
}

/// `text` as a sentence: capitalised, ending in a full stop (flows' messages are clauses).
fn sentence(text: &str) -> String {
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// The path below `/console/`: API Gateway's `{proxy+}`, else the request's own path.
fn console_path(request: &Request) -> String {
    if let Some(proxy) = request
        .path_parameters_ref()
        .and_then(|params| params.first("proxy"))
    {
        return proxy.to_owned();
    }
    let path = request.uri().path();
    path.split_once("/console/")
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_default()
}

impl<'a> Console<'a> {
    fn new(app: &'a App, base: &'a str) -> Self {
        let base_path = reqwest::Url::parse(base)
            .map(|url| url.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Console {
            app,
            base: base.trim_end_matches('/'),
            root: format!("{base_path}/console"),
            secure: !is_local_http(base),
            origin: origin_of(base),
            now: now_millis(),
        }
    }

    /// The page for a refusal (or the redirect to sign in), logged and counted.
    fn refusal(&self, refusal: Refusal, back: Option<Link>) -> Response<Body> {
        self.refusal_in(refusal, back, None)
    }

    /// [`Console::refusal`] in `frame`: the signed-in tenant's, with its navigation, when
    /// there is one.
    fn refusal_in(
        &self,
        refusal: Refusal,
        back: Option<Link>,
        frame: Option<Layout>,
    ) -> Response<Body> {
        self.log_refusal(&refusal);
        if let Refusal::NoSession = refusal {
            return self.redirect(&format!("{}/sign-in", self.root));
        }
        let status = refusal.status();
        let (heading, message) = refusal.explain();
        let link = back.unwrap_or_else(|| Link {
            href: format!("{}/sign-in", self.root),
            text: "Signing in".into(),
        });
        let layout = match frame {
            Some(mut frame) => {
                frame.title.clone_from(&heading);
                frame
            }
            None => self.layout(&heading, None),
        };
        let page = MessagePage {
            layout,
            heading,
            paragraphs: vec![message],
            link: Some(link),
        };
        let mut response = self.page(status, &page);
        match &refusal {
            Refusal::App(error) => error.add_allow(response.headers_mut()),
            Refusal::Throttled => {
                let wait = session::invitation_retry_after_secs(self.now);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            }
            _ => {}
        }
        response
    }

    /// Logs and counts a refusal: an outage as an error, anything else as a warning.
    fn log_refusal(&self, refusal: &Refusal) {
        let status = refusal.status();
        metrics::console_refused(refusal.code());
        match refusal {
            Refusal::NoSession => {}
            Refusal::App(error) if status.is_server_error() => {
                tracing::error!(status = status.as_u16(), code = error.code(), %error, "console request failed");
            }
            Refusal::App(error) => {
                tracing::warn!(status = status.as_u16(), code = error.code(), %error, "console request refused");
            }
            other => {
                tracing::warn!(
                    status = status.as_u16(),
                    code = other.code(),
                    "console request refused"
                );
            }
        }
    }

    /// The frame of a signed-out page.
    fn layout(&self, title: &str, notice: Option<String>) -> Layout {
        Layout {
            title: title.to_owned(),
            root: self.root.clone(),
            tenant: None,
            csrf: None,
            nav: Vec::new(),
            notice,
            problem: None,
        }
    }

    /// The sign-in page, or, for a browser already signed in, its tenant's overview.
    async fn sign_in_or_signed_in(&self, request: &Request) -> Result<Response<Body>, Refusal> {
        Ok(match self.session(request).await? {
            Some(session) => self.redirect(&format!("{}/tenants/{}", self.root, session.tenant)),
            None => self.sign_in_page(None),
        })
    }

    fn sign_in_page(&self, notice: Option<String>) -> Response<Body> {
        let page = MessagePage {
            layout: self.layout("Sign in", notice),
            heading: "Sign in with your invitation link".into(),
            paragraphs: vec![
                "The setup console is opened with an invitation link, which your operator \
                 prints for your Lever account (lever-screening-admin console invite). Each \
                 link works once, within a day."
                    .into(),
                "Open the link you were sent. If it has expired or was already used, ask for a \
                 new one."
                    .into(),
            ],
            link: None,
        };
        self.page(StatusCode::OK, &page)
    }

    /// `GET` shows an open invitation; `POST` uses it and starts the session. Both count
    /// against the source's attempts.
    async fn invitation(
        &self,
        request: &Request,
        token: &str,
        sign_in: bool,
    ) -> Result<Response<Body>, Refusal> {
        let store = self.app.store().as_ref();
        if !session::take_invitation_attempt(store, &source(request), self.now).await? {
            tracing::warn!("console invitation attempts throttled");
            metrics::console_sign_in("throttled");
            return Err(Refusal::Throttled);
        }
        if !sign_in {
            if !session::invitation_is_open(store, token, self.now).await? {
                tracing::warn!(
                    step = "view",
                    "console invitation refused: unknown, used or expired"
                );
                metrics::console_sign_in("refused");
                return Err(Refusal::Invitation);
            }
            let page = pages::InvitePage {
                layout: self.layout("Sign in", None),
                action: format!("{}/invite/{token}", self.root),
                session_hours: session::SESSION_TTL_MS / 3_600_000,
            };
            return Ok(self.page(StatusCode::OK, &page));
        }
        let Some(session) = session::redeem(store, token, self.now).await? else {
            tracing::warn!(
                step = "sign_in",
                "console invitation refused: unknown, used or expired"
            );
            metrics::console_sign_in("refused");
            return Err(Refusal::Invitation);
        };
        metrics::console_sign_in("signed_in");
        let mut response = self.redirect(&format!("{}/tenants/{}", self.root, session.tenant));
        self.set_cookie(
            &mut response,
            &session.cookie_value(),
            session::SESSION_TTL_MS / 1000,
        );
        Ok(response)
    }

    async fn sign_out(&self, request: &Request) -> Result<Response<Body>, Refusal> {
        let form = self.form(request)?;
        let session = self.session(request).await?.ok_or(Refusal::NoSession)?;
        if !session.csrf_matches(form.get("csrf")) {
            return Err(Refusal::Csrf);
        }
        session.end(self.app.store().as_ref(), self.now).await?;
        let mut response = self.sign_in_page(Some("You are signed out.".into()));
        self.set_cookie(&mut response, "", 0);
        Ok(response)
    }

    /// The request's session, if its cookie names one that is open.
    async fn session(&self, request: &Request) -> Result<Option<Session>, StoreError> {
        let Some(value) = cookie(request, SESSION_COOKIE) else {
            return Ok(None);
        };
        Session::from_cookie(self.app.store().as_ref(), &value, self.now).await
    }

    /// A form post's fields: `application/x-www-form-urlencoded`, within the body limit.
    fn form(&self, request: &Request) -> Result<Form, Refusal> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        if content_type.as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(AppError::UnsupportedMediaType {
                expected: "application/x-www-form-urlencoded (a form)",
            }
            .into());
        }
        let body: &[u8] = request.body().as_ref();
        let limit = self.app.settings.max_body_bytes;
        if body.len() > limit {
            return Err(AppError::PayloadTooLarge { limit }.into());
        }
        Ok(Form(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }

    fn page(&self, status: StatusCode, page: &impl Template) -> Response<Body> {
        let (status, html) = match page.render() {
            Ok(html) => (status, html),
            Err(error) => {
                tracing::error!(%error, "console page could not be rendered");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><title>Error</title><p>internal error</p>".to_owned(),
                )
            }
        };
        let mut response = Response::new(Body::Text(html));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        response
    }

    fn redirect(&self, location: &str) -> Response<Body> {
        let mut response = Response::new(Body::Empty);
        *response.status_mut() = StatusCode::SEE_OTHER;
        if let Ok(value) = HeaderValue::from_str(location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    }

    /// Sets (or, with `max_age` 0, clears) the session cookie: HttpOnly, SameSite=Strict,
    /// Secure but for a local http base, scoped to the console's path.
    fn set_cookie(&self, response: &mut Response<Body>, value: &str, max_age: i64) {
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{SESSION_COOKIE}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}",
            self.root
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

/// A posted form's fields, in order.
struct Form(Vec<(String, String)>);

impl Form {
    /// The first value of `name`, if given.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value of `name`, trimmed; `None` when absent or blank.
    fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Whether a post comes from this console's own pages. Every current browser sends `Origin`
/// with a form `POST` (Chrome, Edge, Firefox, Safari), same-origin ones included, once the
/// page's referrer policy lets it (`same-origin` does; `no-referrer` would make it `null`):
/// it must be the console's own origin. Without `Origin` (an older browser), `Referer` must
/// be a page of that origin. A post with neither came from no console page (a script, a
/// privacy proxy that strips both) and is refused: the cost is a browser that strips both
/// cannot sign in, the gain is that no other site can sign a visitor in to a session of its
/// choosing (login CSRF) or post a form with a stolen token. `Sec-Fetch-Site`, where a
/// browser sends it, must agree, but its absence proves nothing (older Safari and Firefox).
fn from_own_origin(request: &Request, own: Option<&str>) -> bool {
    let Some(own) = own else {
        return false;
    };
    let header = |name: header::HeaderName| {
        request
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or_default())
    };
    let fetch_site_agrees = header(header::HeaderName::from_static("sec-fetch-site"))
        .is_none_or(|site| site.eq_ignore_ascii_case("same-origin"));
    let sender = header(header::ORIGIN).or_else(|| header(header::REFERER));
    fetch_site_agrees && sender.and_then(origin_of).as_deref() == Some(own)
}

/// The origin (`scheme://host[:port]`, default port omitted) of a URL; `None` for `null`,
/// what is no URL, and URLs without one (`data:`, `file:`).
fn origin_of(url: &str) -> Option<String> {
    let origin = reqwest::Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// `http://localhost…` or `http://127.0.0.1…`: a developer's machine, where a `Secure`
/// cookie would never be sent back.
fn is_local_http(base: &str) -> bool {
    let Some(rest) = base.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    host == "localhost" || host == "127.0.0.1"
}

/// The value of cookie `name`.
fn cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// Who is asking, for the invitation attempt budget: the source address API Gateway saw
/// (not a header the client controls); `local` without API Gateway.
fn source(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .http
            .source_ip
            .clone()
            .unwrap_or_else(|| "unknown".into()),
        _ => "local".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_local_http_base_drops_the_secure_flag() {
        assert!(is_local_http("http://127.0.0.1:3000"));
        assert!(is_local_http("http://localhost/"));
        assert!(!is_local_http("https://127.0.0.1:3000"));
        assert!(!is_local_http("http://localhost.example.com"));
        assert!(!is_local_http("http://192.0.2.1"));
        assert!(!is_local_http(
            "https://abc.execute-api.us-east-1.amazonaws.com"
        ));
    }

    #[test]
    fn a_post_must_name_the_consoles_own_origin() {
        let own = origin_of("https://screening.example.com/prod");
        assert_eq!(own.as_deref(), Some("https://screening.example.com"));
        let post = |headers: &[(&str, &str)]| {
            let mut request = http::Request::builder().method("POST");
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            from_own_origin(&request.body(Body::Empty).unwrap(), own.as_deref())
        };
        assert!(post(&[("origin", "https://screening.example.com")]));
        assert!(post(&[("origin", "https://SCREENING.example.com:443")]));
        assert!(post(&[(
            "referer",
            "https://screening.example.com/prod/console/invite/x"
        )]));
        assert!(post(&[
            ("origin", "https://screening.example.com"),
            ("sec-fetch-site", "same-origin")
        ]));
        for refused in [
            &[][..],
            &[("origin", "null")],
            &[("origin", "https://evil.example")],
            &[("origin", "http://screening.example.com")],
            &[("origin", "https://screening.example.com:8443")],
            &[("origin", "https://screening.example.com.evil.example")],
            &[(
                "referer",
                "https://evil.example/https://screening.example.com",
            )],
            // Origin decides; a Referer cannot vouch for a foreign Origin.
            &[
                ("origin", "https://evil.example"),
                ("referer", "https://screening.example.com/prod/console/x"),
            ],
            &[
                ("origin", "https://screening.example.com"),
                ("sec-fetch-site", "cross-site"),
            ],
        ] {
            assert!(!post(refused), "{refused:?}");
        }
        assert!(
            !from_own_origin(
                &http::Request::builder()
                    .header("origin", "null")
                    .body(Body::Empty)
                    .unwrap(),
                origin_of("null").as_deref()
            ),
            "a base URL without an origin accepts no post"
        );
    }

    #[test]
    fn a_cookie_is_found_among_others() {
        let request = http::Request::builder()
            .header("cookie", "a=1; console_session=acme.xyz; b=2")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(
            cookie(&request, SESSION_COOKIE).as_deref(),
            Some("acme.xyz")
        );
        assert_eq!(cookie(&request, "c"), None);
    }
}
