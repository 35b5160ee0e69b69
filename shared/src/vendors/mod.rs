//! Screening vendors behind one interface. Each vendor's wire format lives in its own
//! module; adding a vendor means one module here and one arm in [`adapter`].

pub mod xref;

use crate::model::VendorId;
use crate::retry::RetryPolicy;
use crate::secrets::VendorSecrets;
use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    #[error("vendor credential `{0}` is not configured for this tenant")]
    MissingCredential(&'static str),
    /// The vendor refused the request (4xx): retrying the same request will not help.
    #[error("vendor refused the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    /// Timeouts, 429 or 5xx that outlasted the retry bound.
    #[error("vendor unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected vendor payload: {0}")]
    Decode(String),
}

impl VendorError {
    /// Worth retrying later from the outbox (as opposed to a request that is wrong).
    pub fn is_transient(&self) -> bool {
        matches!(self, VendorError::Unavailable(_))
    }
}

/// What the vendor needs to start a screening. Borrowed from the Lever opportunity at
/// order time; never stored.
#[derive(Debug, Clone)]
pub struct CandidateOrder<'a> {
    /// Our order id: the client reference and idempotency key.
    pub order_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub phone: Option<&'a str>,
    /// The posting's title.
    pub role: Option<&'a str>,
    /// Where the vendor posts status updates for this tenant.
    pub callback_url: &'a str,
}

/// The vendor's answer to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    pub vendor_order_id: String,
    pub status: String,
}

/// A status update carried by a callback, in the vendor's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub vendor_order_id: String,
    /// Our order id, echoed by vendors that take a client reference.
    pub client_reference: Option<String>,
    pub status: String,
    pub report_url: Option<String>,
}

/// Where a status sits in the vendor's order of statuses. Orders never move to a lower
/// rank; a terminal status closes the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusInfo {
    pub rank: u32,
    pub terminal: bool,
}

/// How a status shows in Lever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeverView {
    /// One status tag per vendor: remove the vendor's other status tags, then add this one.
    Tag { add: String, remove: Vec<String> },
}

/// Connection details for one tenant's account with a vendor.
pub struct VendorAccount<'a> {
    pub http: &'a reqwest::Client,
    pub retry: &'a RetryPolicy,
    pub base_url: &'a str,
    pub secrets: &'a VendorSecrets,
}

#[async_trait]
pub trait VendorAdapter: Send + Sync {
    fn vendor(&self) -> VendorId;

    /// Places the order; a retry with the same `order_id` returns the same vendor order.
    async fn place_order(
        &self,
        account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
    ) -> Result<PlacedOrder, VendorError>;

    /// Reads a callback body (already authenticated).
    fn parse_callback(&self, body: &[u8]) -> Result<StatusUpdate, VendorError>;

    /// `None` for a status word this vendor does not use.
    fn status_info(&self, status: &str) -> Option<StatusInfo>;

    fn lever_view(&self, status: &str) -> LeverView;
}

/// The adapter for a vendor.
pub fn adapter(vendor: VendorId) -> &'static dyn VendorAdapter {
    match vendor {
        VendorId::Xref => &xref::Xref,
    }
}

/// Turns an outbound response into the vendor's JSON, or a [`VendorError`].
pub(crate) async fn decode_response<T: serde::de::DeserializeOwned>(
    sent: Result<reqwest::Response, crate::retry::SendError>,
) -> Result<T, VendorError> {
    let response = sent.map_err(|e| VendorError::Unavailable(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        let message: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        return Err(VendorError::Rejected {
            status: status.as_u16(),
            message,
        });
    }
    response
        .json()
        .await
        .map_err(|e| VendorError::Decode(e.to_string()))
}
