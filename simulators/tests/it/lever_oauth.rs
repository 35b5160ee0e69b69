//! The Lever simulator's OAuth authorization server and Webhooks Subscription API, exercised
//! over real HTTP.

use crate::support::serve;
use axum::body::Bytes;
use axum::routing::post;
use axum::Router;
use lever_screening_simulators::lever::{sign, SimWebhook};
use lever_screening_simulators::{LeverSim, SimError, SimOpportunity};
use reqwest::{header, Client, Response, StatusCode, Url};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "lever-key";
const CLIENT_ID: &str = "partner-client";
const CLIENT_SECRET: &str = "partner-secret";
const REDIRECT_URI: &str = "https://connector.example/oauth/callback";
const SCOPES: &str = "offline_access opportunities:read:admin webhooks:write:admin";

struct Lever {
    sim: LeverSim,
    base: String,
    /// Redirects are the authorization server's answers, so they must not be followed.
    http: Client,
}

async fn lever() -> Lever {
    let sim = LeverSim::new(KEY);
    sim.add_opportunity(SimOpportunity {
        id: "opp-1".into(),
        name: "Ada Lovelace".into(),
        stage: "s-new".into(),
        ..SimOpportunity::default()
    });
    sim.register_oauth_app(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI);
    let base = serve(sim.router()).await;
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Lever { sim, base, http }
}

impl Lever {
    async fn authorize(&self, params: &[(&str, &str)]) -> Response {
        self.http
            .get(format!("{}/oauth/authorize", self.base))
            .query(params)
            .send()
            .await
            .unwrap()
    }

    /// Authorizes with `scope` and returns the code the admin's acceptance redirected with.
    async fn code(&self, scope: &str) -> String {
        let response = self.authorize(&consent(scope)).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        redirect_params(&response)["code"].clone()
    }

    async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn exchange(&self, code: &str) -> (StatusCode, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> (StatusCode, Value) {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await
    }

    /// The token response of a fresh authorization with every scope this product asks for.
    async fn tokens(&self) -> Value {
        let code = self.code(SCOPES).await;
        let (status, body) = self.exchange(&code).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn get_opportunity(&self, access_token: &str) -> StatusCode {
        self.http
            .get(format!("{}/v1/opportunities/opp-1", self.base))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
            .status()
    }

    fn api_key(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.basic_auth(KEY, Some(""))
    }
}

fn consent(scope: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("response_type", "code"),
        ("state", "xyz state/1"),
        ("audience", "https://api.lever.co/v1/"),
        ("scope", scope),
    ]
}

/// The query parameters of the redirect's `Location`, checking it leads to the app's callback.
fn redirect_params(response: &Response) -> HashMap<String, String> {
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    let url = Url::parse(location).unwrap();
    let mut callback = url.clone();
    callback.set_query(None);
    assert_eq!(callback.as_str(), REDIRECT_URI);
    url.query_pairs().into_owned().collect()
}

fn text<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {body}"))
}

