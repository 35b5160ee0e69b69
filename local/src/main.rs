//! `lever-screening-local`: the product on one machine, and the operator's admin commands.

use clap::{Parser, Subcommand};
use lever_screening::flows::{admin, oauth, outbox};
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::model::{is_valid_tenant_id, now_millis, TenantConfig, VendorId};
use lever_screening::vendors::{self, Trigger};
use lever_screening::App;
use lever_screening_local::stack::{Stack, StackOptions};
use lever_screening_local::{demo, events, fixture};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    version,
    about = "Run lever-screening locally, and administer a deployment"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the demo: a candidate moves to 'Reference Check' and Xref's statuses appear in Lever.
    Demo,
    /// Serve every function on its API Gateway path, with the Lever and Xref simulators.
    Serve {
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
    /// Seed DynamoDB and Secrets Manager (AWS_ENDPOINT_URL_* may point at local emulators)
    /// with the demo tenant and serve the simulators, for `cargo lambda invoke` of events/.
    Fixture {
        #[arg(long, env = "TABLE_NAME")]
        table: String,
        #[arg(long, env = "SECRETS_PREFIX")]
        secrets_prefix: String,
    },
    /// Print an events/ file with fresh timestamps and signatures (they expire).
    ResignEvent { file: PathBuf },
    /// Print the link a tenant's Lever Super Admin opens to connect this deployment's Lever
    /// OAuth app (works once, for 15 minutes). TABLE_NAME, SECRETS_PREFIX and
    /// LEVER_OAUTH_APP_SECRET from the environment.
    OauthLink { tenant: String },
    /// Order from a vendor for an opportunity now, as its trigger would (after a fix, e.g.
    /// a missing email added). TABLE_NAME, SECRETS_PREFIX, LEVER_OAUTH_APP_SECRET and
    /// PUBLIC_BASE_URL (the ApiBaseUrl output) from the environment.
    Order {
        tenant: String,
        vendor: String,
        opportunity: String,
    },
    /// A tenant's Lever webhooks, through Lever's API (PUBLIC_BASE_URL as for `order`).
    Webhook {
        #[command(subcommand)]
        action: WebhookAction,
    },
    /// Remove an integration: its webhook from Lever, its settings and credentials.
    Integration {
        #[command(subcommand)]
        action: IntegrationAction,
    },
    /// A deployment's tenants (TABLE_NAME, SECRETS_PREFIX and AWS credentials from the
    /// environment).
    Tenant {
        #[command(subcommand)]
        action: TenantAction,
    },
    /// The outbox of a deployment (TABLE_NAME, SECRETS_PREFIX and AWS credentials from the
    /// environment): work that failed on the way out.
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
}

#[derive(Subcommand)]
enum WebhookAction {
    /// Re-create a webhook deleted in Lever and store its signature token.
    Create {
        tenant: String,
        kind: WebhookKindArg,
    },
    /// A new signature token (Lever issues it with a re-created webhook); the old token is
    /// still accepted for the grace period.
    Regenerate {
        tenant: String,
        kind: WebhookKindArg,
        #[arg(long, default_value_t = 24)]
        grace_hours: u64,
    },
}

