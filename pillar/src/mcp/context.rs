//! [`McpContext`]: what a tool called by an MCP client may do besides answering (log,
//! report progress, ask the client's model, ask the user), through
//! [`ToolContext::mcp`].

use std::fmt;
use std::sync::Arc;

use rmcp::model::{
    ElicitRequestParams, ElicitationAction, ElicitationSchema, PrimitiveSchemaDefinition,
    ProgressNotificationParam, ProgressToken, ProtocolVersion,
};
use rmcp::{Peer, RoleServer};
use serde_json::Value;

use crate::tool::context::ToolContext;

/// The severity of a log message sent to an MCP client (`notifications/message`), in
/// MCP's (syslog's) order, from the least to the most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum LogLevel {
    /// Detailed debugging information.
    Debug,
    /// General information.
    Info,
    /// Normal but significant events.
    Notice,
    /// Warnings.
    Warning,
    /// Errors.
    Error,
    /// Critical conditions.
    Critical,
    /// Action must be taken immediately.
    Alert,
    /// The system is unusable.
    Emergency,
}

/// The user's answer to [`McpContext::elicit`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Elicitation {
    /// The user accepted and filled the form: the content, which fits the schema asked.
    Accept(Value),
    /// The user declined to answer.
    Decline,
    /// The user dismissed the request without choosing.
    Cancel,
}

/// Why [`McpContext::sample`] or [`McpContext::elicit`] got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The client cannot be asked: it did not declare the capability, or the protocol
    /// version forbids server-to-client requests (2026-07-28 and later).
    #[error("{0}")]
    Unsupported(String),
    /// The schema given to `elicit` is not one MCP allows (an object of primitive
    /// properties: strings, numbers, integers, booleans, enums).
    #[error("the elicitation schema is not one MCP allows: {0}")]
    Schema(String),
    /// The client answered with an error, or went away.
    #[error("the MCP client did not answer: {0}")]
    Client(String),
}

/// What a tool called over MCP can do besides answering: through [`ToolContext::mcp`],
/// which is `None` on the webhook (Pillar Cloud has no such requests), in tests made with
/// [`ToolContext::builder`] and over the in-process [`Pillar::run_tool`](crate::Pillar::run_tool).
///
/// ```
/// use pillar::mcp::LogLevel;
/// use pillar::ToolContext;
///
/// /// Import the rows of a file.
/// #[pillar::tool]
/// async fn import_rows(rows: Vec<String>, ctx: &ToolContext) -> String {
///     for (done, _row) in rows.iter().enumerate() {
///         if let Some(mcp) = ctx.mcp() {
///             mcp.progress(done as f64, Some(rows.len() as f64), None).await;
///         }
///     }
///     if let Some(mcp) = ctx.mcp() {
///         mcp.log(LogLevel::Info, format!("imported {} rows", rows.len())).await;
///     }
///     format!("{} rows imported", rows.len())
/// }
/// ```
#[derive(Clone)]
pub struct McpContext {
    inner: Arc<Inner>,
}

struct Inner {
    peer: Peer<RoleServer>,
    progress_token: Option<ProgressToken>,
    /// The least severe level the client wants; `None`: no log at all.
    log_level: Option<LogLevel>,
    /// The request's protocol version.
    version: Option<ProtocolVersion>,
    sampling: bool,
    elicitation: bool,
}

impl fmt::Debug for McpContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpContext")
            .field("version", &self.inner.version)
            .field("log_level", &self.inner.log_level)
            .field("progress", &self.inner.progress_token.is_some())
            .field("sampling", &self.inner.sampling)
            .field("elicitation", &self.inner.elicitation)
            .finish_non_exhaustive()
    }
}

