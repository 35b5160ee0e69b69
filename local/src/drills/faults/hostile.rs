//! Scenario `hostile`: requests no genuine sender makes — malformed or oversized bodies,
//! wrong content types and methods, bad, missing, stale or borrowed signatures, unknown or
//! path-like tenants and vendors, Standard Webhooks headers bent every way, `whsec_` keys
//! misused, Sterling's URL secret guessed, deeply nested JSON, bytes that are not UTF-8,
//! numbers out of range, nulls. Each must be answered with a 4xx and a JSON error body
//! (`{"error":{"code","message"}}`), never a 5xx, a success or silence, and none may order
//! anything: every body that names a candidate names one who really is in a trigger stage,
//! so anything let through would order.

use super::report::{Report, Value};
use super::witness::VendorOrders;
use super::world::{stage_change, World};
use super::DrillError;
use crate::demo_tenant as demo;
use http::{HeaderName, HeaderValue, Method};
use lever_screening::callback_auth::sign_headers;
use lever_screening::clock::now_millis;
use lever_screening_simulators::lever::sign;
use serde_json::{json, Value as Json};
use std::sync::Arc;

const SCENARIO: &str = "hostile";
/// Candidates in Xref's and Sterling's trigger stages: what a request let through would order.
const BAIT: &str = "fh-bait-xref";
const STERLING_BAIT: &str = "fh-bait-sterling";
/// The stage change webhook's path, and its signature token.
const STAGE_CHANGE: &str = "/lever/demo/candidate-stage-change";
const KEY: &str = demo::STAGE_CHANGE_TOKEN;
/// Another tenant's Standard Webhooks secret.
const OTHER_SECRET: &str = "whsec_b3RoZXItdGVuYW50LWNhbGxiYWNrLXNlY3JldA==";
/// Lever's webhook bodies are refused above this many bytes.
const LIMIT: usize = 256 * 1024;

/// One request.
struct Probe {
    name: String,
    method: Method,
    path: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
}

impl Probe {
    /// A JSON POST.
    fn post(name: impl Into<String>, path: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Probe {
            name: name.into(),
            method: Method::POST,
            path: path.into(),
            headers: vec![("content-type", b"application/json".to_vec())],
            body: body.into(),
        }
    }

    /// A JSON POST of `body` to the stage change webhook.
    fn delivery(name: impl Into<String>, body: &Json) -> Self {
        Probe::post(name, STAGE_CHANGE, body.to_string())
    }

    fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Sets (replaces) a header; an empty name list entry removes nothing.
    fn header(mut self, name: &'static str, value: impl AsRef<[u8]>) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.as_ref().to_vec()));
        self
    }

    fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self
    }
}

/// What a probe was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// A 4xx with a JSON error body.
    Rejected,
    /// A 4xx whose body is not `{"error":{"code","message"}}`.
    BareRefusal(u16),
    /// A 1xx–3xx.
    Accepted(u16),
    ServerError(u16),
    /// No answer: the connection was dropped, or it took too long.
    NoAnswer(String),
}

/// 48 random hex characters, as Lever's delivery tokens.
fn token() -> String {
    let mut token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    token.truncate(48);
    token
}

/// A delivery signed with `key` whose `data` moves the bait into Reference Check.
fn signed(at: i64, key: &str) -> Json {
    let token = token();
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "event": "candidateStageChange",
        "triggeredAt": at,
        "token": token,
        "signature": sign(key, &token, at),
        "data": stage_change(BAIT, demo::REFERENCE_CHECK_STAGE_ID),
    })
}

/// A correctly signed, fresh delivery with `change` applied after signing.
fn tampered(change: impl FnOnce(&mut Json)) -> Json {
    let mut body = signed(now_millis(), KEY);
    change(&mut body);
    body
}

/// The bait's move, as JSON text.
fn bait_data() -> String {
    stage_change(BAIT, demo::REFERENCE_CHECK_STAGE_ID).to_string()
}