#[derive(Subcommand)]
enum IntegrationAction {
    /// Delete the vendor's webhook from Lever and its settings from the tenant.
    Delete { tenant: String, vendor: String },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum WebhookKindArg {
    CandidateStageChange,
    ApplicationCreated,
}

impl From<WebhookKindArg> for WebhookKind {
    fn from(kind: WebhookKindArg) -> Self {
        match kind {
            WebhookKindArg::CandidateStageChange => WebhookKind::CandidateStageChange,
            WebhookKindArg::ApplicationCreated => WebhookKind::ApplicationCreated,
        }
    }
}

#[derive(Subcommand)]
enum TenantAction {
    /// Create or replace a tenant's configuration from a JSON file (see the README).
    Put { file: PathBuf },
    /// Print a tenant's configuration.
    Show { tenant: String },
}

#[derive(Subcommand)]
enum OutboxAction {
    /// List every item, due or parked.
    List,
    /// Run every due item now.
    Drain,
    /// Run one item now, even a parked one.
    Replay { id: String },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber_init();
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(command: Command) -> Result<(), BoxError> {
    match command {
        Command::Demo => demo::run().await?,
        Command::Serve { port } => {
            let stack = Stack::start(StackOptions {
                port,
                ..StackOptions::embedded()
            })
            .await?;
            print_urls(&stack);
            tokio::signal::ctrl_c().await?;
        }
        Command::Fixture {
            table,
            secrets_prefix,
        } => {
            let stack = fixture::start(&table, &secrets_prefix).await?;
            print_urls(&stack);
            println!("READY");
            fixture::wait_for_shutdown().await?;
        }
        Command::ResignEvent { file } => {
            let event = events::resign(&std::fs::read_to_string(&file)?)?;
            println!("{}", serde_json::to_string_pretty(&event)?);
        }
        Command::OauthLink { tenant } => {
            let app = App::from_env().await?;
            println!("{}", oauth::authorize_link(&app, &tenant).await?);
        }
        Command::Order {
            tenant,
            vendor,
            opportunity,
        } => {
            let app = App::from_env().await?;
            let ack = admin::order(
                &app,
                &tenant,
                vendor_id(&vendor)?,
                &opportunity,
                &public_base(&app)?,
            )
            .await?;
            println!("{}", serde_json::to_string(&ack)?);
        }
        Command::Webhook { action } => {
            let app = App::from_env().await?;
            let base = public_base(&app)?;
            let id = match action {
                WebhookAction::Create { tenant, kind } => {
                    admin::create_webhook(&app, &tenant, kind.into(), &base).await?
                }
                WebhookAction::Regenerate {
                    tenant,
                    kind,
                    grace_hours,
                } => {
                    let grace = std::time::Duration::from_secs(grace_hours * 3600);
                    admin::regenerate_webhook_token(&app, &tenant, kind.into(), &base, grace)
                        .await?
                }
            };
            println!("webhook {id}: its signature token is stored in the tenant's secret");
        }
        Command::Integration {
            action: IntegrationAction::Delete { tenant, vendor },
        } => {
            let app = App::from_env().await?;
            let vendor = vendor_id(&vendor)?;
            let kind = match vendors::adapter(vendor).trigger() {
                Trigger::StageChange => WebhookKind::CandidateStageChange,
                Trigger::ApplicationCreated => WebhookKind::ApplicationCreated,
            };
            let removed =
                admin::delete_integration(&app, &tenant, vendor, kind, &public_base(&app)?).await?;
            println!("{vendor} removed from {tenant}; {removed} webhook(s) deleted in Lever");
        }
        Command::Tenant { action } => {
            let app = App::from_env().await?;
            match action {
                TenantAction::Put { file } => {
                    let tenant: TenantConfig =
                        serde_json::from_str(&std::fs::read_to_string(&file)?)?;
                    if !is_valid_tenant_id(&tenant.tenant_id) {
                        return Err("tenant_id must be 1-64 of A-Z a-z 0-9 - _".into());
                    }
                    app.store.put_tenant(&tenant).await?;
                    println!("saved tenant {}", tenant.tenant_id);
                }
                TenantAction::Show { tenant } => match app.store.get_tenant(&tenant).await? {
                    Some(config) => println!("{}", serde_json::to_string_pretty(&config)?),
                    None => return Err(format!("no tenant {tenant}").into()),
                },
            }
        }
        Command::Outbox { action } => {
            let app = App::from_env().await?;
            match action {
                OutboxAction::List => {
                    for item in app.store.list_outbox(10_000).await? {
                        println!("{}", serde_json::to_string(&item)?);
                    }
                }
                OutboxAction::Drain => {
                    let report = outbox::drain(&app, now_millis(), 10_000).await?;
                    println!("{}", serde_json::to_string(&report)?);
                }
                OutboxAction::Replay { id } => {
                    let result = outbox::replay(&app, &id).await?;
                    println!("{}", serde_json::to_string(&result)?);
                }
            }
        }
    }
    Ok(())
}

fn vendor_id(name: &str) -> Result<VendorId, BoxError> {
    VendorId::parse(name).ok_or_else(|| format!("unknown vendor {name}").into())
}

/// This deployment's public base URL (the ApiBaseUrl output), for webhook and callback URLs.
fn public_base(app: &App) -> Result<String, BoxError> {
    app.settings
        .public_base_url
        .clone()
        .ok_or_else(|| "set PUBLIC_BASE_URL to the stack's ApiBaseUrl output".into())
}

fn print_urls(stack: &Stack) {
    let tenant = lever_screening_local::demo_tenant::TENANT;
    eprintln!("functions   {}", stack.functions_url);
    eprintln!(
        "  POST {}/lever/{tenant}/candidate-stage-change",
        stack.functions_url
    );
    eprintln!("  POST {}/callbacks/xref/{tenant}", stack.functions_url);
    eprintln!("  GET  {}/_local/outbox", stack.functions_url);
    eprintln!(
        "Lever sim   {}/v1  (GET /_sim/opportunities/{{id}} shows tags and notes)",
        stack.lever_url
    );
    eprintln!("Xref sim    {}", stack.xref_url);
}

/// Human-readable logs locally (the Lambdas log JSON); `RUST_LOG` sets the level.
fn tracing_subscriber_init() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter =
        lever_screening::telemetry::log_filter(tracing_subscriber::filter::LevelFilter::WARN);
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
}
