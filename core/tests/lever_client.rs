//! The Lever client against a wiremock Lever: paths, auth, bodies, retries, error mapping.

use lever_screening::lever::model::Phone;
use lever_screening::lever::{LeverAuth, LeverClient, LeverError, NewNote, Stage};
use lever_screening::retry::RetryPolicy;
use serde_json::json;
use std::time::{Duration, Instant};
use wiremock::matchers::{
    any, body_json, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OPPORTUNITY_ID: &str = "250d8f03-738a-4bba-a671-8a3d73477145";

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_millis(500),
        max_retry_after: Duration::from_secs(2),
    }
}

fn client_with(server: &MockServer, auth: LeverAuth) -> LeverClient {
    LeverClient::new(
        reqwest::Client::new(),
        &format!("{}/v1/", server.uri()),
        auth,
        fast_policy(),
    )
}

fn client(server: &MockServer) -> LeverClient {
    client_with(server, LeverAuth::ApiKey("KEY".into()))
}

fn opportunity_path() -> String {
    format!("/v1/opportunities/{OPPORTUNITY_ID}")
}

/// Shaped like Lever's documented `GET /opportunities/:id?expand=applications`.
fn opportunity_payload() -> serde_json::Value {
    json!({
        "data": {
            "id": OPPORTUNITY_ID,
            "name": "Shane Smith",
            "headline": "Brickly LLC, Vandelay Industries, Inc, Central Perk",
            "contact": "7f23e772-d2ef-4b3c-8a1a-2a2d1e3d1f6b",
            "emails": ["shane@exampleq3.com"],
            "phones": [{"type": "mobile", "value": "+1 555"}],
            "confidentiality": "non-confidential",
            "location": "Oakland",
            "links": ["indeed.com/r/Shane-Smith/0b9b4b4b"],
            "createdAt": 1407460071043_u64,
            "updatedAt": 1417588008854_u64,
            "stage": "00922a60-7c15-422b-b086-f62000824fd7",
            "stageChanges": [{
                "toStageId": "00922a60-7c15-422b-b086-f62000824fd7",
                "toStageIndex": 1,
                "updatedAt": 1407460071043_u64,
                "userId": "df0ef2e0-4ee0-4e24-8bcc-f29da2c21ef6"
            }],
            "owner": "df0ef2e0-4ee0-4e24-8bcc-f29da2c21ef6",
            "tags": ["Customer Service", "Full-time", "Background Check"],
            "sources": ["linkedin"],
            "origin": "sourced",
            "applications": [{
                "id": "cdb3dc68-6bf8-4e2e-a4d6-0e6c7f1ad9f4",
                "type": "posting",
                "posting": "f2f01e16-27f8-4711-a728-7d49499795a0",
                "createdAt": 1407460071043_u64
            }],
            "archived": null,
            "urls": {
                "list": "https://hire.lever.co/candidates",
                "show": "https://hire.lever.co/candidates/250d8f03-738a-4bba-a671-8a3d73477145"
            },
            "isAnonymized": false
        }
    })
}

fn lever_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(opportunity_payload())
}

#[tokio::test]
async fn get_opportunity_parses_lever_payload_with_basic_auth() {
    let server = MockServer::start().await;
    // base64("KEY:"): the key as user name, an empty password.
    Mock::given(method("GET"))
        .and(path(opportunity_path()))
        .and(query_param("expand", "applications"))
        .and(header("authorization", "Basic S0VZOg=="))
        .respond_with(lever_ok())
        .expect(1)
        .mount(&server)
        .await;

    let opportunity = client(&server)
        .get_opportunity(OPPORTUNITY_ID)
        .await
        .unwrap();

    assert_eq!(opportunity.id, OPPORTUNITY_ID);
    assert_eq!(opportunity.name.as_deref(), Some("Shane Smith"));
    assert_eq!(opportunity.primary_email(), Some("shane@exampleq3.com"));
    assert_eq!(
        opportunity.phones,
        vec![Phone {
            kind: Some("mobile".into()),
            value: Some("+1 555".into())
        }]
    );
    assert_eq!(
        opportunity.tags,
        ["Customer Service", "Full-time", "Background Check"]
    );
    assert_eq!(
        opportunity.stage.as_deref(),
        Some("00922a60-7c15-422b-b086-f62000824fd7")
    );
    assert_eq!(
        opportunity.posting_id(),
        Some("f2f01e16-27f8-4711-a728-7d49499795a0")
    );
    server.verify().await;
}

