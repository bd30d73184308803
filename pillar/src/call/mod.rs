//! [`Pillar`]: the registry of tools and the framework-independent webhook handler.

#[cfg(feature = "serve")]
pub(crate) mod budget;
mod builder;
mod claim;
mod envelope;
#[cfg(feature = "mcp")]
pub(crate) mod mcp;
mod record;
mod run;
mod watchdog;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
#[cfg(feature = "serve")]
use std::time::Duration;
use std::time::Instant;

use http::{HeaderMap, StatusCode};
use serde_json::value::RawValue;
use serde_json::Value;
use tracing::Instrument;

pub use self::builder::PillarBuilder;
pub use self::run::{ToolCallError, ToolCallErrorKind};

use self::envelope::{parse_call, parse_envelope, probe_action, Envelope};
use crate::answer::{Answer, WebhookResponse};
use crate::config::Settings;
use crate::idempotency::record::Store;
use crate::observe::{Metrics, Outcome};
use crate::rejections::{Reason, Rejections};
use crate::signature::{Secret, SignatureError, Verifier};
use crate::skill::Skill;
use crate::tool::context::ToolContext;
use crate::tool::{Tool, ToolInfo};

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The SDK's entry point: every tool, the webhook secret(s), and [`handle`](Self::handle),
/// the framework-independent webhook handler that servers and adapters call.
///
/// Cheap to clone (an `Arc` inside); share one across tasks.
///
/// ```
/// # async fn run() -> Result<(), pillar::Error> {
/// let pillar = pillar::Pillar::builder().secret("plr_test_secret").build()?;
/// let body = br#"{"action":"ping"}"#;
/// let response = pillar.handle(body, &pillar::http::HeaderMap::new()).await;
/// assert_eq!(response.status(), pillar::http::StatusCode::OK);
/// assert_eq!(response.into_body(), br#"{"status":"ok"}"#);
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
/// ```
#[derive(Clone)]
pub struct Pillar {
    inner: Arc<Inner>,
}

struct Inner {
    verifier: Verifier,
    /// Kept only to redact them from error texts.
    secrets: Vec<Secret>,
    /// Sorted by name.
    tools: Vec<Tool>,
    /// Name to position in `tools`.
    index: HashMap<String, usize>,
    /// The names of `tools`, shared with each call's context.
    names: Vec<Arc<str>>,
    /// The registration form of `tools`, made on first use (start-up does not wait for
    /// a copy of every schema).
    listing: OnceLock<Vec<ToolInfo>>,
    skills: Vec<Skill>,
    settings: Settings,
    clock: Clock,
    /// Where claims and answers are kept; `Store::Off` when the record of calls is off.
    store: Store,
    /// Calls running, for [`Pillar::take_slot`].
    in_flight: AtomicUsize,
    /// Request-body bytes buffered at once, across every transport.
    #[cfg(feature = "serve")]
    body_budget: budget::BodyBudget,
    /// Refused requests, logged as a rate-limited summary.
    rejections: Rejections,
    /// The metric keys, built once.
    metrics: Metrics,
    /// When the record's size was last reported as metrics (ms since `started`).
    record_reported: AtomicU64,
    /// When the `Pillar` was built.
    started: Instant,
    /// Who an MCP request's caller is (`PillarBuilder::mcp_caller`).
    #[cfg(feature = "mcp")]
    mcp_caller: Option<mcp::CallerHook>,
}

impl fmt::Debug for Pillar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pillar")
            .field(
                "tools",
                &self
                    .inner
                    .tools
                    .iter()
                    .map(|t| &t.info.name)
                    .collect::<Vec<_>>(),
            )
            .field("verifier", &self.inner.verifier)
            .finish_non_exhaustive()
    }
}

impl Pillar {
    /// Every tool's registration form, sorted by name: what is sent to Pillar Cloud (less
    /// the channels local to this server, such as `mcp`: see
    /// [`registration_payload`](Self::registration_payload)).
    pub fn tools(&self) -> &[ToolInfo] {
        self.inner
            .listing
            .get_or_init(|| self.inner.tools.iter().map(|t| t.info.clone()).collect())
    }

