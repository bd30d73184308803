//! Running a tool: the channel check, the arguments, the panic guard and the timeout,
//! and [`ToolCallError`], what the agent is told when a call produces no result.
//!
//! `Guarded` and `DetachOnDrop` are futures written by hand rather than
//! `tokio::time::timeout`: the timer is armed only once the tool is found unfinished, and
//! the tool's task is aborted at the deadline. The tool runs in a task of its own (so a
//! blocking tool cannot hold the timer that answers its call): see BENCHMARKS.md for
//! what that costs against running it in place.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::StatusCode;
use serde_json::value::RawValue;
use tracing::Instrument;

use super::watchdog;
use super::Pillar;
use crate::answer::{Answer, WebhookResponse};
use crate::json::json_kind;
use crate::observe::Outcome;
use crate::tool::context::ToolContext;
use crate::tool::generated::Input;
use crate::tool::output::{ToolFuture, ToolOutput};
use crate::tool::{Handler, Tool};

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

    /// The `outcome` label of `pillar_calls_total` for this failure.
    pub(crate) fn outcome(self) -> Outcome {
        match self {
            Self::NotFound => Outcome::UnknownTool,
            Self::ChannelNotAllowed => Outcome::WrongChannel,
            Self::InvalidArguments => Outcome::InvalidArguments,
            Self::Failed => Outcome::ToolError,
            Self::TimedOut => Outcome::Timeout,
            Self::Panicked => Outcome::Panic,
        }
    }
}