#[tokio::test]
async fn bearer_auth_is_sent_for_oauth_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/postings/post-1"))
        .and(header("authorization", "Bearer access-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {
                "id": "post-1",
                "text": "Store Manager",
                "state": "published",
                "tags": ["JUSTIFACTS BGC PKG: EmpCod[ID : 13558]"],
                "categories": {"team": "Retail", "location": "Oakland", "commitment": "Full-time"}
            }
        })))
        .expect(1)
        .mount(&server)
        .await;

    let posting = client_with(&server, LeverAuth::Bearer("access-token".into()))
        .get_posting("post-1")
        .await
        .unwrap();

    assert_eq!(posting.text.as_deref(), Some("Store Manager"));
    assert_eq!(posting.tags, ["JUSTIFACTS BGC PKG: EmpCod[ID : 13558]"]);
    assert_eq!(posting.categories.location.as_deref(), Some("Oakland"));
    server.verify().await;
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(lever_ok())
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let result = client(&server).get_opportunity(OPPORTUNITY_ID).await;

    assert!(result.is_ok(), "{result:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    server.verify().await;
}

#[tokio::test]
async fn gives_up_after_max_attempts_of_503() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;

    let result = client(&server).get_opportunity(OPPORTUNITY_ID).await;

    match result {
        Err(LeverError::Unavailable(reason)) => {
            assert!(reason.contains("HTTP 503"), "{reason}");
            assert!(!reason.contains(OPPORTUNITY_ID), "{reason}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    server.verify().await;
}

#[tokio::test]
async fn retries_a_500_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(lever_ok())
        .expect(1)
        .mount(&server)
        .await;

    let opportunity = client(&server)
        .get_opportunity(OPPORTUNITY_ID)
        .await
        .unwrap();

    assert_eq!(opportunity.id, OPPORTUNITY_ID);
    server.verify().await;
}

#[tokio::test]
async fn a_400_is_rejected_with_levers_message_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": "BadRequestError",
            "message": "Tags must be an array of strings"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server)
        .add_tags(OPPORTUNITY_ID, &["Xref - Candidate submitted".into()])
        .await;

    match result {
        Err(LeverError::Rejected { status, message }) => {
            assert_eq!(status, 400);
            assert_eq!(message, "Tags must be an array of strings");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    server.verify().await;
}

#[tokio::test]
async fn a_long_error_message_is_truncated() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_json(json!({"code": "Invalid", "message": "é".repeat(1000)})),
        )
        .mount(&server)
        .await;

    let result = client(&server).get_opportunity(OPPORTUNITY_ID).await;

    match result {
        Err(LeverError::Rejected {
            status: 422,
            message,
        }) => {
            assert_eq!(message, "é".repeat(200));
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_401_is_unauthorized_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server).get_opportunity(OPPORTUNITY_ID).await;

    assert!(
        matches!(result, Err(LeverError::Unauthorized { status: 401 })),
        "{result:?}"
    );
    server.verify().await;
}

#[tokio::test]
async fn a_404_names_what_is_missing() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": "ResourceNotFound",
            "message": "Opportunity not found"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server).get_opportunity(OPPORTUNITY_ID).await;

    match result {
        Err(LeverError::NotFound { what }) => assert_eq!(what, "opportunity"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    server.verify().await;
}

#[tokio::test]
async fn a_body_that_is_not_levers_json_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;

    let result = client(&server).get_opportunity(OPPORTUNITY_ID).await;

    assert!(matches!(result, Err(LeverError::Decode(_))), "{result:?}");
}

#[tokio::test]
async fn a_response_slower_than_the_timeout_is_retried() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(lever_ok().set_delay(Duration::from_secs(2)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(lever_ok())
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let opportunity = client(&server)
        .get_opportunity(OPPORTUNITY_ID)
        .await
        .unwrap();

    assert_eq!(opportunity.id, OPPORTUNITY_ID);
    // The slow answer was abandoned at the timeout, not waited for.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    server.verify().await;
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_gives_up_without_waiting() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "60"))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let result = client(&server).get_opportunity(OPPORTUNITY_ID).await;

    assert!(
        matches!(result, Err(LeverError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    server.verify().await;
}

#[tokio::test]
async fn add_and_remove_tags_post_the_tags_to_their_paths() {
    let server = MockServer::start().await;
    let tags = vec![
        "(Justifacts)In-Progress : Candidate".to_owned(),
        "(Justifacts)Complete".to_owned(),
    ];
    for action in ["addTags", "removeTags"] {
        Mock::given(method("POST"))
            .and(path(format!("{}/{action}", opportunity_path())))
            .and(header("authorization", "Basic S0VZOg=="))
            .and(body_json(json!({ "tags": tags })))
            .respond_with(lever_ok())
            .expect(1)
            .mount(&server)
            .await;
    }
    let lever = client(&server);

    lever.add_tags(OPPORTUNITY_ID, &tags).await.unwrap();
    lever.remove_tags(OPPORTUNITY_ID, &tags).await.unwrap();

    server.verify().await;
}

#[tokio::test]
async fn changing_no_tags_calls_nobody() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(lever_ok())
        .expect(0)
        .mount(&server)
        .await;

    client(&server)
        .remove_tags(OPPORTUNITY_ID, &[])
        .await
        .unwrap();

    server.verify().await;
}

#[tokio::test]
async fn add_note_sends_the_secret_flag_and_returns_the_note_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{}/notes", opportunity_path())))
        .and(body_json(json!({
            "value": "Justifacts result: https://example.test/r/1",
            "secret": true
        })))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"data": {"noteId": "note-42"}})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let note_id = client(&server)
        .add_note(
            OPPORTUNITY_ID,
            &NewNote {
                value: "Justifacts result: https://example.test/r/1".into(),
                secret: true,
            },
        )
        .await
        .unwrap();

    assert_eq!(note_id, "note-42");
    server.verify().await;
}

