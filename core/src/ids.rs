//! Ids parsed once, where they enter the product (a URL, a webhook body, a stored record).
//! A value of these types is known to be safe as a DynamoDB key part (no `#`), a URL path
//! segment (nothing to encode) and a log field (no control characters), so no code past the
//! edge checks them again.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Why a string is not a valid id of some kind; names the kind, never quotes the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind}: expected 1 to {max} of A-Z a-z 0-9 - _")]
pub struct InvalidId {
    /// The kind of id expected (`"tenant id"`).
    pub kind: &'static str,
    /// Its longest length, in bytes.
    pub max: usize,
}

/// Defines a string id type: 1 to `$max` characters of `A-Z a-z 0-9 - _`.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// What this id is called in errors.
            pub const KIND: &'static str = $kind;
            /// Longest accepted value, in bytes.
            pub const MAX_LEN: usize = $max;

            /// The id, if `value` is 1 to [`Self::MAX_LEN`] of `A-Z a-z 0-9 - _`; else
            /// [`InvalidId`].
            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidId> {
                let value = value.into();
                if is_safe(&value, $max) {
                    Ok($name(value))
                } else {
                    Err(InvalidId { kind: $kind, max: $max })
                }
            }

            /// The validated value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, InvalidId> {
                $name::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(value: &str) -> Result<Self, InvalidId> {
                $name::parse(value)
            }
        }
    };
}

id_type!(
    /// One connected Lever account, named by the operator (`acme`); part of public URLs.
    TenantId,
    "tenant id",
    64
);

id_type!(
    /// A Lever opportunity (a candidate's application to a job): Lever's UUIDs.
    OpportunityId,
    "opportunity id",
    128
);

id_type!(
    /// One screening ordered for one opportunity from one vendor: ours, and also the client
    /// reference and idempotency key the vendor receives.
    OrderId,
    "order id",
    64
);

id_type!(
    /// One entry of a tenant's delivery log: `<received at, ms, 15 digits>-<8 hex>`, so the
    /// ids sort in arrival order ([`crate::delivery_log`]).
    DeliveryId,
    "delivery id",
    32
);

impl DeliveryId {
    /// A fresh id for a delivery received at `received_at` (ms since the epoch).
    pub fn new(received_at: i64) -> DeliveryId {
        DeliveryId(format!(
            "{:015}-{:08x}",
            received_at.max(0),
            fastrand::u32(..)
        ))
    }

    /// When the delivery was received, ms since the epoch (0 for an id not made by
    /// [`DeliveryId::new`]).
    pub fn received_at(&self) -> i64 {
        self.0
            .split_once('-')
            .and_then(|(millis, _)| millis.parse().ok())
            .unwrap_or(0)
    }
}

