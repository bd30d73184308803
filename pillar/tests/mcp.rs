//! The MCP bridge (feature `mcp`) over Streamable HTTP, as a client sees it: raw JSON-RPC
//! over HTTP against `serve_on` with MCP on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pillar::mcp::{Content, Contents};
use pillar::{Confirmation, McpSettings, Pillar, PillarBuilder, Reply, State, ToolContext};
use serde::Serialize;
use serde_json::{json, Value};

const TOKEN: &str = "test-token-0123456789";

/// Greets someone.
#[pillar::tool]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

#[derive(Serialize, pillar::JsonSchema)]
struct Order {
    id: u32,
    status: String,
}

/// Looks an order up.
#[pillar::tool(output_schema, guidance = "Use for order questions.")]
async fn order(id: u32) -> Order {
    Order {
        id,
        status: "shipped".to_owned(),
    }
}

/// Always fails.
#[pillar::tool]
async fn locked() -> Result<String, String> {
    Err("the order is locked".to_owned())
}

/// Sleeps past its timeout.
#[pillar::tool(timeout_ms = 100)]
async fn sleepy() -> String {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "woke".to_owned()
}

/// Panics.
#[pillar::tool]
async fn boom() -> String {
    panic!("kaboom")
}

struct Counter(AtomicUsize);

/// Counts its calls.
#[pillar::tool]
async fn count(counter: State<Counter>) -> usize {
    counter.0.fetch_add(1, Ordering::SeqCst) + 1
}

/// Only for the web panel.
#[pillar::tool(channels = ["web"])]
async fn web_only() -> String {
    "web".to_owned()
}

/// Only for MCP clients.
#[pillar::tool(channels = ["mcp"])]
async fn mcp_only(ctx: &ToolContext) -> String {
    let user = ctx.caller().external_user_id.as_deref().unwrap_or("-");
    format!("{} {} {user}", ctx.caller().channel, ctx.mcp().is_some())
}

/// For Slack and MCP clients.
#[pillar::tool(channels = ["slack", "mcp"])]
async fn slack_and_mcp() -> String {
    "both".to_owned()
}

/// Holds its slot for a while.
#[pillar::tool(timeout_ms = 5000)]
async fn hold() -> String {
    tokio::time::sleep(Duration::from_millis(600)).await;
    "held".to_owned()
}

/// Two blocks.
#[pillar::tool]
async fn blocks() -> Contents {
    Contents::new()
        .with(Content::text("a chart:"))
        .with(Content::image(vec![1, 2, 3], "image/png"))
}

/// Asks the user with a schema MCP does not allow (`bad`: a nested object, or not an
/// object at all); the error is the answer.
#[pillar::tool]
async fn ask_badly(nested: bool, ctx: &ToolContext) -> Result<String, String> {
    let schema = if nested {
        json!({"type": "object", "properties": {"address": {"type": "object"}}})
    } else {
        json!("a string")
    };
    let mcp = ctx.mcp().ok_or("not over MCP")?;
    match mcp.elicit("Where?", schema).await {
        Err(err @ pillar::mcp::RequestError::Schema(_)) => Err(err.to_string()),
        other => Ok(format!("{other:?}")),
    }
}

/// The ids deleted, across the tests of this binary (they run at once).
static DELETED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn deleted(id: &str) -> usize {
    DELETED.lock().unwrap().iter().filter(|d| *d == id).count()
}

#[derive(Serialize)]
struct Deleted {
    id: String,
}

/// Deletes an item, once the user confirms.
#[pillar::tool]
async fn delete_item(id: String, ctx: &ToolContext) -> Result<Reply<Deleted>, String> {
    if !ctx.confirmed() {
        return Ok(Confirmation::new()
            .title("Delete item")
            .message(format!("Delete {id}?"))
            .detail("Item", &id)
            .into());
    }
    DELETED.lock().unwrap().push(id.clone());
    Ok(Reply::Done(Deleted { id }))
}

fn bounded() -> pillar::Tool {
    pillar::Tool::builder("bounded")
        .description("Takes a small number")
        .input_schema(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {"small": {"type": "integer", "maximum": 10}},
            "properties": {"n": {"$ref": "#/$defs/small"}},
            "required": ["n"],
            "additionalProperties": false
        }))
        .handler(|args: Value, _ctx| async move { Ok::<_, String>(args["n"].clone()) })
        .build()
        .unwrap()
}

