//! Screening vendors. Each is two things, in its own module: a [`VendorDescription`] (data:
//! names, trigger, package rule, callback authentication, statuses, how Lever shows them) and
//! a wire adapter implementing [`VendorApi`] (its request and callback formats, nothing
//! else). [`Vendors`] is the registry the app holds; tests register fakes in it.
//!
//! Adding a vendor: a variant of [`VendorId`], one module here with its description and
//! adapter, and its line in [`module`] (which does not compile without it).

pub mod checkr;
mod contract;
pub mod description;
pub mod esr;
pub mod hrlogics;
pub mod justifacts;
pub mod lever_view;
pub mod packages;
pub mod sterling;
mod wire;
pub mod xref;

pub use description::{
    CallbackAuth, CredentialField, Fix, LeverAccess, LeverDisplay, Outcome, PackageRule,
    ReportNote, ScreeningKind, ServicesNote, Status, StatusNotes, Trigger, VendorDescription,
    VendorId,
};
pub use lever_view::{lever_view, LeverWrite, NoteWrite};
pub use wire::{split_name, VendorAccount};

use crate::order::VendorResults;
use crate::tenant::Package;
use crate::work::Retry;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How a vendor call failed; [`VendorError::retry`] says what becomes of the work.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    /// A field the adapter needs is missing from the tenant's secret (or the order's
    /// package); names it. Retried later, once an operator has set it.
    #[error("vendor credential `{0}` is not configured for this tenant")]
    MissingCredential(&'static str),
    /// The vendor refused the request (4xx) and said why: the request is wrong, retrying
    /// the same one will not help. `message` is the vendor's own, shortened.
    #[error("vendor refused the request (HTTP {status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The vendor's `message` (else `code`, else the first of `errors[]`), at most
        /// 200 characters.
        message: String,
    },
    /// Timeouts, 429 or 5xx that outlasted the retry bound, or no time left to try.
    #[error("vendor unavailable: {0}")]
    Unavailable(String),
    /// The request may or may not have been applied; the work is retried and reconciled.
    #[error("vendor outcome unknown: {0}")]
    Ambiguous(String),
    /// A body (an answer or a callback) that does not have the vendor's shape.
    #[error("unexpected vendor payload: {0}")]
    Decode(String),
    /// The order lacks what the vendor needs, found by the adapter before calling it (a
    /// posting location with no US state, for Checkr): the recruiter fixes it in Lever, and
    /// retrying the same order cannot help. Says what is missing and how to give it.
    #[error("{0}")]
    Unorderable(String),
}

impl VendorError {
    /// Only a refusal of the request itself is final (dead-lettered); everything else is
    /// retried later. (Placing an order holds it instead on a refused account, see
    /// [`VendorError::needs_attention`]; other calls — a re-read, a cancel — keep their work
    /// meanwhile.)
    pub fn retry(&self) -> Retry {
        match self {
            VendorError::Rejected { status, .. } if !matches!(status, 401 | 403) => Retry::Never,
            VendorError::Unorderable(_) => Retry::Never,
            // A credential the vendor refuses is the operator's to fix: keep the work meanwhile.
            _ => Retry::Later,
        }
    }

    /// The vendor refused this tenant's account (its credentials, 401/403), a credential
    /// is not configured, or the vendor refused one of the tenant's settings (see
    /// [`VendorError::refused_setting`]): no retry can help until the admin fixes it, so the
    /// order is held and the admin told at once instead of retried for a day and a half.
    pub fn needs_attention(&self) -> bool {
        matches!(
            self,
            VendorError::MissingCredential(_)
                | VendorError::Rejected {
                    status: 401 | 403,
                    ..
                }
        ) || self.refused_setting().is_some()
    }

    /// The setting of the tenant's that a vendor's 4xx refused, if it names one: the vendor
    /// contract's 422 names the first field refused (`package_id`, `callback_url`), as
    /// Sterling's 400 does (`packageId`, `callback.uri`). A refused candidate field (an
    /// email, a date of birth) is the order's own problem, not a setting.
    pub fn refused_setting(&self) -> Option<RefusedSetting> {
        let VendorError::Rejected { status, message } = self else {
            return None;
        };
        if matches!(status, 401 | 403) || !(400..500).contains(status) {
            return None;
        }
        let message = message.to_ascii_lowercase();
        if message.contains("package") {
            Some(RefusedSetting::Package)
        } else if message.contains("callback") {
            Some(RefusedSetting::CallbackUrl)
        } else {
            None
        }
    }

