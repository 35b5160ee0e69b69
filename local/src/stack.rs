//! The whole product on this machine: the functions' server and the worker task, the
//! simulators of Lever and the vendors, a store, a queue and a secrets file, each on a
//! loopback port. The demo, `serve`, `fixture`, the end-to-end tests and the benchmark all
//! start this same stack.

use crate::{demo_tenant as demo, lever_auth, lever_page, server, vendor_drive};
use lever_screening::flows::admin;
use lever_screening::ids::TenantId;
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::queue::memory::MemoryQueue;
use lever_screening::queue::Queue;
use lever_screening::secrets::file::{write_owner_only, FileSource};
use lever_screening::secrets::SecretsSource;
use lever_screening::store::memory::MemoryStore;
use lever_screening::store::Store;
use lever_screening::tenant::{Integration, Package, PackageSettings, StageRef, TenantConfig};
use lever_screening::vendors::{VendorId, Vendors};
use lever_screening::{App, Settings};
use lever_screening_simulators::{
    CheckrSim, EsrSim, HrLogicsSim, JustifactsSim, LeverSim, SimOpportunity, SimPosting,
    SterlingSim, XrefSim,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What to start the stack with. The defaults are the embedded demo setup.
pub struct StackOptions {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    /// `None`: the demo secrets (`demo-secrets.json` with this run's URLs filled in) in a
    /// temporary file, which the OAuth callback may write tokens to.
    pub secrets: Option<Arc<dyn SecretsSource>>,
    /// More tenants for that file: tenant id → secret document.
    pub extra_secrets: serde_json::Map<String, serde_json::Value>,
    pub settings: Settings,
    /// Port of the functions' server; 0 picks a free one.
    pub port: u16,
    /// How many worker tasks poll the queue at once, as Lambda runs up to the event source
    /// mapping's `MaximumConcurrency` workers; 0 runs none.
    pub workers: usize,
    /// `None`: every function (and the worker) runs on the stack's one app. `Some`: each
    /// function gets the app this makes for it (its binary name, the stack's settings),
    /// as each Lambda has its own role; the stack's own app is then the operator's.
    pub per_function: Option<PerFunction>,
}

/// Makes the app of one function (by binary name) with the stack's settings.
pub type PerFunction = Arc<dyn Fn(&str, &Settings) -> Arc<App> + Send + Sync>;

impl StackOptions {
    /// In-memory store and queue, and the demo secrets file.
    pub fn embedded() -> Self {
        StackOptions {
            store: Arc::new(MemoryStore::new()),
            queue: Arc::new(MemoryQueue::new()),
            secrets: None,
            extra_secrets: serde_json::Map::new(),
            settings: Settings::default(),
            port: 0,
            workers: 1,
            per_function: None,
        }
    }
}

/// A running stack. Dropping it stops the servers.
pub struct Stack {
    /// The app every function runs on, or with [`StackOptions::per_function`], the
    /// operator's (seeding, invitations, queue depth).
    pub app: Arc<App>,
    /// The app each function runs on.
    pub apps: server::Apps,
    /// The demo tenant's Lever account (connected with an API key).
    pub lever: LeverSim,
    /// The OAuth tenant's Lever account (connected as an authorized app).
    pub oauth_lever: LeverSim,
    pub xref: XrefSim,
    pub sterling: SterlingSim,
    pub justifacts: JustifactsSim,
    pub hrlogics: HrLogicsSim,
    pub esr: EsrSim,
    pub checkr: CheckrSim,
    /// Base URL of the functions (what API Gateway would be).
    pub functions_url: String,
    pub lever_url: String,
    pub oauth_lever_url: String,
    pub xref_url: String,
    pub sterling_url: String,
    pub justifacts_url: String,
    pub hrlogics_url: String,
    pub esr_url: String,
    pub checkr_url: String,
    /// The secrets file, when the stack wrote one.
    pub secrets_file: Option<PathBuf>,
    _secrets_dir: Option<tempfile::TempDir>,
    servers: Vec<JoinHandle<()>>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

impl Stack {
    /// Where `tenant`'s Candidate Stage Change webhook is delivered (what Lever's webhook
    /// settings hold), for the demo and the drills.
    pub fn stage_change_url(&self, tenant: &str) -> String {
        format!(
            "{}/lever/{tenant}/candidate-stage-change",
            self.functions_url
        )
    }

    /// Where the simulator of `vendor` listens: every vendor has one here (a match, so a
    /// new vendor does not compile until the stack serves its simulator).
    pub fn vendor_url(&self, vendor: VendorId) -> &str {
        match vendor {
            VendorId::Xref => &self.xref_url,
            VendorId::Sterling => &self.sterling_url,
            VendorId::Justifacts => &self.justifacts_url,
            VendorId::HrLogics => &self.hrlogics_url,
            VendorId::Esr => &self.esr_url,
            VendorId::Checkr => &self.checkr_url,
        }
    }

    /// Waits until the worker has done everything queued (up to `timeout`); false if work
    /// is still waiting then (a retry's delay, say).
    pub async fn settle(&self, timeout: Duration) -> bool {
        let until = tokio::time::Instant::now() + timeout;
        // A message is deleted only once settled, so an idle queue means the work is done.
        while tokio::time::Instant::now() < until {
            match self.app.queue().depth().await {
                Ok(depth) if depth.is_idle() => return true,
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        false
    }

    /// Starts the simulators and the functions, seeds both demo tenants, their stages,
    /// postings and candidates, and subscribes the functions to each Lever account's
    /// Candidate Stage Change webhook.
    pub async fn start(options: StackOptions) -> std::io::Result<Stack> {
        let lever = LeverSim::new(demo::XREF_LEVER_KEY);
        lever.add_api_key(demo::STERLING_LEVER_KEY);
        lever.add_api_key(demo::CHECKR_LEVER_KEY);
        let oauth_lever = LeverSim::new(demo::OAUTH_TENANT_UNUSED_API_KEY);
        let xref = XrefSim::new(demo::XREF_API_KEY, demo::XREF_CALLBACK_SECRET);
        let sterling = SterlingSim::new(demo::STERLING_CLIENT_ID, demo::STERLING_CLIENT_SECRET);
        sterling.add_package(
            demo::STERLING_PACKAGE_ID,
            "Standard",
            &demo::STERLING_PACKAGE_SERVICES,
        );
        let justifacts = JustifactsSim::new(
            demo::JUSTIFACTS_USERNAME,
            demo::JUSTIFACTS_PASSWORD,
            demo::JUSTIFACTS_CALLBACK_SECRET,
        );
        let hrlogics = HrLogicsSim::new(demo::HRLOGICS_API_KEY, demo::HRLOGICS_CALLBACK_SECRET);
        let esr = EsrSim::new(
            demo::ESR_ACCOUNT_ID,
            demo::ESR_API_KEY,
            demo::ESR_CALLBACK_SECRET,
        );
        for (id, name) in demo::ESR_PACKAGES {
            esr.add_package(id, name);
        }
        let checkr = CheckrSim::new(demo::CHECKR_API_KEY);
        checkr.add_package(demo::CHECKR_PACKAGE, "Tasker Standard");
        let mut servers = Vec::new();
        let lever_url = serve_simulator(lever.router(), &mut servers).await?;
        let oauth_lever_url = serve_simulator(oauth_lever.router(), &mut servers).await?;
        let xref_url = serve_simulator(xref.router(), &mut servers).await?;
        let sterling_url = serve_simulator(sterling.router(), &mut servers).await?;
        let justifacts_url = serve_simulator(justifacts.router(), &mut servers).await?;
        let hrlogics_url = serve_simulator(hrlogics.router(), &mut servers).await?;
        let esr_url = serve_simulator(esr.router(), &mut servers).await?;
        let checkr_url = serve_simulator(checkr.router(), &mut servers).await?;

        let (secrets_dir, secrets_file, secrets) = match options.secrets {
            Some(source) => (None, None, source),
            None => {
                let dir = tempfile::tempdir()?;
                let path = dir.path().join("secrets.json");
                let source: Arc<dyn SecretsSource> = Arc::new(FileSource::new(&path));
                (Some(dir), Some(path), source)
            }
        };
        // Bound first, so the app knows where it is reachable (the URLs it registers in Lever).
        let functions_listener = TcpListener::bind(("127.0.0.1", options.port)).await?;
        let functions_url = format!("http://{}", functions_listener.local_addr()?);
        let mut settings = options.settings;
        settings
            .lever_oauth_app_secret
            .get_or_insert_with(|| demo::OAUTH_APP_SECRET_NAME.to_owned());
        settings
            .public_base_url
            .get_or_insert_with(|| functions_url.clone());
        settings
            .local_lever_page
            .get_or_insert_with(|| format!("{functions_url}{}", lever_page::PATH));
        let apps_settings = settings.clone();
        let app = Arc::new(App::new(
            options.store,
            secrets,
            options.queue,
            settings,
            Vendors::standard(),
        ));
        let apps = match &options.per_function {
            None => server::Apps::one(Arc::clone(&app)),
            Some(make) => server::Apps::per_function(
                Arc::clone(&app),
                server::functions()
                    .into_iter()
                    .map(|function| {
                        let app = make(&function, &apps_settings);
                        (function, app)
                    })
                    .collect(),
            ),
        };
        let urls = Urls {
            lever: &lever_url,
            oauth_lever: &oauth_lever_url,
            xref: &xref_url,
            sterling: &sterling_url,
            justifacts: &justifacts_url,
            hrlogics: &hrlogics_url,
            esr: &esr_url,
            checkr: &checkr_url,
        };
        seed_tenants(&app, &urls)
            .await
            .map_err(std::io::Error::other)?;
        let accounts = vec![
            lever_page::Account {
                tenant: demo::TENANT.to_owned(),
                lever: lever.clone(),
            },
            lever_page::Account {
                tenant: demo::OAUTH_TENANT.to_owned(),
                lever: oauth_lever.clone(),
            },
        ];
        let router = server::router_for(apps.clone())
            .merge(lever_page::router(accounts))
            .merge(vendor_drive::router(xref.clone()))
            .merge(lever_auth::router(
                Arc::clone(&app),
                vec![
                    (demo::TENANT.to_owned(), lever_url.clone()),
                    (demo::OAUTH_TENANT.to_owned(), oauth_lever_url.clone()),
                ],
            ));
        servers.push(serve(functions_listener, router));
        for _ in 0..options.workers {
            servers.push(server::spawn_worker(Arc::clone(
                apps.function(server::WORKER),
            )));
        }
        if let Some(path) = &secrets_file {
            let document = demo::secrets_for_run(&functions_url, options.extra_secrets)?;
            write_owner_only(path, document.to_string().as_bytes()).await?;
        }

        seed_lever(&lever);
        seed_lever(&oauth_lever);
        // Checkr's Dashboard, Developer Settings: the webhook URL, objects included.
        checkr
            .add_webhook_url(&format!(
                "{functions_url}/callbacks/checkr/{}",
                demo::TENANT
            ))
            .map_err(std::io::Error::other)?;
        for (sim, tenant, tokens) in [
            (&lever, demo::TENANT, demo::WEBHOOK_TOKENS),
            (
                &oauth_lever,
                demo::OAUTH_TENANT,
                demo::OAUTH_TENANT_WEBHOOK_TOKENS,
            ),
        ] {
            let tenant = TenantId::parse(tenant).map_err(std::io::Error::other)?;
            for (kind, token) in WebhookKind::ALL.into_iter().zip(tokens) {
                let url = admin::webhook_url(&functions_url, &tenant, kind);
                sim.subscribe(kind.event_name(), url, token.to_owned());
            }
        }
        // The deployment's OAuth apps, as in Lever: every account's admin may authorize
        // each, and revokes each on its own.
        let redirect_uri = format!("{functions_url}/lever/oauth/callback");
        let shared = ("", demo::OAUTH_CLIENT_ID, demo::OAUTH_CLIENT_SECRET);
        for sim in [&lever, &oauth_lever] {
            for (_, client_id, client_secret) in demo::OAUTH_VENDOR_APPS.iter().chain([&shared]) {
                sim.register_oauth_app(client_id, client_secret, &redirect_uri);
            }
        }
        Ok(Stack {
            app,
            apps,
            lever,
            oauth_lever,
            xref,
            sterling,
            justifacts,
            hrlogics,
            esr,
            checkr,
            functions_url,
            lever_url,
            oauth_lever_url,
            xref_url,
            sterling_url,
            justifacts_url,
            hrlogics_url,
            esr_url,
            checkr_url,
            secrets_file,
            _secrets_dir: secrets_dir,
            servers,
        })
    }
}

/// Where each simulator listens.
pub struct Urls<'a> {
    pub lever: &'a str,
    pub oauth_lever: &'a str,
    pub xref: &'a str,
    pub sterling: &'a str,
    pub justifacts: &'a str,
    pub hrlogics: &'a str,
    pub esr: &'a str,
    pub checkr: &'a str,
}

/// Serves a simulator on a free port; returns its base URL.
async fn serve_simulator(
    router: axum::Router,
    servers: &mut Vec<JoinHandle<()>>,
) -> std::io::Result<String> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    servers.push(serve(listener, router));
    Ok(url)
}

fn serve(listener: TcpListener, router: axum::Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "local server stopped");
        }
    })
}

