//! The Lever client against a wiremock Lever: paths, auth, bodies, pagination, error mapping,
//! and what `Outbound` does to every call: retries within the deadline, no attempt that
//! cannot finish, no blind re-send of a note, and the credential's request budget.

use async_trait::async_trait;
use lever_screening::clock::{now_millis, Deadline};
use lever_screening::ids::OpportunityId;
use lever_screening::lever::model::Phone;
use lever_screening::lever::{
    AccessTokens, LeverApi, LeverAuth, LeverClient, LeverError, NewNote, Stage,
};
use lever_screening::pacing::Pacer;
use lever_screening::retry::{Outbound, RetryPolicy};
use lever_screening::store::memory::MemoryStore;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{
    any, body_json, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const OPPORTUNITY_ID: &str = "250d8f03-738a-4bba-a671-8a3d73477145";
/// base64("KEY:"): the key as user name, an empty password.
const BASIC_KEY: &str = "Basic S0VZOg==";

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_millis(500),
        max_retry_after: Duration::from_secs(2),
        min_attempt: Duration::from_millis(50),
    }
}

fn outbound(policy: RetryPolicy, budget: Duration) -> Outbound {
    Outbound::new("lever", policy, Deadline::after(budget))
}

fn client_with(server: &MockServer, auth: LeverAuth, outbound: Outbound) -> LeverClient {
    LeverClient::new(
        lever_screening::tls::http_client(),
        &format!("{}/v1/", server.uri()),
        auth,
        outbound,
    )
}

fn api_key() -> LeverAuth {
    LeverAuth::ApiKey(SecretString::from("KEY"))
}

fn client(server: &MockServer) -> LeverClient {
    client_with(
        server,
        api_key(),
        outbound(fast_policy(), Duration::from_secs(30)),
    )
}

fn opportunity_id() -> OpportunityId {
    OpportunityId::parse(OPPORTUNITY_ID).unwrap()
}

fn opportunity_path() -> String {
    format!("/v1/opportunities/{OPPORTUNITY_ID}")
}

fn note(value: &str) -> NewNote {
    NewNote {
        value: value.into(),
        secret: false,
        notify_followers: false,
        created_at: None,
    }
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
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

fn note_created(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({ "data": { "noteId": id } }))
}

// ---- Reads and writes ----

#[tokio::test]
async fn the_opportunity_is_read_with_its_applications_and_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(opportunity_path()))
        .and(query_param("expand", "applications"))
        .and(header("authorization", BASIC_KEY))
        .respond_with(lever_ok())
        .expect(1)
        .mount(&server)
        .await;

    let opportunity = client(&server)
        .opportunity(&opportunity_id())
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
    assert_eq!(opportunity.stage_changes.len(), 1);
    assert_eq!(
        opportunity.posting_id(),
        Some("f2f01e16-27f8-4711-a728-7d49499795a0")
    );
    server.verify().await;
}

#[tokio::test]
async fn a_posting_is_read_with_its_tags_and_categories() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/postings/post-1"))
        .and(header("authorization", BASIC_KEY))
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

    let posting = client(&server).posting("post-1").await.unwrap();

    assert_eq!(posting.id, "post-1");
    assert_eq!(posting.text.as_deref(), Some("Store Manager"));
    assert_eq!(posting.tags, ["JUSTIFACTS BGC PKG: EmpCod[ID : 13558]"]);
    assert_eq!(posting.categories.location.as_deref(), Some("Oakland"));
    assert_eq!(posting.categories.team.as_deref(), Some("Retail"));
    server.verify().await;
}

#[tokio::test]
async fn stages_follow_the_next_token() {
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

    let stages = client(&server).stages().await.unwrap();

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
async fn a_list_stops_at_the_page_bound() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "s", "text": "Again"}],
            "hasNext": true,
            "next": "same"
        })))
        .mount(&server)
        .await;

    let result = client(&server).stages().await;

    assert!(matches!(result, Err(LeverError::Decode(_))), "{result:?}");
    // 50 pages, then it stops believing `hasNext`.
    assert_eq!(requests(&server).await.len(), 50);
}

