//! [`Pillar`]: the registry of tools and the framework-independent webhook handler.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
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
use crate::idempotency::{
    fingerprint, CallStore, Claim, Key as MemoryKey, MemoryStore, Recorded, StoreError,
};
use crate::output::{ToolFuture, ToolOutput};
use crate::private::{Input, StaticTool};
use crate::signature::{Secret, SignatureError, Verifier, DEFAULT_TOLERANCE};
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
    /// Where claims and answers are kept; `None` when idempotency is off.
    store: Option<Store>,
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
                    .tools
                    .iter()
                    .map(|t| &t.info.name)
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
    store: Option<Store>,
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
        self.store = Some(Store::new(store));
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
        let index = all
            .iter()
            .enumerate()
            .map(|(i, t)| (t.info.name.clone(), i))
            .collect();
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
            (true, None) => Some(Store::Memory(Arc::new(MemoryStore::default()))),
        };
        Ok(Pillar {
            inner: Arc::new(Inner {
                verifier,
                secrets,
                names: all
                    .iter()
                    .map(|t| Arc::from(t.info.name.as_str()))
                    .collect(),
                tools: all,
                index,
                listing: OnceLock::new(),
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
    fn into_answer(self, call_id: impl Into<Arc<str>>) -> (StatusCode, Answer) {
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
        self.inner
            .listing
            .get_or_init(|| self.inner.tools.iter().map(|t| t.info.clone()).collect())
    }

    /// How many tools are served.
    pub(crate) fn tool_count(&self) -> usize {
        self.inner.tools.len()
    }

    /// The longest `timeout_ms` of any tool (0 without tools).
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
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
    /// The signature is checked first, and a signed call's body is parsed once, after its
    /// bytes are verified. An unsigned or badly signed body is read only as far as its
    /// `action` (to tell a ping or a body that is not JSON from a forgery); nothing else
    /// in it is used. Every request but a ping needs a valid signature, whatever headers
    /// are passed.
    pub async fn handle(&self, body: &[u8], headers: &HeaderMap) -> (StatusCode, Answer) {
        let handled = self.handle_inner(body, headers).await;
        (handled.status, handled.answer)
    }

    /// [`handle`](Self::handle) with the answer's body as bytes, serialised once: the
    /// record of calls and the response share them.
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) async fn handle_encoded(
        &self,
        body: &[u8],
        headers: &HeaderMap,
    ) -> (StatusCode, Answer, Vec<u8>) {
        let handled = self.handle_inner(body, headers).await;
        let bytes = handled.encoded.unwrap_or_else(|| handled.answer.to_bytes());
        (handled.status, handled.answer, bytes)
    }

    async fn handle_inner(&self, body: &[u8], headers: &HeaderMap) -> Handled {
        let now = (self.inner.clock)();
        let verified = self.inner.verifier.verify_headers(headers, body, now);
        // The usual request, a signed call, is parsed once, after its bytes are verified.
        // Anything else (a ping, a bad signature, a malformed payload) takes the careful
        // path, which answers in the protocol's order of checks.
        let parsed = match verified {
            Ok(()) => parse_call(body),
            Err(_) => None,
        };
        let (envelope, confirm) = match parsed {
            Some(parsed) => parsed,
            None => match self.parse_unusual(body, verified) {
                Ok(parsed) => parsed,
                Err(answer) => return answer.into(),
            },
        };
        let call_id = envelope.call_id.as_deref().unwrap_or("");
        let tool_name = envelope.tool_name.as_deref().unwrap_or("");
        let (raw_input, field) = if confirm {
            match envelope.confirm_payload {
                Some(raw) => (Some(raw), "confirm_payload"),
                None => (envelope.arguments, "arguments"),
            }
        } else {
            (envelope.arguments, "arguments")
        };
        let index = match self.find(tool_name) {
            Ok(index) => index,
            Err(err) => return err.into_answer(call_id).into(),
        };
        let ctx = ToolContext {
            caller: envelope.caller.unwrap_or_default(),
            conversation_id: envelope
                .conversation_id
                .map(Cow::into_owned)
                .unwrap_or_default(),
            call_id: Arc::from(call_id),
            tool_name: Arc::clone(&self.inner.names[index]),
            product_id: envelope.product_id,
            confirmed: confirm || envelope.confirmed.unwrap_or(false),
        };
        let input = raw_input.map_or("{}", RawValue::get);
        let action = if confirm { "tool_confirm" } else { "tool_call" };
        let span = tracing::info_span!("pillar_call", tool = tool_name, call_id, action);
        match &self.inner.store {
            Some(store) if !call_id.is_empty() => {
                self.handle_once(store, action, index, input, field, ctx)
                    .instrument(span)
                    .await
            }
            _ => self
                .answer_call(&self.inner.tools[index], input, field, ctx)
                .instrument(span)
                .await
                .into(),
        }
    }

    /// The careful path of [`handle`](Self::handle), in the protocol's order of checks:
    /// JSON, ping, signature, action, payload. Gives the payload of a verified call, or
    /// the answer.
    #[allow(clippy::result_large_err)]
    fn parse_unusual<'a>(
        &self,
        body: &'a [u8],
        verified: Result<(), SignatureError>,
    ) -> Result<(Envelope<'a>, bool), (StatusCode, Answer)> {
        let Ok(action) = probe_action(body) else {
            return Err((
                StatusCode::BAD_REQUEST,
                Answer::request_error("Invalid JSON"),
            ));
        };
        if action.as_deref() == Some("ping") {
            return Err((StatusCode::OK, Answer::pong()));
        }
        if let Err(reason) = verified {
            tracing::warn!(%reason, "webhook rejected: invalid signature");
            return Err((
                StatusCode::UNAUTHORIZED,
                Answer::request_error("Invalid signature"),
            ));
        }
        let confirm = match action.as_deref() {
            Some("tool_call") => false,
            Some("tool_confirm") => true,
            other => {
                let shown = other.unwrap_or("(missing)");
                return Err((
                    StatusCode::BAD_REQUEST,
                    Answer::request_error(format!("Unknown action: {shown}")),
                ));
            }
        };
        match parse_envelope(body) {
            Ok(envelope) => Ok((envelope, confirm)),
            Err(message) => Err((
                StatusCode::BAD_REQUEST,
                Answer::request_error(format!("Invalid payload: {message}")),
            )),
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
        let started = tracing::enabled!(tracing::Level::INFO).then(Instant::now);
        let call_id = Arc::clone(&ctx.call_id);
        let result = self.run_tool(tool, input, field, ctx).await;
        conclude(result, call_id, started)
    }

    /// At most one run per `(action, call_id)`: claims the key, runs the tool, records
    /// the answer; a repeat delivery gets the recorded answer (waiting for it while the
    /// first delivery runs). Once claimed, the run goes on even if the caller goes away
    /// (a client that disconnects), so its answer is recorded for the retry.
    async fn handle_once(
        &self,
        store: &Store,
        action: &'static str,
        index: usize,
        input: &str,
        field: &'static str,
        ctx: ToolContext,
    ) -> Handled {
        let tool = &self.inner.tools[index];
        let record = store.record(action, &ctx.call_id);
        let fingerprint = fingerprint(&tool.info.name, input);
        let claim_ttl = tool.timeout() + CLAIM_MARGIN;
        let mut deadline = None;
        loop {
            match record.claim(fingerprint, claim_ttl).await {
                Ok(Claim::Run) => break,
                Ok(Claim::Done(recorded)) => {
                    tracing::info!("repeat delivery: answered with the first delivery's answer");
                    return (recorded.status, recorded.answer).into();
                }
                Ok(Claim::InProgress) => {
                    // A repeat waits for the first delivery at most as long as its claim.
                    let until = *deadline.get_or_insert_with(|| Instant::now() + claim_ttl);
                    if Instant::now() >= until {
                        return (
                            StatusCode::SERVICE_UNAVAILABLE,
                            Answer::unavailable(
                                "The first delivery of this call is still running; retry later",
                                5,
                            ),
                        )
                            .into();
                    }
                    record.changed().await;
                }
                Ok(Claim::Conflict) => {
                    tracing::warn!("call_id reused for a different request: not run");
                    let message = format!(
                        "call_id '{}' was already used for a different {action} (another tool \
                         or other input); this one was not run",
                        ctx.call_id
                    );
                    return (
                        StatusCode::CONFLICT,
                        Answer::tool_error(ctx.call_id, message),
                    )
                        .into();
                }
                Err(StoreError::Full(records)) => {
                    tracing::error!(
                        records,
                        "the record of recent calls is full of calls still running: refusing \
                         the call rather than forget one (raise the store's capacity)"
                    );
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Answer::unavailable(
                            "Busy: too many calls in the record window; retry later",
                            30,
                        ),
                    )
                        .into();
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
                    )
                        .into();
                }
            }
        }
        let started = tracing::enabled!(tracing::Level::INFO).then(Instant::now);
        let call_id = Arc::clone(&ctx.call_id);
        let ttl = self.inner.settings.record_ttl;
        // Nothing below yields until the tool does: a tool that answers on its first poll
        // (most) is run, answered and recorded without a box or a task.
        let result = match self.begin_tool(tool, input, field, ctx).await {
            Begun::Finished(result) => result,
            Begun::Running(guarded) => {
                // The tool waits: from here its run goes on even if the caller goes away,
                // so that its answer is recorded for the retry.
                let pillar = self.clone();
                let work = async move {
                    let result = pillar.tool_result(&pillar.inner.tools[index], guarded.await);
                    let (status, answer) = conclude(result, call_id, started);
                    record.complete(fingerprint, status, answer, ttl).await
                };
                return DetachOnDrop(Some(Box::pin(work.in_current_span()))).await;
            }
        };
        let (status, answer) = conclude(result, call_id, started);
        if record.completes_at_once() {
            return record.complete(fingerprint, status, answer, ttl).await;
        }
        // A store across the network: its write goes on even if the caller goes away.
        let work = async move { record.complete(fingerprint, status, answer, ttl).await };
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
            tool_name: Arc::from(name),
            ..ctx
        };
        let tool = &self.inner.tools[self.find(name)?];
        let raw = self.run_tool(tool, &json, "arguments", ctx).await?;
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
        match self.begin_tool(tool, input, field, ctx).await {
            Begun::Finished(result) => result,
            Begun::Running(guarded) => self.tool_result(tool, guarded.await),
        }
    }

    /// Checks the call, starts the tool and polls it once (the `await` never yields).
    async fn begin_tool(
        &self,
        tool: &Tool,
        input: &str,
        field: &'static str,
        ctx: ToolContext,
    ) -> Begun {
        let name = tool.info.name.as_str();
        let channel = ctx.caller.channel.as_str();
        if !tool.allows_channel(channel) {
            return Begun::Finished(Err(ToolCallError::new(
                ToolCallErrorKind::ChannelNotAllowed,
                format!(
                    "Tool '{name}' is not available on the {channel} channel (allowed: {})",
                    tool.info.channel_compatibility.join(", ")
                ),
            )));
        }
        if !input.starts_with('{') {
            return Begun::Finished(Err(ToolCallError::new(
                ToolCallErrorKind::InvalidArguments,
                format!(
                    "{field}: expected a JSON object, found {}",
                    json_kind(input)
                ),
            )));
        }
        let future = match start(tool, input, field, ctx) {
            Ok(future) => future,
            Err(Started::Arguments(message)) => {
                return Begun::Finished(Err(ToolCallError::new(
                    ToolCallErrorKind::InvalidArguments,
                    message,
                )))
            }
            Err(Started::Panicked(payload)) => {
                return Begun::Finished(Err(self.panicked(name, &*payload)))
            }
        };
        let mut guarded = Guarded::new(future, tool.timeout());
        match std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut guarded).poll(cx))).await {
            Poll::Ready(outcome) => Begun::Finished(self.tool_result(tool, outcome)),
            Poll::Pending => Begun::Running(guarded),
        }
    }

    /// A tool's result, or the error the agent sees, from what its guard reported.
    fn tool_result(
        &self,
        tool: &Tool,
        outcome: Option<Result<ToolOutput, Box<dyn Any + Send>>>,
    ) -> Result<Box<RawValue>, ToolCallError> {
        let name = tool.info.name.as_str();
        match outcome {
            Some(Ok(ToolOutput::Ok(raw))) => Ok(raw),
            Some(Ok(ToolOutput::Err(message))) => Err(ToolCallError::new(
                ToolCallErrorKind::Failed,
                self.redact(message),
            )),
            Some(Err(payload)) => Err(self.panicked(name, &*payload)),
            None => Err(ToolCallError::new(
                ToolCallErrorKind::TimedOut,
                format!("Tool '{name}' timed out after {} ms", tool.info.timeout_ms),
            )),
        }
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

/// A call's answer from its tool's result, with one log line (when `started`: info
/// logging is on).
fn conclude(
    result: Result<Box<RawValue>, ToolCallError>,
    call_id: Arc<str>,
    started: Option<Instant>,
) -> (StatusCode, Answer) {
    if let Some(started) = started {
        let outcome = match &result {
            Ok(_) => "ok",
            Err(err) => err.kind.as_str(),
        };
        tracing::info!(
            outcome,
            duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "tool call answered"
        );
    }
    match result {
        Ok(result) => (StatusCode::OK, Answer::success(call_id, result)),
        Err(err) => err.into_answer(call_id),
    }
}

/// A tool call once started: finished (refused before it ran, or done on its first poll)
/// or still running.
enum Begun {
    Finished(Result<Box<RawValue>, ToolCallError>),
    Running(Guarded),
}

/// What [`Pillar::handle_inner`] answers: the status, the answer, and its body as bytes
/// when they were made already (to record the answer).
struct Handled {
    status: StatusCode,
    answer: Answer,
    encoded: Option<Vec<u8>>,
}

impl Handled {
    /// A call's answer after the attempt to record it: an error is logged, and the
    /// answer goes out anyway (the tool ran).
    fn recorded(
        stored: Result<(), StoreError>,
        status: StatusCode,
        answer: Answer,
        encoded: Option<Vec<u8>>,
    ) -> Self {
        if let Err(err) = stored {
            tracing::error!(
                %err,
                "the answer could not be recorded; a repeat delivery may run the tool \
                 again once the claim expires"
            );
        }
        Self {
            status,
            answer,
            encoded,
        }
    }
}

impl From<(StatusCode, Answer)> for Handled {
    fn from((status, answer): (StatusCode, Answer)) -> Self {
        Self {
            status,
            answer,
            encoded: None,
        }
    }
}

/// Where the record of calls is kept: the built-in [`MemoryStore`] is called directly (no
/// boxed futures, no key string), any other store through [`CallStore`].
#[derive(Clone)]
enum Store {
    Memory(Arc<MemoryStore>),
    Other(Arc<dyn CallStore>),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory(store) => store.fmt(f),
            Self::Other(store) => store.fmt(f),
        }
    }
}

