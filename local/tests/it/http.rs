//! What a sender is answered through the real HTTP server: a clear status and a JSON error
//! body `{"error":{"code","message"}}` for what is refused; Lever's connection test
//! acknowledged; a captured connection test replayed with other data ordering nothing.

use crate::support::{assert_security_headers, start, Harness};
use lever_screening::clock::now_millis;
use lever_screening_local::demo_tenant as demo;
use serde_json::{json, Value};

/// Asserts `body` is `{"error":{"code": code, "message": <non-empty>}}`; the message.
fn error_message(body: &Value, code: &str) -> String {
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{body}");
    message.to_owned()
}

/// Nothing was queued, ordered or asked of Lever.
async fn assert_nothing_happened(h: &Harness) {
    h.settle().await;
    assert!(h.store.orders().is_empty());
    assert!(h.stack.xref.orders().is_empty());
    assert!(h.stack.sterling.screenings().is_empty());
    assert_eq!(
        h.lever_calls_since(0),
        Vec::<String>::new(),
        "Lever not asked"
    );
}

#[tokio::test]
async fn malformed_json_is_400() {
    let h = start().await;
    let url = h.webhook_url(demo::TENANT);
    let (status, body) = h.post(&url, "application/json", "{not json").await;
    assert_eq!(status, 400);
    let message = error_message(&body, "bad_request");
    assert!(message.contains("malformed webhook JSON"), "{message}");
    assert_nothing_happened(&h).await;
}

#[tokio::test]
async fn a_wrong_method_is_405() {
    let h = start().await;
    let response = h
        .http
        .get(h.webhook_url(demo::TENANT))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    error_message(&body, "method_not_allowed");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let h = start().await;
    let delivery = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    let (status, body) = h
        .post(
            &h.webhook_url(demo::TENANT),
            "text/plain",
            delivery.to_string(),
        )
        .await;
    assert_eq!(status, 415);
    error_message(&body, "unsupported_media_type");
    assert_nothing_happened(&h).await;
}

#[tokio::test]
async fn a_content_type_api_gateway_joined_from_repeated_headers_is_read_as_a_list() {
    let h = start().await;
    let url = h.webhook_url(demo::TENANT);
    let joined = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    let (status, body) = h
        .post(
            &url,
            "application/json,application/json",
            joined.to_string(),
        )
        .await;
    assert_eq!(status, 202, "read as JSON and queued: {body}");
    for mixed in [
        "application/json,text/plain",
        "text/plain, application/json",
    ] {
        let delivery = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
        let (status, body) = h.post(&url, mixed, delivery.to_string()).await;
        assert_eq!(status, 415, "{mixed}: {body}");
        error_message(&body, "unsupported_media_type");
    }
}

#[tokio::test]
async fn every_answer_carries_the_headers_a_browser_needs() {
    let h = start().await;
    let base = &h.stack.functions_url;
    let answers = [
        (
            "a webhook's JSON refusal",
            h.http.get(h.webhook_url(demo::TENANT)),
        ),
        (
            "a webhook's JSON acknowledgement",
            h.http
                .post(h.webhook_url(demo::TENANT))
                .header("content-type", "application/json")
                .body(
                    h.delivery(demo::PHONE_SCREEN_STAGE_ID, now_millis())
                        .to_string(),
                ),
        ),
        (
            "a vendor callback's JSON refusal",
            h.http
                .post(format!("{base}/callbacks/xref/{}", demo::TENANT))
                .header("content-type", "application/json")
                .body("{}"),
        ),
        (
            "Lever's OAuth return page, with its code and state in the URL",
            h.http
                .get(format!("{base}/lever/oauth/callback?code=abc&state=forged")),
        ),
        (
            "a console page",
            h.http.get(format!("{base}/console/sign-in")),
        ),
    ];
    for (what, request) in answers {
        let response = request.send().await.unwrap();
        assert_security_headers(response.headers(), what);
    }
}

