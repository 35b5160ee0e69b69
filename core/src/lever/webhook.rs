//! Lever webhook deliveries: the envelope, the per-event data, and the signature check, as
//! Lever's developer documentation (Webhooks) describes them. Lever signs
//! `token + triggeredAt` in the body, not the raw body, so
//! `data` is not signed: what it says is confirmed through Lever's API before it is acted on.

use crate::ids::{InvalidId, OpportunityId};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::time::Duration;

/// The webhook types this product subscribes to; each has its own signature token and its
/// own function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookKind {
    /// `candidateStageChange`: a candidate moved stage; orders stage-triggered vendors.
    CandidateStageChange,
    /// `applicationCreated`: a new application; orders application-triggered vendors
    /// (HRLogics).
    ApplicationCreated,
    /// `candidateArchiveChange`: archived (open orders are cancelled) or restored.
    CandidateArchiveChange,
    /// `candidateDeleted`: open orders are cancelled and what is stored is purged.
    CandidateDeleted,
    /// `candidateHired`: verified and acknowledged, nothing more.
    CandidateHired,
}

impl WebhookKind {
    /// Every kind, in the order above.
    pub const ALL: [WebhookKind; 5] = [
        WebhookKind::CandidateStageChange,
        WebhookKind::ApplicationCreated,
        WebhookKind::CandidateArchiveChange,
        WebhookKind::CandidateDeleted,
        WebhookKind::CandidateHired,
    ];

    /// The kind whose [`event_name`](Self::event_name) is `event`, exactly.
    pub fn from_event_name(event: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.event_name() == event)
    }

    /// The last segment of this webhook's route, `/lever/{tenant}/{path}`.
    pub fn path(self) -> &'static str {
        match self {
            WebhookKind::CandidateStageChange => "candidate-stage-change",
            WebhookKind::ApplicationCreated => "application-created",
            WebhookKind::CandidateArchiveChange => "candidate-archive-change",
            WebhookKind::CandidateDeleted => "candidate-deleted",
            WebhookKind::CandidateHired => "candidate-hired",
        }
    }

    /// The webhook's name on Lever's Settings › Integrations and API › Webhooks page: what
    /// an admin reads in the console and the README.
    pub fn display_name(self) -> &'static str {
        match self {
            WebhookKind::CandidateStageChange => "Candidate Stage Change",
            WebhookKind::ApplicationCreated => "Application Created",
            WebhookKind::CandidateArchiveChange => "Candidate Archive State Change",
            WebhookKind::CandidateDeleted => "Candidate Deleted",
            WebhookKind::CandidateHired => "Candidate Hired",
        }
    }

    /// The `event` value Lever sends for this webhook, and its name in the Webhooks API.
    pub fn event_name(self) -> &'static str {
        match self {
            WebhookKind::CandidateStageChange => "candidateStageChange",
            WebhookKind::ApplicationCreated => "applicationCreated",
            WebhookKind::CandidateArchiveChange => "candidateArchiveChange",
            WebhookKind::CandidateDeleted => "candidateDeleted",
            WebhookKind::CandidateHired => "candidateHired",
        }
    }
}

/// The delivery envelope, as Lever posts it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Event UID (absent from Lever's published example, so optional).
    #[serde(default)]
    pub id: Option<String>,
    /// Lever's event name (`candidateStageChange`…); must match the endpoint it was posted
    /// to, except in a connection test.
    pub event: String,
    /// When the event happened, ms since the epoch; signed, and checked against the
    /// [`FreshnessWindow`].
    pub triggered_at: i64,
    /// 48 random characters, unique per delivery: the replay key.
    pub token: String,
    /// Hex HMAC-SHA256 of `token + triggeredAt` (see [`sign`]). Absent only when no signing
    /// token was ever generated; [`verify`] refuses such a delivery.
    #[serde(default)]
    pub signature: Option<String>,
    /// The event's data, unsigned; read with [`Event::parse`]. `Null` when absent.
    #[serde(default)]
    pub data: serde_json::Value,
}