impl Store {
    fn new<S: CallStore>(store: S) -> Self {
        let mut slot = Some(store);
        let memory = (&mut slot as &mut dyn Any)
            .downcast_mut::<Option<MemoryStore>>()
            .and_then(Option::take)
            .map(Arc::new)
            .or_else(|| {
                (&mut slot as &mut dyn Any)
                    .downcast_mut::<Option<Arc<MemoryStore>>>()
                    .and_then(Option::take)
            });
        match (memory, slot) {
            (Some(memory), _) => Self::Memory(memory),
            (None, Some(store)) => Self::Other(Arc::new(store)),
            // The store was taken only by a successful downcast above.
            (None, None) => Self::Memory(Arc::default()),
        }
    }

    /// The record of one call, `<action>:<call_id>`.
    fn record(&self, action: &str, call_id: &str) -> CallRecord {
        match self {
            Self::Memory(store) => CallRecord::Memory {
                key: store.key_of(&[action, ":", call_id]),
                store: Arc::clone(store),
            },
            Self::Other(store) => {
                let mut key = String::with_capacity(action.len() + 1 + call_id.len());
                key.push_str(action);
                key.push(':');
                key.push_str(call_id);
                CallRecord::Other {
                    key,
                    store: Arc::clone(store),
                }
            }
        }
    }
}

