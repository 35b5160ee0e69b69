//! The demo of the main job: a candidate moves into 'Reference Check', Xref is ordered once,
//! and each Xref status appears in Lever as the one Xref tag the candidate carries; then a
//! Sterling Backcheck case runs from submission to Completed, shown in Lever's notes.

use crate::demo_tenant as demo;
use crate::sim::{SentCallback, SentWebhook, SimError, SterlingCallback};
use crate::stack::{Stack, StackOptions};
use lever_screening::flows::oauth;
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

    sterling_case(&stack).await?;
    justifacts_case(&stack).await?;
    hrlogics_and_esr(&stack).await?;

    let calls = stack.lever.api_calls();
    println!(
        "\nDone: {} Xref, {} Sterling, {} Justifacts, {} HRLogics and {} ESR order(s); {} Lever API call(s) in all.",
        stack.xref.orders().len(),
        stack.sterling.screenings().len(),
        stack.justifacts.invitations().len(),
        stack.hrlogics.applicants().len(),
        stack.esr.orders().len(),
        calls.len() + stack.oauth_lever.api_calls().len()
    );
    Ok(())
}

/// A Sterling Backcheck case from submission to Completed with two services, shown as the
/// notes Lever keeps on the candidate.
async fn sterling_case(stack: &Stack) -> Result<(), DemoError> {
    let alan = demo::STERLING_OPPORTUNITY_ID;
    let sterling = &stack.sterling;
    let mut seen = Vec::new();

    step(
        9,
        "Alan Turing is moved to 'Background Check': a Sterling Backcheck case is submitted",
    );
    let sent = stack
        .lever
        .move_to_stage(alan, demo::BACKGROUND_CHECK_STAGE_ID)
        .await?;
    show_answer("lever-candidate-stage-change", &sent);
    let screenings = sterling.screenings();
    let [screening] = screenings.as_slice() else {
        return unexpected("one Sterling case", format!("{} cases", screenings.len()));
    };
    let id = screening.id.clone();
    for email in sterling.emails() {
        println!(
            "    Sterling emailed {} the candidate portal: {}",
            email.to, email.portal_url
        );
    }
    show_new_notes(stack, &mut seen);

    step(
        10,
        "Alan completes eConsent in the portal: Sterling reports 'In Progress'",
    );
    sterling.set_status(&id, "In Progress")?;
    show_sterling(stack, &sterling.post_callback(&id).await?, &mut seen);

    step(11, "The criminal record check completes first (piecemeal)");
    sterling.complete_service(
        &id,
        demo::STERLING_PACKAGE_SERVICES[0],
        "Clear",
        "https://sterling.example/reports/criminal",
    )?;
    show_sterling(stack, &sterling.post_callback(&id).await?, &mut seen);

    step(
        12,
        "Every service completes and Sterling scores the case Green",
    );
    sterling.complete(&id, "Green", "https://sterling.example/reports/alan")?;
    show_sterling(stack, &sterling.post_callback(&id).await?, &mut seen);
    let completed = stack
        .lever
        .notes(alan)
        .iter()
        .any(|n| n.value.contains("Status: Completed") && n.value.contains("Score: Green"));
    if !completed {
        return unexpected("a Completed note with the score", "none".into());
    }
    Ok(())
}

/// The second tenant connects its Lever account as an authorized app, then a Justifacts
/// check runs on a candidate whose posting carries the package tag.
async fn justifacts_case(stack: &Stack) -> Result<(), DemoError> {
    let katherine = demo::JUSTIFACTS_OPPORTUNITY_ID;
    step(13, "Globex connects its Lever account by OAuth: an operator makes the link, its Super Admin accepts");
    let link = oauth::authorize_link(&stack.app, demo::OAUTH_TENANT)
        .await
        .map_err(|e| DemoError::Unexpected {
            expected: "an authorize link".into(),
            found: e.to_string(),
        })?;
    println!("    authorize link: {link}");
    let page = reqwest::get(&link).await.map_err(SimError::from)?;
    let status = page.status();
    let text = page.text().await.map_err(SimError::from)?;
    println!(
        "    lever-oauth-callback answered {status}: {}",
        strip_tags(&text)
    );
    if !status.is_success() {
        return unexpected("a connected tenant", text);
    }

    step(14, "Katherine Johnson (posting tagged \"JUSTIFACTS BGC PKG: EmpCod[ID : 13558]\") moves to 'Background Check'");
    let sent = stack
        .oauth_lever
        .move_to_stage(katherine, demo::BACKGROUND_CHECK_STAGE_ID)
        .await?;
    show_answer("lever-candidate-stage-change", &sent);
    let invitations = stack.justifacts.invitations();
    let [invitation] = invitations.as_slice() else {
        return unexpected(
            "one Justifacts invitation",
            format!("{} invitations", invitations.len()),
        );
    };
    println!(
        "    Justifacts invited {} (package {}, ID {})",
        invitation.email, invitation.package_code, invitation.package_id
    );
    show_oauth_tags(stack);

    let id = invitation.request_id.clone();
    for (number, status, result, url, text) in [
        (
            15,
            "InProgressJustifacts",
            None,
            None,
            "Katherine completes the request",
        ),
        (
            16,
            "Complete",
            Some("Clear"),
            Some("https://jweb.example/results/katherine"),
            "Justifacts completes the order",
        ),
    ] {
        step(number, text);
        let sent = stack
            .justifacts
            .post_status(&id, status, result, url)
            .await?;
        println!(
            "    justifacts-callback answered {} {}",
            sent.status, sent.response
        );
        show_oauth_tags(stack);
    }
    for note in stack.oauth_lever.notes(katherine) {
        let kind = if note.secret { "secret note" } else { "note" };
        println!("    Lever {kind}: {}", note.value.replace('\n', " | "));
    }
    Ok(())
}

