//! `lever-screening-local`: the product on one machine, for developers. Operators use
//! `lever-screening-admin`.

use clap::{Parser, Subcommand};
use lever_screening_local::stack::{Stack, StackOptions};
use lever_screening_local::{demo, demo_tenant, drills, events, fixture, lever_page};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    version,
    about = "Run lever-screening on this machine, with simulators of Lever and the vendors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the demo of the main job: every integration, from Lever's webhook to what Lever
    /// shows, on an embedded store and queue.
    Demo,
    /// Serve every function on its API Gateway path, the worker, and the simulators.
    Serve {
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Where tenants, orders and secrets live: in memory (gone when serve stops), or in
        /// DynamoDB, Secrets Manager and SQS at AWS_ENDPOINT_URL_* (DynamoDB Local and moto,
        /// `scripts/local-aws`), where the operator command can reach them (docs/local.md).
        #[arg(long, value_enum, default_value_t = StoreKind::Memory)]
        store: StoreKind,
        /// With `--store dynamodb-local`: the table to create (default: a fresh name).
        #[arg(long, env = "TABLE_NAME")]
        table: Option<String>,
        /// With `--store dynamodb-local`: the prefix of the tenants' secrets.
        #[arg(long, env = "SECRETS_PREFIX", default_value = "local/tenants/")]
        secrets_prefix: String,
    },
    /// Seed DynamoDB, Secrets Manager and SQS (AWS_ENDPOINT_URL_* may point at local
    /// emulators) with the demo tenant, serve the simulators and a worker, for `cargo lambda
    /// invoke` of events/. Prints the queue URLs as `export` lines, then READY.
    Fixture {
        #[arg(long, env = "TABLE_NAME")]
        table: String,
        #[arg(long, env = "SECRETS_PREFIX")]
        secrets_prefix: String,
    },
    /// Print an events/ file with fresh timestamps and signatures (they expire).
    ResignEvent { file: PathBuf },
    /// Move many candidates of one tenant at once and compare how the work is paced against
    /// Lever's request budget: orders, duplicates, losses, Lever's 429s, time taken.
    BulkMove(drills::bulk_move::Options),
    /// Drive the product through faults (Lever failing, answers lost after being applied,
    /// redeliveries, forged and hostile input, callbacks out of order) and count what held.
    Faults(drills::faults::Options),
    /// Every function's real work with an AWS identity holding only its own IAM policy,
    /// against services that enforce it (set up by `scripts/iam-drill`, which runs this).
    Iam(drills::iam::Options),
    /// Intake under a constant arrival rate through the API Gateway path: p50/p99/p99.9
    /// latency per rate, errors, the worker's drain time, and every delivery stored once.
    Load(drills::load::Options),
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StoreKind {
    Memory,
    DynamodbLocal,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logs();
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
        Command::Serve {
            port,
            store,
            table,
            secrets_prefix,
        } => {
            let (stack, aws) = match store {
                StoreKind::Memory => {
                    let options = StackOptions {
                        port,
                        ..StackOptions::embedded()
                    };
                    (Stack::start(options).await?, None)
                }
                StoreKind::DynamodbLocal => {
                    let table = table.unwrap_or_else(|| {
                        format!(
                            "lever-screening-{}",
                            &uuid::Uuid::new_v4().simple().to_string()[..8]
                        )
                    });
                    let tenants = [demo_tenant::TENANT, demo_tenant::OAUTH_TENANT];
                    let (stack, queues) =
                        fixture::start_on_aws(&table, &secrets_prefix, port, &tenants).await?;
                    (stack, Some((table, queues)))
                }
            };
            print_urls(&stack);
            print_simulators(&stack);
            if let Some((table, queues)) = &aws {
                // What the operator command reads: the stack's outputs in AWS.
                println!("export TABLE_NAME={table}");
                println!("export SECRETS_PREFIX={secrets_prefix}");
                println!("export WORK_QUEUE_URL={}", queues.work);
                println!("export DEAD_LETTER_QUEUE_URL={}", queues.dead_letters);
                println!(
                    "export LEVER_OAUTH_APP_SECRET={}",
                    fixture::oauth_app_secret(&secrets_prefix)
                );
                println!("export PUBLIC_BASE_URL={}", stack.functions_url);
            }
            let console = demo::console_invitation(&stack, demo_tenant::TENANT).await?;
            eprintln!(
                "setup console (tenant {}, single use): {console}",
                demo_tenant::TENANT
            );
            print_exports(&stack);
            fixture::wait_for_shutdown().await?;
            // Dropping the stack removes its secrets file, on SIGTERM as on Ctrl-C.
            drop(stack);
        }
        Command::Fixture {
            table,
            secrets_prefix,
        } => {
            let (stack, queues) = fixture::start(&table, &secrets_prefix).await?;
            print_urls(&stack);
            println!("export WORK_QUEUE_URL={}", queues.work);
            println!("export DEAD_LETTER_QUEUE_URL={}", queues.dead_letters);
            println!(
                "export LEVER_OAUTH_APP_SECRET={}",
                fixture::oauth_app_secret(&secrets_prefix)
            );
            println!("READY");
            fixture::wait_for_shutdown().await?;
        }
        Command::ResignEvent { file } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let event = events::resign(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            println!("{}", serde_json::to_string_pretty(&event)?);
        }
        Command::BulkMove(options) => println!("{}", drills::bulk_move::run(&options).await?),
        Command::Faults(options) => println!("{}", drills::faults::run(&options).await?),
        Command::Iam(options) => println!("{}", drills::iam::run(&options).await?),
        Command::Load(options) => println!("{}", drills::load::run(&options).await?),
    }
    Ok(())
}

