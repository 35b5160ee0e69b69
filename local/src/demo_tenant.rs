//! The embedded demo tenants: their ids and their (documented, test-only) secrets, which
//! `demo-secrets.json` holds (a test keeps these constants in step with it). The ids are
//! those of Lever's published webhook example, so `events/` reads like Lever's docs.

use std::path::PathBuf;

pub const TENANT: &str = "demo";
/// The keys Lever generated with the Xref and Sterling toggles: one per integration.
pub const XREF_LEVER_KEY: &str = "demo-xref-lever-key";
pub const STERLING_LEVER_KEY: &str = "demo-sterling-lever-key";
/// The Candidate Stage Change signature token; also signs `events/`.
pub const STAGE_CHANGE_TOKEN: &str = "test-signature-token";
pub const XREF_API_KEY: &str = "demo-xref-api-key";
/// Standard Webhooks secret Xref signs its callbacks with; also signs `events/`.
pub const XREF_CALLBACK_SECRET: &str = "whsec_bGV2ZXItc2NyZWVuaW5nLWRlbW8teHJlZi1zZWNyZXQ=";

pub const STERLING_CLIENT_ID: &str = "demo-sterling-client";
pub const STERLING_CLIENT_SECRET: &str = "demo-sterling-client-secret";
/// Sterling's callbacks are unsigned: this secret is the last segment of their URL.
pub const STERLING_CALLBACK_SECRET: &str = "demo-sterling-callback-secret";
pub const STERLING_PACKAGE_ID: &str = "pkg-standard";
pub const STERLING_PACKAGE_SERVICES: [&str; 2] =
    ["Criminal Record Check", "Employment Verification"];
pub const STERLING_PACKAGE_TAG_PREFIX: &str = "STERLING BGC PKG:";

/// The second tenant, a Lever account connected as an authorized app (OAuth).
pub const OAUTH_TENANT: &str = "globex";
/// Its Lever simulator needs some API key; the tenant itself only ever uses OAuth.
pub const OAUTH_TENANT_UNUSED_API_KEY: &str = "globex-api-key-not-used";
pub const OAUTH_TENANT_STAGE_CHANGE_TOKEN: &str = "globex-signature-token";
/// This deployment's Lever OAuth app, stored as the named secret `lever-oauth-app`.
pub const OAUTH_APP_SECRET_NAME: &str = "lever-oauth-app";
/// The shared app: the tenant-wide credential's, and that of any vendor without its own.
pub const OAUTH_CLIENT_ID: &str = "demo-oauth-client";
pub const OAUTH_CLIENT_SECRET: &str = "demo-oauth-client-secret";
/// Each OAuth vendor's own app (`vendors.<vendor>` in the app secret), as each vendor's
/// integration is its own authorized app in Lever: (vendor, client id, client secret).
pub const OAUTH_VENDOR_APPS: [(&str, &str, &str); 3] = [
    (
        "justifacts",
        "demo-justifacts-client",
        "demo-justifacts-client-secret",
    ),
    (
        "hrlogics",
        "demo-hrlogics-client",
        "demo-hrlogics-client-secret",
    ),
    ("esr", "demo-esr-client", "demo-esr-client-secret"),
];
pub const JUSTIFACTS_USERNAME: &str = "demo-jweb-user";
pub const JUSTIFACTS_PASSWORD: &str = "demo-jweb-password";
pub const JUSTIFACTS_CALLBACK_SECRET: &str = "whsec_anVzdGlmYWN0cy1kZW1vLWNhbGxiYWNrLXNlY3JldA==";
/// The seed's example package tag, on the Data Analyst posting.
pub const JUSTIFACTS_PACKAGE_TAG: &str = "JUSTIFACTS BGC PKG: EmpCod[ID : 13558]";
pub const JUSTIFACTS_POSTING_ID: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
pub const JUSTIFACTS_OPPORTUNITY_ID: &str = "4c3b2a19-0f8e-4d7c-b6a5-948372615a0b";

pub const APPLICATION_CREATED_TOKEN: &str = "demo-application-created-token";
pub const ARCHIVE_CHANGE_TOKEN: &str = "demo-archive-change-token";
pub const DELETED_TOKEN: &str = "demo-deleted-token";
pub const HIRED_TOKEN: &str = "demo-hired-token";
/// The demo tenant's signature tokens, in the order of `WebhookKind::ALL`.
pub const WEBHOOK_TOKENS: [&str; 5] = [
    STAGE_CHANGE_TOKEN,
    APPLICATION_CREATED_TOKEN,
    ARCHIVE_CHANGE_TOKEN,
    DELETED_TOKEN,
    HIRED_TOKEN,
];
/// The OAuth tenant's, likewise.
pub const OAUTH_TENANT_WEBHOOK_TOKENS: [&str; 5] = [
    OAUTH_TENANT_STAGE_CHANGE_TOKEN,
    OAUTH_TENANT_APPLICATION_CREATED_TOKEN,
    "globex-archive-change-token",
    "globex-deleted-token",
    "globex-hired-token",
];
pub const OAUTH_TENANT_APPLICATION_CREATED_TOKEN: &str = "globex-application-created-token";
pub const HRLOGICS_API_KEY: &str = "demo-hrlogics-api-key";
pub const HRLOGICS_CALLBACK_SECRET: &str = "whsec_aHJsb2dpY3MtZGVtby1jYWxsYmFjay1zZWNyZXQ=";
pub const ESR_ACCOUNT_ID: &str = "demo-esr-account";
pub const ESR_API_KEY: &str = "demo-esr-api-key";
pub const ESR_CALLBACK_SECRET: &str = "whsec_ZXNyLWRlbW8tY2FsbGJhY2stc2VjcmV0LXZhbHVl";
pub const ESR_PACKAGE_TAG_PREFIX: &str = "ESR PKG:";
/// The packages ESR's representative gave this tenant.
pub const ESR_PACKAGES: [(&str, &str); 2] = [("101", "Standard"), ("102", "Executive")];
pub const PRE_HIRE_SCREENING_STAGE_NAME: &str = "Pre-hire Screening";
pub const PRE_HIRE_SCREENING_STAGE_ID: &str = "e0f1a2b3-c4d5-4e6f-8a9b-0c1d2e3f4a5b";