fn is_safe(value: &str, max: usize) -> bool {
    (1..=max).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl OrderId {
    /// The id of the order that `event` (a Lever delivery token, or an operator's request id)
    /// asks of `vendor` for `tenant`. Derived, not random: a redelivered event, a queue
    /// message processed twice, or a retry after a crash all name the same order, so the
    /// vendor sees one idempotency key and is never asked twice.
    pub fn for_event(tenant: &TenantId, vendor: &str, event: &str) -> OrderId {
        Self::derived(&[tenant.as_str(), vendor, event])
    }

    /// The id of the order one real move into a trigger stage asks of `vendor`: the entry
    /// in Lever's `stageChanges` (`opportunity` entered the stage at `entered_at`, ms), not
    /// the delivery that reported it. Every delivery, token, retry, replay or safety-net
    /// find naming that entry names this one order; moving out and back in is a new entry.
    pub fn for_stage_entry(
        tenant: &TenantId,
        vendor: &str,
        opportunity: &OpportunityId,
        entered_at: i64,
    ) -> OrderId {
        let entered_at = entered_at.to_string();
        Self::derived(&[
            tenant.as_str(),
            vendor,
            "stage-entry",
            opportunity.as_str(),
            &entered_at,
        ])
    }

    /// The id of the order a new application (Lever's application id) asks of `vendor`.
    pub fn for_application(tenant: &TenantId, vendor: &str, application_id: &str) -> OrderId {
        Self::derived(&[tenant.as_str(), vendor, "application", application_id])
    }

    /// Derived, not random: the same parts always name the same order. Parts are
    /// NUL-separated, so ("ab", "c") and ("a", "bc") differ.
    fn derived(parts: &[&str]) -> OrderId {
        let mut digest = Sha256::new();
        for part in parts {
            digest.update(part.as_bytes());
            digest.update([0]);
        }
        OrderId(hex::encode(&digest.finalize()[..16]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_url_safe_values_only() {
        assert!(TenantId::parse("acme-co_1").is_ok());
        for bad in ["", "a/b", "a#b", "a b", "é", "a\nb", "..", &"x".repeat(65)] {
            assert_eq!(
                TenantId::parse(bad),
                Err(InvalidId {
                    kind: "tenant id",
                    max: 64
                }),
                "{bad:?}"
            );
        }
        assert!(OpportunityId::parse("3410c8b9-5c31-4bab-b7e9-9f710206d647").is_ok());
    }

    #[test]
    fn ids_are_validated_when_deserialized() {
        let parsed: Result<TenantId, _> = serde_json::from_str("\"bad#id\"");
        assert!(parsed.is_err());
        let parsed: TenantId = serde_json::from_str("\"acme\"").unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), "\"acme\"");
    }

    #[test]
    fn an_event_names_one_order_per_vendor_and_tenant() {
        let acme = TenantId::parse("acme").unwrap();
        let globex = TenantId::parse("globex").unwrap();
        let id = OrderId::for_event(&acme, "xref", "token-1");
        assert_eq!(id, OrderId::for_event(&acme, "xref", "token-1"));
        assert_ne!(id, OrderId::for_event(&acme, "sterling", "token-1"));
        assert_ne!(id, OrderId::for_event(&globex, "xref", "token-1"));
        assert_ne!(id, OrderId::for_event(&acme, "xref", "token-2"));
        // No separator ambiguity: ("ab", "c") and ("a", "bc") differ.
        assert_ne!(
            OrderId::for_event(&acme, "ab", "c"),
            OrderId::for_event(&acme, "a", "bc")
        );
        assert!(OrderId::parse(id.as_str()).is_ok());
    }

    #[test]
    fn a_stage_entry_names_one_order_whatever_delivered_it() {
        let acme = TenantId::parse("acme").unwrap();
        let ada = OpportunityId::parse("opp-ada").unwrap();
        let grace = OpportunityId::parse("opp-grace").unwrap();
        let id = OrderId::for_stage_entry(&acme, "xref", &ada, 1_000);
        assert_eq!(id, OrderId::for_stage_entry(&acme, "xref", &ada, 1_000));
        assert_ne!(
            id,
            OrderId::for_stage_entry(&acme, "xref", &ada, 1_001),
            "a new entry"
        );
        assert_ne!(id, OrderId::for_stage_entry(&acme, "xref", &grace, 1_000));
        assert_ne!(id, OrderId::for_stage_entry(&acme, "sterling", &ada, 1_000));
        assert_ne!(
            OrderId::for_application(&acme, "xref", "app-1"),
            OrderId::for_application(&acme, "xref", "app-2")
        );
    }
}

/// The vendors this product speaks to. The string form appears in URLs
/// (`/callbacks/{vendor}/{tenant}`), secrets and store keys. [`VendorId::ALL`] is derived
/// from the variants, so a new vendor is in every list made from it without a second edit.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::VariantArray,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum VendorId {
    /// Xref reference checks (`xref`).
    Xref,
    /// Sterling Backcheck background checks (`sterling`).
    Sterling,
    /// Justifacts background checks (`justifacts`).
    Justifacts,
    /// HRLogics WOTC surveys (`hrlogics`).
    HrLogics,
    /// ESR (Employment Screening Resources) background checks (`esr`).
    Esr,
    /// Checkr background checks (`checkr`).
    Checkr,
}

impl VendorId {
    /// Every vendor, in declaration order.
    pub const ALL: &'static [VendorId] = <VendorId as strum::VariantArray>::VARIANTS;

    /// The lowercase id used in URLs, secrets, store keys and metrics.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The vendor whose [`as_str`](Self::as_str) is `value`, exactly.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == value)
    }
}

impl fmt::Display for VendorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
