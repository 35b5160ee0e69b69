//! The setup console over HTTP, as a browser drives it (forms, a cookie, redirects): who
//! gets in and what they may touch, then a tenant's Lever admin going from an invitation
//! link to a first order without a terminal. `browser` does the same in headless Chromium.

mod browser;

use crate::support::{assert_security_headers, start, tenant, Harness};
use lever_screening::clock::now_millis;
use lever_screening::console::session::{self, INVITATION_ATTEMPTS_PER_MINUTE};
use lever_screening::store::TenantStore;
use lever_screening::tenant::TenantConfig;
use lever_screening_local::demo_tenant as demo;
use std::time::Instant;

/// A browser's view of the console: one cookie, redirects shown rather than followed.
pub struct Visitor {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

/// An answer: status, `Location`, `Set-Cookie`, `Retry-After` and the page.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub retry_after: Option<String>,
    pub page: String,
}

impl Visitor {
    pub fn new(h: &Harness) -> Self {
        Visitor {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: h.stack.functions_url.clone(),
            cookie: None,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (location, set_cookie) = (header("location"), header("set-cookie"));
        let retry_after = header("retry-after");
        if let Some(set) = &set_cookie {
            let pair = set.split(';').next().unwrap().to_owned();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        let status = response.status().as_u16();
        if status != 303 {
            assert_eq!(
                header("content-type").as_deref(),
                Some("text/html; charset=utf-8")
            );
        }
        assert_security_headers(response.headers(), "a console page");
        Answer {
            status,
            location,
            set_cookie,
            retry_after,
            page: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self.http.get(self.url(path));
        self.send(request).await
    }

    /// Posts a form from one of the console's pages: with the console's `Origin`, as every
    /// current browser sends it.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let request = self
            .http
            .post(self.url(path))
            .header("origin", &self.base)
            .form(fields);
        self.send(request).await
    }

    /// Posts a form with the CSRF token of the page at `page`, as submitting it there does.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Answer {
        let csrf = csrf_of(&self.get(page).await.page);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Opens an invitation link and signs in; the overview's path.
    pub async fn sign_in(&mut self, link: &str) -> String {
        let shown = self.get(link).await;
        assert_eq!(shown.status, 200, "{}", shown.page);
        assert!(
            shown.page.contains("Sign in to the setup console"),
            "{}",
            shown.page
        );
        let signed_in = self.post(link, &[]).await;
        assert_eq!(signed_in.status, 303, "{}", signed_in.page);
        signed_in.location.unwrap()
    }
}

/// The `csrf` hidden field of a page.
pub fn csrf_of(page: &str) -> String {
    let start = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF token")
        + 19;
    page[start..].split('"').next().unwrap().to_owned()
}

/// The `href` of the link whose text is `text`, unescaped (askama writes `&` as `&#38;`).
pub fn link_to(page: &str, text: &str) -> String {
    let end = page
        .find(&format!("\">{text}</a>"))
        .unwrap_or_else(|| panic!("a link {text:?} in {page}"));
    let start = page[..end].rfind("href=\"").unwrap() + 6;
    page[start..end].replace("&#38;", "&")
}

/// A single-use invitation to `tenant_id`'s console, as `admin console invite` prints it.
pub async fn invitation(h: &Harness, tenant_id: &str) -> String {
    session::invite(
        h.store.as_ref(),
        h.store.as_ref(),
        &tenant(tenant_id),
        &h.stack.functions_url,
        now_millis(),
    )
    .await
    .unwrap()
    .link
}

/// A tenant the operator created with its configuration alone (on the demo tenant's Lever
/// account, no integration, no secret): everything else is done in the console.
pub async fn new_tenant(h: &Harness, tenant_id: &str) {
    h.store
        .put_tenant(&TenantConfig {
            tenant_id: tenant(tenant_id),
            lever_api_base: format!("{}/v1", h.stack.lever_url),
            vendors: Default::default(),
            phone_region: None,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn without_a_session_every_page_redirects_to_sign_in_with_an_invitation_link() {
    let h = start().await;
    let mut visitor = Visitor::new(&h);
    for path in [
        "/console/tenants/demo",
        "/console/tenants/demo/vendors/xref",
        "/console/tenants/demo/status",
    ] {
        let answer = visitor.get(path).await;
        assert_eq!(answer.status, 303, "{path}");
        assert_eq!(
            answer.location.as_deref(),
            Some("/console/sign-in"),
            "{path}"
        );
    }
    // A form posted without a session does nothing either.
    let before = h.tenant_config(demo::TENANT).await;
    let answer = visitor
        .post(
            "/console/tenants/demo/vendors/xref/settings",
            &[("csrf", "x"), ("api_base", "https://evil.example")],
        )
        .await;
    assert_eq!(answer.status, 303);
    assert_eq!(h.tenant_config(demo::TENANT).await, before);
    // A made-up session cookie is no session.
    visitor.cookie = Some(format!("console_session=demo.{}", "a".repeat(64)));
    assert_eq!(visitor.get("/console/tenants/demo").await.status, 303);

    let sign_in = visitor.get("/console/sign-in").await;
    assert_eq!(sign_in.status, 200);
    assert!(
        sign_in.page.contains("Sign in with your invitation link"),
        "{}",
        sign_in.page
    );
    // No inline script: the one script is the console's own file (times in local time).
    assert_eq!(
        sign_in.page.matches("<script").count(),
        sign_in
            .page
            .matches(r#"<script src="/console/assets/local-time.js" defer></script>"#)
            .count(),
        "{}",
        sign_in.page
    );
}

#[tokio::test]
async fn an_invitation_starts_a_short_strict_http_only_session_once() {
    let h = start().await;
    let link = invitation(&h, demo::TENANT).await;
    let mut visitor = Visitor::new(&h);
    // Looking at the link does not use it (mail scanners fetch links).
    assert_eq!(visitor.get(&link).await.status, 200);
    assert_eq!(visitor.get(&link).await.status, 200);
    let signed_in = visitor.post(&link, &[]).await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.location.as_deref(), Some("/console/tenants/demo"));
    let cookie = signed_in.set_cookie.unwrap();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=28800",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "Secure is left out only for a local http base: {cookie}"
    );
    let token = link.rsplit('/').next().unwrap();
    assert!(!cookie.contains(token), "the session is not the invitation");

    let overview = visitor.get("/console/tenants/demo").await;
    assert_eq!(overview.status, 200, "{}", overview.page);
    assert!(
        overview.page.contains("Integrations of demo"),
        "{}",
        overview.page
    );

    // Used: refused, whether looked at or posted, even with the session's cookie.
    for answer in [visitor.get(&link).await, visitor.post(&link, &[]).await] {
        assert_eq!(answer.status, 404, "{}", answer.page);
        assert!(
            answer.page.contains("unknown, already used or expired"),
            "{}",
            answer.page
        );
        assert!(answer.set_cookie.is_none());
    }
}

#[tokio::test]
async fn an_expired_unknown_or_malformed_invitation_is_refused() {
    let h = start().await;
    let expired = session::invite(
        h.store.as_ref(),
        h.store.as_ref(),
        &tenant(demo::TENANT),
        &h.stack.functions_url,
        now_millis() - session::INVITATION_TTL_MS - 1,
    )
    .await
    .unwrap()
    .link;
    let mut visitor = Visitor::new(&h);
    let unknown = format!("/console/invite/{}", "0".repeat(64));
    for link in [expired.as_str(), &unknown, "/console/invite/not-a-token"] {
        for answer in [visitor.get(link).await, visitor.post(link, &[]).await] {
            assert_eq!(answer.status, 404, "{link}: {}", answer.page);
            assert!(answer.page.contains("unknown, already used or expired"));
            assert!(answer.set_cookie.is_none());
        }
    }
    assert_eq!(visitor.get("/console/tenants/demo").await.status, 303);
}

#[tokio::test]
async fn failed_invitation_attempts_are_limited() {
    let h = start().await;
    let mut visitor = Visitor::new(&h);
    let mut statuses = Vec::new();
    // Within one minute's window (a test started at its last second may cross it once).
    for i in 0..INVITATION_ATTEMPTS_PER_MINUTE + 1 {
        let guess = format!("/console/invite/{:064x}", i + 1);
        statuses.push(visitor.get(&guess).await.status);
    }
    if statuses.last() != Some(&429) {
        statuses.clear();
        for i in 0..INVITATION_ATTEMPTS_PER_MINUTE + 1 {
            statuses.push(
                visitor
                    .get(&format!("/console/invite/{:064x}", i + 100))
                    .await
                    .status,
            );
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(
        statuses[..statuses.len() - 1].iter().all(|s| *s == 404),
        "{statuses:?}"
    );
    // Even a genuine link waits out the minute: the budget counts attempts, not guesses.
    let link = invitation(&h, demo::TENANT).await;
    let throttled = visitor.post(&link, &[]).await;
    assert_eq!(throttled.status, 429, "{}", throttled.page);
    assert!(throttled.page.contains("Too many attempts"));
    let wait: u64 = throttled.retry_after.unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
}

#[tokio::test]
async fn a_session_sees_and_changes_only_its_own_tenant() {
    let h = start().await;
    let mut visitor = Visitor::new(&h);
    let overview = visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let csrf = csrf_of(&visitor.get(&overview).await.page);
    let other_before = h.tenant_config("other").await;
    for path in [
        "/console/tenants/other",
        "/console/tenants/other/vendors/xref",
        "/console/tenants/other/status",
        "/console/tenants/nobody",
    ] {
        let answer = visitor.get(path).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.page);
        assert!(answer.page.contains("Back to the overview"));
    }
    let answer = visitor
        .post(
            "/console/tenants/other/vendors/xref/settings",
            &[("csrf", &csrf), ("api_base", "https://evil.example")],
        )
        .await;
    assert_eq!(answer.status, 404, "{}", answer.page);
    let answer = visitor
        .post(
            "/console/tenants/other/vendors/xref/delete",
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(answer.status, 404, "{}", answer.page);
    assert_eq!(h.tenant_config("other").await, other_before);
    // Its own pages answer.
    assert_eq!(
        visitor
            .get("/console/tenants/demo/vendors/xref")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_form_without_its_session_csrf_token_is_forbidden() {
    let h = start().await;
    let mut alice = Visitor::new(&h);
    let mut bob = Visitor::new(&h);
    alice.sign_in(&invitation(&h, demo::TENANT).await).await;
    bob.sign_in(&invitation(&h, demo::TENANT).await).await;
    let bobs = csrf_of(&bob.get("/console/tenants/demo").await.page);
    let before = h.tenant_config(demo::TENANT).await;
    let settings = "/console/tenants/demo/vendors/xref/settings";
    let fields = [("api_base", "https://evil.example"), ("enabled", "yes")];
    let without = alice.post(settings, &fields).await;
    assert_eq!(without.status, 403, "{}", without.page);
    assert!(without
        .page
        .contains("did not come from your current session"));
    let mut with_bobs = vec![("csrf", bobs.as_str())];
    with_bobs.extend(fields);
    assert_eq!(
        alice.post(settings, &with_bobs).await.status,
        403,
        "another session's token"
    );
    assert_eq!(alice.post("/console/sign-out", &[]).await.status, 403);
    // Even with its token, a form another site posts (as the browser says) is refused.
    let alices = csrf_of(&alice.get("/console/tenants/demo").await.page);
    let mut with_alices = vec![("csrf", alices.as_str())];
    with_alices.extend(fields);
    let request = alice
        .http
        .post(alice.url(settings))
        .header("origin", &alice.base)
        .header("sec-fetch-site", "cross-site")
        .form(&with_alices);
    assert_eq!(alice.send(request).await.status, 403);
    assert_eq!(
        h.tenant_config(demo::TENANT).await,
        before,
        "nothing changed"
    );
}

/// Where a post says it comes from: `Origin`, `Referer` and `Sec-Fetch-Site`, each optional.
type Sender<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

impl Visitor {
    /// Posts `fields` to `path` as sent from `sender`.
    async fn post_from(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        sender: Sender<'_>,
    ) -> Answer {
        let (origin, referer, fetch_site) = sender;
        let mut request = self.http.post(self.url(path)).form(fields);
        for (name, value) in [
            ("origin", origin),
            ("referer", referer),
            ("sec-fetch-site", fetch_site),
        ] {
            if let Some(value) = value {
                request = request.header(name, value);
            }
        }
        self.send(request).await
    }
}

/// Posts whose `Origin` (or, without it, `Referer`) is not the console's own, whatever
/// `Sec-Fetch-Site` says or leaves out; and posts that name no origin at all.
fn foreign_senders(own: &str) -> Vec<Sender<'_>> {
    vec![
        // Another site, from a browser without Sec-Fetch-Site (older Safari and Firefox).
        (Some("https://evil.example"), None, None),
        // …that the browser would even call same-origin: Origin decides.
        (Some("https://evil.example"), None, Some("same-origin")),
        // A look-alike: same host, another scheme or port.
        (Some("https://127.0.0.1"), None, None),
        // A sandboxed frame or a no-referrer page: an opaque origin.
        (Some("null"), None, None),
        // No Origin: the Referer is another site's page…
        (None, Some("https://evil.example/console/invite"), None),
        // …or the console's own page, but the browser says cross-site.
        (None, Some(own), Some("cross-site")),
        // Neither: no browser posts a form like that.
        (None, None, None),
    ]
}

#[tokio::test]
async fn a_sign_in_not_sent_from_the_consoles_own_origin_is_refused_and_spends_nothing() {
    let h = start().await;
    let link = invitation(&h, demo::TENANT).await;
    let own_page = link.clone();
    for sender in foreign_senders(&own_page) {
        let mut mallory = Visitor::new(&h);
        let refused = mallory.post_from(&link, &[], sender).await;
        assert_eq!(refused.status, 403, "{sender:?}: {}", refused.page);
        assert!(
            refused.page.contains("Not sent from the setup console"),
            "{sender:?}: {}",
            refused.page
        );
        assert!(refused.set_cookie.is_none(), "{sender:?}: no session");
    }
    // The invitation was not spent: sent from its own page (an older browser that sends
    // only the Referer), it signs in.
    let mut visitor = Visitor::new(&h);
    let signed_in = visitor
        .post_from(&link, &[], (None, Some(&own_page), None))
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.page);
    assert!(signed_in.set_cookie.unwrap().contains("console_session="));
}

#[tokio::test]
async fn a_form_not_sent_from_the_consoles_own_origin_changes_nothing_even_with_its_token() {
    let h = start().await;
    let mut alice = Visitor::new(&h);
    let overview = alice.sign_in(&invitation(&h, demo::TENANT).await).await;
    let before = h.tenant_config(demo::TENANT).await;
    let own_page = alice.url(&overview);
    let csrf = csrf_of(&alice.get(&overview).await.page);
    let settings = "/console/tenants/demo/vendors/xref/settings";
    let fields = [
        ("csrf", csrf.as_str()),
        ("api_base", "https://evil.example"),
        ("enabled", "yes"),
    ];
    for sender in foreign_senders(&own_page) {
        let refused = alice.post_from(settings, &fields, sender).await;
        assert_eq!(refused.status, 403, "{sender:?}: {}", refused.page);
        let out = alice
            .post_from("/console/sign-out", &fields[..1], sender)
            .await;
        assert_eq!(out.status, 403, "{sender:?}: sign-out");
    }
    assert_eq!(
        h.tenant_config(demo::TENANT).await,
        before,
        "nothing changed"
    );
    assert_eq!(alice.get(&overview).await.status, 200, "still signed in");
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let h = start().await;
    let mut visitor = Visitor::new(&h);
    let overview = visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let stolen = visitor.cookie.clone();
    let out = visitor.submit(&overview, "/console/sign-out", &[]).await;
    assert_eq!(out.status, 200, "{}", out.page);
    assert!(out.page.contains("You are signed out."));
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(visitor.get(&overview).await.status, 303);
    // The old cookie no longer works either.
    visitor.cookie = stolen;
    assert_eq!(visitor.get(&overview).await.status, 303);
}

#[tokio::test]
async fn a_wrong_method_is_405_naming_the_methods_the_page_takes() {
    let h = start().await;
    let http = reqwest::Client::new();
    for (method, path, allowed) in [
        (reqwest::Method::GET, "/console/sign-out", "POST"),
        (reqwest::Method::POST, "/console/sign-in", "GET"),
        (reqwest::Method::PUT, "/console/invite/abc", "GET, POST"),
    ] {
        let response = http
            .request(method.clone(), format!("{}{path}", h.stack.functions_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allowed, "{method} {path}");
    }
}

#[tokio::test]
async fn from_an_invitation_to_a_first_order_without_a_terminal() {
    let started = Instant::now();
    let h = start().await;
    new_tenant(&h, "acme").await;
    let mut visitor = Visitor::new(&h);
    let overview = visitor.sign_in(&invitation(&h, "acme").await).await;
    assert_eq!(overview, "/console/tenants/acme");
    let page = visitor.get(&overview).await.page;
    assert!(page.contains("No vendor is set up yet"), "{page}");

    // Add Xref, connect Lever with the key of Xref's toggle, and the Xref account.
    let added = visitor
        .submit(
            &overview,
            "/console/tenants/acme/vendors",
            &[("vendor", "xref"), ("api_base", &h.stack.xref_url)],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.page);
    let xref = "/console/tenants/acme/vendors/xref";
    assert_eq!(
        added.location.as_deref(),
        Some(&*format!("{xref}?notice=added"))
    );
    let page = visitor.get(xref).await.page;
    assert!(page.contains("not connected"), "{page}");
    // An API key must carry Lever's confidential grant: the console says so where it is pasted.
    assert!(
        page.contains("The key needs access to confidential data"),
        "{page}"
    );
    // A key that cannot be Lever's (pasted with its label) is refused and stored nowhere.
    let refused = visitor
        .submit(
            xref,
            &format!("{xref}/lever-key"),
            &[("api_key", "Xref key: abc123")],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.page);
    assert!(refused.page.contains("whitespace"), "{}", refused.page);
    assert!(h.stored_secret("acme")["vendors"]["xref"]["lever"]["api_key"].is_null());
    let saved = visitor
        .submit(
            xref,
            &format!("{xref}/lever-key"),
            &[("api_key", demo::XREF_LEVER_KEY)],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.page);
    let saved = visitor
        .submit(
            xref,
            &format!("{xref}/credentials"),
            &[
                ("api_key", demo::XREF_API_KEY),
                ("callback_secret", demo::XREF_CALLBACK_SECRET),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.page);
    let page = visitor.get(xref).await.page;
    assert!(page.contains("API key, its own"), "{page}");
    assert!(page.contains("Lever accepts it"), "a live call: {page}");
    for secret in [
        demo::XREF_LEVER_KEY,
        demo::XREF_API_KEY,
        demo::XREF_CALLBACK_SECRET,
    ] {
        assert!(
            !page.contains(secret),
            "write-only: {secret} is never shown"
        );
    }
    assert_eq!(page.matches("(stored)").count(), 2, "{page}");
    let secret = h.stored_secret("acme");
    assert_eq!(
        secret["vendors"]["xref"]["lever"]["api_key"],
        demo::XREF_LEVER_KEY
    );
    assert_eq!(secret["vendors"]["xref"]["api_key"], demo::XREF_API_KEY);
    assert_eq!(
        secret["vendors"]["xref"]["callback_secret"]["current"],
        demo::XREF_CALLBACK_SECRET
    );

    // A malformed callback secret is refused, naming the field, and changes nothing.
    let refused = visitor
        .submit(
            xref,
            &format!("{xref}/credentials"),
            &[("callback_secret", "v1,nope")],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.page);
    assert!(refused.page.contains("Callback secret"), "{}", refused.page);
    assert_eq!(h.stored_secret("acme"), secret);

    // The trigger stage, picked from the account's Lever stages; then enabled.
    assert!(
        page.contains(&format!(
            r#"<option value="{}">Reference Check</option>"#,
            demo::REFERENCE_CHECK_STAGE_ID
        )),
        "{page}"
    );
    let saved = visitor
        .submit(
            xref,
            &format!("{xref}/settings"),
            &[
                ("enabled", "yes"),
                ("api_base", &h.stack.xref_url),
                ("trigger_stage", demo::REFERENCE_CHECK_STAGE_ID),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.page);
    let config = h.tenant_config("acme").await;
    let integration = &config.vendors[&lever_screening::vendors::VendorId::Xref];
    assert!(integration.enabled);
    assert_eq!(
        integration.trigger_stage.as_ref().unwrap().id.as_deref(),
        Some(demo::REFERENCE_CHECK_STAGE_ID)
    );

    // Register webhooks: created in Lever through its API, tokens stored, none by hand.
    let registered = visitor.submit(xref, &format!("{xref}/webhooks"), &[]).await;
    assert_eq!(registered.status, 303, "{}", registered.page);
    let page = visitor
        .get(registered.location.as_deref().unwrap())
        .await
        .page;
    assert!(page.contains("3 created, 0 already there"), "{page}");
    // Named as on Lever's Webhooks settings page.
    assert!(
        page.contains(">Candidate Stage Change</td>")
            && page.contains(">Candidate Archive State Change</td>")
            && !page.contains(">candidateStageChange</td>"),
        "{page}"
    );
    let mut ours: Vec<String> = h
        .stack
        .lever
        .webhooks()
        .into_iter()
        .filter(|w| w.url.contains("/lever/acme/"))
        .map(|w| w.event)
        .collect();
    ours.sort();
    assert_eq!(
        ours,
        [
            "candidateArchiveChange",
            "candidateDeleted",
            "candidateStageChange"
        ]
    );
    let stored = h.stored_secret("acme");
    for event in ours.iter() {
        assert!(stored["webhooks"][event]["current"].is_string(), "{event}");
    }
    assert_eq!(
        page.matches(r#"<td data-label="In Lever">registered</td>"#)
            .count(),
        3,
        "{page}"
    );

    // A recruiter moves Ada into Reference Check: Lever's signed delivery orders at Xref.
    let sent = h
        .stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    h.settle().await;
    let orders = h.stack.xref.orders();
    assert_eq!(orders.len(), 1);
    assert!(h.tags().contains(&"Xref - Candidate submitted".to_owned()));

    // The status page shows the order: the candidate as Lever names them, the ids and the
    // words of Lever's note; no other candidate data (the email stays in Lever).
    let status = visitor.get("/console/tenants/acme/status").await;
    assert_eq!(status.status, 200);
    assert!(
        status.page.contains(demo::OPPORTUNITY_ID),
        "{}",
        status.page
    );
    assert!(status.page.contains(&orders[0].id), "{}", status.page);
    assert!(status.page.contains("Ada Lovelace"), "{}", status.page);
    // Registering checked the webhooks: the status page shows what Lever has.
    assert!(!status.page.contains("Not checked yet"), "{}", status.page);
    assert_eq!(
        status
            .page
            .matches(r#"<td data-label="In Lever"><span class="ok">registered</span>"#)
            .count(),
        3,
        "{}",
        status.page
    );
    assert!(
        !status.page.contains("ada@example.com"),
        "no other candidate data: {}",
        status.page
    );
    eprintln!("happy path over HTTP in {:?}", started.elapsed());
}

#[tokio::test]
async fn a_confidential_candidate_lever_refuses_is_shown_to_the_admin_and_orders_nothing() {
    let h = start().await;
    // Ada applied to a confidential posting; the demo's Xref key has no access to
    // confidential data in Lever.
    h.stack.lever.set_confidential(demo::OPPORTUNITY_ID);
    h.move_into_reference_check().await;
    assert!(h.stack.xref.orders().is_empty());
    assert!(h.store.orders().is_empty());
    assert!(
        h.stack
            .app
            .queue()
            .dead_letters(10)
            .await
            .unwrap()
            .is_empty(),
        "acknowledged, not dead-lettered"
    );
    let refusal = h
        .store
        .confidential_refusal(&tenant(demo::TENANT))
        .await
        .unwrap()
        .expect("stored for the console");
    assert_eq!(refusal.vendor.as_str(), "xref");
    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let page = visitor.get("/console/tenants/demo/status").await.page;
    assert!(
        page.contains("Lever refused access to a confidential posting&#39;s candidate for Xref"),
        "{page}"
    );
    assert!(
        page.contains("access to confidential data in Lever"),
        "{page}"
    );
}

#[tokio::test]
async fn dead_letters_are_listed_and_retried_for_the_own_tenant_only() {
    use lever_screening::ids::OrderId;
    use lever_screening::queue::Received;
    use lever_screening::work::Work;
    let h = start().await;
    let queue = h.stack.app.queue();
    let letter = |tenant_id: &str, order: &str| Received {
        message_id: format!("m-{tenant_id}"),
        receipt: String::new(),
        body: serde_json::to_string(&Work::SyncLever {
            tenant: tenant(tenant_id),
            order: OrderId::parse(order).unwrap(),
        })
        .unwrap(),
        receive_count: 20,
    };
    queue
        .dead_letter(&letter("demo", "o-demo"), "Lever refused")
        .await
        .unwrap();
    queue
        .dead_letter(&letter("other", "o-other"), "Lever refused")
        .await
        .unwrap();
    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let status = "/console/tenants/demo/status";
    let page = visitor.get(status).await.page;
    assert!(page.contains("order o-demo"), "{page}");
    assert!(
        page.contains("Safety net") && page.contains("not run yet"),
        "{page}"
    );
    assert!(!page.contains("o-other"), "{page}");
    let letters = queue.dead_letters(10).await.unwrap();
    let theirs = letters.iter().find(|l| l.body.contains("o-other")).unwrap();
    let refused = visitor
        .submit(
            status,
            &format!("{status}/retry"),
            &[("message_id", &theirs.message_id)],
        )
        .await;
    assert_eq!(refused.status, 404, "{}", refused.page);
    let ours = letters.iter().find(|l| l.body.contains("o-demo")).unwrap();
    let retried = visitor
        .submit(
            status,
            &format!("{status}/retry"),
            &[("message_id", &ours.message_id)],
        )
        .await;
    assert_eq!(retried.status, 303, "{}", retried.page);
    // Sent back to the work queue (where the worker may dead-letter it again, as new work).
    let left = queue.dead_letters(10).await.unwrap();
    assert!(
        !left.iter().any(|l| l.message_id == ours.message_id),
        "{left:?}"
    );
    assert!(
        left.iter().any(|l| l.message_id == theirs.message_id),
        "{left:?}"
    );
}

#[tokio::test]
async fn connect_with_lever_is_the_authorized_app_flow_for_that_integration() {
    let h = start().await;
    let mut visitor = Visitor::new(&h);
    visitor
        .sign_in(&invitation(&h, demo::OAUTH_TENANT).await)
        .await;
    let justifacts = "/console/tenants/globex/vendors/justifacts";
    let page = visitor.get(justifacts).await.page;
    assert!(page.contains("none yet"), "{page}");
    let connect = visitor
        .submit(justifacts, &format!("{justifacts}/connect"), &[])
        .await;
    // The authorize link is handed over on a page, not by redirect: `form-action 'self'`
    // would stop a form post's navigation from leaving the console.
    assert_eq!(connect.status, 200, "{}", connect.page);
    assert!(
        connect
            .page
            .contains("revoking it there stops Justifacts alone"),
        "Justifacts is its own app in Lever: {}",
        connect.page
    );
    let consent = link_to(&connect.page, "Continue to Lever");
    assert!(
        redirect_of(&consent)
            .await
            .starts_with(&format!("{}/oauth/authorize?", h.stack.oauth_lever_url)),
        "globex's admin signs in to globex's Lever: {consent}"
    );
    // The Super Admin accepts in Lever, which redirects to lever-oauth-callback.
    let (status, done) = {
        let page = h.http.get(consent).send().await.unwrap();
        (page.status().as_u16(), page.text().await.unwrap())
    };
    assert_eq!(status, 200, "{done}");
    assert!(
        done.contains("Lever is connected for tenant globex"),
        "{done}"
    );
    // Lever's return page is the console's, and leads back to the tenant's overview.
    assert!(done.contains("lever-screening setup"), "{done}");
    let back = link_to(&done, "Back to the setup console");
    assert_eq!(back, "/console/tenants/globex");
    assert_eq!(visitor.get(&back).await.status, 200, "still signed in");
    let sign_in = visitor.get("/console/sign-in").await;
    assert_eq!(sign_in.location.as_deref(), Some("/console/tenants/globex"));
    let page = visitor.get(justifacts).await.page;
    assert!(page.contains("authorized app (OAuth), its own"), "{page}");
    assert!(page.contains("Lever accepts it"), "{page}");
    let secret = h.stored_secret(demo::OAUTH_TENANT);
    assert!(secret["vendors"]["justifacts"]["lever"]["oauth"]["access_token"].is_string());
    assert!(!page.contains(
        secret["vendors"]["justifacts"]["lever"]["oauth"]["access_token"]
            .as_str()
            .unwrap()
    ));
}

#[tokio::test]
async fn a_catalog_line_without_its_name_is_refused_and_the_local_lever_page_is_linked() {
    let h = crate::support::start_connected().await;
    let mut visitor = Visitor::new(&h);
    visitor
        .sign_in(&invitation(&h, demo::OAUTH_TENANT).await)
        .await;
    let esr = "/console/tenants/globex/vendors/esr";
    let page = visitor.get(esr).await.page;
    let local_lever = format!(r#"href="{}/_local/lever/globex""#, h.stack.functions_url);
    assert!(page.contains(&local_lever), "{page}");
    let before = h.tenant_config(demo::OAUTH_TENANT).await;
    for catalog in ["101 Standard", "101,", ", Standard"] {
        let refused = visitor
            .submit(
                esr,
                &format!("{esr}/settings"),
                &[
                    ("enabled", "yes"),
                    ("api_base", &h.stack.esr_url),
                    ("trigger_stage", demo::PRE_HIRE_SCREENING_STAGE_ID),
                    ("catalog", catalog),
                ],
            )
            .await;
        assert_eq!(refused.status, 400, "{catalog:?}: {}", refused.page);
        assert!(
            refused.page.contains("a comma, then its name"),
            "{}",
            refused.page
        );
    }
    let after = h.tenant_config(demo::OAUTH_TENANT).await;
    assert_eq!(
        after.vendors[&lever_screening::vendors::VendorId::Esr].package,
        before.vendors[&lever_screening::vendors::VendorId::Esr].package,
        "nothing saved"
    );
}

/// Where `url` redirects to.
async fn redirect_of(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(url).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn connect_with_lever_for_the_first_tenant_signs_in_to_its_own_lever_and_works() {
    let h = start().await;
    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let xref = "/console/tenants/demo/vendors/xref";
    let connect = visitor.submit(xref, &format!("{xref}/connect"), &[]).await;
    assert_eq!(connect.status, 200, "{}", connect.page);
    assert!(
        connect
            .page
            .contains("stops every integration that uses it"),
        "Xref has no app of its own here: {}",
        connect.page
    );
    let consent = link_to(&connect.page, "Continue to Lever");
    assert!(
        redirect_of(&consent)
            .await
            .starts_with(&format!("{}/oauth/authorize?", h.stack.lever_url)),
        "demo's admin signs in to demo's Lever, not globex's: {consent}"
    );
    let done = h.http.get(&consent).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let done = done.text().await.unwrap();
    assert!(
        done.contains("Lever is connected for tenant demo"),
        "{done}"
    );
    let page = visitor.get(xref).await.page;
    assert!(page.contains("authorized app (OAuth)"), "{page}");
    assert!(page.contains("Lever accepts it"), "the token works: {page}");
}

#[tokio::test]
async fn register_webhooks_is_offered_only_on_an_enabled_integration() {
    let h = start().await;
    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let xref = "/console/tenants/demo/vendors/xref";
    let register = "Register webhooks</button>";
    assert!(visitor.get(xref).await.page.contains(register));
    let saved = visitor
        .submit(
            xref,
            &format!("{xref}/settings"),
            &[
                ("api_base", &h.stack.xref_url),
                ("trigger_stage", demo::REFERENCE_CHECK_STAGE_ID),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.page);
    let page = visitor.get(xref).await.page;
    assert!(
        page.contains("Enable the integration to see the webhooks it needs."),
        "{page}"
    );
    assert!(
        !page.contains(register),
        "not offered when disabled: {page}"
    );
}

#[tokio::test]
async fn a_refused_form_comes_back_as_typed_with_the_problem_under_its_field() {
    let h = crate::support::start_connected().await;
    let mut visitor = Visitor::new(&h);
    visitor
        .sign_in(&invitation(&h, demo::OAUTH_TENANT).await)
        .await;
    let esr = "/console/tenants/globex/vendors/esr";
    let before = h.tenant_config(demo::OAUTH_TENANT).await;
    let catalog = "101, Standard\n102, Executive\n103 Driving";
    let refused = visitor
        .submit(
            esr,
            &format!("{esr}/settings"),
            &[
                ("enabled", "yes"),
                ("api_base", &h.stack.esr_url),
                ("trigger_stage", demo::PRE_HIRE_SCREENING_STAGE_ID),
                ("tag_prefix", "Screen:"),
                ("catalog", catalog),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.page);
    let page = &refused.page;
    // The ESR page again, under the console's navigation, in its one voice.
    assert!(
        page.contains(">Overview</a>") && page.contains(">Status</a>"),
        "{page}"
    );
    assert!(page.contains("Saving the settings failed."), "{page}");
    // The problem under its field, the field marked, and what was typed kept.
    assert!(
        page.contains(
            r#"<p class="field-error" id="catalog-error">Catalog line &#34;103 Driving&#34;"#
        ),
        "{page}"
    );
    assert!(
        page.contains(r#"aria-invalid="true" aria-errormessage="catalog-error""#),
        "{page}"
    );
    assert!(
        page.contains("101, Standard\n102, Executive\n103 Driving</textarea>"),
        "{page}"
    );
    assert!(page.contains(r#"value="Screen:""#), "{page}");
    assert!(
        page.contains(&format!(r#"value="{}""#, h.stack.esr_url)),
        "{page}"
    );
    assert_eq!(
        h.tenant_config(demo::OAUTH_TENANT).await,
        before,
        "nothing saved"
    );

    // A wrong API base: its own field.
    let refused = visitor
        .submit(
            esr,
            &format!("{esr}/settings"),
            &[
                ("api_base", "ftp://esr.example"),
                ("catalog", "101, Standard"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .page
            .contains(r#"id="api-base-error">The API base URL must be an https:// URL"#),
        "{}",
        refused.page
    );
    assert!(
        refused.page.contains(r#"value="ftp://esr.example""#),
        "{}",
        refused.page
    );

    // Secrets are never echoed: a refused credentials form comes back empty.
    let refused = visitor
        .submit(
            esr,
            &format!("{esr}/credentials"),
            &[
                ("api_key", "typed-secret-key"),
                ("callback_secret", "not-a-whsec"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.page);
    assert!(
        refused
            .page
            .contains(r#"id="cred-callback_secret-error">Callback secret: "#),
        "{}",
        refused.page
    );
    assert!(
        !refused.page.contains("typed-secret-key"),
        "{}",
        refused.page
    );
    assert!(!refused.page.contains("not-a-whsec"), "{}", refused.page);
}

#[tokio::test]
async fn a_refused_add_keeps_the_choice_and_a_forms_address_leads_back_to_its_page() {
    let h = start().await;
    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let overview = "/console/tenants/demo";
    let page = visitor.get(overview).await.page;
    let choice = ["justifacts", "hrlogics", "esr"]
        .into_iter()
        .find(|v| page.contains(&format!(r#"<option value="{v}""#)))
        .expect("a vendor to add");
    let refused = visitor
        .submit(
            overview,
            &format!("{overview}/vendors"),
            &[("vendor", choice), ("api_base", "not-a-url")],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.page);
    assert!(
        refused.page.contains("Adding the vendor failed."),
        "{}",
        refused.page
    );
    assert!(
        refused
            .page
            .contains(r#"id="add-api-base-error">The API base URL is not an absolute URL"#),
        "{}",
        refused.page
    );
    assert!(
        refused
            .page
            .contains(&format!(r#"<option value="{choice}" selected>"#)),
        "{}",
        refused.page
    );
    assert!(
        refused.page.contains(r#"value="not-a-url""#),
        "{}",
        refused.page
    );

    // The address bar still shows the form's address: opening it leads to its page, not 404.
    for (address, page) in [
        (format!("{overview}/vendors"), overview.to_owned()),
        (
            format!("{overview}/vendors/xref/settings"),
            format!("{overview}/vendors/xref"),
        ),
        (
            format!("{overview}/status/retry"),
            format!("{overview}/status"),
        ),
    ] {
        let opened = visitor.get(&address).await;
        assert_eq!(opened.status, 303, "{address}: {}", opened.page);
        assert_eq!(opened.location.as_deref(), Some(page.as_str()), "{address}");
    }
    // Deleting without the tick: said under the box, nothing deleted.
    let xref = format!("{overview}/vendors/xref");
    let refused = visitor.submit(&xref, &format!("{xref}/delete"), &[]).await;
    assert_eq!(refused.status, 400, "unticked: {}", refused.page);
    assert!(
        refused
            .page
            .contains(r#"id="confirm-delete-error">Tick the box"#),
        "{}",
        refused.page
    );
    assert!(h
        .tenant_config(demo::TENANT)
        .await
        .vendors
        .contains_key(&lever_screening::vendors::VendorId::Xref));
}

#[tokio::test]
async fn the_status_page_names_the_candidate_links_to_lever_and_uses_lever_notes_words() {
    let h = start().await;
    let sent = h
        .stack
        .lever
        .move_to_stage(
            demo::STERLING_OPPORTUNITY_ID,
            demo::BACKGROUND_CHECK_STAGE_ID,
        )
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.response);
    h.settle().await;
    let note = &h.notes(demo::STERLING_OPPORTUNITY_ID)[0];
    assert!(note.contains("\nStatus: New\n"), "{note}");

    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let page = visitor.get("/console/tenants/demo/status").await.page;
    let link = format!(
        r#"<a href="{}/_local/lever/demo#c-{}">Alan Turing</a>"#,
        h.stack.functions_url,
        demo::STERLING_OPPORTUNITY_ID
    );
    assert!(
        page.contains(&link),
        "the candidate by name, linked to Lever: {page}"
    );
    // Sterling's "Initiated" in the words of Lever's note.
    assert!(
        page.contains(r#"<td data-label="Status">New</td>"#),
        "{page}"
    );
    assert!(!page.contains("Initiated"), "{page}");
    // Times carry UTC for the browser's script to show in local time, and as the tooltip.
    assert!(
        page.contains(r#"<time datetime="20"#) && page.contains(" UTC</time>"),
        "{page}"
    );
    let script = h
        .http
        .get(format!(
            "{}/console/assets/local-time.js",
            h.stack.functions_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(script.text().await.unwrap().contains("toLocaleString"));
}

/// The demo tenant's stored Xref API key.
fn stored_xref_key(h: &Harness) -> String {
    h.stored_secret(demo::TENANT)["vendors"]["xref"]["api_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn vendor_credentials_are_tried_on_the_vendor_before_they_replace_the_stored_ones() {
    let h = start().await;
    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let xref = "/console/tenants/demo/vendors/xref";
    let huge = "k".repeat(200 * 1024);
    for (wrong, says) in [
        (
            "<your Xref API key>",
            "Xref refused these credentials (HTTP 401",
        ),
        (
            "<script>alert(1)</script>",
            "Xref refused these credentials (HTTP 401",
        ),
        (
            "not-the-xref-key",
            "Xref refused these credentials (HTTP 401",
        ),
        (huge.as_str(), "longer than any Xref credential"),
    ] {
        let refused = visitor
            .submit(xref, &format!("{xref}/credentials"), &[("api_key", wrong)])
            .await;
        assert_eq!(refused.status, 400, "{}", refused.page);
        assert!(
            refused.page.contains(r#"id="cred-api_key-error">"#) && refused.page.contains(says),
            "{}",
            refused.page
        );
        assert!(!refused.page.contains("alert(1)"), "never echoed");
        assert_eq!(stored_xref_key(&h), demo::XREF_API_KEY, "unchanged");
    }
    // The stored key still orders.
    h.move_into_reference_check().await;
    assert_eq!(h.stack.xref.orders().len(), 1);

    // The right key (Xref's check answers 200) is saved.
    let saved = visitor
        .submit(
            xref,
            &format!("{xref}/credentials"),
            &[("api_key", demo::XREF_API_KEY)],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.page);

    // Sterling's client credentials are tried on its token endpoint.
    let sterling = "/console/tenants/demo/vendors/sterling";
    let refused = visitor
        .submit(
            sterling,
            &format!("{sterling}/credentials"),
            &[("client_secret", "not-the-client-secret")],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.page);
    assert!(
        refused.page.contains(
            r#"id="cred-client_secret-error">Sterling Backcheck refused these credentials"#
        ),
        "{}",
        refused.page
    );
    assert_eq!(
        h.stored_secret(demo::TENANT)["vendors"]["sterling"]["client_secret"],
        demo::STERLING_CLIENT_SECRET
    );
}

#[tokio::test]
async fn a_lever_key_lever_refuses_never_replaces_the_one_in_use_unless_replaced_anyway() {
    let h = start().await;
    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let xref = "/console/tenants/demo/vendors/xref";
    let stored = || h.stored_secret(demo::TENANT)["vendors"]["xref"]["lever"]["api_key"].clone();
    let refused = visitor
        .submit(
            xref,
            &format!("{xref}/lever-key"),
            &[("api_key", "mistyped-lever-key")],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.page);
    assert!(
        refused
            .page
            .contains(r#"id="lever-key-error">Lever refused this API key (HTTP 401)"#),
        "{}",
        refused.page
    );
    assert_eq!(stored(), demo::XREF_LEVER_KEY, "the working key stays");
    let page = visitor.get(xref).await.page;
    assert!(page.contains("Lever accepts it"), "{page}");

    // "Replace anyway": for a key Lever will accept only later.
    let replaced = visitor
        .submit(
            xref,
            &format!("{xref}/lever-key"),
            &[("api_key", "not-yet-active-key"), ("replace_anyway", "yes")],
        )
        .await;
    assert_eq!(replaced.status, 303, "{}", replaced.page);
    assert_eq!(stored(), "not-yet-active-key");
}

#[tokio::test]
async fn an_integration_whose_lever_credential_is_refused_is_still_deleted_and_the_admin_told_what_is_left(
) {
    let h = start().await;
    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let overview = "/console/tenants/demo";
    for other in ["sterling", "checkr"] {
        let page = format!("{overview}/vendors/{other}");
        let deleted = visitor
            .submit(&page, &format!("{page}/delete"), &[("confirm", "yes")])
            .await;
        assert_eq!(
            deleted.location.as_deref(),
            Some("/console/tenants/demo?notice=deleted")
        );
    }

    // Lever now refuses Xref's key: deleting Xref still works.
    h.stack.lever.disable_api_key(demo::XREF_LEVER_KEY);
    let xref = format!("{overview}/vendors/xref");
    let deleted = visitor
        .submit(&xref, &format!("{xref}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(deleted.status, 303, "{}", deleted.page);
    let page = visitor.get(deleted.location.as_deref().unwrap()).await.page;
    assert!(
        page.contains("Integration deleted: its settings and credentials are gone"),
        "{page}"
    );
    assert!(page.contains("Candidate Stage Change"), "{page}");
    assert!(page.contains("Delete them by hand in Lever"), "{page}");
    let config = h.tenant_config(demo::TENANT).await;
    assert!(config.vendors.is_empty(), "{config:?}");
    assert!(h.stored_secret(demo::TENANT)["vendors"]["xref"].is_null());
}

#[tokio::test]
async fn settings_are_checked_as_a_whole_by_the_rules_the_command_applies() {
    let h = crate::support::start_connected().await;
    let mut visitor = Visitor::new(&h);
    visitor
        .sign_in(&invitation(&h, demo::OAUTH_TENANT).await)
        .await;
    let esr = "/console/tenants/globex/vendors/esr";
    let save = |stage: &'static str, extra: Option<(&'static str, &'static str)>| {
        let mut fields = vec![
            ("enabled", "yes"),
            ("api_base", h.stack.esr_url.as_str()),
            ("trigger_stage", stage),
            ("catalog", "101, Standard"),
        ];
        fields.extend(extra);
        fields
    };
    // Justifacts already orders on a move into Background Check.
    let refused = visitor
        .submit(
            esr,
            &format!("{esr}/settings"),
            &save(demo::BACKGROUND_CHECK_STAGE_ID, None),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.page);
    assert!(
        refused.page.contains(r#"id="shares-trigger-stage-error">Justifacts is also ordered by a move into Background Check: one move would order both background checks"#),
        "{}",
        refused.page
    );
    assert!(
        refused.page.contains(r#"<input id="shares-trigger-stage""#),
        "the box is offered"
    );
    let confirmed = visitor
        .submit(
            esr,
            &format!("{esr}/settings"),
            &save(
                demo::BACKGROUND_CHECK_STAGE_ID,
                Some(("shares_trigger_stage", "yes")),
            ),
        )
        .await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.page);
    let overview = visitor.get("/console/tenants/globex").await.page;
    assert!(
        overview.contains("also ordering Justifacts (confirmed: one move orders both)"),
        "{overview}"
    );

    // Enabled without a trigger stage: refused under the stage.
    let refused = visitor
        .submit(esr, &format!("{esr}/settings"), &save("", None))
        .await;
    assert_eq!(refused.status, 400, "{}", refused.page);
    assert!(
        refused.page.contains(
            r#"id="stage-error">Missing; esr orders when a candidate moves into this stage"#
        ),
        "{}",
        refused.page
    );
}

#[tokio::test]
async fn an_integration_without_a_lever_credential_cannot_be_enabled() {
    let h = start().await;
    new_tenant(&h, "acme").await;
    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, "acme").await).await;
    let added = visitor
        .submit(
            "/console/tenants/acme",
            "/console/tenants/acme/vendors",
            &[("vendor", "xref"), ("api_base", &h.stack.xref_url)],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.page);
    // Its stage chosen (as the command could), but Lever not connected yet.
    let mut config = h.tenant_config("acme").await;
    config
        .vendors
        .get_mut(&lever_screening::vendors::VendorId::Xref)
        .unwrap()
        .trigger_stage = Some(lever_screening::tenant::StageRef::by_id(
        demo::REFERENCE_CHECK_STAGE_ID,
    ));
    h.store.put_tenant(&config).await.unwrap();
    let xref = "/console/tenants/acme/vendors/xref";
    let refused = visitor
        .submit(
            xref,
            &format!("{xref}/settings"),
            &[("enabled", "yes"), ("api_base", &h.stack.xref_url)],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.page);
    assert!(
        refused
            .page
            .contains(r#"id="enabled-error">No Lever credential: connect Lever"#),
        "{}",
        refused.page
    );
    assert!(
        !h.tenant_config("acme").await.vendors[&lever_screening::vendors::VendorId::Xref].enabled
    );
}

#[tokio::test]
async fn a_vendor_key_that_goes_bad_holds_the_order_at_once_and_saving_a_working_one_places_it() {
    let h = start().await;
    // Xref stops accepting the stored key (rotated on Xref's side).
    h.xref_key_goes_bad().await;
    h.move_into_reference_check().await;

    // One worker attempt: held, not retried for a day and a half.
    assert!(h.stack.xref.orders().is_empty());
    let orders = h.store.orders();
    assert_eq!(orders.len(), 1, "{orders:?}");
    let attention = orders[0].attention().expect("needs attention");
    assert!(
        attention
            .cause
            .starts_with("Xref refused this account's credentials (HTTP 401"),
        "{attention:?}"
    );
    assert!(
        h.stack
            .app
            .queue()
            .dead_letters(10)
            .await
            .unwrap()
            .is_empty(),
        "nothing waits to be retried or dead-lettered"
    );
    // The recruiter reads one note, in their words.
    let notes = h.notes(demo::OPPORTUNITY_ID);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with(
            "Xref reference check not ordered yet: Xref did not accept this company's account."
        ),
        "{notes:?}"
    );

    // The admin sees it at once, with the cause and the fix.
    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    for page in ["/console/tenants/demo", "/console/tenants/demo/status"] {
        let shown = visitor.get(page).await.page;
        assert!(
            shown.contains("<strong>Needs attention.</strong> 1 Xref order(s) need attention: Xref refused this account&#39;s credentials"),
            "{page}: {shown}"
        );
        assert!(
            shown.contains("Save working Xref credentials in the setup console"),
            "{shown}"
        );
    }
    // A wrong key is still refused at save; the working one places the held order.
    let xref = "/console/tenants/demo/vendors/xref";
    let saved = visitor
        .submit(
            xref,
            &format!("{xref}/credentials"),
            &[("api_key", demo::XREF_API_KEY)],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.page);
    let page = visitor.get(saved.location.as_deref().unwrap()).await.page;
    assert!(
        page.contains("Credentials saved; 1 held order(s) placed now."),
        "{page}"
    );
    assert_eq!(h.stack.xref.orders().len(), 1);
    assert!(h.tags().contains(&"Xref - Candidate submitted".to_owned()));
    assert!(h.store.orders()[0].attention().is_none());
    // Resuming again, or the original delivery retried, orders nothing more.
    let resumed = visitor
        .submit(
            "/console/tenants/demo/status",
            "/console/tenants/demo/status/resume",
            &[],
        )
        .await;
    assert_eq!(resumed.status, 303, "{}", resumed.page);
    h.settle().await;
    assert_eq!(h.stack.xref.orders().len(), 1, "never ordered twice");
    assert_eq!(h.notes(demo::OPPORTUNITY_ID).len(), 1, "the note once");
}

#[tokio::test]
async fn a_lever_key_lever_refuses_is_recorded_as_soon_as_the_console_sees_it() {
    let h = start().await;
    h.stack.lever.disable_api_key(demo::XREF_LEVER_KEY);
    let mut visitor = Visitor::new(&h);
    visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let overview = visitor.get("/console/tenants/demo").await.page;
    assert!(
        overview.contains("Lever refused this integration&#39;s credential: connect Lever again."),
        "{overview}"
    );
    // Recorded at once: every view (the command's `tenant list` too) says so, and
    // deliveries for Xref order nothing until it is reconnected.
    let config = h.tenant_config(demo::TENANT).await;
    let xref = &config.vendors[&lever_screening::vendors::VendorId::Xref];
    assert!(xref.lever_access_revoked.is_some(), "{xref:?}");
    assert!(
        config.vendors[&lever_screening::vendors::VendorId::Sterling]
            .lever_access_revoked
            .is_none(),
        "Sterling has a key of its own"
    );
    let page = visitor.get("/console/tenants/demo/vendors/xref").await.page;
    assert!(page.contains("refused by Lever"), "{page}");
}

#[tokio::test]
async fn the_deliveries_page_shows_each_delivery_with_what_it_did_and_replays_one() {
    let h = start().await;
    h.move_into_reference_check().await;
    let mut forged = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    forged["signature"] = serde_json::json!("0".repeat(64));
    let (status, _) = h.send_delivery(&forged).await;
    assert_eq!(status, 401);

    let mut visitor = Visitor::new(&h);
    let overview = visitor.sign_in(&invitation(&h, demo::TENANT).await).await;
    let page = visitor.get(&overview).await.page;
    let log = link_to(&page, "Deliveries");
    let page = visitor.get(&log).await.page;
    for expected in [
        "Lever: Candidate Stage Change",
        "queued",
        "Xref: ordered",
        "Ada Lovelace",
        "rejected",
        "stored token: not sent by Lever",
        "register the webhooks again",
    ] {
        assert!(page.contains(expected), "{expected} in {page}");
    }
    assert_eq!(
        page.matches(">Replay</button>").count(),
        1,
        "only the verified delivery can be replayed: {page}"
    );
    let rejected = visitor.get(&format!("{log}?outcome=rejected")).await.page;
    assert!(
        rejected.contains("rejected") && !rejected.contains("Xref: ordered"),
        "{rejected}"
    );
    let named = visitor.get(&format!("{log}?candidate=nobody")).await.page;
    assert!(named.contains("No delivery matches."), "{named}");
    let status_page = visitor.get(&format!("{overview}/status")).await.page;
    assert!(
        status_page.contains("Latest deliveries") && status_page.contains("Xref: ordered"),
        "{status_page}"
    );

    // Replaying the rejected one is refused on the page, in the console's voice.
    let entries = lever_screening::flows::deliveries::list(
        h.stack.app.store().as_ref(),
        &tenant(demo::TENANT),
        &Default::default(),
        None,
        10,
    )
    .await
    .unwrap()
    .entries;
    let id_of = |received: &str| {
        entries
            .iter()
            .find(|e| e.delivery.received.as_str() == received)
            .unwrap()
            .delivery
            .id
            .to_string()
    };
    let refused = visitor
        .submit(
            &log,
            &format!("{log}/replay"),
            &[("delivery", &id_of("rejected"))],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.page);
    assert!(
        refused.page.contains("Replaying the delivery failed.")
            && refused.page.contains("nothing in it was verified"),
        "{}",
        refused.page
    );
    let replayed = visitor
        .submit(
            &log,
            &format!("{log}/replay"),
            &[("delivery", &id_of("queued"))],
        )
        .await;
    assert_eq!(replayed.status, 303, "{}", replayed.page);
    let shown = visitor.get(&replayed.location.unwrap()).await.page;
    assert!(
        shown.contains("Replayed: its work is queued again."),
        "{shown}"
    );
    h.settle().await;
    assert_eq!(
        h.stack.xref.orders().len(),
        1,
        "a replay never orders twice"
    );
    let page = visitor.get(&log).await.page;
    assert!(page.contains("Xref: ordered"), "{page}");
    // Another tenant's delivery is as unknown as none.
    let unknown = visitor
        .submit(
            &log,
            &format!("{log}/replay"),
            &[("delivery", "000000000000001-00000000")],
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.page);
}
