//! `lever-screening-local`: the product on one machine, and the operator's admin commands.

use clap::{Parser, Subcommand};
use lever_screening_local::stack::{Stack, StackOptions};
use lever_screening_local::{demo, events, fixture};
use shared::flows::{oauth, outbox};
use shared::model::{is_valid_tenant_id, now_millis, TenantConfig};
use shared::App;
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
    let filter = shared::telemetry::log_filter(tracing_subscriber::filter::LevelFilter::WARN);
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
}
