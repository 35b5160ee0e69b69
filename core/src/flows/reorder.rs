//! A new order for a candidate who was ordered from the same vendor before starts from the
//! vendor-side records that outlive an order ([`crate::vendors::VendorApi::carried_steps`]):
//! Sterling keeps the candidate it created, answers a second create for her email 409, and
//! its public API finds a candidate only by its id.

use super::context::Worker;
use crate::error::AppError;
use crate::order::Order;
use crate::store::modify_order;

/// `intent` with the carried steps of the newest earlier order of its vendor for its
/// opportunity, stored before the vendor is called.
pub async fn carry_steps(worker: &Worker<'_>, intent: Order) -> Result<Order, AppError> {
    let kept = worker.vendor_api(intent.vendor())?.carried_steps();
    if kept.is_empty() {
        return Ok(intent);
    }
    let earlier = worker
        .orders
        .orders_for_opportunity(intent.tenant_id(), intent.opportunity_id())
        .await?;
    let carried: Vec<(String, String)> = earlier
        .iter()
        .rev()
        .filter(|o| o.vendor() == intent.vendor() && o.order_id() != intent.order_id())
        .find_map(|o| {
            let steps: Vec<(String, String)> = kept
                .iter()
                .filter_map(|k| o.steps().get(*k).map(|v| ((*k).to_owned(), v.clone())))
                .collect();
            (!steps.is_empty()).then_some(steps)
        })
        .unwrap_or_default();
    if carried.is_empty() {
        return Ok(intent);
    }
    let modified = modify_order(worker.orders, intent.order_id(), |next| {
        if !next.steps().is_empty() {
            return false;
        }
        next.carry_steps(carried.iter().cloned());
        true
    })
    .await?;
    Ok(modified.map_or(intent, |m| m.into_order()))
}
