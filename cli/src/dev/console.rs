//! The console: its page (HTML, CSS and JavaScript built into the binary, no build step,
//! nothing fetched from elsewhere) and its API, which sends signed webhooks to a
//! registered server on the page's behalf. [`guard`](super::guard) checks every request
//! first.
//!
//! API (JSON; errors are 4xx `{"error": "<code>", "message": "..."}`):
//! - `GET /console/api/state`: the registrations (`endpoints`), the refused ones
//!   (`rejected`), the `channels` and the `default_endpoint_url`;
//! - `GET /console/api/history`: `{"entries": [...]}`, newest first;
//! - `POST /console/api/call` `{"endpoint_url", "tool_name", "arguments", "caller"?,
//!   "conversation_id"?}`: a `tool_call` with a fresh call id; answers its history entry;
//! - `POST /console/api/confirm` `{"endpoint_url", "tool_name", "confirm_payload",
//!   "caller"?, "conversation_id"?, "of"?}`: the `tool_confirm` a user's Confirm sends;
//! - `POST /console/api/resend` `{"id"}`: the same body again (same call id), signed
//!   afresh;
//! - `POST /console/api/remove` `{"endpoint_url"}`: forgets a server's registration.
//!
//! A history entry carries the `signature` header it was sent with.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use pillar::protocol::{sign, WebhookClient};
use pillar::TransportErrorKind;
use serde_json::{json, Map, Value};

use super::history::Entry;
use super::registry::now_ms;
use super::Dev;
use crate::body::{caller_channels, fresh_call_id, webhook_body};

/// The caller fields a webhook may carry.
const CALLER_FIELDS: [&str; 5] = [
    "channel",
    "channel_user_id",
    "external_user_id",
    "email",
    "display_name",
];
/// How much longer than the tool's own timeout the console waits for an answer.
const TIMEOUT_MARGIN: Duration = Duration::from_secs(5);
/// The longest the console waits for one answer.
const MAX_WAIT: Duration = Duration::from_secs(600);

/// An error answer: `{"error": code, "message": message}` with `status`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> (StatusCode, Json<Value>) {
    (status, Json(json!({"error": code, "message": message})))
}

/// A refused request: what [`error`] answers, small enough to return in a `Result`.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.status, self.code, &self.message).into_response()
    }
}

fn bad_request(message: impl AsRef<str>) -> Response {
    error(StatusCode::BAD_REQUEST, "bad_request", message.as_ref()).into_response()
}

/// `GET /`.
pub(crate) async fn page() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("console/index.html"),
    )
}

/// The page's scripts: ES modules (`<script type="module">`), which import each other
/// by relative path, so each is served at `/console/<file>`.
const MODULES: [(&str, &str); 9] = [
    ("main.js", include_str!("console/main.js")),
    ("api.js", include_str!("console/api.js")),
    ("schema.js", include_str!("console/schema.js")),
    ("editors.js", include_str!("console/editors.js")),
    ("form.js", include_str!("console/form.js")),
    ("answer.js", include_str!("console/answer.js")),
    ("history.js", include_str!("console/history.js")),
    ("commands.js", include_str!("console/commands.js")),
    ("dom.js", include_str!("console/dom.js")),
];

/// `GET /console/{file}`: one of the page's [`MODULES`].
pub(crate) async fn script(Path(file): Path<String>) -> Response {
    match MODULES.iter().find(|(name, _)| *name == file) {
        Some(&(_, text)) => asset("text/javascript; charset=utf-8", text),
        None => not_found().await,
    }
}

/// `GET /console.css`.
pub(crate) async fn style() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("console/console.css"),
    )
}

fn asset(content_type: &'static str, text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// Any other path.
pub(crate) async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint: `pillar dev` answers /api/tools/register/, the console at / and its API under /console/api/",
    )
    .into_response()
}

/// `GET /console/api/state`.
pub(crate) async fn state(State(dev): State<Arc<Dev>>) -> Json<Value> {
    let (endpoints, rejected) = dev.registry.snapshot();
    Json(json!({
        "endpoints": endpoints,
        "rejected": rejected,
        "channels": caller_channels(),
        "default_endpoint_url": dev.default_endpoint_url,
    }))
}

/// `GET /console/api/history`.
pub(crate) async fn history(State(dev): State<Arc<Dev>>) -> Json<Value> {
    Json(json!({ "entries": dev.history.to_json() }))
}

/// `POST /console/api/call`.
pub(crate) async fn call(State(dev): State<Arc<Dev>>, body: Bytes) -> Response {
    send_new(&dev, &body, false).await
}

/// `POST /console/api/confirm`.
pub(crate) async fn confirm(State(dev): State<Arc<Dev>>, body: Bytes) -> Response {
    send_new(&dev, &body, true).await
}

