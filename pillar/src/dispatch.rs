//! [`Pillar`]: the registry of tools and the framework-independent webhook handler.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tracing::Instrument;

use crate::answer::Answer;
use crate::config::Settings;
use crate::context::CallerInfo;
use crate::idempotency::{fingerprint, CallStore, Claim, MemoryStore, Recorded, StoreError};
use crate::output::{ToolFuture, ToolOutput};
use crate::private::{Input, StaticTool};
use crate::signature::{Secret, Verifier, DEFAULT_TOLERANCE};
use crate::skill::{Skill, StaticSkill};
use crate::tool::{Handler, Tool, ToolInfo};
use crate::{Error, ToolContext};

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
/// let (status, answer) = pillar.handle(body, &pillar::http::HeaderMap::new()).await;
/// assert_eq!(status, pillar::http::StatusCode::OK);
/// assert_eq!(answer.to_value(), serde_json::json!({"status": "ok"}));
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
    tools: HashMap<String, Tool>,
    listing: Vec<ToolInfo>,
    skills: Vec<Skill>,
    settings: Settings,
    clock: Clock,
    /// Where claims and answers are kept; `None` when idempotency is off.
    store: Option<Arc<dyn CallStore>>,
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    in_flight: AtomicUsize,
}

impl fmt::Debug for Pillar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pillar")
            .field(
                "tools",
                &self
                    .inner
                    .listing
                    .iter()
                    .map(|t| &t.name)
                    .collect::<Vec<_>>(),
            )
            .field("verifier", &self.inner.verifier)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Pillar`]. Start with [`Pillar::builder`].
#[must_use]
pub struct PillarBuilder {
    secrets: Vec<String>,
    tools: Vec<Tool>,
    registered_tools: bool,
    clock: Option<Clock>,
    tolerance: Duration,
    skills: Vec<Skill>,
    settings: Settings,
    store: Option<Arc<dyn CallStore>>,
    idempotency: bool,
}

impl fmt::Debug for PillarBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PillarBuilder")
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .field("tools", &self.tools)
            .field("registered_tools", &self.registered_tools)
            .field("tolerance", &self.tolerance)
            .field("skills", &self.skills)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl PillarBuilder {
    /// The webhook secret Pillar Cloud signs calls with (`plr_...`). Call it again to
    /// accept several secrets at once, for a rotation without downtime.
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    /// Several accepted secrets at once (current and previous).
    pub fn secrets<I, S>(mut self, secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.secrets.extend(secrets.into_iter().map(Into::into));
        self
    }

    /// Adds a tool built without the macro (see [`Tool::builder`]).
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    /// Adds several tools built without the macro.
    pub fn tools(mut self, tools: impl IntoIterator<Item = Tool>) -> Self {
        self.tools.extend(tools);
        self
    }

    /// Whether to include every `#[pillar::tool]` linked into the program (default
    /// `true`). Turn it off for a `Pillar` that serves only the tools given to
    /// [`tool`](Self::tool).
    pub fn registered_tools(mut self, include: bool) -> Self {
        self.registered_tools = include;
        self
    }

    /// How far a signature's timestamp may be from now, in either direction (default
    /// 300 s). Verification cannot be turned off.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The clock signatures are checked against, as Unix seconds (default: the system
    /// clock). For tests of expiry.
    pub fn clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Adds a skill, registered with the tools.
    pub fn skill(mut self, skill: Skill) -> Self {
        self.skills.push(skill);
        self
    }

    /// The public URL Pillar Cloud calls (`PILLAR_ENDPOINT_URL`). Required to register.
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.settings.endpoint_url = Some(url.into());
        self
    }

    /// The Pillar Cloud API (`PILLAR_API_URL`, default `https://api.trypillar.com`).
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.settings.api_url = url.into();
        self
    }

    /// Where [`serve`](Pillar::serve) listens (`PILLAR_ADDR` or `PORT`, default
    /// `0.0.0.0:8787`).
    pub fn addr(mut self, addr: std::net::SocketAddr) -> Self {
        self.settings.addr = addr;
        self
    }

    /// Whether `serve()` registers the tools at start-up (`PILLAR_AUTO_REGISTER`,
    /// default `true`).
    pub fn auto_register(mut self, on: bool) -> Self {
        self.settings.auto_register = on;
        self
    }

    /// The largest request body accepted, in bytes (default 1 MiB); larger answers 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.settings.body_limit = bytes;
        self
    }

    /// The path the webhook is also answered on (default `/pillar`; `/` always works).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.settings.path = path.into();
        self
    }

    /// Timeout of each request to Pillar Cloud (default 15 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.settings.request_timeout = timeout;
        self
    }

    /// Backoff of registration retries: the first delay, doubling (with jitter) up to
    /// `max` (defaults 500 ms and 60 s).
    pub fn registration_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.settings.retry_initial = initial;
        self.settings.retry_max = max;
        self
    }

    /// Where the record of calls is kept, for at-most-once execution per call (default:
    /// a bounded [`MemoryStore`] in this process). Give several instances behind a load
    /// balancer one shared store (the Redis store, feature `redis`).
    pub fn call_store(mut self, store: impl CallStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Whether a repeat delivery of the same `(action, call_id)` gets the first answer
    /// instead of running the tool again (default `true`). Turn it off only when every
    /// tool is idempotent by itself.
    pub fn idempotency(mut self, on: bool) -> Self {
        self.idempotency = on;
        self
    }

    /// How long a finished call's answer is kept for repeat deliveries (default 10
    /// minutes; at least twice the signature window).
    pub fn record_ttl(mut self, ttl: Duration) -> Self {
        self.settings.record_ttl = ttl;
        self
    }

    /// How many webhook requests the HTTP adapters run at once before answering 503
    /// with `Retry-After` (default 1024).
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.settings.max_in_flight = max;
        self
    }

    /// Checks everything and builds the `Pillar`.
    ///
    /// # Errors
    /// - [`Error::MissingSecret`] without a secret, [`Error::Secret`] for an empty one;
    /// - [`Error::DuplicateTool`] when two tools share a name (both places are named);
    /// - [`Error::InvalidTool`] for a tool whose definition is invalid.
    pub fn build(self) -> Result<Pillar, Error> {
        if self.secrets.is_empty() {
            return Err(Error::MissingSecret);
        }
        let secrets = self
            .secrets
            .iter()
            .map(|s| Secret::new(s.as_str()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::Secret)?;
        let verifier = Verifier::with_secrets(self.secrets)
            .map_err(Error::Secret)?
            .tolerance(self.tolerance);

        let mut all = Vec::new();
        if self.registered_tools {
            for def in inventory::iter::<StaticTool> {
                all.push(Tool::from_static(def)?);
            }
        }
        all.extend(self.tools);
        // Sorting by name, then by place, makes both the listing and the duplicate
        // error independent of link order.
        all.sort_by(|a, b| {
            (a.info.name.as_str(), a.location.file, a.location.line).cmp(&(
                b.info.name.as_str(),
                b.location.file,
                b.location.line,
            ))
        });
        if let Some(pair) = all.windows(2).find(|w| w[0].info.name == w[1].info.name) {
            return Err(Error::DuplicateTool {
                name: pair[0].info.name.clone(),
                first: pair[0].location,
                second: pair[1].location,
            });
        }
        let listing = all.iter().map(|t| t.info.clone()).collect();
        let mut skills: Vec<Skill> = inventory::iter::<StaticSkill>
            .into_iter()
            .map(|s| Skill::new(s.name, s.description, s.content))
            .chain(self.skills)
            .collect();
        skills.sort_by(|a, b| a.name().cmp(b.name()));
        for skill in &skills {
            skill.validate()?;
        }
        if let Some(pair) = skills.windows(2).find(|w| w[0].name() == w[1].name()) {
            return Err(Error::DuplicateSkill(pair[0].name().to_owned()));
        }
        if !self.settings.path.starts_with('/') {
            return Err(Error::Config {
                name: "path",
                reason: format!("`{}` must start with `/`", self.settings.path),
            });
        }
        let tools = all.into_iter().map(|t| (t.info.name.clone(), t)).collect();
        let clock = self.clock.unwrap_or_else(|| Arc::new(system_now));
        if self.settings.record_ttl < self.tolerance * 2 {
            return Err(Error::Config {
                name: "record_ttl",
                reason: format!(
                    "{:?} is shorter than twice the signature window ({:?}): a replayed call \
                     could run again",
                    self.settings.record_ttl,
                    self.tolerance * 2
                ),
            });
        }
        let store = match (self.idempotency, self.store) {
            (false, _) => None,
            (true, Some(store)) => Some(store),
            (true, None) => Some(Arc::new(MemoryStore::default()) as Arc<dyn CallStore>),
        };
        Ok(Pillar {
            inner: Arc::new(Inner {
                verifier,
                secrets,
                tools,
                listing,
                skills,
                settings: self.settings,
                clock,
                store,
                in_flight: AtomicUsize::new(0),
            }),
        })
    }
}

