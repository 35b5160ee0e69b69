//! The files the README tells a user to copy must parse as what they claim to be, and the
//! demo secrets file must hold the secrets the demo tenant's simulators use.

use lever_screening::model::{StageRef, TenantConfig, VendorId};
use lever_screening::secrets::TenantSecrets;
use lever_screening_local::demo_tenant as demo;
use secrecy::ExposeSecret;

fn read(path: &str) -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../").to_owned() + path).unwrap()
}

#[test]
fn example_tenant_configuration_parses() {
    let tenant: TenantConfig = serde_json::from_str(&read("examples/tenant.json")).unwrap();
    assert_eq!(tenant.tenant_id, "acme");
    let xref = &tenant.vendors[&VendorId::Xref];
    assert!(xref.enabled);
    assert_eq!(
        xref.trigger_stage,
        Some(StageRef::Name("Reference Check".into()))
    );
}

#[test]
fn example_tenant_secret_parses() {
    let secrets = TenantSecrets::parse(&read("examples/tenant-secret.json")).unwrap();
    assert!(secrets.lever.api_key.is_some());
    assert!(secrets.webhooks.candidate_stage_change.is_some());
    assert!(secrets
        .vendor(VendorId::Xref)
        .and_then(|x| x.callback_secret.as_ref())
        .is_some());
}

#[test]
fn demo_secrets_file_matches_the_demo_tenant() {
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo::secrets_file()).unwrap()).unwrap();
    assert_eq!(file["tenants"][demo::TENANT], demo::secret_document());
    let secrets = TenantSecrets::parse(&demo::secret_document().to_string()).unwrap();
    let token = secrets.webhooks.candidate_stage_change.unwrap();
    assert_eq!(token.current.expose_secret(), demo::STAGE_CHANGE_TOKEN);
}
