//! Ordering from vendors, in the worker: a verified stage change or new application is first
//! confirmed through Lever's API (its `data` is not signed), then each integration it
//! triggers gets one order: the intent first, then the vendor, then Lever.
//!
//! The order's id is derived from what Lever confirmed, not from the delivery: the entry in
//! the opportunity's `stageChanges` that put it in the trigger stage (tenant, vendor,
//! opportunity, the entry's time), or the new application's id. Redeliveries, other tokens
//! naming the same move, replays, a message processed twice, a retry after a crash and the
//! safety net's finds all name the same order, so the vendor sees one idempotency key and
//! an order that already ended is found, not placed again. The intent is a conditional
//! write, so a second move into the trigger stage while an order is open never orders twice
//! either.

use super::context::Worker;
use super::{lever_sync, Ack, AckStatus};
use crate::clock::{millis, now_millis};
use crate::delivery_log::{Effect, EffectResult};
use crate::directory::Tenant;
use crate::error::AppError;
use crate::ids::{OpportunityId, OrderId};
use crate::lever::webhook::Event;
use crate::lever::{LeverApi, LeverError, Opportunity};
use crate::order::{Order, OrderPhase};
use crate::store::{modify_order, CreateOrder};
use crate::telemetry::metrics;
use crate::tenant::{ConfidentialRefusal, Package};
use crate::vendors::{
    packages, CallbackAuth, CandidateOrder, Fix, PackageRule, PlacedOrder, Placement,
    RefusedSetting, Trigger, VendorDescription, VendorError, VendorId,
};
use secrecy::ExposeSecret;
use tracing::instrument;

/// A verified Lever event that may order (a stage change, a new application): confirmed,
/// then one order per integration it triggers.
#[instrument(skip_all, fields(opportunity = %event.opportunity()))]
pub async fn on_trigger(
    worker: &Worker<'_>,
    tenant: &Tenant,
    triggered_at: i64,
    event: &Event,
    callback_base: &str,
) -> Result<Vec<Effect>, AppError> {
    let mut confirmed: Option<Confirmed> = None;
    let mut effects = Vec::new();
    for (vendor, integration) in tenant.config.active() {
        let description = worker.vendor(vendor)?.description;
        let Some(trigger) = trigger(description, integration, event) else {
            continue;
        };
        let effect = worker
            .with_access(tenant, vendor, async {
                let lever = worker.lever_for(tenant, vendor).await?;
                if let Triggered::IfStageNamed(name, to_stage_id) = trigger {
                    let stages = worker.stages.stages(tenant.id(), lever.as_ref()).await?;
                    let entered = stages
                        .iter()
                        .any(|s| s.id == to_stage_id && s.text.eq_ignore_ascii_case(name));
                    if !entered {
                        return Ok(None);
                    }
                }
                // Lever's refusal of a confidential candidate is per credential: only
                // what it confirmed is reused for the next integration.
                let found = match &confirmed {
                    Some(found) => found.clone(),
                    None => match confirm(
                        lever.as_ref(),
                        worker,
                        (tenant, vendor),
                        event,
                        triggered_at,
                    )
                    .await?
                    {
                        Ok(found) => confirmed.insert(found).clone(),
                        Err(why) => return Ok(Some(Effect::unconfirmed(vendor, why))),
                    },
                };
                let order_id = found.order_id(tenant, vendor, event.opportunity());
                let opportunity = found.opportunity;
                let request = Request {
                    tenant,
                    lever: lever.as_ref(),
                    description,
                    callback_base,
                };
                let outcome = start(worker, &request, order_id, &opportunity).await?;
                Ok(Some(outcome.effect()))
            })
            .await?;
        match effect {
            Some(Some(effect)) => effects.push(effect),
            Some(None) => {}
            None => {
                tracing::warn!(%vendor, "integration disabled: not ordered");
                effects.push(Effect::disabled(vendor));
            }
        }
    }
    Ok(effects)
}

