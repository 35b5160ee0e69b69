//! The command line: what an operator types.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The longest grace period of a rotated webhook token: 30 days.
pub const MAX_GRACE_HOURS: u64 = 720;

/// Operate a lever-screening deployment. Reads the stack's outputs from the environment:
/// TABLE_NAME, SECRETS_PREFIX, WORK_QUEUE_URL, DEAD_LETTER_QUEUE_URL, LEVER_OAUTH_APP_SECRET,
/// PUBLIC_BASE_URL (the ApiBaseUrl output) and, for `smoke`, SCHEDULE_RULES, with AWS
/// credentials.
#[derive(Debug, Parser)]
#[command(name = "lever-screening-admin", version)]
pub struct Cli {
    /// Print JSON instead of tables, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tenants: connected Lever accounts and their integrations.
    Tenant {
        #[command(subcommand)]
        action: TenantAction,
    },
    /// The Lever webhooks a tenant's integrations need.
    Webhooks {
        #[command(subcommand)]
        action: WebhooksAction,
    },
    /// One integration of a tenant.
    Integration {
        #[command(subcommand)]
        action: IntegrationAction,
    },
    /// Order from a vendor for an opportunity now, as its trigger would (after a fix, e.g. a
    /// missing email added). An order still open is not ordered twice.
    Order {
        tenant: String,
        vendor: String,
        opportunity: String,
    },
    /// What was ordered for an opportunity: vendors, statuses, what Lever was shown.
    Orders { tenant: String, opportunity: String },
    /// Place the orders held because a vendor refused the tenant's account ("needs
    /// attention"), once its credentials are fixed; lists them with `--list`. Never orders
    /// twice.
    Resume {
        tenant: String,
        /// One vendor's held orders only.
        #[arg(long)]
        vendor: Option<String>,
        /// List the held orders and why, without placing them.
        #[arg(long)]
        list: bool,
    },
    /// A tenant's delivery log: each Lever delivery and vendor callback, newest first, with
    /// what it was answered and what its work came to (kept DELIVERY_LOG_DAYS, default 30).
    Deliveries {
        tenant: String,
        /// Only this outcome: queued, test, ignored, disabled, duplicate, applied, unchanged,
        /// rejected, failed (failed also finds work that failed for good), retrying, done.
        #[arg(long)]
        outcome: Option<String>,
        /// Only deliveries from `lever` or from this vendor (`xref`, ...).
        #[arg(long)]
        from: Option<String>,
        /// Only this candidate: Lever's opportunity id, or part of the name Lever shows.
        #[arg(long)]
        candidate: Option<String>,
        /// Only deliveries older than this delivery id (the next page).
        #[arg(long)]
        before: Option<String>,
        /// How many to show (at most 100).
        #[arg(long, default_value_t = 25)]
        limit: usize,
    },
    /// Run a delivery's work again (one that failed, or any that queued work), through the
    /// same confirmed path: it cannot order twice.
    Replay { tenant: String, delivery: String },
    /// Work that failed for good, kept in the dead-letter queue.
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
    /// The work queue's depth.
    Status,
    /// The setup console, where a tenant's Lever admin connects Lever and the vendors.
    Console {
        #[command(subcommand)]
        action: ConsoleAction,
    },
    /// The vendor contract (docs/vendor-contract.openapi.json). Needs no deployment.
    Vendor {
        #[command(subcommand)]
        action: VendorAction,
    },
    /// After `sam deploy`: check the deployment from the outside (every route, the worker,
    /// the schedules, the secrets) and print what is missing with its fix; fails if
    /// anything is.
    Smoke(SmokeArgs),
}

#[derive(Debug, Args)]
pub struct SmokeArgs {
    /// The scheduled jobs' EventBridge rules: the stack's ScheduleRules output.
    #[arg(long, env = "SCHEDULE_RULES", value_delimiter = ',')]
    pub schedule_rules: Vec<String>,
    /// How long the worker may take to consume the test message.
    #[arg(long, value_name = "SECONDS", default_value_t = 90)]
    pub worker_wait: u64,
}

#[derive(Debug, Subcommand)]
pub enum VendorAction {
    /// Run the contract's conformance suite against an implementation: checks the
    /// credential, creates one order (and cancels it where the vendor can cancel), and
    /// checks every answer against the contract. Use a test account.
    Conformance(ConformanceArgs),
}

