//! The console's pages: askama templates (`core/templates/console/`, HTML-escaped) and the
//! plain values they show. Handlers build these values; templates only lay them out.

use askama::Template;

/// What every page's frame shows.
pub(super) struct Layout {
    /// The `<title>`.
    pub title: String,
    /// The console's path (`/console`), for the sign-out form.
    pub root: String,
    /// The signed-in tenant, if any.
    pub tenant: Option<String>,
    /// The session's CSRF token: present when signed in (the sign-out form carries it).
    pub csrf: Option<String>,
    /// The navigation links (empty when signed out).
    pub nav: Vec<NavLink>,
    /// A sentence saying what the last action did.
    pub notice: Option<String>,
    /// Why the last action was not done, shown above the page (and next to its field).
    pub problem: Option<Problem>,
}

impl Layout {
    /// The problem's sentence, when it is about the input with this `id`: shown under it.
    pub fn field_error(&self, id: &str) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|problem| problem.field == Some(id))
            .map(|problem| problem.message.as_str())
    }
}

/// Why an action was not done, in the console's one voice: "{action} was not done." and a
/// sentence saying why and what to do.
pub(super) struct Problem {
    pub heading: String,
    pub message: String,
    /// The `id` of the input it is about, if one.
    pub field: Option<&'static str>,
}

/// One navigation link.
pub(super) struct NavLink {
    pub href: String,
    pub text: String,
    /// This page: marked `aria-current="page"`.
    pub current: bool,
}

/// A link with its text.
pub(super) struct Link {
    pub href: String,
    pub text: String,
}

/// An `<option>`.
pub(super) struct Choice {
    pub value: String,
    pub text: String,
    pub selected: bool,
}

/// The result of a live check, as shown.
pub(super) struct Check {
    pub ok: bool,
    pub text: String,
}

/// A page that says one thing: sign in, signed out, refused, failed.
#[derive(Template)]
#[template(path = "console/message.html")]
pub(super) struct MessagePage {
    pub layout: Layout,
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub link: Option<Link>,
}

/// An invitation link, before it is used.
#[derive(Template)]
#[template(path = "console/invite.html")]
pub(super) struct InvitePage {
    pub layout: Layout,
    pub action: String,
    pub session_hours: i64,
}

/// The tenant's integrations at a glance.
#[derive(Template)]
#[template(path = "console/overview.html")]
pub(super) struct OverviewPage {
    pub layout: Layout,
    pub tenant: String,
    pub csrf: String,
    pub integrations: Vec<IntegrationRow>,
    pub addable: Vec<Choice>,
    pub add_action: String,
    /// Held orders, a sentence per vendor with the cause and the fix.
    pub attention: Vec<String>,
    /// What a refused "Add" form held.
    pub add_api_base: String,
}

/// One integration on the overview.
pub(super) struct IntegrationRow {
    pub vendor: String,
    pub href: String,
    pub enabled: bool,
    pub credential: String,
    pub check: Check,
    pub trigger: String,
    pub webhook: String,
}

/// One vendor's setup.
#[derive(Template)]
#[template(path = "console/vendor.html")]
pub(super) struct VendorPage {
    pub layout: Layout,
    pub csrf: String,
    pub vendor_name: String,
    pub service: String,
    /// The settings form's "Enabled" box (as typed, after a refused save).
    pub enabled: bool,
    /// Whether the integration is enabled as stored: what the page says and offers.
    pub stored_enabled: bool,
    pub api_base: String,
    pub actions: VendorActions,
    pub lever: LeverSection,
    pub credentials: Vec<CredentialInput>,
    pub callback_url: String,
    /// Where the admin gives the vendor the callback URL, if the vendor says.
    pub callback_setup: Option<&'static str>,
    pub stage: Option<StageSection>,
    /// The "Order both" box: shown (with its state) when the trigger stage is shared with
    /// another integration of the same kind, or was confirmed so.
    pub shares_trigger_stage: Option<bool>,
    pub package: Option<PackageSection>,
    pub webhooks: Vec<WebhookRow>,
}

/// Where each of a vendor page's forms posts.
pub(super) struct VendorActions {
    pub lever_key: String,
    pub connect: String,
    pub credentials: String,
    pub settings: String,
    pub webhooks: String,
    pub rotate: String,
    pub delete: String,
}

/// The integration's Lever connection.
pub(super) struct LeverSection {
    pub credential: String,
    pub check: Check,
    /// The vendor's own Lever integration is an authorized app (OAuth first).
    pub oauth_first: bool,
}

/// A write-only credential field.
pub(super) struct CredentialInput {
    /// The input's `id`: `cred-{name}`.
    pub id: String,
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub stored: bool,
}

/// The trigger stage picker.
pub(super) struct StageSection {
    pub options: Vec<Choice>,
    /// Why Lever's stages could not be listed.
    pub problem: Option<String>,
    /// The stage configured now, as text.
    pub current: String,
}