/// A delivery written by hand, for values `serde_json` would not write.
fn by_hand(token: &str, triggered_at: &str, signature: &str, data: &str) -> String {
    format!(
        "{{\"event\":\"candidateStageChange\",\"token\":\"{token}\",\"triggeredAt\":{triggered_at},\"signature\":\"{signature}\",\"data\":{data}}}"
    )
}

/// A body nested `depth` arrays deep.
fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn lever_probes(used: &Json) -> Vec<Probe> {
    let now = now_millis();
    let good = signed(now, KEY);
    let good_text = good.to_string();
    let mut probes = Vec::new();

    // Not JSON, or not a delivery.
    for (name, body) in [
        ("empty body", ""),
        ("whitespace body", "  \n "),
        ("lone brace", "{"),
        ("not JSON", "{not json"),
        ("JSON array", "[]"),
        ("JSON null", "null"),
        ("JSON string", "\"delivery\""),
        ("JSON number", "123"),
        ("JSON true", "true"),
        ("missing value", "{\"event\":}"),
        ("trailing comma", "{\"event\":\"candidateStageChange\",}"),
        ("single quotes", "{'event':'candidateStageChange'}"),
        ("array of deliveries", "[{\"token\":\"x\"}]"),
        (
            "comment in JSON",
            "{/* hi */\"event\":\"candidateStageChange\"}",
        ),
    ] {
        probes.push(Probe::post(format!("webhook: {name}"), STAGE_CHANGE, body));
    }
    probes.push(Probe::post(
        "webhook: trailing garbage after a signed delivery",
        STAGE_CHANGE,
        format!("{good_text} trailing"),
    ));
    probes.push(Probe::post(
        "webhook: byte-order mark before a signed delivery",
        STAGE_CHANGE,
        format!("\u{feff}{}", signed(now, KEY)),
    ));
    let duplicate_key = {
        let body = signed(now, KEY);
        let text = body.to_string();
        text.replacen('{', &format!("{{\"token\":\"{}\",", token()), 1)
    };
    probes.push(Probe::post(
        "webhook: token given twice",
        STAGE_CHANGE,
        duplicate_key,
    ));

    // Fields missing, of the wrong type, or null.
    let mut drop_field = |field: &str| {
        let body = tampered(|b| {
            if let Some(map) = b.as_object_mut() {
                map.remove(field);
            }
        });
        probes.push(Probe::delivery(format!("webhook: no `{field}`"), &body));
    };
    drop_field("token");
    drop_field("triggeredAt");
    drop_field("event");
    drop_field("signature");
    for (name, field, value) in [
        ("token is a number", "token", json!(12345)),
        ("token is an object", "token", json!({ "t": 1 })),
        ("token is null", "token", Json::Null),
        ("event is null", "event", Json::Null),
        ("event is a number", "event", json!(7)),
        ("triggeredAt is a string", "triggeredAt", json!("now")),
        ("triggeredAt is a float", "triggeredAt", json!(1.5e12)),
        ("triggeredAt is null", "triggeredAt", Json::Null),
        ("signature is null", "signature", Json::Null),
        ("signature is a number", "signature", json!(123)),
        ("signature is an array", "signature", json!(["a", "b"])),
        (
            "event names another webhook",
            "event",
            json!("candidateHired"),
        ),
        ("event is empty", "event", json!("")),
        (
            "event has a trailing space",
            "event",
            json!("candidateStageChange "),
        ),
        ("data is an array", "data", json!([1, 2])),
        ("data is a string", "data", json!("moved")),
        (
            "opportunityId is a number",
            "data",
            json!({ "opportunityId": 42, "toStageId": demo::REFERENCE_CHECK_STAGE_ID }),
        ),
        (
            "opportunityId is a path",
            "data",
            json!({ "opportunityId": "../../etc/passwd", "toStageId": demo::REFERENCE_CHECK_STAGE_ID }),
        ),
        (
            "opportunityId is 10 000 characters",
            "data",
            json!({ "opportunityId": "a".repeat(10_000), "toStageId": demo::REFERENCE_CHECK_STAGE_ID }),
        ),
        (
            "opportunityId is null",
            "data",
            json!({ "opportunityId": null, "toStageId": demo::REFERENCE_CHECK_STAGE_ID }),
        ),
        ("no toStageId", "data", json!({ "opportunityId": BAIT })),
    ] {
        let body = tampered(|b| b[field] = value);
        probes.push(Probe::delivery(format!("webhook: {name}"), &body));
    }
    // A connection test (empty data) must still be signed.
    let test_unsigned = tampered(|b| {
        b["data"] = json!({});
        b["signature"] = json!("00");
    });
    probes.push(Probe::delivery(
        "webhook: connection test with a bad signature",
        &test_unsigned,
    ));
    let test_null = tampered(|b| {
        b["data"] = Json::Null;
        b["signature"] = Json::Null;
    });
    probes.push(Probe::delivery(
        "webhook: unsigned connection test with null data",
        &test_null,
    ));

    // Wrong content types.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "text/json",
        "application/jsonx",
        "application/json-patch+json",
        "application/json, text/plain",
    ] {
        let probe = Probe::delivery(
            format!("webhook: content type {content_type}"),
            &signed(now, KEY),
        );
        probes.push(probe.header("content-type", content_type));
    }
    probes.push(
        Probe::delivery("webhook: no content type", &signed(now, KEY)).without("content-type"),
    );
    probes.push(
        Probe::post(
            "webhook: UTF-16 body declared as JSON",
            STAGE_CHANGE,
            signed(now, KEY)
                .to_string()
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
        )
        .header("content-type", "application/json; charset=utf-16"),
    );

    // Too large.
    for (name, padding) in [
        ("body of 256 KiB + 1", LIMIT + 1),
        ("body of 1 MiB", 1024 * 1024),
        ("body of 5 MiB", 5 * 1024 * 1024),
        (
            "body of 11 MiB (above API Gateway's limit)",
            11 * 1024 * 1024,
        ),
    ] {
        let body = tampered(|b| b["padding"] = json!("x".repeat(padding)));
        probes.push(Probe::delivery(format!("webhook: {name}"), &body));
    }

    // Signatures: bad, borrowed, bent.
    let flipped = tampered(|b| {
        let signature = b["signature"].as_str().unwrap_or_default().to_owned();
        let first = if signature.starts_with('0') { "1" } else { "0" };
        b["signature"] = json!(format!("{first}{}", signature.get(1..).unwrap_or_default()));
    });
    probes.push(Probe::delivery(
        "webhook: one signature digit flipped",
        &flipped,
    ));
    for (name, signature) in [
        ("empty signature", String::new()),
        ("all-zero signature", "0".repeat(64)),
        ("63-digit signature", "a".repeat(63)),
        ("65-digit signature", "a".repeat(65)),
        ("100 KiB signature", "ab".repeat(50 * 1024)),
        ("non-hex signature", "z".repeat(64)),
    ] {
        let body = tampered(|b| b["signature"] = json!(signature));
        probes.push(Probe::delivery(format!("webhook: {name}"), &body));
    }
    let prefixed = tampered(|b| {
        let signature = b["signature"].as_str().unwrap_or_default().to_owned();
        b["signature"] = json!(format!("sha256={signature}"));
    });
    probes.push(Probe::delivery(
        "webhook: signature with a `sha256=` prefix",
        &prefixed,
    ));
    let borrowed = tampered(|b| b["signature"] = signed(now, KEY)["signature"].clone());
    probes.push(Probe::delivery(
        "webhook: another delivery's signature",
        &borrowed,
    ));
    for (name, key) in [
        (
            "signed with the Application Created token",
            demo::APPLICATION_CREATED_TOKEN,
        ),
        (
            "signed with another tenant's token",
            demo::OAUTH_TENANT_STAGE_CHANGE_TOKEN,
        ),
        ("signed with an empty key", ""),
    ] {
        probes.push(Probe::delivery(
            format!("webhook: {name}"),
            &signed(now, key),
        ));
    }
    let shifted = tampered(|b| b["triggeredAt"] = json!(now + 1));
    probes.push(Probe::delivery(
        "webhook: triggeredAt changed after signing",
        &shifted,
    ));
    probes.push(Probe::post(
        "webhook: demo's signed delivery posted to another tenant",
        "/lever/globex/candidate-stage-change",
        signed(now, KEY).to_string(),
    ));

    // Signed, but outside the freshness window or out of range.
    for (name, at) in [
        ("signed 73 hours ago", now - 73 * 3600 * 1000),
        ("signed 10 minutes ahead", now + 10 * 60 * 1000),
        ("triggeredAt 0", 0),
        ("triggeredAt -1", -1),
        ("triggeredAt i64::MAX", i64::MAX),
        ("triggeredAt i64::MIN", i64::MIN),
    ] {
        probes.push(Probe::delivery(
            format!("webhook: {name}"),
            &signed(at, KEY),
        ));
    }
    for (name, at) in [
        ("triggeredAt 1e400", "1e400"),
        ("triggeredAt 10^23", "99999999999999999999999"),
        ("triggeredAt -1e30", "-1e30"),
        ("triggeredAt NaN", "NaN"),
    ] {
        let fresh = token();
        let signature = sign(KEY, &fresh, now);
        probes.push(Probe::post(
            format!("webhook: {name}"),
            STAGE_CHANGE,
            by_hand(&fresh, at, &signature, &bait_data()),
        ));
    }

    // A token that was used already, with a new time or another webhook.
    let reused_token = used["token"].as_str().unwrap_or_default().to_owned();
    let used_at = used["triggeredAt"].as_i64().unwrap_or(now);
    let mut reuse = |name: &str, path: &str, at: i64, signature: Json| {
        let mut body = used.clone();
        body["triggeredAt"] = json!(at);
        body["signature"] = signature;
        body["data"] = stage_change(BAIT, demo::REFERENCE_CHECK_STAGE_ID);
        probes.push(Probe::post(
            format!("webhook: used token, {name}"),
            path,
            body.to_string(),
        ));
    };
    reuse(
        "new triggeredAt, old signature",
        STAGE_CHANGE,
        now,
        used["signature"].clone(),
    );
    reuse(
        "posted to Candidate Hired",
        "/lever/demo/candidate-hired",
        used_at,
        used["signature"].clone(),
    );
    reuse(
        "posted to Application Created",
        "/lever/demo/application-created",
        used_at,
        used["signature"].clone(),
    );
    reuse(
        "re-signed with another tenant's token",
        STAGE_CHANGE,
        now,
        json!(sign(
            demo::OAUTH_TENANT_STAGE_CHANGE_TOKEN,
            &reused_token,
            now
        )),
    );

    // Deep nesting, bytes that are not UTF-8.
    probes.push(Probe::post(
        "webhook: arrays nested 100 000 deep",
        STAGE_CHANGE,
        nested(100_000),
    ));
    let fresh = token();
    let signature = sign(KEY, &fresh, now);
    let deep = format!(
        "{{\"opportunityId\":\"{BAIT}\",\"toStageId\":\"{}\",\"extra\":{}}}",
        demo::REFERENCE_CHECK_STAGE_ID,
        nested(1_000)
    );
    probes.push(Probe::post(
        "webhook: data nested 1 000 deep",
        STAGE_CHANGE,
        by_hand(&fresh, &now.to_string(), &signature, &deep),
    ));
    probes.push(Probe::post(
        "webhook: raw bytes FF FE FD",
        STAGE_CHANGE,
        vec![0xff, 0xfe, 0xfd],
    ));
    let mut invalid = b"{\"event\":\"candidateStageChange\",\"token\":\"".to_vec();
    invalid.extend_from_slice(&[0xff, 0xc0, 0xaf]);
    invalid.extend_from_slice(b"\",\"triggeredAt\":1}");
    probes.push(Probe::post(
        "webhook: invalid UTF-8 inside a string",
        STAGE_CHANGE,
        invalid,
    ));
    let fresh = token();
    let signature = sign(KEY, &fresh, now);
    probes.push(Probe::post(
        "webhook: lone surrogate escape in the token",
        STAGE_CHANGE,
        by_hand(
            &format!("\\ud800{fresh}"),
            &now.to_string(),
            &signature,
            &bait_data(),
        ),
    ));

    // Tenants that are not, or not ids at all.
    for (name, tenant) in [
        ("unknown tenant", "nobody".to_owned()),
        ("tenant in capitals", "DEMO".to_owned()),
        ("300-character tenant", "t".repeat(300)),
        ("tenant with an accent", "d%C3%A9mo".to_owned()),
        ("tenant with NUL", "demo%00".to_owned()),
        ("tenant with a space", "demo%20".to_owned()),
        ("tenant `..%2Fdemo`", "..%2Fdemo".to_owned()),
        ("tenant `%2e%2e%2fdemo`", "%2e%2e%2fdemo".to_owned()),
        (
            "tenant `demo%2F..%2Fglobex`",
            "demo%2F..%2Fglobex".to_owned(),
        ),
        ("tenant `demo%5C..`", "demo%5C..".to_owned()),
        ("tenant `%252e%252e`", "%252e%252e".to_owned()),
        ("tenant `demo;globex`", "demo;globex".to_owned()),
        ("tenant with CR LF", "demo%0d%0aX-Injected:%201".to_owned()),
        ("tenant `demo#x`", "demo%23x".to_owned()),
    ] {
        probes.push(Probe::post(
            format!("webhook: {name}"),
            format!("/lever/{tenant}/candidate-stage-change"),
            signed(now, KEY).to_string(),
        ));
    }
    for (name, kind) in [
        ("unknown webhook", "candidate-exploded"),
        ("webhook in camel case", "candidateStageChange"),
    ] {
        probes.push(Probe::post(
            format!("webhook: {name}"),
            format!("/lever/demo/{kind}"),
            signed(now, KEY).to_string(),
        ));
    }

    // Methods a webhook does not take.
    for method in [
        Method::GET,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        probes
            .push(Probe::delivery(format!("webhook: {method}"), &signed(now, KEY)).method(method));
    }
    probes
}