impl McpContext {
    pub(crate) fn new(
        peer: Peer<RoleServer>,
        progress_token: Option<ProgressToken>,
        log_level: Option<LogLevel>,
        version: Option<ProtocolVersion>,
        sampling: bool,
        elicitation: bool,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                peer,
                progress_token,
                log_level,
                version,
                sampling,
                elicitation,
            }),
        }
    }

    /// The protocol version of the call's request (`2025-11-25`, `2026-07-28`, ...).
    pub fn protocol_version(&self) -> Option<String> {
        self.inner.version.as_ref().map(ToString::to_string)
    }

    /// Sends a log message to the client (`notifications/message`) when it asked for
    /// messages of this level: with `logging/setLevel` on a session (before any, every
    /// level is sent), or with the request's own log level on 2026-07-28 (without one,
    /// none is sent). A client that went away is not an error: the message is dropped.
    pub async fn log(&self, level: LogLevel, message: impl Into<String>) {
        if self.inner.log_level.is_none_or(|least| level < least) {
            return;
        }
        let param = logging_message(level, message.into());
        #[expect(
            deprecated,
            reason = "logging is deprecated by SEP-2577; MCP clients of 2025-11-25 still use it"
        )]
        let sent = self.inner.peer.notify_logging_message(param).await;
        if let Err(err) = sent {
            tracing::debug!(error = %err, "an MCP log message was not delivered");
        }
    }

    /// Reports progress (`notifications/progress`) with the token the client gave in the
    /// request's `_meta.progressToken`: `progress` so far (increasing), out of `total` when
    /// known, with an optional message. Without a token, nothing is sent.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.inner.progress_token else {
            return;
        };
        let mut param = ProgressNotificationParam::new(token.clone(), progress);
        if let Some(total) = total {
            param = param.with_total(total);
        }
        if let Some(message) = message {
            param = param.with_message(message);
        }
        if let Err(err) = self.inner.peer.notify_progress(param).await {
            tracing::debug!(error = %err, "an MCP progress notification was not delivered");
        }
    }

    /// Asks the client's language model (`sampling/createMessage`) with `prompt` as the
    /// user's message, answering at most `max_tokens`: the text of its answer.
    ///
    /// # Errors
    /// [`RequestError::Unsupported`] when the client declared no sampling capability or
    /// the protocol version forbids server-to-client requests (2026-07-28);
    /// [`RequestError::Client`] when the client answered with an error.
    pub async fn sample(&self, prompt: &str, max_tokens: u32) -> Result<String, RequestError> {
        self.can_ask("sampling", self.inner.sampling)?;
        let answer = sample_with(&self.inner.peer, prompt, max_tokens).await?;
        Ok(answer)
    }

    /// Asks the user for input (`elicitation/create`, form mode): `message` and the JSON
    /// Schema of the answer (an object of primitive properties).
    ///
    /// # Errors
    /// [`RequestError::Unsupported`] when the client declared no elicitation capability or
    /// the protocol version forbids server-to-client requests (2026-07-28);
    /// [`RequestError::Schema`] for a schema MCP does not allow; [`RequestError::Client`]
    /// when the client answered with an error.
    pub async fn elicit(
        &self,
        message: impl Into<String>,
        schema: Value,
    ) -> Result<Elicitation, RequestError> {
        self.can_ask("elicitation", self.inner.elicitation)?;
        let Value::Object(schema) = schema else {
            return Err(RequestError::Schema("it is not a JSON object".to_owned()));
        };
        let requested_schema = ElicitationSchema::from_json_schema(schema.clone())
            .map_err(|err| RequestError::Schema(schema_problem(&schema, &err.to_string())))?;
        let params = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: message.into(),
            requested_schema,
        };
        let result = self
            .inner
            .peer
            .create_elicitation(params)
            .await
            .map_err(|err| RequestError::Client(err.to_string()))?;
        Ok(match result.action {
            ElicitationAction::Accept => Elicitation::Accept(result.content.unwrap_or(Value::Null)),
            ElicitationAction::Decline => Elicitation::Decline,
            // Cancel, and any action a later MCP adds: no answer.
            _ => Elicitation::Cancel,
        })
    }

    /// Refuses a server-to-client request the client cannot take.
    fn can_ask(&self, what: &str, declared: bool) -> Result<(), RequestError> {
        if forbids_requests(self.inner.version.as_ref()) {
            return Err(RequestError::Unsupported(format!(
                "{what} is not available on MCP protocol {}: it forbids server-to-client requests",
                self.protocol_version().unwrap_or_default()
            )));
        }
        if !declared {
            return Err(RequestError::Unsupported(format!(
                "the MCP client did not declare the {what} capability"
            )));
        }
        Ok(())
    }
}

