//! The demo of the main job, on the embedded stack: Lever's connection test; a candidate
//! moved into 'Reference Check' ordering one Xref reference check, whose statuses then show
//! as the one Xref tag she carries; a Sterling Backcheck case from submission to Completed
//! in Lever's notes; a Checkr invitation to a clear report, as Lever's Checkr tags; an OAuth connection and a Justifacts check to its secret result note;
//! HRLogics WOTC on a new application; an ESR check with a flag and its report; archiving a
//! candidate. Each step prints what the function answered, then what Lever shows once the
//! worker has done the queued work.

use crate::demo_tenant as demo;
use crate::stack::{Stack, StackOptions};
use lever_screening::flows::oauth;
use lever_screening::ids::TenantId;
use lever_screening_simulators::{SentCallback, SentWebhook, SimError, SterlingCallback};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("could not start the local stack: {0}")]
    Start(#[from] std::io::Error),
    #[error(transparent)]
    Simulator(#[from] SimError),
    #[error("the demo expected {expected}, but {found}")]
    Unexpected { expected: String, found: String },
}

/// How long the worker may take over one step's queued work.
const SETTLE: Duration = Duration::from_secs(20);

/// Runs the scenario on a fresh embedded stack, printing each step as it happens.
/// Fails (rather than printing a wrong story) if the product does not behave.
pub async fn run() -> Result<(), DemoError> {
    play(Stack::start(StackOptions::embedded()).await?)
        .await
        .map(drop)
}

/// The scenario on `stack` (both demo tenants seeded, their secrets stored); answers the
/// stack for more.
pub async fn play(stack: Stack) -> Result<Stack, DemoError> {
    println!("lever-screening local demo");
    println!("  functions  {}", stack.functions_url);
    println!("  Lever sim  {}/v1\n", stack.lever_url);
    let mut demo = Demo { stack, step: 0 };
    demo.xref_case().await?;
    demo.sterling_case().await?;
    demo.checkr_case().await?;
    demo.justifacts_case().await?;
    demo.hrlogics_and_esr().await?;
    demo.archive_case().await?;
    let stack = &demo.stack;
    println!(
        "\nDone: {} Xref, {} Sterling, {} Checkr, {} Justifacts, {} HRLogics and {} ESR order(s); {} Lever API call(s) in all, {} throttled.",
        stack.xref.orders().len(),
        stack.sterling.screenings().len(),
        stack.checkr.invitations().len(),
        stack.justifacts.invitations().len(),
        stack.hrlogics.applicants().len(),
        stack.esr.orders().len(),
        stack.lever.api_calls().len() + stack.oauth_lever.api_calls().len(),
        stack.lever.throttled_count() + stack.oauth_lever.throttled_count(),
    );
    let link = console_invitation(stack, demo::TENANT).await?;
    let page = reqwest::get(&link)
        .await
        .map_err(|e| DemoError::Unexpected {
            expected: "the setup console's invitation page".into(),
            found: e.to_string(),
        })?;
    if page.status() != 200 {
        return unexpected(
            "the invitation page to answer 200",
            format!("it answered {}", page.status()),
        );
    }
    println!(
        "\nThe setup console, where the tenant's Lever admin does all of the above setup in a browser:\n    {link}\n    (a single-use sign-in link for tenant {}; it lives as long as this demo's stack: `cargo run -p lever-screening-local -- serve` keeps one up and prints its own)",
        demo::TENANT
    );
    Ok(demo.stack)
}

/// A single-use invitation link to `tenant`'s setup console on this stack, as
/// `lever-screening-admin console invite` prints it.
pub async fn console_invitation(stack: &Stack, tenant: &str) -> Result<String, DemoError> {
    let refused = |e: String| DemoError::Unexpected {
        expected: format!("an invitation to {tenant}'s setup console"),
        found: e,
    };
    let id = TenantId::parse(tenant).map_err(|e| refused(e.to_string()))?;
    let store = stack.app.store().as_ref();
    let invitation = lever_screening::console::session::invite(
        store,
        store,
        &id,
        &stack.functions_url,
        lever_screening::clock::now_millis(),
    )
    .await
    .map_err(|e| refused(e.to_string()))?;
    Ok(invitation.link)
}

struct Demo {
    stack: Stack,
    step: u32,
}

impl Demo {
    fn step(&mut self, text: &str) {
        self.step += 1;
        println!("{}. {text}", self.step);
    }

    /// Waits for the worker to finish what the step queued.
    async fn settle(&self) -> Result<(), DemoError> {
        if self.stack.settle(SETTLE).await {
            Ok(())
        } else {
            unexpected("the worker to finish", "work is still queued".into())
        }
    }

    async fn xref_case(&mut self) -> Result<(), DemoError> {
        let ada = demo::OPPORTUNITY_ID;
        self.step("An admin adds the Candidate Stage Change webhook in Lever and clicks Verify Connection");
        let test = self
            .stack
            .lever
            .send_test_delivery("candidateStageChange", "candidateHired")
            .await?;
        show_answer("lever-candidate-stage-change", &test);

        self.step("Ada Lovelace is in 'Phone Screen' in Lever");
        show_tags(&self.stack, Lever::Demo, ada);

        self.step("A recruiter moves her to 'Reference Check'; Lever posts the signed webhook");
        let sent = self
            .stack
            .lever
            .move_to_stage(ada, demo::REFERENCE_CHECK_STAGE_ID)
            .await?;
        show_answer("lever-candidate-stage-change", &sent);
        self.settle().await?;
        let orders = self.stack.xref.orders();
        let [order] = orders.as_slice() else {
            return unexpected("exactly one Xref order", format!("{} orders", orders.len()));
        };
        println!(
            "    the worker confirmed the move with Lever and ordered: Xref reference check {} for {} <{}>, role {:?}",
            order.id,
            order.candidate.name,
            order.candidate.email,
            order.role.as_deref().unwrap_or("-")
        );
        expect_tags(
            &self.stack,
            Lever::Demo,
            ada,
            &["Xref - Candidate submitted"],
        )?;

        self.step("Lever redelivers the same webhook (as it does after a timeout)");
        let again = self
            .stack
            .lever
            .send_raw(&self.stack.stage_change_url(demo::TENANT), &sent.body)
            .await?;
        show_answer("lever-candidate-stage-change", &again);
        self.settle().await?;
        if self.stack.xref.orders().len() != 1 {
            return unexpected("still one Xref order", "a second order was placed".into());
        }
        println!("    still one Xref order");

        let mut last = None;
        for (status, report) in [
            ("Referees nominated", None),
            ("References in progress", None),
            ("Completed", Some("https://xref.example/reports/ada")),
        ] {
            self.step(&format!("Xref reports '{status}'"));
            let callback = self
                .stack
                .xref
                .post_status(&order.id, status, report)
                .await?;
            show_callback("xref-callback", &callback);
            self.settle().await?;
            expect_tags(
                &self.stack,
                Lever::Demo,
                ada,
                &[&format!("Xref - {status}")],
            )?;
            last = Some(callback);
        }

        self.step("A late, out-of-order 'Referees nominated' callback arrives, and Xref repeats 'Completed'");
        let late = self
            .stack
            .xref
            .post_status(&order.id, "Referees nominated", None)
            .await?;
        show_callback("xref-callback", &late);
        if let Some(completed) = last {
            show_callback("xref-callback", &self.stack.xref.resend(&completed).await?);
        }
        self.settle().await?;
        expect_tags(&self.stack, Lever::Demo, ada, &["Xref - Completed"])?;

        self.step("Grace Hopper, who has no email address in Lever, is moved to 'Reference Check'");
        let grace = demo::NO_EMAIL_OPPORTUNITY_ID;
        let sent = self
            .stack
            .lever
            .move_to_stage(grace, demo::REFERENCE_CHECK_STAGE_ID)
            .await?;
        show_answer("lever-candidate-stage-change", &sent);
        self.settle().await?;
        let notes = self.stack.lever.notes(grace);
        let Some(note) = notes.first() else {
            return unexpected("an explanatory note", "no note".into());
        };
        println!(
            "    Lever note on Grace's profile: \"{}\"",
            first_line(&note.value)
        );
        Ok(())
    }

    /// A Sterling Backcheck case from submission to Completed with two services, shown as
    /// the notes Lever keeps on the candidate.
    async fn sterling_case(&mut self) -> Result<(), DemoError> {
        let alan = demo::STERLING_OPPORTUNITY_ID;
        let mut seen = Vec::new();
        self.step(
            "Alan Turing is moved to 'Background Check': a Sterling Backcheck case is submitted",
        );
        let sent = self
            .stack
            .lever
            .move_to_stage(alan, demo::BACKGROUND_CHECK_STAGE_ID)
            .await?;
        show_answer("lever-candidate-stage-change", &sent);
        self.settle().await?;
        let screenings = self.stack.sterling.screenings();
        let [screening] = screenings.as_slice() else {
            return unexpected("one Sterling case", format!("{} cases", screenings.len()));
        };
        let id = screening.id.clone();
        for email in self.stack.sterling.emails() {
            println!(
                "    Sterling emailed {} the candidate portal: {}",
                email.to, email.portal_url
            );
        }
        show_new_notes(&self.stack, alan, &mut seen);

        self.step("Alan completes eConsent in the portal: Sterling reports 'In Progress'");
        self.stack.sterling.set_status(&id, "In Progress")?;
        self.sterling_callback(&id, &mut seen).await?;

        self.step("The criminal record check completes first (piecemeal)");
        self.stack.sterling.complete_service(
            &id,
            demo::STERLING_PACKAGE_SERVICES[0],
            "Clear",
            "https://sterling.example/reports/criminal",
        )?;
        self.sterling_callback(&id, &mut seen).await?;

        self.step("Every service completes and Sterling scores the case Green");
        self.stack
            .sterling
            .complete(&id, "Green", "https://sterling.example/reports/alan")?;
        self.sterling_callback(&id, &mut seen).await?;
        let completed = self.stack.lever.notes(alan).iter().any(|n| {
            n.value.contains("Status: Completed") && n.value.contains("Results Score: Green")
        });
        if !completed {
            return unexpected("a Completed note with the Results Score", "none".into());
        }
        Ok(())
    }

    async fn sterling_callback(
        &self,
        id: &str,
        seen: &mut Vec<(String, String)>,
    ) -> Result<(), DemoError> {
        let sent: SterlingCallback = self.stack.sterling.post_callback(id).await?;
        println!(
            "    sterling-callback answered {} {}",
            sent.status, sent.response
        );
        self.settle().await?;
        println!("    the worker re-read the screening from Sterling's API and applied it");
        show_new_notes(&self.stack, demo::STERLING_OPPORTUNITY_ID, seen);
        Ok(())
    }

    /// A Checkr background check from the invitation to a clear report, shown as the one
    /// tag Lever's Checkr integration shows and a secret note linking the report.
    async fn checkr_case(&mut self) -> Result<(), DemoError> {
        let margaret = demo::CHECKR_OPPORTUNITY_ID;
        let mut seen = Vec::new();
        self.step(
            "Margaret Hamilton is moved to 'Pre-hire Screening': Checkr invites her to its form",
        );
        let sent = self
            .stack
            .lever
            .move_to_stage(margaret, demo::PRE_HIRE_SCREENING_STAGE_ID)
            .await?;
        show_answer("lever-candidate-stage-change", &sent);
        self.settle().await?;
        let invitations = self.stack.checkr.invitations();
        let [invitation] = invitations.as_slice() else {
            return unexpected(
                "one Checkr invitation",
                format!("{} invitations", invitations.len()),
            );
        };
        let id = invitation.id.clone();
        println!(
            "    Checkr invitation {id}: package {}, work location {}",
            invitation.package,
            invitation
                .work_locations
                .iter()
                .map(|l| format!(
                    "{}, {}",
                    l.city.as_deref().unwrap_or("-"),
                    l.state.as_deref().unwrap_or("-")
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
        self.checkr_webhooks(0, 1).await?;
        self.checkr_tags(margaret);

        self.step("Margaret fills in Checkr's form: the invitation completes and a report starts");
        let report = self.stack.checkr.complete_invitation(&id).await?;
        self.checkr_webhooks(1, 3).await?;
        self.checkr_tags(margaret);

        self.step("Checkr's report comes back clear");
        self.stack.checkr.complete_report(&report, "clear").await?;
        self.checkr_webhooks(3, 4).await?;
        let tags = self.checkr_tags(margaret);
        show_new_notes(&self.stack, margaret, &mut seen);
        if tags != ["Report Clear"] {
            return unexpected("the one tag Report Clear", format!("{tags:?}"));
        }
        Ok(())
    }

    /// Waits until Checkr has sent `count` webhooks and had each answered (it sends them
    /// after its own answers), shows the answers to those after the first `shown`, then
    /// waits for the worker's re-reads.
    async fn checkr_webhooks(&self, shown: usize, count: usize) -> Result<(), DemoError> {
        let sent = self
            .stack
            .checkr
            .webhooks_answered(count, Duration::from_secs(10))
            .await;
        for webhook in sent.iter().skip(shown) {
            println!(
                "    Checkr sent {} (X-Checkr-Signature): checkr-callback answered {}",
                webhook.event_type, webhook.status
            );
        }
        self.settle().await?;
        println!("    the worker re-read the invitation and its report from Checkr's API");
        Ok(())
    }

    fn checkr_tags(&self, opportunity: &str) -> Vec<String> {
        let tags = self.stack.lever.opportunity(opportunity).map(|o| o.tags);
        let tags = tags.unwrap_or_default();
        println!("    Lever shows tags: {tags:?}");
        tags
    }

    /// The second tenant connects its Lever account as an authorized app, then a
    /// Justifacts check runs on a candidate whose posting carries the package tag.
    async fn justifacts_case(&mut self) -> Result<(), DemoError> {
        let katherine = demo::JUSTIFACTS_OPPORTUNITY_ID;
        self.step("Globex connects its Lever account by OAuth: an operator makes the link, its Super Admin accepts");
        let app = &self.stack.app;
        let link = match app.oauth_apps().await {
            Ok(oauth_app) => {
                let tenant =
                    TenantId::parse(demo::OAUTH_TENANT).map_err(|e| DemoError::Unexpected {
                        expected: "a tenant id".into(),
                        found: e.to_string(),
                    })?;
                oauth::authorize_link(
                    app.store().as_ref(),
                    app.store().as_ref(),
                    &oauth_app,
                    &tenant,
                    None,
                )
                .await
            }
            Err(e) => Err(e),
        }
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

        self.step("Katherine Johnson (posting tagged \"JUSTIFACTS BGC PKG: EmpCod[ID : 13558]\") moves to 'Background Check'");
        let sent = self
            .stack
            .oauth_lever
            .move_to_stage(katherine, demo::BACKGROUND_CHECK_STAGE_ID)
            .await?;
        show_answer("lever-candidate-stage-change", &sent);
        self.settle().await?;
        let invitations = self.stack.justifacts.invitations();
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
        show_tags(&self.stack, Lever::OAuth, katherine);

        let id = invitation.request_id.clone();
        for (status, result, url, text) in [
            (
                "InProgressJustifacts",
                None,
                None,
                "Katherine completes the request",
            ),
            (
                "Complete",
                Some("Clear"),
                Some("https://jweb.example/results/katherine"),
                "Justifacts completes the order",
            ),
        ] {
            self.step(text);
            let sent = self
                .stack
                .justifacts
                .post_status(&id, status, result, url)
                .await?;
            show_callback("justifacts-callback", &sent);
            self.settle().await?;
            show_tags(&self.stack, Lever::OAuth, katherine);
        }
        for note in self.stack.oauth_lever.notes(katherine) {
            let kind = if note.secret { "secret note" } else { "note" };
            println!("    Lever {kind}: {}", note.value.replace('\n', " | "));
        }
        Ok(())
    }

    /// On the same OAuth tenant: a new application goes to HRLogics for WOTC, and an ESR
    /// background check reports a flag and its report.
    async fn hrlogics_and_esr(&mut self) -> Result<(), DemoError> {
        let katherine = demo::JUSTIFACTS_OPPORTUNITY_ID;
        self.step("Lever reports Katherine's application (Application Created): HRLogics is sent the applicant");
        let sent = self
            .stack
            .oauth_lever
            .application_created(katherine)
            .await?;
        show_answer("lever-application-created", &sent);
        self.settle().await?;
        let applicants = self.stack.hrlogics.applicants();
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
        self.step("HRLogics evaluates the survey: Pre Qualified");
        let sent = self
            .stack
            .hrlogics
            .post_eligibility(&applicant.applicant_id, "Pre Qualified")
            .await?;
        show_callback("hrlogics-callback", &sent);
        self.settle().await?;
        show_tags(&self.stack, Lever::OAuth, katherine);

        let alan = demo::STERLING_OPPORTUNITY_ID;
        self.step(
            "Alan Turing moves to 'Pre-hire Screening': an ESR background check (default package)",
        );
        let sent = self
            .stack
            .oauth_lever
            .move_to_stage(alan, demo::PRE_HIRE_SCREENING_STAGE_ID)
            .await?;
        show_answer("lever-candidate-stage-change", &sent);
        self.settle().await?;
        let orders = self.stack.esr.orders();
        let [order] = orders.as_slice() else {
            return unexpected("one ESR order", format!("{} orders", orders.len()));
        };
        self.step("ESR reports In-Progress with a flag (the candidate's followers are notified), then Completed with the report");
        let id = order.order_id.clone();
        show_callback(
            "esr-callback",
            &self
                .stack
                .esr
                .post_status(&id, "In-Progress", &[("Criminal", "Record found")], None)
                .await?,
        );
        self.settle().await?;
        show_callback(
            "esr-callback",
            &self
                .stack
                .esr
                .post_status(
                    &id,
                    "Completed",
                    &[],
                    Some("https://esr.example/reports/alan"),
                )
                .await?,
        );
        self.settle().await?;
        for note in self.stack.oauth_lever.notes(alan) {
            let notified = if note.notify_followers {
                " (followers notified)"
            } else {
                ""
            };
            println!(
                "    Lever note{notified}: {}",
                note.value.replace('\n', " | ")
            );
        }
        Ok(())
    }

    /// Archiving a candidate cancels her open Xref reference check.
    async fn archive_case(&mut self) -> Result<(), DemoError> {
        let grace = demo::NO_EMAIL_OPPORTUNITY_ID;
        self.step("Grace's email is added and she is ordered again; then a recruiter archives her in Lever");
        self.stack.lever.set_email(grace, "grace@example.com");
        self.stack
            .lever
            .move_to_stage(grace, demo::PHONE_SCREEN_STAGE_ID)
            .await?;
        self.stack
            .lever
            .move_to_stage(grace, demo::REFERENCE_CHECK_STAGE_ID)
            .await?;
        self.settle().await?;
        show_tags(&self.stack, Lever::Demo, grace);
        let sent = self.stack.lever.archive(grace).await?;
        show_answer("lever-candidate-archive-change", &sent);
        self.settle().await?;
        println!("    Xref cancelled: {:?}", self.stack.xref.cancelled());
        expect_tags(&self.stack, Lever::Demo, grace, &["Xref - Cancelled"])
    }
}

/// Which tenant's Lever account.
#[derive(Clone, Copy)]
enum Lever {
    Demo,
    OAuth,
}

fn tags(stack: &Stack, lever: Lever, opportunity: &str) -> Vec<String> {
    let sim = match lever {
        Lever::Demo => &stack.lever,
        Lever::OAuth => &stack.oauth_lever,
    };
    sim.opportunity(opportunity)
        .map(|o| o.tags)
        .unwrap_or_default()
}

fn show_tags(stack: &Stack, lever: Lever, opportunity: &str) {
    let tags = tags(stack, lever, opportunity);
    if tags.is_empty() {
        println!("    Lever shows tags: (none)");
    } else {
        println!("    Lever shows tags: [{}]", tags.join("] ["));
    }
}

/// Prints what Lever shows and checks it is exactly `expected`.
fn expect_tags(
    stack: &Stack,
    lever: Lever,
    opportunity: &str,
    expected: &[&str],
) -> Result<(), DemoError> {
    show_tags(stack, lever, opportunity);
    let tags = tags(stack, lever, opportunity);
    if tags != expected {
        return unexpected(
            format!("tags {expected:?}"),
            format!("Lever shows {tags:?}"),
        );
    }
    Ok(())
}

/// Prints the notes on `opportunity` that are new or changed since the last call.
fn show_new_notes(stack: &Stack, opportunity: &str, seen: &mut Vec<(String, String)>) {
    for note in stack.lever.notes(opportunity) {
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

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn show_answer(function: &str, sent: &SentWebhook) {
    println!("    {function} answered {} {}", sent.status, sent.response);
}

fn show_callback(function: &str, sent: &SentCallback) {
    println!("    {function} answered {} {}", sent.status, sent.response);
}

fn unexpected<T>(expected: impl Into<String>, found: String) -> Result<T, DemoError> {
    Err(DemoError::Unexpected {
        expected: expected.into(),
        found,
    })
}