/// A `Tool::builder` tool answering content blocks.
fn built_blocks() -> pillar::Tool {
    pillar::Tool::builder("built_blocks")
        .description("Answers a text and an audio block")
        .handler(|_args: Value, _ctx| async move {
            Ok::<_, String>(Contents::from(vec![
                Content::text("listen:"),
                Content::audio(vec![4, 5, 6], "audio/wav"),
            ]))
        })
        .build()
        .unwrap()
}

fn builder() -> PillarBuilder {
    Pillar::builder()
        .secret("plr_test_secret")
        .auto_register(false)
        .addr(([127, 0, 0, 1], 0).into())
        .state(Counter(AtomicUsize::new(0)))
        .tool(bounded())
        .tool(built_blocks())
        .mcp(
            McpSettings::new()
                .token(TOKEN)
                .confirm_timeout(Duration::from_secs(5)),
        )
}

struct Server {
    url: String,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), pillar::Error>>,
}

async fn start(builder: PillarBuilder) -> Server {
    let pillar = builder.build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(pillar.serve_on(listener, async move {
        let _ = stopped.await;
    }));
    Server {
        url,
        http: reqwest::Client::new(),
        stop: Some(stop),
        task,
    }
}

impl Server {
    fn post(&self, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .bearer_auth(TOKEN)
            .body(body.to_string())
    }