#[tokio::test]
async fn has_next_without_next_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [], "hasNext": true
        })))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server).stages().await;

    assert!(matches!(result, Err(LeverError::Decode(_))), "{result:?}");
    server.verify().await;
}

#[tokio::test]
async fn tags_are_added_and_removed_at_their_paths() {
    let server = MockServer::start().await;
    let tags = vec![
        "(Justifacts)In-Progress : Candidate".to_owned(),
        "(Justifacts)Complete".to_owned(),
    ];
    for action in ["addTags", "removeTags"] {
        Mock::given(method("POST"))
            .and(path(format!("{}/{action}", opportunity_path())))
            .and(header("authorization", BASIC_KEY))
            .and(body_json(json!({ "tags": tags })))
            .respond_with(lever_ok())
            .expect(1)
            .mount(&server)
            .await;
    }
    let lever = client(&server);

    lever.add_tags(&opportunity_id(), &tags).await.unwrap();
    lever.remove_tags(&opportunity_id(), &tags).await.unwrap();

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
    let lever = client(&server);

    lever.add_tags(&opportunity_id(), &[]).await.unwrap();
    lever.remove_tags(&opportunity_id(), &[]).await.unwrap();

    server.verify().await;
}

#[tokio::test]
async fn notes_are_listed_with_the_text_of_their_note_field() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{}/notes", opportunity_path())))
        .and(query_param("limit", "100"))
        .and(query_param_is_missing("offset"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{
                "id": "note-1",
                "text": "Note",
                "fields": [{"type": "note", "text": "Comment", "value": "Xref: Candidate submitted"}],
                "user": "df0ef2e0-4ee0-4e24-8bcc-f29da2c21ef6",
                "secret": false,
                "createdAt": 1407460071043_u64
            }],
            "hasNext": true,
            "next": "page-2"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{}/notes", opportunity_path())))
        .and(query_param("offset", "page-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [
                {"id": "note-2", "fields": [
                    {"type": "score", "text": "Rating", "value": 3},
                    {"type": "note", "text": "Comment", "value": "Sterling: Complete"}
                ]},
                {"id": "note-3", "fields": []}
            ],
            "hasNext": false
        })))
        .expect(1)
        .mount(&server)
        .await;

    let notes = client(&server).notes(&opportunity_id()).await.unwrap();

    let texts: Vec<(&str, Option<&str>)> =
        notes.iter().map(|n| (n.id.as_str(), n.text())).collect();
    assert_eq!(
        texts,
        [
            ("note-1", Some("Xref: Candidate submitted")),
            ("note-2", Some("Sterling: Complete")),
            ("note-3", None),
        ]
    );
    server.verify().await;
}

#[tokio::test]
async fn a_note_is_added_with_its_flags_and_its_id_returned() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{}/notes", opportunity_path())))
        .and(header("authorization", BASIC_KEY))
        .and(body_json(json!({
            "value": "Justifacts result: https://example.test/r/1",
            "secret": true,
            "notifyFollowers": true,
            "createdAt": 1_700_000_000_123_i64
        })))
        .respond_with(note_created("note-42"))
        .expect(1)
        .mount(&server)
        .await;

    let note_id = client(&server)
        .add_note(
            &opportunity_id(),
            &NewNote {
                value: "Justifacts result: https://example.test/r/1".into(),
                secret: true,
                notify_followers: true,
                created_at: Some(1_700_000_000_123),
            },
        )
        .await
        .unwrap();

    assert_eq!(note_id, "note-42");
    server.verify().await;
}