/// How an event triggers an integration.
#[derive(Clone, Copy)]
enum Triggered<'a> {
    /// Certainly: an Application Created, or a move into the trigger stage's id.
    Yes,
    /// If stage `.1` bears the name `.0` in Lever's stage list.
    IfStageNamed(&'a str, &'a str),
}

/// Whether `event` may trigger this integration, from its configuration alone.
fn trigger<'a>(
    description: &VendorDescription,
    integration: &'a crate::tenant::Integration,
    event: &'a Event,
) -> Option<Triggered<'a>> {
    match (description.trigger, event) {
        (Trigger::ApplicationCreated, Event::ApplicationCreated { .. }) => Some(Triggered::Yes),
        (Trigger::StageChange, Event::StageChange { to_stage_id, .. }) => {
            let stage = integration.trigger_stage.as_ref()?;
            match (&stage.id, &stage.name) {
                (Some(_), _) => stage.matches(to_stage_id, None).then_some(Triggered::Yes),
                (None, Some(name)) => Some(Triggered::IfStageNamed(name, to_stage_id)),
                (None, None) => None,
            }
        }
        _ => None,
    }
}

/// What Lever's API confirmed of a delivery: the opportunity, and what names the order.
#[derive(Clone)]
struct Confirmed {
    opportunity: Opportunity,
    entry: Entry,
}

/// The real event behind a delivery, which the order is named after.
#[derive(Clone)]
enum Entry {
    /// The `stageChanges` entry into the trigger stage: its time, ms.
    Stage(i64),
    /// The new application's id.
    Application(String),
}

impl Confirmed {
    fn order_id(&self, tenant: &Tenant, vendor: VendorId, opportunity: &OpportunityId) -> OrderId {
        match &self.entry {
            Entry::Stage(entered_at) => {
                OrderId::for_stage_entry(tenant.id(), vendor.as_str(), opportunity, *entered_at)
            }
            Entry::Application(id) => OrderId::for_application(tenant.id(), vendor.as_str(), id),
        }
    }
}