#[tokio::test]
async fn update_note_puts_to_the_note_path() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(format!("{}/notes/note-42", opportunity_path())))
        .and(body_json(
            json!({"value": "Status: Completed", "secret": false}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"noteId": "note-42"}})),
        )
        .expect(1)
        .mount(&server)
        .await;

    client(&server)
        .update_note(
            OPPORTUNITY_ID,
            "note-42",
            &NewNote {
                value: "Status: Completed".into(),
                secret: false,
            },
        )
        .await
        .unwrap();

    server.verify().await;
}

#[tokio::test]
async fn list_stages_follows_the_next_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/stages"))
        .and(query_param("limit", "100"))
        .and(query_param_is_missing("offset"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [
                {"id": "lead-new", "text": "New lead"},
                {"id": "stage-rc", "text": "Reference Check"}
            ],
            "hasNext": true,
            "next": "tok+2/="
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/stages"))
        .and(query_param("limit", "100"))
        .and(query_param("offset", "tok+2/="))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "stage-bc", "text": "Background Check"}],
            "hasNext": false
        })))
        .expect(1)
        .mount(&server)
        .await;

    let stages = client(&server).list_stages().await.unwrap();

    let stage = |id: &str, text: &str| Stage {
        id: id.into(),
        text: text.into(),
    };
    assert_eq!(
        stages,
        [
            stage("lead-new", "New lead"),
            stage("stage-rc", "Reference Check"),
            stage("stage-bc", "Background Check"),
        ]
    );
    server.verify().await;
}

#[tokio::test]
async fn list_stages_stops_at_the_page_bound() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "s", "text": "Again"}],
            "hasNext": true,
            "next": "same"
        })))
        .mount(&server)
        .await;

    let result = client(&server).list_stages().await;

    assert!(matches!(result, Err(LeverError::Decode(_))), "{result:?}");
    // 50 pages, then it stops believing `hasNext`.
    assert_eq!(server.received_requests().await.unwrap().len(), 50);
}

#[tokio::test]
async fn ids_stay_within_one_path_segment() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(lever_ok())
        .mount(&server)
        .await;
    let lever = client(&server);

    lever.get_opportunity("../postings/x").await.unwrap();
    lever.add_tags("a/b", &["t".into()]).await.unwrap();
    lever
        .update_note(
            "a?b#c",
            "..%2F..",
            &NewNote {
                value: "v".into(),
                secret: false,
            },
        )
        .await
        .unwrap();

    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| request.url.path().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/v1/opportunities/..%2Fpostings%2Fx",
            "/v1/opportunities/a%2Fb/addTags",
            "/v1/opportunities/a%3Fb%23c/notes/..%252F..",
        ]
    );
}

#[tokio::test]
async fn ids_that_urls_would_resolve_are_refused_without_a_request() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(lever_ok())
        .expect(0)
        .mount(&server)
        .await;
    let lever = client(&server);

    for id in ["", ".", "..", ".\t.", "..\n"] {
        let result = lever.get_opportunity(id).await;
        assert!(
            matches!(&result, Err(LeverError::NotFound { what }) if what == "opportunity"),
            "{id:?}: {result:?}"
        );
    }
    let result = lever
        .update_note(
            OPPORTUNITY_ID,
            "..",
            &NewNote {
                value: "v".into(),
                secret: false,
            },
        )
        .await;
    assert!(
        matches!(&result, Err(LeverError::NotFound { what }) if what == "note"),
        "{result:?}"
    );
    server.verify().await;
}