/// Whether a request of this protocol version forbids server-to-client requests
/// (2026-07-28 and later: rmcp refuses to send them).
pub(crate) fn forbids_requests(version: Option<&ProtocolVersion>) -> bool {
    version.is_some_and(|v| *v >= ProtocolVersion::V_2026_07_28)
}

#[expect(
    deprecated,
    reason = "logging is deprecated by SEP-2577; MCP clients of 2025-11-25 still use it"
)]
fn logging_message(
    level: LogLevel,
    message: String,
) -> rmcp::model::LoggingMessageNotificationParam {
    rmcp::model::LoggingMessageNotificationParam::new(to_rmcp_level(level), Value::String(message))
}

#[expect(
    deprecated,
    reason = "logging is deprecated by SEP-2577; MCP clients of 2025-11-25 still use it"
)]
fn to_rmcp_level(level: LogLevel) -> rmcp::model::LoggingLevel {
    use rmcp::model::LoggingLevel as L;
    match level {
        LogLevel::Debug => L::Debug,
        LogLevel::Info => L::Info,
        LogLevel::Notice => L::Notice,
        LogLevel::Warning => L::Warning,
        LogLevel::Error => L::Error,
        LogLevel::Critical => L::Critical,
        LogLevel::Alert => L::Alert,
        LogLevel::Emergency => L::Emergency,
    }
}

/// rmcp's level as ours (the session's `logging/setLevel`, a request's log level).
#[expect(
    deprecated,
    reason = "logging is deprecated by SEP-2577; MCP clients of 2025-11-25 still use it"
)]
pub(crate) fn from_rmcp_level(level: rmcp::model::LoggingLevel) -> LogLevel {
    use rmcp::model::LoggingLevel as L;
    match level {
        L::Debug => LogLevel::Debug,
        L::Info => LogLevel::Info,
        L::Notice => LogLevel::Notice,
        L::Warning => LogLevel::Warning,
        L::Error => LogLevel::Error,
        L::Critical => LogLevel::Critical,
        L::Alert => LogLevel::Alert,
        L::Emergency => LogLevel::Emergency,
    }
}

/// `sampling/createMessage` with one user message: the answer's text.
#[expect(
    deprecated,
    reason = "sampling is deprecated by SEP-2577; MCP clients of 2025-11-25 still use it"
)]
async fn sample_with(
    peer: &Peer<RoleServer>,
    prompt: &str,
    max_tokens: u32,
) -> Result<String, RequestError> {
    use rmcp::model::{CreateMessageRequestParams, SamplingMessage};
    let params =
        CreateMessageRequestParams::new(vec![SamplingMessage::user_text(prompt)], max_tokens);
    let result = peer
        .create_message(params)
        .await
        .map_err(|err| RequestError::Client(err.to_string()))?;
    Ok(result
        .message
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|t| t.text.as_str()))
        .collect::<Vec<_>>()
        .join("\n"))
}

impl ToolContext {
    /// What the tool can do besides answering when an MCP client called it (feature
    /// `mcp`): log to the client, report progress, ask the client's model, ask the user.
    /// `None` when Pillar Cloud called it (the webhook has none of these), in tests and
    /// with [`Pillar::run_tool`](crate::Pillar::run_tool): tools that use it do something
    /// sensible without it.
    pub fn mcp(&self) -> Option<&McpContext> {
        self.extensions.get::<McpContext>()
    }
}

/// Where an elicitation schema goes wrong: the first property MCP does not allow (rmcp's
/// own message names none), else rmcp's message.
fn schema_problem(schema: &serde_json::Map<String, Value>, rmcp_says: &str) -> String {
    let bad = schema
        .get("properties")
        .and_then(Value::as_object)
        .and_then(|properties| {
            properties.iter().find(|(_, property)| {
                serde_json::from_value::<PrimitiveSchemaDefinition>((*property).clone()).is_err()
            })
        });
    match bad {
        Some((name, property)) => format!(
            "property `{name}` ({property}) is not a string, number, integer, boolean or enum"
        ),
        None => rmcp_says.to_owned(),
    }
}
