//! The bridge: an rmcp [`ServerHandler`], written by hand over a [`Pillar`], that lists
//! the tools whose channels include `mcp` and runs them through the webhook's own run
//! stage (`Pillar::run_mcp_call`), and serves the skills as prompts.

use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, GetPromptResult, Implementation, JsonObject, ListPromptsResult,
    ListToolsResult, PaginatedRequestParams, Prompt, PromptArgument, PromptMessage, Role,
    ServerCapabilities, ServerConfig, Tool as McpTool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::value::RawValue;
use serde_json::Value;

use super::confirm::{self, Sealer};
use super::context::{forbids_requests, from_rmcp_level, LogLevel, McpContext};
use crate::call::mcp::{McpRunError, Produced, MCP_BUSY};
use crate::call::Pillar;
use crate::skill::Skill;
use crate::tool::context::{Channel, ToolContext};
use crate::tool::ToolInfo;

/// What every session of one MCP server shares: the `Pillar`, the listing made once, the
/// confirmations' sealer.
pub(crate) struct Shared {
    pub(crate) pillar: Pillar,
    tools: Vec<McpTool>,
    prompts: Vec<Prompt>,
    pub(crate) sealer: Sealer,
}

impl Shared {
    pub(crate) fn new(pillar: Pillar) -> Arc<Self> {
        let tools = pillar
            .tools()
            .iter()
            .filter(|info| pillar.serves_over_mcp(&info.name))
            .map(mcp_tool)
            .collect();
        let prompts = pillar.skills().iter().map(prompt).collect();
        Arc::new(Self {
            pillar,
            tools,
            prompts,
            sealer: Sealer::new(),
        })
    }
}

/// One MCP session's handler (rmcp makes one per session, or per request on 2026-07-28):
/// the shared server and the session's log level.
#[derive(Clone)]
pub(crate) struct Bridge {
    pub(crate) shared: Arc<Shared>,
    /// `logging/setLevel`'s level; `None` before any.
    level: Arc<Mutex<Option<LogLevel>>>,
}

impl Bridge {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            level: Arc::default(),
        }
    }

    /// The tool's context for a call of this request: the caller (from the hook, over
    /// HTTP), the request's extensions, the MCP context; never `confirmed` (only the
    /// confirmation flow sets it).
    pub(crate) fn tool_context(&self, ctx: &RequestContext<RoleServer>) -> ToolContext {
        let parts = ctx.extensions.get::<http::request::Parts>();
        let mut caller = parts
            .and_then(|parts| {
                let hook = self.shared.pillar.mcp_caller()?;
                hook(parts)
            })
            .unwrap_or_default();
        caller.channel = Channel::Mcp;
        let mut extensions = parts.map(|p| p.extensions.clone()).unwrap_or_default();
        let version = ctx.protocol_version();
        let capabilities = ctx.client_capabilities();
        let log_level = if forbids_requests(version.as_ref()) {
            // 2026-07-28: the request's own level; none, no log.
            ctx.meta.log_level().map(from_rmcp_level)
        } else {
            // A session: `logging/setLevel`'s level; before any, every level.
            Some(
                self.level
                    .lock()
                    .map(|level| level.unwrap_or(LogLevel::Debug))
                    .unwrap_or(LogLevel::Debug),
            )
        };
        let sampling = capabilities.as_ref().is_some_and(|c| c.sampling.is_some());
        let elicitation = confirm::client_has_form_elicitation(capabilities.as_ref());
        extensions.insert(McpContext::new(
            ctx.peer.clone(),
            ctx.meta.get_progress_token(),
            log_level,
            version,
            sampling,
            elicitation,
        ));
        ToolContext {
            caller,
            extensions,
            ..ToolContext::default()
        }
    }

    /// Runs a tool and makes its MCP result; a confirmation card is given to the
    /// confirmation flow unless `confirmed` (a card from the confirmed run is answered as
    /// it is).
    pub(crate) async fn run(
        &self,
        name: &str,
        input: &str,
        tool_ctx: ToolContext,
    ) -> Result<Answer, McpError> {
        match self.shared.pillar.run_mcp_call(name, input, tool_ctx).await {
            Ok(Produced::Content(contents)) => {
                Ok(Answer::Done(CallToolResult::success(contents.to_blocks())))
            }
            Ok(Produced::Json(raw)) => {
                let value: Value = serde_json::from_str(raw.get()).map_err(|e| {
                    McpError::internal_error(format!("result is not JSON: {e}"), None)
                })?;
                if confirm::is_card(&value) {
                    return Ok(Answer::Card(value));
                }
                Ok(Answer::Done(raw_result(&raw, value)))
            }
            Err(McpRunError::Unknown(message)) => Err(McpError::invalid_params(message, None)),
            Err(McpRunError::Busy) => Ok(Answer::Done(error_result(MCP_BUSY))),
            Err(McpRunError::Tool(err)) => Ok(Answer::Done(error_result(err.message()))),
        }
    }

    /// `tools/call`: the tool run through the run stage, its card given to the
    /// confirmation flow; a resumed call (2026-07-28's `requestState`) to the flow.
    async fn call(
        &self,
        mut request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let name = request.name.as_ref();
        if request.request_state.is_some() {
            if !self.shared.pillar.serves_over_mcp(name) {
                return Err(McpError::invalid_params(
                    format!("Tool '{name}' not found"),
                    None,
                ));
            }
            return confirm::resume(self, &request, &context).await;
        }
        // An unknown tool, or one not served over MCP, is refused by `run_mcp_call` with
        // the same words.
        let arguments = Value::Object(request.arguments.take().unwrap_or_default());
        let input = serde_json::to_string(&arguments)
            .map_err(|e| McpError::internal_error(format!("arguments: {e}"), None))?;
        match self.run(name, &input, self.tool_context(&context)).await? {
            Answer::Done(result) => Ok(result.into()),
            Answer::Card(card) => confirm::ask(self, name, &arguments, &card, &context).await,
        }
    }
}