/// One call's key in its store.
enum CallRecord {
    Memory {
        store: Arc<MemoryStore>,
        key: MemoryKey,
    },
    Other {
        store: Arc<dyn CallStore>,
        key: String,
    },
}

impl CallRecord {
    async fn claim(&self, fingerprint: u64, ttl: Duration) -> Result<Claim, StoreError> {
        match self {
            Self::Memory { store, key } => store.claim_now(*key, fingerprint, ttl),
            Self::Other { store, key } => store.claim(key, fingerprint, ttl).await,
        }
    }

    /// Whether [`complete`](Self::complete) finishes without yielding (the built-in
    /// store), so that a caller going away cannot interrupt it.
    fn completes_at_once(&self) -> bool {
        matches!(self, Self::Memory { .. })
    }

    /// Records the answer, and gives it back with its body as bytes when it was
    /// serialised to record it.
    async fn complete(
        &self,
        fingerprint: u64,
        status: StatusCode,
        answer: Answer,
        ttl: Duration,
    ) -> Handled {
        match self {
            Self::Memory { store, key } => {
                let bytes = answer.to_bytes();
                let stored = store.complete_encoded(*key, fingerprint, status, &bytes, ttl);
                Handled::recorded(stored, status, answer, Some(bytes))
            }
            Self::Other { store, key } => {
                let recorded = Recorded { status, answer };
                let stored = store.complete(key, fingerprint, &recorded, ttl).await;
                Handled::recorded(stored, recorded.status, recorded.answer, None)
            }
        }
    }

