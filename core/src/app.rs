//! The composition root: every port's implementation, built once per process (in a
//! function's `main`, the local server, the operator command) and lent to the flows as the
//! narrow views they take ([`App::intake`], [`App::worker`]).

use crate::clock::Deadline;
use crate::config::{env_required, ConfigError, Settings};
use crate::connect::{LeverConnections, LeverConnector, StageCache};
use crate::directory::{CachedDirectory, TenantDirectory};
use crate::error::AppError;
use crate::flows::{Intake, Worker};
use crate::lever::oauth::OAuthApps;
use crate::queue::sqs::SqsQueue;
use crate::queue::Queue;
use crate::retry::HttpClient;
use crate::secrets::aws::SecretsManagerSource;
use crate::secrets::cache::CachedSecrets;
use crate::secrets::SecretsSource;
use crate::store::dynamodb::DynamoStore;
use crate::store::Store;
use crate::vendors::Vendors;
use std::sync::Arc;

/// Every port's implementation and the caches in front of them, for one process, built
/// once and lent to the flows: its caches (tenants, secrets, Lever stages, the OAuth app,
/// the HTTP client) are what a warm Lambda reuses between invocations.
pub struct App {
    /// The tunables every flow reads.
    pub settings: Settings,
    store: Arc<dyn Store>,
    secrets: Arc<CachedSecrets>,
    directory: CachedDirectory,
    queue: Arc<dyn Queue>,
    connections: Arc<LeverConnections>,
    lever: Arc<dyn LeverConnector>,
    stages: StageCache,
    vendors: Vendors,
    http: HttpClient,
}

impl App {
    /// Wires the given store, secrets source and queue, with secrets and tenants cached for
    /// the TTLs in `settings`, Lever reached over HTTP, and `vendors`
    /// ([`Vendors::standard`], or [`Vendors::described`] where no flow calls a vendor).
    /// Nothing is read or connected yet.
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretsSource>,
        queue: Arc<dyn Queue>,
        settings: Settings,
        vendors: Vendors,
    ) -> Self {
        let http = HttpClient::default();
        let secrets = Arc::new(CachedSecrets::new(secrets, settings.secrets_ttl));
        let directory =
            CachedDirectory::new(store.clone(), Arc::clone(&secrets), settings.tenant_ttl);
        let connections = Arc::new(LeverConnections::new(
            http.clone(),
            store.clone(),
            store.clone(),
            Arc::clone(&secrets),
            settings.clone(),
        ));
        App {
            stages: StageCache::new(settings.stage_cache_ttl),
            settings,
            store,
            secrets,
            directory,
            queue,
            lever: connections.clone(),
            connections,
            vendors,
            http,
        }
    }

    /// Lever reached through `lever` instead of over HTTP (tests).
    pub fn with_lever(mut self, lever: Arc<dyn LeverConnector>) -> Self {
        self.lever = lever;
        self
    }

    /// The Lambda wiring: DynamoDB table `TABLE_NAME`, Secrets Manager secrets named
    /// `SECRETS_PREFIX` + tenant id, SQS queues `WORK_QUEUE_URL` and
    /// `DEAD_LETTER_QUEUE_URL`; `vendors` as in [`App::new`]. Builds clients only; nothing
    /// is fetched yet, so a cold start stays short.
    pub async fn from_env(vendors: Vendors) -> Result<Self, ConfigError> {
        Self::from_env_with(vendors, &crate::tls::aws_config().await)
    }

    /// [`App::from_env`] on the AWS configuration `aws`: for a tool on an operator's machine
    /// (the admin command), whose credentials come from a profile or SSO, which a function's
    /// configuration ([`crate::tls::aws_config`]) does not read.
    pub fn from_env_with(
        vendors: Vendors,
        aws: &aws_config::SdkConfig,
    ) -> Result<Self, ConfigError> {
        let table = env_required("TABLE_NAME")?;
        let prefix = env_required("SECRETS_PREFIX")?;
        let queue_url = env_required("WORK_QUEUE_URL")?;
        let dead_letter_url = env_required("DEAD_LETTER_QUEUE_URL")?;
        let settings = Settings::from_env()?;
        // Each client puts the invocation's X-Ray trace on its requests (`crate::xray`).
        let trace = crate::xray::TraceHeader;
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(aws).interceptor(trace);
        let secrets = aws_sdk_secretsmanager::config::Builder::from(aws).interceptor(trace);
        let sqs = aws_sdk_sqs::config::Builder::from(aws).interceptor(trace);
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(dynamodb.build()), table);
        let secrets = SecretsManagerSource::new(
            aws_sdk_secretsmanager::Client::from_conf(secrets.build()),
            prefix,
        );
        let queue = SqsQueue::new(
            aws_sdk_sqs::Client::from_conf(sqs.build()),
            queue_url,
            dead_letter_url,
        );
        Ok(App::new(
            Arc::new(store),
            Arc::new(secrets),
            Arc::new(queue),
            settings,
            vendors,
        ))
    }

    /// What the intake functions use.
    pub fn intake(&self) -> Intake<'_> {
        Intake {
            tenants: &self.directory,
            deliveries: self.store.as_ref(),
            log: self.store.as_ref(),
            limiter: self.store.as_ref(),
            orders: self.store.as_ref(),
            queue: self.queue.as_ref(),
            vendors: &self.vendors,
            settings: &self.settings,
        }
    }

    /// What the worker (and the operator's actions) use, until `deadline`.
    pub fn worker(&self, deadline: Deadline) -> Worker<'_> {
        Worker {
            tenants: &self.directory,
            tenant_store: self.store.as_ref(),
            orders: self.store.as_ref(),
            claims: self.store.as_ref(),
            log: self.store.as_ref(),
            queue: self.queue.as_ref(),
            lever: self.lever.as_ref(),
            stages: &self.stages,
            vendors: &self.vendors,
            http: &self.http,
            settings: &self.settings,
            deadline,
        }
    }

    /// The store behind every storage port, for callers outside the flows (the operator
    /// command, tests).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The deployment's tunables.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The work queue (and its dead-letter queue).
    pub fn queue(&self) -> &Arc<dyn Queue> {
        &self.queue
    }

    /// Tenant secrets through the process-wide cache; its
    /// [`source`](CachedSecrets::source) for writes and uncached reads.
    pub fn secrets(&self) -> &CachedSecrets {
        &self.secrets
    }

    /// Tenants (configuration and secrets) through the same cache the flows use.
    pub fn tenants(&self) -> &dyn TenantDirectory {
        &self.directory
    }

    /// The registered vendors, as given to [`App::new`].
    pub fn vendors(&self) -> &Vendors {
        &self.vendors
    }

    /// The shared HTTP client, built on first use (see [`HttpClient`]).
    pub fn http(&self) -> &reqwest::Client {
        self.http.get()
    }

    /// This deployment's Lever OAuth app, read once from its secret.
    pub async fn oauth_apps(&self) -> Result<Arc<OAuthApps>, AppError> {
        self.connections.oauth_apps().await
    }
}
