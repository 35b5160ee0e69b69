//! Placing a vendor order for an opportunity: intent first, then the vendor, then Lever.
//!
//! The intent is a conditional write, so duplicate or concurrent deliveries and a second
//! move into the trigger stage while an order is open never order twice (DESIGN.md §3.2).
//! The vendor receives our order id as its idempotency key, so a retried create after a
//! crash returns the same vendor order.

use super::{lever_sync, Tenant};
use crate::app::App;
use crate::error::AppError;
use crate::lever::{LeverClient, LeverError, Opportunity};
use crate::model::{Order, OrderPhase, OutboxItem, OutboxWork, Package, VendorId};
use crate::store::{CreateOrder, StoreError};
use crate::vendors::{self, packages, CallbackAuth, CandidateOrder, PlacedOrder, VendorError};
use secrecy::ExposeSecret;

/// What became of an order request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ordered(Order),
    /// An open order already exists for this opportunity and vendor.
    AlreadyOpen(Order),
    /// The intent is stored; the outbox places the order once Lever or the vendor answers.
    Queued(Order),
    /// The candidate lacks data the vendor needs, or the vendor refused: a Lever note says
    /// what to fix, and the order is closed so moving the candidate again re-orders.
    NotOrdered(Order),
}

impl Outcome {
    pub fn order(&self) -> &Order {
        match self {
            Outcome::Ordered(o)
            | Outcome::AlreadyOpen(o)
            | Outcome::Queued(o)
            | Outcome::NotOrdered(o) => o,
        }
    }

    pub fn is_queued(&self) -> bool {
        matches!(self, Outcome::Queued(_))
    }

    pub fn is_not_ordered(&self) -> bool {
        matches!(self, Outcome::NotOrdered(_))
    }
}

/// Writes the order intent and places the order. A transient failure keeps the intent in
/// the outbox and reports `Queued`.
pub async fn start(
    app: &App,
    tenant: &Tenant,
    lever: &LeverClient,
    vendor: VendorId,
    opportunity_id: &str,
    callback_base: &str,
) -> Result<Outcome, AppError> {
    let intent = Order::new_intent(tenant.id(), vendor, opportunity_id);
    if let CreateOrder::AlreadyOpen(existing) = app.store.create_order(&intent).await? {
        tracing::info!(tenant = tenant.id(), %vendor, opportunity = opportunity_id,
            order = %existing.order_id, "an order is already open; not ordering again");
        return Ok(Outcome::AlreadyOpen(existing));
    }
    tracing::info!(tenant = tenant.id(), %vendor, opportunity = opportunity_id,
        order = %intent.order_id, "order intent written");
    match place(app, tenant, lever, intent.clone(), callback_base).await {
        Ok(outcome) => Ok(outcome),
        Err(error) => {
            let work = OutboxWork::PlaceOrder {
                order_id: intent.order_id.clone(),
                callback_base: callback_base.to_owned(),
            };
            let item = OutboxItem::new(tenant.id(), work, error.to_string());
            app.store.enqueue(&item).await?;
            tracing::warn!(tenant = tenant.id(), %vendor, order = %intent.order_id,
                outbox_id = %item.id, error = %error, "order kept for retry");
            Ok(Outcome::Queued(intent))
        }
    }
}