    async fn changed(&self) {
        match self {
            Self::Memory { store, key } => store.changed_now(*key).await,
            Self::Other { store, key } => store.changed(key).await,
        }
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

/// Runs a tool's future with a panic guard and its timeout: `None` once the timeout has
/// passed, `Some(Err(payload))` when a poll panicked. The timer is armed only when the
/// future does not finish on its first poll (most tools answer without waiting), with a
/// deadline counted from the start.
struct Guarded {
    future: ToolFuture,
    started: tokio::time::Instant,
    timeout: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Guarded {
    fn new(future: ToolFuture, timeout: Duration) -> Self {
        Self {
            future,
            started: tokio::time::Instant::now(),
            timeout,
            timer: None,
        }
    }
}

impl Future for Guarded {
    type Output = Option<Result<ToolOutput, Box<dyn Any + Send>>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let future = &mut this.future;
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => return Poll::Ready(Some(Ok(output))),
            Err(payload) => return Poll::Ready(Some(Err(payload))),
            Ok(Poll::Pending) => {}
        }
        let (started, timeout) = (this.started, this.timeout);
        let timer = this.timer.get_or_insert_with(|| {
            Box::pin(match started.checked_add(timeout) {
                Some(deadline) => tokio::time::sleep_until(deadline),
                // Too far to represent: tokio caps it.
                None => tokio::time::sleep(timeout),
            })
        });
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
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
    /// Read by the fast path; the careful path has read it already.
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    action: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    tool_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(borrow, default)]
    confirm_payload: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    conversation_id: Option<Cow<'a, str>>,
    #[serde(default)]
    product_id: Option<String>,
    #[serde(default)]
    confirmed: Option<bool>,
    #[serde(default)]
    caller: Option<CallerInfo>,
}

/// An optional string that borrows from the body unless it has escapes (serde's own
/// `Option<Cow<str>>` always copies).
fn borrowed_str<'de: 'a, 'a, D>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Text<'a>(Cow<'a, str>);

    impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Cow<'de, str>;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string")
                }

                fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                    Ok(Cow::Borrowed(v))
                }

                fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(Cow::Owned(v.to_owned()))
                }

                fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                    Ok(Cow::Owned(v))
                }
            }
            deserializer.deserialize_str(Visit).map(Text)
        }
    }

    Ok(Option::<Text<'a>>::deserialize(deserializer)?.map(|text| text.0))
}

/// The fast path: a verified `tool_call` or `tool_confirm`, parsed once with plain
/// serde_json. `None` for anything else (another action, no action, any error), which
/// [`Pillar::parse_unusual`] then answers precisely.
fn parse_call(body: &[u8]) -> Option<(Envelope<'_>, bool)> {
    // JSON is UTF-8 throughout; serde_json does not check the strings it skips.
    let text = std::str::from_utf8(body).ok()?;
    let mut envelope: Envelope<'_> = serde_json::from_str(text).ok()?;
    let confirm = match envelope.action.as_deref()? {
        "tool_call" => false,
        "tool_confirm" => true,
        _ => return None,
    };
    null_means_none(&mut envelope);
    Some((envelope, confirm))
}

/// `"arguments": null` reads as no arguments.
fn null_means_none(envelope: &mut Envelope<'_>) {
    for slot in [&mut envelope.arguments, &mut envelope.confirm_payload] {
        if slot.is_some_and(|raw| raw.get() == "null") {
            *slot = None;
        }
    }
}

fn parse_envelope(body: &[u8]) -> Result<Envelope<'_>, String> {
    let mut envelope: Envelope<'_> = crate::private::from_json_with_path(body, None)?;
    null_means_none(&mut envelope);
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_parsed_without_copying_its_strings() {
        let body =
            br#"{"action":"tool_call","tool_name":"t","call_id":"tc_1","conversation_id":"c"}"#;
        let (envelope, confirm) = parse_call(body).unwrap();
        assert!(!confirm);
        for field in [
            envelope.action,
            envelope.tool_name,
            envelope.call_id,
            envelope.conversation_id,
        ] {
            assert!(matches!(field, Some(Cow::Borrowed(_))), "{field:?}");
        }
        // A string with an escape is unescaped into a copy.
        let body = br#"{"action":"tool_call","call_id":"tc_\u0031\n","tool_name":null}"#;
        let (envelope, _) = parse_call(body).unwrap();
        assert_eq!(envelope.call_id.as_deref(), Some("tc_1\n"));
        assert!(envelope.tool_name.is_none());
        assert!(parse_call(br#"{"action":"tool_call","call_id":5}"#).is_none());
    }
}
