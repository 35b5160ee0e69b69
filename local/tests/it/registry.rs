//! Every vendor is in every registry: a vendor missing from one fails here, not in front of
//! a user (a callback URL answering 404, a console page without it, a template without its
//! function, docs without its row).

use crate::support::start;
use lever_screening::store::TenantStore;
use lever_screening::vendors::{self, VendorId};
use lever_screening_local::demo_tenant as demo;

fn repo_file(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_vendor_has_its_function_template_entry_events_file_and_docs_row() {
    let template = repo_file("template.yaml");
    let vendor_docs = repo_file("docs/vendor-apis.md");
    let readme = repo_file("README.md");
    for &vendor in VendorId::ALL {
        let description = vendors::description(vendor);
        assert_eq!(description.id, vendor, "the registry's line for {vendor}");
        let binary = format!("{vendor}-callback");
        let main = repo_file(&format!("functions/{binary}/src/main.rs"));
        assert_eq!(vendors::module(vendor).description.id, vendor);
        assert!(
            main.contains(&format!("VendorCallback(&{vendor}::MODULE)")),
            "functions/{binary} serves {vendor}'s callbacks"
        );
        assert!(
            template.contains(&format!("Binary: {binary}\n")),
            "{binary} in template.yaml"
        );
        let path = match description.callback_auth {
            vendors::CallbackAuth::UrlSecret => {
                format!("/callbacks/{vendor}/{{tenant}}/{{secret}}")
            }
            _ => format!("/callbacks/{vendor}/{{tenant}}"),
        };
        assert!(
            template.contains(&format!("Path: {path}\n")),
            "{path} in template.yaml"
        );
        assert!(
            template.contains(&format!("Value: {vendor}\n")),
            "{vendor} in the template's alarms"
        );
        let event = repo_file(&format!("events/{binary}.json"));
        assert!(
            event.contains(&format!("/callbacks/{vendor}/demo")),
            "events/{binary}.json"
        );
        assert!(
            vendor_docs.contains(&format!("\n| {} |", description.name)),
            "{vendor} in docs/vendor-apis.md's table"
        );
        assert!(
            readme.contains(&format!("\n| {} ", description.name)),
            "{vendor} in the README's \"what a recruiter sees\""
        );
    }
}

#[tokio::test]
async fn the_local_stack_serves_a_simulator_for_every_vendor_and_the_demo_orders_from_it() {
    let h = start().await;
    let mut configured = Vec::new();
    for tenant in [demo::TENANT, demo::OAUTH_TENANT] {
        let config = h
            .store
            .get_tenant(&crate::support::tenant(tenant))
            .await
            .unwrap()
            .unwrap();
        for (vendor, integration) in &config.vendors {
            assert_eq!(
                integration.api_base,
                h.stack.vendor_url(*vendor),
                "{vendor}"
            );
            configured.push(*vendor);
        }
    }
    configured.sort();
    assert_eq!(configured, VendorId::ALL, "each vendor on one demo tenant");
}