#[tokio::test]
async fn an_accepted_authorization_redirects_with_a_code_and_the_state() {
    let lever = lever().await;
    let response = lever.authorize(&consent(SCOPES)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = redirect_params(&response);
    assert_eq!(params["state"], "xyz state/1");
    assert!(!params["code"].is_empty());
    assert!(!params.contains_key("error"));
    assert_eq!(
        lever.sim.granted_scopes(),
        [
            "offline_access",
            "opportunities:read:admin",
            "webhooks:write:admin"
        ]
    );
}

#[tokio::test]
async fn lever_s_own_authorize_path_also_works() {
    let lever = lever().await;
    let response = lever
        .http
        .get(format!("{}/authorize", lever.base))
        .query(&consent(SCOPES))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(redirect_params(&response).contains_key("code"));
}

#[tokio::test]
async fn a_declined_authorization_redirects_with_access_denied() {
    let lever = lever().await;
    lever.sim.deny_next_authorization();
    let response = lever.authorize(&consent(SCOPES)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = redirect_params(&response);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "xyz state/1");
    assert!(!params.contains_key("code"));
    assert!(lever.sim.granted_scopes().is_empty());

    // Only the next one is declined.
    lever.code(SCOPES).await;
}

#[tokio::test]
async fn a_malformed_authorization_request_is_a_400_without_redirect() {
    let lever = lever().await;
    for (key, value, error) in [
        ("client_id", "someone-else", "invalid_client"),
        ("redirect_uri", "https://evil.example/cb", "invalid_request"),
        ("response_type", "token", "unsupported_response_type"),
    ] {
        let mut params = consent(SCOPES);
        params.retain(|(k, _)| *k != key);
        params.push((key, value));
        let response = lever.authorize(&params).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{key}");
        assert!(response.headers().get(header::LOCATION).is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{key}");
    }
}

#[tokio::test]
async fn a_code_buys_tokens_once() {
    let lever = lever().await;
    let code = lever.code(SCOPES).await;
    let (status, body) = lever.exchange(&code).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], SCOPES);
    assert!(!text(&body, "access_token").is_empty());
    assert!(!text(&body, "refresh_token").is_empty());

    let (status, body) = lever.exchange(&code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token() {
    let lever = lever().await;
    let code = lever.code("opportunities:read:admin").await;
    let (status, body) = lever.exchange(&code).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("refresh_token").is_none(), "{body}");
}

#[tokio::test]
async fn a_refresh_rotates_the_refresh_token() {
    let lever = lever().await;
    let first = lever.tokens().await;
    let old = text(&first, "refresh_token");

    let (status, second) = lever.refresh(old).await;
    assert_eq!(status, StatusCode::OK);
    let new = text(&second, "refresh_token");
    assert_ne!(new, old);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["scope"], SCOPES);
    assert_eq!(lever.sim.refresh_count(), 1);

    let (status, body) = lever.refresh(old).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let (status, _) = lever.refresh(new).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lever.sim.refresh_count(), 2);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_let_only_one_win() {
    let lever = lever().await;
    let tokens = lever.tokens().await;
    let refresh_token = text(&tokens, "refresh_token");
    lever.sim.set_token_delay(Duration::from_millis(200));

    let started = Instant::now();
    let (a, b) = tokio::join!(lever.refresh(refresh_token), lever.refresh(refresh_token));
    assert!(started.elapsed() >= Duration::from_millis(200));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST]);
    assert_eq!(lever.sim.refresh_count(), 1);
}

#[tokio::test]
async fn a_wrong_client_is_a_401() {
    let lever = lever().await;
    let tokens = lever.tokens().await;
    let code = lever.code(SCOPES).await;
    let wrong_secret = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", CLIENT_ID),
        ("client_secret", "wrong"),
    ];
    let unknown_client = [
        ("grant_type", "refresh_token"),
        ("refresh_token", text(&tokens, "refresh_token")),
        ("client_id", "someone-else"),
        ("client_secret", CLIENT_SECRET),
    ];
    for form in [&wrong_secret[..], &unknown_client[..]] {
        let (status, body) = lever.token(form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_client");
    }
    assert_eq!(lever.sim.refresh_count(), 0);
}