impl ToolCallError {
    /// The webhook response for this failure: 404 for an unknown tool, else 200.
    pub(super) fn into_response(self, call_id: impl Into<Arc<str>>) -> WebhookResponse {
        let status = if self.kind == ToolCallErrorKind::NotFound {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        WebhookResponse::new(status, Answer::tool_error(call_id, self.message))
    }

    pub(super) fn new(kind: ToolCallErrorKind, message: String) -> Self {
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
    /// The run stage to its end, for [`Pillar::run_tool`]: check the channel, parse, run
    /// guarded.
    pub(super) async fn run_to_end(
        &self,
        tool: &Tool,
        input: &str,
        field: &'static str,
        ctx: Box<ToolContext>,
    ) -> Result<Box<RawValue>, ToolCallError> {
        let call_id = Arc::clone(&ctx.call_id);
        match self.run(tool, input, field, ctx).await {
            Run::Done(result) => result,
            Run::Waiting(guarded) => self.tool_result(tool, &call_id, guarded.await),
        }
    }

    /// The run stage: checks the call, starts the tool and polls it once (the `await`
    /// never yields); what is left of it, if it waits, is the caller's to await.
    ///
    /// The context is boxed, and everything before the first poll is the plain function
    /// [`start`](Self::start): the state machine of every `async fn` on a
    /// call's path holds its arguments twice, so a context passed by value (216 bytes) made
    /// the webhook's future about 4 KiB, which each request allocated and copied
    /// (BENCHMARKS.md, "the webhook's future").
    pub(super) async fn run(
        &self,
        tool: &Tool,
        input: &str,
        field: &'static str,
        ctx: Box<ToolContext>,
    ) -> Run {
        let call_id = Arc::clone(&ctx.call_id);
        let mut guarded = match self.start(tool, input, field, ctx) {
            Ok(guarded) => guarded,
            Err(done) => return Run::Done(done),
        };
        match std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut guarded).poll(cx))).await {
            Poll::Ready(outcome) => Run::Done(self.tool_result(tool, &call_id, outcome)),
            Poll::Pending => Run::Waiting(guarded),
        }
    }

    /// Checks the call and creates the tool's future, guarded; the result the agent sees
    /// when the call ends here (refused, or its arguments or the tool's shim panicked).
    fn start(
        &self,
        tool: &Tool,
        input: &str,
        field: &'static str,
        ctx: Box<ToolContext>,
    ) -> Result<Guarded, Result<Box<RawValue>, ToolCallError>> {
        let name = tool.info.name.as_str();
        let shared_name = Arc::clone(&ctx.tool_name);
        let call_id = Arc::clone(&ctx.call_id);
        let channel = ctx.caller.channel.as_str();
        if !tool.allows_channel(channel) {
            return Err(Err(ToolCallError::new(
                ToolCallErrorKind::ChannelNotAllowed,
                format!(
                    "Tool '{name}' is not available on the {channel} channel (allowed: {})",
                    tool.info.channel_compatibility.join(", ")
                ),
            )));
        }
        if !input.starts_with('{') {
            return Err(Err(ToolCallError::new(
                ToolCallErrorKind::InvalidArguments,
                format!(
                    "{field}: expected a JSON object, found {}",
                    json_kind(input)
                ),
            )));
        }
        let invalid = |message| {
            Err(Err(ToolCallError::new(
                ToolCallErrorKind::InvalidArguments,
                message,
            )))
        };
        // On a refusal, `null` given for an optional parameter reads as its default and
        // the input is tried once more without those nulls; then every problem is named.
        let mut defaulted = None;
        if let Some(constraints) = &tool.constraints {
            if let Err(message) = constraints.check(input, field) {
                match tool.without_defaulted_nulls(input) {
                    Some(retry) if constraints.check(&retry, field).is_ok() => {
                        defaulted = Some(retry);
                    }
                    _ => return invalid(message),
                }
            }
        }
        let input = defaulted.as_deref().unwrap_or(input);
        let spare = (defaulted.is_none() && input.contains("null")).then(|| ctx.clone());
        let started = match make_future(tool, input, field, *ctx) {
            Err(StartError::Arguments(message)) => {
                let retry = spare.zip(tool.without_defaulted_nulls(input));
                match retry.map(|(ctx, retry)| make_future(tool, &retry, field, *ctx)) {
                    Some(Ok(future)) => Ok(future),
                    Some(Err(StartError::Panicked(payload))) => Err(StartError::Panicked(payload)),
                    None | Some(Err(StartError::Arguments(_))) => {
                        return invalid(tool.explain_refusal(input, field, &message))
                    }
                }
            }
            other => other,
        };
        match started {
            Ok(future) => Ok(Guarded::new(future, tool.timeout(), &shared_name)),
            Err(StartError::Arguments(message)) => invalid(message),
            Err(StartError::Panicked(payload)) => {
                Err(Err(self.panicked(name, &call_id, &*payload)))
            }
        }
    }

    /// The run stage to its end for a call from an MCP client (`call/mcp.rs`): the same
    /// checks, parsing, guard and timeout as [`run_to_end`](Self::run_to_end), with
    /// content blocks kept as blocks instead of made JSON.
    #[cfg(feature = "mcp")]
    pub(super) async fn run_to_end_produced(
        &self,
        tool: &Tool,
        input: &str,
        ctx: Box<ToolContext>,
    ) -> Result<Produced, ToolCallError> {
        let call_id = Arc::clone(&ctx.call_id);
        let outcome = match self.start(tool, input, "arguments", ctx) {
            Ok(guarded) => guarded.await,
            Err(done) => return done.map(Produced::Json),
        };
        match outcome {
            Some(Ok(ToolOutput::Content(contents))) => Ok(Produced::Content(contents)),
            other => self.tool_result(tool, &call_id, other).map(Produced::Json),
        }
    }

    /// A tool's result, or the error the agent sees, from what its guard reported.
    pub(super) fn tool_result(
        &self,
        tool: &Tool,
        call_id: &str,
        outcome: Option<Result<ToolOutput, Box<dyn Any + Send>>>,
    ) -> Result<Box<RawValue>, ToolCallError> {
        let name = tool.info.name.as_str();
        match outcome {
            Some(Ok(ToolOutput::Ok(raw))) => Ok(raw),
            // Over the webhook, content blocks are the JSON array of the blocks.
            #[cfg(feature = "mcp")]
            Some(Ok(ToolOutput::Content(contents))) => {
                self.tool_result(tool, call_id, Some(Ok(contents.to_output())))
            }
            Some(Ok(ToolOutput::Err(message))) => Err(ToolCallError::new(
                ToolCallErrorKind::Failed,
                self.redact(message),
            )),
            Some(Err(payload)) => Err(self.panicked(name, call_id, &*payload)),
            None => Err(ToolCallError::new(
                ToolCallErrorKind::TimedOut,
                format!("Tool '{name}' timed out after {} ms", tool.info.timeout_ms),
            )),
        }
    }

    fn panicked(&self, name: &str, call_id: &str, payload: &(dyn Any + Send)) -> ToolCallError {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic payload)".to_owned());
        tracing::error!(
            "pillar.tool" = name,
            "pillar.call_id" = ?crate::observe::Untrusted::id(call_id),
            panic = %crate::observe::Untrusted::text(self.redact(text)),
            "tool panicked"
        );
        ToolCallError::new(
            ToolCallErrorKind::Panicked,
            format!("Tool '{name}' failed with an internal error (details are in the server log)"),
        )
    }
}