impl Delivery {
    /// The envelope of a delivery body; a JSON error when it is not one.
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Lever's "Send test" delivery carries `"data": {}` (here also `null` or no `data`)
    /// and must get a 2xx, nothing else.
    pub fn is_test(&self) -> bool {
        match &self.data {
            serde_json::Value::Object(map) => map.is_empty(),
            serde_json::Value::Null => true,
            _ => false,
        }
    }
}

pub use crate::work::Event;

/// Why a delivery's `data` cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Not an object with the event's fields (`opportunityId`, and `toStageId` for a stage
    /// change).
    #[error("malformed data: {0}")]
    Json(#[from] serde_json::Error),
    /// `opportunityId` is not a valid [`OpportunityId`].
    #[error(transparent)]
    Id(#[from] InvalidId),
}

impl Event {
    /// Reads a delivery's `data` as the payload of `kind`'s event (field names as Lever
    /// sends them: `opportunityId`, `toStageId`, `applicationId`, `toArchived`).
    pub fn parse(kind: WebhookKind, data: &serde_json::Value) -> Result<Self, DataError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            opportunity_id: String,
            #[serde(default)]
            to_stage_id: Option<String>,
            #[serde(default)]
            application_id: Option<String>,
            #[serde(default)]
            to_archived: Option<serde_json::Value>,
        }
        let data = Data::deserialize(data)?;
        let opportunity = OpportunityId::parse(data.opportunity_id)?;
        Ok(match kind {
            WebhookKind::CandidateStageChange => Event::StageChange {
                opportunity,
                to_stage_id: data
                    .to_stage_id
                    .ok_or_else(|| serde::de::Error::missing_field("toStageId"))
                    .map_err(DataError::Json)?,
            },
            WebhookKind::ApplicationCreated => Event::ApplicationCreated {
                opportunity,
                application_id: data.application_id,
            },
            WebhookKind::CandidateArchiveChange => Event::ArchiveChange {
                opportunity,
                archived: data.to_archived.is_some_and(|value| !value.is_null()),
            },
            WebhookKind::CandidateDeleted => Event::Deleted { opportunity },
            WebhookKind::CandidateHired => Event::Hired { opportunity },
        })
    }

    /// The opportunity the event is about (every event has one).
    pub fn opportunity(&self) -> &OpportunityId {
        match self {
            Event::StageChange { opportunity, .. }
            | Event::ApplicationCreated { opportunity, .. }
            | Event::ArchiveChange { opportunity, .. }
            | Event::Deleted { opportunity }
            | Event::Hired { opportunity } => opportunity,
        }
    }
}

/// Why [`verify`] refused a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `signature`, or an empty one.
    #[error("the delivery carries no signature")]
    Missing,
    /// Not hex, or no token (current or previous) produces it.
    #[error("the signature does not match")]
    Mismatch,
    /// Correctly signed, but `triggeredAt` is older than [`FreshnessWindow::max_age`].
    #[error("triggeredAt is outside the accepted window")]
    Stale,
    /// Correctly signed, but `triggeredAt` is more than [`FreshnessWindow::max_future`]
    /// ahead of our clock.
    #[error("triggeredAt is in the future")]
    Future,
}

/// How far `triggeredAt` may be from now. Lever retries a failed delivery five times over
/// hours, so the default past window is generous; the delivery-token dedupe (kept at least
/// this long) is what stops replays inside it.
#[derive(Debug, Clone, Copy)]
pub struct FreshnessWindow {
    /// Oldest `triggeredAt` accepted, back from now (default 72 h).
    pub max_age: Duration,
    /// Clock skew tolerated for deliveries stamped slightly ahead of our clock (default
    /// 5 min).
    pub max_future: Duration,
}

impl Default for FreshnessWindow {
    fn default() -> Self {
        FreshnessWindow {
            max_age: Duration::from_secs(72 * 3600),
            max_future: Duration::from_secs(5 * 60),
        }
    }
}

