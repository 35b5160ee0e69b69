//! Moving the candidate on when a screening completes, as Checkr's and Sterling's own Lever
//! integrations offer: per integration, optional ([`crate::tenant::OnCompletion`]).
//!
//! At most once per order (recorded in `lever_written` under [`KEY`]), only when the order's
//! status completes it with one of the configured results, never for a candidate Lever has
//! archived, and never backwards: the candidate moves only if the target stage comes after
//! the stage it is in now in the account's pipeline (`GET /stages` lists stages in pipeline
//! order), so a recruiter who has already moved the candidate on is not overruled.

use super::context::Worker;
use crate::directory::Tenant;
use crate::error::AppError;
use crate::ids::OrderId;
use crate::lever::LeverApi;
use crate::order::{Order, WrittenToLever};
use crate::store::modify_order;
use crate::tenant::OnCompletion;
use crate::vendors::Outcome;

/// The `lever_written` key of the move: present once the move is done or decided against.
pub const KEY: &str = "stage-move";

/// What the rule decided for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Move {
    /// Nothing to do now (no rule, not complete, another result, already decided).
    NotDue,
    /// Moved to this stage id.
    Moved(String),
    /// Due but not done, for good (archived, already further on, no such stage); why.
    Skipped(String),
}

/// Moves `order_id`'s candidate on if its integration's rule says so now. Errors are Lever's
/// (retried with the message); a decision is recorded on the order so it is made once.
pub async fn move_candidate(
    worker: &Worker<'_>,
    lever: &dyn LeverApi,
    tenant: &Tenant,
    order_id: &OrderId,
) -> Result<Move, AppError> {
    let Some(order) = worker.orders.get_order(order_id).await? else {
        return Ok(Move::NotDue);
    };
    let Some(rule) = tenant
        .config
        .integration(order.vendor())
        .and_then(|i| i.on_completion.as_ref())
    else {
        return Ok(Move::NotDue);
    };
    if !is_due(worker, rule, &order)? {
        return Ok(Move::NotDue);
    }
    let decision = decide(worker, lever, tenant, rule, &order).await?;
    if let Move::Moved(stage) = &decision {
        lever.move_to_stage(order.opportunity_id(), stage).await?;
        tracing::info!(order = %order_id, "candidate moved on completion");
    } else if let Move::Skipped(why) = &decision {
        tracing::info!(order = %order_id, why, "candidate not moved on completion");
    }
    let digest = match &decision {
        Move::Moved(stage) => format!("moved:{stage}"),
        Move::Skipped(why) => format!("skipped:{why}"),
        Move::NotDue => return Ok(decision),
    };
    modify_order(worker.orders, order_id, |next| {
        next.record_lever_write_once(KEY, || WrittenToLever {
            digest: digest.clone(),
            ..WrittenToLever::default()
        });
        true
    })
    .await?;
    Ok(decision)
}

/// Complete, with a result the rule names (any, when it names none), not yet decided.
fn is_due(worker: &Worker<'_>, rule: &OnCompletion, order: &Order) -> Result<bool, AppError> {
    if order.lever_written().contains_key(KEY) || order.purged_at().is_some() {
        return Ok(false);
    }
    let description = worker.vendor(order.vendor())?.description;
    let completed = order
        .status()
        .and_then(|word| description.status(word))
        .is_some_and(|status| status.outcome == Outcome::Completed);
    let result_wanted = rule.when_results.is_empty()
        || order.results().result_code.as_deref().is_some_and(|code| {
            rule.when_results
                .iter()
                .any(|wanted| wanted.eq_ignore_ascii_case(code))
        });
    Ok(completed && result_wanted)
}

async fn decide(
    worker: &Worker<'_>,
    lever: &dyn LeverApi,
    tenant: &Tenant,
    rule: &OnCompletion,
    order: &Order,
) -> Result<Move, AppError> {
    let stages = worker.stages.stages(tenant.id(), lever).await?;
    let wanted = &rule.move_to_stage;
    let Some(target) = stages
        .iter()
        .position(|stage| wanted.matches(&stage.id, Some(&stage.text)))
    else {
        return Ok(Move::Skipped(format!(
            "no stage {wanted} in this Lever account"
        )));
    };
    let opportunity = lever.opportunity(order.opportunity_id()).await?;
    if opportunity.archived.is_some() {
        return Ok(Move::Skipped("the candidate is archived".into()));
    }
    let current = opportunity
        .stage
        .as_deref()
        .and_then(|id| stages.iter().position(|stage| stage.id == id));
    if current.is_some_and(|current| current >= target) {
        return Ok(Move::Skipped(
            "the candidate is already at or past that stage".into(),
        ));
    }
    Ok(Move::Moved(stages[target].id.clone()))
}