pub(crate) fn system_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Why a tool call did not produce a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ToolCallError {
    kind: ToolCallErrorKind,
    message: String,
}

/// The kind of a [`ToolCallError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolCallErrorKind {
    /// No tool has that name.
    NotFound,
    /// The caller's channel is not among the tool's channels.
    ChannelNotAllowed,
    /// The arguments do not fit the tool's parameters.
    InvalidArguments,
    /// The tool returned an error.
    Failed,
    /// The tool ran past its `timeout_ms`.
    TimedOut,
    /// The tool panicked.
    Panicked,
}

impl ToolCallErrorKind {
    /// A short name for logs (`not_found`, `timed_out`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::ChannelNotAllowed => "channel_not_allowed",
            Self::InvalidArguments => "invalid_arguments",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Panicked => "panicked",
        }
    }
}

impl ToolCallError {
    /// The webhook answer for this failure: 404 for an unknown tool, else 200.
    fn into_answer(self, call_id: &str) -> (StatusCode, Answer) {
        let status = if self.kind == ToolCallErrorKind::NotFound {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        (status, Answer::tool_error(call_id, self.message))
    }

    fn new(kind: ToolCallErrorKind, message: String) -> Self {
        Self { kind, message }
    }

    /// What went wrong.
    pub fn kind(&self) -> ToolCallErrorKind {
        self.kind
    }

    /// The message the agent sees.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Pillar {
    /// Starts a `Pillar`.
    pub fn builder() -> PillarBuilder {
        PillarBuilder {
            secrets: Vec::new(),
            tools: Vec::new(),
            registered_tools: true,
            clock: None,
            tolerance: DEFAULT_TOLERANCE,
            skills: Vec::new(),
            settings: Settings::default(),
            store: None,
            idempotency: true,
        }
    }

    /// Every tool's registration form, sorted by name: what is sent to Pillar Cloud.
    pub fn tools(&self) -> &[ToolInfo] {
        &self.inner.listing
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
        self.inner.tools.get(name)
    }

    /// The signature verifier in use.
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// Answers one webhook request: `body` exactly as received (the signature covers
    /// these bytes) and the request's headers. Returns the HTTP status and the JSON body
    /// to send back.
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
    /// | the same `call_id` with another tool or input | 409 | `{"call_id": "...", "success": false, "error": "..."}`, not run |
    /// | the record of calls unreachable or full | 503 + [`Answer::retry_after`] | `{"success": false, "error": "..."}`, not run |
    ///
    /// Only the `action` is read before the signature is checked (to answer pings); the
    /// payload is parsed only once its bytes are verified. Every request but a ping needs
    /// a valid signature, whatever headers are passed.
    pub async fn handle(&self, body: &[u8], headers: &HeaderMap) -> (StatusCode, Answer) {
        let Ok(action) = probe_action(body) else {
            return (
                StatusCode::BAD_REQUEST,
                Answer::request_error("Invalid JSON"),
            );
        };
        if action.as_deref() == Some("ping") {
            return (StatusCode::OK, Answer::pong());
        }
        let now = (self.inner.clock)();
        if let Err(reason) = self.inner.verifier.verify_headers(headers, body, now) {
            tracing::warn!(%reason, "webhook rejected: invalid signature");
            return (
                StatusCode::UNAUTHORIZED,
                Answer::request_error("Invalid signature"),
            );
        }
        let field = match action.as_deref() {
            Some("tool_call") => "arguments",
            Some("tool_confirm") => "confirm_payload",
            other => {
                let shown = other.unwrap_or("(missing)");
                return (
                    StatusCode::BAD_REQUEST,
                    Answer::request_error(format!("Unknown action: {shown}")),
                );
            }
        };
        let envelope = match parse_envelope(body) {
            Ok(envelope) => envelope,
            Err(message) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Answer::request_error(format!("Invalid payload: {message}")),
                )
            }
        };
        let call_id = envelope.call_id.as_deref().unwrap_or("");
        let tool_name = envelope.tool_name.as_deref().unwrap_or("");
        let confirm = field == "confirm_payload";
        let (raw_input, field) = if confirm {
            match envelope.confirm_payload {
                Some(raw) => (Some(raw), "confirm_payload"),
                None => (envelope.arguments, "arguments"),
            }
        } else {
            (envelope.arguments, "arguments")
        };
        let ctx = ToolContext {
            caller: envelope.caller.unwrap_or_default(),
            conversation_id: envelope
                .conversation_id
                .map(Cow::into_owned)
                .unwrap_or_default(),
            call_id: call_id.to_owned(),
            tool_name: tool_name.to_owned(),
            product_id: envelope.product_id,
            confirmed: confirm || envelope.confirmed.unwrap_or(false),
        };
        let input = raw_input.map_or("{}", RawValue::get);
        let tool = match self.find(tool_name) {
            Ok(tool) => tool,
            Err(err) => return err.into_answer(call_id),
        };
        let action = if confirm { "tool_confirm" } else { "tool_call" };
        let span = tracing::info_span!("pillar_call", tool = tool_name, call_id, action);
        match &self.inner.store {
            Some(store) if !call_id.is_empty() => {
                self.handle_once(store, action, tool, input, field, ctx)
                    .instrument(span)
                    .await
            }
            _ => {
                self.answer_call(tool, input, field, ctx)
                    .instrument(span)
                    .await
            }
        }
    }

    /// Runs a call and turns its outcome into the answer, with one log line.
    async fn answer_call(
        &self,
        tool: &Tool,
        input: &str,
        field: &'static str,
        ctx: ToolContext,
    ) -> (StatusCode, Answer) {
        let started = Instant::now();
        let call_id = ctx.call_id.clone();
        let result = self.run_tool(tool, input, field, ctx).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(err) => err.kind.as_str(),
        };
        tracing::info!(
            outcome,
            duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "tool call answered"
        );
        match result {
            Ok(result) => (StatusCode::OK, Answer::success(&call_id, result)),
            Err(err) => err.into_answer(&call_id),
        }
    }

    /// At most one run per `(action, call_id)`: claims the key, runs the tool, records
    /// the answer; a repeat delivery gets the recorded answer (waiting for it while the
    /// first delivery runs). Once claimed, the run goes on even if the caller goes away
    /// (a client that disconnects), so its answer is recorded for the retry.
    async fn handle_once(
        &self,
        store: &Arc<dyn CallStore>,
        action: &'static str,
        tool: &Tool,
        input: &str,
        field: &'static str,
        ctx: ToolContext,
    ) -> (StatusCode, Answer) {
        let call_id = ctx.call_id.clone();
        let key = format!("{action}:{call_id}");
        let fingerprint = fingerprint(&tool.info.name, input);
        let claim_ttl = tool.timeout() + CLAIM_MARGIN;
        let deadline = Instant::now() + claim_ttl;
        loop {
            match store.claim(&key, fingerprint, claim_ttl).await {
                Ok(Claim::Run) => break,
                Ok(Claim::Done(recorded)) => {
                    tracing::info!("repeat delivery: answered with the first delivery's answer");
                    return (recorded.status, recorded.answer);
                }
                Ok(Claim::InProgress) if Instant::now() < deadline => store.changed(&key).await,
                Ok(Claim::InProgress) => {
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Answer::unavailable(
                            "The first delivery of this call is still running; retry later",
                            5,
                        ),
                    )
                }
                Ok(Claim::Conflict) => {
                    tracing::warn!("call_id reused for a different request: not run");
                    return (
                        StatusCode::CONFLICT,
                        Answer::tool_error(
                            &call_id,
                            format!(
                                "call_id '{call_id}' was already used for a different \
                                 {action} (another tool or other input); this one was not run"
                            ),
                        ),
                    );
                }
                Err(StoreError::Full(records)) => {
                    tracing::error!(
                        records,
                        "the record of recent calls is full: refusing the call rather than \
                         forget one that ran (raise the store's capacity or shorten record_ttl)"
                    );
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Answer::unavailable(
                            "Busy: too many calls in the record window; retry later",
                            30,
                        ),
                    );
                }
                Err(err) => {
                    tracing::error!(
                        %err,
                        "the record of calls is unavailable: refusing the call rather than \
                         risk running it twice"
                    );
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Answer::unavailable(
                            "Temporarily unavailable: the record of calls cannot be reached; retry",
                            1,
                        ),
                    );
                }
            }
        }
        let pillar = self.clone();
        let store = Arc::clone(store);
        let input = input.to_owned();
        let ttl = self.inner.settings.record_ttl;
        let work = async move {
            let (status, answer) = match pillar.find(&ctx.tool_name) {
                Ok(tool) => pillar.answer_call(tool, &input, field, ctx).await,
                Err(err) => err.into_answer(&ctx.call_id),
            };
            let recorded = Recorded { status, answer };
            if let Err(err) = store.complete(&key, fingerprint, &recorded, ttl).await {
                tracing::error!(
                    %err,
                    "the answer could not be recorded; a repeat delivery may run the tool \
                     again once the claim expires"
                );
            }
            (recorded.status, recorded.answer)
        };
        DetachOnDrop(Some(Box::pin(work.in_current_span()))).await
    }

    /// Counts a request in flight, or refuses it when
    /// [`max_in_flight`](crate::Settings::max_in_flight) are running already (load
    /// shedding: the caller answers 503 with `Retry-After` instead of queueing).
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn admit(&self) -> Option<InFlight<'_>> {
        let counter = &self.inner.in_flight;
        if counter.fetch_add(1, Ordering::AcqRel) >= self.inner.settings.max_in_flight {
            counter.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(InFlight(counter))
    }

    /// Runs a tool by name, in process, through the same checks and shim as a webhook
    /// call (argument parsing, channel check, timeout, panic guard), with no signature.
    /// The analogue of the official SDKs' `executeToolForDebug`; see also
    /// [`testing::call`](crate::testing::call).
    ///
    /// # Errors
    /// A [`ToolCallError`] whose message is what the agent would have seen.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: &Value,
        ctx: ToolContext,
    ) -> Result<Value, ToolCallError> {
        let json = arguments.to_string();
        let ctx = ToolContext {
            tool_name: name.to_owned(),
            ..ctx
        };
        let raw = self
            .run_tool(self.find(name)?, &json, "arguments", ctx)
            .await?;
        serde_json::from_str(raw.get()).map_err(|e| {
            ToolCallError::new(
                ToolCallErrorKind::Failed,
                format!("result is not JSON: {e}"),
            )
        })
    }

    /// The tool called `name`, or the not-found error the agent sees.
    fn find(&self, name: &str) -> Result<&Tool, ToolCallError> {
        self.inner.tools.get(name).ok_or_else(|| {
            tracing::warn!(tool = name, "call for an unknown tool");
            ToolCallError::new(
                ToolCallErrorKind::NotFound,
                format!("Tool '{name}' not found"),
            )
        })
    }

    /// The shared path of every call once the tool is found: check the channel, parse,
    /// run guarded.
    async fn run_tool(
        &self,
        tool: &Tool,
        input: &str,
        field: &'static str,
        ctx: ToolContext,
    ) -> Result<Box<RawValue>, ToolCallError> {
        let name = tool.info.name.as_str();
        let channel = ctx.caller.channel.as_str();
        if !tool.allows_channel(channel) {
            return Err(ToolCallError::new(
                ToolCallErrorKind::ChannelNotAllowed,
                format!(
                    "Tool '{name}' is not available on the {channel} channel (allowed: {})",
                    tool.info.channel_compatibility.join(", ")
                ),
            ));
        }
        if !input.starts_with('{') {
            return Err(ToolCallError::new(
                ToolCallErrorKind::InvalidArguments,
                format!(
                    "{field}: expected a JSON object, found {}",
                    json_kind(input)
                ),
            ));
        }
        let future = match start(tool, input, field, ctx) {
            Ok(future) => future,
            Err(Started::Arguments(message)) => {
                return Err(ToolCallError::new(
                    ToolCallErrorKind::InvalidArguments,
                    message,
                ))
            }
            Err(Started::Panicked(payload)) => return Err(self.panicked(name, &*payload)),
        };
        let outcome = tokio::time::timeout(tool.timeout(), CatchUnwind(future)).await;
        let result = match outcome {
            Ok(Ok(ToolOutput::Ok(raw))) => Ok(raw),
            Ok(Ok(ToolOutput::Err(message))) => Err(ToolCallError::new(
                ToolCallErrorKind::Failed,
                self.redact(message),
            )),
            Ok(Err(payload)) => Err(self.panicked(name, &*payload)),
            Err(_) => Err(ToolCallError::new(
                ToolCallErrorKind::TimedOut,
                format!("Tool '{name}' timed out after {} ms", tool.info.timeout_ms),
            )),
        };
        result
    }

    fn panicked(&self, name: &str, payload: &(dyn Any + Send)) -> ToolCallError {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic payload)".to_owned());
        tracing::error!(tool = name, panic = %self.redact(text), "tool panicked");
        ToolCallError::new(
            ToolCallErrorKind::Panicked,
            format!("Tool '{name}' failed with an internal error (details are in the server log)"),
        )
    }

    /// Replaces every accepted secret in an error text, so a tool's error that quotes a
    /// secret cannot leak it to the agent.
    fn redact(&self, text: String) -> String {
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
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn api_secret(&self) -> &str {
        self.inner.secrets.first().map_or("", Secret::expose)
    }
}