/// The demo tenant (each integration with its own Lever API key): Xref on 'Reference
/// Check' and Sterling on 'Background Check', each stage named and resolved to its id (as
/// the operator command stores it), Sterling's package from a posting tag or the default.
/// The OAuth tenant (authorized app): Justifacts on 'Background Check' with its package
/// from the posting's tag, HRLogics on new applications, ESR on 'Pre-hire Screening' with
/// its catalog.
pub async fn seed_tenants(
    app: &App,
    urls: &Urls<'_>,
) -> Result<(), lever_screening::store::StoreError> {
    let stage = |id: &str, name: &str| StageRef {
        id: Some(id.to_owned()),
        name: Some(name.to_owned()),
    };
    let integration = |api_base: &str, trigger_stage: Option<StageRef>, package| Integration {
        enabled: true,
        api_base: api_base.to_owned(),
        trigger_stage,
        package,
        lever_access_revoked: None,
        on_completion: None,
        shares_trigger_stage: false,
    };
    let sterling_package = PackageSettings {
        tag_prefix: Some(demo::STERLING_PACKAGE_TAG_PREFIX.to_owned()),
        default: Some(Package {
            name: Some("Standard".into()),
            id: demo::STERLING_PACKAGE_ID.into(),
        }),
        catalog: Vec::new(),
    };
    let demo_tenant = TenantConfig {
        tenant_id: tenant(demo::TENANT),
        lever_api_base: format!("{}/v1", urls.lever),
        vendors: [
            (
                VendorId::Xref,
                integration(
                    urls.xref,
                    Some(stage(
                        demo::REFERENCE_CHECK_STAGE_ID,
                        demo::REFERENCE_CHECK_STAGE_NAME,
                    )),
                    PackageSettings::default(),
                ),
            ),
            (
                VendorId::Sterling,
                integration(
                    urls.sterling,
                    Some(stage(
                        demo::BACKGROUND_CHECK_STAGE_ID,
                        demo::BACKGROUND_CHECK_STAGE_NAME,
                    )),
                    sterling_package,
                ),
            ),
            (
                VendorId::Checkr,
                integration(
                    urls.checkr,
                    Some(stage(
                        demo::PRE_HIRE_SCREENING_STAGE_ID,
                        demo::PRE_HIRE_SCREENING_STAGE_NAME,
                    )),
                    PackageSettings {
                        tag_prefix: None,
                        default: Some(Package {
                            name: Some("Tasker Standard".into()),
                            id: demo::CHECKR_PACKAGE.into(),
                        }),
                        catalog: Vec::new(),
                    },
                ),
            ),
        ]
        .into(),
        phone_region: None,
    };
    // Justifacts reads its seed's posting tag with no setting.
    let justifacts_package = PackageSettings::default();
    let esr_package = PackageSettings {
        tag_prefix: Some(demo::ESR_PACKAGE_TAG_PREFIX.to_owned()),
        default: Some(Package {
            name: Some("Standard".into()),
            id: "101".into(),
        }),
        catalog: demo::ESR_PACKAGES
            .iter()
            .map(|(id, name)| Package {
                name: Some((*name).to_owned()),
                id: (*id).to_owned(),
            })
            .collect(),
    };
    let oauth_tenant = TenantConfig {
        tenant_id: tenant(demo::OAUTH_TENANT),
        lever_api_base: format!("{}/v1", urls.oauth_lever),
        vendors: [
            (
                VendorId::Justifacts,
                integration(
                    urls.justifacts,
                    Some(stage(
                        demo::BACKGROUND_CHECK_STAGE_ID,
                        demo::BACKGROUND_CHECK_STAGE_NAME,
                    )),
                    justifacts_package,
                ),
            ),
            // Ordered on every Application Created, not on a stage.
            (
                VendorId::HrLogics,
                integration(urls.hrlogics, None, PackageSettings::default()),
            ),
            (
                VendorId::Esr,
                integration(
                    urls.esr,
                    Some(stage(
                        demo::PRE_HIRE_SCREENING_STAGE_ID,
                        demo::PRE_HIRE_SCREENING_STAGE_NAME,
                    )),
                    esr_package,
                ),
            ),
        ]
        .into(),
        phone_region: None,
    };
    app.store().put_tenant(&demo_tenant).await?;
    app.store().put_tenant(&oauth_tenant).await
}

