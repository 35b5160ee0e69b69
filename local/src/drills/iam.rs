//! The IAM drill (issue 24): every function's real work against AWS services that enforce
//! the function's own IAM policy. `scripts/iam-drill` creates the stack from
//! `template.yaml` in moto, gives each function an identity whose access is exactly the
//! policy statements of its role, and puts an IAM gate in front of the services that
//! refuses what those statements do not allow (and records what each statement allowed).
//! This drill is the product's side: each function runs on an [`App`] whose AWS clients
//! sign with that function's keys, and the flows are driven as in AWS:
//!
//! - `demo`: the demo story (intake of every webhook kind used, the worker's confirmation,
//!   ordering and write-back, vendor callbacks, the OAuth connection, archiving);
//! - `reconcile`: the hourly reconciliation of quiet open orders, and their re-read;
//! - `oauth-refresh`: Lever's access tokens expired, then the hourly webhook check, which
//!   refreshes them and writes them back into the tenant's secret;
//! - `retry-and-dead-letter`: the worker's retry (visibility) and dead-lettering;
//! - `console`: a tenant admin signs in to the setup console, sees its overview and status
//!   pages and retries the dead letter (the redrive);
//! - `safety-net`: the hourly safety net's Lever reads and cursor, for every tenant;
//! - `hire-and-delete`: Candidate Hired and Candidate Deleted deliveries, and the purge.
//!
//! Each step tells the gate its name first, so a refusal names the path it broke.

use super::DrillError;
use crate::demo_tenant as demo;
use crate::fixture::put_secret;
use crate::server::{self, Apps};
use crate::stack::{Stack, StackOptions};
use aws_sdk_dynamodb::config::Credentials;
use lever_screening::clock::{now_millis, Deadline};
use lever_screening::flows::reconcile;
use lever_screening::ids::{TenantId, VendorId};
use lever_screening::queue::sqs::SqsQueue;
use lever_screening::queue::{Queue, Received, WorkQueue};
use lever_screening::secrets::aws::SecretsManagerSource;
use lever_screening::store::dynamodb::DynamoStore;
use lever_screening::vendors::Vendors;
use lever_screening::work::Work;
use lever_screening::{App, Settings};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// `lever-screening-local iam --config <file>`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// The drill's set-up, as `scripts/iam-drill` writes it: the gate's endpoint, the
    /// stack's resource names, and an access key per function and for the operator.
    #[arg(long)]
    pub config: PathBuf,
}