/// A Standard Webhooks signature header value made with the raw `key` bytes.
fn raw_signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    standardwebhooks::Webhook::from_bytes(key.to_vec())
        .and_then(|webhook| webhook.sign(id, timestamp, body))
        .unwrap_or_default()
}

fn message_id() -> String {
    format!("msg_{}", uuid::Uuid::new_v4().simple())
}

/// A callback to `path` signed with `secret` (no signature headers if it cannot sign).
fn callback(name: impl Into<String>, path: &str, secret: &str, body: &[u8], ts: i64) -> Probe {
    let mut probe = Probe::post(name, path, body.to_vec());
    if let Ok(headers) = sign_headers(secret, &message_id(), ts, body) {
        for (header, value) in &headers {
            let name = match header.as_str() {
                "webhook-id" => "webhook-id",
                "webhook-timestamp" => "webhook-timestamp",
                _ => "webhook-signature",
            };
            probe = probe.header(name, value.as_bytes());
        }
    }
    probe
}

fn callback_probes(xref_order: &str) -> Vec<Probe> {
    let now = now_millis() / 1000;
    let xref = "/callbacks/xref/demo";
    let secret = demo::XREF_CALLBACK_SECRET;
    let body = json!({ "id": xref_order, "status": "Completed" }).to_string();
    let body = body.as_bytes();
    let good = || callback("", xref, secret, body, now);
    let mut probes = Vec::new();
    let named = |probe: Probe, name: &str| Probe {
        name: format!("Xref callback: {name}"),
        ..probe
    };

    probes.push(named(
        Probe::post("", xref, body.to_vec()),
        "no signature headers",
    ));
    for header in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        probes.push(named(good().without(header), &format!("no {header}")));
    }
    for (name, header, value) in [
        (
            "garbage signature",
            "webhook-signature",
            b"v1,AAAA".to_vec(),
        ),
        ("empty signature", "webhook-signature", b"v1,".to_vec()),
        (
            "signature without a version",
            "webhook-signature",
            b"bm90IGEgc2lnbmF0dXJl".to_vec(),
        ),
        (
            "1 000 garbage signatures",
            "webhook-signature",
            b"v1,QUFBQQ== ".repeat(1000),
        ),
        (
            "signature not UTF-8",
            "webhook-signature",
            vec![b'v', b'1', b',', 0xff, 0xfe],
        ),
        (
            "timestamp not a number",
            "webhook-timestamp",
            b"soon".to_vec(),
        ),
        (
            "timestamp with a fraction",
            "webhook-timestamp",
            format!("{now}.5").into_bytes(),
        ),
        ("empty timestamp", "webhook-timestamp", Vec::new()),
        (
            "timestamp beyond i64",
            "webhook-timestamp",
            b"99999999999999999999".to_vec(),
        ),
        ("empty webhook-id", "webhook-id", Vec::new()),
        ("300-character webhook-id", "webhook-id", vec![b'm'; 300]),
        ("webhook-id not UTF-8", "webhook-id", vec![b'm', 0xff]),
    ] {
        probes.push(named(good().header(header, value), name));
    }
    // The right signature under another version tag.
    let v2 = good()
        .headers
        .iter()
        .find(|(n, _)| *n == "webhook-signature")
        .map(|(_, v)| String::from_utf8_lossy(v).replacen("v1,", "v2,", 1))
        .unwrap_or_default();
    probes.push(named(
        good().header("webhook-signature", v2),
        "v2 signature",
    ));
    for (name, ts) in [
        ("signed 10 minutes ago", now - 600),
        ("signed 10 minutes ahead", now + 600),
        ("timestamp 0", 0),
        ("timestamp -1", -1),
        ("timestamp i64::MAX", i64::MAX),
        ("timestamp i64::MIN", i64::MIN),
    ] {
        probes.push(named(callback("", xref, secret, body, ts), name));
    }
    probes.push(named(
        callback("", xref, OTHER_SECRET, body, now),
        "signed with another tenant's secret",
    ));
    probes.push(named(
        callback("", xref, demo::JUSTIFACTS_CALLBACK_SECRET, body, now),
        "signed with Justifacts' secret",
    ));
    // `whsec_` tricks: the secret used as it is written instead of its decoded bytes.
    let encoded = secret.trim_start_matches("whsec_");
    for (name, key) in [
        ("keyed with the `whsec_…` text", secret.as_bytes().to_vec()),
        ("keyed with the base64 text", encoded.as_bytes().to_vec()),
        ("keyed with an empty key", Vec::new()),
    ] {
        let id = message_id();
        let signature = raw_signature(&key, &id, now, body);
        let probe = Probe::post("", xref, body.to_vec())
            .header("webhook-id", id)
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature);
        probes.push(named(probe, name));
    }
    // Correctly signed, but not a callback of any order of this tenant.
    for (name, text) in [
        ("signed, not JSON", "not json".to_owned()),
        (
            "signed, unknown status",
            json!({ "id": xref_order, "status": "Hacked" }).to_string(),
        ),
        (
            "signed, unknown order",
            json!({ "id": "xref_999999", "status": "Completed" }).to_string(),
        ),
        (
            "signed, id is null",
            json!({ "id": null, "status": "Completed" }).to_string(),
        ),
        (
            "signed, id is 1e400",
            "{\"id\":1e400,\"status\":\"Completed\"}".to_owned(),
        ),
        ("signed, nested 1 000 deep", nested(1_000)),
    ] {
        probes.push(named(
            callback("", xref, secret, text.as_bytes(), now),
            name,
        ));
    }
    let padded = json!({ "id": xref_order, "status": "Completed", "padding": "x".repeat(LIMIT) })
        .to_string();
    probes.push(named(
        callback("", xref, secret, padded.as_bytes(), now),
        "signed, 256 KiB + padding",
    ));
    let mut not_utf8 = body.to_vec();
    not_utf8.extend_from_slice(&[0xff, 0xfe]);
    probes.push(named(
        callback("", xref, secret, body, now).header("content-type", "application/json"),
        "body not UTF-8 (signed as another body)",
    ));
    if let Some(last) = probes.last_mut() {
        last.body = not_utf8;
    }
    probes.push(named(
        callback("", xref, secret, body, now).header("content-type", "text/plain"),
        "signed, content type text/plain",
    ));
    probes.push(named(
        callback("", xref, secret, body, now).method(Method::GET),
        "GET",
    ));
    probes.push(named(
        callback("", xref, secret, body, now).method(Method::DELETE),
        "DELETE",
    ));
    probes.push(named(
        callback("", "/callbacks/xref/nobody", secret, body, now),
        "unknown tenant",
    ));
    probes.push(named(
        callback("", "/callbacks/xref/globex", secret, body, now),
        "a tenant without Xref",
    ));

    // Sterling: unsigned, authenticated by the secret in its URL.
    let sterling_secret = demo::STERLING_CALLBACK_SECRET;
    let payload =
        json!({ "type": "screening", "payload": { "id": "1806030372", "status": "Completed" } })
            .to_string();
    let sterling = |name: &str, tail: &str, body: &str| {
        Probe::post(
            format!("Sterling callback: {name}"),
            format!("/callbacks/sterling/demo{tail}"),
            body.to_owned(),
        )
    };
    probes.push(sterling("no URL secret", "", &payload));
    probes.push(sterling(
        "wrong URL secret",
        "/wrong-secret-0123456789",
        &payload,
    ));
    probes.push(sterling(
        "URL secret in capitals",
        &format!("/{}", sterling_secret.to_ascii_uppercase()),
        &payload,
    ));
    probes.push(sterling(
        "URL secret less its last character",
        &format!("/{}", &sterling_secret[..sterling_secret.len() - 1]),
        &payload,
    ));
    probes.push(sterling(
        "URL secret and one character more",
        &format!("/{sterling_secret}x"),
        &payload,
    ));
    probes.push(sterling(
        "URL secret with an encoded slash",
        &format!("/{sterling_secret}%2Fx"),
        &payload,
    ));
    probes.push(sterling(
        "another tenant's URL secret",
        "/other-tenant-sterling-secret",
        &payload,
    ));
    let with_secret = format!("/{sterling_secret}");
    probes.push(sterling("right secret, not JSON", &with_secret, "{"));
    probes.push(sterling(
        "right secret, not a screening",
        &with_secret,
        "{\"type\":\"invoice\",\"payload\":{}}",
    ));
    probes.push(sterling(
        "right secret, empty payload",
        &with_secret,
        "{\"type\":\"screening\",\"payload\":{}}",
    ));
    probes.push(sterling(
        "right secret, unknown screening",
        &with_secret,
        &json!({ "type": "screening", "payload": { "id": "999999999", "status": "Completed" } })
            .to_string(),
    ));
    probes.push(Probe::post(
        "Sterling callback: demo's secret at a tenant without Sterling",
        format!("/callbacks/sterling/globex/{sterling_secret}"),
        payload.clone(),
    ));

    // Vendors that are not.
    for (name, vendor) in [
        ("unknown vendor", "acme"),
        ("vendor in capitals", "XREF"),
        ("vendor with NUL", "xref%00"),
        ("vendor `%2e%2e%2fxref`", "%2e%2e%2fxref"),
        ("vendor `sterling%2Fdemo`", "sterling%2Fdemo"),
    ] {
        probes.push(Probe::post(
            format!("callback: {name}"),
            format!("/callbacks/{vendor}/demo"),
            body.to_vec(),
        ));
    }
    probes
}