/// `POST /console/api/resend`.
pub(crate) async fn resend(State(dev): State<Arc<Dev>>, body: Bytes) -> Response {
    let request = match object(&body) {
        Ok(request) => request,
        Err(message) => return bad_request(message),
    };
    let Some(id) = request.get("id").and_then(Value::as_u64) else {
        return bad_request("`id` must be the number of a history entry");
    };
    let Some(previous) = dev.history.get(id) else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_entry",
            &format!(
                "no history entry {id} (only the last {} are kept)",
                super::history::MAX_ENTRIES
            ),
        )
        .into_response();
    };
    let timeout = wait_for(&dev, &previous.endpoint_url, &previous.tool_name);
    let entry = send(
        &dev,
        Entry {
            resent_of: Some(id),
            of: previous.of,
            ..previous
        },
        timeout,
    )
    .await;
    Json(entry.to_json()).into_response()
}

/// A call (`confirm` false) or confirmation with a fresh call id, from the page's request.
async fn send_new(dev: &Dev, body: &[u8], confirm: bool) -> Response {
    let request = match object(body) {
        Ok(request) => request,
        Err(message) => return bad_request(message),
    };
    let (Some(endpoint_url), Some(tool_name)) = (
        request.get("endpoint_url").and_then(Value::as_str),
        request.get("tool_name").and_then(Value::as_str),
    ) else {
        return bad_request("`endpoint_url` and `tool_name` must be strings");
    };
    let Some(registration) = dev.registry.get(endpoint_url) else {
        return bad_request(format!(
            "no server registered {endpoint_url}: the console calls registered servers only"
        ));
    };
    if registration.tool(tool_name).is_none() {
        return bad_request(format!(
            "the server at {endpoint_url} did not register a tool `{tool_name}`"
        ));
    }
    let input_field = if confirm {
        "confirm_payload"
    } else {
        "arguments"
    };
    let input = request
        .get(input_field)
        .cloned()
        .unwrap_or_else(|| json!({}));
    let caller = match caller(request.get("caller")) {
        Ok(caller) => caller,
        Err(message) => return bad_request(message),
    };
    let conversation_id = match request.get("conversation_id") {
        None | Some(Value::Null) => "conv_dev",
        Some(Value::String(id)) if id.trim().is_empty() => "conv_dev",
        Some(Value::String(id)) => id.as_str(),
        Some(_) => return bad_request("`conversation_id` must be a string"),
    };
    let call_id = fresh_call_id();
    let sent = webhook_body(confirm, tool_name, &call_id, input, conversation_id, caller);
    let timeout = wait_for(dev, endpoint_url, tool_name);
    let entry = send(
        dev,
        Entry {
            id: 0,
            at_ms: 0,
            endpoint_url: endpoint_url.to_owned(),
            tool_name: tool_name.to_owned(),
            body: sent.to_string(),
            signature: String::new(),
            status: None,
            answer: Value::Null,
            error: None,
            latency_ms: 0.0,
            resent_of: None,
            of: request.get("of").and_then(Value::as_u64),
        },
        timeout,
    )
    .await;
    Json(entry.to_json()).into_response()
}

/// Signs and sends `entry.body` to its server, records the answer in the history and
/// returns the entry as recorded.
async fn send(dev: &Dev, mut entry: Entry, timeout: Duration) -> Entry {
    let client =
        WebhookClient::new(entry.endpoint_url.clone(), dev.secret.clone()).timeout(timeout);
    let signature = sign(&dev.secret, entry.body.as_bytes());
    entry.at_ms = now_ms();
    let started = Instant::now();
    let outcome = client.send(entry.body.as_bytes(), Some(&signature)).await;
    entry.signature = signature;
    entry.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Ok((status, answer)) => {
            entry.status = Some(status.as_u16());
            entry.answer = answer;
            entry.error = None;
        }
        Err(err) => {
            entry.status = None;
            entry.answer = Value::Null;
            entry.error = Some(match err.kind() {
                TransportErrorKind::TooLarge => format!(
                    "the server at {} sent an answer larger than the console reads ({} \
                     bytes); stopped reading it. To see it, call the tool with `pillar \
                     call --max-answer-bytes BYTES`",
                    entry.endpoint_url,
                    WebhookClient::DEFAULT_MAX_ANSWER_BYTES
                ),
                _ => err.to_string(),
            });
        }
    }
    let entry = dev.history.push(entry);
    println!("{}", summary(&entry));
    entry
}

/// The line `pillar dev` prints for a call the console sent, such as
/// `#3 tool_call lookup_customer: HTTP 200, succeeded (4.2 ms)`.
fn summary(entry: &Entry) -> String {
    let sent: Value = serde_json::from_str(&entry.body).unwrap_or(Value::Null);
    let action = sent["action"].as_str().unwrap_or("call");
    let again = entry
        .resent_of
        .map(|id| format!(" (#{id} sent again)"))
        .unwrap_or_default();
    let outcome = match (entry.status, &entry.error) {
        (None, Some(error)) => format!("no answer: {error}"),
        (None, None) => "no answer".to_owned(),
        (Some(status), _) => {
            let answer = &entry.answer;
            let what =
                if answer["success"] == true && answer["result"]["confirmation_required"] == true {
                    "asks for confirmation".to_owned()
                } else if answer["success"] == true {
                    "succeeded".to_owned()
                } else if let Some(error) = answer["error"].as_str() {
                    format!("failed: {error}")
                } else {
                    "failed".to_owned()
                };
            format!("HTTP {status}, {what}")
        }
    };
    format!(
        "#{} {action} {}{again}: {outcome} ({:.1} ms)",
        entry.id, entry.tool_name, entry.latency_ms
    )
}

