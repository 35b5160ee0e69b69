//! A vendor described as data: its names, what orders from it, where its package comes
//! from, how its callbacks are authenticated, its statuses in order, and how its own Lever
//! integration shows them. Everything vendor-specific that is not wire format is here; the
//! flows and [`super::lever_view`](mod@super::lever_view) read it, and each vendor module
//! declares one.

pub use crate::ids::VendorId;
pub use crate::status::{Outcome, Status};

/// One vendor, as its Lever integration behaves (the vendor's Lever help article).
#[derive(Debug)]
pub struct VendorDescription {
    /// Which vendor.
    pub id: VendorId,
    /// What recruiters call the vendor: "Sterling Backcheck".
    pub name: &'static str,
    /// What recruiters call the screening; the title of its notes: "Sterling Backcheck
    /// background check".
    pub service: &'static str,
    /// What kind of screening it sells: two integrations of one kind ordered by the same
    /// move would screen the candidate twice.
    pub kind: ScreeningKind,
    /// The Lever event that orders from it.
    pub trigger: Trigger,
    /// Whether an order needs a package.
    pub package: PackageRule,
    /// The package tag prefix the vendor's own Lever integration fixes (Justifacts'
    /// `JUSTIFACTS BGC PKG:`): read on every tenant, whatever its settings say. `None`:
    /// the tenant's `tag_prefix`, if any.
    pub package_tag: Option<&'static str>,
    /// How its callbacks are authenticated.
    pub callback_auth: CallbackAuth,
    /// How its own Lever integration reaches Lever, and so which way the console offers
    /// first.
    pub lever_access: LeverAccess,
    /// Where the admin gives the vendor its callback URL, when it is not simply handed to
    /// the vendor: Checkr's own webhook settings.
    pub callback_setup: Option<&'static str>,
    /// The credentials of an account with it, as the console and `tenant put` take them
    /// (`vendors.<vendor>.<name>` in the tenant's secret).
    pub credentials: &'static [CredentialField],
    /// Every status the vendor reports, in no particular order; `rank` orders them.
    pub statuses: &'static [Status],
    /// The status a freshly placed order has when the vendor's answer names none.
    pub first_status: &'static str,
    /// The notes its Lever integration writes besides status tags.
    pub lever: LeverDisplay,
    /// Archiving the candidate in Lever cancels an open order (where the vendor's API can
    /// cancel; else a note says it could not). Off for screenings that outlive the
    /// application, like a WOTC survey.
    pub archive_cancels: bool,
    /// The first words of the note when an order cannot be placed, followed by the problem.
    pub not_ordered: &'static str,
    /// The last sentence of that note: how to get it ordered once fixed.
    pub reorder_hint: &'static str,
}

impl VendorDescription {
    /// The status with this exact word, `None` for a word this vendor does not use.
    pub fn status(&self, word: &str) -> Option<&'static Status> {
        self.statuses.iter().find(|status| status.word == word)
    }

    /// The prefix of the package tags an order reads: the vendor's own, else the tenant's.
    pub fn package_tag_prefix<'a>(&self, tenant_prefix: Option<&'a str>) -> Option<&'a str> {
        self.package_tag.or(tenant_prefix)
    }

    /// The note a recruiter reads when the order could not be placed: the problem, then
    /// who can fix it: the recruiter in Lever, or (a configuration problem, or the vendor
    /// refused the order) the Lever admin who set the integration up.
    pub fn not_ordered_note(&self, problem: &str, fix: Fix) -> String {
        let hint = match (fix, self.trigger) {
            (Fix::InLever, _) => self.reorder_hint,
            (Fix::AskAdmin, Trigger::StageChange) => ASK_ADMIN_THEN_MOVE_AGAIN,
            (Fix::AskAdmin, Trigger::ApplicationCreated) => ASK_ADMIN_TO_SEND_AGAIN,
        };
        format!("{}: {problem}. {hint}", self.not_ordered)
    }
}

/// Who can fix why an order was not placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// The recruiter, in Lever: the candidate's details or the package tag.
    InLever,
    /// The Lever admin who set the integration up: its configuration, or the vendor account.
    AskAdmin,
}

/// The usual end of a not-ordered note, for vendors ordered on a stage change.
pub const MOVE_AGAIN: &str =
    "Fix this in Lever, then move the candidate into the trigger stage again to order it.";
const ASK_ADMIN_THEN_MOVE_AGAIN: &str = "Ask your Lever admin to fix this, then move the \
     candidate into the trigger stage again to order it.";
const ASK_ADMIN_TO_SEND_AGAIN: &str = "Ask your Lever admin to fix this and send it again.";

/// The kinds of screening, as Lever's integrations page groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreeningKind {
    /// Sterling Backcheck, Justifacts, ESR.
    BackgroundCheck,
    /// Xref.
    ReferenceCheck,
    /// HRLogics' Work Opportunity Tax Credit survey.
    Wotc,
}

