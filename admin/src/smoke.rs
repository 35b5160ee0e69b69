//! `lever-screening-admin smoke`: after `sam deploy`, checks the deployment from the
//! outside, as Lever, the vendors and a tenant's admin will reach it, and as the operator
//! reads it: every route answers as documented, the worker consumes a message, the
//! scheduled jobs' EventBridge rules exist, are enabled and invoke a function, each
//! tenant's secret and the Lever OAuth app's secret are there and readable. Each missing
//! piece is printed with its fix; the command fails if anything is missing. (The
//! functions' own rights to the secrets are proven before deploying, by scripts/iam-drill.)

use crate::cli::SmokeArgs;
use crate::output::{Answer, Table};
use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::types::RuleState;
use lever_screening::clock::now_millis;
use lever_screening::ids::{OrderId, TenantId};
use lever_screening::vendors::CallbackAuth;
use lever_screening::work::Work;
use lever_screening::App;
use serde_json::json;
use std::time::{Duration, Instant};

/// A tenant id no deployment has (ids are `A-Z a-z 0-9 - _`).
const NO_TENANT: &str = "smoke-test-no-such-tenant";

/// One check: what was checked, and if it failed, what is wrong and how to fix it.
struct Check {
    what: String,
    problem: Option<(String, String)>,
}

impl Check {
    fn ok(what: impl Into<String>) -> Self {
        Check {
            what: what.into(),
            problem: None,
        }
    }

    fn missing(what: impl Into<String>, found: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            what: what.into(),
            problem: Some((found.into(), fix.into())),
        }
    }
}

/// Runs every check against the deployment at `base` (its `ApiBaseUrl`).
pub(crate) async fn smoke(app: &App, base: &str, args: &SmokeArgs) -> Answer {
    let base = base.trim_end_matches('/');
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let mut checks = routes(&http, base).await;
    let tenants = match app.store().list_tenants().await {
        Ok(tenants) => tenants,
        Err(error) => {
            checks.push(Check::missing(
                "the table is readable",
                error.to_string(),
                "set TABLE_NAME to the stack's TableName output, with credentials that may read it",
            ));
            Vec::new()
        }
    };
    if let Some(first) = tenants.first() {
        checks.push(bad_signature(&http, base, &first.tenant_id).await);
        // The worker's batching window is 1 s, a cold start a few hundred ms.
        let wait = Duration::from_secs(args.worker_wait);
        checks.push(worker(app, &first.tenant_id, wait).await);
    } else {
        checks.push(Check::missing(
            "a tenant to send a test delivery and a test message for",
            "no tenant yet",
            "add the first tenant (`lever-screening-admin tenant put`), then run smoke again",
        ));
    }
    checks.extend(schedules(&args.schedule_rules).await);
    for config in &tenants {
        checks.push(match app.tenants().tenant(&config.tenant_id).await {
            Ok(_) => Check::ok(format!("tenant {}: its secret is readable", config.tenant_id)),
            Err(error) => Check::missing(
                format!("tenant {}: its secret is readable", config.tenant_id),
                error.to_string(),
                format!(
                    "store it: `lever-screening-admin tenant put <config.json> --secret <secret.json>` (Secrets Manager name SECRETS_PREFIX + {})",
                    config.tenant_id
                ),
            ),
        });
    }
    let oauth = "the Lever OAuth app's secret (LeverOAuthAppSecretName) is there";
    checks.push(match app.oauth_apps().await {
        Ok(_) => Check::ok(oauth),
        Err(error) => Check::missing(
            oauth,
            error.to_string(),
            "register the app in Lever and store {\"client_id\",\"client_secret\",\"redirect_uri\"} under LeverOAuthAppSecretName (README, Connecting an authorized app); needed only for Justifacts, HRLogics and ESR",
        ),
    });
    report(checks)
}

fn report(checks: Vec<Check>) -> Answer {
    let mut table = Table::new(["check", "result", "fix"]);
    let mut missing = 0;
    for check in &checks {
        match &check.problem {
            None => table.row([check.what.clone(), "ok".into(), String::new()]),
            Some((found, fix)) => {
                missing += 1;
                table.row([check.what.clone(), format!("MISSING: {found}"), fix.clone()]);
            }
        }
    }
    let json = json!(checks
        .iter()
        .map(|c| json!({
            "check": c.what,
            "ok": c.problem.is_none(),
            "found": c.problem.as_ref().map(|p| &p.0),
            "fix": c.problem.as_ref().map(|p| &p.1),
        }))
        .collect::<Vec<_>>());
    let heading = format!("smoke: {} ok, {missing} missing", checks.len() - missing);
    let answer = Answer::table(heading, table, json);
    if missing == 0 {
        answer
    } else {
        answer.failing(format!(
            "{missing} check(s) of the deployment failed; see the fixes above"
        ))
    }
}

