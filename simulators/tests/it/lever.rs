//! The Lever simulator, exercised over real HTTP.

use crate::support::{serve, Receiver};
use lever_screening_simulators::lever::sign;
use lever_screening_simulators::{LeverSim, SimOpportunity, SimPosting};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const KEY: &str = "lever-key";
const SIGNATURE_TOKEN: &str = "stage-change-token";

fn seeded_lever() -> LeverSim {
    let sim = LeverSim::new(KEY);
    for (id, text) in [
        ("s-new", "New applicant"),
        ("s-ref", "Reference Check"),
        ("s-bgc", "Background Check"),
    ] {
        sim.add_stage(id, text);
    }
    sim.add_posting(SimPosting {
        id: "post-1".into(),
        text: "Engineer".into(),
        tags: vec!["JUSTIFACTS BGC PKG: EmpCod[ID : 13558]".into()],
        location: Some("Sydney".into()),
    });
    sim.add_opportunity(SimOpportunity {
        id: "opp-1".into(),
        name: "Ada Lovelace".into(),
        emails: vec!["ada@example.com".into()],
        phones: vec!["+61 400 000 000".into()],
        tags: vec!["existing".into()],
        stage: "s-new".into(),
        posting_id: Some("post-1".into()),
        location: Some("Sydney".into()),
    });
    sim
}

async fn lever() -> (LeverSim, String) {
    let sim = seeded_lever();
    let base = serve(sim.router()).await;
    (sim, base)
}