    /// Opens a 2025-11-25 session whose client declares `capabilities`: its id.
    async fn session(&self, capabilities: Value) -> String {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": capabilities,
            "clientInfo": {"name": "test", "version": "1"}}});
        let response = self.post(&init).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let id = response.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let _ = response.text().await;
        let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let response = self
            .post(&done)
            .header("mcp-session-id", &id)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        id
    }

    /// A request on a session; the messages of its answer stream, the last one its answer.
    /// `answer` replies to each request the server sends the client meanwhile.
    async fn request(
        &self,
        session: &str,
        id: u64,
        method: &str,
        params: Value,
        answer: impl Fn(&Value) -> Value,
    ) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut response = self
            .post(&body)
            .header("mcp-session-id", session)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut buffer = String::new();
        loop {
            let Some(chunk) = response.chunk().await.unwrap() else {
                panic!("the stream ended without the answer: {buffer}");
            };
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                for line in event.lines() {
                    let Some(data) = line.strip_prefix("data:") else {
                        continue;
                    };
                    let Ok(message) = serde_json::from_str::<Value>(data.trim()) else {
                        continue;
                    };
                    if message["id"] == json!(id) && message.get("method").is_none() {
                        return message;
                    }
                    if message.get("method").is_some() && message.get("id").is_some() {
                        let reply = json!({"jsonrpc": "2.0", "id": message["id"], "result": answer(&message)});
                        let sent = self
                            .post(&reply)
                            .header("mcp-session-id", session)
                            .send()
                            .await
                            .unwrap();
                        assert!(sent.status().is_success(), "{}", sent.status());
                    }
                }
            }
        }
    }

    /// A stateless 2026-07-28 request (no session).
    async fn modern(&self, method: &str, name: &str, mut params: Value) -> Value {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}
        });
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        last_message(&self.modern_sse(method, name, &body).await)
    }

    /// A stateless 2026-07-28 request of `method` on `name`, `body` as given: the answer's
    /// stream, read whole.
    async fn modern_sse(&self, method: &str, name: &str, body: &Value) -> String {
        self.post(body)
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method)
            .header("mcp-name", name)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A `tools/call` with `params` on `session`, with `headers` added: the answer's
    /// stream, read whole (the server must not ask the client anything meanwhile).
    async fn call_sse(
        &self,
        session: &str,
        id: u64,
        params: Value,
        headers: &[(&str, &str)],
    ) -> String {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
        let mut request = self.post(&body).header("mcp-session-id", session);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap().text().await.unwrap()
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

fn last_message(sse: &str) -> Value {
    sse.lines()
        .rev()
        .filter_map(|l| l.strip_prefix("data:"))
        .find_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .unwrap_or_else(|| panic!("no message in {sse}"))
}

fn no_requests(message: &Value) -> Value {
    panic!("the server asked the client: {message}")
}

/// A `tools/call` on a session, with a request id of its own.
async fn call(server: &Server, session: &str, name: &str, arguments: Value) -> Value {
    static IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(100);
    server
        .request(
            session,
            IDS.fetch_add(1, Ordering::SeqCst),
            "tools/call",
            json!({"name": name, "arguments": arguments}),
            no_requests,
        )
        .await
}

fn text(result: &Value) -> String {
    result["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_are_listed_and_called_as_the_webhook_runs_them() {
    let pillar = builder().build().unwrap();
    let server = start(builder()).await;
    let session = server.session(json!({})).await;

    let listed = server
        .request(&session, 1, "tools/list", json!({}), no_requests)
        .await;
    let tools = listed["result"]["tools"].as_array().unwrap();
    let tool = |name: &str| tools.iter().find(|t| t["name"] == name).cloned();
    assert!(
        tool("web_only").is_none(),
        "a tool without mcp is not listed"
    );
    assert!(tool("mcp_only").is_some());
    let greet = tool("greet").unwrap();
    assert_eq!(greet["inputSchema"]["required"], json!(["name"]));
    assert!(greet.get("outputSchema").is_none());
    let order = tool("order").unwrap();
    assert_eq!(
        order["description"],
        "Looks an order up.\n\nUse for order questions."
    );
    assert_eq!(order["outputSchema"]["type"], "object");
    // A builder tool's schema as written.
    assert_eq!(
        tool("bounded").unwrap()["inputSchema"],
        bounded().info().input_schema
    );

    // A String: one text block, verbatim.
    let greeted = call(&server, &session, "greet", json!({"name": "Ada"})).await;
    assert_eq!(
        greeted["result"]["content"],
        json!([{"type": "text", "text": "Hello, Ada!"}])
    );
    assert_eq!(greeted["result"]["isError"], false);
    // An object: structuredContent and its JSON.
    let found = call(&server, &session, "order", json!({"id": 7})).await;
    assert_eq!(
        found["result"]["structuredContent"],
        json!({"id": 7, "status": "shipped"})
    );
    assert_eq!(
        serde_json::from_str::<Value>(&text(&found)).unwrap(),
        json!({"id": 7, "status": "shipped"})
    );
    // Content blocks as they are.
    let shown = call(&server, &session, "blocks", json!({})).await;
    assert_eq!(
        shown["result"]["content"][1],
        json!({"type": "image", "data": "AQID", "mimeType": "image/png"})
    );
    // And from a `Tool::builder` handler.
    let heard = call(&server, &session, "built_blocks", json!({})).await;
    assert_eq!(
        heard["result"]["content"],
        json!([{"type": "text", "text": "listen:"}, {"type": "audio", "data": "BAUG", "mimeType": "audio/wav"}])
    );

    // Errors: the webhook's words, as isError results.
    let failed = call(&server, &session, "locked", json!({})).await;
    assert_eq!(failed["result"]["isError"], true);
    assert_eq!(text(&failed), "the order is locked");
    let refused = call(&server, &session, "bounded", json!({"n": 11})).await;
    assert_eq!(refused["result"]["isError"], true);
    let webhook = pillar
        .run_tool("bounded", &json!({"n": 11}), ToolContext::builder().build())
        .await
        .unwrap_err();
    assert_eq!(text(&refused), webhook.message());
    assert!(text(&refused).contains("11"), "{}", text(&refused));
    let timed_out = call(&server, &session, "sleepy", json!({})).await;
    assert_eq!(text(&timed_out), "Tool 'sleepy' timed out after 100 ms");
    let panicked = call(&server, &session, "boom", json!({})).await;
    assert_eq!(panicked["result"]["isError"], true);
    assert!(
        text(&panicked).contains("internal error"),
        "{}",
        text(&panicked)
    );
    assert!(!text(&panicked).contains("kaboom"));

    // State<T>, and the context of an MCP call.
    assert_eq!(
        text(&call(&server, &session, "count", json!({})).await),
        "1"
    );
    assert_eq!(
        text(&call(&server, &session, "count", json!({})).await),
        "2"
    );
    assert_eq!(
        text(&call(&server, &session, "mcp_only", json!({})).await),
        "mcp true -"
    );

    // Not served over MCP, or unknown: a JSON-RPC error.
    for name in ["web_only", "nope"] {
        let answer = call(&server, &session, name, json!({})).await;
        assert_eq!(answer["error"]["code"], -32602, "{answer}");
    }
    server.stop().await;

    // An mcp-only tool is not registered with Pillar Cloud; a `*` tool is, without `mcp`.
    let payload = builder()
        .endpoint_url("https://example.com/pillar")
        .build()
        .unwrap()
        .registration_payload();
    let registered = payload["tools"].as_array().unwrap();
    assert!(registered.iter().all(|t| t["name"] != "mcp_only"));
    assert!(registered.iter().any(|t| t["name"] == "greet"));
    let both = registered
        .iter()
        .find(|t| t["name"] == "slack_and_mcp")
        .unwrap();
    assert_eq!(both["channel_compatibility"], json!(["slack"]));
    // Content over the webhook: the blocks' JSON array.
    let blocks = pillar::testing::call(&pillar, "blocks", json!({}))
        .await
        .unwrap();
    assert_eq!(
        blocks,
        json!([{"type": "text", "text": "a chart:"}, {"type": "image", "data": "AQID", "mimeType": "image/png"}])
    );
}

#[tokio::test]
async fn tokens_hosts_and_origins_are_checked() {
    let server = start(builder()).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let send = |token: Option<&str>, host: Option<&str>, origin: Option<&str>| {
        let mut request = server
            .http
            .post(&server.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(ping.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(host) = host {
            request = request.header("host", host);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_eq!(send(None, None, None).await.unwrap().status(), 401);
    assert_eq!(
        send(Some("wrong-token-0123456789"), None, None)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        send(Some(TOKEN), Some("evil.example.com"), None)
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        send(Some(TOKEN), None, Some("http://evil.example.com"))
            .await
            .unwrap()
            .status(),
        403
    );
    let ok = send(Some(TOKEN), Some("localhost:1"), Some("http://127.0.0.1:9"))
        .await
        .unwrap();
    assert_ne!(ok.status(), 401);
    assert_ne!(ok.status(), 403);
    server.stop().await;
}

#[test]
fn no_auth_is_refused_off_loopback() {
    let err = Pillar::builder()
        .secret("s")
        .addr(([0, 0, 0, 0], 8787).into())
        .mcp(McpSettings::new().without_auth())
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("PILLAR_MCP_AUTH") && err.contains("loopback"),
        "{err}"
    );
    let err = Pillar::builder()
        .secret("s")
        .mcp(McpSettings::new())
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("PILLAR_MCP_TOKEN"), "{err}");
    Pillar::builder()
        .secret("s")
        .addr(([127, 0, 0, 1], 8787).into())
        .registered_tools(false)
        .mcp(McpSettings::new().without_auth())
        .build()
        .unwrap();
}

#[test]
fn the_environment_sets_the_wait_and_caps_and_bad_numbers_are_refused() {
    let lookup = |extra: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            [
                ("PILLAR_SECRET", "plr_s"),
                ("PILLAR_ADDR", "127.0.0.1:0"),
                ("PILLAR_MCP", "1"),
                ("PILLAR_MCP_TOKEN", TOKEN),
            ]
            .iter()
            .chain(extra)
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
        }
    };
    let pillar = PillarBuilder::from_lookup(lookup(&[
        ("PILLAR_MCP_CONFIRM_TIMEOUT_SECS", "30"),
        ("PILLAR_MCP_MAX_SESSIONS", "3"),
        ("PILLAR_MCP_MAX_STREAMS", " 5 "),
    ]))
    .unwrap()
    .registered_tools(false)
    .build()
    .unwrap();
    let mcp = &pillar.settings().mcp;
    assert_eq!(mcp.confirm_timeout, Duration::from_secs(30));
    assert_eq!((mcp.max_sessions, mcp.max_streams), (Some(3), Some(5)));

    for (name, value) in [
        ("PILLAR_MCP_CONFIRM_TIMEOUT_SECS", "0"),
        ("PILLAR_MCP_MAX_SESSIONS", "-1"),
        ("PILLAR_MCP_MAX_STREAMS", "many"),
    ] {
        let extra: &'static [(&str, &str)] = Box::leak(Box::new([(name, value)]));
        let err = PillarBuilder::from_lookup(lookup(extra))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(name) && err.contains(&format!("`{value}` is not a whole number")),
            "{err}"
        );
    }

    // In code: zero, and caps that would leave the webhook no connection.
    let refused = |settings: McpSettings, name: &str, words: &str| {
        let err = Pillar::builder()
            .secret("s")
            .addr(([127, 0, 0, 1], 0).into())
            .registered_tools(false)
            .limits(pillar::ServerLimits::default().max_connections(64))
            .mcp(settings)
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains(name) && err.contains(words), "{err}");
    };
    let on = || McpSettings::new().token(TOKEN);
    refused(
        on().confirm_timeout(Duration::ZERO),
        "CONFIRM_TIMEOUT",
        "is zero",
    );
    refused(on().max_sessions(0), "MAX_SESSIONS", "is 0");
    refused(
        on().max_streams(64),
        "MAX_STREAMS",
        "below max_connections (64)",
    );
    refused(
        on().max_sessions(100),
        "MAX_SESSIONS",
        "below max_connections (64)",
    );

    // An adapter's service checks the token as serve() does: set, and 16 characters.
    let pillar = Pillar::builder()
        .secret("s")
        .registered_tools(false)
        .mcp(McpSettings::default().token("short"))
        .build()
        .unwrap();
    let err = pillar.mcp_service().unwrap_err().to_string();
    assert!(
        err.contains("PILLAR_MCP_TOKEN") && err.contains("shorter than 16"),
        "{err}"
    );
}