/// What a route answered.
struct Answered {
    status: u16,
    content_type: String,
    body: String,
    headers: reqwest::header::HeaderMap,
}

async fn call(request: reqwest::RequestBuilder) -> Result<Answered, String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await.unwrap_or_default();
    Ok(Answered {
        status,
        content_type,
        body,
        headers,
    })
}

/// The JSON error code of an answer (`{"error":{"code":…}}`).
fn error_code(answered: &Answered) -> Option<String> {
    if !answered.content_type.starts_with("application/json") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(&answered.body).ok()?;
    value["error"]["code"].as_str().map(str::to_owned)
}

/// Expects `status` with a JSON error `code`.
fn expect_error(
    what: String,
    answered: Result<Answered, String>,
    status: u16,
    code: &str,
) -> Check {
    let fix = "redeploy (`sam deploy`) and read the function's log group; a 5xx or a non-JSON answer means the function or its route is not serving";
    match answered {
        Ok(a) if a.status == status && error_code(&a).as_deref() == Some(code) => Check::ok(what),
        Ok(a) => Check::missing(
            what,
            format!(
                "{} {}",
                a.status,
                a.body.chars().take(120).collect::<String>()
            ),
            fix,
        ),
        Err(error) => Check::missing(
            what,
            error,
            "check PUBLIC_BASE_URL is the stack's ApiBaseUrl output",
        ),
    }
}