/// A run's MCP answer: done, or a confirmation card to ask about.
pub(crate) enum Answer {
    Done(CallToolResult),
    Card(Value),
}

/// An `isError` result with the webhook's words.
pub(crate) fn error_result(message: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// A JSON result as MCP has it: a string as one text block, verbatim; an object as
/// `structuredContent` with its JSON as one text block; anything else as its JSON text.
/// `raw` is the result's JSON as the tool's output gave it, `value` the same parsed: the
/// text block is `raw` (not `value` serialised again, which cost ~3,000 instructions a
/// call in bench/mcp_load.sh).
fn raw_result(raw: &RawValue, value: Value) -> CallToolResult {
    match value {
        Value::String(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
        value @ Value::Object(_) => {
            let mut result = CallToolResult::success(vec![ContentBlock::text(raw.get())]);
            result.structured_content = Some(value);
            result
        }
        _ => CallToolResult::success(vec![ContentBlock::text(raw.get())]),
    }
}

/// A tool's MCP listing: its name, its description (the guidance after a blank line),
/// its input schema as it is, and its output schema when that describes an object.
fn mcp_tool(info: &ToolInfo) -> McpTool {
    let description = match info.guidance.as_deref() {
        Some(guidance) if !guidance.trim().is_empty() => {
            format!("{}\n\n{}", info.description, guidance.trim())
        }
        _ => info.description.clone(),
    };
    let schema = |value: &Value| match value {
        Value::Object(map) => Arc::new(map.clone()),
        _ => Arc::new(JsonObject::new()),
    };
    let mut tool = McpTool::new_with_raw(
        info.name.clone(),
        Some(Cow::Owned(description)),
        schema(&info.input_schema),
    );
    if let Some(output) = info
        .output_schema
        .as_ref()
        .filter(|s| s.get("type") == Some(&Value::from("object")))
    {
        tool = tool.with_raw_output_schema(schema(output));
    }
    tool
}

/// A skill as an MCP prompt: each `{name}` of its content is a required argument.
fn prompt(skill: &Skill) -> Prompt {
    let arguments: Vec<PromptArgument> = placeholders(skill.content())
        .into_iter()
        .map(|name| PromptArgument::new(name).with_required(true))
        .collect();
    Prompt::new(
        skill.name(),
        Some(skill.description()),
        (!arguments.is_empty()).then_some(arguments),
    )
}

/// The `{name}` placeholders of a skill's content (`name` an identifier), in order,
/// once each.
pub(crate) fn placeholders(content: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = content;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find('}') else { break };
        let name = &rest[..close];
        if is_identifier(name) && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// `content` with each `{name}` placeholder replaced by `value(name)` in one pass (a
/// value is never searched for placeholders); a placeholder without a value is kept.
pub(crate) fn substitute(content: &str, mut value: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_identifier(&after[..close]) => {
                match value(&after[..close]) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl ServerHandler for Bridge {
    fn get_info(&self) -> ServerConfig {
        #[expect(
            deprecated,
            reason = "logging is deprecated by SEP-2577; MCP clients of 2025-11-25 still use it"
        )]
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_prompts()
            .enable_logging()
            .build();
        ServerConfig::new(capabilities).with_server_info(Implementation::new(
            "pillar-ai-server",
            env!("CARGO_PKG_VERSION"),
        ))
    }

    #[expect(
        deprecated,
        reason = "logging is deprecated by SEP-2577; MCP clients of 2025-11-25 still use it"
    )]
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut level) = self.level.lock() {
            *level = Some(from_rmcp_level(request.level));
        }
        Ok(())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.shared.tools.clone()))
    }

    fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CallToolResponse, McpError>> + Send + '_ {
        // Boxed: rmcp keeps the handler's future inside its request future, which it
        // spawns and moves; unboxed, the run stage and the confirmation flow made that
        // ~10 KB, copied several times a call (+100k instructions a call against rmcp by
        // hand in bench/mcp_load.sh). One allocation instead.
        Box::pin(self.call(request, context))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(
            self.shared.prompts.clone(),
        ))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let Some(skill) = self
            .shared
            .pillar
            .skills()
            .iter()
            .find(|s| s.name() == request.name)
        else {
            return Err(McpError::invalid_params(
                format!("Prompt '{}' not found", request.name),
                None,
            ));
        };
        let arguments = request.arguments.as_ref();
        let mut missing = None;
        let text = substitute(skill.content(), |name| {
            match arguments.and_then(|a| a.get(name)) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
                None => {
                    missing.get_or_insert_with(|| name.to_owned());
                    None
                }
            }
        });
        if let Some(name) = missing {
            return Err(McpError::invalid_params(
                format!("Prompt '{}' needs the argument `{name}`", request.name),
                None,
            ));
        }
        let result = GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(skill.description());
        Ok(result.into())
    }
}
