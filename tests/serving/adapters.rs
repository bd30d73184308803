//! Each adapter (axum, tower over plain hyper, actix-web) over real HTTP on 127.0.0.1:
//! signed calls and confirmations answered, bad signatures refused, pings, and bodies over
//! the limit refused with 413, inside an app that has routes of its own.

// Test code: a failed unwrap is a failed test (helpers are not `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use pillar::protocol::signed_headers;
use pillar::testing::{self, tool_call_body, tool_confirm_body, TEST_SECRET};
use pillar::{Pillar, Tool, ToolContext};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const LIMIT: usize = 4096;

/// What an authentication middleware of the web app puts on the request.
#[derive(Clone)]
struct Tenant(&'static str);

/// The tenant the `whoami` tool saw at `url`, in a call of its own (a fresh call id: a
/// repeated one would get the first call's recorded answer).
async fn tenant_seen(url: &str) -> Value {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body = tool_call_body("whoami", &format!("tc_who_{n}"), json!({}));
    let (status, json) = signed(url, body).await;
    assert_eq!(
        (status, json["success"].clone()),
        (200, json!(true)),
        "{json}"
    );
    json["result"]["tenant"].clone()
}

fn pillar() -> Pillar {
    let echo = Tool::builder("echo")
        .description("Echo the arguments")
        .handler(|args: Value, ctx: ToolContext| async move {
            Ok::<_, String>(json!({ "echo": args, "confirmed": ctx.confirmed() }))
        })
        .build()
        .unwrap();
    let nap = Tool::builder("nap")
        .description("Sleep a little, on the runtime's timer")
        .handler(|_args: Value, _ctx| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, String>(json!({"rested": true}))
        })
        .build()
        .unwrap();
    let stuck = Tool::builder("stuck")
        .description("Never finishes in time")
        .timeout_ms(100)
        .handler(|_args: Value, _ctx| async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, String>(json!({}))
        })
        .build()
        .unwrap();
    let whoami = Tool::builder("whoami")
        .description("The tenant the web app's middleware put on the request")
        .handler(|_args: Value, ctx: ToolContext| async move {
            let tenant = ctx.extension::<Tenant>().map(|t| t.0);
            Ok::<_, String>(json!({ "tenant": tenant }))
        })
        .build()
        .unwrap();
    testing::pillar()
        .registered_tools(false)
        .auto_register(false)
        .body_limit(LIMIT)
        .tools([echo, nap, stuck, whoami])
        .build()
        .unwrap()
}

async fn post(url: &str, body: Vec<u8>, headers: &pillar::http::HeaderMap) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut request = client.post(url).body(body);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_bytes());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json",
        "{url}"
    );
    let bytes = response.bytes().await.unwrap();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

async fn signed(url: &str, body: Vec<u8>) -> (u16, Value) {
    let headers = signed_headers(TEST_SECRET, &body);
    post(url, body, &headers).await
}

