//! The files the README tells a user to copy parse as what they claim to be, and the demo
//! secrets file holds what the demo tenant's constants (and so its simulators) say.

use lever_screening::callback_auth;
use lever_screening::lever::webhook::WebhookKind;
use lever_screening::secrets::{RotatingSecret, TenantSecrets};
use lever_screening::tenant::{StageRef, TenantConfig};
use lever_screening::vendors::{VendorId, Vendors};
use lever_screening_local::demo_tenant as demo;
use secrecy::{ExposeSecret, SecretString};

/// A file of the repository, by its path from the workspace root.
fn read(path: &str) -> String {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn exposed(secret: Option<&SecretString>) -> Option<&str> {
    secret.map(|s| s.expose_secret())
}

fn current(secret: Option<&RotatingSecret>) -> Option<&str> {
    secret.map(|s| s.current.expose_secret())
}

#[test]
fn the_example_tenant_configuration_parses() {
    let tenant: TenantConfig = serde_json::from_str(&read("examples/tenant.json")).unwrap();
    assert_eq!(tenant.tenant_id.as_str(), "acme");
    assert_eq!(tenant.lever_api_base, TenantConfig::LEVER_PRODUCTION);
    let xref = tenant
        .integration(VendorId::Xref)
        .expect("an Xref integration");
    assert!(xref.enabled);
    assert!(xref.api_base.starts_with("https://"), "{}", xref.api_base);
    assert_eq!(
        xref.trigger_stage,
        Some(StageRef::by_name("Reference Check"))
    );
}

#[test]
fn the_example_tenant_secret_parses() {
    let secrets = TenantSecrets::parse(&read("examples/tenant-secret.json")).unwrap();
    assert!(secrets.webhook_token("candidateStageChange").is_some());
    assert!(
        secrets.lever_credential(VendorId::Xref).is_some(),
        "a Lever credential for the Xref integration"
    );
    let xref = secrets.vendor(VendorId::Xref).expect("Xref's secrets");
    assert!(xref.api_key.is_some());
    assert!(xref.callback_secret.is_some());
}

#[test]
fn the_example_tenant_secret_is_refused_until_its_placeholders_are_replaced() {
    let secrets = TenantSecrets::parse(&read("examples/tenant-secret.json")).unwrap();
    let problems = callback_auth::problems(&secrets, &Vendors::standard());
    // Its callback secret has a valid shape; its signature token is a placeholder, which
    // must never work as a key.
    assert_eq!(
        problems,
        ["webhooks.candidateStageChange.current: is a placeholder: paste the token Lever shows"]
    );
}

#[test]
fn the_demo_secrets_file_holds_the_demo_tenants_secrets() {
    let document = demo::secret_document(demo::TENANT).unwrap();
    let secrets = TenantSecrets::parse(&document.to_string()).unwrap();
    assert_eq!(
        callback_auth::problems(&secrets, &Vendors::standard()),
        Vec::<String>::new()
    );
    for (kind, token) in WebhookKind::ALL.into_iter().zip(demo::WEBHOOK_TOKENS) {
        assert_eq!(
            current(secrets.webhook_token(kind.event_name())),
            Some(token),
            "{}",
            kind.event_name()
        );
    }
    assert_eq!(
        current(secrets.webhook_token("candidateStageChange")),
        Some(demo::STAGE_CHANGE_TOKEN)
    );

    let lever_key = |vendor| {
        let (_, credential) = secrets.lever_credential(vendor)?;
        exposed(credential.api_key.as_ref())
    };
    let vendor = |vendor| secrets.vendor(vendor).unwrap();

    let xref = vendor(VendorId::Xref);
    assert_eq!(lever_key(VendorId::Xref), Some(demo::XREF_LEVER_KEY));
    assert_eq!(exposed(xref.api_key.as_ref()), Some(demo::XREF_API_KEY));
    assert_eq!(
        current(xref.callback_secret.as_ref()),
        Some(demo::XREF_CALLBACK_SECRET)
    );

    let sterling = vendor(VendorId::Sterling);
    assert_eq!(
        lever_key(VendorId::Sterling),
        Some(demo::STERLING_LEVER_KEY)
    );
    assert_eq!(
        exposed(sterling.client_id.as_ref()),
        Some(demo::STERLING_CLIENT_ID)
    );
    assert_eq!(
        exposed(sterling.client_secret.as_ref()),
        Some(demo::STERLING_CLIENT_SECRET)
    );
    assert_eq!(
        current(sterling.callback_secret.as_ref()),
        Some(demo::STERLING_CALLBACK_SECRET)
    );

    let justifacts = vendor(VendorId::Justifacts);
    assert_eq!(
        exposed(justifacts.username.as_ref()),
        Some(demo::JUSTIFACTS_USERNAME)
    );
    assert_eq!(
        exposed(justifacts.password.as_ref()),
        Some(demo::JUSTIFACTS_PASSWORD)
    );
    assert_eq!(
        current(justifacts.callback_secret.as_ref()),
        Some(demo::JUSTIFACTS_CALLBACK_SECRET)
    );

    let hrlogics = vendor(VendorId::HrLogics);
    assert_eq!(
        exposed(hrlogics.api_key.as_ref()),
        Some(demo::HRLOGICS_API_KEY)
    );
    assert_eq!(
        current(hrlogics.callback_secret.as_ref()),
        Some(demo::HRLOGICS_CALLBACK_SECRET)
    );

    let esr = vendor(VendorId::Esr);
    assert_eq!(exposed(esr.username.as_ref()), Some(demo::ESR_ACCOUNT_ID));
    assert_eq!(exposed(esr.api_key.as_ref()), Some(demo::ESR_API_KEY));
    assert_eq!(
        current(esr.callback_secret.as_ref()),
        Some(demo::ESR_CALLBACK_SECRET)
    );
}

#[test]
fn the_demo_secrets_file_holds_the_oauth_tenants_secrets_and_the_oauth_app() {
    let document = demo::secret_document(demo::OAUTH_TENANT).unwrap();
    let secrets = TenantSecrets::parse(&document.to_string()).unwrap();
    assert_eq!(
        callback_auth::problems(&secrets, &Vendors::standard()),
        Vec::<String>::new()
    );
    for (kind, token) in WebhookKind::ALL
        .into_iter()
        .zip(demo::OAUTH_TENANT_WEBHOOK_TOKENS)
    {
        assert_eq!(
            current(secrets.webhook_token(kind.event_name())),
            Some(token),
            "{}",
            kind.event_name()
        );
    }
    assert!(
        secrets.lever.is_empty(),
        "an OAuth tenant's Lever tokens are written by the OAuth callback"
    );
    for vendor in [VendorId::Justifacts, VendorId::HrLogics, VendorId::Esr] {
        assert!(secrets.vendor(vendor).is_some(), "{vendor}");
    }

    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo::secrets_file()).unwrap()).unwrap();
    let app = &file["named"][demo::OAUTH_APP_SECRET_NAME];
    assert_eq!(app["client_id"], demo::OAUTH_CLIENT_ID);
    assert_eq!(app["client_secret"], demo::OAUTH_CLIENT_SECRET);
    for (vendor, client_id, client_secret) in demo::OAUTH_VENDOR_APPS {
        assert_eq!(app["vendors"][vendor]["client_id"], client_id, "{vendor}");
        assert_eq!(
            app["vendors"][vendor]["client_secret"], client_secret,
            "{vendor}"
        );
    }
    let apps = lever_screening::lever::oauth::OAuthApps::parse(&app.to_string()).unwrap();
    for vendor in [VendorId::Justifacts, VendorId::HrLogics, VendorId::Esr] {
        let path = lever_screening::secrets::CredentialPath::Vendor(vendor);
        assert!(!apps.is_shared(path), "{vendor} has its own app");
    }
}