/// How much longer than its tool's timeout a claim lives: a claimant that crashed
/// frees the key after this.
const CLAIM_MARGIN: Duration = Duration::from_secs(30);

/// A request counted by [`Pillar::admit`]; uncounted when dropped.
#[cfg_attr(not(feature = "serve"), allow(dead_code))]
pub(crate) struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Polls a future in place; if dropped before it finishes (the caller went away), hands
/// the rest of it to the runtime so it still completes. No task is spawned on the
/// ordinary path.
struct DetachOnDrop<T: Send + 'static>(Option<Pin<Box<dyn Future<Output = T> + Send>>>);

impl<T: Send + 'static> Future for DetachOnDrop<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        let Some(future) = this.0.as_mut() else {
            return Poll::Pending;
        };
        match future.as_mut().poll(cx) {
            Poll::Ready(output) => {
                this.0 = None;
                Poll::Ready(output)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: Send + 'static> Drop for DetachOnDrop<T> {
    fn drop(&mut self) {
        if let Some(future) = self.0.take() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                tracing::info!("the caller went away: the call runs on and its answer is kept");
                runtime.spawn(async move {
                    let _ = future.await;
                });
            }
        }
    }
}

enum Started {
    Arguments(String),
    Panicked(Box<dyn Any + Send>),
}

