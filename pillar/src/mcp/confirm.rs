//! Confirmations over MCP: when a tool answers a confirmation card (`Reply::Confirm`),
//! the user is asked, and the tool runs again with `confirmed` only when they accept.
//!
//! - A 2025-11-25 (or older) session whose client declared form elicitation: the server
//!   asks with `elicitation/create` and waits at most
//!   [`McpSettings::confirm_timeout`](crate::McpSettings::confirm_timeout).
//! - 2026-07-28, which forbids server-to-client requests: the call answers an
//!   `InputRequiredResult` holding the elicitation and a `requestState` sealed here
//!   (HMAC-SHA256 with a key drawn at start, over the tool's name, the payload to run
//!   with, an expiry and a nonce); the client calls again with the user's answer and the
//!   state, which is accepted once, before its expiry, for that tool only.
//! - A client that can do neither gets the card's text as a non-error result saying that
//!   confirmation is needed.
//!
//! Nothing the client sends marks a call confirmed: not an argument, a header or `_meta`;
//! only an accepted elicitation of this server, or a state this process sealed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientCapabilities, ContentBlock,
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequests, InputRequiredResult,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::{json, Value};
use sha2::Sha256;

use super::bridge::{error_result, Answer, Bridge};
use super::context::forbids_requests;

/// The key of the elicitation in an `InputRequiredResult`.
const CONFIRM_KEY: &str = "confirm";

/// Whether a result is a confirmation card.
pub(crate) fn is_card(value: &Value) -> bool {
    value.get("confirmation_required") == Some(&Value::Bool(true))
}

/// Whether the client declared form elicitation (an empty capability means form).
pub(crate) fn client_has_form_elicitation(capabilities: Option<&ClientCapabilities>) -> bool {
    capabilities
        .and_then(|c| c.elicitation.as_ref())
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}

/// The question put to the user: the card's title, message and details.
fn question(card: &Value) -> String {
    let mut parts = Vec::new();
    for key in ["title", "message"] {
        if let Some(text) = card.get(key).and_then(Value::as_str) {
            parts.push(text.to_owned());
        }
    }
    if let Some(Value::Object(details)) = card.get("details") {
        let lines: Vec<String> = details
            .iter()
            .map(|(label, value)| match value {
                Value::String(s) => format!("{label}: {s}"),
                other => format!("{label}: {other}"),
            })
            .collect();
        if !lines.is_empty() {
            parts.push(lines.join("\n"));
        }
    }
    if parts.is_empty() {
        "Confirm this action?".to_owned()
    } else {
        parts.join("\n\n")
    }
}

/// The elicitation of a confirmation: the question, an empty form.
fn elicitation(card: &Value) -> Result<ElicitRequestParams, McpError> {
    let schema = ElicitationSchema::from_json_schema(
        json!({"type": "object", "properties": {}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    )
    .map_err(|e| McpError::internal_error(e.to_string(), None))?;
    Ok(ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: question(card),
        requested_schema: schema,
    })
}

/// What the tool runs with once confirmed: the card's `confirm_payload`, else the
/// original arguments.
fn payload(card: &Value, arguments: &Value) -> Value {
    card.get("confirm_payload")
        .cloned()
        .unwrap_or_else(|| arguments.clone())
}

fn declined(card: &Value) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(format!(
        "The user declined; nothing was done.\n\n{}",
        question(card)
    ))])
}

/// Asks the user to confirm the card a tool answered (see the module's docs).
pub(crate) async fn ask(
    bridge: &Bridge,
    name: &str,
    arguments: &Value,
    card: &Value,
    context: &RequestContext<RoleServer>,
) -> Result<CallToolResponse, McpError> {
    let capabilities = context.client_capabilities();
    if !client_has_form_elicitation(capabilities.as_ref()) {
        return Ok(CallToolResult::success(vec![ContentBlock::text(format!(
            "Confirmation needed: this MCP client cannot ask the user, so nothing was done.\n\n{}",
            question(card)
        ))])
        .into());
    }
    let payload = payload(card, arguments);
    let wait = bridge.shared.pillar.settings().mcp.confirm_timeout;
    if forbids_requests(context.protocol_version().as_ref()) {
        let state = bridge.shared.sealer.seal(name, &payload, wait);
        let mut requests = InputRequests::new();
        requests.insert(
            CONFIRM_KEY.to_owned(),
            InputRequest::Elicitation(ElicitRequest::new(elicitation(card)?)),
        );
        return Ok(InputRequiredResult::new(Some(requests), Some(state)).into());
    }
    let answer = context
        .peer
        .create_elicitation_with_timeout(elicitation(card)?, Some(wait))
        .await;
    match answer {
        Ok(ElicitResult {
            action: ElicitationAction::Accept,
            ..
        }) => run_confirmed(bridge, name, &payload, context).await,
        Ok(_) => Ok(declined(card).into()),
        Err(err) => Ok(error_result(&format!(
            "The confirmation got no answer ({err}); nothing was done."
        ))
        .into()),
    }
}

