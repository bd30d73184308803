//! `pillar dev` as a process, against real servers with the SDK's own tools on
//! `127.0.0.1:0`: the registration endpoint, the console's signed calls and history, and
//! the checks that keep other web pages and hostile clients out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use crate::support::Server;

/// A running `pillar dev --port 0`, killed when dropped.
struct Dev {
    _child: Child,
    /// `http://127.0.0.1:<port>`.
    base: String,
    token: String,
    secret: String,
    /// Everything it printed so far.
    lines: Arc<Mutex<Vec<String>>>,
    printed: Arc<Notify>,
    http: reqwest::Client,
}

impl Dev {
    async fn start() -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pillar"));
        command
            .args([
                "dev",
                "--port",
                "0",
                "--endpoint-url",
                "http://127.0.0.1:9/",
            ])
            .env_remove("PILLAR_SECRET")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let printed = Arc::new(Notify::new());
        let (sink, notify) = (Arc::clone(&lines), Arc::clone(&printed));
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                sink.lock().unwrap().push(line);
                notify.notify_waiters();
            }
        });
        let mut dev = Self {
            _child: child,
            base: String::new(),
            token: String::new(),
            secret: String::new(),
            lines,
            printed,
            http: reqwest::Client::new(),
        };
        let console = dev.wait_for_line("Console: ").await;
        let url = console.strip_prefix("Console: ").unwrap();
        let (base, token) = url.split_once("/#token=").unwrap();
        dev.base = base.to_owned();
        dev.token = token.to_owned();
        let api = dev.wait_for_line("  export PILLAR_API_URL=").await;
        assert_eq!(api, format!("  export PILLAR_API_URL={base}"));
        let endpoint = dev.wait_for_line("  export PILLAR_ENDPOINT_URL=").await;
        assert_eq!(endpoint, "  export PILLAR_ENDPOINT_URL=http://127.0.0.1:9/");
        // The server's address, on the endpoint URL's port: the two cannot disagree.
        let listen = dev.wait_for_line("  export PILLAR_ADDR=").await;
        assert_eq!(listen, "  export PILLAR_ADDR=127.0.0.1:9");
        let secret = dev.wait_for_line("  export PILLAR_SECRET=").await;
        dev.secret = secret.rsplit('=').next().unwrap().to_owned();
        assert!(
            dev.secret.starts_with("plr_dev_") && dev.secret.len() == 8 + 32,
            "{secret}"
        );
        assert_eq!(dev.token.len(), 64);
        dev
    }

    /// The first printed line that starts with `prefix`, waiting up to 10 s for it.
    async fn wait_for_line(&self, prefix: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.printed.notified();
            if let Some(line) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                return line.clone();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "`pillar dev` printed no line starting {prefix:?}; it printed:\n{}",
                    self.lines.lock().unwrap().join("\n")
                );
            }
        }
    }

    /// A server with the SDK's tools that registered with this `pillar dev`.
    async fn server(&self) -> Server {
        let (api, secret) = (self.base.clone(), self.secret.clone());
        Server::start_with(true, move |builder, url| {
            builder.secret(secret).api_url(api).endpoint_url(url)
        })
        .await
    }

    fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/console/api/{path}", self.base))
            .header("x-pillar-console-token", &self.token)
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
    }

    async fn get(&self, path: &str) -> Value {
        let answer = self.api(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        answer.json().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let answer = self
            .api(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap();
        (answer.status(), answer.json().await.unwrap())
    }

    async fn register(&self, bearer: Option<&str>, body: &str) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(format!("{}/api/tools/register/", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let answer = request.send().await.unwrap();
        (answer.status(), answer.json().await.unwrap())
    }
}

fn tool_names(endpoint: &Value) -> Vec<&str> {
    endpoint["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn registrations_are_checked_and_the_latest_of_each_server_is_kept() {
    let dev = Dev::start().await;
    let valid = json!({
        "endpoint_url": "http://127.0.0.1:9/hand", "sdk_version": "by-hand/1",
        "tools": [{"name": "bare", "description": "", "inputSchema": {"type": "object",
            "properties": {"id": {"type": "string"}, "plan": {"$ref": "#/$defs/Plan"}},
            "$defs": {"Plan": {"enum": ["a"]}}},
            "timeout_ms": 1000, "channel_compatibility": ["web"], "tool_type": "server_side"}]
    });

    // The bearer secret is this run's, or 401.
    let (status, answer) = dev.register(None, &valid.to_string()).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["error"], "unauthorized");
    let (status, _) = dev.register(Some("plr_other"), &valid.to_string()).await;
    assert_eq!(status, 401);

    // What Pillar Cloud would refuse is refused, every problem named.
    let (status, answer) = dev.register(Some(&dev.secret), "{not json").await;
    assert_eq!(
        (status, &answer["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_json"))
    );
    let mut invalid = valid.clone();
    invalid["tools"][0]["name"] = json!("9lives");
    invalid["tools"][0]["channel_compatibility"] = json!(["fax"]);
    let (status, answer) = dev.register(Some(&dev.secret), &invalid.to_string()).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "invalid_registration");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("\"9lives\" does not match"),
        "{answer}"
    );
    dev.wait_for_line(
        "refused a registration from http://127.0.0.1:9/hand: tools[0]: the name \"9lives\"",
    )
    .await;

    // Accepted, with what an agent would stumble on as warnings.
    let (status, answer) = dev.register(Some(&dev.secret), &valid.to_string()).await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"registered": ["bare"]}))
    );
    dev.wait_for_line("registered 1 tool from http://127.0.0.1:9/hand (by-hand/1)")
        .await;
    dev.wait_for_line("  warning: bare: the tool has no description")
        .await;

    // A server with the SDK registers itself; registering again replaces its tools.
    let server = dev.server().await;
    let line = format!("registered 4 tools from {}", server.url());
    dev.wait_for_line(&line).await;
    let again =
        json!({"endpoint_url": "http://127.0.0.1:9/hand", "sdk_version": "by-hand/2", "tools": []});
    let (status, _) = dev.register(Some(&dev.secret), &again.to_string()).await;
    assert_eq!(status, 200);

    let state = dev.get("state").await;
    let endpoints = state["endpoints"].as_array().unwrap();
    let urls: Vec<&str> = endpoints
        .iter()
        .map(|e| e["endpoint_url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        [server.url().as_str(), "http://127.0.0.1:9/hand"],
        "sorted by URL"
    );
    assert_eq!(
        tool_names(&endpoints[0]),
        ["archived", "lookup", "remove_member", "whoami"]
    );
    assert!(endpoints[0]["sdk_version"]
        .as_str()
        .unwrap()
        .starts_with("pillar-rust/"));
    assert_eq!(
        endpoints[0]["warnings"],
        json!([]),
        "the SDK's tools are described"
    );
    assert_eq!(
        endpoints[1]["sdk_version"], "by-hand/2",
        "the latest registration"
    );
    assert_eq!(tool_names(&endpoints[1]), Vec::<&str>::new());
    assert_eq!(
        endpoints[1]["warnings"],
        json!([{"tool": null, "message": "the registration lists no tools"}])
    );
    let rejected: Vec<&str> = state["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(rejected.len(), 4, "{rejected:?}");
    assert!(
        rejected[0].starts_with("tools[0]: the name \"9lives\""),
        "newest first: {rejected:?}"
    );
    assert_eq!(
        state["channels"],
        json!(["web", "slack", "discord", "email", "api"])
    );
    assert_eq!(state["default_endpoint_url"], "http://127.0.0.1:9/");
}

/// The console's state of `url`, once `check` holds for it (waiting up to 20 s: the
/// pings run every 5 s).
async fn endpoint_when(dev: &Dev, url: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let state = dev.get("state").await;
        let endpoint = state["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["endpoint_url"] == url)
            .cloned();
        if let Some(endpoint) = endpoint.filter(|e| check(e)) {
            return endpoint;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} is not {what} after 20 s: {state}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn registered_servers_are_pinged_replaced_removed_and_refusals_name_the_server() {
    let dev = Dev::start().await;
    let mut server = dev.server().await;
    let url = server.url();
    dev.wait_for_line(&format!("registered 4 tools from {url}"))
        .await;
    // Nothing listens on port 9 (discard): its ping fails.
    let dead = "http://127.0.0.1:9/gone";
    let body = json!({"endpoint_url": dead, "sdk_version": "by-hand/1", "tools": []});
    let (status, _) = dev.register(Some(&dev.secret), &body.to_string()).await;
    assert_eq!(status, 200);

    let live = endpoint_when(&dev, &url, "reachable", |e| {
        e["health"]["state"] == "reachable"
    })
    .await;
    // (The test server registers, then `serve_on` registers again.)
    assert!(live["registrations"].as_u64().unwrap() >= 1, "{live}");
    assert!(
        live["health"]["since_ms"].as_u64().unwrap() >= live["registered_at_ms"].as_u64().unwrap()
    );
    let gone = endpoint_when(&dev, dead, "unreachable", |e| {
        e["health"]["state"] == "unreachable"
    })
    .await;
    assert!(gone["health"]["problem"].as_str().unwrap() != "", "{gone}");
    dev.wait_for_line(&format!("{dead} does not answer its ping: "))
        .await;

    // A server that stops is unreachable within a ping or two, since the first failure.
    server.stop().await;
    let stopped = endpoint_when(&dev, &url, "unreachable", |e| {
        e["health"]["state"] == "unreachable"
    })
    .await;
    let since = stopped["health"]["since_ms"].as_u64().unwrap();
    assert!(since <= stopped["health"]["checked_ms"].as_u64().unwrap());

    // A registration from the same URL replaces the last one, and says so.
    let again = json!({"endpoint_url": dead, "sdk_version": "by-hand/2", "tools": [
        {"name": "t", "description": "A tool.", "inputSchema": {"type": "object"},
         "timeout_ms": 1000, "channel_compatibility": ["*"], "tool_type": "server_side"}]});
    let (status, answer) = dev.register(Some(&dev.secret), &again.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    dev.wait_for_line(&format!(
        "registered 1 tool from {dead} (by-hand/2): registration 2 of this server, replacing the last"
    ))
    .await;
    let replaced = endpoint_when(&dev, dead, "re-registered", |e| e["registrations"] == 2).await;
    assert_eq!(replaced["sdk_version"], "by-hand/2");
    assert_eq!(tool_names(&replaced), ["t"]);

    // An entry can be removed; removing it again is a 404.
    let (status, answer) = dev.post("remove", json!({"endpoint_url": dead})).await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"removed": dead})));
    let state = dev.get("state").await;
    let urls: Vec<&Value> = state["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["endpoint_url"])
        .collect();
    assert_eq!(urls, [&json!(url)], "{state}");
    let (status, answer) = dev.post("remove", json!({"endpoint_url": dead})).await;
    assert_eq!(
        (status, &answer["error"]),
        (StatusCode::NOT_FOUND, &json!("unknown_endpoint"))
    );
    let (status, _) = dev.post("remove", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A refused registration names the server that sent it, and why.
    let (status, _) = dev.register(Some("plr_other"), &body.to_string()).await;
    assert_eq!(status, 401);
    dev.wait_for_line(&format!(
        "refused a registration from {dead}: wrong or missing bearer secret"
    ))
    .await;
    let (status, _) = dev.register(Some(&dev.secret), "{not json").await;
    assert_eq!(status, 400);
    let state = dev.get("state").await;
    let rejected = state["rejected"].as_array().unwrap();
    assert_eq!(rejected[0]["endpoint_url"], Value::Null);
    assert_eq!(rejected[0]["error"], "invalid_json");
    assert_eq!(rejected[1]["endpoint_url"], dead);
    assert_eq!(rejected[1]["error"], "unauthorized");
    assert!(rejected[1]["message"]
        .as_str()
        .unwrap()
        .contains("PILLAR_SECRET"));
}

#[tokio::test]
async fn console_calls_are_signed_confirmed_once_and_kept_in_the_history() {
    let dev = Dev::start().await;
    let mut server = dev.server().await;
    let url = server.url();

    // A call, with the caller and conversation the page gave (empty fields left out).
    let (status, entry) = dev
        .post(
            "call",
            json!({"endpoint_url": url, "tool_name": "whoami", "arguments": {},
                   "caller": {"channel": "slack", "email": "", "external_user_id": "u_7"},
                   "conversation_id": "conv_42"}),
        )
        .await;
    assert_eq!(status, 200, "{entry}");
    assert_eq!(
        entry["status"], 200,
        "the server accepted the signature: {entry}"
    );
    let call_id = entry["call_id"].as_str().unwrap();
    assert!(
        call_id.starts_with("tc_") && call_id.len() == 19,
        "{call_id}"
    );
    let seen = &entry["answer"]["result"];
    assert_eq!(seen["caller"]["channel"], "slack", "{seen}");
    assert_eq!(seen["caller"]["external_user_id"], "u_7", "{seen}");
    assert_eq!(
        seen["caller"]["email"],
        Value::Null,
        "an empty field is left out: {seen}"
    );
    assert_eq!(
        (&seen["conversation_id"], &seen["call_id"]),
        (&json!("conv_42"), &json!(call_id))
    );
    assert_eq!(entry["action"], "tool_call");
    assert!(entry["latency_ms"].as_f64().unwrap() > 0.0);
    // The header the server received comes with the record: a signature of this body.
    let signature = entry["signature"].as_str().unwrap();
    let sent = serde_json::to_vec(&entry["sent"]).unwrap();
    pillar::signature::Verifier::new(dev.secret.clone())
        .unwrap()
        .verify(signature, &sent)
        .unwrap_or_else(|err| panic!("{signature}: {err}"));
    assert!(!signature.contains(&dev.secret), "{signature}");
    dev.wait_for_line("#1 tool_call whoami: HTTP 200, succeeded (")
        .await;

    // The SDK's argument error comes back as the server answered it.
    let (_, bad) = dev
        .post(
            "call",
            json!({"endpoint_url": url, "tool_name": "lookup", "arguments": {"email": 42}}),
        )
        .await;
    assert_eq!(bad["status"], 200);
    assert_eq!(bad["answer"]["success"], false);
    assert!(
        bad["answer"]["error"].as_str().unwrap().contains("email"),
        "{bad}"
    );

    // A confirmation request, then the confirmation, which runs the tool once however
    // often it is sent again.
    let (_, asked) = dev
        .post(
            "call",
            json!({"endpoint_url": url, "tool_name": "remove_member", "arguments": {}}),
        )
        .await;
    let card = &asked["answer"]["result"];
    assert_eq!(card["confirmation_required"], true, "{asked}");
    let (_, confirmed) = dev
        .post(
            "confirm",
            json!({"endpoint_url": url, "tool_name": "remove_member",
                   "confirm_payload": card["confirm_payload"], "of": asked["id"]}),
        )
        .await;
    assert_eq!(confirmed["action"], "tool_confirm");
    assert_eq!(confirmed["sent"]["confirmed"], true);
    assert_eq!(confirmed["of"], asked["id"]);
    assert_eq!(
        confirmed["answer"]["result"],
        json!({"removed": "u_42", "removals": 1})
    );
    let (_, resent) = dev.post("resend", json!({"id": confirmed["id"]})).await;
    assert_eq!(resent["call_id"], confirmed["call_id"], "the same call id");
    assert_eq!(resent["resent_of"], confirmed["id"]);
    assert_eq!(
        resent["answer"], confirmed["answer"],
        "the at-most-once answer"
    );
    assert_eq!(server.removals.load(std::sync::atomic::Ordering::SeqCst), 1);
    dev.wait_for_line("#5 tool_confirm remove_member (#4 sent again): HTTP 200, succeeded")
        .await;

    // The history: every call, newest first.
    let history = dev.get("history").await;
    let ids: Vec<u64> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [5, 4, 3, 2, 1]);
    assert_eq!(history["entries"][0], resent);

    // What the console refuses to send, and a server that went away.
    for (request, why) in [
        (
            json!({"endpoint_url": "http://127.0.0.1:9/", "tool_name": "lookup"}),
            "no server registered",
        ),
        (
            json!({"endpoint_url": url, "tool_name": "drop_tables"}),
            "did not register a tool `drop_tables`",
        ),
        (
            json!({"endpoint_url": url, "tool_name": "lookup", "caller": {"channel": "fax"}}),
            "`caller.channel`",
        ),
        (json!({"tool_name": "lookup"}), "must be strings"),
    ] {
        let (status, answer) = dev.post("call", request).await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(why),
            "{answer}"
        );
    }
    let (status, answer) = dev.post("resend", json!({"id": 999})).await;
    assert_eq!(
        (status, &answer["error"]),
        (StatusCode::NOT_FOUND, &json!("unknown_entry"))
    );
    server.stop().await;
    let (status, gone) = dev
        .post(
            "call",
            json!({"endpoint_url": url, "tool_name": "lookup", "arguments": {"email": "a@b.c"}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(gone["status"], Value::Null);
    assert!(!gone["error"].as_str().unwrap().is_empty(), "{gone}");
}

#[tokio::test]
async fn other_pages_and_hosts_cannot_use_the_console_and_never_see_the_secret() {
    let dev = Dev::start().await;
    let _server = dev.server().await;
    let state = format!("{}/console/api/state", dev.base);
    let cases = [
        (
            None,
            None,
            None,
            None,
            StatusCode::UNAUTHORIZED,
            "missing_token",
        ),
        (
            Some("0".repeat(64)),
            None,
            None,
            None,
            StatusCode::UNAUTHORIZED,
            "bad_token",
        ),
        (
            Some(dev.token.clone()),
            Some("http://evil.example"),
            None,
            None,
            StatusCode::FORBIDDEN,
            "forbidden_origin",
        ),
        (
            Some(dev.token.clone()),
            Some("null"),
            None,
            None,
            StatusCode::FORBIDDEN,
            "forbidden_origin",
        ),
        (
            Some(dev.token.clone()),
            None,
            Some("cross-site"),
            None,
            StatusCode::FORBIDDEN,
            "forbidden_origin",
        ),
        (
            Some(dev.token.clone()),
            None,
            None,
            Some("evil.example"),
            StatusCode::FORBIDDEN,
            "forbidden_host",
        ),
    ];
    for (token, origin, site, host, status, code) in cases {
        let mut request = dev.http.get(&state);
        if let Some(token) = token {
            request = request.header("x-pillar-console-token", token);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        if let Some(host) = host {
            request = request.header("host", host);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), status, "{code}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"], code);
    }
    // A call from another page is refused before anything is sent.
    let refused = dev
        .http
        .post(format!("{}/console/api/call", dev.base))
        .header("x-pillar-console-token", &dev.token)
        .header("origin", "http://evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(dev.get("history").await["entries"]
        .as_array()
        .unwrap()
        .is_empty());

    // The page: for the console's own host only, with a policy that allows its own files.
    let page = dev.http.get(format!("{}/", dev.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let rebound = dev
        .http
        .get(format!("{}/", dev.base))
        .header("host", "rebind.example:80")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403);

    // The secret is never in what the console serves. Its scripts are ES modules, each
    // at its own path, as JavaScript (a module with another type does not run).
    let mut served = page.text().await.unwrap();
    let modules = [
        "main", "api", "schema", "editors", "form", "answer", "history", "dom",
    ];
    let paths = modules.map(|name| format!("/console/{name}.js"));
    for path in paths.iter().map(String::as_str).chain(["/console.css"]) {
        let answer = dev
            .http
            .get(format!("{}{path}", dev.base))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        let kind = answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let want = if path.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert!(kind.starts_with(want), "{path}: {kind}");
        assert!(
            answer.headers().contains_key("content-security-policy"),
            "{path}"
        );
        served += &answer.text().await.unwrap();
    }
    let unknown = dev
        .http
        .get(format!("{}/console/other.js", dev.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    served += &dev.get("state").await.to_string();
    served += &dev.get("history").await.to_string();
    assert!(!served.contains(&dev.secret));
}

#[tokio::test]
async fn slow_and_oversized_requests_do_not_hold_up_the_console() {
    let dev = Dev::start().await;
    let addr = dev.base.strip_prefix("http://").unwrap().to_owned();
    // A client that sends half a request and stalls...
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /console/api/call HTTP/1.1\r\nHost: {addr}\r\nx-pillar-console-token: {}\r\nContent-Length: 1000\r\n\r\n{{\"endpoint",
        dev.token
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    // ...and one that never finishes its headers.
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(b"GET /console/api/state HTTP/1.1\r\nHo")
        .await
        .unwrap();
    // Meanwhile the console answers others.
    assert!(dev.get("state").await["endpoints"]
        .as_array()
        .unwrap()
        .is_empty());

    // A body over the limit is refused before it is read.
    let mut large = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /console/api/call HTTP/1.1\r\nHost: {addr}\r\nx-pillar-console-token: {}\r\nContent-Length: {}\r\n\r\n",
        dev.token,
        5 << 20
    );
    large.write_all(head.as_bytes()).await.unwrap();
    let mut status_line = [0_u8; 12];
    tokio::time::timeout(Duration::from_secs(5), large.read_exact(&mut status_line))
        .await
        .expect("answered without the body")
        .unwrap();
    assert_eq!(&status_line, b"HTTP/1.1 413");
    // A request that is not JSON gets a clear 400.
    let answer = dev
        .api(reqwest::Method::POST, "call")
        .body("{\"endpoint")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("the request body is not JSON"),
        "{body}"
    );

    // The client that stalled in its body is answered 408 at the body deadline (10 s),
    // and nothing was sent on its behalf.
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), slow.read_to_end(&mut answer))
        .await
        .expect("the stalled body is answered at the deadline")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    drop(stalled);
    assert!(dev.get("history").await["entries"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_port_in_use_exits_2_saying_what_to_do() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_pillar"))
        .args(["dev", "--port", &port])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(stderr.contains("try --port 0"), "{stderr}");
}