/// Hex HMAC-SHA256 of `token + triggeredAt`, keyed by the webhook's signature token.
pub fn sign(signature_token: &str, token: &str, triggered_at: i64) -> String {
    hex::encode(
        mac(signature_token, token, triggered_at)
            .finalize()
            .into_bytes(),
    )
}

fn mac(signature_token: &str, token: &str, triggered_at: i64) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(signature_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(token.as_bytes());
    mac.update(triggered_at.to_string().as_bytes());
    mac
}

/// Checks the delivery's signature against each candidate token (current, then previous)
/// in constant time, then its freshness. The signature is checked first so an attacker
/// learns nothing about the window from unsigned probes.
pub fn verify<'a>(
    delivery: &Delivery,
    tokens: impl IntoIterator<Item = &'a SecretString>,
    now_millis: i64,
    window: FreshnessWindow,
) -> Result<(), SignatureError> {
    let signature = delivery
        .signature
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(SignatureError::Missing)?;
    let expected = hex::decode(signature.trim()).map_err(|_| SignatureError::Mismatch)?;
    let matches = tokens.into_iter().any(|key| {
        mac(key.expose_secret(), &delivery.token, delivery.triggered_at)
            .verify_slice(&expected)
            .is_ok()
    });
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    let age = now_millis.saturating_sub(delivery.triggered_at);
    if age > millis(window.max_age) {
        return Err(SignatureError::Stale);
    }
    if -age > millis(window.max_future) {
        return Err(SignatureError::Future);
    }
    Ok(())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "test-signature-token";
    const TOKEN: &str = "be58f711f349c7780e4579cd7c63341ac6f881e4dccc3154";
    const AT: i64 = 1431454330072;
    const VECTOR: &str = "67237316b71be6f4595c3313d347b09353b22d7cbab3726261b73d409acd8fd7";

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn delivery(signature: Option<&str>) -> Delivery {
        Delivery {
            id: None,
            event: "candidateStageChange".into(),
            triggered_at: AT,
            token: TOKEN.into(),
            signature: signature.map(str::to_owned),
            data: serde_json::json!({}),
        }
    }

    #[test]
    fn published_vector_signs_and_verifies() {
        assert_eq!(sign(KEY, TOKEN, AT), VECTOR);
        let d = delivery(Some(VECTOR));
        assert_eq!(
            verify(&d, [&secret(KEY)], AT + 1000, FreshnessWindow::default()),
            Ok(())
        );
    }

    #[test]
    fn previous_token_still_verifies_during_rotation() {
        let d = delivery(Some(VECTOR));
        let tokens = [secret("new-token"), secret(KEY)];
        assert_eq!(verify(&d, &tokens, AT, FreshnessWindow::default()), Ok(()));
    }

    #[test]
    fn wrong_token_flipped_byte_and_missing_signature_are_rejected() {
        let window = FreshnessWindow::default();
        let d = delivery(Some(VECTOR));
        assert_eq!(
            verify(&d, [&secret("other")], AT, window),
            Err(SignatureError::Mismatch)
        );

        let mut flipped = VECTOR.to_owned();
        flipped.replace_range(0..1, "7");
        let d = delivery(Some(&flipped));
        assert_eq!(
            verify(&d, [&secret(KEY)], AT, window),
            Err(SignatureError::Mismatch)
        );

        let d = delivery(Some("not hex"));
        assert_eq!(
            verify(&d, [&secret(KEY)], AT, window),
            Err(SignatureError::Mismatch)
        );

        for missing in [None, Some("")] {
            let d = delivery(missing);
            assert_eq!(
                verify(&d, [&secret(KEY)], AT, window),
                Err(SignatureError::Missing)
            );
        }
    }

    #[test]
    fn tampered_token_or_timestamp_breaks_the_signature() {
        let window = FreshnessWindow::default();
        let mut d = delivery(Some(VECTOR));
        d.triggered_at += 1;
        assert_eq!(
            verify(&d, [&secret(KEY)], AT, window),
            Err(SignatureError::Mismatch)
        );
        let mut d = delivery(Some(VECTOR));
        d.token.push('x');
        assert_eq!(
            verify(&d, [&secret(KEY)], AT, window),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn stale_and_future_deliveries_are_rejected_at_the_window_edges() {
        let window = FreshnessWindow {
            max_age: Duration::from_secs(3600),
            max_future: Duration::from_secs(60),
        };
        let d = delivery(Some(VECTOR));
        let key = secret(KEY);
        assert_eq!(verify(&d, [&key], AT + 3_600_000, window), Ok(()));
        assert_eq!(
            verify(&d, [&key], AT + 3_600_001, window),
            Err(SignatureError::Stale)
        );
        assert_eq!(verify(&d, [&key], AT - 60_000, window), Ok(()));
        assert_eq!(
            verify(&d, [&key], AT - 60_001, window),
            Err(SignatureError::Future)
        );
    }

    #[test]
    fn published_example_payload_parses_once_its_json_is_fixed() {
        // Lever's published example with its two JSON typos corrected.
        let body = br#"{
          "triggeredAt": 1431454330072,
          "event": "candidateStageChange",
          "data": {
            "opportunityId": "3410c8b9-5c31-4bab-b7e9-9f710206d647",
            "candidateId": "daeaa038-cddb-4d69-9b8c-74b6c23be3f3",
            "contactId": "05c248f9-ccb1-435f-bab5-0ec608aec263",
            "toStageId": "7c2690d8-6308-4ed9-ae2a-cbfe7db26593",
            "fromStageId": "992f01a9-ee19-41d2-ae79-1040701b195c"
          },
          "signature": "28e3fbb90ce869c3695c4a9559ff43eae998389a48b42c509d1adbeea0897c16",
          "token": "be58f711f349c7780e4579cd7c63341ac6f881e4dccc3154"
        }"#;
        let d = Delivery::parse(body).unwrap();
        assert!(!d.is_test());
        let event = Event::parse(WebhookKind::CandidateStageChange, &d.data).unwrap();
        assert_eq!(
            event,
            Event::StageChange {
                opportunity: OpportunityId::parse("3410c8b9-5c31-4bab-b7e9-9f710206d647").unwrap(),
                to_stage_id: "7c2690d8-6308-4ed9-ae2a-cbfe7db26593".into(),
            }
        );
    }

    #[test]
    fn each_event_reads_its_data() {
        let archived = serde_json::json!({"opportunityId": "o1", "toArchived": {"archivedAt": 1, "reason": "r"}, "fromArchived": null});
        assert_eq!(
            Event::parse(WebhookKind::CandidateArchiveChange, &archived).unwrap(),
            Event::ArchiveChange {
                opportunity: OpportunityId::parse("o1").unwrap(),
                archived: true
            }
        );
        let restored = serde_json::json!({"opportunityId": "o1", "toArchived": null});
        assert!(matches!(
            Event::parse(WebhookKind::CandidateArchiveChange, &restored).unwrap(),
            Event::ArchiveChange {
                archived: false,
                ..
            }
        ));
        let no_stage = serde_json::json!({"opportunityId": "o1"});
        assert!(Event::parse(WebhookKind::CandidateStageChange, &no_stage).is_err());
        let bad_id = serde_json::json!({"opportunityId": "../x", "toStageId": "s"});
        assert!(Event::parse(WebhookKind::CandidateStageChange, &bad_id).is_err());
        for kind in WebhookKind::ALL {
            assert_eq!(WebhookKind::from_event_name(kind.event_name()), Some(kind));
        }
    }

    #[test]
    fn test_delivery_is_recognised() {
        let d = Delivery::parse(
            br#"{"event":"candidateStageChange","triggeredAt":1,"token":"t","signature":"s","data":{}}"#,
        )
        .unwrap();
        assert!(d.is_test());
    }
}
