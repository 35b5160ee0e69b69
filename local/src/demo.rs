//! The demo of the main job: a candidate moves into 'Reference Check', Xref is ordered once,
//! and each Xref status appears in Lever as the one Xref tag the candidate carries.

use crate::demo_tenant as demo;
use crate::sim::{SentCallback, SentWebhook, SimError};
use crate::stack::{Stack, StackOptions};
use std::fmt::Write as _;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("could not start the local stack: {0}")]
    Start(#[from] std::io::Error),
    #[error(transparent)]
    Simulator(#[from] SimError),
    #[error("the demo expected {expected}, but {found}")]
    Unexpected { expected: String, found: String },
}

/// Runs the scenario on a fresh embedded stack, printing each step as it happens.
/// Fails (rather than printing a wrong story) if the product does not behave.
pub async fn run() -> Result<(), DemoError> {
    let stack = Stack::start(StackOptions::embedded()).await?;
    let opportunity = demo::OPPORTUNITY_ID;
    println!("lever-screening local demo");
    println!("  functions  {}", stack.functions_url);
    println!("  Lever sim  {}/v1", stack.lever_url);
    println!("  Xref sim   {}\n", stack.xref_url);

    step(1, "Ada Lovelace is in 'Phone Screen' in Lever");
    show_lever(&stack, opportunity);

    step(
        2,
        "A recruiter moves her to 'Reference Check'; Lever posts the signed webhook",
    );
    let sent = stack
        .lever
        .move_to_stage(opportunity, demo::REFERENCE_CHECK_STAGE_ID)
        .await?;
    show_answer("lever-candidate-stage-change", &sent);
    let orders = stack.xref.orders();
    let [order] = orders.as_slice() else {
        return unexpected("exactly one Xref order", format!("{} orders", orders.len()));
    };
    println!(
        "    Xref received reference check {} for {} <{}>, role {:?}",
        order.id,
        order.candidate.name,
        order.candidate.email,
        order.role.as_deref().unwrap_or("-")
    );
    expect_tags(&stack, &["Xref - Candidate submitted"])?;

    step(
        3,
        "Lever redelivers the same webhook (as it does after a timeout)",
    );
    let again = stack.lever.send_raw(&lever_url(&stack), &sent.body).await?;
    show_answer("lever-candidate-stage-change", &again);
    if stack.xref.orders().len() != 1 {
        return unexpected("still one Xref order", "a second order was placed".into());
    }
    println!("    still one Xref order");

    let mut last = None;
    for (number, status, report) in [
        (4, "Referees nominated", None),
        (5, "References in progress", None),
        (6, "Completed", Some("https://xref.example/reports/ada")),
    ] {
        step(number, &format!("Xref reports '{status}'"));
        let callback = stack.xref.post_status(&order.id, status, report).await?;
        show_callback(&callback);
        expect_tags(&stack, &[&format!("Xref - {status}")])?;
        last = Some(callback);
    }

    step(
        7,
        "A late, out-of-order 'Referees nominated' callback arrives",
    );
    let late = stack
        .xref
        .post_status(&order.id, "Referees nominated", None)
        .await?;
    show_callback(&late);
    expect_tags(&stack, &["Xref - Completed"])?;
    if let Some(completed) = last {
        let repeat = stack.xref.resend(&completed).await?;
        println!("    Xref repeats its 'Completed' callback:");
        show_callback(&repeat);
    }

    step(
        8,
        "Grace Hopper, who has no email address in Lever, is moved to 'Reference Check'",
    );
    let sent = stack
        .lever
        .move_to_stage(
            demo::NO_EMAIL_OPPORTUNITY_ID,
            demo::REFERENCE_CHECK_STAGE_ID,
        )
        .await?;
    show_answer("lever-candidate-stage-change", &sent);
    let notes = stack.lever.notes(demo::NO_EMAIL_OPPORTUNITY_ID);
    let Some(note) = notes.first() else {
        return unexpected("an explanatory note", "no note".into());
    };
    println!("    Lever note on Grace's profile: \"{}\"", note.value);

    let calls = stack.lever.api_calls();
    println!(
        "\nDone: {} Xref order(s), {} Lever API call(s) in all.",
        stack.xref.orders().len(),
        calls.len()
    );
    Ok(())
}

fn lever_url(stack: &Stack) -> String {
    format!(
        "{}/lever/{}/candidate-stage-change",
        stack.functions_url,
        demo::TENANT
    )
}

fn step(number: u32, text: &str) {
    println!("{number}. {text}");
}

fn show_answer(function: &str, sent: &SentWebhook) {
    println!("    {function} answered {} {}", sent.status, sent.response);
}

fn show_callback(sent: &SentCallback) {
    println!(
        "    xref-callback answered {} {}",
        sent.status, sent.response
    );
}

fn show_lever(stack: &Stack, opportunity: &str) {
    let tags = stack
        .lever
        .opportunity(opportunity)
        .map(|o| o.tags)
        .unwrap_or_default();
    let mut line = String::from("    Lever shows tags: ");
    if tags.is_empty() {
        line.push_str("(none)");
    }
    for tag in &tags {
        let _ = write!(line, "[{tag}] ");
    }
    println!("{}", line.trim_end());
}

/// Prints what Lever shows and checks it is exactly `expected`.
fn expect_tags(stack: &Stack, expected: &[&str]) -> Result<(), DemoError> {
    show_lever(stack, demo::OPPORTUNITY_ID);
    let tags = stack
        .lever
        .opportunity(demo::OPPORTUNITY_ID)
        .map(|o| o.tags)
        .unwrap_or_default();
    if tags != expected {
        return unexpected(
            format!("tags {expected:?}"),
            format!("Lever shows {tags:?}"),
        );
    }
    Ok(())
}

fn unexpected<T>(expected: impl Into<String>, found: String) -> Result<T, DemoError> {
    Err(DemoError::Unexpected {
        expected: expected.into(),
        found,
    })
}