impl Pillar {
    /// A call's response from the result of the tool at `index`: its metrics, the call
    /// span's outcome and duration, one DEBUG log line.
    pub(super) fn response_of(
        &self,
        result: Result<Box<RawValue>, ToolCallError>,
        call_id: Arc<str>,
        started: Instant,
        index: usize,
    ) -> WebhookResponse {
        let took = started.elapsed();
        let outcome = match &result {
            Ok(_) => Outcome::Ok,
            Err(err) => err.kind.outcome(),
        };
        let metrics = self.metrics();
        metrics.call(Some(index), outcome);
        if !matches!(outcome, Outcome::InvalidArguments | Outcome::WrongChannel) {
            metrics.duration(index, took);
        }
        let span = tracing::Span::current();
        if !span.is_disabled() || tracing::enabled!(tracing::Level::DEBUG) {
            let duration_ms = took.as_secs_f64() * 1000.0;
            span.record("pillar.outcome", outcome.as_str());
            span.record("duration_ms", duration_ms);
            // DEBUG, as tower-http logs requests: one line per call at INFO, written to
            // standard output by serve()'s default subscriber, cost about a third of its
            // throughput (BENCHMARKS.md). The span keeps the outcome and duration, and
            // the metrics count every call.
            tracing::debug!(
                "pillar.outcome" = outcome.as_str(),
                duration_ms,
                "tool call answered"
            );
        }
        self.report_record();
        match result {
            Ok(result) => WebhookResponse::new(StatusCode::OK, Answer::success(call_id, result)),
            Err(err) => err.into_response(call_id),
        }
    }
}

/// What a tool call over MCP produced: a JSON result, or content blocks.
#[cfg(feature = "mcp")]
#[derive(Debug)]
pub(crate) enum Produced {
    /// The result's JSON (a `Reply`'s confirmation card included).
    Json(Box<RawValue>),
    /// The blocks a tool answered with ([`Contents`](crate::tool::content::Contents)).
    Content(crate::tool::content::Contents),
}

/// A tool call after the run stage's first poll: done (refused before it ran, or
/// finished on that poll) or waiting.
pub(super) enum Run {
    Done(Result<Box<RawValue>, ToolCallError>),
    Waiting(Guarded),
}

/// Polls a future in place; if dropped before it finishes (the caller went away), hands
/// the rest of it to the runtime so it still completes. No task is spawned on the
/// ordinary path.
pub(super) struct DetachOnDrop<T: Send + 'static> {
    future: Option<Pin<Box<dyn Future<Output = T> + Send>>>,
    /// The call's id, for the log line when it is detached.
    call_id: Arc<str>,
}

impl<T: Send + 'static> DetachOnDrop<T> {
    pub(super) fn new(call_id: Arc<str>, future: impl Future<Output = T> + Send + 'static) -> Self {
        Self {
            future: Some(Box::pin(future)),
            call_id,
        }
    }
}

impl<T: Send + 'static> Future for DetachOnDrop<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        let Some(future) = this.future.as_mut() else {
            return Poll::Pending;
        };
        match future.as_mut().poll(cx) {
            Poll::Ready(output) => {
                this.future = None;
                Poll::Ready(output)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: Send + 'static> Drop for DetachOnDrop<T> {
    fn drop(&mut self) {
        if let Some(future) = self.future.take() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                tracing::info!(
                    "pillar.call_id" = ?crate::observe::Untrusted::id(&*self.call_id),
                    "the caller went away: the call runs on and its answer is kept"
                );
                runtime.spawn(async move {
                    let _ = future.await;
                });
            }
        }
    }
}