    /// How many tools are served.
    #[cfg(feature = "serve")]
    pub(crate) fn tool_count(&self) -> usize {
        self.inner.tools.len()
    }

    /// The longest `timeout_ms` of any tool (0 without tools).
    #[cfg(feature = "serve")]
    pub(crate) fn longest_timeout(&self) -> Duration {
        let longest = self.inner.tools.iter().map(|t| t.info.timeout_ms).max();
        Duration::from_millis(longest.unwrap_or(0))
    }

    /// Every skill, sorted by name.
    pub fn skills(&self) -> &[Skill] {
        &self.inner.skills
    }

    /// The serving and registration settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// One tool by name.
    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.inner.index.get(name).map(|&i| &self.inner.tools[i])
    }

    /// The signature verifier in use.
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// The budget of request-body bytes buffered at once.
    #[cfg(feature = "serve")]
    pub(crate) fn body_budget(&self) -> &budget::BodyBudget {
        &self.inner.body_budget
    }

    /// The record of calls, `None` when it is off: for readiness checks.
    #[cfg(feature = "serve")]
    pub(crate) fn call_store(&self) -> Option<&Store> {
        match &self.inner.store {
            Store::Off => None,
            store => Some(store),
        }
    }

    /// Answers one webhook request: `body` exactly as received (the signature covers
    /// these bytes) and the request's headers. Returns the [`WebhookResponse`] to send
    /// back: the HTTP status, the JSON answer and, on a retryable refusal, the seconds
    /// for `Retry-After`.
    ///
    /// The order of checks, the statuses and the bodies follow the protocol:
    ///
    /// | situation | status | body |
    /// |---|---|---|
    /// | not JSON | 400 | `{"success": false, "error": "Invalid JSON"}` |
    /// | `ping` (no signature needed) | 200 | `{"status": "ok"}` |
    /// | signature missing, malformed, wrong, outside the window | 401 | `{"success": false, "error": "Invalid signature"}` |
    /// | unknown action | 400 | `{"success": false, "error": "Unknown action: <action>"}` |
    /// | signed payload with a field of the wrong type | 400 | `{"success": false, "error": "Invalid payload: <field>: <why>"}` |
    /// | unknown tool | 404 | `{"call_id": "...", "success": false, "error": "Tool '<name>' not found"}` |
    /// | the tool returned | 200 | `{"call_id": "...", "success": true, "result": ...}` |
    /// | bad arguments, wrong channel, the tool's error, a timeout, a panic | 200 | `{"call_id": "...", "success": false, "error": "..."}` |
    /// | a repeat of a call already answered (same action and `call_id`) | the first answer's | the first answer, the tool not run again |
    /// | a call without `call_id` (or `""`) whose exact signed body was answered before, within [`record_ttl`](crate::PillarBuilder::record_ttl) | the first answer's | the first answer, the tool not run again |
    /// | the same `call_id` with another tool or input | 409 | `{"call_id": "...", "success": false, "error": "..."}`, not run |
    /// | the record of calls unreachable or full, or too many calls in flight | 503 + [`WebhookResponse::retry_after`] | `{"success": false, "error": "..."}`, not run |
    ///
    /// The signature is checked first, and a signed call's body is parsed once, after its
    /// bytes are verified. An unsigned or badly signed body is read only as far as its
    /// `action` (to tell a ping or a body that is not JSON from a forgery); nothing else
    /// in it is used. Every request but a ping needs a valid signature, whatever headers
    /// are passed.
    pub async fn handle(&self, body: &[u8], headers: &HeaderMap) -> WebhookResponse {
        self.answer_webhook(body, headers, http::Extensions::new())
            .await
    }

    /// [`handle`](Self::handle) with the request's extensions: what the web app's
    /// middleware put on the request, which tools read with
    /// [`ToolContext::extension`]. The adapters call it; call it from a framework of your
    /// own.
    pub async fn handle_with_extensions(
        &self,
        body: &[u8],
        headers: &HeaderMap,
        extensions: http::Extensions,
    ) -> WebhookResponse {
        self.answer_webhook(body, headers, extensions).await
    }

    /// The call pipeline, one stage after the other (ARCHITECTURE.md, "A webhook, from
    /// bytes to answer"): verify and parse, admit, claim, run, record. The transport
    /// responds with what it returns (`adapters::respond`).
    async fn answer_webhook(
        &self,
        body: &[u8],
        headers: &HeaderMap,
        extensions: http::Extensions,
    ) -> WebhookResponse {
        // Up to the tool's run, the stages are plain functions: what an `async fn` holds
        // across an `await` is in its future, which the web framework allocates and
        // copies for every request, so the envelope and its parse stay out of it
        // (BENCHMARKS.md, "the webhook's future"). Taken apart, not kept whole: a whole
        // `Admitted` would stay in the future with the room of its moved-out fields.
        let Admitted {
            index,
            input,
            field,
            action,
            ctx,
            span,
            slot: _slot,
        } = match self.verify(body, headers) {
            Ok((envelope, confirm)) => match self.admit(envelope, confirm, extensions) {
                Ok(call) => call,
                Err(response) => return response,
            },
            Err(response) => return response,
        };
        // Without a call id, the exact signed body is the key: a replay of it within the
        // record's time runs the tool once.
        let record = if ctx.call_id.is_empty() {
            self.inner.store.record_body(body)
        } else {
            self.inner.store.record(action, &ctx.call_id)
        };
        async move {
            let claimed = match self.claim(&record, action, index, input, &ctx).await {
                Ok(claimed) => claimed,
                Err(response) => return response,
            };
            self.run_and_record(record, claimed, index, input, field, ctx)
                .await
        }
        .instrument(span)
        .await
    }

    /// The first stage: the signature over the exact bytes, then the envelope parsed once.
    /// Anything unusual (a ping, a bad signature, a malformed payload) ends here with its
    /// response, in the protocol's order of checks.
    #[allow(clippy::result_large_err)]
    fn verify<'a>(
        &self,
        body: &'a [u8],
        headers: &HeaderMap,
    ) -> Result<(Envelope<'a>, bool), WebhookResponse> {
        let now = (self.inner.clock)();
        let verified = self.inner.verifier.verify_headers(headers, body, now);
        // The usual request, a signed call, is parsed once, after its bytes are verified.
        let parsed = match verified {
            Ok(()) => parse_call(body),
            Err(_) => None,
        };
        match parsed {
            Some(parsed) => Ok(parsed),
            None => self.parse_unusual(body, verified),
        }
    }

    /// The second stage: finds the tool of a verified call and takes one of the
    /// `max_in_flight` slots for it; the call ready to run, or the response that ends it.
    #[allow(clippy::result_large_err)]
    fn admit<'a>(
        &'a self,
        envelope: Envelope<'a>,
        confirm: bool,
        extensions: http::Extensions,
    ) -> Result<Admitted<'a>, WebhookResponse> {
        let call_id = envelope.call_id.as_deref().unwrap_or("");
        let tool_name = envelope.tool_name.as_deref().unwrap_or("");
        // A confirm runs with its `confirm_payload` only, as the reference SDK does (an
        // absent one is `{}`): Pillar Cloud puts the original arguments there when the
        // confirmation set no payload.
        let (raw_input, field) = if confirm {
            (envelope.confirm_payload, "confirm_payload")
        } else {
            (envelope.arguments, "arguments")
        };
        let index = match self.find(tool_name) {
            Ok(index) => index,
            Err(err) => {
                self.inner.metrics.call(None, Outcome::UnknownTool);
                return Err(err.into_response(call_id));
            }
        };
        // A slot is taken only now, by a call whose body has arrived and whose signature
        // is verified: unsigned or slow requests never hold one.
        let Some(slot) = self.take_slot() else {
            self.inner.metrics.call(Some(index), Outcome::Shed);
            self.reject(
                Reason::Busy,
                &format_args!(
                    "tool {tool_name}, call {}",
                    crate::observe::Untrusted::id(call_id)
                ),
            );
            return Err(WebhookResponse::unavailable(BUSY_MESSAGE, 1));
        };
        let ctx = Box::new(ToolContext {
            caller: envelope.caller.unwrap_or_default(),
            conversation_id: envelope
                .conversation_id
                .map(Cow::into_owned)
                .unwrap_or_default(),
            call_id: Arc::from(call_id),
            tool_name: Arc::clone(&self.inner.names[index]),
            product_id: envelope.product_id,
            confirmed: confirm || envelope.confirmed.unwrap_or(false),
            extensions,
        });
        let input = raw_input.map_or("{}", RawValue::get);
        let action = if confirm { "tool_confirm" } else { "tool_call" };
        let span = tracing::debug_span!(
            "pillar.call",
            "pillar.tool" = tool_name,
            "pillar.call_id" = call_id,
            "pillar.action" = action,
            "pillar.channel" = ctx.caller.channel.as_str(),
            "pillar.conversation_id" = ctx.conversation_id.as_str(),
            "pillar.outcome" = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        Ok(Admitted {
            index,
            input,
            field,
            action,
            ctx,
            span,
            slot,
        })
    }

    /// The careful path of [`handle`](Self::handle), in the protocol's order of checks:
    /// JSON, ping, signature, action, payload. Gives the payload of a verified call, or
    /// the answer.
    #[allow(clippy::result_large_err)]
    fn parse_unusual<'a>(
        &self,
        body: &'a [u8],
        verified: Result<(), SignatureError>,
    ) -> Result<(Envelope<'a>, bool), WebhookResponse> {
        let Ok(action) = probe_action(body) else {
            return Err(WebhookResponse::refused(
                StatusCode::BAD_REQUEST,
                "Invalid JSON",
            ));
        };
        if action.as_deref() == Some("ping") {
            return Err(WebhookResponse::new(StatusCode::OK, Answer::pong()));
        }
        if let Err(reason) = verified {
            self.reject(Reason::Signature, &reason);
            return Err(WebhookResponse::refused(
                StatusCode::UNAUTHORIZED,
                "Invalid signature",
            ));
        }
        let confirm = match action.as_deref() {
            Some("tool_call") => false,
            Some("tool_confirm") => true,
            other => {
                let shown = other.unwrap_or("(missing)");
                return Err(WebhookResponse::refused(
                    StatusCode::BAD_REQUEST,
                    format!("Unknown action: {shown}"),
                ));
            }
        };
        match parse_envelope(body) {
            Ok(envelope) => Ok((envelope, confirm)),
            Err(message) => Err(WebhookResponse::refused(
                StatusCode::BAD_REQUEST,
                format!("Invalid payload: {message}"),
            )),
        }
    }

    /// Notes a refused request in the rate-limited log of refusals.
    pub(crate) fn reject(&self, reason: Reason, detail: &dyn std::fmt::Display) {
        self.inner.metrics.rejection(reason);
        self.inner.rejections.note(reason, detail);
    }

    /// Notes a repeat delivery or a reused `call_id` in the rate-limited log (see
    /// `rejections.rs`).
    pub(crate) fn note_repeat(&self, kind: crate::rejections::Repeat, tool: &str, call_id: &str) {
        self.inner.rejections.repeat(kind, tool, call_id);
    }

    /// Logs the refusals of a window that has ended (see `rejections.rs`).
    #[cfg(feature = "serve")]
    pub(crate) fn flush_rejections(&self) {
        self.inner.rejections.flush();
    }

    /// The metric keys of this `Pillar`.
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Reports the in-memory record's size as metrics, at most once a second (reading it
    /// takes the store's lock).
    pub(super) fn report_record(&self) {
        let Store::Memory(store) = &self.inner.store else {
            return;
        };
        let now = u64::try_from(self.inner.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.inner.record_reported.load(Ordering::Relaxed);
        // `u64::MAX`: never reported yet.
        if (last == u64::MAX || now.saturating_sub(last) >= 1000)
            && self
                .inner
                .record_reported
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.inner.metrics.record(store.len(), store.evicted());
        }
    }

    /// Counts a verified call in flight, or refuses it when
    /// [`max_in_flight`](crate::Settings::max_in_flight) are running already (load
    /// shedding: 503 with `Retry-After` instead of queueing).
    fn take_slot(&self) -> Option<InFlight<'_>> {
        let counter = &self.inner.in_flight;
        let running = counter.fetch_add(1, Ordering::AcqRel);
        if running >= self.inner.settings.max_in_flight {
            counter.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        self.inner.metrics.in_flight(running + 1);
        Some(InFlight(&self.inner))
    }

    /// Runs a tool by name, in process, through the same run stage as a webhook call
    /// (channel check, constraints, argument parsing, states, timeout, panic guard), with
    /// no signature and no record of calls. The analogue of the official SDKs'
    /// `executeToolForDebug`; see also [`testing::call`](crate::testing::call).
    ///
    /// # Errors
    /// A [`ToolCallError`] whose message is what the agent would have seen.
    pub async fn run_tool(
        &self,
        name: &str,
        arguments: &Value,
        ctx: ToolContext,
    ) -> Result<Value, ToolCallError> {
        let json = arguments.to_string();
        let ctx = Box::new(ToolContext {
            tool_name: Arc::from(name),
            ..ctx
        });
        let tool = &self.inner.tools[self.find(name)?];
        let raw = self.run_to_end(tool, &json, "arguments", ctx).await?;
        serde_json::from_str(raw.get()).map_err(|e| {
            ToolCallError::new(
                ToolCallErrorKind::Failed,
                format!("result is not JSON: {e}"),
            )
        })
    }

    /// Where the tool called `name` is in `tools`, or the not-found error the agent sees.
    fn find(&self, name: &str) -> Result<usize, ToolCallError> {
        self.inner.index.get(name).copied().ok_or_else(|| {
            tracing::warn!(
                tool = ?crate::observe::Untrusted::id(name),
                "call for an unknown tool"
            );
            ToolCallError::new(
                ToolCallErrorKind::NotFound,
                format!("Tool '{name}' not found"),
            )
        })
    }

    /// Replaces every accepted secret in an error text, so a tool's error that quotes a
    /// secret cannot leak it to the agent.
    pub(crate) fn redact(&self, text: String) -> String {
        let mut text = text;
        for secret in &self.inner.secrets {
            let secret = secret.expose();
            if text.contains(secret) {
                text = text.replace(secret, "[redacted]");
            }
        }
        text
    }

    /// The secret sent to Pillar Cloud as bearer token: the first one given.
    #[cfg(feature = "serve")]
    pub(crate) fn api_secret(&self) -> &str {
        self.inner.secrets.first().map_or("", Secret::expose)
    }
}

/// The error text of a 503 answered when too many calls are in flight.
pub(crate) const BUSY_MESSAGE: &str = "Server busy: too many calls in flight; retry shortly";

/// A call counted by [`Pillar::take_slot`]; uncounted when dropped.
struct InFlight<'a>(&'a Inner);

/// A verified call whose tool is found and which holds a call slot, ready to run.
struct Admitted<'a> {
    index: usize,
    /// The arguments (or the confirm payload), as the body holds them.
    input: &'a str,
    /// Which of the two `input` is, for messages.
    field: &'static str,
    action: &'static str,
    /// Boxed: it travels through the `async fn`s of the call's path.
    ctx: Box<ToolContext>,
    span: tracing::Span,
    /// The call's slot among `max_in_flight`, given back when dropped.
    slot: InFlight<'a>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let running = self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.metrics.in_flight(running.saturating_sub(1));
    }
}
