//! The setup console in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which `scripts/install-tools` installs) driven over WebDriver. A tenant's
//! Lever admin signs in by link, adds Xref, connects Lever with its API key, fills in the Xref
//! account, picks the trigger stage, registers the webhooks against the Lever simulator, and
//! sees the first delivery's order arrive; a newcomer drives the local Lever page from the
//! console; the error paths keep what was typed, and every page fits 360 px; the delivery
//! log shows a failed and a forged delivery, and the failed one is replayed to an order; an
//! admin sets up Checkr and a recruiter sees its tags and report. Each page is saved as a
//! screenshot in
//! `target/console-screenshots/`, or with `CONSOLE_SCREENSHOTS=docs` in `docs/console/` (the
//! README shows those), so an ordinary test run leaves the tracked pictures alone.

use super::{invitation, new_tenant};
use crate::support::{fast_settings, start, start_with, Harness};
use fantoccini::{Client, ClientBuilder, Locator};
use lever_screening::clock::now_millis;
use lever_screening_local::demo_tenant as demo;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to install when the browser is missing.
const MISSING: &str = "headless Chromium is needed for the setup console's browser test: \
    run scripts/install-tools (it installs Debian's chromium and chromium-driver)";

/// `name` on the PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    })
}

/// chromedriver, started on a free port; killed (by its own pid) when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let driver =
            which("chromedriver").unwrap_or_else(|| panic!("{MISSING}: no chromedriver on PATH"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Its own process group, which the browsers it starts join: dropping it ends them all.
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{MISSING}: chromedriver did not start: {e}"));
        let until = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < until,
                "chromedriver did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group is chromedriver's own pid: only what this test started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver, profile: &Path) -> Client {
    let chromium = which("chromium").unwrap_or_else(|| panic!("{MISSING}: no chromium on PATH"));
    // Debian's `chromium` is a shell script that does not always exec the browser, which then
    // outlives the WebDriver session: start the browser itself.
    let real = Path::new("/usr/lib/chromium/chromium");
    let chromium = if real.is_file() {
        real.to_path_buf()
    } else {
        chromium
    };
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--window-size=1200,800",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("{MISSING}: no WebDriver session: {e}"))
}

/// Saves the whole page (the window stretched to it) as `{name}.png` (see the module docs).
async fn screenshot(client: &Client, name: &str) {
    for _ in 0..4 {
        let sizes = client
            .execute(
                "return [document.documentElement.scrollHeight, window.innerHeight]",
                vec![],
            )
            .await
            .unwrap();
        let size = |i: usize| sizes[i].as_u64().unwrap_or(0) as u32;
        let (page, viewport) = (size(0), size(1));
        if viewport >= page {
            break;
        }
        let (width, height) = client.get_window_size().await.unwrap();
        let wanted = (height as u32 + page - viewport).min(5000);
        client.set_window_size(width as u32, wanted).await.unwrap();
    }
    let png = client.screenshot().await.unwrap();
    let into_docs = std::env::var("CONSOLE_SCREENSHOTS").is_ok_and(|v| v == "docs");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(if into_docs {
        "../docs/console"
    } else {
        "../target/console-screenshots"
    });
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    client.set_window_size(1200, 800).await.unwrap();
}

async fn fill(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Clicks the submit button of the form posting to `…{action}`, and waits for the next page.
async fn submit(client: &Client, action: &str) {
    let button = format!(r#"form[action$="{action}"] button[type="submit"]"#);
    let button = client
        .find(Locator::Css(&button))
        .await
        .unwrap_or_else(|e| panic!("{button}: {e}"));
    navigate(client, button.click()).await;
}

/// Runs `step` (a click) and waits until the page it leads to has loaded.
async fn navigate<F, T>(client: &Client, step: F)
where
    F: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
{
    // The old document is marked; the next one is not.
    client
        .execute("document.documentElement.dataset.before = 'yes'", vec![])
        .await
        .unwrap();
    step.await.unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let loaded = client
            .execute(
                "return document.readyState === 'complete' && \
                 document.documentElement.dataset.before === undefined",
                vec![],
            )
            .await
            .map(|v| v.as_bool() == Some(true))
            .unwrap_or(false);
        if loaded {
            return;
        }
        assert!(Instant::now() < until, "the next page did not load");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn text(client: &Client) -> String {
    client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_lever_admin_sets_up_xref_in_the_browser_and_sees_the_first_order() {
    let started = Instant::now();
    let h = start().await;
    new_tenant(&h, "acme").await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    let base = &h.stack.functions_url;

    // Without a session: to the sign-in page.
    client
        .goto(&format!("{base}/console/tenants/acme"))
        .await
        .unwrap();
    assert!(client
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/console/sign-in"));
    assert!(text(&client)
        .await
        .contains("Sign in with your invitation link"));
    screenshot(&client, "01-sign-in").await;

    // The invitation link, then its one sign-in.
    let link = invitation(&h, "acme").await;
    client.goto(&link).await.unwrap();
    assert!(text(&client).await.contains("Sign in to the setup console"));
    screenshot(&client, "02-invitation").await;
    submit(&client, link["http://".len()..].split_once('/').unwrap().1).await;
    assert_eq!(
        client.current_url().await.unwrap().path(),
        "/console/tenants/acme"
    );
    assert!(text(&client).await.contains("No vendor is set up yet"));

    // Add Xref; connect Lever with the key of Xref's toggle; the Xref account.
    client
        .find(Locator::Css("#add-vendor"))
        .await
        .unwrap()
        .select_by_value("xref")
        .await
        .unwrap();
    fill(&client, "#add-api-base", &h.stack.xref_url).await;
    submit(&client, "/vendors").await;
    assert!(text(&client).await.contains("Vendor added"));
    fill(&client, "#lever-key", demo::XREF_LEVER_KEY).await;
    submit(&client, "/lever-key").await;
    assert!(text(&client).await.contains("Lever accepts it"));
    fill(&client, "#cred-api_key", demo::XREF_API_KEY).await;
    fill(&client, "#cred-callback_secret", demo::XREF_CALLBACK_SECRET).await;
    submit(&client, "/credentials").await;
    assert!(text(&client).await.contains("Credentials saved."));

    // Choose the trigger stage among Lever's, enable, register the webhooks.
    client
        .find(Locator::Css("#stage"))
        .await
        .unwrap()
        .select_by_value(demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    client
        .find(Locator::Css("#enabled"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    submit(&client, "/settings").await;
    assert!(text(&client).await.contains("Settings saved."));
    submit(&client, "/webhooks").await;
    let page = text(&client).await;
    assert!(page.contains("3 created, 0 already there"), "{page}");
    assert_eq!(
        h.stack
            .lever
            .webhooks()
            .iter()
            .filter(|w| w.url.contains("/lever/acme/"))
            .count(),
        3,
        "Candidate Stage Change, Archive State Change and Deleted; not Hired"
    );
    screenshot(&client, "04-vendor").await;

    // A recruiter moves Ada into Reference Check in Lever; the delivery orders at Xref.
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

    client
        .goto(&format!("{base}/console/tenants/acme"))
        .await
        .unwrap();
    let page = text(&client).await;
    assert!(page.contains("Lever accepts it"), "{page}");
    screenshot(&client, "03-overview").await;
    let status = client.find(Locator::LinkText("Status")).await.unwrap();
    navigate(&client, status.click()).await;
    let page = text(&client).await;
    assert!(page.contains(&orders[0].id), "{page}");
    assert!(page.contains(demo::OPPORTUNITY_ID), "{page}");
    screenshot(&client, "05-status").await;

    client.close().await.unwrap();
    eprintln!("browser happy path in {:?}", started.elapsed());
}

/// A browser signed in to `tenant`'s console with its invitation link; the driver and the
/// profile folder last as long as the values returned.
async fn signed_in(h: &Harness, tenant: &str) -> (Driver, tempfile::TempDir, Client) {
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    let link = invitation(h, tenant).await;
    client.goto(&link).await.unwrap();
    submit(&client, link["http://".len()..].split_once('/').unwrap().1).await;
    (driver, profile, client)
}

/// Whether the page scrolls sideways at the window's width.
async fn scrolls_sideways(client: &Client) -> bool {
    client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(true)
}

/// The `id` of the local Lever page's section of the candidate named `name`.
async fn candidate_id(client: &Client, name: &str) -> String {
    let id = client
        .execute(
            "for (const h of document.querySelectorAll('h2[id^=\"c-\"]')) { \
               if (h.textContent.trim().startsWith(arguments[0])) return h.id.slice(2); } \
             return null;",
            vec![serde_json::json!(name)],
        )
        .await
        .unwrap();
    id.as_str()
        .unwrap_or_else(|| panic!("no candidate {name} on the page"))
        .to_owned()
}

#[tokio::test]
async fn a_newcomer_moves_a_candidate_in_the_local_lever_and_sees_the_order_and_xrefs_result() {
    let h = start().await;
    let (_driver, _profile, client) = signed_in(&h, demo::TENANT).await;
    let base = &h.stack.functions_url;

    // From the console to the tenant's local Lever; a new candidate applies to the posting.
    let lever = client
        .find(Locator::LinkText("Lever (local)"))
        .await
        .unwrap();
    navigate(&client, lever.click()).await;
    fill(&client, "#new-name", "Grace Brewster").await;
    fill(&client, "#new-email", "grace@example.com").await;
    client
        .find(Locator::Css("#new-posting"))
        .await
        .unwrap()
        .select_by_value(demo::POSTING_ID)
        .await
        .unwrap();
    submit(&client, "/demo/candidates").await;
    let shown = client.source().await.unwrap();
    assert!(
        shown.contains("Grace Brewster"),
        "{} {shown}",
        client.current_url().await.unwrap()
    );
    let grace = candidate_id(&client, "Grace Brewster").await;

    // The recruiter moves her into Reference Check: Lever's signed webhook orders at Xref.
    client
        .find(Locator::Css(&format!("#stage-{grace}")))
        .await
        .unwrap()
        .select_by_value(demo::REFERENCE_CHECK_STAGE_ID)
        .await
        .unwrap();
    submit(&client, &format!("{grace}/stage")).await;
    h.settle().await;
    let orders = h.stack.xref.orders();
    let order = orders
        .iter()
        .find(|o| o.candidate.name == "Grace Brewster")
        .expect("an Xref order for Grace");

    // The console's status page lists it under her name, linked to her in Lever.
    client
        .goto(&format!("{base}/console/tenants/demo/status"))
        .await
        .unwrap();
    let page = text(&client).await;
    assert!(
        page.contains("Grace Brewster") && page.contains(&order.id),
        "{page}"
    );
    let to_lever = client
        .find(Locator::LinkText("Grace Brewster"))
        .await
        .unwrap();
    navigate(&client, to_lever.click()).await;
    assert!(text(&client).await.contains("Xref - Candidate submitted"));

    // Xref reports; Lever shows each status as Xref's own integration does: one tag at a time.
    for status in ["References in progress", "Completed"] {
        let report = (status == "Completed").then_some("https://xref.example/reports/grace");
        let sent = h
            .stack
            .xref
            .post_status(&order.id, status, report)
            .await
            .unwrap();
        assert_eq!(sent.status, 200, "{}", sent.response);
        h.settle().await;
    }
    navigate(&client, client.refresh()).await;
    let page = text(&client).await;
    assert!(page.contains("Xref - Completed"), "{page}");
    assert!(
        !page.contains("Xref - Candidate submitted"),
        "one Xref tag at a time: {page}"
    );
    screenshot(&client, "07-local-lever").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_consoles_error_paths_keep_what_was_typed_and_every_page_fits_a_phone() {
    let h = start().await;
    let (_driver, _profile, client) = signed_in(&h, demo::TENANT).await;
    let base = &h.stack.functions_url;
    let xref = format!("{base}/console/tenants/demo/vendors/xref");
    client.goto(&xref).await.unwrap();

    // A wrong API base: the problem under its field, the address bar on the form's address.
    fill(&client, "#api-base", "ftp://xref.example").await;
    submit(&client, "/settings").await;
    let page = text(&client).await;
    assert!(page.contains("Saving the settings failed."), "{page}");
    let error = client.find(Locator::Css("#api-base-error")).await.unwrap();
    assert!(error
        .text()
        .await
        .unwrap()
        .contains("must be an https:// URL"));
    let input = client.find(Locator::Css("#api-base")).await.unwrap();
    assert_eq!(
        input.prop("value").await.unwrap().as_deref(),
        Some("ftp://xref.example")
    );
    assert_eq!(
        input.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert!(
        client.find(Locator::LinkText("Status")).await.is_ok(),
        "the navigation"
    );
    screenshot(&client, "06-field-error").await;
    // Opening that address (Enter in the address bar) leads to the page, not a 404.
    let address = client.current_url().await.unwrap();
    assert!(address.path().ends_with("/settings"), "{address}");
    client.goto(address.as_str()).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().as_str(), xref);

    // Fixed and saved: POST/redirect/GET, so a reload shows the page and posts nothing.
    fill(&client, "#api-base", &h.stack.xref_url).await;
    submit(&client, "/settings").await;
    let saved = client.current_url().await.unwrap();
    assert_eq!(
        saved.path(),
        "/console/tenants/demo/vendors/xref",
        "{saved}"
    );
    let before = h.tenant_config(demo::TENANT).await;
    navigate(&client, client.refresh()).await;
    assert!(text(&client).await.contains("Settings saved."));
    assert_eq!(h.tenant_config(demo::TENANT).await, before);

    // An order, then every page at 360 px: nothing scrolls sideways.
    h.move_into_reference_check().await;
    client.set_window_size(360, 800).await.unwrap();
    for page in [
        "",
        "/vendors/xref",
        "/vendors/sterling",
        "/status",
        "/deliveries",
    ] {
        client
            .goto(&format!("{base}/console/tenants/demo{page}"))
            .await
            .unwrap();
        assert!(
            !scrolls_sideways(&client).await,
            "{page} scrolls sideways at 360 px"
        );
    }
    assert!(text(&client).await.contains("Ada Lovelace"));
    screenshot(&client, "08-status-phone").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_delivery_log_shows_why_and_a_failed_delivery_is_replayed_to_an_order() {
    // One attempt, so work that fails is dead-lettered at once.
    let mut settings = fast_settings();
    settings.work.max_attempts = 1;
    let h = start_with(settings).await;
    let (_driver, _profile, client) = signed_in(&h, demo::TENANT).await;

    // Xref is down when Ada is moved: her order fails for good. Then a forged delivery.
    h.stack.xref.fail_next(1000, 503);
    h.move_into_reference_check().await;
    assert!(h.stack.xref.orders().is_empty());
    let mut forged = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    forged["signature"] = serde_json::json!("0".repeat(64));
    assert_eq!(h.send_delivery(&forged).await.0, 401);
    h.stack.xref.fail_next(0, 503);

    let log = client.find(Locator::LinkText("Deliveries")).await.unwrap();
    navigate(&client, log.click()).await;
    let page = text(&client).await;
    for expected in [
        "Lever: Candidate Stage Change",
        "failed for good after 1 attempt(s)",
        "rejected",
        "signature",
    ] {
        assert!(page.contains(expected), "{expected} in {page}");
    }
    screenshot(&client, "09-deliveries").await;

    // Only the rejected ones.
    client
        .find(Locator::Css("#outcome"))
        .await
        .unwrap()
        .select_by_value("rejected")
        .await
        .unwrap();
    submit(&client, "/deliveries").await;
    let page = text(&client).await;
    assert!(
        page.contains("rejected") && !page.contains("failed for good"),
        "{page}"
    );
    let every = client.find(Locator::Css("#outcome")).await.unwrap();
    every.select_by_value("").await.unwrap();
    submit(&client, "/deliveries").await;

    // Replayed: out of the dead-letter queue, through the worker, ordered at Xref.
    submit(&client, "/deliveries/replay").await;
    assert!(text(&client)
        .await
        .contains("Replayed: its work left the dead-letter queue"));
    h.settle().await;
    navigate(&client, client.refresh()).await;
    let page = text(&client).await;
    assert!(page.contains("Xref: ordered"), "{page}");
    assert_eq!(h.stack.xref.orders().len(), 1);
    let ada = client
        .find(Locator::LinkText("Ada Lovelace"))
        .await
        .unwrap();
    navigate(&client, ada.click()).await;
    assert!(text(&client).await.contains("Xref - Candidate submitted"));
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_wrong_xref_key_is_refused_at_save_and_one_that_goes_bad_shows_needs_attention_at_once() {
    let h = start().await;
    let (_driver, _profile, client) = signed_in(&h, demo::TENANT).await;
    let base = &h.stack.functions_url;
    client
        .goto(&format!("{base}/console/tenants/demo/vendors/xref"))
        .await
        .unwrap();

    // The example file's placeholder pasted as the key: tried on Xref, refused, not stored.
    fill(&client, "#cred-api_key", "<your Xref API key>").await;
    submit(&client, "/credentials").await;
    let page = text(&client).await;
    assert!(page.contains("Saving the credentials failed."), "{page}");
    let error = client
        .find(Locator::Css("#cred-api_key-error"))
        .await
        .unwrap();
    assert!(error
        .text()
        .await
        .unwrap()
        .contains("Xref refused these credentials (HTTP 401"));
    let input = client.find(Locator::Css("#cred-api_key")).await.unwrap();
    assert_eq!(
        input.prop("value").await.unwrap().as_deref(),
        Some(""),
        "a secret is never shown again"
    );

    // Later Xref stops accepting the stored key: Ada's order is held after one attempt.
    h.xref_key_goes_bad().await;
    h.move_into_reference_check().await;
    client
        .goto(&format!("{base}/console/tenants/demo/status"))
        .await
        .unwrap();
    let page = text(&client).await;
    assert!(
        page.contains("Needs attention.")
            && page.contains("Xref refused this account's credentials"),
        "{page}"
    );
    assert!(
        page.contains("needs attention"),
        "the order's phase: {page}"
    );
    screenshot(&client, "10-needs-attention").await;

    // The working key saved: the held order is placed, and the banner is gone.
    client
        .goto(&format!("{base}/console/tenants/demo/vendors/xref"))
        .await
        .unwrap();
    fill(&client, "#cred-api_key", demo::XREF_API_KEY).await;
    submit(&client, "/credentials").await;
    assert!(text(&client)
        .await
        .contains("Credentials saved; 1 held order(s) placed now."));
    assert_eq!(h.stack.xref.orders().len(), 1);
    client
        .goto(&format!("{base}/console/tenants/demo/status"))
        .await
        .unwrap();
    assert!(!text(&client).await.contains("Needs attention."));
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_lever_admin_sets_up_checkr_and_a_recruiter_sees_lever_s_checkr_tags_and_the_report() {
    let h = start().await;
    let (_driver, _profile, client) = signed_in(&h, demo::TENANT).await;
    let base = &h.stack.functions_url;
    client
        .goto(&format!("{base}/console/tenants/demo/vendors/checkr"))
        .await
        .unwrap();

    // The page asks for what Checkr's account has, in Checkr's words: one key, which also
    // signs the webhooks, and where the webhook URL goes.
    let page = text(&client).await;
    assert!(page.contains("Checkr secret API key"), "{page}");
    assert!(
        !page.contains("Callback secret"),
        "Checkr signs with the API key: {page}"
    );
    assert!(
        page.contains("/callbacks/checkr/demo") && page.contains("“Include object” on"),
        "{page}"
    );
    fill(&client, "#cred-api_key", "not-the-checkr-key").await;
    submit(&client, "/credentials").await;
    let error = client
        .find(Locator::Css("#cred-api_key-error"))
        .await
        .unwrap();
    assert!(error
        .text()
        .await
        .unwrap()
        .contains("Checkr refused these credentials (HTTP 401"));
    fill(&client, "#cred-api_key", demo::CHECKR_API_KEY).await;
    submit(&client, "/credentials").await;
    assert!(text(&client).await.contains("Credentials saved"));
    screenshot(&client, "11-checkr").await;

    // The recruiter moves Margaret into Pre-hire Screening in the local Lever page.
    client
        .goto(&format!("{base}/_local/lever/demo"))
        .await
        .unwrap();
    let margaret = demo::CHECKR_OPPORTUNITY_ID;
    client
        .find(Locator::Css(&format!("#stage-{margaret}")))
        .await
        .unwrap()
        .select_by_value(demo::PRE_HIRE_SCREENING_STAGE_ID)
        .await
        .unwrap();
    submit(&client, &format!("{margaret}/stage")).await;
    h.settle().await;
    let [invitation] = h.stack.checkr.invitations().try_into().unwrap();
    client.refresh().await.unwrap();
    assert!(text(&client).await.contains("Invitation Pending"));

    // She fills in Checkr's form and the report comes back clear: Lever shows the one tag
    // and the gated link.
    let report = h
        .stack
        .checkr
        .complete_invitation(&invitation.id)
        .await
        .unwrap();
    h.stack
        .checkr
        .complete_report(&report, "clear")
        .await
        .unwrap();
    // Checkr's four webhooks (two for the invitation, two for the report), each answered.
    h.stack
        .checkr
        .webhooks_answered(4, Duration::from_secs(10))
        .await;
    h.settle().await;
    client.refresh().await.unwrap();
    let page = text(&client).await;
    assert!(page.contains("Report Clear"), "{page}");
    assert!(
        !page.contains("Invitation Pending"),
        "one tag at a time: {page}"
    );
    assert!(
        page.contains(&format!("https://dashboard.checkr.com/reports/{report}")),
        "{page}"
    );
    client.close().await.unwrap();
}