#[tokio::test]
async fn a_note_is_updated_in_place() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(format!("{}/notes/note-42", opportunity_path())))
        .and(body_json(json!({
            "value": "Status: Completed", "secret": false, "notifyFollowers": false
        })))
        .respond_with(note_created("note-42"))
        .expect(1)
        .mount(&server)
        .await;

    client(&server)
        .update_note(&opportunity_id(), "note-42", &note("Status: Completed"))
        .await
        .unwrap();

    server.verify().await;
}

#[tokio::test]
async fn the_candidate_is_moved_to_a_stage() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(format!("{}/stage", opportunity_path())))
        .and(header("authorization", BASIC_KEY))
        .and(body_json(json!({ "stage": "stage-offer" })))
        .respond_with(lever_ok())
        .expect(1)
        .mount(&server)
        .await;

    client(&server)
        .move_to_stage(&opportunity_id(), "stage-offer")
        .await
        .unwrap();

    server.verify().await;
}

#[tokio::test]
async fn webhooks_are_created_listed_and_deleted() {
    let server = MockServer::start().await;
    let url = "https://screening.example/lever/acme/candidateStageChange";
    Mock::given(method("POST"))
        .and(path("/v1/webhooks"))
        .and(body_json(
            json!({ "event": "candidateStageChange", "url": url }),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "data": {
                "id": "wh-1",
                "event": "candidateStageChange",
                "url": url,
                "configuration": {
                    "signatureToken": "new-token",
                    "conditions": { "origins": ["applied", "sourced"] }
                },
                "createdAt": 1628543327806_u64
            }
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/webhooks"))
        .and(query_param("limit", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [
                {"id": "wh-1", "event": "candidateStageChange", "url": url, "configuration": {}},
                {"id": "wh-2", "event": "applicationCreated", "url": "https://elsewhere.example/x"}
            ],
            "hasNext": false
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/webhooks/wh-2"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let lever = client(&server);

    let created = lever
        .create_webhook("candidateStageChange", url)
        .await
        .unwrap();
    assert_eq!(
        (
            created.id.as_str(),
            created.event.as_str(),
            created.url.as_str()
        ),
        ("wh-1", "candidateStageChange", url)
    );
    let token = created.configuration.signature_token.expect("a token");
    assert_eq!(token.expose_secret(), "new-token");

    let listed = lever.webhooks().await.unwrap();
    let listed: Vec<(&str, &str)> = listed
        .iter()
        .map(|w| (w.id.as_str(), w.event.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("wh-1", "candidateStageChange"),
            ("wh-2", "applicationCreated")
        ]
    );

    lever.delete_webhook("wh-2").await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn ids_stay_within_one_path_segment() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(lever_ok())
        .mount(&server)
        .await;
    let lever = client(&server);

    // The posting answer is the opportunity payload: only the path matters here.
    let _ = lever.posting("../opportunities/x?y#z").await;
    lever
        .update_note(&opportunity_id(), "..%2F..", &note("v"))
        .await
        .unwrap();
    lever.delete_webhook("a/b").await.unwrap();

    let paths: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|request| request.url.path().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/v1/postings/..%2Fopportunities%2Fx%3Fy%23z".to_owned(),
            format!("{}/notes/..%252F..", opportunity_path()),
            "/v1/webhooks/a%2Fb".to_owned(),
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
        let result = lever.posting(id).await;
        assert!(
            matches!(&result, Err(LeverError::NotFound { what }) if what == "posting"),
            "{id:?}: {result:?}"
        );
        let result = lever.update_note(&opportunity_id(), id, &note("v")).await;
        assert!(
            matches!(&result, Err(LeverError::NotFound { what }) if what == "note"),
            "{id:?}: {result:?}"
        );
        let result = lever.delete_webhook(id).await;
        assert!(
            matches!(&result, Err(LeverError::NotFound { what }) if what == "webhook"),
            "{id:?}: {result:?}"
        );
    }
    server.verify().await;
}

// ---- Lever's error statuses ----

#[tokio::test]
async fn a_401_is_unauthorized_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server).opportunity(&opportunity_id()).await;

    assert!(
        matches!(result, Err(LeverError::Unauthorized { status: 401 })),
        "{result:?}"
    );
    server.verify().await;
}

#[tokio::test]
async fn a_403_is_rejected_with_levers_message() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "code": "Forbidden",
            "message": "Missing scope notes:write:admin"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server)
        .add_note(&opportunity_id(), &note("v"))
        .await;

    match result {
        Err(LeverError::Rejected { status, message }) => {
            assert_eq!(status, 403);
            assert_eq!(message, "Missing scope notes:write:admin");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    server.verify().await;
}

#[tokio::test]
async fn a_400_is_rejected_and_not_retried() {
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
        .add_tags(&opportunity_id(), &["Xref - Candidate submitted".into()])
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
async fn a_long_error_message_is_shortened() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_json(json!({"code": "Invalid", "message": "é".repeat(1000)})),
        )
        .mount(&server)
        .await;

    let result = client(&server).opportunity(&opportunity_id()).await;

    match result {
        Err(LeverError::Rejected {
            status: 422,
            message,
        }) => assert_eq!(message, "é".repeat(200)),
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_404_names_what_is_missing() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": "ResourceNotFound",
            "message": "Opportunity not found"
        })))
        .expect(4)
        .mount(&server)
        .await;
    let lever = client(&server);

    let missing = |result: Result<(), LeverError>| match result {
        Err(LeverError::NotFound { what }) => what,
        other => panic!("expected NotFound, got {other:?}"),
    };
    assert_eq!(
        missing(lever.opportunity(&opportunity_id()).await.map(drop)),
        "opportunity"
    );
    assert_eq!(missing(lever.posting("post-1").await.map(drop)), "posting");
    assert_eq!(
        missing(
            lever
                .update_note(&opportunity_id(), "note-1", &note("v"))
                .await
        ),
        "note"
    );
    assert_eq!(missing(lever.delete_webhook("wh-1").await), "webhook");
    server.verify().await;
}