/// What every adapter must answer at `url`.
async fn check_webhook(url: &str) {
    let (status, json) = signed(url, tool_call_body("echo", "tc_1", json!({"q": "hi"}))).await;
    assert_eq!(status, 200, "{url}");
    assert_eq!(
        json,
        json!({"call_id": "tc_1", "success": true, "result": {"echo": {"q": "hi"}, "confirmed": false}}),
        "{url}"
    );

    let body = tool_confirm_body("echo", "tc_2", json!({"id": 7}));
    let (status, json) = signed(url, body).await;
    assert_eq!(status, 200, "{url}");
    assert_eq!(
        json["result"],
        json!({"echo": {"id": 7}, "confirmed": true}),
        "{url}"
    );

    let body = tool_call_body("echo", "tc_3", json!({}));
    let headers = signed_headers("plr_wrong_secret", &body);
    let (status, json) = post(url, body.clone(), &headers).await;
    assert_eq!(
        (status, json),
        (401, json!({"success": false, "error": "Invalid signature"})),
        "{url}"
    );
    let (status, _) = post(url, body, &Default::default()).await;
    assert_eq!(status, 401, "{url}: unsigned");

    let (status, json) = post(url, br#"{"action":"ping"}"#.to_vec(), &Default::default()).await;
    assert_eq!((status, json), (200, json!({"status": "ok"})), "{url}");

    let big = tool_call_body("echo", "tc_4", json!({"pad": "x".repeat(LIMIT)}));
    let (status, json) = signed(url, big).await;
    assert_eq!(
        (status, json),
        (
            413,
            json!({"success": false, "error": format!("Request body is larger than {LIMIT} bytes")})
        ),
        "{url}"
    );

    // The tool's timer and timeout run on the server's runtime.
    let (status, json) = signed(url, tool_call_body("nap", "tc_5", json!({}))).await;
    assert_eq!(
        (status, json["result"].clone()),
        (200, json!({"rested": true})),
        "{url}"
    );
    let (status, json) = signed(url, tool_call_body("stuck", "tc_6", json!({}))).await;
    assert_eq!(status, 200, "{url}");
    assert_eq!(json["success"], false, "{url}");
    assert_eq!(
        json["error"], "Tool 'stuck' timed out after 100 ms",
        "{url}"
    );
}

async fn get_text(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn axum_router_nested_in_an_app() {
    use axum::routing::get;

    let pillar = pillar();
    let app = axum::Router::new()
        .route("/", get(|| async { "my app" }))
        .nest("/pillar", pillar.router())
        .nest("/also", pillar::adapters::axum::router(pillar.clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    check_webhook(&format!("http://{addr}/pillar")).await;
    check_webhook(&format!("http://{addr}/also")).await;
    assert_eq!(
        get_text(&format!("http://{addr}/")).await,
        (200, "my app".to_owned())
    );
}

#[tokio::test]
async fn axum_router_in_an_app_with_state() {
    use axum::extract::State;
    use axum::routing::get;

    #[derive(Clone)]
    struct AppState {
        name: &'static str,
    }

    let app = axum::Router::new()
        .route(
            "/name",
            get(|State(s): State<AppState>| async move { s.name }),
        )
        .nest("/pillar", pillar().router())
        .with_state(AppState { name: "acme" });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (status, json) = signed(
        &format!("http://{addr}/pillar"),
        tool_call_body("echo", "tc_s", json!({})),
    )
    .await;
    assert_eq!((status, json["success"].clone()), (200, json!(true)));
    assert_eq!(
        get_text(&format!("http://{addr}/name")).await,
        (200, "acme".to_owned())
    );
}

/// Serves a tower service with plain hyper (HTTP/1.1 and HTTP/2) on a free loopback port.
async fn serve_on_hyper<S, B>(service: S) -> SocketAddr
where
    S: tower::Service<
            pillar::http::Request<hyper::body::Incoming>,
            Response = pillar::http::Response<B>,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn tower_service_on_plain_hyper() {
    let service = pillar().service();
    let addr = serve_on_hyper(service).await;

    check_webhook(&format!("http://{addr}/")).await;
    check_webhook(&format!("http://{addr}/any/path")).await;
}

/// Starts an actix-web app on its own thread and actix runtime (as `#[actix_web::main]`
/// would), with the webhook mounted both ways.
fn start_actix(pillar: Pillar) -> SocketAddr {
    use actix_web::{web, App, HttpServer};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                App::new()
                    .route("/", web::get().to(|| async { "my app" }))
                    .service(pillar::adapters::actix::scope("/pillar", pillar.clone()))
                    .service(
                        web::scope("/configured")
                            .configure(pillar::adapters::actix::configure(pillar.clone())),
                    )
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run()
            .await
        })
    });
    addr
}

#[tokio::test]
async fn actix_scope_and_configure() {
    let addr = start_actix(pillar());

    check_webhook(&format!("http://{addr}/pillar")).await;
    check_webhook(&format!("http://{addr}/pillar/")).await;
    check_webhook(&format!("http://{addr}/configured")).await;
    assert_eq!(
        get_text(&format!("http://{addr}/")).await,
        (200, "my app".to_owned())
    );
}

#[tokio::test]
async fn actix_refuses_a_huge_announced_length_before_reading() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let addr = start_actix(pillar());
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST /pillar HTTP/1.1\r\nhost: localhost\r\ncontent-length: 10737418240\r\n\r\n{",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&answer).contains("bytes\"}") {
        let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf))
            .await
            .expect("answered without waiting for the body")
            .unwrap();
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn axum_middleware_values_reach_the_tools() {
    use axum::extract::Request;
    use axum::middleware::{from_fn, Next};

    let app = axum::Router::new()
        .nest("/pillar", pillar().router())
        .layer(from_fn(|mut request: Request, next: Next| async move {
            request.extensions_mut().insert(Tenant("acme"));
            next.run(request).await
        }))
        .nest("/bare", pillar().router());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    assert_eq!(tenant_seen(&format!("http://{addr}/pillar")).await, "acme");
    // A route the middleware does not wrap: nothing on the request.
    assert_eq!(
        tenant_seen(&format!("http://{addr}/bare")).await,
        Value::Null
    );
}

#[tokio::test]
async fn tower_middleware_values_reach_the_tools() {
    use tower::ServiceExt;

    let inner = pillar().service();
    let service = tower::service_fn(
        move |mut request: pillar::http::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(Tenant("globex"));
            inner.clone().oneshot(request)
        },
    );
    let addr = serve_on_hyper(service).await;

    assert_eq!(tenant_seen(&format!("http://{addr}/")).await, "globex");
}

#[tokio::test]
async fn actix_middleware_values_reach_the_tools_they_are_carried_to() {
    use actix_web::dev::Service;
    use actix_web::{App, HttpMessage, HttpServer};
    use pillar::adapters::actix::Webhook;

    let pillar = pillar();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                App::new()
                    .wrap_fn(|request, service| {
                        request.extensions_mut().insert(Tenant("initech"));
                        service.call(request)
                    })
                    .service(
                        Webhook::new(pillar.clone())
                            .carry::<Tenant>()
                            .scope("/pillar"),
                    )
                    .service(Webhook::new(pillar.clone()).scope("/uncarried"))
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run()
            .await
        })
    });

    assert_eq!(
        tenant_seen(&format!("http://{addr}/pillar")).await,
        "initech"
    );
    // Not named with `carry`: not passed on.
    assert_eq!(
        tenant_seen(&format!("http://{addr}/uncarried")).await,
        Value::Null
    );
}