fn show_oauth_tags(stack: &Stack) {
    show_tags_of(stack, demo::JUSTIFACTS_OPPORTUNITY_ID);
}

fn show_tags_of(stack: &Stack, opportunity: &str) {
    let tags = stack
        .oauth_lever
        .opportunity(opportunity)
        .map(|o| o.tags)
        .unwrap_or_default();
    println!("    Lever shows tags: [{}]", tags.join("] ["));
}

/// On the same OAuth tenant: a new application goes to HRLogics for WOTC, and an ESR
/// background check reports a flag and its report.
async fn hrlogics_and_esr(stack: &Stack) -> Result<(), DemoError> {
    let katherine = demo::JUSTIFACTS_OPPORTUNITY_ID;
    step(17, "Lever reports Katherine's application (Application Created): HRLogics is sent the applicant");
    let sent = stack.oauth_lever.application_created(katherine).await?;
    println!(
        "    lever-application-created answered {} {}",
        sent.status, sent.response
    );
    let applicants = stack.hrlogics.applicants();
    let [applicant] = applicants.as_slice() else {
        return unexpected(
            "one HRLogics applicant",
            format!("{} applicants", applicants.len()),
        );
    };
    println!(
        "    HRLogics emailed {} the WOTC survey: {}",
        applicant.email, applicant.survey_url
    );
    step(18, "HRLogics evaluates the survey: Pre Qualified");
    let sent = stack
        .hrlogics
        .post_eligibility(&applicant.applicant_id, "Pre Qualified")
        .await?;
    println!(
        "    hrlogics-callback answered {} {}",
        sent.status, sent.response
    );
    show_tags_of(stack, katherine);

    let alan = demo::STERLING_OPPORTUNITY_ID;
    step(
        19,
        "Alan Turing moves to 'Pre-hire Screening': an ESR background check (default package)",
    );
    let sent = stack
        .oauth_lever
        .move_to_stage(alan, demo::PRE_HIRE_SCREENING_STAGE_ID)
        .await?;
    show_answer("lever-candidate-stage-change", &sent);
    let orders = stack.esr.orders();
    let [order] = orders.as_slice() else {
        return unexpected("one ESR order", format!("{} orders", orders.len()));
    };
    step(
        20,
        "ESR reports In-Progress with a flag, then Completed with the report",
    );
    stack
        .esr
        .post_status(
            &order.order_id,
            "In-Progress",
            &[("Criminal", "Record found")],
            None,
        )
        .await?;
    stack
        .esr
        .post_status(
            &order.order_id,
            "Completed",
            &[],
            Some("https://esr.example/reports/alan"),
        )
        .await?;
    for note in stack.oauth_lever.notes(alan) {
        println!("    Lever note: {}", note.value.replace('\n', " | "));
    }
    Ok(())
}

/// The text of the small HTML page the OAuth callback answers.
fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn show_sterling(stack: &Stack, sent: &SterlingCallback, seen: &mut Vec<(String, String)>) {
    println!(
        "    sterling-callback answered {} {}",
        sent.status, sent.response
    );
    show_new_notes(stack, seen);
}

/// Prints the notes on Alan's profile that are new or changed since the last call.
fn show_new_notes(stack: &Stack, seen: &mut Vec<(String, String)>) {
    for note in stack.lever.notes(demo::STERLING_OPPORTUNITY_ID) {
        let known = seen.iter().position(|(id, _)| *id == note.id);
        let verb = match known {
            Some(at) if seen[at].1 == note.value => continue,
            Some(at) => {
                seen[at].1 = note.value.clone();
                "updated"
            }
            None => {
                seen.push((note.id.clone(), note.value.clone()));
                "added"
            }
        };
        println!("    Lever note {verb}:");
        for line in note.value.lines() {
            println!("      | {line}");
        }
    }
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