#[tokio::test]
async fn a_body_that_is_not_levers_json_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;

    let result = client(&server).opportunity(&opportunity_id()).await;

    assert!(matches!(result, Err(LeverError::Decode(_))), "{result:?}");
}

#[tokio::test]
async fn a_5xx_that_is_not_transient_is_unavailable_at_once() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(501))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server).opportunity(&opportunity_id()).await;

    assert!(
        matches!(&result, Err(LeverError::Unavailable(m)) if m.contains("501")),
        "{result:?}"
    );
    server.verify().await;
}

// ---- Retries ----

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
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
    let result = client(&server).opportunity(&opportunity_id()).await;

    assert!(result.is_ok(), "{result:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    server.verify().await;
}

#[tokio::test]
async fn a_503_is_retried_up_to_the_attempt_bound() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;

    let result = client(&server).opportunity(&opportunity_id()).await;

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
async fn a_retry_after_beyond_the_limit_gives_up_without_waiting() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "60"))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let result = client(&server).opportunity(&opportunity_id()).await;

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
async fn a_read_is_retried_after_a_500_504_or_a_timeout() {
    let server = MockServer::start().await;
    for first in [
        ResponseTemplate::new(500),
        ResponseTemplate::new(504),
        lever_ok().set_delay(Duration::from_secs(3)),
    ] {
        Mock::given(any())
            .respond_with(first)
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(any())
            .respond_with(lever_ok())
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;

        let started = Instant::now();
        let opportunity = client(&server)
            .opportunity(&opportunity_id())
            .await
            .unwrap();

        assert_eq!(opportunity.id, OPPORTUNITY_ID);
        // A slow answer is abandoned at the timeout, not waited for.
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        server.verify().await;
        server.reset().await;
    }
}

