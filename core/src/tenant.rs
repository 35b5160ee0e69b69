//! A tenant's configuration (DynamoDB): which vendor integrations are on, what triggers each,
//! where its packages come from, and whether Lever still accepts its credential. Its secrets
//! (credentials, signature tokens) are in [`crate::secrets`].

use crate::clock::EpochMillis;
use crate::ids::TenantId;
use crate::ids::VendorId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One connected Lever account and its vendor integrations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantConfig {
    /// The tenant's id: its store key, secret name suffix and URL path segment.
    pub tenant_id: TenantId,
    /// `https://api.lever.co/v1`, the sandbox, or a simulator.
    pub lever_api_base: String,
    /// The tenant's vendor integrations, at most one per vendor.
    #[serde(default)]
    pub vendors: BTreeMap<VendorId, Integration>,
    /// The country phone numbers without a `+` prefix are read in (ISO 3166 alpha-2, e.g.
    /// `US`), to send vendors E.164 numbers; default `US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_region: Option<String>,
}

impl TenantConfig {
    /// Lever's production API base (its sandbox is `https://api.sandbox.lever.co/v1`).
    pub const LEVER_PRODUCTION: &'static str = "https://api.lever.co/v1";

    /// `vendor`'s integration, active or not.
    pub fn integration(&self, vendor: VendorId) -> Option<&Integration> {
        self.vendors.get(&vendor)
    }

    /// Integrations that are switched on and whose Lever access was not revoked.
    pub fn active(&self) -> impl Iterator<Item = (VendorId, &Integration)> {
        self.vendors
            .iter()
            .filter(|(_, integration)| integration.is_active())
            .map(|(vendor, integration)| (*vendor, integration))
    }
}

/// One vendor integration of a tenant: where the vendor's API is, what orders from it, and
/// its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Integration {
    /// Switched on by the operator; off, deliveries are acknowledged and order nothing.
    pub enabled: bool,
    /// The vendor's API base URL for this tenant's account (its region, or a simulator).
    pub api_base: String,
    /// Moving an opportunity into this stage orders from the vendor (vendors ordered on a
    /// stage change).
    #[serde(default)]
    pub trigger_stage: Option<StageRef>,
    /// Where the package comes from, for vendors that sell packages.
    #[serde(default)]
    pub package: PackageSettings,
    /// Set when Lever refused this integration's credential (its API key was disabled or its
    /// authorized app revoked, as the vendors' own "Revoke Access" does): deliveries for it
    /// order nothing and its queued work is dropped, until it is reconnected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lever_access_revoked: Option<Revoked>,
    /// Optionally move the candidate on to a stage when the screening completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_completion: Option<OnCompletion>,
    /// The admin confirmed that this integration shares its trigger stage with another of
    /// the same kind (one move orders both); without it such settings are refused
    /// ([`crate::setup`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shares_trigger_stage: bool,
}

impl Integration {
    /// Enabled and not revoked: deliveries for it order and its work runs.
    pub fn is_active(&self) -> bool {
        self.enabled && self.lever_access_revoked.is_none()
    }
}

/// When and why Lever stopped accepting an integration's credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    /// What Lever answered (e.g. its 401), for the operator.
    pub reason: String,
    /// When it was recorded.
    pub at: EpochMillis,
}

/// A Lever stage, by its id, its display name (resolved through Lever's stage list), or both
/// (the operator command stores the id it resolved next to the name). With an id, a
/// delivery is matched without asking Lever.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRef {
    /// Lever's stage id; when present, it alone decides a match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The stage's display name, matched case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl StageRef {
    /// The stage with this Lever id.
    pub fn by_id(id: &str) -> Self {
        StageRef {
            id: Some(id.to_owned()),
            name: None,
        }
    }

    /// The stage with this display name (to be resolved through Lever's stage list).
    pub fn by_name(name: &str) -> Self {
        StageRef {
            id: None,
            name: Some(name.to_owned()),
        }
    }

    /// Whether a stage with this `id` and display `text` is the one meant; a name matches
    /// case-insensitively, as recruiters type it.
    pub fn matches(&self, id: &str, text: Option<&str>) -> bool {
        match (&self.id, &self.name) {
            (Some(own), _) => own == id,
            (None, Some(name)) => text.is_some_and(|text| text.eq_ignore_ascii_case(name)),
            (None, None) => false,
        }
    }
}