/// Every route, answered by its own function: a Lever webhook or a vendor callback for a
/// tenant that does not exist is 404 JSON, Lever's OAuth redirect without its parameters a
/// 400 page, and the console's sign-in page an HTML page that is never cached.
async fn routes(http: &reqwest::Client, base: &str) -> Vec<Check> {
    let mut checks = Vec::new();
    for kind in lever_screening::lever::webhook::WebhookKind::ALL {
        let url = format!("{base}/lever/{NO_TENANT}/{}", kind.path());
        let answered = call(http.post(&url).json(&delivery(kind.event_name()))).await;
        checks.push(expect_error(
            format!(
                "POST /lever/{{tenant}}/{} (unknown tenant: 404)",
                kind.path()
            ),
            answered,
            404,
            "not_found",
        ));
    }
    for &vendor in lever_screening::vendors::VendorId::ALL {
        // A vendor whose callbacks are unsigned carries its secret in the URL.
        let path = match lever_screening::vendors::description(vendor).callback_auth {
            CallbackAuth::UrlSecret => {
                format!("/callbacks/{vendor}/{NO_TENANT}/{}", "0".repeat(32))
            }
            _ => format!("/callbacks/{vendor}/{NO_TENANT}"),
        };
        let answered = call(http.post(format!("{base}{path}")).json(&json!({}))).await;
        checks.push(expect_error(
            format!(
                "POST {} (unknown tenant: 404)",
                path.replace(NO_TENANT, "{tenant}")
            ),
            answered,
            404,
            "not_found",
        ));
    }
    // Lever's redirect lands in the admin's browser: it answers a page, not JSON.
    let what = "GET /lever/oauth/callback (no code or state: a 400 page)";
    checks.push(match call(http.get(format!("{base}/lever/oauth/callback"))).await {
        Ok(a) if a.status == 400 && a.content_type.starts_with("text/html") => Check::ok(what),
        Ok(a) => Check::missing(
            what,
            format!("{} {}", a.status, a.content_type),
            "if the Lever OAuth app's secret is missing (below), store it; otherwise read LeverOAuthCallbackFunction's log group",
        ),
        Err(error) => Check::missing(what, error, "check PUBLIC_BASE_URL is the stack's ApiBaseUrl output"),
    });
    let what = "GET /console/sign-in (200, HTML, with the product's security headers)";
    checks.push(
        match call(http.get(format!("{base}/console/sign-in"))).await {
            Ok(a) => {
                let header = |name: &str| {
                    a.headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                // Exactly what the product sets on every answer.
                let wrong: Vec<String> = lever_screening::http::SECURITY_HEADERS
                    .iter()
                    .filter(|(name, value)| header(name.as_str()) != *value)
                    .map(|(name, _)| format!("{name} {:?}", header(name.as_str())))
                    .collect();
                if a.status == 200 && a.content_type.starts_with("text/html") && wrong.is_empty() {
                    Check::ok(what)
                } else {
                    Check::missing(
                        what,
                        format!("{} {} {}", a.status, a.content_type, wrong.join(", ")),
                        "redeploy (`sam deploy`) and read SetupConsoleFunction's log group",
                    )
                }
            }
            Err(error) => Check::missing(
                what,
                error,
                "check PUBLIC_BASE_URL is the stack's ApiBaseUrl output",
            ),
        },
    );
    checks
}

/// A delivery shaped as Lever sends it, with a signature no token makes.
fn delivery(event: &str) -> serde_json::Value {
    json!({
        "token": format!("smoke-{}", uuid::Uuid::new_v4()),
        "triggeredAt": now_millis(),
        "event": event,
        "signature": "0".repeat(64),
        "data": {
            "opportunityId": "00000000-0000-4000-8000-000000000000",
            "fromStageId": "00000000-0000-4000-8000-000000000001",
            "toStageId": "00000000-0000-4000-8000-000000000002",
        },
    })
}

/// A Candidate Stage Change delivery for a real tenant with a forged signature: 401.
async fn bad_signature(http: &reqwest::Client, base: &str, tenant: &TenantId) -> Check {
    let url = format!("{base}/lever/{tenant}/candidate-stage-change");
    let answered = call(http.post(url).json(&delivery("candidateStageChange"))).await;
    expect_error(
        format!("POST /lever/{tenant}/candidate-stage-change with a forged signature (401)"),
        answered,
        401,
        "unauthorized",
    )
}

/// A harmless message for the worker (show an order that does not exist in Lever: nothing
/// to do), then the queue watched until it is empty again: the worker received it,
/// finished and Lambda deleted it.
async fn worker(app: &App, tenant: &TenantId, wait: Duration) -> Check {
    let what = "the worker consumes a test message from the work queue";
    let work = Work::SyncLever {
        tenant: tenant.clone(),
        order: OrderId::for_event(tenant, "smoke", &uuid::Uuid::new_v4().to_string()),
    };
    if let Err(error) = app.queue().send(&work).await {
        return Check::missing(
            what,
            error.to_string(),
            "set WORK_QUEUE_URL to the stack's WorkQueueUrl output, with credentials that may send to it",
        );
    }
    let started = Instant::now();
    while started.elapsed() < wait {
        match app.queue().depth().await {
            Ok(depth) if depth.is_idle() => return Check::ok(what),
            Ok(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            Err(error) => return Check::missing(what, error.to_string(), "check WORK_QUEUE_URL"),
        }
    }
    Check::missing(
        what,
        format!("the work queue still holds work after {} s", wait.as_secs()),
        "check that ScreeningWorkerFunction's event source mapping is enabled, and read its log group",
    )
}

/// Each scheduled job's EventBridge rule (the stack's ScheduleRules output) exists, is
/// enabled and invokes a Lambda function: without it the job silently never runs.
async fn schedules(rules: &[String]) -> Vec<Check> {
    let redeploy = "redeploy (`sam deploy`): the stack creates the rule with its function";
    let rules: Vec<&String> = rules.iter().filter(|r| !r.is_empty()).collect();
    if rules.is_empty() {
        return vec![Check::missing(
            "the scheduled jobs' EventBridge rules exist and are enabled",
            "SCHEDULE_RULES is not set",
            "set SCHEDULE_RULES to the stack's ScheduleRules output",
        )];
    }
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let events = aws_sdk_eventbridge::Client::new(&aws);
    let mut checks = Vec::new();
    for rule in rules {
        let what = format!("schedule {rule}: exists, is enabled and invokes a function");
        let described = match events.describe_rule().name(rule).send().await {
            Ok(described) => described,
            Err(error) => {
                let not_found = error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception());
                checks.push(if not_found {
                    Check::missing(what, "no such rule", redeploy)
                } else {
                    Check::missing(
                        what,
                        DisplayErrorContext(&error).to_string(),
                        "use credentials that may call events:DescribeRule and events:ListTargetsByRule",
                    )
                });
                continue;
            }
        };
        if described.state() != Some(&RuleState::Enabled) {
            let state = described.state().map_or("no state", |s| s.as_str());
            checks.push(Check::missing(
                what,
                format!("the rule is {state}"),
                format!("enable it: `aws events enable-rule --name {rule}`"),
            ));
            continue;
        }
        let targets = events.list_targets_by_rule().rule(rule).send().await;
        checks.push(match targets {
            Ok(t) if t.targets().iter().any(|t| t.arn().contains(":lambda:")) => Check::ok(what),
            Ok(_) => Check::missing(what, "the rule invokes no function", redeploy),
            Err(error) => Check::missing(
                what,
                DisplayErrorContext(&error).to_string(),
                "use credentials that may call events:ListTargetsByRule",
            ),
        });
    }
    checks
}