#[tokio::test]
async fn a_note_that_may_have_been_written_is_not_sent_again() {
    for failure in [
        ResponseTemplate::new(504),
        ResponseTemplate::new(500),
        note_created("note-1").set_delay(Duration::from_secs(3)),
    ] {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(failure)
            .mount(&server)
            .await;

        let started = Instant::now();
        let result = client(&server)
            .add_note(&opportunity_id(), &note("Xref: Completed"))
            .await;

        assert!(
            matches!(result, Err(LeverError::Ambiguous(_))),
            "{result:?}"
        );
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(requests(&server).await.len(), 1, "never re-sent");
    }
}

#[tokio::test]
async fn a_webhook_create_that_may_have_been_applied_is_not_sent_again() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(504))
        .mount(&server)
        .await;

    let result = client(&server)
        .create_webhook("candidateStageChange", "https://screening.example/x")
        .await;

    assert!(
        matches!(result, Err(LeverError::Ambiguous(_))),
        "{result:?}"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_note_turned_away_before_any_work_is_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(note_created("note-7"))
        .expect(1)
        .mount(&server)
        .await;

    let note_id = client(&server)
        .add_note(&opportunity_id(), &note("Xref: Completed"))
        .await
        .unwrap();

    assert_eq!(note_id, "note-7");
    server.verify().await;
}

// ---- The deadline ----

#[tokio::test]
async fn no_attempt_is_started_without_time_for_it() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(lever_ok())
        .expect(0)
        .mount(&server)
        .await;
    // 20 ms left, and an attempt needs 50.
    let lever = client_with(
        &server,
        api_key(),
        outbound(fast_policy(), Duration::from_millis(20)),
    );

    let result = lever.opportunity(&opportunity_id()).await;

    assert!(
        matches!(&result, Err(LeverError::Unavailable(m)) if m.contains("no time left")),
        "{result:?}"
    );
    let result = lever.add_note(&opportunity_id(), &note("v")).await;
    assert!(
        matches!(&result, Err(LeverError::Unavailable(_))),
        "nothing was sent, so nothing is ambiguous: {result:?}"
    );
    server.verify().await;
}

#[tokio::test]
async fn a_slow_answer_is_cut_when_the_deadline_comes() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(lever_ok().set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    // The policy would wait 10 s for an answer; the invocation has 600 ms left.
    let policy = RetryPolicy {
        timeout: Duration::from_secs(10),
        ..fast_policy()
    };
    let lever = client_with(
        &server,
        api_key(),
        outbound(policy, Duration::from_millis(600)),
    );

    let started = Instant::now();
    let result = lever.opportunity(&opportunity_id()).await;
    let took = started.elapsed();

    assert!(
        matches!(&result, Err(LeverError::Unavailable(m)) if m.contains("timeout")),
        "{result:?}"
    );
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_millis(1200),
        "{took:?}"
    );
    assert_eq!(requests(&server).await.len(), 1, "no time for another");
}

// ---- OAuth ----

/// Hands out `first` until Lever rejects it, then `replacement` (or `Disconnected` without
/// one); records what was rejected.
struct FakeTokens {
    current: Mutex<String>,
    replacement: Option<String>,
    rejected: Mutex<Vec<String>>,
}

impl FakeTokens {
    fn new(first: &str, replacement: Option<&str>) -> Arc<Self> {
        Arc::new(FakeTokens {
            current: Mutex::new(first.into()),
            replacement: replacement.map(str::to_owned),
            rejected: Mutex::default(),
        })
    }

    fn rejected(&self) -> Vec<String> {
        self.rejected.lock().unwrap().clone()
    }
}

#[async_trait]
impl AccessTokens for FakeTokens {
    async fn current(&self) -> Result<SecretString, LeverError> {
        Ok(SecretString::from(self.current.lock().unwrap().clone()))
    }

    async fn after_rejection(&self, rejected: &SecretString) -> Result<SecretString, LeverError> {
        self.rejected
            .lock()
            .unwrap()
            .push(rejected.expose_secret().to_owned());
        let replacement = self.replacement.clone().ok_or(LeverError::Disconnected)?;
        *self.current.lock().unwrap() = replacement.clone();
        Ok(SecretString::from(replacement))
    }
}