/// Why a tool's future could not be made.
enum StartError {
    Arguments(String),
    Panicked(Box<dyn Any + Send>),
}

/// Parses the input and creates the tool's future; user code (a custom `Deserialize`)
/// may run here, so it is guarded too.
fn make_future(
    tool: &Tool,
    input: &str,
    field: &'static str,
    ctx: ToolContext,
) -> Result<ToolFuture, StartError> {
    let attempt = std::panic::catch_unwind(AssertUnwindSafe(|| match &tool.handler {
        Handler::Static(call) => call(Input::new(input, field), ctx, &tool.states).map_err(|e| e.0),
        Handler::Dynamic(handler) => handler(Input::new(input, field), ctx),
    }));
    match attempt {
        Ok(Ok(future)) => Ok(future),
        Ok(Err(message)) => Err(StartError::Arguments(message)),
        Err(payload) => Err(StartError::Panicked(payload)),
    }
}

/// Runs a tool's future with a panic guard and its timeout: `None` once the timeout has
/// passed, `Some(Err(payload))` when a poll panicked.
///
/// On a multi-thread tokio runtime with two workers or more (what `serve()` runs on), the
/// tool runs in a task of its own, watched (`watchdog.rs`): a tool that blocks its
/// worker thread (`std::thread::sleep`, a synchronous client) cannot block the timer that
/// answers its call, which fires on another worker. Elsewhere (one thread, or an
/// executor of the user's own) nothing else could answer, and it is polled in place. The timer is armed on the
/// first poll that finds the tool unfinished, with a deadline counted from the start;
/// at the deadline, or when the call is dropped, the tool's task is aborted.
pub(super) struct Guarded {
    work: Work,
    started: tokio::time::Instant,
    timeout: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

enum Work {
    Task(tokio::task::JoinHandle<ToolOutput>),
    InPlace(ToolFuture),
}

impl Guarded {
    fn new(future: ToolFuture, timeout: Duration, tool: &Arc<str>) -> Self {
        // A task of its own only where another worker can answer while a tool blocks
        // its own: a runtime of one thread (`#[tokio::test]`, a current-thread runtime)
        // gains nothing from it and would pay the task's scheduling on every call.
        let work = match tokio::runtime::Handle::try_current() {
            Ok(runtime)
                if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
                    && runtime.metrics().num_workers() > 1 =>
            {
                Work::Task(runtime.spawn(
                    watchdog::watch(future, Arc::clone(tool)).instrument(tracing::Span::current()),
                ))
            }
            _ => Work::InPlace(future),
        };
        Self {
            work,
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
        let polled = match &mut this.work {
            Work::Task(task) => match Pin::new(task).poll(cx) {
                Poll::Ready(Ok(output)) => Poll::Ready(Ok(output)),
                Poll::Ready(Err(err)) => Poll::Ready(Err(match err.try_into_panic() {
                    Ok(payload) => payload,
                    // Cancelled: the runtime is shutting down.
                    Err(_) => {
                        Box::new("the tool's task was cancelled (the runtime is shutting down)")
                            as Box<dyn Any + Send>
                    }
                })),
                Poll::Pending => Poll::Pending,
            },
            Work::InPlace(future) => {
                match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                    Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
                    Err(payload) => Poll::Ready(Err(payload)),
                    Ok(Poll::Pending) => Poll::Pending,
                }
            }
        };
        if let Poll::Ready(outcome) = polled {
            return Poll::Ready(Some(outcome));
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
            Poll::Ready(()) => {
                if let Work::Task(task) = &this.work {
                    task.abort();
                }
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // The call was dropped before the tool finished (its caller went away and it
        // was not detached): the tool stops at its next await, as an in-place future
        // would when dropped.
        if let Work::Task(task) = &self.work {
            task.abort();
        }
    }
}