/// How long to wait for a tool's answer: its registered timeout and a margin.
fn wait_for(dev: &Dev, endpoint_url: &str, tool_name: &str) -> Duration {
    let registered = dev
        .registry
        .get(endpoint_url)
        .and_then(|r| r.tool(tool_name).and_then(|t| t["timeout_ms"].as_u64()))
        .map_or(Duration::from_secs(30), Duration::from_millis);
    (registered + TIMEOUT_MARGIN).min(MAX_WAIT)
}

/// The request body as a JSON object, or why not.
fn object(body: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("the request body must be a JSON object".to_owned()),
        Err(err) => Err(format!("the request body is not JSON: {err}")),
    }
}

/// The webhook's `caller` from the page's: the protocol's fields, strings, empty ones
/// left out.
fn caller(given: Option<&Value>) -> Result<Map<String, Value>, String> {
    let mut caller = Map::new();
    let given = match given {
        None | Some(Value::Null) => return Ok(caller),
        Some(Value::Object(given)) => given,
        Some(_) => return Err("`caller` must be an object".to_owned()),
    };
    for (key, value) in given {
        if !CALLER_FIELDS.contains(&key.as_str()) {
            return Err(format!(
                "`caller.{key}` is not a caller field (those are {})",
                CALLER_FIELDS.join(", ")
            ));
        }
        match value {
            Value::Null => {}
            Value::String(text) if text.trim().is_empty() => {}
            Value::String(text) => {
                let channels = caller_channels();
                if key == "channel" && !channels.contains(&text.as_str()) {
                    return Err(format!(
                        "`caller.channel` must be one of {}, not {text:?}",
                        channels.join(", ")
                    ));
                }
                caller.insert(key.clone(), Value::String(text.clone()));
            }
            _ => return Err(format!("`caller.{key}` must be a string")),
        }
    }
    Ok(caller)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{caller, summary, Entry, MODULES};

    #[test]
    fn every_module_of_the_page_is_served() {
        let served: Vec<&str> = MODULES.iter().map(|&(name, _)| name).collect();
        // Every script in console/ is built in...
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/dev/console");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".js") {
                assert!(served.contains(&name.as_str()), "{name} is not in MODULES");
            }
        }
        // ...every import names one, and the page loads `main.js` as a module.
        for (name, text) in MODULES {
            for import in text.split(" from './").skip(1) {
                let file = import.split('\'').next().unwrap();
                assert!(served.contains(&file), "{name} imports {file}, not served");
            }
        }
        assert!(include_str!("console/index.html")
            .contains(r#"<script type="module" src="/console/main.js"></script>"#));
    }

    #[test]
    fn each_call_is_summed_up_in_one_line() {
        let mut entry = Entry {
            id: 3,
            at_ms: 0,
            endpoint_url: "http://127.0.0.1:8787/".to_owned(),
            tool_name: "lookup".to_owned(),
            body: r#"{"action":"tool_call","call_id":"tc_1"}"#.to_owned(),
            signature: String::new(),
            status: Some(200),
            answer: json!({"call_id": "tc_1", "success": true, "result": {"confirmation_required": true}}),
            error: None,
            latency_ms: 4.25,
            resent_of: None,
            of: None,
        };
        assert_eq!(
            summary(&entry),
            "#3 tool_call lookup: HTTP 200, asks for confirmation (4.2 ms)"
        );
        entry.answer = json!({"success": false, "error": "arguments.email: missing"});
        entry.resent_of = Some(2);
        assert_eq!(
            summary(&entry),
            "#3 tool_call lookup (#2 sent again): HTTP 200, failed: arguments.email: missing (4.2 ms)"
        );
        entry.status = None;
        entry.error = Some("connection refused".to_owned());
        assert_eq!(
            summary(&entry),
            "#3 tool_call lookup (#2 sent again): no answer: connection refused (4.2 ms)"
        );
    }

    #[test]
    fn caller_keeps_the_protocol_fields_that_are_set() {
        let given = json!({"channel": "slack", "email": "", "display_name": null, "external_user_id": "u_1"});
        let caller = caller(Some(&given)).unwrap();
        assert_eq!(
            serde_json::Value::Object(caller),
            json!({"channel": "slack", "external_user_id": "u_1"})
        );
    }

    #[test]
    fn caller_refuses_unknown_fields_channels_and_types() {
        assert_eq!(
            caller(Some(&json!({"role": "admin"}))).unwrap_err(),
            "`caller.role` is not a caller field (those are channel, channel_user_id, external_user_id, email, display_name)"
        );
        assert!(caller(Some(&json!({"channel": "fax"})))
            .unwrap_err()
            .contains("one of web"));
        assert_eq!(
            caller(Some(&json!({"email": 5}))).unwrap_err(),
            "`caller.email` must be a string"
        );
    }
}