/// The opportunity, if Lever's API confirms what the delivery said: it is in the stage
/// because of a move at about `triggered_at`, or it has the application. A delivery that
/// does not match is logged as suspicious and orders nothing. A candidate Lever refuses the
/// integration's credential (a confidential posting's, without the confidential grant)
/// orders nothing either: the tenant's admin is told, since only they can fix it.
async fn confirm(
    lever: &dyn LeverApi,
    worker: &Worker<'_>,
    (tenant, vendor): (&Tenant, VendorId),
    event: &Event,
    triggered_at: i64,
) -> Result<Result<Confirmed, &'static str>, AppError> {
    let opportunity = match lever.opportunity(event.opportunity()).await {
        Ok(opportunity) => opportunity,
        Err(LeverError::NotFound { .. }) => {
            tracing::warn!(
                suspicious = true,
                reason = "no_such_opportunity",
                "the opportunity does not exist in Lever: nothing ordered"
            );
            metrics::unconfirmed("no_such_opportunity");
            return Ok(Err("the opportunity does not exist in Lever"));
        }
        Err(LeverError::Rejected {
            status: 403,
            message,
        }) => {
            tracing::warn!(
                %vendor,
                %message,
                "Lever refused the candidate (HTTP 403; a confidential posting's, without \
                 access to confidential data): nothing ordered"
            );
            metrics::lever_confidential_refused(vendor);
            let refusal = ConfidentialRefusal {
                vendor,
                at: now_millis(),
            };
            worker
                .tenant_store
                .put_confidential_refusal(tenant.id(), &refusal)
                .await?;
            return Ok(Err(
                "Lever refused the candidate: a confidential posting's, and the integration \
                 has no access to confidential data",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let tolerance = millis(worker.settings.stage_change_tolerance);
    let entry = match event {
        Event::StageChange { to_stage_id, .. } => opportunity
            .stage_entry(to_stage_id, triggered_at, tolerance)
            .map(Entry::Stage),
        Event::ApplicationCreated { application_id, .. } => opportunity
            .applications
            .iter()
            .find(|a| application_id.as_ref().is_none_or(|id| &a.id == id))
            .map(|a| Entry::Application(a.id.clone())),
        _ => None,
    };
    let Some(entry) = entry else {
        tracing::warn!(
            suspicious = true,
            reason = "data_not_confirmed",
            "Lever's API does not confirm what the signed delivery's data says: nothing ordered"
        );
        metrics::unconfirmed("data_not_confirmed");
        return Ok(Err(
            "Lever's API does not show the move or application the delivery describes",
        ));
    };
    Ok(Ok(Confirmed { opportunity, entry }))
}

/// One order request: the tenant, its Lever client for the integration, the vendor.
pub struct Request<'a> {
    /// The tenant ordering.
    pub tenant: &'a Tenant,
    /// Lever as the vendor's integration (its credential and request budget).
    pub lever: &'a dyn LeverApi,
    /// The vendor ordered from.
    pub description: &'static VendorDescription,
    /// Where this deployment is reachable; vendor callback URLs are made from it.
    pub callback_base: &'a str,
}

/// What became of an order request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The order this request names exists with the vendor (placed now, or earlier by
    /// another attempt) and is shown in Lever.
    Ordered(Order),
    /// Another open order exists for this opportunity and vendor.
    AlreadyOpen(Order),
    /// The candidate lacks data the vendor needs, or the vendor refused: a Lever note says
    /// what to fix, and the order is closed so that ordering again is possible.
    NotOrdered(Order),
    /// The vendor refused the tenant's account: the order is held (needs attention), the
    /// admin told, the recruiter noted once, until the admin fixes it and it resumes.
    Held(Order),
}

impl Outcome {
    /// The order the outcome is about, whichever it is.
    pub fn order(&self) -> &Order {
        match self {
            Outcome::Ordered(o)
            | Outcome::AlreadyOpen(o)
            | Outcome::NotOrdered(o)
            | Outcome::Held(o) => o,
        }
    }

    /// What it came to, for the delivery log.
    pub fn effect(&self) -> Effect {
        let order = self.order();
        let (result, why) = match self {
            Outcome::Ordered(_) => (EffectResult::Ordered, None),
            Outcome::AlreadyOpen(_) => (EffectResult::AlreadyOpen, None),
            Outcome::NotOrdered(o) => (EffectResult::NotOrdered, o.problem().map(str::to_owned)),
            Outcome::Held(o) => (EffectResult::Held, o.attention().map(|a| a.cause.clone())),
        };
        Effect {
            vendor: order.vendor(),
            result,
            order: Some(order.order_id().clone()),
            candidate: order.candidate_name().map(str::to_owned),
            why,
        }
    }

    /// What the operator's command answers.
    pub fn ack(&self) -> Ack {
        let mut ack = Ack::new(match self {
            Outcome::NotOrdered(_) | Outcome::Held(_) => AckStatus::NotOrdered,
            _ => AckStatus::Ordered,
        });
        ack.orders.push(self.order().into());
        ack
    }
}

/// Writes the order intent (or finds the one this event wrote before) and places it.
pub async fn start(
    worker: &Worker<'_>,
    request: &Request<'_>,
    order_id: OrderId,
    opportunity: &Opportunity,
) -> Result<Outcome, AppError> {
    let vendor = request.description.id;
    let opportunity_id = OpportunityId::parse(opportunity.id.as_str())
        .map_err(|e| AppError::Lever(LeverError::Decode(e.to_string())))?;
    let intent = Order::new_intent(
        order_id,
        request.tenant.id().clone(),
        vendor,
        opportunity_id,
    );
    let intent = intent.for_candidate(opportunity.name.as_deref());
    let order = match worker.orders.create_order(&intent).await? {
        CreateOrder::Created => {
            tracing::info!(order = %intent.order_id(), %vendor, "order intent written");
            super::reorder::carry_steps(worker, intent).await?
        }
        // This event's order, from an earlier attempt: resume it.
        CreateOrder::Exists(order) => order,
        // A held order (the vendor refused the account or a setting): a new trigger, after
        // a fix (a package tag corrected), places it rather than ordering beside it.
        CreateOrder::AlreadyOpen(held)
            if held.phase() == OrderPhase::Pending && held.attention().is_some() =>
        {
            tracing::info!(order = %held.order_id(), %vendor, "a held order is triggered again: resuming it");
            return resume(worker, request, held).await;
        }
        CreateOrder::AlreadyOpen(open) => {
            tracing::info!(order = %open.order_id(), %vendor, "an order is already open; not ordering again");
            metrics::not_ordered("already_open");
            return Ok(Outcome::AlreadyOpen(open));
        }
    };
    place(worker, request, order, opportunity).await
}

/// Places the vendor order for an intent and shows its first status in Lever. Safe to
/// repeat: an order that already has a vendor order is only shown; the vendor-side ids of
/// each step are kept on the order as soon as they exist. Errors are the ones worth
/// retrying; problems a person must fix end as `NotOrdered`.
#[instrument(skip_all, fields(order = %order.order_id(), vendor = %order.vendor()))]
pub async fn place(
    worker: &Worker<'_>,
    request: &Request<'_>,
    mut order: Order,
    opportunity: &Opportunity,
) -> Result<Outcome, AppError> {
    if order.phase() != OrderPhase::Pending {
        lever_sync::sync(
            worker,
            request.lever,
            order.order_id(),
            Some(&opportunity.tags),
        )
        .await?;
        return Ok(Outcome::Ordered(order));
    }
    let description = request.description;
    let posting = match opportunity.posting_id() {
        Some(posting_id) => match request.lever.posting(posting_id).await {
            Ok(posting) => Some(posting),
            Err(LeverError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let (name, email) = match candidate(opportunity) {
        Ok(found) => found,
        Err(missing) => {
            let problem = format!("the candidate has no {missing} in Lever");
            return not_ordered(worker, request, order, &problem, "no_candidate_data").await;
        }
    };
    let posting_tags = posting
        .as_ref()
        .map(|p| p.tags.as_slice())
        .unwrap_or_default();
    let package = match choose_package(request, opportunity, posting_tags) {
        Ok(package) => package,
        Err(problem) if problem == NO_PACKAGE_CONFIGURED => {
            return not_ordered(worker, request, order, &problem, "no_package_configured").await
        }
        Err(problem) => return not_ordered(worker, request, order, &problem, "no_package").await,
    };
    let phone = phone_e164(
        opportunity.phones(),
        request.tenant.config.phone_region.as_deref(),
    );
    let callback_url = callback_url(request, description.id)?;
    let order_id = order.order_id().clone();
    let candidate = CandidateOrder {
        order_id: order_id.as_str(),
        name,
        email,
        phone: phone.as_deref(),
        role: posting.as_ref().and_then(|p| p.text.as_deref()),
        location: posting
            .as_ref()
            .and_then(|p| p.categories.location.as_deref())
            .or(opportunity.location.as_deref()),
        package: package.as_ref(),
        callback_url: &callback_url,
    };
    let api = worker.vendor_api(description.id)?;
    let account = worker.vendor_account(request.tenant, description.id)?;
    let placed = loop {
        match api.place(&account, &candidate, order.steps()).await {
            Ok(Placement::Placed(placed)) => break placed,
            Ok(Placement::Steps(steps)) => {
                order = modify_order(worker.orders, &order_id, |next| {
                    for (step, id) in &steps {
                        next.record_step(step, id);
                    }
                    true
                })
                .await?
                .ok_or(AppError::NotFound("order"))?
                .into_order();
            }
            Err(refused) if refused.needs_attention() => {
                return hold(worker, request, order, &refused).await;
            }
            Err(VendorError::Unorderable(why)) => {
                return not_ordered(worker, request, order, &why, "vendor_needs").await;
            }
            Err(refused) if refused.refusal().is_some() => {
                let message = refused.refusal().unwrap_or_default();
                let problem = format!("{} refused the order: {message}", description.name);
                return not_ordered(worker, request, order, &problem, "vendor_refused").await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    let order = record_placed(worker, description, order.order_id(), &placed).await?;
    tracing::info!(vendor_order = %placed.vendor_order_id, "vendor order placed");
    metrics::ordered(description.id);
    // The order exists now whatever Lever does; a failed tag write retries the message.
    lever_sync::sync(
        worker,
        request.lever,
        order.order_id(),
        Some(&opportunity.tags),
    )
    .await?;
    Ok(Outcome::Ordered(order))
}

/// `{base}/callbacks/{vendor}/{tenant}`: the route the vendor's callback function serves.
/// Vendors whose callbacks are unsigned get the tenant's callback secret as a last segment,
/// which is what authenticates them.
fn callback_url(request: &Request<'_>, vendor: VendorId) -> Result<String, AppError> {
    let url = format!(
        "{}/callbacks/{vendor}/{}",
        request.callback_base.trim_end_matches('/'),
        request.tenant.id()
    );
    if request.description.callback_auth != CallbackAuth::UrlSecret {
        return Ok(url);
    }
    let field = format!("vendors.{vendor}.callback_secret.current");
    let secret = request
        .tenant
        .secrets
        .vendor(vendor)
        .and_then(|v| v.callback_secret.as_ref())
        .map(|s| s.current.expose_secret())
        .ok_or_else(|| AppError::Misconfigured(format!("{field}: not set")))?;
    crate::callback_auth::check_secret(CallbackAuth::UrlSecret, secret)
        .map_err(|problem| AppError::Misconfigured(format!("{field}: {problem}")))?;
    Ok(format!("{url}/{secret}"))
}

/// Name and email are what every vendor needs to invite the candidate.
fn candidate(opportunity: &Opportunity) -> Result<(&str, &str), &'static str> {
    let name = opportunity
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    match (name, opportunity.primary_email()) {
        (Some(name), Some(email)) => Ok((name, email)),
        (None, None) => Err("name and no email address"),
        (None, Some(_)) => Err("name"),
        (Some(_), None) => Err("email address"),
    }
}

/// The first of the candidate's phone numbers that reads as a valid number, in E.164
/// (`+14165550104`); a number without `+` is read in the tenant's region. A phone is
/// optional to every vendor, so one that cannot be read is left out rather than risking
/// the order.
pub fn phone_e164<'a>(
    phones: impl IntoIterator<Item = &'a str>,
    region: Option<&str>,
) -> Option<String> {
    use rlibphonenumber::{PhoneNumber, PhoneNumberFormat, Region};
    let region = region
        .and_then(|r| r.to_ascii_uppercase().parse::<Region>().ok())
        .unwrap_or(Region::US);
    phones.into_iter().find_map(|raw| {
        let number = PhoneNumber::parse(raw, Some(region)).ok()?;
        if !number.is_valid() {
            return None;
        }
        Some(number.format_as(PhoneNumberFormat::E164).into_owned())
    })
}

/// Stores the vendor's order id and first status. If another attempt recorded the order
/// meanwhile, theirs stands.
async fn record_placed(
    worker: &Worker<'_>,
    description: &'static VendorDescription,
    order_id: &OrderId,
    placed: &PlacedOrder,
) -> Result<Order, AppError> {
    let status = placed
        .status
        .as_deref()
        .and_then(|word| description.status(word))
        .or_else(|| description.status(description.first_status));
    Ok(modify_order(worker.orders, order_id, |next| {
        if !next.placed(&placed.vendor_order_id, crate::clock::now_millis()) {
            return false;
        }
        if let Some(status) = status {
            next.advance(status, placed.results.clone());
        }
        true
    })
    .await?
    .ok_or(AppError::NotFound("order"))?
    .into_order())
}

/// Neither a package tag prefix nor a default package: only the admin can fix it.
const NO_PACKAGE_CONFIGURED: &str = "no background check package is configured for this tenant";

/// Closes the intent with the reason; the recruiter reads it in a Lever note.
async fn not_ordered(
    worker: &Worker<'_>,
    request: &Request<'_>,
    order: Order,
    problem: &str,
    reason: &'static str,
) -> Result<Outcome, AppError> {
    tracing::info!(
        reason,
        "order not placed; the reason is on the order and in a Lever note"
    );
    metrics::not_ordered(reason);
    let fix = match reason {
        "no_candidate_data" | "no_package" | "vendor_needs" => Fix::InLever,
        _ => Fix::AskAdmin,
    };
    let note = request.description.not_ordered_note(problem, fix);
    let closed = modify_order(worker.orders, order.order_id(), |next| {
        next.close(problem, "not-ordered", note.clone());
        true
    })
    .await?
    .ok_or(AppError::NotFound("order"))?
    .into_order();
    lever_sync::sync(worker, request.lever, closed.order_id(), None).await?;
    Ok(Outcome::NotOrdered(closed))
}

/// Holds the order: the vendor refused this tenant's account, which only the admin can fix.
/// Not retried (the message is done); the order keeps its intent, says why to the admin
/// (console, command, metric and alarm) and, once, to the recruiter in a Lever note; it is
/// placed when the admin fixes it ([`resume`]).
async fn hold(
    worker: &Worker<'_>,
    request: &Request<'_>,
    order: Order,
    error: &VendorError,
) -> Result<Outcome, AppError> {
    let name = request.description.name;
    let service = request.description.service;
    let (cause, fix, note) = match (error.refused_setting(), error) {
        (Some(RefusedSetting::Package), VendorError::Rejected { status, message }) => (
            format!("{name} refused the package ordered (HTTP {status}: {message})"),
            format!(
                "Check the package in {name}'s settings in the setup console (or the \
                 posting's package tag in Lever) and save: held orders are then placed"
            ),
            format!(
                "{service} not ordered yet: {name} did not accept the screening package chosen \
                 for this candidate (a package tag on the candidate or the job, else the \
                 default package). Correct the tag and move the candidate into the stage \
                 again, or ask your Lever admin to fix the default: it is then ordered."
            ),
        ),
        (Some(RefusedSetting::CallbackUrl), VendorError::Rejected { status, message }) => (
            format!("{name} refused this deployment's callback URL (HTTP {status}: {message})"),
            "Ask your operator to set PUBLIC_BASE_URL to the deployment's public https \
             address, then resume the held orders (Status page)"
                .to_owned(),
            format!(
                "{service} not ordered yet: {name} did not accept this connector's address. \
                 Your Lever admin has been told; it will be ordered once it is fixed."
            ),
        ),
        (_, VendorError::MissingCredential(field)) => (
            format!("{name}'s `{field}` is not set for this tenant"),
            credentials_fix(name),
            account_note(service, name),
        ),
        (_, VendorError::Rejected { status, message }) => (
            format!("{name} refused this account's credentials (HTTP {status}: {message})"),
            credentials_fix(name),
            account_note(service, name),
        ),
        (_, other) => (
            other.to_string(),
            credentials_fix(name),
            account_note(service, name),
        ),
    };
    tracing::warn!(vendor = %request.description.id, %cause, "order held: needs the admin");
    metrics::order_needs_attention(request.description.id);
    let now = now_millis();
    let held = modify_order(worker.orders, order.order_id(), |next| {
        next.hold(&cause, &fix, now);
        next.add_notice_once(HELD_NOTICE, || note.clone());
        true
    })
    .await?
    .ok_or(AppError::NotFound("order"))?
    .into_order();
    lever_sync::sync(worker, request.lever, held.order_id(), None).await?;
    Ok(Outcome::Held(held))
}

fn credentials_fix(name: &str) -> String {
    format!(
        "Save working {name} credentials in the setup console ({name}'s page, \"Your {name} \
         account\"): held orders are then placed"
    )
}

fn account_note(service: &str, name: &str) -> String {
    format!(
        "{service} not ordered yet: {name} did not accept this company's account. Your Lever \
         admin has been told; it will be ordered automatically once they fix it."
    )
}

/// The key of the Lever note a held order adds (once).
const HELD_NOTICE: &str = "held";

/// Places a held order again (the admin fixed what the vendor refused): the candidate is
/// read afresh from Lever; an order no longer pending, or a candidate Lever no longer has or
/// has archived, is left as it is. Safe to repeat: the order id is the vendor's idempotency
/// key, so it is never placed twice.
pub async fn resume(
    worker: &Worker<'_>,
    request: &Request<'_>,
    order: Order,
) -> Result<Outcome, AppError> {
    if order.phase() != OrderPhase::Pending || order.attention().is_none() {
        return Ok(Outcome::AlreadyOpen(order));
    }
    let opportunity = match request.lever.opportunity(order.opportunity_id()).await {
        Ok(opportunity) => opportunity,
        Err(LeverError::NotFound { .. }) => return Ok(Outcome::AlreadyOpen(order)),
        Err(error) => return Err(error.into()),
    };
    if opportunity.archived.is_some() {
        return Ok(Outcome::AlreadyOpen(order));
    }
    let cleared = modify_order(worker.orders, order.order_id(), |next| {
        next.release();
        true
    })
    .await?
    .ok_or(AppError::NotFound("order"))?
    .into_order();
    place(worker, request, cleared, &opportunity).await
}

/// The package for this vendor: from a tag on the opportunity or its posting, else the
/// tenant's default. `Err` is the problem to show the recruiter.
fn choose_package(
    request: &Request<'_>,
    opportunity: &Opportunity,
    posting_tags: &[String],
) -> Result<Option<Package>, String> {
    let description = request.description;
    if description.package == PackageRule::None {
        return Ok(None);
    }
    let settings = request
        .tenant
        .config
        .integration(description.id)
        .map(|i| i.package.clone())
        .unwrap_or_default();
    let prefix = description.package_tag_prefix(settings.tag_prefix.as_deref());
    if let Some(prefix) = prefix {
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
    settings.default.map(Some).ok_or_else(|| match prefix {
        Some(prefix) => format!(
            "no background check package: tag the posting \"{prefix} Name[ID : 123]\" or set a default package"
        ),
        None => NO_PACKAGE_CONFIGURED.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::phone_e164;

    #[test]
    fn phones_are_sent_in_e164_or_not_at_all() {
        for (typed, expected) in [
            ("+1 416 555 0104", Some("+14165550104")),
            ("(416) 555-0104", Some("+14165550104")),
            ("416.555.0104", Some("+14165550104")),
            ("+44 20 7946 0018", Some("+442079460018")),
            ("call me", None),
            ("555", None),
        ] {
            assert_eq!(phone_e164([typed], None).as_deref(), expected, "{typed}");
        }
        assert_eq!(
            phone_e164(["020 7946 0018"], Some("gb")).as_deref(),
            Some("+442079460018")
        );
        assert_eq!(
            phone_e164(["nope", "+1 416 555 0104"], None).as_deref(),
            Some("+14165550104"),
            "the first number that reads"
        );
    }
}
