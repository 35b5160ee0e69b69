//! `lever-screening-admin`: what an operator does with a deployment, from one command.
//! Each command calls the library's flows with the deployment's [`App`] and answers a
//! readable table, or JSON with `--json`; a failure is a clear message and a non-zero exit.

pub mod cli;
mod output;

pub use cli::Cli;

use cli::{
    Command, ConnectArgs, ConsoleAction, DlqAction, IntegrationAction, PutArgs, TenantAction,
    WebhooksAction,
};
use lever_screening::clock::Deadline;
use lever_screening::directory::Tenant;
use lever_screening::flows::{admin, oauth, webhook_health};
use lever_screening::ids::{OpportunityId, TenantId};
use lever_screening::lever::webhook::WebhookKind;

use lever_screening::secrets::TenantSecrets;

use lever_screening::tenant::TenantConfig;
use lever_screening::vendors::VendorId;
use lever_screening::{App, AppError};
use output::{Answer, Table};
use serde_json::json;
use std::io::Write;
use std::time::Duration;

/// How long one command's outbound calls may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("cannot read {path}: {reason}")]
    File { path: String, reason: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl AdminError {
    /// The process's exit code: 2 for a wrong request, 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            AdminError::Usage(_) => 2,
            AdminError::App(e) if e.status().is_client_error() => 2,
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
            let tenant = load(app, &tenant).await?;
            let vendor = vendor_id(&vendor)?;
            let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
            let deleted =
                admin::delete_integration(&worker, app.secrets(), &tenant, vendor).await?;
            Answer::sentence(
                format!(
                    "{vendor} removed from {}; webhooks deleted in Lever: {}",
                    tenant.id(),
                    list_or_none(&deleted)
                ),
                json!({ "tenant": tenant.id(), "vendor": vendor, "webhooks_deleted": deleted }),
            )
        }
        Command::Order {
            tenant,
            vendor,
            opportunity,
        } => {
            let tenant = load(app, &tenant).await?;
            let opportunity =
                OpportunityId::parse(opportunity).map_err(|e| AdminError::Usage(e.to_string()))?;
            let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
            let ack = admin::order(
                &worker,
                &tenant,
                vendor_id(&vendor)?,
                &opportunity,
                &public_base(app)?,
            )
            .await?;
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
            let tenant = TenantId::parse(tenant).map_err(|e| AdminError::Usage(e.to_string()))?;
            let opportunity =
                OpportunityId::parse(opportunity).map_err(|e| AdminError::Usage(e.to_string()))?;
            let orders = app
                .store()
                .orders_for_opportunity(&tenant, &opportunity)
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
                    order.vendor.to_string(),
                    order.order_id.to_string(),
                    order.vendor_order_id.clone().unwrap_or_default(),
                    format!("{:?}", order.phase).to_lowercase(),
                    order.status.clone().unwrap_or_default(),
                    order
                        .lever_written
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    order.problem.clone().unwrap_or_default(),
                ]);
            }
            Answer::table(
                format!("{} order(s) for {opportunity}", orders.len()),
                table,
                serde_json::to_value(&orders).unwrap_or_default(),
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
                AppError::NotFound(_) => AdminError::Usage(format!("no tenant {tenant}")),
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
        Command::Status => {
            let depth = app.queue().depth().await.map_err(AppError::from)?;
            let mut table = Table::new(["waiting", "in flight", "dead letters"]);
            table.row([
                depth.waiting.to_string(),
                depth.in_flight.to_string(),
                depth.dead.to_string(),
            ]);
            Answer::table(
                "work queue".into(),
                table,
                serde_json::to_value(depth).unwrap_or_default(),
            )
        }
    };
    answer.write(out, cli.json)?;
    Ok(())
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
                for state in &states {
                    table.row([
                        tenant.id().to_string(),
                        state.vendor.to_string(),
                        state.enabled.to_string(),
                        state.credential.to_owned(),
                        state.lever_access.clone(),
                        state.webhook.clone(),
                    ]);
                }
                json.push(json!({ "tenant": tenant.id(), "integrations": states }));
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
                "credential",
                "Lever access",
                "webhook",
            ]);
            for state in &states {
                table.row([
                    state.vendor.to_string(),
                    state.enabled.to_string(),
                    state.credential.to_owned(),
                    state.lever_access.clone(),
                    state.webhook.clone(),
                ]);
            }
            let config = serde_json::to_value(&*tenant.config).unwrap_or_default();
            let heading = serde_json::to_string_pretty(&config).unwrap_or_default();
            Answer::table(
                heading,
                table,
                json!({ "config": config, "integrations": states, "webhooks": health }),
            )
        }
        TenantAction::Put(args) => put(app, args).await?,
        TenantAction::Disable { tenant, vendor } => {
            let tenant = load(app, &tenant).await?;
            let vendor = vendor.as_deref().map(vendor_id).transpose()?;
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

/// `tenant put`: validates the configuration (and the secret, whose unusable values are
/// refused with their field named), resolves trigger stages given by name to their ids where
/// Lever can be asked, and stores both.
async fn put(app: &App, args: PutArgs) -> Result<Answer, AdminError> {
    let mut config: TenantConfig = read_json(&args.config)?;
    for vendor in config.vendors.keys() {
        if app.vendors().get(*vendor).is_none() {
            return Err(AdminError::Usage(format!(
                "{vendor} is not a vendor this build knows"
            )));
        }
    }
    if let Some(path) = &args.secret {
        let document: serde_json::Value = read_json(path)?;
        let secrets: TenantSecrets = serde_json::from_value(document.clone())
            .map_err(|e| AdminError::Usage(format!("{}: {e}", path.display())))?;
        let problems = lever_screening::callback_auth::problems(&secrets, app.vendors());
        if !problems.is_empty() {
            return Err(AdminError::Usage(format!(
                "the secret cannot be used:\n  {}",
                problems.join("\n  ")
            )));
        }
        app.secrets()
            .source()
            .put_document(config.tenant_id.as_str(), &document)
            .await
            .map_err(AppError::from)?;
    }
    app.store()
        .put_tenant(&config)
        .await
        .map_err(AppError::from)?;
    app.tenants().invalidate(&config.tenant_id);
    let unresolved = resolve_stages(app, &mut config).await;
    app.store()
        .put_tenant(&config)
        .await
        .map_err(AppError::from)?;
    app.tenants().invalidate(&config.tenant_id);
    let mut sentence = format!("saved tenant {}", config.tenant_id);
    if !unresolved.is_empty() {
        sentence.push_str(&format!(
            "; trigger stages left by name (resolved by the worker as deliveries come): {}",
            unresolved.join("; ")
        ));
    }
    Ok(Answer::sentence(
        sentence,
        json!({ "tenant": config.tenant_id, "unresolved_stages": unresolved }),
    ))
}

/// Resolves each trigger stage named without an id through Lever's stage list, acting as
/// its integration; returns what could not be resolved, and why.
async fn resolve_stages(app: &App, config: &mut TenantConfig) -> Vec<String> {
    let mut unresolved = Vec::new();
    let Ok(tenant) = app.tenants().tenant(&config.tenant_id).await else {
        return vec!["the tenant could not be read back".into()];
    };
    let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
    for (vendor, integration) in config.vendors.iter_mut() {
        let Some(stage) = integration
            .trigger_stage
            .as_mut()
            .filter(|s| s.id.is_none())
        else {
            continue;
        };
        let name = stage.name.clone().unwrap_or_default();
        let stages = match worker.lever_for(&tenant, *vendor).await {
            Ok(lever) => lever.stages().await.map_err(AppError::from),
            Err(e) => Err(e),
        };
        match stages {
            Ok(stages) => match stages.iter().find(|s| s.text.eq_ignore_ascii_case(&name)) {
                Some(found) => stage.id = Some(found.id.clone()),
                None => unresolved.push(format!("{vendor}: Lever has no stage named {name:?}")),
            },
            Err(e) => unresolved.push(format!("{vendor}: {e}")),
        }
    }
    unresolved
}

async fn check(app: &App, tenant: &str) -> Result<Answer, AdminError> {
    let tenant = load(app, tenant).await?;
    let mut table = Table::new(["check", "result"]);
    let mut problems = lever_screening::callback_auth::problems(&tenant.secrets, app.vendors());
    for problem in &problems {
        table.row(["secret".to_owned(), problem.clone()]);
    }
    let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
    for (vendor, _) in tenant.config.vendors.iter().filter(|(_, i)| i.enabled) {
        let result = match worker.lever_for(&tenant, *vendor).await {
            Ok(lever) => lever
                .stages()
                .await
                .map(|_| "Lever accepts the credential".to_owned())
                .map_err(AppError::from),
            Err(e) => Err(e),
        };
        let text = result.unwrap_or_else(|e| {
            let text = format!("FAILED: {e}");
            problems.push(format!("{vendor}: {e}"));
            text
        });
        table.row([format!("{vendor}'s Lever credential"), text]);
    }
    let json = json!({ "tenant": tenant.id(), "problems": problems });
    if problems.is_empty() {
        Ok(Answer::table("all good".into(), table, json))
    } else {
        let answer = Answer::table(format!("{} problem(s)", problems.len()), table, json);
        Err(AdminError::Usage(answer.text()))
    }
}

async fn connect(app: &App, args: ConnectArgs) -> Result<Answer, AdminError> {
    let tenant = load(app, &args.tenant).await?;
    let vendor = args.vendor.as_deref().map(vendor_id).transpose()?;
    if args.oauth {
        let oauth_app = app.oauth_app().await?;
        let link = oauth::authorize_link(
            app.store().as_ref(),
            app.store().as_ref(),
            &oauth_app,
            tenant.id(),
            vendor,
        )
        .await?;
        return Ok(Answer::sentence(
            format!("Open this link as the tenant's Lever Super Admin (once, within 15 minutes):\n{link}"),
            json!({ "link": link }),
        ));
    }
    let key = args
        .api_key
        .ok_or_else(|| AdminError::Usage("give --api-key KEY or --oauth".into()))?;
    let integrations = admin::connect_api_key(
        app.tenants(),
        app.store().as_ref(),
        app.secrets(),
        tenant.id(),
        vendor,
        &key,
    )
    .await?;
    Ok(Answer::sentence(
        format!(
            "Lever API key stored for {}: {} now use it",
            tenant.id(),
            list_or_none(&integrations.iter().map(|v| v.as_str()).collect::<Vec<_>>())
        ),
        json!({ "tenant": tenant.id(), "integrations": integrations }),
    ))
}

async fn webhooks(app: &App, action: WebhooksAction) -> Result<Answer, AdminError> {
    let worker = app.worker(Deadline::after(COMMAND_TIMEOUT));
    Ok(match action {
        WebhooksAction::Register { tenant, vendor } => {
            let tenant = load(app, &tenant).await?;
            let vendor = vendor.as_deref().map(vendor_id).transpose()?;
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
            let tenant = load(app, &tenant).await?;
            let kind = WebhookKind::from_event_name(&event).ok_or_else(|| {
                AdminError::Usage(format!("{event} is not a webhook this product uses"))
            })?;
            let grace = Duration::from_secs(grace_hours * 3600);
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
                return Err(AdminError::Usage("no such dead letter".into()));
            }
            Answer::sentence(
                format!("{moved} dead letter(s) sent back to the work queue"),
                json!({ "redriven": moved }),
            )
        }
    })
}

async fn load(app: &App, tenant: &str) -> Result<Tenant, AdminError> {
    let id = TenantId::parse(tenant).map_err(|e| AdminError::Usage(e.to_string()))?;
    app.tenants().tenant(&id).await.map_err(|e| match e {
        AppError::NotFound(_) => AdminError::Usage(format!("no tenant {tenant}")),
        other => other.into(),
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

/// This deployment's public base URL (the ApiBaseUrl output), for webhook and callback URLs.
fn public_base(app: &App) -> Result<String, AdminError> {
    app.settings.public_base_url.clone().ok_or_else(|| {
        AdminError::Usage("set PUBLIC_BASE_URL to the stack's ApiBaseUrl output".into())
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T, AdminError> {
    let text = std::fs::read_to_string(path).map_err(|e| AdminError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| AdminError::Usage(format!("{}: {e}", path.display())))
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}