/// The package rules, as the form shows them.
pub(super) struct PackageSection {
    pub tag_prefix: String,
    pub default_id: String,
    pub default_name: String,
    /// One `id, name` per line.
    pub catalog: String,
}

/// One webhook the integration needs.
pub(super) struct WebhookRow {
    pub event: &'static str,
    /// Its name on Lever's Webhooks settings page ("Candidate Stage Change").
    pub name: &'static str,
    pub state: String,
    pub token_stored: bool,
}

/// Webhook health, orders and dead letters.
#[derive(Template)]
#[template(path = "console/status.html")]
pub(super) struct StatusPage {
    pub layout: Layout,
    pub tenant: String,
    pub csrf: String,
    pub health_checked_at: Option<Moment>,
    /// Held orders, a sentence per vendor with the cause and the fix.
    pub attention: Vec<String>,
    pub resume_action: String,
    pub health: Vec<HealthRow>,
    /// The safety net's last run, in a sentence; `safety_net_ok` when it found nothing.
    pub safety_net: String,
    pub safety_net_ok: bool,
    /// Whether it ran at all (before its first run the sentence is neither good nor bad).
    pub safety_net_ran: bool,
    /// Lever's last refusal of a confidential candidate, in a sentence with its fix.
    pub confidential_refused: Option<String>,
    pub check_action: String,
    pub status_action: String,
    pub orders: Vec<OrderRow>,
    pub lookup_value: String,
    pub lookup: Option<Vec<OrderRow>>,
    pub dead: Vec<DeadRow>,
    pub dead_problem: Option<String>,
    pub retry_action: String,
    /// The newest deliveries, and the link to the log.
    pub recent: Vec<DeliveryRow>,
    pub deliveries_href: String,
}

/// One webhook as the last check found it.
pub(super) struct HealthRow {
    pub event: String,
    pub state: String,
    pub ok: bool,
}

/// One order: the candidate as Lever names them, and the words Lever's note uses.
pub(super) struct OrderRow {
    pub vendor: String,
    /// The candidate's name as Lever showed it at order time, else a placeholder.
    pub candidate: String,
    pub opportunity: String,
    /// The candidate in Lever (or in the local Lever page), when there is one to link to.
    pub lever_href: Option<String>,
    pub vendor_order: String,
    pub phase: String,
    /// The status as Lever's note shows it (a Sterling "Initiated" reads "New").
    pub status: String,
    pub created: Moment,
    pub vendor_updated: Option<Moment>,
    pub problem: String,
}

/// A point in time: shown in UTC, which the page's script rewrites in the browser's time
/// zone (UTC stays as the tooltip).
pub(super) struct Moment {
    /// RFC 3339, UTC: the `datetime` attribute and the tooltip.
    pub utc: String,
    /// `2026-12-06 10:04 UTC`: what shows without the script.
    pub text: String,
}

impl Moment {
    pub fn at(millis: crate::clock::EpochMillis) -> Self {
        let utc = crate::clock::utc_timestamp(millis);
        let text = match (utc.get(..10), utc.get(11..16)) {
            (Some(date), Some(time)) => format!("{date} {time} UTC"),
            _ => utc.clone(),
        };
        Moment { utc, text }
    }
}

/// One dead letter of the tenant.
pub(super) struct DeadRow {
    pub message_id: String,
    pub kind: String,
    pub about: String,
    pub attempts: String,
    pub last_error: String,
}

/// A tenant's delivery log, filtered and paged.
#[derive(Template)]
#[template(path = "console/deliveries.html")]
pub(super) struct DeliveriesPage {
    pub layout: Layout,
    pub tenant: String,
    pub csrf: String,
    /// How long entries are kept, in days.
    pub retention_days: u64,
    /// The refused deliveries recorded per minute at most.
    pub refusals_per_minute: u32,
    pub action: String,
    pub replay_action: String,
    pub outcomes: Vec<Choice>,
    pub senders: Vec<Choice>,
    pub candidate: String,
    /// Whether a filter is applied (the empty page says so).
    pub filtered: bool,
    pub rows: Vec<DeliveryRow>,
    /// The next (older) page, with the same filter.
    pub older: Option<String>,
    /// The newest page, when this is an older one.
    pub newest: Option<String>,
}

/// One delivery as the log shows it.
pub(super) struct DeliveryRow {
    pub id: String,
    pub received: Moment,
    /// "Lever: Candidate Stage Change" or the vendor's name.
    pub from: String,
    /// The outcome word; `bad` for a refusal or a failure.
    pub outcome: String,
    pub bad: bool,
    pub why: String,
    /// The candidate's name (from the order) or Lever's opportunity id; `-` if unknown.
    pub candidate: String,
    pub opportunity: String,
    pub lever_href: Option<String>,
    /// What its work came to.
    pub work: String,
    pub work_failed: bool,
    pub replayable: bool,
}