#[tokio::test]
async fn an_issued_access_token_works_until_it_expires() {
    let lever = lever().await;
    let tokens = lever.tokens().await;
    assert_eq!(
        lever.get_opportunity(text(&tokens, "access_token")).await,
        StatusCode::OK
    );
    assert_eq!(
        lever.get_opportunity("never-issued").await,
        StatusCode::UNAUTHORIZED
    );

    lever.sim.expire_access_tokens();
    assert_eq!(
        lever.get_opportunity(text(&tokens, "access_token")).await,
        StatusCode::UNAUTHORIZED
    );
    let (status, refreshed) = lever.refresh(text(&tokens, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        lever
            .get_opportunity(text(&refreshed, "access_token"))
            .await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn each_app_is_authorized_and_revoked_on_its_own() {
    let lever = lever().await;
    let (other_id, other_secret) = ("other-app", "other-app-secret");
    lever
        .sim
        .register_oauth_app(other_id, other_secret, REDIRECT_URI);
    let mine = lever.tokens().await;
    // The other app's own authorization and exchange.
    let mut params = consent(SCOPES);
    params[0] = ("client_id", other_id);
    let response = lever.authorize(&params).await;
    let other_code = redirect_params(&response)["code"].clone();
    // A code works only for the app it was granted to.
    let (status, body) = lever.exchange(&other_code).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &"invalid_grant".into())
    );
    let response = lever.authorize(&params).await;
    let other_code = redirect_params(&response)["code"].clone();
    let (status, other) = lever
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &other_code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", other_id),
            ("client_secret", other_secret),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{other}");

    lever.sim.revoke_app(other_id);
    assert_eq!(
        lever.get_opportunity(text(&other, "access_token")).await,
        StatusCode::UNAUTHORIZED,
        "the revoked app's tokens stop"
    );
    assert_eq!(
        lever.get_opportunity(text(&mine, "access_token")).await,
        StatusCode::OK,
        "the other app's tokens go on"
    );
    let (status, _) = lever.refresh(text(&mine, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn revoking_the_app_kills_every_token() {
    let lever = lever().await;
    let tokens = lever.tokens().await;
    lever.sim.revoke_app(CLIENT_ID);

    assert_eq!(
        lever.get_opportunity(text(&tokens, "access_token")).await,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = lever.refresh(text(&tokens, "refresh_token")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    // The admin can authorize the app again.
    let tokens = lever.tokens().await;
    assert_eq!(
        lever.get_opportunity(text(&tokens, "access_token")).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn webhooks_are_created_listed_and_deleted() {
    let lever = lever().await;
    let access_token = text(&lever.tokens().await, "access_token").to_owned();
    let webhooks = format!("{}/v1/webhooks", lever.base);

    let response = lever
        .http
        .post(&webhooks)
        .bearer_auth(&access_token)
        .json(&json!({ "event": "candidateStageChange", "url": "https://connector.example/hook" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let data = &created["data"];
    assert_eq!(data["event"], "candidateStageChange");
    assert_eq!(data["url"], "https://connector.example/hook");
    let id = text(data, "id");
    let signature_token = text(&data["configuration"], "signatureToken");
    assert!(!signature_token.is_empty());
    assert_eq!(
        lever.sim.webhooks(),
        [SimWebhook {
            id: id.to_owned(),
            event: "candidateStageChange".into(),
            url: "https://connector.example/hook".into(),
            signature_token: signature_token.to_owned(),
            origins: vec![],
        }]
    );

    let listed: Value = lever
        .api_key(lever.http.get(&webhooks))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!({ "data": [data], "hasNext": false }));

    let delete = |id: String| {
        lever
            .api_key(lever.http.delete(format!("{webhooks}/{id}")))
            .send()
    };
    assert_eq!(
        delete(id.to_owned()).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert!(lever.sim.webhooks().is_empty());
    assert_eq!(
        delete(id.to_owned()).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_webhook_request_needs_credentials_and_a_known_event() {
    let lever = lever().await;
    let webhooks = format!("{}/v1/webhooks", lever.base);
    let response = lever.http.get(&webhooks).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    for body in [
        json!({ "event": "candidateTeleported", "url": "https://connector.example/hook" }),
        json!({ "event": "applicationCreated", "url": "not a url" }),
        json!({ "event": "applicationCreated", "url": "ftp://connector.example/hook" }),
        json!({ "event": "applicationCreated" }),
        json!({
            "event": "applicationCreated",
            "url": "https://connector.example/hook",
            "configuration": { "conditions": { "origins": ["applied", "teleported"] } },
        }),
        json!({
            "event": "applicationCreated",
            "url": "https://connector.example/hook",
            "configuration": { "conditions": { "origins": "applied" } },
        }),
    ] {
        let response = lever
            .api_key(lever.http.post(&webhooks))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    assert!(lever.sim.webhooks().is_empty());
}

#[tokio::test]
async fn a_created_webhook_receives_signed_deliveries_until_deleted() {
    let lever = lever().await;
    let hits: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let receiver = Router::new().route(
        "/hook",
        post({
            let hits = hits.clone();
            move |body: Bytes| async move {
                hits.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let url = format!("{}/hook", serve(receiver).await);
    let created: Value = lever
        .api_key(lever.http.post(format!("{}/v1/webhooks", lever.base)))
        .json(&json!({ "event": "applicationCreated", "url": url }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let signature_token = text(&created["data"]["configuration"], "signatureToken");

    let sent = lever.sim.application_created("opp-1").await.unwrap();
    assert_eq!(sent.status, 200);
    let hits = hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 1);
    let body: Value = serde_json::from_slice(&hits[0]).unwrap();
    assert_eq!(body["event"], "applicationCreated");
    assert_eq!(body["data"]["opportunityId"], "opp-1");
    let expected = sign(
        signature_token,
        text(&body, "token"),
        body["triggeredAt"].as_i64().unwrap(),
    );
    assert_eq!(body["signature"], expected);

    let id = text(&created["data"], "id");
    let response = lever
        .api_key(
            lever
                .http
                .delete(format!("{}/v1/webhooks/{id}", lever.base)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(matches!(
        lever.sim.application_created("opp-1").await,
        Err(SimError::NotSubscribed(_))
    ));
}

#[tokio::test]
async fn subscribe_replaces_the_webhooks_of_its_event() {
    let lever = lever().await;
    let create = |event: &'static str| {
        lever
            .api_key(lever.http.post(format!("{}/v1/webhooks", lever.base)))
            .json(&json!({ "event": event, "url": "https://connector.example/api" }))
            .send()
    };
    for event in ["applicationCreated", "candidateStageChange"] {
        assert_eq!(create(event).await.unwrap().status(), StatusCode::CREATED);
    }
    lever.sim.subscribe(
        "applicationCreated",
        "https://connector.example/settings".into(),
        "settings-token".into(),
    );

    let webhooks = lever.sim.webhooks();
    let summary: Vec<(&str, &str)> = webhooks
        .iter()
        .map(|w| (w.event.as_str(), w.url.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("candidateStageChange", "https://connector.example/api"),
            ("applicationCreated", "https://connector.example/settings"),
        ]
    );
    assert_eq!(webhooks[1].signature_token, "settings-token");
}

#[tokio::test]
async fn a_webhook_keeps_its_origin_conditions() {
    let lever = lever().await;
    let body = json!({
        "event": "candidateStageChange",
        "url": "https://connector.example/hook",
        "configuration": { "conditions": { "origins": ["applied", "referred"] } },
    });
    let response = lever
        .api_key(lever.http.post(format!("{}/v1/webhooks", lever.base)))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let configuration = &created["data"]["configuration"];
    assert_eq!(
        configuration["conditions"],
        json!({ "origins": ["applied", "referred"] })
    );
    assert!(configuration["signatureToken"].is_string());
    assert_eq!(lever.sim.webhooks()[0].origins, ["applied", "referred"]);
}

#[tokio::test]
async fn webhooks_are_listed_page_by_page() {
    let lever = lever().await;
    for event in [
        "applicationCreated",
        "candidateStageChange",
        "candidateHired",
    ] {
        lever.sim.subscribe(
            event,
            "https://connector.example/hook".into(),
            "token".into(),
        );
    }
    let lever = &lever;
    let list = |query: &'static str| async move {
        let response = lever
            .api_key(lever.http.get(format!("{}/v1/webhooks{query}", lever.base)))
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    let (status, page) = list("?limit=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert_eq!(page["hasNext"], true);
    assert_eq!(page["next"], "2");
    let (_, page) = list("?limit=2&offset=2").await;
    assert_eq!(page["data"][0]["event"], "candidateHired");
    assert_eq!(page["hasNext"], false);
    assert_eq!(list("?limit=0").await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_admin_removing_a_webhook_stops_its_deliveries() {
    let lever = lever().await;
    lever.sim.subscribe(
        "applicationCreated",
        "https://connector.example/hook".into(),
        "token".into(),
    );
    lever.sim.subscribe(
        "candidateStageChange",
        "https://connector.example/hook".into(),
        "token".into(),
    );
    assert!(lever.sim.remove_webhook("applicationCreated"));
    assert!(!lever.sim.remove_webhook("applicationCreated"));
    let events: Vec<String> = lever.sim.webhooks().into_iter().map(|w| w.event).collect();
    assert_eq!(events, ["candidateStageChange"]);
    assert!(matches!(
        lever.sim.application_created("opp-1").await,
        Err(SimError::NotSubscribed(_))
    ));
}