#[tokio::test]
async fn sessions_are_capped_bodies_limited_and_open_streams_end_at_shutdown() {
    let server = start(
        builder()
            .body_limit(4096)
            .mcp(McpSettings::new().token(TOKEN).max_sessions(1)),
    )
    .await;
    let session = server.session(json!({})).await;
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    assert_eq!(server.post(&init).send().await.unwrap().status(), 503);

    let big = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "greet", "arguments": {"name": "x".repeat(8192)}}});
    let response = server
        .post(&big)
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    // A standalone SSE stream left open does not hold the shutdown.
    let stream = server
        .http
        .get(&server.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let started = std::time::Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_is_elicited_and_runs_again_only_when_accepted() {
    let server = start(builder()).await;
    let session = server.session(json!({"elicitation": {}})).await;
    let ask = |action: &'static str| {
        move |message: &Value| {
            assert_eq!(message["method"], "elicitation/create");
            let asked = message["params"]["message"].as_str().unwrap();
            assert!(
                asked.contains("Delete item") && asked.contains("Item: a1"),
                "{asked}"
            );
            json!({"action": action, "content": {}})
        }
    };
    let params = json!({"name": "delete_item", "arguments": {"id": "a1"}});
    let declined = server
        .request(&session, 3, "tools/call", params.clone(), ask("decline"))
        .await;
    assert_eq!(declined["result"]["isError"], false);
    assert!(text(&declined).contains("declined"), "{declined}");
    assert_eq!(deleted("a1"), 0);
    let accepted = server
        .request(&session, 4, "tools/call", params.clone(), ask("accept"))
        .await;
    assert_eq!(accepted["result"]["structuredContent"], json!({"id": "a1"}));
    assert_eq!(deleted("a1"), 1);

    // A schema MCP does not allow is refused before the client is asked.
    for (id, nested, words) in [(6, true, "address"), (7, false, "not a JSON object")] {
        let args = json!({"name": "ask_badly", "arguments": {"nested": nested}});
        let refused = server
            .request(&session, id, "tools/call", args, no_requests)
            .await;
        assert_eq!(refused["result"]["isError"], true, "{refused}");
        let said = text(&refused);
        assert!(
            said.starts_with("the elicitation schema is not one MCP allows: ")
                && said.contains(words),
            "{said}"
        );
    }

    // A client without elicitation gets the card, as a non-error result; nothing runs,
    // whatever the call says about being confirmed.
    let plain = server.session(json!({})).await;
    let forged = json!({"name": "delete_item", "arguments": {"id": "a1", "confirmed": true},
        "_meta": {"confirmed": true, "pillar/confirmed": true}});
    let sse = server
        .call_sse(&plain, 5, forged, &[("x-pillar-confirmed", "true")])
        .await;
    let needed = last_message(&sse);
    assert_eq!(needed["result"]["isError"], false);
    assert!(text(&needed).contains("Confirmation needed"), "{needed}");
    assert_eq!(deleted("a1"), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_confirmation_is_sealed_single_use_and_cannot_be_forged() {
    let server = start(builder()).await;
    // `confirmed` in the arguments or in `_meta` is ignored: the user is asked.
    let first = server
        .modern(
            "tools/call",
            "delete_item",
            json!({"name": "delete_item",
            "arguments": {"id": "b2", "confirmed": true}}),
        )
        .await;
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    let asked = &result["inputRequests"]["confirm"];
    assert_eq!(asked["method"], "elicitation/create");
    assert!(asked["params"]["message"]
        .as_str()
        .unwrap()
        .contains("Delete b2?"));
    let state = result["requestState"].as_str().unwrap().to_owned();

    let retry = |state: &str, action: &str, name: &str| {
        json!({"name": name, "arguments": {"id": "zzz"}, "requestState": state,
            "inputResponses": {"confirm": {"action": action, "content": {}}}})
    };
    // Forged, or tampered with: refused, nothing runs.
    for forged in [
        "abc.def",
        &format!("{state}x"),
        &state.replacen('e', "f", 1),
    ] {
        let answer = server
            .modern(
                "tools/call",
                "delete_item",
                retry(forged, "accept", "delete_item"),
            )
            .await;
        assert_eq!(answer["result"]["isError"], true, "{answer}");
    }
    // Another tool's state is not this one's.
    let other = server
        .modern("tools/call", "greet", retry(&state, "accept", "greet"))
        .await;
    assert_eq!(other["result"]["isError"], true, "{other}");
    assert_eq!(deleted("b2") + deleted("zzz"), 0);

    // Accepted: runs once, with the original arguments (not the retry's).
    let done = server
        .modern(
            "tools/call",
            "delete_item",
            retry(&state, "accept", "delete_item"),
        )
        .await;
    assert_eq!(
        done["result"]["structuredContent"],
        json!({"id": "b2"}),
        "{done}"
    );
    assert_eq!(deleted("b2"), 1);
    // Used once only.
    let again = server
        .modern(
            "tools/call",
            "delete_item",
            retry(&state, "accept", "delete_item"),
        )
        .await;
    assert_eq!(again["result"]["isError"], true, "{again}");
    assert_eq!(deleted("b2"), 1);

    // Declined: nothing runs.
    let second = server
        .modern(
            "tools/call",
            "delete_item",
            json!({"name": "delete_item", "arguments": {"id": "c3"}}),
        )
        .await;
    let state = second["result"]["requestState"]
        .as_str()
        .unwrap()
        .to_owned();
    let declined = server
        .modern(
            "tools/call",
            "delete_item",
            retry(&state, "decline", "delete_item"),
        )
        .await;
    assert_eq!(declined["result"]["isError"], false);
    assert!(text(&declined).contains("declined"));
    assert_eq!(deleted("c3") + deleted("zzz"), 0);
    server.stop().await;
}

#[tokio::test]
async fn skills_are_prompts_with_their_placeholders_as_arguments() {
    let server = start(builder().skill(pillar::Skill::new(
        "greeting",
        "How to greet",
        "Say hello to {who} in {lang}; {who} first. Keep {not an argument}.",
    )))
    .await;
    let session = server.session(json!({})).await;
    let listed = server
        .request(&session, 1, "prompts/list", json!({}), no_requests)
        .await;
    let prompt = listed["result"]["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "greeting")
        .cloned()
        .unwrap();
    assert_eq!(prompt["description"], "How to greet");
    let names: Vec<&str> = prompt["arguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["who", "lang"]);
    let got = server
        .request(
            &session,
            2,
            "prompts/get",
            json!({"name": "greeting",
            "arguments": {"who": "{lang}", "lang": "French"}}),
            no_requests,
        )
        .await;
    assert_eq!(
        got["result"]["messages"][0]["content"]["text"],
        "Say hello to {lang} in French; {lang} first. Keep {not an argument}."
    );
    let missing = server
        .request(
            &session,
            3,
            "prompts/get",
            json!({"name": "greeting", "arguments": {"who": "x"}}),
            no_requests,
        )
        .await;
    assert_eq!(missing["error"]["code"], -32602);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_take_slots_and_the_hook_names_the_caller() {
    let server = start(builder().max_in_flight(1).mcp_caller(|parts| {
        let user = parts.headers.get("x-user")?.to_str().ok()?;
        let mut caller = pillar::CallerInfo::default();
        caller.external_user_id = Some(user.to_owned());
        Some(caller)
    }))
    .await;
    let session = server.session(json!({})).await;
    let second = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        call(&server, &session, "greet", json!({"name": "Bo"})).await
    };
    let (first, second) = tokio::join!(call(&server, &session, "hold", json!({})), second);
    assert_eq!(text(&first), "held");
    assert_eq!(second["result"]["isError"], true, "{second}");
    assert_eq!(
        text(&second),
        "Server busy: too many calls in flight; retry shortly"
    );

    let params = json!({"name": "mcp_only", "arguments": {}});
    let sse = server
        .call_sse(&session, 9, params, &[("x-user", "u_42")])
        .await;
    assert_eq!(text(&last_message(&sse)), "mcp true u_42");
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_trickles_is_refused_as_the_webhook_refuses_it() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(
        builder().limits(pillar::ServerLimits::default().body_timeout(Duration::from_millis(300))),
    )
    .await;
    let addr = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
         Content-Length: 100\r\n\r\n{{\"jsonrpc\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 256];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered before the client finished its body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    server.stop().await;
}

/// Logs at two levels and reports progress.
#[pillar::tool]
async fn chatty(ctx: &ToolContext) -> String {
    if let Some(mcp) = ctx.mcp() {
        mcp.log(pillar::mcp::LogLevel::Info, "an info line").await;
        mcp.log(pillar::mcp::LogLevel::Error, "an error line").await;
        mcp.progress(1.0, Some(2.0), Some("half")).await;
    }
    "done".to_owned()
}

/// The notifications of a call's answer stream.
fn notifications(sse: &str, method: &str) -> Vec<Value> {
    sse.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .filter(|m| m["method"] == method)
        .collect()
}

/// The messages that arrive on an open SSE stream within `wait` of each other.
async fn drain(stream: &mut reqwest::Response, wait: Duration) -> Vec<Value> {
    let mut text = String::new();
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(wait, stream.chunk()).await {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_the_level_asked_and_progress_its_token() {
    let server = start(builder()).await;
    let session = server.session(json!({})).await;
    // On a session, rmcp sends log messages on the standalone SSE stream (GET), and
    // progress on the call's own stream.
    let mut events = server
        .http
        .get(&server.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let send = |id: u64, params: Value| server.call_sse(&session, id, params, &[]);
    let logs = |messages: &[Value]| -> Vec<Value> {
        messages
            .iter()
            .filter(|m| m["method"] == "notifications/message")
            .map(|m| m["params"].clone())
            .collect()
    };
    // Before any logging/setLevel: every level; no progress token, no progress.
    let sse = send(1, json!({"name": "chatty", "arguments": {}})).await;
    assert!(
        notifications(&sse, "notifications/progress").is_empty(),
        "{sse}"
    );
    let logged = logs(&drain(&mut events, Duration::from_millis(500)).await);
    assert_eq!(logged.len(), 2, "{logged:?}");

    let level = server
        .request(
            &session,
            2,
            "logging/setLevel",
            json!({"level": "error"}),
            no_requests,
        )
        .await;
    assert_eq!(level["result"], json!({}));
    let sse = send(
        3,
        json!({"name": "chatty", "arguments": {}, "_meta": {"progressToken": "p1"}}),
    )
    .await;
    let logged = logs(&drain(&mut events, Duration::from_millis(500)).await);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["data"], "an error line");
    assert_eq!(logged[0]["level"], "error");
    let progress = notifications(&sse, "notifications/progress");
    assert_eq!(progress.len(), 1, "{sse}");
    assert_eq!(
        progress[0]["params"],
        json!({"progressToken": "p1", "progress": 1.0, "total": 2.0, "message": "half"})
    );
    drop(events);

    // 2026-07-28: no log without the request's own level; with it, that level and up.
    let quiet = server
        .modern(
            "tools/call",
            "chatty",
            json!({"name": "chatty", "arguments": {}}),
        )
        .await;
    assert_eq!(quiet["result"]["content"][0]["text"], "done");
    let body = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
        "name": "chatty", "arguments": {}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/logLevel": "info"}}});
    let sse = server.modern_sse("tools/call", "chatty", &body).await;
    assert_eq!(
        notifications(&sse, "notifications/message").len(),
        2,
        "{sse}"
    );
    let body = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
        "name": "chatty", "arguments": {}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}}});
    let sse = server.modern_sse("tools/call", "chatty", &body).await;
    assert!(
        notifications(&sse, "notifications/message").is_empty(),
        "{sse}"
    );
    server.stop().await;
}