/// A demo tenant's id (the constants are valid ids).
fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap_or_else(|_| unreachable!("demo tenant ids are valid"))
}

/// Stages, a posting and three candidates: two complete, one without an email address.
pub fn seed_lever(lever: &LeverSim) {
    for (id, text) in demo::STAGES {
        lever.add_stage(id, text);
    }
    lever.add_posting(SimPosting {
        id: demo::POSTING_ID.into(),
        text: "Senior Software Engineer".into(),
        tags: vec![],
        location: Some("Toronto".into()),
    });
    lever.add_opportunity(SimOpportunity {
        id: demo::OPPORTUNITY_ID.into(),
        name: "Ada Lovelace".into(),
        emails: vec!["ada@example.com".into()],
        phones: vec!["+1 416 555 0100".into()],
        tags: vec![],
        stage: demo::PHONE_SCREEN_STAGE_ID.into(),
        posting_id: Some(demo::POSTING_ID.into()),
        location: Some("Toronto".into()),
    });
    lever.add_posting(SimPosting {
        id: demo::JUSTIFACTS_POSTING_ID.into(),
        text: "Data Analyst".into(),
        tags: vec![demo::JUSTIFACTS_PACKAGE_TAG.into()],
        location: Some("Hampton".into()),
    });
    // Lever copies the posting's tags onto its candidates' opportunities.
    lever.add_opportunity(SimOpportunity {
        id: demo::JUSTIFACTS_OPPORTUNITY_ID.into(),
        name: "Katherine Johnson".into(),
        emails: vec!["katherine@example.com".into()],
        phones: vec![],
        tags: vec![demo::JUSTIFACTS_PACKAGE_TAG.into()],
        stage: demo::PHONE_SCREEN_STAGE_ID.into(),
        posting_id: Some(demo::JUSTIFACTS_POSTING_ID.into()),
        location: Some("Hampton".into()),
    });
    lever.add_opportunity(SimOpportunity {
        id: demo::STERLING_OPPORTUNITY_ID.into(),
        name: "Alan Turing".into(),
        emails: vec!["alan@example.com".into()],
        phones: vec!["+44 20 7946 0018".into()],
        tags: vec![],
        stage: demo::PHONE_SCREEN_STAGE_ID.into(),
        posting_id: Some(demo::POSTING_ID.into()),
        location: Some("London".into()),
    });
    lever.add_posting(SimPosting {
        id: demo::CHECKR_POSTING_ID.into(),
        text: "Flight Software Engineer".into(),
        tags: vec![],
        location: Some("Boston, MA".into()),
    });
    lever.add_opportunity(SimOpportunity {
        id: demo::CHECKR_OPPORTUNITY_ID.into(),
        name: "Margaret Hamilton".into(),
        emails: vec!["margaret@example.com".into()],
        phones: vec![],
        tags: vec![],
        stage: demo::PHONE_SCREEN_STAGE_ID.into(),
        posting_id: Some(demo::CHECKR_POSTING_ID.into()),
        location: Some("Boston, MA".into()),
    });
    lever.add_opportunity(SimOpportunity {
        id: demo::NO_EMAIL_OPPORTUNITY_ID.into(),
        name: "Grace Hopper".into(),
        emails: vec![],
        phones: vec![],
        tags: vec![],
        stage: demo::PHONE_SCREEN_STAGE_ID.into(),
        posting_id: Some(demo::POSTING_ID.into()),
        location: None,
    });
}