    /// The vendor said the request is wrong (and it is not our credential): the order is
    /// closed as refused, with the vendor's message in a Lever note.
    pub fn refusal(&self) -> Option<&str> {
        match self {
            VendorError::Rejected { status, message } if !matches!(status, 401 | 403) => {
                Some(message)
            }
            _ => None,
        }
    }
}

/// A setting of the tenant's a vendor refused when ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedSetting {
    /// The package ordered (the integration's default, catalog or posting tag).
    Package,
    /// The callback URL made from this deployment's public address.
    CallbackUrl,
}

/// What the vendor needs to start a screening. Borrowed from the Lever opportunity at
/// order time; never stored.
#[derive(Debug, Clone)]
pub struct CandidateOrder<'a> {
    /// Our order id: the client reference and idempotency key.
    pub order_id: &'a str,
    /// The candidate's full name, trimmed (see [`split_name`] for vendors that want two).
    pub name: &'a str,
    /// The candidate's first email address.
    pub email: &'a str,
    /// E.164 (`+14165550100`), or absent when Lever's value could not be read as a number.
    pub phone: Option<&'a str>,
    /// The posting's title.
    pub role: Option<&'a str>,
    /// The posting's location, else the opportunity's.
    pub location: Option<&'a str>,
    /// The screening package, for vendors that sell packages.
    pub package: Option<&'a Package>,
    /// Where the vendor posts status updates for this tenant.
    pub callback_url: &'a str,
}

impl CandidateOrder<'_> {
    /// The package, for vendors that need one (the flow has chosen it already).
    pub fn required_package(&self) -> Result<&Package, VendorError> {
        self.package
            .ok_or(VendorError::MissingCredential("package"))
    }
}

/// The vendor's answer to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    /// The vendor's id of the order.
    pub vendor_order_id: String,
    /// `None`: the description's first status.
    pub status: Option<String>,
    /// Whatever the answer already reports.
    pub results: VendorResults,
}

impl From<StatusUpdate> for PlacedOrder {
    /// An order placed as a read of it describes it (the vendors whose create answers with
    /// the order itself).
    fn from(update: StatusUpdate) -> Self {
        PlacedOrder {
            vendor_order_id: update.vendor_order_id,
            status: Some(update.status),
            results: update.results,
        }
    }
}

/// One step of placing an order ([`VendorApi::place`]).
// Boxing `Placed` would change this public enum's shape for every adapter; one value lives
// briefly per call, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Vendor-side objects exist now (Sterling's candidate): record them as steps
    /// (`name → vendor id`) and call again.
    Steps(Vec<(&'static str, String)>),
    /// The vendor order exists.
    Placed(PlacedOrder),
}

/// What a callback (or a read of the vendor's API) says about an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    /// The vendor's id of the order.
    pub vendor_order_id: String,
    /// Our order id, echoed by vendors that take a client reference.
    pub client_reference: Option<String>,
    /// A word of the vendor's description.
    pub status: String,
    /// What the update reports besides the status.
    pub results: VendorResults,
}

/// What cancelling an order came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancellation {
    /// The vendor cancelled the order.
    Cancelled,
    /// The order had already ended at the vendor (completed, or cancelled there); its
    /// callback, or the next reconciliation, tells how.
    AlreadyEnded,
    /// The vendor's API offers no way to cancel.
    Unsupported,
}

/// A vendor's wire format: requests, answers and callbacks, nothing about Lever.
#[async_trait]
pub trait VendorApi: Send + Sync {
    /// Takes the next step of placing `order`, given the vendor-side ids of the steps
    /// already taken (`steps`). Called again after each [`Placement::Steps`]; a retry with
    /// the same order id never creates a second vendor order.
    async fn place(
        &self,
        account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
        steps: &BTreeMap<String, String>,
    ) -> Result<Placement, VendorError>;

    /// Reads a callback body (already authenticated). `None`: an event that changes no
    /// order (Checkr sends every event of the account to its webhook).
    fn parse_callback(&self, body: &[u8]) -> Result<Option<StatusUpdate>, VendorError>;

    /// The order as the vendor's API has it now: confirms unsigned callbacks, reconciles
    /// orders whose callbacks stopped.
    async fn read_order(
        &self,
        account: &VendorAccount<'_>,
        vendor_order_id: &str,
    ) -> Result<StatusUpdate, VendorError>;