fn print_urls(stack: &Stack) {
    let tenant = demo_tenant::TENANT;
    eprintln!("functions   {}", stack.functions_url);
    eprintln!(
        "  POST {}/lever/{tenant}/candidate-stage-change",
        stack.functions_url
    );
    eprintln!("  POST {}/callbacks/xref/{tenant}", stack.functions_url);
    eprintln!("  GET  {}/_local/dead-letters", stack.functions_url);
    eprintln!("Lever sim   {}/v1", stack.lever_url);
    eprintln!(
        "  GET  {}/_sim/opportunities/{}  (the demo candidate's tags and notes)",
        stack.lever_url,
        demo_tenant::OPPORTUNITY_ID
    );
    eprintln!("Xref sim    {}", stack.xref_url);
}

/// The URLs as `export` lines on stdout, then `# READY`: `serve > serve.env` and `. ./serve.env`
/// gives a shell what docs/local.md uses.
fn print_exports(stack: &Stack) {
    let urls = [
        ("FUNCTIONS_URL", &stack.functions_url),
        ("LEVER_URL", &stack.lever_url),
        ("GLOBEX_LEVER_URL", &stack.oauth_lever_url),
        ("XREF_URL", &stack.xref_url),
        ("STERLING_URL", &stack.sterling_url),
        ("JUSTIFACTS_URL", &stack.justifacts_url),
        ("HRLOGICS_URL", &stack.hrlogics_url),
        ("ESR_URL", &stack.esr_url),
        ("CHECKR_URL", &stack.checkr_url),
    ];
    for (name, url) in urls {
        println!("export {name}={url}");
    }
    if let Some(file) = &stack.secrets_file {
        println!("export SECRETS_FILE={}", file.display());
    }
    // A comment, so that the file can be sourced as it is.
    println!("# READY");
}

/// Every simulator with the demo credentials it accepts: what "Add a vendor" and the
/// vendor pages of the console ask for.
fn print_simulators(stack: &Stack) {
    use demo_tenant as d;
    let page = format!("{}{}", stack.functions_url, lever_page::PATH);
    let lines = [
        format!(
            "Lever of {}: {}/v1  API keys {} (Xref), {} (Sterling), {} (Checkr)",
            d::TENANT,
            stack.lever_url,
            d::XREF_LEVER_KEY,
            d::STERLING_LEVER_KEY,
            d::CHECKR_LEVER_KEY
        ),
        format!("  act as a recruiter: {page}/{}", d::TENANT),
        format!(
            "Lever of {}: {}/v1  OAuth apps: shared {} / {}; {}",
            d::OAUTH_TENANT,
            stack.oauth_lever_url,
            d::OAUTH_CLIENT_ID,
            d::OAUTH_CLIENT_SECRET,
            d::OAUTH_VENDOR_APPS
                .map(|(vendor, id, secret)| format!("{vendor} {id} / {secret}"))
                .join("; ")
        ),
        format!("  act as a recruiter: {page}/{}", d::OAUTH_TENANT),
        format!(
            "Xref        {}  API key {}  callback secret {}",
            stack.xref_url,
            d::XREF_API_KEY,
            d::XREF_CALLBACK_SECRET
        ),
        format!(
            "Sterling    {}  client id {}  client secret {}  callback URL secret {}",
            stack.sterling_url,
            d::STERLING_CLIENT_ID,
            d::STERLING_CLIENT_SECRET,
            d::STERLING_CALLBACK_SECRET
        ),
        format!(
            "Justifacts  {}  JWeb user {}  password {}  callback secret {}",
            stack.justifacts_url,
            d::JUSTIFACTS_USERNAME,
            d::JUSTIFACTS_PASSWORD,
            d::JUSTIFACTS_CALLBACK_SECRET
        ),
        format!(
            "HRLogics    {}  API key {}  callback secret {}",
            stack.hrlogics_url,
            d::HRLOGICS_API_KEY,
            d::HRLOGICS_CALLBACK_SECRET
        ),
        format!(
            "ESR         {}  account id {}  API key {}  callback secret {}",
            stack.esr_url,
            d::ESR_ACCOUNT_ID,
            d::ESR_API_KEY,
            d::ESR_CALLBACK_SECRET
        ),
        format!(
            "Checkr      {}  API key {}  package {}",
            stack.checkr_url,
            d::CHECKR_API_KEY,
            d::CHECKR_PACKAGE
        ),
    ];
    for line in lines {
        eprintln!("{line}");
    }
    if let Some(file) = &stack.secrets_file {
        eprintln!(
            "secrets file {} (owner only; removed when serve stops)",
            file.display()
        );
    }
}

/// Human-readable logs locally (the Lambdas log JSON); `RUST_LOG` sets the level.
fn logs() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter =
        lever_screening::telemetry::log_filter(tracing_subscriber::filter::LevelFilter::WARN);
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
}
