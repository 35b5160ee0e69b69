//! What every simulator test uses: serving a router on a free loopback port, and a receiver
//! that keeps the webhooks and callbacks it is sent.

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// Serves `router` on a free loopback port; answers its base URL (`http://127.0.0.1:N`).
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A webhook or callback receiver that answers 200 and keeps what it got.
#[derive(Clone, Default)]
pub struct Receiver(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

impl Receiver {
    /// A receiver served on a free port, and its URL (`…/hook`).
    pub async fn start() -> (Self, String) {
        let receiver = Receiver::default();
        let hits = receiver.0.clone();
        let router = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| async move {
                hits.lock().unwrap().push((headers, body));
                "ok"
            }),
        );
        let url = format!("{}/hook", serve(router).await);
        (receiver, url)
    }

    /// Every request received, in order: its headers and body.
    pub fn hits(&self) -> Vec<(HeaderMap, Bytes)> {
        self.0.lock().unwrap().clone()
    }

    /// Every body received, in order, as JSON.
    pub fn bodies(&self) -> Vec<Value> {
        self.hits()
            .iter()
            .map(|(_, body)| serde_json::from_slice(body).unwrap())
            .collect()
    }
}