pub const PHONE_SCREEN_STAGE_ID: &str = "992f01a9-ee19-41d2-ae79-1040701b195c";
pub const REFERENCE_CHECK_STAGE_ID: &str = "7c2690d8-6308-4ed9-ae2a-cbfe7db26593";
pub const OFFER_STAGE_ID: &str = "5a0e4b5c-2d4f-4f7e-9a39-3f6d2b8c1e07";
pub const BACKGROUND_CHECK_STAGE_ID: &str = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f";
pub const REFERENCE_CHECK_STAGE_NAME: &str = "Reference Check";
pub const BACKGROUND_CHECK_STAGE_NAME: &str = "Background Check";
pub const STAGES: [(&str, &str); 5] = [
    (PHONE_SCREEN_STAGE_ID, "Phone Screen"),
    (REFERENCE_CHECK_STAGE_ID, REFERENCE_CHECK_STAGE_NAME),
    (BACKGROUND_CHECK_STAGE_ID, BACKGROUND_CHECK_STAGE_NAME),
    (PRE_HIRE_SCREENING_STAGE_ID, PRE_HIRE_SCREENING_STAGE_NAME),
    (OFFER_STAGE_ID, "Offer"),
];

pub const POSTING_ID: &str = "f2f3b4a5-6c7d-4e8f-9a0b-1c2d3e4f5a6b";
pub const OPPORTUNITY_ID: &str = "3410c8b9-5c31-4bab-b7e9-9f710206d647";
pub const NO_EMAIL_OPPORTUNITY_ID: &str = "0b9c8d7e-6f5a-4b3c-2d1e-0f9a8b7c6d5e";
/// The key Lever generated with the Checkr toggle.
pub const CHECKR_LEVER_KEY: &str = "demo-checkr-lever-key";
/// The Checkr account's secret API key: it also signs Checkr's webhooks.
pub const CHECKR_API_KEY: &str = "demo-checkr-api-key";
/// The Checkr package the demo tenant orders (Checkr's example slug).
pub const CHECKR_PACKAGE: &str = "tasker_standard";
pub const CHECKR_POSTING_ID: &str = "b7c8d9e0-f1a2-4b3c-9d4e-5f6a7b8c9d0e";
/// The candidate the Checkr demo and tests order a background check for.
pub const CHECKR_OPPORTUNITY_ID: &str = "5d6e7f80-91a2-4b3c-8d4e-2f1a0b9c8d7e";
/// The candidate the Sterling demo and tests order a background check for.
pub const STERLING_OPPORTUNITY_ID: &str = "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3921";

/// `local/demo-secrets.json`: the local stand-in for the tenant's Secrets Manager secret.
pub fn secrets_file() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/demo-secrets.json"))
}

/// The secrets file for one run of the stack: `demo-secrets.json` with the OAuth app's
/// URLs pointed at this run's servers, plus `extra` tenants.
pub fn secrets_for_run(
    functions_url: &str,
    extra: serde_json::Map<String, serde_json::Value>,
) -> std::io::Result<serde_json::Value> {
    let mut document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(secrets_file())?)?;
    let app = &mut document["named"][OAUTH_APP_SECRET_NAME];
    app["redirect_uri"] = format!("{functions_url}/lever/oauth/callback").into();
    // Lever's one authorization server, which sends each tenant's admin to that tenant's
    // own Lever account (`lever_auth`).
    let auth = format!("{functions_url}{}", crate::lever_auth::PATH);
    app["authorize_url"] = format!("{auth}/authorize").into();
    app["token_url"] = format!("{auth}/token").into();
    if let Some(tenants) = document["tenants"].as_object_mut() {
        tenants.extend(extra);
    }
    Ok(document)
}

/// A demo tenant's secret document, as `demo-secrets.json` has it (and `fixture` stores it
/// in Secrets Manager).
pub fn secret_document(tenant: &str) -> std::io::Result<serde_json::Value> {
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(secrets_file())?)?;
    Ok(file["tenants"][tenant].clone())
}