#[tokio::test]
async fn the_oauth_return_page_is_the_consoles_and_leads_back_to_it() {
    let h = start().await;
    let response = h
        .http
        .get(format!(
            "{}/lever/oauth/callback?code=abc&state=forged",
            h.stack.functions_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let page = response.text().await.unwrap();
    let console = h
        .http
        .get(format!("{}/console/sign-in", h.stack.functions_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stylesheet = |page: &str| {
        let start = page.find("<style>").unwrap();
        page[start..page.find("</style>").unwrap()].to_owned()
    };
    assert_eq!(
        stylesheet(&page),
        stylesheet(&console),
        "the console's stylesheet"
    );
    assert!(page.contains("Lever not connected"), "{page}");
    assert!(page.contains("unknown, already used or expired"), "{page}");
    assert!(
        page.contains(r#"<a href="/console/sign-in">Back to the setup console</a>"#),
        "{page}"
    );
}

#[tokio::test]
async fn a_body_over_256_kib_is_413() {
    let h = start().await;
    let mut delivery = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    delivery["padding"] = json!("x".repeat(256 * 1024));
    let (status, body) = h.send_delivery(&delivery).await;
    assert_eq!(status, 413);
    error_message(&body, "payload_too_large");
    assert_nothing_happened(&h).await;
}

#[tokio::test]
async fn an_unknown_tenant_is_404() {
    let h = start().await;
    let delivery = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    let (status, body) = h
        .post(
            &h.webhook_url("nobody"),
            "application/json",
            delivery.to_string(),
        )
        .await;
    assert_eq!(status, 404);
    error_message(&body, "not_found");
    assert_nothing_happened(&h).await;
}

#[tokio::test]
async fn a_bad_signature_is_401_and_does_not_use_up_the_delivery() {
    let h = start().await;
    let genuine = h.delivery(demo::REFERENCE_CHECK_STAGE_ID, now_millis());
    let mut forged = genuine.clone();
    let signature = genuine["signature"].as_str().unwrap();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    forged["signature"] = json!(format!("{flipped}{}", &signature[1..]));

    let (status, body) = h.send_delivery(&forged).await;
    assert_eq!(status, 401);
    let message = error_message(&body, "unauthorized");
    assert_eq!(message, "authentication failed");
    assert_nothing_happened(&h).await;

    // The genuine delivery, with the same token, is still accepted.
    let (status, body) = h.send_delivery(&genuine).await;
    assert_eq!((status, body["status"].as_str()), (202, Some("queued")));
}

#[tokio::test]
async fn lever_connection_test_is_acknowledged_and_does_nothing() {
    let h = start().await;
    // Lever's "Verify connection" on the stage change webhook may name another event.
    let sent = h
        .stack
        .lever
        .send_test_delivery("candidateStageChange", "candidateHired")
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    let answer: Value = serde_json::from_str(&sent.response).unwrap();
    assert_eq!(answer["status"], "test");
    assert_nothing_happened(&h).await;
}

#[tokio::test]
async fn a_connection_test_replayed_with_forged_data_orders_nothing() {
    let h = start().await;
    // Ada really is in 'Reference Check' now, so a delivery of that move would order.
    let mut ada = h.stack.lever.opportunity(demo::OPPORTUNITY_ID).unwrap();
    ada.stage = demo::REFERENCE_CHECK_STAGE_ID.into();
    h.stack.lever.add_opportunity(ada);

    let url = h.webhook_url(demo::TENANT);
    let test = h
        .stack
        .lever
        .signed_delivery("candidateStageChange", json!({}))
        .unwrap();
    let sent = h.stack.lever.send_raw(&url, &test).await.unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    assert!(
        sent.response.contains(r#""status":"test""#),
        "{}",
        sent.response
    );

    // Captured, and sent again with the data of a real move: the signature covers only
    // the token and the time, which were used up by the test.
    let mut forged = test.clone();
    forged["data"] = json!({
        "opportunityId": demo::OPPORTUNITY_ID,
        "candidateId": demo::OPPORTUNITY_ID,
        "contactId": format!("{}-contact", demo::OPPORTUNITY_ID),
        "toStageId": demo::REFERENCE_CHECK_STAGE_ID,
        "fromStageId": demo::PHONE_SCREEN_STAGE_ID,
    });
    let sent = h.stack.lever.send_raw(&url, &forged).await.unwrap();
    assert_eq!(sent.status, 200, "{}", sent.response);
    assert!(
        sent.response.contains(r#""status":"duplicate""#),
        "{}",
        sent.response
    );
    assert_nothing_happened(&h).await;
}