async fn get(base: &str, path: &str) -> (StatusCode, Value) {
    let response = Client::new()
        .get(format!("{base}{path}"))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn send(method: reqwest::Method, base: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let response = Client::new()
        .request(method, format!("{base}{path}"))
        .basic_auth(KEY, Some(""))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn lever_requires_the_api_key_or_the_configured_bearer_token() {
    let (sim, base) = lever().await;
    let url = format!("{base}/v1/opportunities/opp-1");
    let client = Client::new();

    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "UnauthorizedError");

    for request in [
        client.get(&url).basic_auth("wrong", Some("")),
        client.get(&url).basic_auth(KEY, Some("password")),
        client.get(&url).bearer_auth("token"),
    ] {
        assert_eq!(
            request.send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }

    sim.set_bearer_token("token");
    for request in [
        client.get(&url).bearer_auth("token"),
        client.get(&url).basic_auth(KEY, Some("")),
    ] {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(sim.api_calls().len(), 6);
}

#[tokio::test]
async fn opportunity_lists_application_ids_or_expands_them() {
    let (_sim, base) = lever().await;
    let (status, body) = get(&base, "/v1/opportunities/opp-1").await;
    assert_eq!(status, StatusCode::OK);
    let data = &body["data"];
    assert_eq!(data["id"], "opp-1");
    assert_eq!(data["name"], "Ada Lovelace");
    assert_eq!(data["emails"], json!(["ada@example.com"]));
    assert_eq!(data["phones"][0]["value"], "+61 400 000 000");
    assert_eq!(data["stage"], "s-new");
    assert_eq!(data["location"], "Sydney");
    assert_eq!(data["applications"], json!([data["applications"][0]]));
    let application_id = data["applications"][0].as_str().unwrap();
    assert_eq!(data["stageChanges"][0]["toStageId"], "s-new");
    assert!(data["createdAt"].is_i64());

    let (_, body) = get(
        &base,
        "/v1/opportunities/opp-1?expand=applications&expand=stage",
    )
    .await;
    assert_eq!(
        body["data"]["applications"],
        json!([{
            "id": application_id,
            "type": "posting",
            "opportunityId": "opp-1",
            "candidateId": "opp-1",
            "posting": "post-1",
            "createdAt": data["createdAt"],
        }])
    );
    assert_eq!(
        body["data"]["stage"],
        json!({"id": "s-new", "text": "New applicant"})
    );

    let (status, body) = get(&base, "/v1/postings/post-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["text"], "Engineer");
    assert_eq!(body["data"]["categories"]["location"], "Sydney");
    assert_eq!(
        body["data"]["tags"][0],
        "JUSTIFACTS BGC PKG: EmpCod[ID : 13558]"
    );
}

#[tokio::test]
async fn tags_are_added_in_order_without_duplicates_and_removed() {
    let (sim, base) = lever().await;
    let path = "/v1/opportunities/opp-1/addTags";
    let (status, body) = send(
        reqwest::Method::POST,
        &base,
        path,
        json!({"tags": ["b", "existing", "a", "b"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["tags"], json!(["existing", "b", "a"]));

    let path = "/v1/opportunities/opp-1/removeTags";
    let (status, body) = send(
        reqwest::Method::POST,
        &base,
        path,
        json!({"tags": ["existing", "absent"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["tags"], json!(["b", "a"]));
    assert_eq!(sim.opportunity("opp-1").unwrap().tags, ["b", "a"]);
}

#[tokio::test]
async fn notes_are_created_and_updated() {
    let (sim, base) = lever().await;
    let path = "/v1/opportunities/opp-1/notes";
    let (status, body) = send(
        reqwest::Method::POST,
        &base,
        path,
        json!({"value": "Xref: ordered", "secret": true}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let note_id = body["data"]["noteId"].as_str().unwrap().to_owned();

    let path = format!("/v1/opportunities/opp-1/notes/{note_id}");
    let (status, _) = send(
        reqwest::Method::PUT,
        &base,
        &path,
        json!({"value": "Xref: done"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let notes = sim.notes("opp-1");
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (
            notes[0].id.as_str(),
            notes[0].value.as_str(),
            notes[0].secret
        ),
        (note_id.as_str(), "Xref: done", true)
    );
    assert!(notes[0]
        .updated_at
        .is_some_and(|at| at >= notes[0].created_at));

    let inspected: Value = reqwest::get(format!("{base}/_sim/opportunities/opp-1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inspected["notes"][0]["value"], "Xref: done");
    assert_eq!(inspected["stageText"], "New applicant");
}

#[tokio::test]
async fn stages_are_paginated_by_limit_and_offset() {
    let (_sim, base) = lever().await;
    let (_, page) = get(&base, "/v1/stages?limit=2").await;
    assert_eq!(
        page["data"],
        json!([{"id": "s-new", "text": "New applicant"}, {"id": "s-ref", "text": "Reference Check"}])
    );
    assert_eq!(page["hasNext"], true);

    let next = page["next"].as_str().unwrap();
    let (_, page) = get(&base, &format!("/v1/stages?limit=2&offset={next}")).await;
    assert_eq!(
        page["data"],
        json!([{"id": "s-bgc", "text": "Background Check"}])
    );
    assert_eq!(page["hasNext"], false);

    let (_, all) = get(&base, "/v1/stages").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 3);
    for bad in ["limit=0", "limit=101", "offset=x"] {
        let (status, body) = get(&base, &format!("/v1/stages?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body["code"].is_string());
    }
}

#[tokio::test]
async fn unknown_ids_are_404_and_malformed_bodies_400() {
    let (_sim, base) = lever().await;
    for path in [
        "/v1/opportunities/nope",
        "/v1/postings/nope",
        "/v1/nothing-here",
    ] {
        let (status, body) = get(&base, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["code"], "ResourceNotFound");
    }
    let (status, _) = send(
        reqwest::Method::POST,
        &base,
        "/v1/opportunities/nope/addTags",
        json!({"tags": []}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        reqwest::Method::PUT,
        &base,
        "/v1/opportunities/opp-1/notes/nope",
        json!({"value": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = send(
        reqwest::Method::POST,
        &base,
        "/v1/opportunities/opp-1/addTags",
        json!({"tags": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let response = Client::new()
        .post(format!("{base}/v1/opportunities/opp-1/notes"))
        .basic_auth(KEY, Some(""))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn fail_next_answers_the_status_then_recovers() {
    let (sim, base) = lever().await;
    sim.fail_next(2, 429);
    for _ in 0..2 {
        let response = Client::new()
            .get(format!("{base}/v1/opportunities/opp-1"))
            .basic_auth(KEY, Some(""))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "1");
    }
    assert_eq!(
        get(&base, "/v1/opportunities/opp-1").await.0,
        StatusCode::OK
    );

    sim.fail_next(1, 503);
    assert_eq!(
        get(&base, "/v1/stages").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(get(&base, "/v1/stages").await.0, StatusCode::OK);

    let calls = sim.api_calls();
    assert_eq!(calls.len(), 5);
    assert_eq!(
        (calls[0].method.as_str(), calls[0].path.as_str()),
        ("GET", "/v1/opportunities/opp-1")
    );
}

#[test]
fn lever_signature_matches_the_vector() {
    assert_eq!(
        sign(
            "test-signature-token",
            "be58f711f349c7780e4579cd7c63341ac6f881e4dccc3154",
            1431454330072
        ),
        "67237316b71be6f4595c3313d347b09353b22d7cbab3726261b73d409acd8fd7"
    );
}

#[tokio::test]
async fn move_to_stage_delivers_a_signed_webhook_and_replays_it_unchanged() {
    let sim = seeded_lever();
    let (receiver, url) = Receiver::start().await;
    // Nobody subscribed yet: Lever records the move all the same, and delivers nothing.
    assert!(sim.move_to_stage("opp-1", "s-bgc").await.is_err());
    assert_eq!(sim.opportunity("opp-1").unwrap().stage, "s-bgc");
    assert!(sim.move_to_stage("opp-1", "s-new").await.is_err());
    assert!(receiver.hits().is_empty());
    sim.subscribe("candidateStageChange", url.clone(), SIGNATURE_TOKEN.into());

    let sent = sim.move_to_stage("opp-1", "s-ref").await.unwrap();
    assert_eq!(sent.status, 200);
    assert_eq!(sent.response, "ok");
    assert_eq!(sim.opportunity("opp-1").unwrap().stage, "s-ref");

    let hits = receiver.hits();
    let (headers, body) = &hits[0];
    assert_eq!(headers["user-agent"], "Lever-Webhooks");
    assert_eq!(headers["content-type"], "application/json");
    let delivery: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(delivery, sent.body);
    assert_eq!(delivery["event"], "candidateStageChange");
    let token = delivery["token"].as_str().unwrap();
    assert_eq!(token.len(), 48);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let triggered_at = delivery["triggeredAt"].as_i64().unwrap();
    assert_eq!(
        delivery["signature"],
        sign(SIGNATURE_TOKEN, token, triggered_at)
    );
    assert_eq!(
        delivery["data"],
        json!({
            "opportunityId": "opp-1",
            "candidateId": "opp-1",
            "contactId": delivery["data"]["contactId"],
            "toStageId": "s-ref",
            "fromStageId": "s-new",
        })
    );
    assert!(delivery["data"]["contactId"].is_string());

    sim.send_raw(&url, &sent.body).await.unwrap();
    let hits = receiver.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].1, hits[0].1);

    assert!(sim.move_to_stage("opp-1", "no-such-stage").await.is_err());
    assert!(sim.move_to_stage("nope", "s-bgc").await.is_err());
    assert_eq!(receiver.hits().len(), 2);
}

#[tokio::test]
async fn application_created_is_delivered_signed() {
    let sim = seeded_lever();
    let (receiver, url) = Receiver::start().await;
    sim.subscribe("applicationCreated", url, "app-token".into());
    let sent = sim.application_created("opp-1").await.unwrap();
    assert_eq!(sent.status, 200);
    let delivery: Value = serde_json::from_slice(&receiver.hits()[0].1).unwrap();
    assert_eq!(delivery["event"], "applicationCreated");
    assert_eq!(delivery["data"]["opportunityId"], "opp-1");
    let (token, at) = (
        delivery["token"].as_str().unwrap(),
        delivery["triggeredAt"].as_i64().unwrap(),
    );
    assert_eq!(delivery["signature"], sign("app-token", token, at));
}
