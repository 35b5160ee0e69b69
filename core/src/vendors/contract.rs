//! The vendor contract this product defines for the vendors that publish no API (Xref,
//! Justifacts, HRLogics, ESR; docs/vendor-apis.md): one resource of orders under the vendor's
//! API base, `POST {resource}` with our order id as `Idempotency-Key` (a repeated create
//! answers 409 `duplicate_reference` naming the order made the first time), `GET
//! {resource}/{id}`, optionally `POST {resource}/{id}/cancel` (409 `order_ended` once the
//! order has ended), and callbacks carrying the order as a read returns it, signed with
//! Standard Webhooks. A vendor of the contract says only what differs: [`Contract`]; every
//! [`Contract`] is a [`VendorApi`].

use super::wire::Credentials;
use super::{
    Cancellation, CandidateOrder, PlacedOrder, Placement, StatusUpdate, VendorAccount, VendorApi,
    VendorError,
};
use async_trait::async_trait;
use reqwest::Method;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// What one contract vendor's wire format is made of.
pub(crate) trait Contract: Send + Sync + 'static {
    /// The path of its orders under the API base: `["reference-checks"]`.
    const RESOURCE: &'static [&'static str];
    /// Whether it has `POST {resource}/{id}/cancel`.
    const CANCELS: bool;
    /// An order as its create, read and callbacks carry it.
    type Order: DeserializeOwned + Send;

    /// How its requests authenticate, from the tenant's secrets.
    ///
    /// # Errors
    /// [`VendorError::MissingCredential`] naming the secret field that is not set.
    fn credentials<'a>(account: &VendorAccount<'a>) -> Result<Credentials<'a>, VendorError>;

    /// The create request's JSON body for `order`.
    ///
    /// # Errors
    /// When `order` lacks what the vendor requires (a package).
    fn new_order(order: &CandidateOrder<'_>) -> Result<serde_json::Value, VendorError>;

    /// What the create answer says: the vendor's id of the order and, if it says, its first
    /// status.
    fn placed(created: Self::Order) -> PlacedOrder;

    /// What a read of the order says.
    ///
    /// # Errors
    /// [`VendorError::Decode`] for an order missing what a status needs.
    fn update(order: Self::Order) -> Result<StatusUpdate, VendorError>;

    /// What a callback says: by default what a read says.
    ///
    /// # Errors
    /// As [`Contract::update`], and for a callback that announces nothing.
    fn callback(order: Self::Order) -> Result<StatusUpdate, VendorError> {
        Self::update(order)
    }
}

#[async_trait]
impl<C: Contract> VendorApi for C {
    async fn place(
        &self,
        account: &VendorAccount<'_>,
        order: &CandidateOrder<'_>,
        _steps: &BTreeMap<String, String>,
    ) -> Result<Placement, VendorError> {
        let body = C::new_order(order)?;
        let created = account
            .create::<C::Order>(
                C::RESOURCE,
                &C::credentials(account)?,
                order.order_id,
                &body,
            )
            .await?;
        Ok(Placement::Placed(match created {
            Ok(created) => C::placed(created),
            Err(existing) => PlacedOrder {
                vendor_order_id: existing,
                status: None,
                results: Default::default(),
            },
        }))
    }

    fn parse_callback(&self, body: &[u8]) -> Result<Option<StatusUpdate>, VendorError> {
        let order: C::Order =
            serde_json::from_slice(body).map_err(|e| VendorError::Decode(e.to_string()))?;
        C::callback(order).map(Some)
    }

    async fn read_order(
        &self,
        account: &VendorAccount<'_>,
        vendor_order_id: &str,
    ) -> Result<StatusUpdate, VendorError> {
        let path: Vec<&str> = C::RESOURCE
            .iter()
            .copied()
            .chain([vendor_order_id])
            .collect();
        let order: C::Order = account
            .call(Method::GET, &path, &C::credentials(account)?)
            .await?;
        C::update(order)
    }

    /// The contract's `GET /account` (operation `verifyCredentials`).
    async fn verify_credentials(&self, account: &VendorAccount<'_>) -> Result<(), VendorError> {
        let _: serde_json::Value = account
            .call(Method::GET, &["account"], &C::credentials(account)?)
            .await?;
        Ok(())
    }

    async fn cancel(
        &self,
        account: &VendorAccount<'_>,
        vendor_order_id: &str,
    ) -> Result<Cancellation, VendorError> {
        if !C::CANCELS {
            return Ok(Cancellation::Unsupported);
        }
        account
            .cancel(C::RESOURCE, vendor_order_id, &C::credentials(account)?)
            .await
    }
}