/// Sends one probe and classifies the answer.
async fn send(world: &World, probe: &Probe) -> Outcome {
    let url = format!("{}{}", world.stack.functions_url, probe.path);
    let mut request = world
        .http
        .request(probe.method.clone(), url)
        .body(probe.body.clone());
    for (name, value) in &probe.headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) else {
            return Outcome::NoAnswer("the drill could not build this request".into());
        };
        request = request.header(name, value);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => return Outcome::NoAnswer(format!("{error:?}")),
    };
    let status = response.status().as_u16();
    let json = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let body: Json = match response.bytes().await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(error) => return Outcome::NoAnswer(error.to_string()),
    };
    let error_body = json
        && body["error"]["code"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
        && body["error"]["message"].is_string();
    match status {
        400..=499 if error_body => Outcome::Rejected,
        400..=499 => Outcome::BareRefusal(status),
        500.. => Outcome::ServerError(status),
        _ => Outcome::Accepted(status),
    }
}

pub async fn run(world: &Arc<World>, report: &mut Report) -> Result<(), DrillError> {
    let lever = &world.stack.lever;
    world.add_candidate(BAIT, 7, demo::REFERENCE_CHECK_STAGE_ID);
    world.add_candidate(STERLING_BAIT, 8, demo::BACKGROUND_CHECK_STAGE_ID);
    // A token used up by a connection test Lever really sent.
    let used = lever
        .send_test_delivery("candidateStageChange", "candidateStageChange")
        .await?
        .body;
    let xref_order = world
        .stack
        .xref
        .orders()
        .first()
        .map_or_else(|| "xref_1".to_owned(), |order| order.id.clone());
    world.settle(report, SCENARIO).await;
    let before = VendorOrders::read(&world.stack).total();
    let bait_writes = |world: &World| {
        [BAIT, STERLING_BAIT]
            .iter()
            .map(|id| {
                world.stack.lever.notes(id).len()
                    + world
                        .stack
                        .lever
                        .opportunity(id)
                        .map_or(0, |o| o.tags.len())
            })
            .sum::<usize>()
    };
    let writes_before = bait_writes(world);

    let mut probes = lever_probes(&used);
    probes.extend(callback_probes(&xref_order));
    let mut outcomes = Vec::new();
    let mut resent = 0;
    for probe in &probes {
        let mut outcome = send(world, probe).await;
        if matches!(outcome, Outcome::NoAnswer(_)) {
            // Sent once more on a new connection, as any client would: a connection can
            // fail for reasons of its own (one just refused an 11 MiB upload mid-way).
            resent += 1;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            outcome = send(world, probe).await;
        }
        outcomes.push(outcome);
    }
    world.settle(report, SCENARIO).await;
    let ordered = VendorOrders::read(&world.stack)
        .total()
        .saturating_sub(before);
    let written = bait_writes(world).saturating_sub(writes_before);

    let count = |pick: fn(&Outcome) -> bool| outcomes.iter().filter(|o| pick(o)).count();
    let rejected = count(|o| *o == Outcome::Rejected);
    for (probe, outcome) in probes.iter().zip(&outcomes) {
        if *outcome != Outcome::Rejected {
            report.problem(format!(
                "hostile: {} ({} {}) → {outcome:?}",
                probe.name,
                probe.method,
                shorten(&probe.path)
            ));
        }
    }
    report.at_least(SCENARIO, "hostile inputs tried", probes.len(), 100);
    report.require(
        SCENARIO,
        "rejected with a 4xx and a JSON error body",
        Value::share(rejected, probes.len()),
        "100 %",
        rejected == probes.len(),
    );
    report.zero(
        SCENARIO,
        "answered 5xx",
        count(|o| matches!(o, Outcome::ServerError(_))),
    );
    report.zero(
        SCENARIO,
        "answered 2xx (accepted)",
        count(|o| matches!(o, Outcome::Accepted(_))),
    );
    report.zero(
        SCENARIO,
        "unanswered, twice (connection dropped or timed out)",
        count(|o| matches!(o, Outcome::NoAnswer(_))),
    );
    report.info(
        SCENARIO,
        "… sent again after a first connection failure",
        Value::count(resent),
    );
    report.zero(
        SCENARIO,
        "4xx without a JSON error body",
        count(|o| matches!(o, Outcome::BareRefusal(_))),
    );
    report.zero(SCENARIO, "orders created by them", ordered);
    report.zero(SCENARIO, "Lever writes on the bait candidates", written);
    Ok(())
}

/// A path short enough for a report line.
fn shorten(path: &str) -> String {
    if path.len() <= 80 {
        return path.to_owned();
    }
    let cut = (0..=80)
        .rev()
        .find(|&i| path.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}…", &path[..cut])
}
