//! `lever-screening-admin`: see the library docs (`lever_screening_admin`) and the README's
//! "Operating it".

use clap::Parser;
use lever_screening::App;
use lever_screening_admin::{run, run_standalone, AdminError, Cli};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Warnings and errors on stderr; the answer on stdout.
    let filter =
        lever_screening::telemetry::log_filter(tracing_subscriber::filter::LevelFilter::WARN);
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
    let outcome = match run_standalone(&cli, &mut std::io::stdout()).await {
        Some(outcome) => outcome,
        None => match App::from_env().await {
            Ok(app) => run(cli, &app, &mut std::io::stdout()).await,
            Err(e) => Err(AdminError::Usage(e.to_string())),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