    /// Cancels the order, if the vendor's API can.
    async fn cancel(
        &self,
        account: &VendorAccount<'_>,
        vendor_order_id: &str,
    ) -> Result<Cancellation, VendorError>;

    /// Checks `account`'s credentials with one live, read-only call, before they replace
    /// the stored ones: a mistyped key is refused when it is typed, not when the first
    /// order fails. The vendor's refusal is [`VendorError::Rejected`] (401/403).
    async fn verify_credentials(&self, account: &VendorAccount<'_>) -> Result<(), VendorError>;

    /// The steps a new order for the same candidate starts from, taken from her last
    /// order: vendor-side records that outlive an order (Sterling's candidate, which its
    /// API can neither create twice nor look up by anything but its id).
    fn carried_steps(&self) -> &'static [&'static str] {
        &[]
    }
}

/// What a vendor's module gives the registry: its description, and how to make its adapter.
pub struct Module {
    /// What the vendor is, as data.
    pub description: &'static VendorDescription,
    /// Its wire adapter, made once per app.
    pub adapter: fn() -> Arc<dyn VendorApi>,
}

/// Declares the registry once, a line per vendor, as two `match`es: [`description`] never
/// names an adapter, so a function that holds only descriptions (Lever's webhooks, the
/// scheduled jobs) links no vendor's wire code; [`module`] gives both.
macro_rules! registry {
    ($($id:ident => $module:ident),+ $(,)?) => {
        /// The registry of vendors: each [`VendorId`]'s module. A match, so a new vendor
        /// does not compile until it has its line here; everything else (the console, the
        /// command line, callback routing, the local stack) is driven from
        /// [`VendorId::ALL`] and these.
        pub fn module(vendor: VendorId) -> &'static Module {
            match vendor {
                $(VendorId::$id => &$module::MODULE,)+
            }
        }

        /// The description of `vendor`.
        pub fn description(vendor: VendorId) -> &'static VendorDescription {
            match vendor {
                $(VendorId::$id => &$module::DESCRIPTION,)+
            }
        }
    };
}

registry! {
    Xref => xref,
    Sterling => sterling,
    Justifacts => justifacts,
    HrLogics => hrlogics,
    Esr => esr,
    Checkr => checkr,
}

/// A vendor: its description and, where this process speaks to it, its wire adapter.
#[derive(Clone)]
pub struct Vendor {
    /// What the vendor is, as data.
    pub description: &'static VendorDescription,
    api: Option<Arc<dyn VendorApi>>,
}

impl Vendor {
    /// How to speak to it; `None` in a function built from [`Vendors::described`], whose
    /// flows only read descriptions.
    pub fn api(&self) -> Option<&dyn VendorApi> {
        self.api.as_deref()
    }
}

/// The registry of vendors the app speaks to.
#[derive(Clone)]
pub struct Vendors {
    entries: BTreeMap<VendorId, Vendor>,
}

impl Vendors {
    /// Every vendor of [`VendorId::ALL`] with its real wire adapter: the worker, the
    /// console, the operator command.
    pub fn standard() -> Self {
        VendorId::ALL
            .iter()
            .fold(Self::described(), |vendors, vendor| {
                vendors.with_module(module(*vendor))
            })
    }

    /// Every vendor of [`VendorId::ALL`] by its description alone, without adapters: what
    /// the functions that never call a vendor hold, so that their binaries carry no
    /// vendor's wire code.
    pub fn described() -> Self {
        let entries = VendorId::ALL.iter().map(|vendor| {
            let description = description(*vendor);
            (
                *vendor,
                Vendor {
                    description,
                    api: None,
                },
            )
        });
        Vendors {
            entries: entries.collect(),
        }
    }

    /// The same, with `module`'s adapter: a vendor's callback function reads its own
    /// vendor's callbacks and links no other vendor's wire code.
    pub fn with_module(self, module: &Module) -> Self {
        self.with(module.description, (module.adapter)())
    }

    /// Adds or replaces a vendor (tests put fakes here).
    pub fn with(
        mut self,
        description: &'static VendorDescription,
        api: Arc<dyn VendorApi>,
    ) -> Self {
        let api = Some(api);
        self.entries
            .insert(description.id, Vendor { description, api });
        self
    }

    /// `vendor`, if registered.
    pub fn get(&self, vendor: VendorId) -> Option<&Vendor> {
        self.entries.get(&vendor)
    }

    /// Every registered vendor.
    pub fn iter(&self) -> impl Iterator<Item = &Vendor> {
        self.entries.values()
    }
}