/// The retry of a 2026-07-28 call with the user's answer and the sealed state.
pub(crate) async fn resume(
    bridge: &Bridge,
    request: &CallToolRequestParams,
    context: &RequestContext<RoleServer>,
) -> Result<CallToolResponse, McpError> {
    let name = request.name.as_ref();
    let state = request.request_state.as_deref().unwrap_or_default();
    let Some(payload) = bridge.shared.sealer.open(name, state) else {
        return Ok(error_result(
            "This confirmation is not valid, was used already or has expired; nothing was \
             done. Call the tool again.",
        )
        .into());
    };
    let answer = request
        .input_responses
        .as_ref()
        .and_then(|r| r.get(CONFIRM_KEY))
        .and_then(|v| serde_json::from_value::<ElicitResult>(v.clone()).ok());
    match answer {
        Some(ElicitResult {
            action: ElicitationAction::Accept,
            ..
        }) => run_confirmed(bridge, name, &payload, context).await,
        Some(_) => Ok(CallToolResult::success(vec![ContentBlock::text(
            "The user declined; nothing was done.",
        )])
        .into()),
        None => Ok(error_result("The confirmation's answer is missing; nothing was done.").into()),
    }
}

/// Runs the tool again, confirmed, with the payload.
async fn run_confirmed(
    bridge: &Bridge,
    name: &str,
    payload: &Value,
    context: &RequestContext<RoleServer>,
) -> Result<CallToolResponse, McpError> {
    let mut ctx = bridge.tool_context(context);
    ctx.confirmed = true;
    match bridge.run(name, &payload.to_string(), ctx).await? {
        Answer::Done(result) => Ok(result.into()),
        // A second card after the user agreed: given as it is, not asked again.
        Answer::Card(card) => Ok(CallToolResult::structured(card).into()),
    }
}

/// Seals and opens 2026-07-28 confirmation states: a per-process key, single use.
pub(crate) struct Sealer {
    key: [u8; 32],
    /// Nonces of states opened already, with their expiry (ms since the epoch).
    used: Mutex<HashMap<String, u64>>,
}

impl Sealer {
    pub(crate) fn new() -> Self {
        let mut key = [0u8; 32];
        if let Err(err) = getrandom::fill(&mut key) {
            // No randomness: a key nobody knows cannot be made, and a known one would let
            // a client forge confirmations. Every state is then refused (`open` checks).
            tracing::error!(error = %err, "no random key for MCP confirmations: 2026-07-28 confirmations will be refused");
            key = [0; 32];
        }
        Self {
            key,
            used: Mutex::new(HashMap::new()),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable_key())
    }

    /// A state for `tool` to run with `payload`, valid for `ttl`.
    pub(crate) fn seal(&self, tool: &str, payload: &Value, ttl: Duration) -> String {
        let mut nonce = [0u8; 16];
        let _ = getrandom::fill(&mut nonce);
        let expires = now_ms().saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
        let body = json!({
            "tool": tool,
            "payload": payload,
            "expires": expires,
            "nonce": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(nonce),
        });
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.to_string());
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let tag =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{body}.{tag}")
    }

    /// The payload of a state this process sealed for `tool`, not expired and not opened
    /// before; `None` otherwise.
    pub(crate) fn open(&self, tool: &str, state: &str) -> Option<Value> {
        if self.key == [0; 32] {
            return None;
        }
        let (body, tag) = state.split_once('.')?;
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tag)
            .ok()?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        // Constant time.
        mac.verify_slice(&tag).ok()?;
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .ok()?;
        let body: Value = serde_json::from_slice(&body).ok()?;
        let expires = body.get("expires")?.as_u64()?;
        let now = now_ms();
        if body.get("tool")?.as_str()? != tool || expires <= now {
            return None;
        }
        let nonce = body.get("nonce")?.as_str()?.to_owned();
        let mut used = self.used.lock().ok()?;
        used.retain(|_, until| *until > now);
        if used.insert(nonce, expires).is_some() {
            return None;
        }
        body.get("payload").cloned()
    }
}

#[allow(clippy::panic)]
fn unreachable_key() -> Hmac<Sha256> {
    panic!("HMAC takes a key of any length")
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