/// Places the vendor order for an intent and shows its first status in Lever. Safe to
/// repeat (the outbox does): an order that already has a vendor id is only re-synced.
/// Errors are the ones worth retrying; problems a person must fix end as `NotOrdered`.
pub async fn place(
    app: &App,
    tenant: &Tenant,
    lever: &LeverClient,
    order: Order,
    callback_base: &str,
) -> Result<Outcome, AppError> {
    if order.vendor_order_id.is_some() {
        lever_sync::sync_or_keep(app, tenant, lever, &order.order_id, None).await?;
        return Ok(Outcome::Ordered(order));
    }
    let opportunity = match lever.get_opportunity(&order.opportunity_id).await {
        Ok(opportunity) => opportunity,
        Err(LeverError::NotFound { .. }) => {
            return close(app, order, "the opportunity no longer exists in Lever").await
        }
        Err(e) => return Err(e.into()),
    };
    let posting = match opportunity.posting_id() {
        Some(posting_id) => match lever.get_posting(posting_id).await {
            Ok(posting) => Some(posting),
            Err(LeverError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let role = posting.as_ref().and_then(|p| p.text.as_deref());
    let location = posting
        .as_ref()
        .and_then(|p| p.categories.location.as_deref())
        .or(opportunity.location.as_deref());
    let posting_tags = posting
        .as_ref()
        .map(|p| p.tags.as_slice())
        .unwrap_or_default();
    let candidate = match Candidate::from_opportunity(&opportunity) {
        Ok(candidate) => candidate,
        Err(missing) => {
            let problem = format!("the candidate has no {missing} in Lever");
            return not_ordered(app, tenant, lever, order, &problem).await;
        }
    };
    let package = match choose_package(tenant, order.vendor, &opportunity, posting_tags) {
        Ok(package) => package,
        Err(problem) => return not_ordered(app, tenant, lever, order, &problem).await,
    };
    let callback_url = callback_url(callback_base, tenant, order.vendor)?;
    let request = CandidateOrder {
        order_id: &order.order_id,
        name: candidate.name,
        email: candidate.email,
        phone: opportunity.primary_phone(),
        role,
        location,
        package: package.as_ref(),
        callback_url: &callback_url,
    };
    let placed = match order_from_vendor(app, tenant, order.vendor, &request).await {
        Ok(placed) => placed,
        Err(AppError::Vendor(VendorError::Rejected { status, message }))
            if !matches!(status, 401 | 403) =>
        {
            let problem = format!(
                "{} refused the order: {message}",
                order.vendor.display_name()
            );
            return not_ordered(app, tenant, lever, order, &problem).await;
        }
        Err(e) => return Err(e),
    };
    let order = record_placed(app, order, &placed).await?;
    tracing::info!(tenant = tenant.id(), vendor = %order.vendor, order = %order.order_id,
        vendor_order = %placed.vendor_order_id, "vendor order placed");
    // The order exists now whatever Lever does; a failed tag write goes to the outbox.
    lever_sync::sync_or_keep(app, tenant, lever, &order.order_id, Some(&opportunity.tags)).await?;
    Ok(Outcome::Ordered(order))
}

/// `{base}/callbacks/{vendor}/{tenant}`: the route the vendor's callback function serves.
/// Vendors whose callbacks are unsigned get the tenant's callback secret as a last
/// segment, which is what authenticates them.
pub fn callback_url(base: &str, tenant: &Tenant, vendor: VendorId) -> Result<String, AppError> {
    let url = format!(
        "{}/callbacks/{vendor}/{}",
        base.trim_end_matches('/'),
        tenant.id()
    );
    if vendors::adapter(vendor).callback_auth() != CallbackAuth::UrlSecret {
        return Ok(url);
    }
    let secret = tenant
        .secrets
        .vendor(vendor)
        .and_then(|v| v.callback_secret.as_ref())
        .map(|s| s.current.expose_secret())
        .filter(|s| {
            s.len() >= 16
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .ok_or_else(|| {
            AppError::Misconfigured(format!(
                "{vendor} needs a callback secret of at least 16 URL-safe characters"
            ))
        })?;
    Ok(format!("{url}/{secret}"))
}

/// Name and email are what every vendor needs to invite the candidate.
struct Candidate<'a> {
    name: &'a str,
    email: &'a str,
}

impl<'a> Candidate<'a> {
    fn from_opportunity(opportunity: &'a Opportunity) -> Result<Self, &'static str> {
        let name = opportunity
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        match (name, opportunity.primary_email()) {
            (Some(name), Some(email)) => Ok(Candidate { name, email }),
            (None, None) => Err("name and no email address"),
            (None, Some(_)) => Err("name"),
            (Some(_), None) => Err("email address"),
        }
    }
}

async fn order_from_vendor(
    app: &App,
    tenant: &Tenant,
    vendor: VendorId,
    request: &CandidateOrder<'_>,
) -> Result<PlacedOrder, AppError> {
    let account = tenant.vendor_account(app, vendor)?;
    Ok(vendors::adapter(vendor)
        .place_order(&account, request)
        .await?)
}

/// Stores the vendor's order id and first status. If another invocation recorded the same
/// order meanwhile (the idempotency key gave it the same vendor order), theirs stands.
async fn record_placed(app: &App, order: Order, placed: &PlacedOrder) -> Result<Order, AppError> {
    let adapter = vendors::adapter(order.vendor);
    let mut current = order;
    for _ in 0..3 {
        if current.vendor_order_id.is_some() {
            return Ok(current);
        }
        let mut next = current.clone().next_version();
        next.vendor_order_id = Some(placed.vendor_order_id.clone());
        next.phase = OrderPhase::Open;
        if let Some(info) = adapter.status_info(&placed.status) {
            next.advance(
                &placed.status,
                info.rank,
                info.terminal,
                placed.results.clone(),
            );
        }
        match app.store.update_order(&next).await {
            Ok(()) => return Ok(next),
            Err(StoreError::Conflict) => {
                current = app
                    .store
                    .get_order(&next.order_id)
                    .await?
                    .ok_or(AppError::NotFound("order"))?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

/// Closes the intent with the reason; the recruiter reads it in a Lever note (written by
/// the sync, so a Lever outage only delays it).
async fn not_ordered(
    app: &App,
    tenant: &Tenant,
    lever: &LeverClient,
    order: Order,
    problem: &str,
) -> Result<Outcome, AppError> {
    let outcome = close(app, order, problem).await?;
    lever_sync::sync_or_keep(app, tenant, lever, &outcome.order().order_id, None).await?;
    Ok(outcome)
}

/// The package for this vendor: from a tag on the opportunity or its posting, else the
/// tenant's default. `Err` is the problem to show the recruiter.
fn choose_package(
    tenant: &Tenant,
    vendor: VendorId,
    opportunity: &Opportunity,
    posting_tags: &[String],
) -> Result<Option<Package>, String> {
    if !vendors::adapter(vendor).needs_package() {
        return Ok(None);
    }
    let settings = tenant
        .config
        .vendors
        .get(&vendor)
        .map(|v| v.package.clone())
        .unwrap_or_default();
    if let Some(prefix) = &settings.tag_prefix {
        let tags = opportunity.tags.iter().chain(posting_tags);
        match packages::from_tags(prefix, tags) {
            Ok(Some(package)) => return packages::resolve(package, &settings.catalog).map(Some),
            Ok(None) => {}
            Err(packages::Ambiguous(found)) => {
                return Err(format!(
                    "the candidate and posting name more than one package ({}); keep one tag \"{prefix} Name[ID : 123]\"",
                    found.join(", ")
                ))
            }
        }
    }
    settings.default.map(Some).ok_or_else(|| match &settings.tag_prefix {
        Some(prefix) => format!(
            "no background check package: tag the posting \"{prefix} Name[ID : 123]\" or set a default package"
        ),
        None => "no background check package is configured for this tenant".into(),
    })
}

async fn close(app: &App, order: Order, problem: &str) -> Result<Outcome, AppError> {
    tracing::info!(tenant = %order.tenant_id, vendor = %order.vendor, order = %order.order_id,
        "order not placed; the reason is on the order and in a Lever note");
    let mut closed = order.next_version();
    closed.phase = OrderPhase::Closed;
    closed.problem = Some(problem.to_owned());
    app.store.update_order(&closed).await?;
    Ok(Outcome::NotOrdered(closed))
}