/// What `scripts/iam-drill` hands the drill.
#[derive(Debug, Deserialize)]
pub struct Config {
    /// The IAM gate in front of DynamoDB, SQS and Secrets Manager.
    pub endpoint: String,
    pub region: String,
    pub table: String,
    pub secrets_prefix: String,
    pub work_queue_url: String,
    pub dead_letter_queue_url: String,
    pub oauth_app_secret: String,
    /// The operator's keys (seeding, as `lever-screening-admin` does).
    pub operator: Keys,
    /// Each function's keys, by binary name.
    pub functions: HashMap<String, Keys>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// How long the worker may take over one step's queued work.
const SETTLE: Duration = Duration::from_secs(60);

/// Runs every step; an error names the step that failed (the gate names the refusal).
pub async fn run(options: &Options) -> Result<String, DrillError> {
    let text = std::fs::read_to_string(&options.config)
        .map_err(|e| format!("{}: {e}", options.config.display()))?;
    let config: Config =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", options.config.display()))?;
    let config = Arc::new(config);
    let gate = Gate::new(&config.endpoint);
    let operator = Clients::new(&config, &config.operator).await;
    let per_function = {
        let config = Arc::clone(&config);
        let mut clients = HashMap::new();
        for function in server::functions() {
            let keys = config
                .functions
                .get(&function)
                .ok_or_else(|| format!("the config has no keys for function {function}"))?;
            clients.insert(function, Clients::new(&config, keys).await);
        }
        Arc::new(move |function: &str, settings: &Settings| {
            let clients = &clients[function];
            Arc::new(clients.app(&config, settings.clone()))
        })
    };
    gate.step("setup").await?;
    let stack = Stack::start(StackOptions {
        store: Arc::new(operator.store(&config)),
        queue: Arc::new(operator.queue(&config)),
        secrets: Some(Arc::new(operator.secrets(&config))),
        settings: Settings {
            lever_oauth_app_secret: Some(config.oauth_app_secret.clone()),
            ..Settings::default()
        },
        per_function: Some(per_function),
        // The drill runs the worker itself, to stop it while it plays the worker's retries.
        workers: 0,
        ..StackOptions::embedded()
    })
    .await?;
    let worker = server::spawn_worker(Arc::clone(stack.apps.function(server::WORKER)));
    let run = demo::secrets_for_run(&stack.functions_url, serde_json::Map::new())?;
    for tenant in [demo::TENANT, demo::OAUTH_TENANT] {
        let name = format!("{}{tenant}", config.secrets_prefix);
        put_secret(&operator.secrets, &name, &run["tenants"][tenant]).await?;
    }
    let oauth_app = &run["named"][demo::OAUTH_APP_SECRET_NAME];
    put_secret(&operator.secrets, &config.oauth_app_secret, oauth_app).await?;

    gate.step("demo").await?;
    let stack = crate::demo::play(stack).await?;

    gate.step("reconcile").await?;
    reconcile_quiet_orders(&stack).await?;

    gate.step("oauth-refresh").await?;
    stack.oauth_lever.expire_access_tokens();
    check_webhooks(&stack.apps).await?;

    gate.step("retry-and-dead-letter").await?;
    settle(&stack).await?;
    worker.abort();
    dead_letter_one(&stack, &operator, &config).await?;

    gate.step("console").await?;
    let worker = server::spawn_worker(Arc::clone(stack.apps.function(server::WORKER)));
    console_redrive(&stack).await?;

    gate.step("safety-net").await?;
    safety_net(&stack).await?;
    gate.step("hire-and-delete").await?;
    hire_and_delete(&stack).await?;
    worker.abort();
    gate.step("done").await?;
    Ok("iam drill: every step done".into())
}

/// The AWS clients of one identity.
struct Clients {
    dynamodb: aws_sdk_dynamodb::Client,
    secrets: aws_sdk_secretsmanager::Client,
    sqs: aws_sdk_sqs::Client,
}

impl Clients {
    async fn new(config: &Config, keys: &Keys) -> Self {
        let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(config.region.clone()))
            .endpoint_url(&config.endpoint)
            .credentials_provider(Credentials::new(
                &keys.access_key_id,
                &keys.secret_access_key,
                None,
                None,
                "iam-drill",
            ))
            .load()
            .await;
        Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(&aws),
            secrets: aws_sdk_secretsmanager::Client::new(&aws),
            sqs: aws_sdk_sqs::Client::new(&aws),
        }
    }

    fn store(&self, config: &Config) -> DynamoStore {
        DynamoStore::new(self.dynamodb.clone(), &config.table)
    }

    fn queue(&self, config: &Config) -> SqsQueue {
        SqsQueue::new(
            self.sqs.clone(),
            &config.work_queue_url,
            &config.dead_letter_queue_url,
        )
    }

    fn secrets(&self, config: &Config) -> SecretsManagerSource {
        SecretsManagerSource::new(self.secrets.clone(), &config.secrets_prefix)
    }

    /// The app of a function, as `App::from_env` builds it in Lambda, on these clients.
    fn app(&self, config: &Config, settings: Settings) -> App {
        App::new(
            Arc::new(self.store(config)),
            Arc::new(self.secrets(config)),
            Arc::new(self.queue(config)),
            settings,
            Vendors::standard(),
        )
    }
}

/// The gate's control endpoint: which step the drill is in.
struct Gate {
    http: reqwest::Client,
    url: String,
}

impl Gate {
    fn new(endpoint: &str) -> Self {
        Gate {
            http: reqwest::Client::new(),
            url: format!("{}/_iam-gate/step", endpoint.trim_end_matches('/')),
        }
    }