/// Parses the input and creates the tool's future; user code (a custom `Deserialize`)
/// may run here, so it is guarded too.
fn start(
    tool: &Tool,
    input: &str,
    field: &'static str,
    ctx: ToolContext,
) -> Result<ToolFuture, Started> {
    let attempt = std::panic::catch_unwind(AssertUnwindSafe(|| match &tool.handler {
        Handler::Static(call) => call(Input::new(input, field), ctx).map_err(|e| e.0),
        Handler::Dynamic(handler) => {
            crate::private::from_json_with_path::<Value>(input.as_bytes(), Some(field))
                .map(|args| handler(args, ctx))
        }
    }));
    match attempt {
        Ok(Ok(future)) => Ok(future),
        Ok(Err(message)) => Err(Started::Arguments(message)),
        Err(payload) => Err(Started::Panicked(payload)),
    }
}

/// Turns a panic while polling the tool's future into an error value.
struct CatchUnwind(ToolFuture);

impl Future for CatchUnwind {
    type Output = Result<ToolOutput, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

fn json_kind(json: &str) -> &'static str {
    match json.as_bytes().first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// Reads only `action`, before the signature is checked. Fails when the body is not
/// JSON. A JSON document that is not an object has no action.
fn probe_action(body: &[u8]) -> Result<Option<Cow<'_, str>>, InvalidJson> {
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, default)]
        action: Option<&'a RawValue>,
    }

    // JSON is UTF-8 throughout; serde_json does not check the strings it skips.
    let text = std::str::from_utf8(body).map_err(|_| InvalidJson)?;
    let starts_object = text
        .bytes()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| b == b'{');
    if !starts_object {
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|_| InvalidJson)?;
        return Ok(None);
    }
    let probe: Probe<'_> = serde_json::from_str(text).map_err(|_| InvalidJson)?;
    Ok(probe.action.map(|raw| {
        serde_json::from_str::<Cow<'_, str>>(raw.get()).unwrap_or_else(|_| Cow::Borrowed(raw.get()))
    }))
}

/// The body is not JSON (or not UTF-8).
struct InvalidJson;

/// The payload of a verified `tool_call` or `tool_confirm`.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    tool_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(borrow, default)]
    confirm_payload: Option<&'a RawValue>,
    #[serde(borrow, default)]
    conversation_id: Option<Cow<'a, str>>,
    #[serde(default)]
    product_id: Option<String>,
    #[serde(default)]
    confirmed: Option<bool>,
    #[serde(default)]
    caller: Option<CallerInfo>,
}

fn parse_envelope(body: &[u8]) -> Result<Envelope<'_>, String> {
    let mut envelope: Envelope<'_> = crate::private::from_json_with_path(body, None)?;
    // `"arguments": null` reads as no arguments.
    for slot in [&mut envelope.arguments, &mut envelope.confirm_payload] {
        if slot.is_some_and(|raw| raw.get() == "null") {
            *slot = None;
        }
    }
    Ok(envelope)
}