fn oauth_client(server: &MockServer, tokens: &Arc<FakeTokens>) -> LeverClient {
    let tokens: Arc<dyn AccessTokens> = tokens.clone();
    client_with(
        server,
        LeverAuth::OAuth(tokens),
        outbound(fast_policy(), Duration::from_secs(30)),
    )
}

#[tokio::test]
async fn an_oauth_token_lever_rejects_is_replaced_once() {
    let server = MockServer::start().await;
    Mock::given(header("authorization", "Bearer expired-early"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(header("authorization", "Bearer refreshed"))
        .respond_with(lever_ok())
        .expect(2)
        .mount(&server)
        .await;
    let tokens = FakeTokens::new("expired-early", Some("refreshed"));
    let lever = oauth_client(&server, &tokens);

    let opportunity = lever.opportunity(&opportunity_id()).await.unwrap();
    assert_eq!(opportunity.id, OPPORTUNITY_ID);
    // The replacement is used from then on.
    lever.opportunity(&opportunity_id()).await.unwrap();

    assert_eq!(tokens.rejected(), ["expired-early"]);
    server.verify().await;
}

#[tokio::test]
async fn a_second_401_is_the_answer() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;
    let tokens = FakeTokens::new("revoked-1", Some("revoked-2"));

    let result = oauth_client(&server, &tokens)
        .opportunity(&opportunity_id())
        .await;

    assert!(
        matches!(result, Err(LeverError::Unauthorized { status: 401 })),
        "{result:?}"
    );
    assert_eq!(tokens.rejected(), ["revoked-1"]);
    let auth: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| r.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(auth, ["Bearer revoked-1", "Bearer revoked-2"]);
}

#[tokio::test]
async fn a_token_that_cannot_be_replaced_reports_the_disconnection() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let tokens = FakeTokens::new("revoked", None);

    let result = oauth_client(&server, &tokens).stages().await;

    assert!(
        matches!(result, Err(LeverError::Disconnected)),
        "{result:?}"
    );
    server.verify().await;
}

// ---- The request budget ----

/// Answers `template`, noting when each request arrived (ms since the epoch).
struct Stamped {
    arrivals: Arc<Mutex<Vec<i64>>>,
    template: ResponseTemplate,
}

impl Respond for Stamped {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        self.arrivals.lock().unwrap().push(now_millis());
        self.template.clone()
    }
}

#[tokio::test]
async fn a_paced_client_keeps_to_its_budget_per_second() {
    let server = MockServer::start().await;
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    Mock::given(any())
        .respond_with(Stamped {
            arrivals: arrivals.clone(),
            template: ResponseTemplate::new(200)
                .set_body_json(json!({ "data": [], "hasNext": false })),
        })
        .mount(&server)
        .await;
    let pacer = Pacer::new(Arc::new(MemoryStore::new()), "lever:acme:tenant", 3);
    let lever = client_with(
        &server,
        api_key(),
        outbound(fast_policy(), Duration::from_secs(10)).paced(pacer),
    );
    // Not at the very end of a second, so a request paced in one second cannot arrive in
    // the next.
    let into_second = now_millis().rem_euclid(1000);
    if into_second > 800 {
        tokio::time::sleep(Duration::from_millis((1050 - into_second).unsigned_abs())).await;
    }

    let results = futures::future::join_all((0..7).map(|_| lever.stages())).await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 7);
    let mut per_second: BTreeMap<i64, usize> = BTreeMap::new();
    for at in &arrivals {
        *per_second.entry(at.div_euclid(1000)).or_default() += 1;
    }
    assert!(
        per_second.values().all(|n| *n <= 3),
        "requests per second: {per_second:?}"
    );
    assert!(per_second.len() >= 3, "{per_second:?}");
}
