//! The Lever simulator's REST API (stage changes, notes, archive state), its rate limit and
//! injected faults, and the deliveries an admin's actions trigger, exercised over real HTTP.

use crate::support::{serve, Receiver};
use lever_screening_simulators::lever::{sign, ARCHIVE_REASON_ID, SIM_USER_ID};
use lever_screening_simulators::{LeverSim, SimError, SimOpportunity, SimPosting};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

const KEY: &str = "lever-key";
const BEARER: &str = "oauth-token";

struct Lever {
    sim: LeverSim,
    base: String,
    http: Client,
}

async fn lever() -> Lever {
    let sim = LeverSim::new(KEY);
    sim.set_bearer_token(BEARER);
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
        ..SimPosting::default()
    });
    sim.add_opportunity(SimOpportunity {
        id: "opp-1".into(),
        name: "Ada Lovelace".into(),
        emails: vec!["ada@example.com".into()],
        stage: "s-new".into(),
        posting_id: Some("post-1".into()),
        ..SimOpportunity::default()
    });
    let base = serve(sim.router()).await;
    Lever {
        sim,
        base,
        http: Client::new(),
    }
}

impl Lever {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(KEY, Some(""));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn opportunity(&self) -> Value {
        let (status, body) = self.get("/v1/opportunities/opp-1").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    async fn add_tag(&self, tag: &str) -> StatusCode {
        let path = "/v1/opportunities/opp-1/addTags";
        self.post(path, json!({ "tags": [tag] })).await.0
    }
}

/// Checks the delivery is signed with `signature_token` the way Lever signs.
fn assert_signed(delivery: &Value, signature_token: &str) {
    let token = delivery["token"].as_str().unwrap();
    let triggered_at = delivery["triggeredAt"].as_i64().unwrap();
    assert_eq!(
        delivery["signature"],
        sign(signature_token, token, triggered_at)
    );
}

#[tokio::test]
async fn stage_changes_start_with_the_seeded_stage_and_grow_with_every_move() {
    let lever = lever().await;
    let (receiver, url) = Receiver::start().await;
    lever
        .sim
        .subscribe("candidateStageChange", url, "stage-token".into());

    let changes = &lever.opportunity().await["stageChanges"];
    assert_eq!(changes.as_array().unwrap().len(), 1);
    assert_eq!(changes[0]["toStageId"], "s-new");
    assert_eq!(changes[0]["toStageIndex"], 0);
    assert_eq!(changes[0]["userId"], SIM_USER_ID);
    let seeded_at = changes[0]["updatedAt"].as_i64().unwrap();
    assert!(seeded_at > 0);

    lever.sim.move_to_stage("opp-1", "s-ref").await.unwrap();
    let (status, body) = lever
        .put(
            "/v1/opportunities/opp-1/stage?perform_as=user-7",
            json!({ "stage": "s-bgc" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["stage"], "s-bgc");

    let data = lever.opportunity().await;
    assert_eq!(data["stage"], "s-bgc");
    let changes = data["stageChanges"].as_array().unwrap();
    let summary: Vec<(&str, i64, &str)> = changes
        .iter()
        .map(|c| {
            (
                c["toStageId"].as_str().unwrap(),
                c["toStageIndex"].as_i64().unwrap(),
                c["userId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("s-new", 0, SIM_USER_ID),
            ("s-ref", 1, SIM_USER_ID),
            ("s-bgc", 2, "user-7")
        ]
    );
    let times: Vec<i64> = changes
        .iter()
        .map(|c| c["updatedAt"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(data["lastAdvancedAt"], times[2]);
    assert_eq!(lever.sim.stage_changes("opp-1").len(), 3);

    // Only the admin's move was delivered, not the API's.
    assert_eq!(receiver.bodies().len(), 1);
}

#[tokio::test]
async fn the_stage_endpoint_refuses_unknown_stages_and_opportunities() {
    let lever = lever().await;
    let path = "/v1/opportunities/opp-1/stage";
    for body in [
        json!({ "stage": "no-such-stage" }),
        json!({}),
        json!({ "stage": 3 }),
    ] {
        let (status, error) = lever.put(path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error["code"].is_string());
    }
    let (status, _) = lever
        .put("/v1/opportunities/nope/stage", json!({ "stage": "s-ref" }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(lever.sim.opportunity("opp-1").unwrap().stage, "s-new");
    assert_eq!(lever.sim.stage_changes("opp-1").len(), 1);
}

#[tokio::test]
async fn notes_are_listed_as_lever_lists_them_page_by_page() {
    let lever = lever().await;
    let path = "/v1/opportunities/opp-1/notes";
    for (value, secret) in [("first", false), ("second", true), ("third", false)] {
        let (status, _) = lever
            .post(
                path,
                json!({ "value": value, "secret": secret, "score": 3 }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }

    let (status, page) = lever.get(&format!("{path}?limit=2")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["hasNext"], true);
    let notes = page["data"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    let stored = &lever.sim.notes("opp-1")[1];
    assert_eq!(
        notes[1],
        json!({
            "id": stored.id,
            "text": "Note",
            "fields": [{
                "type": "note",
                "text": "Comment",
                "value": "second",
                "createdAt": stored.created_at,
                "score": 3,
                "user": SIM_USER_ID,
            }],
            "user": SIM_USER_ID,
            "secret": true,
            "createdAt": stored.created_at,
            "completedAt": stored.created_at,
            "deletedAt": null,
        })
    );

    let next = page["next"].as_str().unwrap();
    let (_, page) = lever.get(&format!("{path}?limit=2&offset={next}")).await;
    assert_eq!(page["hasNext"], false);
    assert!(page.get("next").is_none());
    assert_eq!(page["data"][0]["fields"][0]["value"], "third");

    let (status, page) = lever.get(path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"].as_array().unwrap().len(), 3);
    assert_eq!(
        lever.get(&format!("{path}?limit=101")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        lever.get("/v1/opportunities/nope/notes").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_note_needs_a_value_and_a_score_from_one_to_four() {
    let lever = lever().await;
    let path = "/v1/opportunities/opp-1/notes";
    for body in [
        json!({}),
        json!({ "value": "" }),
        json!({ "value": "   " }),
        json!({ "value": 7 }),
        json!({ "value": "x", "score": 0 }),
        json!({ "value": "x", "score": 5 }),
        json!({ "value": "x", "score": 2.5 }),
        json!({ "value": "x", "score": "3" }),
        json!({ "value": "x", "secret": "yes" }),
        json!({ "value": "x", "notifyFollowers": "yes" }),
    ] {
        let (status, error) = lever.post(path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error["code"].is_string(), "{body}");
    }
    assert!(lever.sim.notes("opp-1").is_empty());

    let (status, _) = lever
        .post(
            &format!("{path}?perform_as=user-7"),
            json!({ "value": "Xref: ordered", "notifyFollowers": true, "score": 4 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = lever.post(path, json!({ "value": "plain" })).await;
    assert_eq!(status, StatusCode::CREATED);

    let notes = lever.sim.notes("opp-1");
    let summary: Vec<_> = notes
        .iter()
        .map(|n| {
            (
                n.value.as_str(),
                n.notify_followers,
                n.score,
                n.secret,
                n.user.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("Xref: ordered", true, Some(4), false, "user-7"),
            ("plain", false, None, false, SIM_USER_ID),
        ]
    );

    let update = format!("{path}/{}", notes[0].id);
    let (status, _) = lever.put(&update, json!({ "value": "" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(lever.sim.notes("opp-1")[0].value, "Xref: ordered");
}

#[tokio::test]
async fn the_default_rate_limit_is_a_burst_of_twenty_then_429_without_retry_after() {
    let lever = lever().await;
    let url = format!("{}/v1/opportunities/opp-1", lever.base);
    let mut statuses = Vec::new();
    for _ in 0..30 {
        let response = lever
            .http
            .get(&url)
            .basic_auth(KEY, Some(""))
            .send()
            .await
            .unwrap();
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().get("retry-after").is_none());
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "TooManyRequests");
            assert!(body["message"].is_string());
        }
        statuses.push(status);
    }
    assert!(
        statuses[..20].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    // 10 tokens a second refill while the loop runs; on a slow machine a few more get in.
    assert!(throttled >= 5, "{statuses:?}");
    assert_eq!(lever.sim.throttled_count(), throttled);
    assert_eq!(lever.sim.api_calls().len(), 30);
}

#[tokio::test]
async fn each_credential_has_its_own_bucket_and_a_throttled_write_is_not_applied() {
    let lever = lever().await;
    lever.sim.set_rate_limit(Some((2, 0)));
    assert_eq!(lever.add_tag("a").await, StatusCode::OK);
    assert_eq!(lever.add_tag("b").await, StatusCode::OK);
    assert_eq!(lever.add_tag("c").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(lever.sim.opportunity("opp-1").unwrap().tags, ["a", "b"]);

    let bearer = |tag: &'static str| {
        lever
            .http
            .post(format!("{}/v1/opportunities/opp-1/addTags", lever.base))
            .bearer_auth(BEARER)
            .json(&json!({ "tags": [tag] }))
            .send()
    };
    assert_eq!(bearer("d").await.unwrap().status(), StatusCode::OK);
    assert_eq!(bearer("e").await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        bearer("f").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        lever.sim.opportunity("opp-1").unwrap().tags,
        ["a", "b", "d", "e"]
    );
    assert_eq!(lever.sim.throttled_count(), 2);
    assert_eq!(lever.sim.api_calls().len(), 6);

    lever.sim.set_rate_limit(None);
    for tag in ["g", "h", "i", "j"] {
        assert_eq!(lever.add_tag(tag).await, StatusCode::OK);
    }
    assert_eq!(lever.sim.throttled_count(), 2);
}

#[tokio::test]
async fn a_bucket_refills_over_time() {
    let lever = lever().await;
    // One token, back after half a second: slow enough that the immediate second request
    // is refused even on a loaded machine.
    lever.sim.set_rate_limit(Some((1, 2)));
    assert_eq!(lever.get("/v1/stages").await.0, StatusCode::OK);
    assert_eq!(
        lever.get("/v1/stages").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(lever.get("/v1/stages").await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_unauthenticated_request_is_401_not_429() {
    let lever = lever().await;
    lever.sim.set_rate_limit(Some((1, 0)));
    let response = lever
        .http
        .get(format!("{}/v1/stages", lever.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // The refused request took no token from the key's bucket.
    assert_eq!(lever.get("/v1/stages").await.0, StatusCode::OK);
    assert_eq!(lever.sim.throttled_count(), 0);
}

#[tokio::test]
async fn fail_after_applying_applies_writes_then_answers_the_status() {
    let lever = lever().await;
    lever.sim.fail_after_applying(2, 504);

    // Reads pass untouched and do not use up the fault.
    assert_eq!(lever.get("/v1/opportunities/opp-1").await.0, StatusCode::OK);

    let (status, _) = lever
        .post(
            "/v1/opportunities/opp-1/notes",
            json!({ "value": "ordered" }),
        )
        .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(lever.sim.notes("opp-1").len(), 1);

    let (status, _) = lever
        .put("/v1/opportunities/opp-1/stage", json!({ "stage": "s-ref" }))
        .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(lever.sim.opportunity("opp-1").unwrap().stage, "s-ref");

    assert_eq!(lever.add_tag("next").await, StatusCode::OK);
    assert_eq!(lever.sim.opportunity("opp-1").unwrap().tags, ["next"]);
}

/// The statuses of `n` `GET /v1/stages` against a fresh simulator failing at rate `p`.
async fn statuses_with_failure_rate(p: f64, seed: u64, n: usize) -> Vec<u16> {
    let lever = lever().await;
    lever.sim.set_rate_limit(None);
    lever.sim.set_failure_rate(p, seed);
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(lever.get("/v1/stages").await.0.as_u16());
    }
    statuses
}

#[tokio::test]
async fn random_failures_follow_the_rate_and_repeat_with_the_seed() {
    let statuses = statuses_with_failure_rate(0.5, 42, 60).await;
    assert!(statuses.iter().all(|s| [200, 503].contains(s)));
    let failed = statuses.iter().filter(|s| **s == 503).count();
    assert!((15..=45).contains(&failed), "{failed} of 60");
    assert_eq!(statuses_with_failure_rate(0.5, 42, 60).await, statuses);
    assert_ne!(statuses_with_failure_rate(0.5, 43, 60).await, statuses);
    assert!(statuses_with_failure_rate(0.0, 42, 20)
        .await
        .iter()
        .all(|s| *s == 200));
}

#[tokio::test]
async fn a_random_failure_is_not_applied() {
    let lever = lever().await;
    lever.sim.set_failure_rate(1.0, 7);
    let (status, body) = lever
        .post("/v1/opportunities/opp-1/addTags", json!({ "tags": ["x"] }))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["code"].is_string());
    assert!(lever.sim.opportunity("opp-1").unwrap().tags.is_empty());

    lever.sim.set_failure_rate(0.0, 7);
    assert_eq!(lever.add_tag("x").await, StatusCode::OK);
    assert_eq!(lever.sim.api_calls().len(), 2);
}

#[tokio::test]
async fn archive_and_unarchive_show_on_the_opportunity_and_are_delivered() {
    let lever = lever().await;
    assert!(matches!(
        lever.sim.archive("opp-1").await,
        Err(SimError::NotSubscribed(_))
    ));
    assert!(
        lever.sim.archived("opp-1").is_some(),
        "archived as in Lever, though no webhook delivers it"
    );
    lever.sim.unarchive("opp-1").await.unwrap_err();

    let (receiver, url) = Receiver::start().await;
    lever
        .sim
        .subscribe("candidateArchiveChange", url, "archive-token".into());
    let data = lever.opportunity().await;
    assert!(data.get("archived").is_none() && data.get("archivedAt").is_none());

    let sent = lever.sim.archive("opp-1").await.unwrap();
    assert_eq!(sent.status, 200);
    let archived = lever.sim.archived("opp-1").unwrap();
    assert_eq!(archived.reason, ARCHIVE_REASON_ID);
    let to_archived = json!({ "archivedAt": archived.archived_at, "reason": ARCHIVE_REASON_ID });
    let data = lever.opportunity().await;
    assert_eq!(data["archived"], to_archived);
    assert_eq!(data["archivedAt"], archived.archived_at);

    let sent_back = lever.sim.unarchive("opp-1").await.unwrap();
    assert_eq!(sent_back.status, 200);
    assert!(lever.opportunity().await.get("archived").is_none());

    let hits = receiver.bodies();
    assert_eq!(hits, [sent.body, sent_back.body]);
    assert_eq!(hits[0]["event"], "candidateArchiveChange");
    assert_eq!(
        hits[0]["data"],
        json!({
            "opportunityId": "opp-1",
            "contactId": data["contact"],
            "fromArchived": null,
            "toArchived": to_archived,
        })
    );
    assert_eq!(hits[1]["data"]["fromArchived"], to_archived);
    assert_eq!(hits[1]["data"]["toArchived"], Value::Null);
    for hit in &hits {
        assert_signed(hit, "archive-token");
    }
}

#[tokio::test]
async fn deleting_an_opportunity_removes_it_and_is_delivered() {
    let lever = lever().await;
    let (receiver, url) = Receiver::start().await;
    lever
        .sim
        .subscribe("candidateDeleted", url, "deleted-token".into());
    let contact = lever.opportunity().await["contact"].clone();
    lever
        .post("/v1/opportunities/opp-1/notes", json!({ "value": "x" }))
        .await;

    let sent = lever.sim.delete_opportunity("opp-1").await.unwrap();
    assert_eq!(sent.status, 200);
    assert_eq!(
        lever.get("/v1/opportunities/opp-1").await.0,
        StatusCode::NOT_FOUND
    );
    assert!(lever.sim.opportunity("opp-1").is_none());
    assert!(lever.sim.notes("opp-1").is_empty());
    let hit = &receiver.bodies()[0];
    assert_eq!(hit["event"], "candidateDeleted");
    assert_eq!(
        hit["data"],
        json!({ "opportunityId": "opp-1", "contactId": contact })
    );
    assert_signed(hit, "deleted-token");

    assert!(matches!(
        lever.sim.delete_opportunity("opp-1").await,
        Err(SimError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_hire_is_delivered() {
    let lever = lever().await;
    let (receiver, url) = Receiver::start().await;
    lever
        .sim
        .subscribe("candidateHired", url, "hired-token".into());
    let sent = lever.sim.hire("opp-1").await.unwrap();
    assert_eq!(sent.status, 200);
    let hit = &receiver.bodies()[0];
    assert_eq!(hit["event"], "candidateHired");
    assert_eq!(hit["data"]["opportunityId"], "opp-1");
    assert_eq!(hit["data"]["candidateId"], "opp-1");
    assert!(hit["data"]["contactId"].is_string());
    assert_signed(hit, "hired-token");
    assert!(lever.sim.hire("nope").await.is_err());
}

#[tokio::test]
async fn a_test_delivery_goes_to_one_webhook_naming_another_event_with_empty_data() {
    let lever = lever().await;
    let (stage_receiver, stage_url) = Receiver::start().await;
    let (created_receiver, created_url) = Receiver::start().await;
    lever
        .sim
        .subscribe("candidateStageChange", stage_url, "stage-token".into());
    lever
        .sim
        .subscribe("applicationCreated", created_url, "created-token".into());

    let sent = lever
        .sim
        .send_test_delivery("candidateStageChange", "applicationCreated")
        .await
        .unwrap();
    assert_eq!(sent.status, 200);
    assert!(created_receiver.bodies().is_empty());
    let hit = &stage_receiver.bodies()[0];
    assert_eq!(hit["event"], "applicationCreated");
    assert_eq!(hit["data"], json!({}));
    assert_signed(hit, "stage-token");

    assert!(matches!(
        lever
            .sim
            .send_test_delivery("candidateHired", "candidateHired")
            .await,
        Err(SimError::NotSubscribed(_))
    ));
}

#[tokio::test]
async fn a_signed_delivery_can_be_tampered_with_and_posted() {
    let lever = lever().await;
    let (receiver, url) = Receiver::start().await;
    lever
        .sim
        .subscribe("candidateStageChange", url.clone(), "stage-token".into());
    let data = json!({ "opportunityId": "opp-1", "toStageId": "s-bgc" });

    let mut body = lever
        .sim
        .signed_delivery("candidateStageChange", data.clone())
        .unwrap();
    assert_eq!(body["event"], "candidateStageChange");
    assert_eq!(body["data"], data);
    assert_signed(&body, "stage-token");
    assert!(receiver.bodies().is_empty(), "built, not sent");

    // Lever signs token + triggeredAt only, so the signature survives a changed `data`.
    body["data"]["opportunityId"] = json!("someone-else");
    lever.sim.send_raw(&url, &body).await.unwrap();
    assert_eq!(receiver.bodies(), [body]);

    assert!(matches!(
        lever.sim.signed_delivery("candidateHired", json!({})),
        Err(SimError::NotSubscribed(_))
    ));
}

#[tokio::test]
async fn the_opportunity_list_filters_by_stage_update_and_archive_time_and_pages() {
    let lever = lever().await;
    lever.sim.add_opportunity(SimOpportunity {
        id: "opp-2".into(),
        name: "Alan Turing".into(),
        stage: "s-new".into(),
        ..SimOpportunity::default()
    });
    let (_, opp2) = lever.get("/v1/opportunities/opp-2").await;
    let before = opp2["data"]["updatedAt"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    // Moved with no webhook subscribed: Lever records the move all the same.
    assert!(matches!(
        lever.sim.move_to_stage("opp-1", "s-ref").await,
        Err(SimError::NotSubscribed(_))
    ));
    let ids = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let since = before + 1;
    let (status, body) = lever
        .get(&format!(
            "/v1/opportunities?stage_id=s-ref&updated_at_start={since}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), ["opp-1"]);
    assert_eq!(body["hasNext"], false);
    assert_eq!(body["data"][0]["stageChanges"][1]["toStageId"], "s-ref");
    let (_, body) = lever
        .get(&format!(
            "/v1/opportunities?stage_id=s-new&updated_at_start={since}"
        ))
        .await;
    assert!(ids(&body).is_empty(), "opp-2 was not updated since");

    // Pages of `limit`, `next` passed back as `offset`.
    let (_, first) = lever.get("/v1/opportunities?limit=1").await;
    assert_eq!(first["hasNext"], true);
    let next = first["next"].as_str().unwrap();
    let (_, second) = lever
        .get(&format!("/v1/opportunities?limit=1&offset={next}"))
        .await;
    assert_eq!(second["hasNext"], false);
    let mut all = [ids(&first), ids(&second)].concat();
    all.sort();
    assert_eq!(all, ["opp-1", "opp-2"]);

    // Archived since: archived ones only.
    assert!(lever.sim.archive("opp-2").await.is_err(), "no webhook");
    let (_, body) = lever
        .get(&format!("/v1/opportunities?archived_at_start={since}"))
        .await;
    assert_eq!(ids(&body), ["opp-2"]);
    assert!(body["data"][0]["archived"]["archivedAt"].is_i64());

    for bad in [
        "/v1/opportunities?updated_at_start=yesterday",
        "/v1/opportunities?archived=maybe",
        "/v1/opportunities?limit=0",
        "/v1/opportunities?advanced_at_start=1",
    ] {
        assert_eq!(lever.get(bad).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }
}
