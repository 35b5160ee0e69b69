//! The whole product on this machine: the functions' server, the Lever and Xref simulators,
//! a store and a secrets file, each on a loopback port. The demo, `serve`, `fixture` and the
//! end-to-end tests all start this same stack.

use crate::sim::{LeverSim, SimOpportunity, SimPosting, SterlingSim, XrefSim};
use crate::{demo_tenant as demo, server};
use shared::model::{Package, PackageSettings, StageRef, TenantConfig, VendorId, VendorSettings};
use shared::secrets::file::FileSource;
use shared::secrets::SecretsSource;
use shared::store::memory::MemoryStore;
use shared::store::Store;
use shared::{App, Settings};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What to start the stack with. The defaults are the embedded demo setup.
pub struct StackOptions {
    pub store: Arc<dyn Store>,
    pub secrets: Arc<dyn SecretsSource>,
    pub settings: Settings,
    /// Port of the functions' server; 0 picks a free one.
    pub port: u16,
}

impl StackOptions {
    /// In-memory store and the committed demo secrets file.
    pub fn embedded() -> Self {
        StackOptions {
            store: Arc::new(MemoryStore::new()),
            secrets: Arc::new(FileSource::new(demo::secrets_file())),
            settings: Settings::default(),
            port: 0,
        }
    }
}

/// A running stack. Dropping it stops the servers.
pub struct Stack {
    pub app: Arc<App>,
    pub lever: LeverSim,
    pub xref: XrefSim,
    pub sterling: SterlingSim,
    /// Base URL of the functions (what API Gateway would be).
    pub functions_url: String,
    pub lever_url: String,
    pub xref_url: String,
    pub sterling_url: String,
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
    /// Starts the simulators and the functions, seeds the demo tenant, its stages, posting
    /// and candidate, and subscribes the functions to the Lever simulator's webhooks.
    pub async fn start(options: StackOptions) -> std::io::Result<Stack> {
        let lever = LeverSim::new(demo::LEVER_API_KEY);
        let xref = XrefSim::new(demo::XREF_API_KEY, demo::XREF_CALLBACK_SECRET);
        let (lever_addr, lever_server) = serve(0, lever.router()).await?;
        let (xref_addr, xref_server) = serve(0, xref.router()).await?;
        let sterling = SterlingSim::new(demo::STERLING_CLIENT_ID, demo::STERLING_CLIENT_SECRET);
        sterling.add_package(
            demo::STERLING_PACKAGE_ID,
            "Standard",
            &demo::STERLING_PACKAGE_SERVICES,
        );
        let (sterling_addr, sterling_server) = serve(0, sterling.router()).await?;
        let lever_url = format!("http://{lever_addr}");
        let xref_url = format!("http://{xref_addr}");
        let sterling_url = format!("http://{sterling_addr}");

        let app = Arc::new(App::new(options.store, options.secrets, options.settings));
        seed_tenant(&app, &lever_url, &xref_url, &sterling_url)
            .await
            .map_err(std::io::Error::other)?;
        let (functions_addr, functions_server) =
            serve(options.port, server::router(Arc::clone(&app))).await?;
        let functions_url = format!("http://{functions_addr}");

        seed_lever(&lever);
        lever.subscribe(
            "candidateStageChange",
            format!(
                "{functions_url}/lever/{}/candidate-stage-change",
                demo::TENANT
            ),
            demo::STAGE_CHANGE_TOKEN.to_owned(),
        );
        Ok(Stack {
            app,
            lever,
            xref,
            sterling,
            functions_url,
            lever_url,
            xref_url,
            sterling_url,
            servers: vec![lever_server, xref_server, sterling_server, functions_server],
        })
    }
}

async fn serve(port: u16, router: axum::Router) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "local server stopped");
        }
    });
    Ok((addr, server))
}

/// The demo tenant: Lever at the simulator, Xref on the 'Reference Check' stage and
/// Sterling on 'Background Check' (by name, so the lookup through Lever's API is exercised
/// too), Sterling's package from a posting tag or the default.
pub async fn seed_tenant(
    app: &App,
    lever_url: &str,
    xref_url: &str,
    sterling_url: &str,
) -> Result<(), shared::store::StoreError> {
    let vendor = |api_base: &str, stage: &str, package| VendorSettings {
        enabled: true,
        api_base: api_base.to_owned(),
        trigger_stage: StageRef::Name(stage.to_owned()),
        package,
    };
    let sterling_package = PackageSettings {
        tag_prefix: Some(demo::STERLING_PACKAGE_TAG_PREFIX.to_owned()),
        default: Some(Package {
            name: Some("Standard".into()),
            id: demo::STERLING_PACKAGE_ID.into(),
        }),
    };
    let tenant = TenantConfig {
        tenant_id: demo::TENANT.to_owned(),
        lever_api_base: format!("{lever_url}/v1"),
        vendors: [
            (
                VendorId::Xref,
                vendor(
                    xref_url,
                    demo::REFERENCE_CHECK_STAGE_NAME,
                    PackageSettings::default(),
                ),
            ),
            (
                VendorId::Sterling,
                vendor(
                    sterling_url,
                    demo::BACKGROUND_CHECK_STAGE_NAME,
                    sterling_package,
                ),
            ),
        ]
        .into(),
    };
    app.store.put_tenant(&tenant).await
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

/// The path of the committed demo secrets file.
pub fn demo_secrets_path() -> PathBuf {
    demo::secrets_file()
}