impl ScreeningKind {
    /// In a sentence: "background checks".
    pub fn plural(self) -> &'static str {
        match self {
            ScreeningKind::BackgroundCheck => "background checks",
            ScreeningKind::ReferenceCheck => "reference checks",
            ScreeningKind::Wotc => "WOTC surveys",
        }
    }
}

/// Which Lever event orders from a vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A move into the integration's trigger stage (Candidate Stage Change).
    StageChange,
    /// Every new application (Application Created; HRLogics' WOTC survey).
    ApplicationCreated,
}

/// Whether an order needs a package (from a tag on the opportunity or posting, or the
/// tenant's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageRule {
    /// The vendor sells no packages (Xref, HRLogics).
    None,
    /// No package, no order: a note tells the recruiter how to name one.
    Required,
}

/// How a vendor's callbacks prove where they come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackAuth {
    /// Standard Webhooks signature headers with the tenant's `whsec_…` callback secret.
    StandardWebhooks,
    /// Unsigned: the callback URL carries the tenant's callback secret, and a callback is only
    /// a hint to re-read the order from the vendor's API.
    UrlSecret,
    /// The lowercase hex HMAC-SHA256 of the raw body, keyed with the tenant's API key, in
    /// `header` (Checkr's `X-Checkr-Signature`). The vendor sends events out of order and
    /// sometimes twice, so a callback is only a hint to re-read the order.
    ApiKeyHmac {
        /// The header carrying the signature.
        header: &'static str,
    },
}

impl CallbackAuth {
    /// Whether a callback only names the order, which the worker then re-reads from the
    /// vendor's API (nothing in the callback itself is applied).
    pub fn rereads(self) -> bool {
        !matches!(self, CallbackAuth::StandardWebhooks)
    }
}

/// How a vendor's own Lever integration reaches Lever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeverAccess {
    /// With the API key of the vendor's toggle in Lever's integrations page (Xref, Sterling,
    /// Checkr).
    ApiKey,
    /// As an authorized app a Lever Super Admin consents to (Justifacts, HRLogics, ESR).
    AuthorizedApp,
}

/// One write-only credential of an account with a vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialField {
    /// The field of the tenant's vendor secret: `api_key`, `client_id`, `client_secret`,
    /// `username`, `password` or `callback_secret`.
    pub name: &'static str,
    /// What the vendor calls it: "Xref API key".
    pub label: &'static str,
    /// Where the admin finds it.
    pub help: &'static str,
}

impl CredentialField {
    /// The Standard Webhooks callback secret, as every vendor signing that way asks for it.
    pub const CALLBACK_WHSEC: CredentialField = CredentialField {
        name: "callback_secret",
        label: "Callback secret",
        help: "The whsec_… secret the vendor signs its status callbacks with (Standard Webhooks). The previous one keeps working for a day.",
    };
}

/// What an order shows in Lever besides its status tag (each status's `tag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeverDisplay {
    /// One note per status reached (Sterling, ESR).
    pub status_notes: Option<StatusNotes>,
    /// One note per item the vendor flagged, sent to the candidate's followers (ESR).
    pub flag_notes: bool,
    /// One note listing the services of a piecemeal order, updated in place (Sterling).
    pub services_note: Option<ServicesNote>,
    /// A note with the report link (Justifacts' secret result note, ESR's report note).
    pub report_note: Option<ReportNote>,
}

impl LeverDisplay {
    /// No notes: the status tags are all Lever shows (Xref, HRLogics).
    pub const TAGS_ONLY: LeverDisplay = LeverDisplay {
        status_notes: None,
        flag_notes: false,
        services_note: None,
        report_note: None,
    };
}

/// One note per status reached, as Sterling's and ESR's Lever integrations write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusNotes {
    /// How the note labels the vendor's reference: "Reference number", "ESR order".
    pub reference_label: &'static str,
    /// The note of a completed order adds Results Score, Results Report and Completed Date
    /// (the field names Lever's Sterling integration shows).
    pub result_fields: bool,
}

/// The words of a piecemeal services note (as Lever's Sterling integration writes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServicesNote {
    /// The overall status while a service is not complete: "In Production".
    pub in_progress: &'static str,
    /// The overall status once every service is: "Fulfilled".
    pub done: &'static str,
    /// Labels of a service's name, status, score, completion date and report link.
    pub fields: [&'static str; 5],
}

/// A note carrying the link to the vendor's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportNote {
    /// A secret note: only those Lever lets see secret notes can open the report.
    pub secret: bool,
    /// Only once the order completed (Justifacts); else as soon as the link is known (ESR).
    pub when_completed: bool,
    /// How the note labels the link: "Result URL", "Report".
    pub link_label: &'static str,
}
