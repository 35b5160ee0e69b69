//! `lever-screening-admin`: what an operator does with a deployment, from one command.
//! Each command calls the library's flows with the deployment's [`App`] and answers a
//! readable table, or JSON with `--json`; a failure is a clear message and a non-zero exit.

pub mod cli;
pub mod conformance;
mod output;
mod smoke;

pub use cli::Cli;

use cli::{
    Command, ConformanceArgs, ConnectArgs, ConsoleAction, DlqAction, IntegrationAction, PutArgs,
    TenantAction, VendorAction, WebhooksAction,
};
use lever_screening::clock::Deadline;
use lever_screening::delivery_log::{LogFilter, Source};
use lever_screening::directory::Tenant;
use lever_screening::flows::deliveries::{self, Replayed};
use lever_screening::flows::{admin, oauth, webhook_health};
use lever_screening::ids::{DeliveryId, OpportunityId, TenantId};
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::secrets::{SecretsError, TenantSecrets};
use lever_screening::setup as checks;
use lever_screening::tenant::{Integration, StageRef, TenantConfig};
use lever_screening::vendors::{Trigger, VendorId};
use lever_screening::{App, AppError};
use output::{Answer, Table};
use serde_json::json;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// How long one command's outbound calls may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The command line is wrong: exit 2.
    #[error("{0}")]
    Usage(String),
    /// Understood, but refused or not done (no such tenant or integration, a configuration
    /// that cannot work, problems found): exit 1.
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("cannot read {path}: {reason}")]
    File { path: String, reason: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl AdminError {
    /// The process's exit code: 2 for wrong usage (the command line), 1 for anything that
    /// failed or was refused (operations.md: 0 done, 1 failed, 2 wrong usage).
    pub fn exit_code(&self) -> u8 {
        match self {
            AdminError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// Runs one command against `app`, writing its answer to `out`.
pub async fn run(cli: Cli, app: &App, out: &mut dyn Write) -> Result<(), AdminError> {
    let answer = match cli.command {
        Command::Tenant { action } => tenant(app, action).await?,
        Command::Webhooks { action } => webhooks(app, action).await?,
        Command::Integration {
            action: IntegrationAction::Delete { tenant, vendor },
        } => {
            let vendor = vendor_id(&vendor)?;
            let tenant = load(app, &tenant).await?;
            integration(&tenant, vendor)?;
            let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
            let deleted =
                admin::delete_integration(&worker, app.secrets(), &tenant, vendor).await?;
            let mut sentence = format!(
                "{vendor} removed from {}; webhooks deleted in Lever: {}",
                tenant.id(),
                list_or_none(&deleted.webhooks_deleted)
            );
            if let Some(problem) = &deleted.lever_problem {
                sentence.push_str(&format!(
                    "\nLever could not be asked to delete {} ({problem}): delete {} by hand in \
                     Lever, Settings › Integrations and API › Webhooks (those pointing at {})",
                    list_or_none(&deleted.webhooks_left),
                    if deleted.webhooks_left.len() == 1 {
                        "it"
                    } else {
                        "them"
                    },
                    public_base(app).unwrap_or_default(),
                ));
            }
            Answer::sentence(
                sentence,
                json!({ "tenant": tenant.id(), "vendor": vendor, "webhooks_deleted": deleted.webhooks_deleted, "webhooks_left": deleted.webhooks_left, "lever_problem": deleted.lever_problem }),
            )
        }
        Command::Order {
            tenant,
            vendor,
            opportunity,
        } => {
            let vendor = vendor_id(&vendor)?;
            let opportunity =
                OpportunityId::parse(opportunity).map_err(|e| AdminError::Usage(e.to_string()))?;
            let tenant = load(app, &tenant).await?;
            integration(&tenant, vendor)?;
            let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
            let ack =
                admin::order(&worker, &tenant, vendor, &opportunity, &public_base(app)?).await?;
            let json = serde_json::to_value(&ack).unwrap_or_default();
            let mut table = Table::new(["vendor", "order", "vendor order", "status"]);
            for order in &ack.orders {
                table.row([
                    order.vendor.to_string(),
                    order.order_id.to_string(),
                    order.vendor_order_id.clone().unwrap_or_default(),
                    order.status.clone().unwrap_or_default(),
                ]);
            }
            Answer::table(format!("{:?}", ack.status).to_lowercase(), table, json)
        }
        Command::Orders {
            tenant,
            opportunity,
        } => {
            let tenant = load(app, &tenant).await?;
            let opportunity =
                OpportunityId::parse(opportunity).map_err(|e| AdminError::Usage(e.to_string()))?;
            let orders = app
                .store()
                .orders_for_opportunity(tenant.id(), &opportunity)
                .await
                .map_err(AppError::from)?;
            let mut table = Table::new([
                "vendor",
                "order",
                "vendor order",
                "phase",
                "status",
                "shown in Lever",
                "problem",
            ]);
            for order in &orders {
                table.row([
                    order.vendor().to_string(),
                    order.order_id().to_string(),
                    order.vendor_order_id().unwrap_or_default().to_owned(),
                    match order.attention() {
                        Some(_) => "needs attention".to_owned(),
                        None => format!("{:?}", order.phase()).to_lowercase(),
                    },
                    order.status().unwrap_or_default().to_owned(),
                    order
                        .lever_written()
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    match order.attention() {
                        Some(attention) => format!("{} — {}", attention.cause, attention.fix),
                        None => order.problem().unwrap_or_default().to_owned(),
                    },
                ]);
            }
            Answer::table(
                format!("{} order(s) for {opportunity}", orders.len()),
                table,
                serde_json::to_value(&orders).unwrap_or_default(),
            )
        }
        Command::Resume {
            tenant,
            vendor,
            list,
        } => {
            let vendor = vendor.as_deref().map(vendor_id).transpose()?;
            let tenant = load(app, &tenant).await?;
            if let Some(vendor) = vendor {
                integration(&tenant, vendor)?;
            }
            let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
            if list {
                let held = admin::held_orders(&worker, &tenant, vendor).await?;
                let mut table = Table::new(["vendor", "opportunity", "order", "cause", "fix"]);
                for order in &held {
                    let attention = order.attention();
                    table.row([
                        order.vendor().to_string(),
                        order.opportunity_id().to_string(),
                        order.order_id().to_string(),
                        attention.map(|a| a.cause.clone()).unwrap_or_default(),
                        attention.map(|a| a.fix.clone()).unwrap_or_default(),
                    ]);
                }
                Answer::table(
                    format!("{} held order(s) of {}", held.len(), tenant.id()),
                    table,
                    serde_json::to_value(&held).unwrap_or_default(),
                )
            } else {
                let resumed =
                    admin::resume_held(&worker, &tenant, vendor, &public_base(app)?).await?;
                Answer::sentence(
                    format!(
                        "held orders of {}: {} placed, {} still refused by the vendor, {} not placed now",
                        tenant.id(),
                        resumed.placed,
                        resumed.still_held,
                        resumed.left
                    ),
                    serde_json::to_value(&resumed).unwrap_or_default(),
                )
            }
        }
        Command::Deliveries {
            tenant,
            outcome,
            from,
            candidate,
            before,
            limit,
        } => {
            let tenant = load(app, &tenant).await?;
            let filter = LogFilter {
                outcome,
                sender: from,
                candidate,
            };
            let before = before
                .map(DeliveryId::parse)
                .transpose()
                .map_err(|e| AdminError::Usage(e.to_string()))?;
            let page = deliveries::list(
                app.store().as_ref(),
                tenant.id(),
                &filter,
                before.as_ref(),
                limit,
            )
            .await?;
            let mut table = Table::new([
                "received (UTC)",
                "delivery",
                "from",
                "outcome",
                "candidate",
                "work",
            ]);
            for entry in &page.entries {
                let delivery = &entry.delivery;
                let mut outcome = delivery.received.as_str().to_owned();
                if let Some(why) = &delivery.why {
                    outcome.push_str(&format!(": {why}"));
                }
                table.row([
                    lever_screening::clock::utc_timestamp(delivery.received_at()),
                    delivery.id.to_string(),
                    match &delivery.source {
                        Source::Lever(event) => format!("lever {event}"),
                        Source::Vendor(vendor) => vendor.to_string(),
                    },
                    outcome,
                    delivery
                        .opportunity
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    entry.work_words(|vendor| vendor.to_string()),
                ]);
            }
            let more = match &page.older {
                Some(older) => format!("; older: --before {older}"),
                None => String::new(),
            };
            Answer::table(
                format!(
                    "deliveries of {}, newest first: {} shown{more}",
                    tenant.id(),
                    page.entries.len()
                ),
                table,
                serde_json::to_value(&page).unwrap_or_default(),
            )
        }
        Command::Replay { tenant, delivery } => {
            let tenant = load(app, &tenant).await?;
            let id = DeliveryId::parse(delivery).map_err(|e| AdminError::Usage(e.to_string()))?;
            let keep_until = app
                .settings()
                .log_keep_until(lever_screening::clock::now_millis());
            let replayed = deliveries::replay(
                app.store().as_ref(),
                app.queue().as_ref(),
                tenant.id(),
                &id,
                keep_until,
            )
            .await
            .map_err(|e| match e {
                AppError::NotFound(_) => {
                    AdminError::Failed(format!("no delivery {id} in the log of {}", tenant.id()))
                }
                AppError::Unprocessable(why) => AdminError::Failed(why),
                other => other.into(),
            })?;
            Answer::sentence(
                format!(
                    "delivery {id} replayed ({}): `deliveries {}` shows what it comes to",
                    match replayed {
                        Replayed::Redriven => "moved back from the dead-letter queue",
                        Replayed::Queued => "its work queued again",
                    },
                    tenant.id()
                ),
                serde_json::json!({ "replayed": replayed, "delivery": id }),
            )
        }
        Command::Dlq { action } => dlq(app, action).await?,
        Command::Console {
            action: ConsoleAction::Invite { tenant },
        } => {
            let tenant = TenantId::parse(tenant).map_err(|e| AdminError::Usage(e.to_string()))?;
            let invitation = lever_screening::console::session::invite(
                app.store().as_ref(),
                app.store().as_ref(),
                &tenant,
                &public_base(app)?,
                lever_screening::clock::now_millis(),
            )
            .await
            .map_err(|e| match e {
                AppError::NotFound(_) => AdminError::Failed(format!("no tenant {tenant}")),
                other => other.into(),
            })?;
            let hours = lever_screening::console::session::INVITATION_TTL_MS / 3_600_000;
            Answer::sentence(
                format!(
                    "Send this link to {tenant}'s Lever admin; it signs in to the setup console \
                     once, within {hours} hours:\n{}",
                    invitation.link
                ),
                json!({ "tenant": tenant, "link": invitation.link, "expires_at": invitation.expires_at }),
            )
        }
        Command::Vendor { action } => vendor(&action).await?,
        Command::Smoke(args) => smoke::smoke(app, &public_base(app)?, &args).await,
        Command::Status => {
            let depth = app.queue().depth().await.map_err(AppError::from)?;
            // What the safety nets' last runs found that no webhook delivered, all tenants.
            let mut missed = 0;
            for config in app.store().list_tenants().await.map_err(AppError::from)? {
                let run = app.store().safety_net(&config.tenant_id).await;
                missed += run.map_err(AppError::from)?.map_or(0, |r| r.found());
            }
            let mut table = Table::new([
                "waiting",
                "in flight",
                "dead letters",
                "missed by webhooks (safety net)",
            ]);
            table.row([
                depth.waiting.to_string(),
                depth.in_flight.to_string(),
                depth.dead.to_string(),
                missed.to_string(),
            ]);
            let mut json = serde_json::to_value(depth).unwrap_or_default();
            json["safety_net_found"] = missed.into();
            Answer::table("work queue".into(), table, json)
        }
    };
    finish(&answer, cli.json, out)
}

/// Runs a command that needs no deployment (`vendor conformance`); `None` for one that
/// does, which [`run`] takes with the deployment's [`App`].
pub async fn run_standalone(cli: &Cli, out: &mut dyn Write) -> Option<Result<(), AdminError>> {
    let Command::Vendor { action } = &cli.command else {
        return None;
    };
    Some(match vendor(action).await {
        Ok(answer) => finish(&answer, cli.json, out),
        Err(error) => Err(error),
    })
}

/// Prints `answer`; a failing answer, printed in full, then fails the command.
fn finish(answer: &Answer, json: bool, out: &mut dyn Write) -> Result<(), AdminError> {
    answer.write(out, json)?;
    match answer.failure() {
        Some(failure) => Err(AdminError::Failed(failure.to_owned())),
        None => Ok(()),
    }
}

async fn vendor(action: &VendorAction) -> Result<Answer, AdminError> {
    let VendorAction::Conformance(args) = action;
    let target = conformance_target(args)?;
    let report = conformance::run(&target)
        .await
        .ok_or_else(|| AdminError::Usage(format!("{} is not a contract vendor", target.vendor)))?;
    let mut table = Table::new(["check", "result"]);
    for check in &report.checks {
        let result = match &check.outcome {
            Ok(()) => "ok".to_owned(),
            Err(why) => format!("FAILED: {why}"),
        };
        table.row([check.name.clone(), result]);
    }
    let json = json!({
        "vendor": report.vendor,
        "base_url": target.base_url,
        "checks": report.checks.iter().map(|c| json!({
            "check": c.name,
            "ok": c.outcome.is_ok(),
            "problem": c.outcome.as_ref().err(),
        })).collect::<Vec<_>>(),
    });
    let passed = report.checks.len() - report.failed();
    let heading = format!(
        "{} contract conformance at {}: {passed} of {} checks passed",
        report.vendor,
        target.base_url,
        report.checks.len()
    );
    let answer = Answer::table(heading, table, json);
    Ok(match report.failed() {
        0 => answer,
        failed => answer.failing(format!(
            "{failed} check(s) failed: the implementation does not conform to docs/vendor-contract.openapi.json"
        )),
    })
}

/// The suite's target from the command line: the credential each vendor's API takes.
fn conformance_target(args: &ConformanceArgs) -> Result<conformance::Target, AdminError> {
    let vendor = vendor_id(&args.vendor)?;
    let contract_vendors = conformance::contract_vendors();
    if !contract_vendors.contains(&vendor) {
        let names: Vec<_> = contract_vendors.iter().map(|v| v.as_str()).collect();
        return Err(AdminError::Usage(format!(
            "{vendor} publishes its own API; the contract covers {}",
            names.join(", ")
        )));
    }
    let need = |value: &Option<String>, flag: &str| {
        value
            .clone()
            .ok_or_else(|| AdminError::Usage(format!("{vendor} needs {flag}")))
    };
    use conformance::Credential;
    let credential = match vendor {
        VendorId::Xref => Credential::Header("X-Api-Key", need(&args.api_key, "--api-key")?),
        VendorId::HrLogics => Credential::Bearer(need(&args.api_key, "--api-key")?),
        VendorId::Justifacts => Credential::Basic(
            need(&args.username, "--username")?,
            need(&args.password, "--password")?,
        ),
        _ => Credential::Basic(
            need(&args.username, "--username (the ESR account id)")?,
            need(&args.api_key, "--api-key")?,
        ),
    };
    let package = match (&args.package, vendor) {
        (None, _) => None,
        (Some(id), VendorId::Esr) => Some(json!(id)),
        (Some(code_id), VendorId::Justifacts) => {
            let (code, id) = code_id.split_once(':').ok_or_else(|| {
                AdminError::Usage("Justifacts' --package is CODE:ID, e.g. EmpCod:13558".into())
            })?;
            Some(json!({"code": code, "id": id}))
        }
        (Some(_), _) => {
            return Err(AdminError::Usage(format!("{vendor} takes no --package")));
        }
    };
    Ok(conformance::Target {
        vendor,
        base_url: args.base_url.clone(),
        credential,
        package,
    })
}

async fn tenant(app: &App, action: TenantAction) -> Result<Answer, AdminError> {
    Ok(match action {
        TenantAction::List => {
            let mut table = Table::new([
                "tenant",
                "integration",
                "enabled",
                "credential",
                "Lever access",
                "webhook",
                "safety net",
            ]);
            let mut json = Vec::new();
            for config in app.store().list_tenants().await.map_err(AppError::from)? {
                let tenant = app.tenants().tenant(&config.tenant_id).await?;
                let health = app
                    .store()
                    .webhook_health(tenant.id())
                    .await
                    .map_err(AppError::from)?;
                let states = admin::integration_states(&tenant, health.as_ref(), app.vendors());
                let safety_net = app
                    .store()
                    .safety_net(tenant.id())
                    .await
                    .map_err(AppError::from)?;
                let summary = admin::safety_net_summary(safety_net.as_ref());
                for state in &states {
                    table.row([
                        tenant.id().to_string(),
                        state.vendor.to_string(),
                        state.enabled.to_string(),
                        state.credential.to_owned(),
                        state.lever_access.clone(),
                        state.webhook.clone(),
                        summary.clone(),
                    ]);
                }
                json.push(json!({
                    "tenant": tenant.id(),
                    "integrations": states,
                    "safety_net": safety_net,
                }));
            }
            Answer::table(format!("{} tenant(s)", json.len()), table, json.into())
        }
        TenantAction::Show { tenant } => {
            let tenant = load(app, &tenant).await?;
            let health = app
                .store()
                .webhook_health(tenant.id())
                .await
                .map_err(AppError::from)?;
            let states = admin::integration_states(&tenant, health.as_ref(), app.vendors());
            let mut table = Table::new([
                "integration",
                "enabled",
                "vendor API",
                "ordered on",
                "package",
                "credential",
                "Lever access",
                "webhook",
            ]);
            for state in &states {
                let integration = tenant.config.integration(state.vendor);
                let trigger = app
                    .vendors()
                    .get(state.vendor)
                    .map(|v| v.description.trigger);
                table.row([
                    state.vendor.to_string(),
                    state.enabled.to_string(),
                    integration.map_or(String::new(), |i| i.api_base.clone()),
                    integration.map_or(String::new(), |i| ordered_on(trigger, i)),
                    integration.map_or(String::new(), package_rule),
                    state.credential.to_owned(),
                    state.lever_access.clone(),
                    state.webhook.clone(),
                ]);
            }
            let config = serde_json::to_value(&*tenant.config).unwrap_or_default();
            let heading = format!(
                "tenant {}: Lever API {}",
                tenant.id(),
                tenant.config.lever_api_base
            );
            Answer::table(
                heading,
                table,
                json!({ "config": config, "integrations": states, "webhooks": health }),
            )
        }
        TenantAction::Put(args) => put(app, args).await?,
        TenantAction::Disable { tenant, vendor } => {
            let vendor = vendor.as_deref().map(vendor_id).transpose()?;
            let tenant = load(app, &tenant).await?;
            if let Some(vendor) = vendor {
                integration(&tenant, vendor)?;
            }
            let mut config = (*tenant.config).clone();
            for (id, integration) in config.vendors.iter_mut() {
                if vendor.is_none_or(|only| only == *id) {
                    integration.enabled = false;
                }
            }
            app.store()
                .put_tenant(&config)
                .await
                .map_err(AppError::from)?;
            app.tenants().invalidate(tenant.id());
            Answer::sentence(
                format!(
                    "{} disabled for {}",
                    vendor.map_or("every integration".into(), |v| v.to_string()),
                    tenant.id()
                ),
                json!({ "tenant": tenant.id(), "disabled": vendor.map_or("all".into(), |v| v.to_string()) }),
            )
        }
        TenantAction::Check { tenant } => check(app, &tenant).await?,
        TenantAction::Connect(args) => connect(app, args).await?,
    })
}

/// `tenant put`: refuses a configuration or a secret that cannot work, each problem naming
/// its field, storing nothing then; checks the trigger and completion stages against
/// Lever's stage list, storing the id of each stage given by name (when Lever cannot be
/// asked, it warns and saves, the worker resolving names as deliveries come); then stores
/// the secret and the configuration.
async fn put(app: &App, args: PutArgs) -> Result<Answer, AdminError> {
    let mut config: TenantConfig = read_json(&args.config)?;
    let secret = match &args.secret {
        Some(path) => {
            let document: serde_json::Value = read_json(path)?;
            // Parsed through the library, whose errors never quote a secret value.
            let secrets = TenantSecrets::parse(&document.to_string())
                .map_err(|e| AdminError::Failed(format!("{}: {e}", path.display())))?;
            Some((document, Arc::new(secrets)))
        }
        None => None,
    };
    let secrets = match &secret {
        Some((_, secrets)) => Ok(Arc::clone(secrets)),
        None => match app.secrets().get(config.tenant_id.as_str()).await {
            Err(SecretsError::NotFound(_)) => Ok(Arc::default()),
            other => other,
        },
    };
    // The settings as a whole, with the secret they will be used with (when it can be read):
    // the same rules as the console's.
    let config_problems: Vec<String> =
        checks::settings_problems(&config, app.vendors(), secrets.as_deref().ok())
            .iter()
            .map(ToString::to_string)
            .collect();
    let secret_problems = secret
        .as_ref()
        .map(|(_, secrets)| checks::secret_problems(secrets, app.vendors()))
        .unwrap_or_default();
    if !config_problems.is_empty() || !secret_problems.is_empty() {
        return Err(not_saved(&config, &config_problems, &secret_problems));
    }
    let (missing, unchecked) = match secrets {
        Ok(secrets) => check_stages(app, &mut config, secrets).await,
        Err(e) => (Vec::new(), vec![format!("the tenant's secret: {e}")]),
    };
    if !missing.is_empty() {
        return Err(not_saved(&config, &missing, &[]));
    }
    if let (Some((_, secrets)), false) = (&secret, args.replace_anyway) {
        let refused = check_vendor_credentials(app, &config, secrets).await;
        if !refused.is_empty() {
            return Err(not_saved(&config, &[], &refused));
        }
    }
    if let Some((document, _)) = &secret {
        app.secrets()
            .source()
            .put_document(config.tenant_id.as_str(), document)
            .await
            .map_err(AppError::from)?;
        app.secrets().invalidate(config.tenant_id.as_str());
    }
    app.store()
        .put_tenant(&config)
        .await
        .map_err(AppError::from)?;
    app.tenants().invalidate(&config.tenant_id);
    let mut sentence = format!("saved tenant {}", config.tenant_id);
    if !unchecked.is_empty() {
        sentence.push_str(&format!(
            "\nwarning: stages not checked, Lever could not be asked (trigger stages left by \
             name are resolved by the worker as deliveries come):\n  {}",
            unchecked.join("\n  ")
        ));
    }
    Ok(Answer::sentence(
        sentence,
        json!({ "tenant": config.tenant_id, "unresolved_stages": unchecked }),
    ))
}

/// Tries each vendor credential of `secrets` on its vendor (the integration's read-only
/// check, as the console does before storing): the problems, each naming its vendor.
async fn check_vendor_credentials(
    app: &App,
    config: &TenantConfig,
    secrets: &Arc<TenantSecrets>,
) -> Vec<String> {
    let candidate = Tenant {
        config: Arc::new(config.clone()),
        secrets: Arc::clone(secrets),
    };
    let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
    let mut problems = Vec::new();
    for vendor in config.vendors.keys() {
        if secrets.vendor(*vendor).is_none() {
            continue;
        }
        if let Err(error) =
            admin::verify_vendor_credentials(&worker, &candidate, *vendor, &[]).await
        {
            let why = match error {
                AppError::BadRequest(why) => why,
                other => other.to_string(),
            };
            problems.push(format!(
                "vendors.{vendor}: {why} (--replace-anyway stores them untried)"
            ));
        }
    }
    problems
}

/// The refusal of `tenant put`, each problem under the document it is in.
fn not_saved(config: &TenantConfig, in_config: &[String], in_secret: &[String]) -> AdminError {
    let mut message = format!("tenant {} not saved:", config.tenant_id);
    for (document, problems) in [("configuration", in_config), ("secret", in_secret)] {
        if !problems.is_empty() {
            message.push_str(&format!("\n  {document}:\n    {}", problems.join("\n    ")));
        }
    }
    AdminError::Failed(message)
}

/// Checks each integration's trigger stage (vendors ordered on a stage change) and
/// completion stage against Lever's stage list, acting as that integration with `secrets`,
/// and stores the id of each stage found by name. Returns the stages Lever does not have,
/// and the integrations whose stages Lever could not be asked for, with why.
async fn check_stages(
    app: &App,
    config: &mut TenantConfig,
    secrets: Arc<TenantSecrets>,
) -> (Vec<String>, Vec<String>) {
    let candidate = Tenant {
        config: Arc::new(config.clone()),
        secrets,
    };
    let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
    let (mut missing, mut unchecked) = (Vec::new(), Vec::new());
    for (vendor, integration) in config.vendors.iter_mut() {
        let stage_triggered = app
            .vendors()
            .get(*vendor)
            .is_some_and(|v| v.description.trigger == Trigger::StageChange);
        let mut refs: Vec<(&str, &mut StageRef)> = Vec::new();
        if let Some(stage) = integration
            .trigger_stage
            .as_mut()
            .filter(|_| stage_triggered)
        {
            refs.push(("trigger_stage", stage));
        }
        if let Some(rule) = integration.on_completion.as_mut() {
            refs.push(("on_completion.move_to_stage", &mut rule.move_to_stage));
        }
        refs.retain(|(_, stage)| checks::names_a_stage(stage));
        if refs.is_empty() {
            continue;
        }
        let stages = match worker.lever_for(&candidate, *vendor).await {
            Ok(lever) => lever.stages().await.map_err(AppError::from),
            Err(e) => Err(e),
        };
        let stages = match stages {
            Ok(stages) => stages,
            Err(e) => {
                unchecked.push(format!("{vendor}: {e}"));
                continue;
            }
        };
        for (field, stage) in refs {
            if let Err(problem) = checks::resolve_stage(stage, &stages) {
                missing.push(format!("vendors.{vendor}.{field}: {problem}"));
            }
        }
    }
    (missing, unchecked)
}

/// `tenant check`: the report is printed (on stdout, as a table or JSON) whether or not it
/// finds problems; with problems the command then fails (exit 1).
async fn check(app: &App, tenant: &str) -> Result<Answer, AdminError> {
    let tenant = load(app, tenant).await?;
    let mut table = Table::new(["check", "result"]);
    let mut problems = Vec::new();
    for (document, found) in [
        (
            "configuration",
            checks::config_problems(&tenant.config, app.vendors()),
        ),
        (
            "secret",
            checks::secret_problems(&tenant.secrets, app.vendors()),
        ),
    ] {
        for problem in found {
            table.row([document.to_owned(), problem.clone()]);
            problems.push(problem);
        }
    }
    let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
    for (vendor, _) in tenant.config.vendors.iter().filter(|(_, i)| i.enabled) {
        let result = admin::lever_stages(&worker, &tenant, *vendor)
            .await
            .map(|_| "Lever accepts the credential".to_owned());
        let text = result.unwrap_or_else(|e| {
            let text = format!("FAILED: {e}");
            problems.push(format!("{vendor}: {e}"));
            text
        });
        table.row([format!("{vendor}'s Lever credential"), text]);
    }
    let json = json!({ "tenant": tenant.id(), "problems": problems });
    if problems.is_empty() {
        return Ok(Answer::table("all good".into(), table, json));
    }
    let found = format!("{} problem(s)", problems.len());
    let failure = format!("{}: {found}", tenant.id());
    Ok(Answer::table(found, table, json).failing(failure))
}

async fn connect(app: &App, args: ConnectArgs) -> Result<Answer, AdminError> {
    let vendor = args.vendor.as_deref().map(vendor_id).transpose()?;
    let key = match (&args.api_key, args.oauth) {
        (Some(key), _) => match lever_screening::lever::api_key_problem(key) {
            Some(problem) => return Err(AdminError::Usage(format!("--api-key {problem}"))),
            None => Some(key.as_str()),
        },
        (None, true) => None,
        (None, false) => return Err(AdminError::Usage("give --api-key KEY or --oauth".into())),
    };
    let tenant = load(app, &args.tenant).await?;
    if let Some(vendor) = vendor {
        integration(&tenant, vendor)?;
    }
    let Some(key) = key else {
        let oauth_apps = app.oauth_apps().await?;
        let link = oauth::authorize_link(
            app.store().as_ref(),
            app.store().as_ref(),
            &oauth_apps,
            tenant.id(),
            vendor,
        )
        .await?;
        return Ok(Answer::sentence(
            format!("Open this link as the tenant's Lever Super Admin (once, within 15 minutes):\n{link}"),
            json!({ "link": link }),
        ));
    };
    let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
    let integrations = admin::connect_api_key(
        &worker,
        app.secrets(),
        &tenant,
        vendor,
        key,
        args.replace_anyway,
    )
    .await?;
    let users = match integrations.as_slice() {
        [] if tenant.config.vendors.is_empty() => {
            "no integration uses it yet (the tenant has none)".to_owned()
        }
        [] => "no integration uses it (each has its own Lever credential)".to_owned(),
        [one] => format!("{one} now uses it"),
        many => format!(
            "{} now use it",
            many.iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Ok(Answer::sentence(
        format!("Lever API key stored for {}: {users}", tenant.id()),
        json!({ "tenant": tenant.id(), "integrations": integrations }),
    ))
}

async fn webhooks(app: &App, action: WebhooksAction) -> Result<Answer, AdminError> {
    let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
    Ok(match action {
        WebhooksAction::Register { tenant, vendor } => {
            let vendor = vendor.as_deref().map(vendor_id).transpose()?;
            let tenant = load(app, &tenant).await?;
            if let Some(vendor) = vendor {
                integration(&tenant, vendor)?;
            }
            let done = admin::register_webhooks(
                &worker,
                app.secrets(),
                &tenant,
                vendor,
                &public_base(app)?,
            )
            .await?;
            let mut table = Table::new(["webhook", "action"]);
            for registered in &done {
                table.row([registered.event.to_owned(), registered.action.to_owned()]);
            }
            Answer::table(
                format!(
                    "webhooks of {} (signature tokens stored in its secret)",
                    tenant.id()
                ),
                table,
                serde_json::to_value(&done).unwrap_or_default(),
            )
        }
        WebhooksAction::Rotate {
            tenant,
            event,
            grace_hours,
        } => {
            let kind = WebhookKind::from_event_name(&event).ok_or_else(|| {
                let known: Vec<_> = WebhookKind::ALL.iter().map(|k| k.event_name()).collect();
                AdminError::Usage(format!(
                    "{event} is not a webhook this product uses (one of {})",
                    known.join(", ")
                ))
            })?;
            let tenant = load(app, &tenant).await?;
            let needed = webhook_health::needed(&tenant.config.vendors, app.vendors());
            if !needed.contains(&kind) {
                let events: Vec<_> = needed.iter().map(|k| k.event_name()).collect();
                return Err(AdminError::Failed(format!(
                    "none of {}'s enabled integrations needs {event} (they need: {})",
                    tenant.id(),
                    list_or_none(&events)
                )));
            }
            // At most 720 (the argument's range): no overflow, no token valid for ever.
            let grace = Duration::from_secs(grace_hours.saturating_mul(3600));
            let id = admin::rotate_webhook_token(
                &worker,
                app.secrets(),
                &tenant,
                kind,
                &public_base(app)?,
                grace,
            )
            .await?;
            Answer::sentence(
                format!("webhook {id}: new signature token stored; the old one works {grace_hours} h more"),
                json!({ "webhook": id, "event": event, "grace_hours": grace_hours }),
            )
        }
        WebhooksAction::Check { tenant } => {
            let tenant = load(app, &tenant).await?;
            let health = webhook_health::check(&worker, &tenant).await?;
            let mut table = Table::new(["webhook", "state"]);
            for webhook in &health.webhooks {
                table.row([webhook.event.clone(), format!("{:?}", webhook.state)]);
            }
            Answer::table(
                format!("webhooks of {}", tenant.id()),
                table,
                serde_json::to_value(&health).unwrap_or_default(),
            )
        }
    })
}

async fn dlq(app: &App, action: DlqAction) -> Result<Answer, AdminError> {
    Ok(match action {
        DlqAction::List { max } => {
            let letters = app
                .queue()
                .dead_letters(max)
                .await
                .map_err(AppError::from)?;
            let mut table = Table::new(["message", "attempts", "last error", "work"]);
            for letter in &letters {
                table.row([
                    letter.message_id.clone(),
                    letter.attempts.map_or("-".into(), |a| a.to_string()),
                    letter.last_error.clone().unwrap_or_else(|| {
                        "(moved by the queue: the worker never finished)".into()
                    }),
                    letter.body.clone(),
                ]);
            }
            Answer::table(
                format!("{} dead letter(s)", letters.len()),
                table,
                serde_json::to_value(&letters).unwrap_or_default(),
            )
        }
        DlqAction::Redrive { message_id, all } => {
            if message_id.is_none() && !all {
                return Err(AdminError::Usage("give a message id, or --all".into()));
            }
            let moved = app
                .queue()
                .redrive(message_id.as_deref())
                .await
                .map_err(AppError::from)?;
            if moved == 0 && message_id.is_some() {
                return Err(AdminError::Failed("no such dead letter".into()));
            }
            Answer::sentence(
                format!("{moved} dead letter(s) sent back to the work queue"),
                json!({ "redriven": moved }),
            )
        }
    })
}

/// The settings every command needs, as the stack's outputs name them.
const REQUIRED_ENVIRONMENT: [&str; 4] = [
    "TABLE_NAME",
    "SECRETS_PREFIX",
    "WORK_QUEUE_URL",
    "DEAD_LETTER_QUEUE_URL",
];

/// Every required setting `get` lacks (unset or blank), all in one sentence; `None` when
/// none is missing.
pub fn environment_problem(get: impl Fn(&str) -> Option<String>) -> Option<String> {
    let missing: Vec<&str> = REQUIRED_ENVIRONMENT
        .into_iter()
        .filter(|name| get(name).is_none_or(|value| value.trim().is_empty()))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "set {} to the stack's outputs (docs/operations.md; docs/local.md for the local stack)",
            missing.join(", ")
        )
    })
}

async fn load(app: &App, tenant: &str) -> Result<Tenant, AdminError> {
    let id = TenantId::parse(tenant).map_err(|e| AdminError::Usage(e.to_string()))?;
    app.tenants().tenant(&id).await.map_err(|e| match e {
        AppError::NotFound(_) => AdminError::Failed(format!("no tenant {tenant}")),
        other => other.into(),
    })
}

/// What orders from the integration: its trigger stage, or the event.
fn ordered_on(trigger: Option<Trigger>, integration: &Integration) -> String {
    match (&integration.trigger_stage, trigger) {
        (Some(stage), _) => stage
            .name
            .clone()
            .or_else(|| stage.id.clone())
            .unwrap_or_default(),
        (None, Some(Trigger::ApplicationCreated)) => "new applications".into(),
        (None, _) => "(no stage)".into(),
    }
}

/// How the package is chosen: tag prefix, default, catalog size.
fn package_rule(integration: &Integration) -> String {
    let package = &integration.package;
    let mut parts = Vec::new();
    if let Some(prefix) = &package.tag_prefix {
        parts.push(format!("tag {prefix:?}"));
    }
    if let Some(default) = &package.default {
        parts.push(format!(
            "default {}",
            default.name.clone().unwrap_or_else(|| default.id.clone())
        ));
    }
    if !package.catalog.is_empty() {
        parts.push(format!("{} in catalog", package.catalog.len()));
    }
    parts.join("; ")
}

/// The tenant's integration with `vendor`, or the failure that it has none.
fn integration(tenant: &Tenant, vendor: VendorId) -> Result<&Integration, AdminError> {
    tenant.config.integration(vendor).ok_or_else(|| {
        let has: Vec<_> = tenant.config.vendors.keys().map(|v| v.as_str()).collect();
        AdminError::Failed(format!(
            "{} has no {vendor} integration (it has: {})",
            tenant.id(),
            list_or_none(&has)
        ))
    })
}

fn vendor_id(name: &str) -> Result<VendorId, AdminError> {
    VendorId::parse(name).ok_or_else(|| {
        let known: Vec<_> = VendorId::ALL.iter().map(|v| v.as_str()).collect();
        AdminError::Usage(format!(
            "unknown vendor {name} (one of {})",
            known.join(", ")
        ))
    })
}

/// This deployment's public base URL (the ApiBaseUrl output), for webhook and callback
/// URLs: an absolute http(s) URL, or the error naming the variable.
fn public_base(app: &App) -> Result<String, AdminError> {
    let base = app.settings.public_base_url.clone().ok_or_else(|| {
        AdminError::Usage("set PUBLIC_BASE_URL to the stack's ApiBaseUrl output".into())
    })?;
    match checks::public_base_problem(&base) {
        None => Ok(base),
        Some(problem) => Err(AdminError::Usage(format!(
            "PUBLIC_BASE_URL ({base:?}) {problem}: set it to the stack's ApiBaseUrl output \
             (https://….execute-api.….amazonaws.com)"
        ))),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T, AdminError> {
    let text = std::fs::read_to_string(path).map_err(|e| AdminError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| AdminError::Failed(format!("{}: {e}", path.display())))
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}