    async fn step(&self, name: &str) -> Result<(), DrillError> {
        println!("iam drill: step {name}");
        self.http
            .post(&self.url)
            .body(name.to_owned())
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

/// The reconciliation, as if every open order had been quiet for a day: it queues their
/// re-read, which the worker does.
async fn reconcile_quiet_orders(stack: &Stack) -> Result<(), DrillError> {
    // An order that stays open: Ada moved on to 'Background Check' (a Sterling case).
    stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::BACKGROUND_CHECK_STAGE_ID)
        .await?;
    settle(stack).await?;
    let app = stack.apps.function(server::RECONCILE_ORDERS);
    let quiet = i64::try_from(app.settings.reconcile_quiet_after.as_millis())?;
    let later = now_millis() + quiet + 24 * 3600 * 1000;
    let report = reconcile::run(
        app.store().as_ref(),
        app.queue().as_ref(),
        &app.settings,
        later,
    )
    .await?;
    println!("  reconcile: {}", serde_json::to_string(&report)?);
    if report.queued == 0 {
        return Err("the reconciliation found no open order to re-read".into());
    }
    settle(stack).await
}

/// The hourly webhook check, for every tenant, as `check-webhooks` runs it.
async fn check_webhooks(apps: &Apps) -> Result<(), DrillError> {
    let app = apps.function(server::CHECK_WEBHOOKS);
    let worker = app.worker(Deadline::after(Duration::from_secs(60)));
    for config in app.store().list_tenants().await? {
        let tenant = app.tenants().tenant(&config.tenant_id).await?;
        let report = lever_screening::flows::webhook_health::check(&worker, &tenant).await?;
        println!("  check-webhooks {}: {report:?}", config.tenant_id);
    }
    Ok(())
}

/// The hourly safety net, as `lever-safety-net` runs it: a first run sets each tenant's
/// cursor; then a stage change whose webhook never arrived (the webhook deleted in Lever) is
/// found an hour later and queued as work, which the worker confirms and orders.
async fn safety_net(stack: &Stack) -> Result<(), DrillError> {
    let app = stack.apps.function(server::LEVER_SAFETY_NET);
    sweep(app, now_millis()).await?;
    stack.lever.remove_webhook("candidateStageChange");
    // Nobody listens now: Lever records the move and delivers nothing.
    let _ = stack
        .lever
        .move_to_stage(demo::OPPORTUNITY_ID, demo::REFERENCE_CHECK_STAGE_ID)
        .await;
    let found = sweep(app, now_millis() + 3_600_000).await?;
    if found == 0 {
        return Err("the safety net found no missed stage change".into());
    }
    settle(stack).await
}

/// One run of the safety net over every tenant, at `at`; how much it found.
async fn sweep(app: &App, at: i64) -> Result<u32, DrillError> {
    let worker = app.worker(Deadline::after(Duration::from_secs(60)));
    let mut found = 0;
    for config in app.store().list_tenants().await? {
        let tenant = app.tenants().tenant(&config.tenant_id).await?;
        let run = lever_screening::flows::safety_net::run(&worker, &tenant, at).await?;
        println!(
            "  lever-safety-net {}: found {}",
            config.tenant_id,
            run.found()
        );
        found += run.found();
    }
    Ok(found)
}

/// A piece of work the worker gives up on (a harmless one: re-reading the Xref order). The
/// worker task is stopped while this runs, so the worker's identity receives it, puts it
/// back for later, receives it again and dead-letters it, as its retries do after the last
/// attempt.
async fn dead_letter_one(
    stack: &Stack,
    operator: &Clients,
    config: &Config,
) -> Result<(), DrillError> {
    let order = stack
        .xref
        .orders()
        .into_iter()
        .next()
        .ok_or("the demo placed no Xref order")?;
    let work = Work::ReadVendorOrder {
        tenant: TenantId::parse(demo::TENANT)?,
        vendor: VendorId::Xref,
        vendor_order_id: order.id,
        delivery: None,
    };
    operator.queue(config).send(&work).await?;
    let queue = stack.apps.function(server::WORKER).queue();
    let first = receive_one(queue.as_ref()).await?;
    queue.retry_later(&first.receipt, Duration::ZERO).await?;
    let again = receive_one(queue.as_ref()).await?;
    queue
        .dead_letter(&again, "iam drill: given up on purpose")
        .await?;
    queue.delete(&again.receipt).await?;
    Ok(())
}

async fn receive_one(queue: &dyn Queue) -> Result<Received, DrillError> {
    for _ in 0..20 {
        if let Some(message) = queue
            .receive(1, Duration::from_millis(500))
            .await?
            .into_iter()
            .next()
        {
            return Ok(message);
        }
    }
    Err("the work sent was never received".into())
}

/// The tenant's admin signs in with an invitation, looks at the overview and status pages
/// and retries the dead letter from the status page.
async fn console_redrive(stack: &Stack) -> Result<(), DrillError> {
    let link = crate::demo::console_invitation(stack, demo::TENANT).await?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    // A browser's form post names its origin; the console refuses one that does not.
    let origin = stack.functions_url.clone();
    let signed_in = http.post(&link).header("origin", &origin).send().await?;
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| format!("signing in answered {} and no session", signed_in.status()))?
        .to_owned();
    let base = format!("{}/console/tenants/{}", stack.functions_url, demo::TENANT);
    let page = |path: String| {
        let request = http.get(path).header("cookie", &cookie);
        async move {
            let response = request.send().await?;
            let status = response.status();
            let text = response.text().await?;
            if status != 200 {
                return Err(DrillError::from(format!("the console answered {status}")));
            }
            Ok::<_, DrillError>(text)
        }
    };
    page(base.clone()).await?;
    let status = page(format!("{base}/status")).await?;
    let field = |name: &str| {
        status
            .split(&format!(r#"name="{name}" value=""#))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or_else(|| format!("the status page has no {name} field: no dead letter listed"))
    };
    let (csrf, dead_letter) = (field("csrf")?, field("message_id")?);
    let post_form = |path: &str, form: Vec<(&'static str, String)>| {
        let request = http
            .post(format!("{base}{path}"))
            .header("cookie", &cookie)
            .header("origin", &origin)
            .form(&form);
        async move {
            let response = request.send().await?;
            let status = response.status();
            let to = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            // Where the answer leads: its redirect, or a page's links.
            let to = if to.is_empty() {
                response.text().await?
            } else {
                to
            };
            Ok::<_, DrillError>((status, to))
        }
    };
    let csrf_field = ("csrf", csrf.to_owned());
    let (status, to) = post_form(
        "/status/retry",
        vec![csrf_field.clone(), ("message_id", dead_letter.to_owned())],
    )
    .await?;
    if status != 303 || !to.contains("notice=retried") {
        return Err(format!("retrying answered {status} to {to:?}").into());
    }
    // "Connect with Lever": the console reads the OAuth app and hands the admin a link to
    // Lever's consent page.
    let (status, to) = post_form("/vendors/xref/connect", vec![csrf_field]).await?;
    if status != 200 || !to.contains("/authorize?") {
        return Err(format!("Connect with Lever answered {status} to {to:?}").into());
    }
    settle(stack).await
}

/// Ada is hired (acknowledged, nothing cancelled) and Alan's candidate is deleted in Lever
/// (his open orders cancelled and purged).
async fn hire_and_delete(stack: &Stack) -> Result<(), DrillError> {
    for (function, sent) in [
        (
            "lever-candidate-hired",
            stack.lever.hire(demo::OPPORTUNITY_ID).await?,
        ),
        (
            "lever-candidate-deleted",
            stack
                .lever
                .delete_opportunity(demo::STERLING_OPPORTUNITY_ID)
                .await?,
        ),
    ] {
        println!("  {function} answered {} {}", sent.status, sent.response);
        if !(200..300).contains(&sent.status) {
            return Err(format!("{function} answered {}", sent.status).into());
        }
    }
    settle(stack).await
}

async fn settle(stack: &Stack) -> Result<(), DrillError> {
    if stack.settle(SETTLE).await {
        Ok(())
    } else {
        Err("the worker did not finish the queued work".into())
    }
}
