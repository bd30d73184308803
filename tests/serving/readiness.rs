//! Readiness over HTTP: `GET /readyz` of `serve_on` and the axum route of
//! `pillar::adapters::axum::readyz`, while the mock Cloud fails and after it recovers,
//! with auto-registration off or no endpoint URL, and with a call store that cannot be
//! reached (a `RedisStore` on a closed port). `tests/redis/redis_tls.rs` checks a store
//! that answers and then stops.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use pillar::idempotency::RedisStore;
use pillar::testing::{self, MockCloud, Mode};
use pillar::{PillarBuilder, Tool};
use pillar_integration_tests::Server;
use serde_json::{json, Value};

const ENDPOINT: &str = "https://api.myapp.com/pillar";

fn echo() -> Tool {
    Tool::builder("echo")
        .description("Echo the arguments")
        .handler(|args: Value, _ctx| async move { Ok::<_, String>(args) })
        .build()
        .unwrap()
}

fn builder(cloud: &MockCloud) -> PillarBuilder {
    testing::pillar()
        .registered_tools(false)
        .tool(echo())
        .endpoint_url(ENDPOINT)
        .api_url(cloud.url())
        .request_timeout(Duration::from_secs(5))
        .registration_backoff(Duration::from_millis(20), Duration::from_millis(200))
}

/// `GET url`: the status and the JSON body.
async fn get(url: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "GET {url}"
    );
    let body = response.text().await.unwrap();
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    (status, json)
}

/// `GET url` until it answers 200; panics after 10 s (a bound for a stuck
/// registration, never a measure of speed).
async fn ready(url: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(url).await;
        if status == 200 {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} {body} after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn serve_is_not_ready_while_the_cloud_fails_and_ready_once_registered() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.set_mode(Mode::Status(503));
    let server = Server::start(builder(&cloud).build().unwrap()).await;

    // Two failed attempts: the first failure is reported by then.
    let failed = cloud
        .wait_for_registrations(2, Duration::from_secs(10))
        .await;
    assert!(failed.len() >= 2, "{} attempts", failed.len());
    let (status, body) = get(&server.url("/readyz")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready", "{body}");
    assert_eq!(body["store"], "ok", "{body}");
    let registration = body["registration"].as_str().unwrap();
    assert!(
        registration.starts_with("retrying: Pillar Cloud failed (HTTP 503)"),
        "{body}"
    );
    // Alive all along, and answering calls.
    let (status, health) = get(&server.url("/healthz")).await;
    assert_eq!((status, health), (200, json!({"status": "ok"})));
    let (status, answer) = server
        .webhook()
        .call_tool("echo", json!({"x": 1}))
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");

    cloud.set_mode(Mode::Ok);
    let body = ready(&server.url("/readyz")).await;
    assert_eq!(
        body,
        json!({"status": "ready", "registration": "registered", "store": "ok"})
    );
    assert!(cloud
        .wait_for_registration(Duration::from_secs(1))
        .await
        .is_some());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn with_auto_register_off_registration_is_not_required() {
    let cloud = MockCloud::start().await.unwrap();
    let server = Server::start(builder(&cloud).auto_register(false).build().unwrap()).await;
    let (status, body) = get(&server.url("/readyz")).await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"status": "ready", "registration": "not_required", "store": "ok"})
        )
    );
    assert!(cloud.requests().is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_endpoint_url_serve_is_never_ready() {
    let cloud = MockCloud::start().await.unwrap();
    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(echo())
        .api_url(cloud.url())
        .build()
        .unwrap();
    let server = Server::start(pillar).await;
    let (status, body) = get(&server.url("/readyz")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["store"], "ok");
    let registration = body["registration"].as_str().unwrap();
    assert!(
        registration.starts_with("not_configured: ")
            && registration.contains("PILLAR_ENDPOINT_URL"),
        "{body}"
    );
    assert!(cloud.requests().is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_call_store_is_not_ready() {
    let cloud = MockCloud::start().await.unwrap();
    let port = closed_port();
    let store = RedisStore::open(&format!("redis://:hunter2@127.0.0.1:{port}/")).unwrap();
    let pillar = builder(&cloud)
        .auto_register(false)
        .call_store(store)
        .build()
        .unwrap();
    let server = Server::start(pillar).await;
    let (status, body) = get(&server.url("/readyz")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["registration"], "not_required");
    let store = body["store"].as_str().unwrap();
    assert!(
        store.starts_with(&format!(
            "the call store is unavailable: Redis at redis://:***@127.0.0.1:{port}/"
        )),
        "{body}"
    );
    assert!(!store.contains("hunter2"), "{body}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_record_of_calls_off_is_not_used() {
    let pillar = testing::pillar()
        .registered_tools(false)
        .idempotency(false)
        .auto_register(false)
        .build()
        .unwrap();
    let readiness = pillar.readiness(None).await;
    assert!(readiness.is_ready());
    assert_eq!(readiness.store(), "not_used");
    assert_eq!(readiness.status(), 200);
}

#[tokio::test]
async fn a_mounted_app_answers_the_same_readiness() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.set_mode(Mode::Status(500));
    let pillar = builder(&cloud).build().unwrap();
    let registration = pillar.spawn_registration();
    let app: axum::Router = axum::Router::new()
        .route("/", axum::routing::get(|| async { "my app" }))
        .nest("/pillar", pillar.router())
        .route(
            "/ops/ready",
            pillar::adapters::axum::readyz(pillar.clone(), Some(registration.clone())),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ops/ready", listener.local_addr().unwrap());
    let served = tokio::spawn(async move { axum::serve(listener, app).await });

    cloud
        .wait_for_registrations(2, Duration::from_secs(10))
        .await;
    let (status, body) = get(&url).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["registration"]
            .as_str()
            .unwrap()
            .starts_with("retrying: Pillar Cloud failed (HTTP 500)"),
        "{body}"
    );
    // The same value, without HTTP.
    let readiness = pillar.readiness(Some(&registration)).await;
    assert!(!readiness.is_ready());
    assert_eq!(readiness.status(), 503);
    assert_eq!(readiness.store(), "ok");

    cloud.set_mode(Mode::Ok);
    let body = ready(&url).await;
    assert_eq!(
        body,
        json!({"status": "ready", "registration": "registered", "store": "ok"})
    );
    let readiness = pillar.readiness(Some(&registration)).await;
    assert!(readiness.is_ready());
    assert_eq!(readiness.to_json(), body);
    served.abort();
}