#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// xref, justifacts, hrlogics or esr.
    pub vendor: String,
    /// The implementation's base URL (an integration's `api_base`).
    #[arg(long)]
    pub base_url: String,
    /// Xref's and HRLogics' API key; ESR's API key (with --username, the account id).
    #[arg(long)]
    pub api_key: Option<String>,
    /// Justifacts' JWeb user name, or ESR's account id.
    #[arg(long)]
    pub username: Option<String>,
    /// Justifacts' JWeb password.
    #[arg(long)]
    pub password: Option<String>,
    /// A package the account sells: ESR's package id, or Justifacts' `CODE:ID`.
    #[arg(long)]
    pub package: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConsoleAction {
    /// Print a single-use invitation link to the tenant's console (valid 24 hours); opening
    /// it signs its holder in to that tenant alone.
    Invite { tenant: String },
}

#[derive(Debug, Subcommand)]
pub enum TenantAction {
    /// Every tenant and its integrations' states.
    List,
    /// One tenant: its configuration and each integration's state.
    Show { tenant: String },
    /// Create or replace a tenant's configuration (and its secret), from JSON files as in
    /// examples/. Trigger stages given by name are resolved to their ids through Lever.
    Put(PutArgs),
    /// Switch a tenant's integrations (or one) off: its deliveries then order nothing.
    Disable {
        tenant: String,
        #[arg(long)]
        vendor: Option<String>,
    },
    /// Check a tenant: unusable secrets, and each integration's Lever credential (one call).
    Check { tenant: String },
    /// Connect an integration to Lever: store the API key its toggle generated, or print
    /// the link its Super Admin opens to authorize the app (works once, for 15 minutes).
    /// The integration must be configured for the tenant.
    Connect(ConnectArgs),
}

#[derive(Debug, Args)]
pub struct PutArgs {
    /// The configuration: `{"tenant_id", "lever_api_base", "vendors": {…}}`.
    pub config: PathBuf,
    /// The secret document (credentials, tokens), stored in Secrets Manager. Each vendor
    /// credential in it is first tried on the vendor (a read-only call); credentials a
    /// vendor refuses, or that cannot be tried, are not stored.
    #[arg(long)]
    pub secret: Option<PathBuf>,
    /// Store the secret's vendor credentials without trying them (a vendor not reachable
    /// from here, or credentials it will accept only later).
    #[arg(long, requires = "secret")]
    pub replace_anyway: bool,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    pub tenant: String,
    /// The integration; without it, the tenant-wide Lever credential.
    #[arg(long)]
    pub vendor: Option<String>,
    /// The API key Lever generated with the integration's toggle (at most 1024 characters,
    /// no whitespace).
    #[arg(long, conflicts_with = "oauth")]
    pub api_key: Option<String>,
    /// Print the OAuth authorize link instead.
    #[arg(long)]
    pub oauth: bool,
    /// Store the key without trying it on Lever first (a key Lever will accept only later).
    /// Without it, a key Lever refuses is not stored and the credential in use stays.
    #[arg(long, requires = "api_key")]
    pub replace_anyway: bool,
}

#[derive(Debug, Subcommand)]
pub enum WebhooksAction {
    /// Create, through Lever's API, every webhook the tenant's integrations need (or one
    /// integration's) that Lever does not have, pointing at this deployment, and store
    /// their signature tokens.
    Register {
        tenant: String,
        #[arg(long)]
        vendor: Option<String>,
    },
    /// A new signature token for one webhook (Lever issues one with a re-created webhook);
    /// the old token is accepted for the grace period.
    Rotate {
        tenant: String,
        /// Lever's event name, e.g. candidateStageChange; one the tenant's integrations need.
        event: String,
        /// Hours the old token keeps working, 0 to 720 (30 days).
        #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(0..=MAX_GRACE_HOURS))]
        grace_hours: u64,
    },
    /// Check now that Lever still has every webhook the integrations need.
    Check { tenant: String },
}

#[derive(Debug, Subcommand)]
pub enum IntegrationAction {
    /// Remove an integration: its settings and credentials, and the webhooks no other
    /// integration of the tenant needs.
    Delete { tenant: String, vendor: String },
}

#[derive(Debug, Subcommand)]
pub enum DlqAction {
    /// Dead letters, with their last error.
    List {
        #[arg(long, default_value_t = 100)]
        max: usize,
    },
    /// Send dead letters back to the work queue: one by message id, or all.
    Redrive {
        message_id: Option<String>,
        #[arg(long, conflicts_with = "message_id")]
        all: bool,
    },
}
