//! A local Lever you can drive: a candidate created, moved, tagged, archived, restored and
//! deleted through the Lever simulator's `/_sim` routes (as curl does) and through the
//! local page (as a browser does), each action reaching the product as Lever's signed
//! webhooks, and the product's answer showing in Lever.

use crate::support::{start, Harness, SUBMITTED};
use lever_screening_local::demo_tenant as demo;
use serde_json::{json, Value};

/// POSTs JSON to the demo tenant's Lever simulator; the answer's status and body.
async fn sim(h: &Harness, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let response = h
        .http
        .request(method, format!("{}{path}", h.stack.lever_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// [`sim`], answered 200: the answer's body.
async fn sim_ok(h: &Harness, method: reqwest::Method, path: &str, body: Value) -> Value {
    let (status, body) = sim(h, method, path, body).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

async fn create_grace(h: &Harness) -> String {
    let (status, body) = sim(
        h,
        reqwest::Method::POST,
        "/_sim/opportunities",
        json!({
            "name": "Grace Brewster",
            "email": "grace@example.com",
            "phone": "+1 416 555 0199",
            "posting": demo::POSTING_ID,
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["opportunityId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_candidate_created_and_moved_with_curl_is_ordered_and_lever_shows_the_order() {
    let h = start().await;
    let id = create_grace(&h).await;
    let created = h.stack.lever.opportunity(&id).unwrap();
    assert_eq!(created.name, "Grace Brewster");
    assert_eq!(
        created.stage,
        demo::PHONE_SCREEN_STAGE_ID,
        "the first stage"
    );

    let body = sim_ok(
        &h,
        reqwest::Method::POST,
        &format!("/_sim/opportunities/{id}/stage"),
        json!({ "stage": demo::REFERENCE_CHECK_STAGE_NAME }),
    )
    .await;
    let delivery = &body["deliveries"][0];
    assert_eq!(delivery["event"], "candidateStageChange");
    assert_eq!(delivery["status"], 202, "the product queued it: {body}");
    assert_eq!(delivery["retrying"], false);
    h.settle().await;

    let orders = h.stack.xref.orders();
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0].candidate.name, "Grace Brewster");
    assert_eq!(orders[0].candidate.phone.as_deref(), Some("+14165550199"));
    assert!(h.tags_of(&id).contains(&SUBMITTED.to_owned()));
}

#[tokio::test]
async fn archive_restore_tag_and_delete_each_reach_the_product_or_are_refused_as_lever_would() {
    let h = start().await;
    let id = create_grace(&h).await;
    let path = |action: &str| format!("/_sim/opportunities/{id}/{action}");
    let (post, delete) = (reqwest::Method::POST, reqwest::Method::DELETE);
    let delivered = |body: &Value, event: &str| {
        assert_eq!(body["deliveries"][0]["event"], event, "{body}");
        assert!(
            body["deliveries"][0]["status"].as_u64().unwrap() < 300,
            "{body}"
        );
    };

    let body = sim_ok(&h, post.clone(), &path("archive"), json!({"reason": "r1"})).await;
    delivered(&body, "candidateArchiveChange");
    assert_eq!(h.stack.lever.archived(&id).unwrap().reason, "r1");
    let (status, body) = sim(&h, post.clone(), &path("archive"), json!({})).await;
    assert_eq!(status, 400, "archiving twice is refused: {body}");

    let body = sim_ok(&h, post.clone(), &path("unarchive"), json!({})).await;
    delivered(&body, "candidateArchiveChange");
    assert_eq!(h.stack.lever.archived(&id), None);

    let body = sim_ok(&h, post.clone(), &path("tags"), json!({"tag": "VIP"})).await;
    assert_eq!(body["deliveries"], json!([]), "Lever has no tag webhook");
    assert!(h.tags_of(&id).contains(&"VIP".to_owned()));

    let (status, body) = sim(
        &h,
        post.clone(),
        &path("stage"),
        json!({"stage": "Nowhere"}),
    )
    .await;
    assert_eq!(status, 404, "an unknown stage: {body}");

    let opportunity = format!("/_sim/opportunities/{id}");
    let body = sim_ok(&h, delete, &opportunity, json!({})).await;
    delivered(&body, "candidateDeleted");
    assert_eq!(h.stack.lever.opportunity(&id), None);
    let (status, _) = sim(&h, post, &path("unarchive"), json!({})).await;
    assert_eq!(status, 404, "a deleted candidate is gone");
}

#[tokio::test]
async fn a_candidate_with_a_blank_name_or_a_bad_email_is_refused() {
    let h = start().await;
    for body in [
        json!({"name": "  "}),
        json!({"name": "Ann", "email": "not-an-email"}),
    ] {
        let (status, answer) = sim(&h, reqwest::Method::POST, "/_sim/opportunities", body).await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["message"].as_str().is_some(), "{answer}");
    }
}

/// The page, as a browser without scripts uses it: forms, redirects, the notice.
#[tokio::test]
async fn the_local_lever_page_adds_and_moves_a_candidate_and_shows_the_product_s_note() {
    let h = start().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = format!("{}/_local/lever/demo", h.stack.functions_url);
    let response = no_redirects
        .post(format!("{page}/candidates"))
        .form(&[
            ("name", "Mary Jackson"),
            ("email", "mary@example.com"),
            ("phone", ""),
            ("posting", demo::POSTING_ID),
            ("stage", demo::PHONE_SCREEN_STAGE_ID),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "POST/redirect/GET");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/_local/lever/demo?notice="),
        "{location}"
    );
    let html = text_of(&h, &format!("{}{location}", h.stack.functions_url)).await;
    assert!(html.contains("Added Mary Jackson."), "{html}");
    let mary = h
        .stack
        .lever
        .opportunities()
        .into_iter()
        .find(|o| o.name == "Mary Jackson")
        .unwrap();

    let response = no_redirects
        .post(format!("{page}/candidates/{}/stage", mary.id))
        .form(&[("stage", demo::REFERENCE_CHECK_STAGE_ID)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let notice: String = form_query(&location);
    assert_eq!(
        notice,
        "Moved Mary Jackson to Reference Check. Lever sent candidateStageChange: answered 202."
    );
    h.settle().await;
    let html = text_of(&h, &page).await;
    assert!(html.contains(SUBMITTED), "the order's tag shows: {html}");

    let forged = no_redirects
        .post(format!("{page}/candidates/{}/delete", mary.id))
        .header("origin", "http://evil.example")
        .form(&[("x", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "a form from another site");
    assert!(h.stack.lever.opportunity(&mary.id).is_some());

    let unknown = h
        .http
        .get(format!("{}/_local/lever/nosuch", h.stack.functions_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

async fn text_of(h: &Harness, url: &str) -> String {
    h.http.get(url).send().await.unwrap().text().await.unwrap()
}

fn form_query(location: &str) -> String {
    let query = location.split_once('?').unwrap().1;
    reqwest::Url::parse(&format!("http://x/?{query}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "notice")
        .unwrap()
        .1
        .into_owned()
}

#[cfg(unix)]
#[tokio::test]
async fn the_stack_s_secrets_file_is_readable_by_its_owner_only_even_after_a_write() {
    use std::os::unix::fs::PermissionsExt;
    let h = start().await;
    let path = h.stack.secrets_file.clone().unwrap();
    let mode = || std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(), 0o600);
    // The OAuth callback and the console rewrite the file: it stays the owner's.
    h.stack
        .app
        .secrets()
        .source()
        .put_document("newco", &json!({}))
        .await
        .unwrap();
    assert_eq!(mode(), 0o600);
}