/// `"Reference Check"`, or the id when no name is known.
impl std::fmt::Display for StageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.name, &self.id) {
            (Some(name), _) => write!(f, "\"{name}\""),
            (None, Some(id)) => write!(f, "{id}"),
            (None, None) => f.write_str("(none)"),
        }
    }
}

/// A screening package: its id, and the name recruiters know it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The package's name, as the vendor and recruiters call it.
    #[serde(default)]
    pub name: Option<String>,
    /// The vendor's package id, sent with the order.
    pub id: String,
}

/// Where a vendor's package comes from for an order: a tag on the opportunity or its
/// posting (`"{tag_prefix} Name[ID : 123]"`), else the tenant's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageSettings {
    /// The prefix of a package tag (`"STERLING BGC PKG:"`); `None`: tags are not read.
    #[serde(default)]
    pub tag_prefix: Option<String>,
    /// The package ordered when no tag names one.
    #[serde(default)]
    pub default: Option<Package>,
    /// The packages the vendor sold this tenant (ESR's come from its representative): a
    /// tag may then name a package by name alone, and must name one of these.
    #[serde(default)]
    pub catalog: Vec<Package>,
}

/// Move the candidate to `move_to_stage` when the screening completes, optionally only for
/// some results (HR-XML result codes such as `Clear`), as Checkr's and Sterling's own Lever
/// integrations offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnCompletion {
    /// The stage to move the candidate to; it must come after the current one.
    pub move_to_stage: StageRef,
    /// Empty: whatever the result.
    #[serde(default)]
    pub when_results: Vec<String>,
}

/// The last time Lever refused the worker a candidate (HTTP 403 on the opportunity), as it
/// does for a confidential posting's candidate when the integration's credential has no
/// access to confidential data: nothing was ordered, and the tenant's admin is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfidentialRefusal {
    /// The integration whose credential Lever refused.
    pub vendor: VendorId,
    /// When it last happened.
    pub at: EpochMillis,
}

/// The safety net's last run for a tenant: its cursor, and what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyNetRun {
    /// When it ran.
    pub ran_at: EpochMillis,
    /// Lever's changes up to this time were looked at; the next run starts here (less the
    /// stage-change tolerance, so nothing falls between two runs).
    pub until: EpochMillis,
    /// Stage entries into a trigger stage no delivery had brought, put on the work queue.
    pub stage_entries: u32,
    /// Archives no delivery had brought (the candidate still had open orders), put on the
    /// work queue.
    pub archives: u32,
}

impl SafetyNetRun {
    /// What it found in all: in normal operation 0 (webhooks deliver everything).
    pub fn found(&self) -> u32 {
        self.stage_entries + self.archives
    }
}

/// What the last webhook check found in the tenant's Lever account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookHealth {
    /// When the check ran.
    pub checked_at: EpochMillis,
    /// One entry per webhook event the tenant's integrations need.
    pub webhooks: Vec<WebhookState>,
}

/// One webhook the tenant's integrations need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookState {
    /// Lever's event name: `candidateStageChange`.
    pub event: String,
    /// What the check found for it.
    pub state: WebhookStatus,
}

/// Whether Lever still has a webhook: stored as `{"status": "registered"}`, or
/// `{"status": "unknown", "detail": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "detail")]
pub enum WebhookStatus {
    /// Lever has a webhook of this event pointing at this deployment.
    Registered,
    /// Lever has none: deliveries of this event no longer arrive.
    Missing,
    /// Lever could not be asked (the detail says why).
    Unknown(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_matches_by_id_else_by_name_case_insensitively() {
        assert!(StageRef::by_id("s1").matches("s1", None));
        assert!(!StageRef::by_id("s1").matches("s2", Some("Reference Check")));
        let by_name = StageRef::by_name("Reference Check");
        assert!(by_name.matches("s2", Some("reference check")));
        assert!(!by_name.matches("s2", None));
        let both = StageRef {
            id: Some("s1".into()),
            name: Some("Reference Check".into()),
        };
        assert!(
            !both.matches("s2", Some("Reference Check")),
            "the id decides"
        );
    }

    #[test]
    fn stage_refs_read_the_documented_forms() {
        let parsed: StageRef = serde_json::from_str(r#"{"name":"Background Check"}"#).unwrap();
        assert_eq!(parsed, StageRef::by_name("Background Check"));
        let parsed: StageRef = serde_json::from_str(r#"{"id":"abc"}"#).unwrap();
        assert_eq!(parsed, StageRef::by_id("abc"));
    }
}
