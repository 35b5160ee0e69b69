//! `lever-screening-admin`: see the library docs (`lever_screening_admin`) and the README's
//! "Operating it".

use clap::Parser;
use lever_screening::vendors::Vendors;
use lever_screening::App;
use lever_screening_admin::{environment_problem, run, run_standalone, AdminError, Cli};
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
    let json = cli.json;
    let outcome = match run_standalone(&cli, &mut std::io::stdout()).await {
        Some(outcome) => outcome,
        None => match prepare().await {
            Ok(app) => run(cli, &app, &mut std::io::stdout()).await,
            Err(error) => Err(error),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if json {
                println!("{}", serde_json::json!({ "error": error.to_string() }));
            }
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// The deployment's [`App`], once every setting is there and AWS credentials are found:
/// what is missing is said in one line, with the fix.
async fn prepare() -> Result<App, AdminError> {
    if let Some(problem) = environment_problem(|name| std::env::var(name).ok()) {
        return Err(AdminError::Usage(problem));
    }
    // The full chain (profiles, SSO), which the functions' own configuration does not read:
    // the app's clients are built on this one, still on rustls + ring.
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(lever_screening::tls::aws_http_client())
        .load()
        .await;
    if let Some(problem) = credentials_problem(&aws).await {
        return Err(AdminError::Failed(problem));
    }
    App::from_env_with(Vendors::standard(), &aws).map_err(|e| AdminError::Usage(e.to_string()))
}

async fn credentials_problem(aws: &aws_config::SdkConfig) -> Option<String> {
    use aws_sdk_sqs::config::ProvideCredentials;
    const FIX: &str = "set AWS_PROFILE (after `aws sso login`), or AWS_ACCESS_KEY_ID and \
                       AWS_SECRET_ACCESS_KEY, for the deployment's account";
    let Some(provider) = aws.credentials_provider() else {
        return Some(format!("no AWS credentials: {FIX}"));
    };
    match provider.provide_credentials().await {
        Ok(_) => None,
        Err(_) => Some(format!("no AWS credentials found: {FIX}")),
    }
}
