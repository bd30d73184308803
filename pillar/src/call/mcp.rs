//! The run stage for a call from an MCP client (feature `mcp`): the tool by name, one of
//! the `max_in_flight` slots, then the webhook's own run stage (`run.rs`). No signature
//! (the MCP transport authenticated the client) and no record of calls (MCP has no call
//! id: a client's retry is a new call).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

pub(crate) use super::run::Produced;
use super::{Pillar, PillarBuilder, ToolCallError};
use crate::config::{McpSettings, Settings};
use crate::error::Error;
use crate::observe::Outcome;
use crate::rejections::Reason;
use crate::tool::context::{CallerInfo, ToolContext};

/// Why an MCP call did not run its tool, or how it ended.
#[derive(Debug)]
pub(crate) enum McpRunError {
    /// No tool has that name, or its channels do not include `mcp`: the client is told
    /// with a JSON-RPC error (invalid params).
    Unknown(String),
    /// Every `max_in_flight` slot is taken.
    Busy,
    /// The run stage's error: the same words the webhook sends.
    Tool(ToolCallError),
}

impl Pillar {
    /// Runs the tool `name` for an MCP client on `input` (a JSON object's text), with
    /// `ctx` (its channel is `mcp`): a slot like a webhook call, the run stage, the call's
    /// metrics and `pillar.call` span.
    pub(crate) async fn run_mcp_call(
        &self,
        name: &str,
        input: &str,
        mut ctx: ToolContext,
    ) -> Result<Produced, McpRunError> {
        let index = match self.inner.index.get(name) {
            Some(&index) if self.inner.tools[index].allows_channel("mcp") => index,
            _ => {
                self.inner.metrics.call(None, Outcome::UnknownTool);
                return Err(McpRunError::Unknown(format!("Tool '{name}' not found")));
            }
        };
        let Some(_slot) = self.take_slot() else {
            self.inner.metrics.call(Some(index), Outcome::Shed);
            self.reject(Reason::Busy, &format_args!("tool {name}, over MCP"));
            return Err(McpRunError::Busy);
        };
        let tool = &self.inner.tools[index];
        ctx.tool_name = Arc::clone(&self.inner.names[index]);
        let span = tracing::debug_span!(
            "pillar.call",
            "pillar.tool" = name,
            "pillar.call_id" = "",
            "pillar.action" = if ctx.confirmed {
                "mcp_confirm"
            } else {
                "mcp_call"
            },
            "pillar.channel" = "mcp",
            "pillar.outcome" = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = self
            .run_to_end_produced(tool, input, Box::new(ctx))
            .instrument(span.clone())
            .await;
        let outcome = match &result {
            Ok(_) => Outcome::Ok,
            Err(err) => err.kind().outcome(),
        };
        let took = started.elapsed();
        self.inner.metrics.call(Some(index), outcome);
        if !matches!(outcome, Outcome::InvalidArguments | Outcome::WrongChannel) {
            self.inner.metrics.duration(index, took);
        }
        span.record("pillar.outcome", outcome.as_str());
        span.record("duration_ms", took.as_secs_f64() * 1000.0);
        result.map_err(McpRunError::Tool)
    }

    /// Whether the tool `name` is served over MCP (its channels include `mcp`).
    pub(crate) fn serves_over_mcp(&self, name: &str) -> bool {
        self.tool(name)
            .is_some_and(|tool| tool.allows_channel("mcp"))
    }
}

/// The busy refusal's words, for an MCP client.
pub(crate) const MCP_BUSY: &str = super::BUSY_MESSAGE;

/// Maps an MCP request over HTTP to its caller (`PillarBuilder::mcp_caller`).
pub(crate) type CallerHook = Arc<dyn Fn(&http::request::Parts) -> Option<CallerInfo> + Send + Sync>;

impl Pillar {
    /// The hook that names an MCP request's caller, if one was given.
    pub(crate) fn mcp_caller(&self) -> Option<&CallerHook> {
        self.inner.mcp_caller.as_ref()
    }
}

impl PillarBuilder {
    /// Serves the tools over MCP too (feature `mcp`): [`serve`](Pillar::serve) answers
    /// MCP's Streamable HTTP at `/mcp`, with these settings (the bearer token, the hosts
    /// allowed, the caps). `PILLAR_MCP=1` and the `PILLAR_MCP_*` variables set the same.
    ///
    /// ```
    /// # fn run() -> Result<(), pillar::Error> {
    /// let pillar = pillar::Pillar::builder()
    ///     .secret("plr_local")
    ///     .mcp(pillar::McpSettings::new().token("a-long-random-token"))
    ///     .build()?;
    /// assert!(pillar.settings().mcp.enabled);
    /// # Ok(()) }
    /// # run().unwrap();
    /// ```
    pub fn mcp(mut self, settings: McpSettings) -> Self {
        self.settings.mcp = settings;
        self
    }

    /// Names the caller of each MCP request over HTTP, from the request (its token, the
    /// headers, what the app's middleware put in its extensions): the tool's
    /// [`ToolContext::caller`](crate::ToolContext::caller). Its channel is always
    /// [`Channel::Mcp`](crate::Channel::Mcp). Without a hook, or when it answers `None`,
    /// the caller is anonymous. Over stdio there is no request: the caller is anonymous.
    ///
    /// ```
    /// # fn run() -> Result<(), pillar::Error> {
    /// let pillar = pillar::Pillar::builder()
    ///     .secret("plr_local")
    ///     .mcp(pillar::McpSettings::new().token("a-long-random-token"))
    ///     .mcp_caller(|parts| {
    ///         let user = parts.headers.get("x-user")?.to_str().ok()?;
    ///         let mut caller = pillar::CallerInfo::default();
    ///         caller.external_user_id = Some(user.to_owned());
    ///         Some(caller)
    ///     })
    ///     .build()?;
    /// # Ok(()) }
    /// # run().unwrap();
    /// ```
    pub fn mcp_caller(
        mut self,
        hook: impl Fn(&http::request::Parts) -> Option<CallerInfo> + Send + Sync + 'static,
    ) -> Self {
        self.mcp_caller = Some(Arc::new(hook));
        self
    }
}

/// The `PILLAR_MCP*` variables (see `ENVIRONMENT.md`).
pub(super) fn from_lookup(
    mut builder: PillarBuilder,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<PillarBuilder, Error> {
    let mcp = &mut builder.settings.mcp;
    if let Some(flag) = lookup("PILLAR_MCP") {
        mcp.enabled = match flag.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => {
                return Err(Error::Config {
                    name: "PILLAR_MCP",
                    reason: format!("`{flag}` is not true or false"),
                })
            }
        };
    }
    if let Some(token) = lookup("PILLAR_MCP_TOKEN") {
        mcp.token = Some(token.trim().to_owned());
    }
    if let Some(auth) = lookup("PILLAR_MCP_AUTH") {
        mcp.no_auth = match auth.trim().to_ascii_lowercase().as_str() {
            "none" => true,
            "token" => false,
            _ => {
                return Err(Error::Config {
                    name: "PILLAR_MCP_AUTH",
                    reason: format!("`{auth}` is not `token` or `none`"),
                })
            }
        };
    }
    if let Some(hosts) = lookup("PILLAR_MCP_ALLOWED_HOSTS") {
        mcp.allowed_hosts.extend(
            hosts
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_owned),
        );
    }
    if let Some(secs) = positive(lookup, crate::config::MCP_CONFIRM_TIMEOUT)? {
        mcp.confirm_timeout = Duration::from_secs(secs as u64);
    }
    if let Some(max) = positive(lookup, "PILLAR_MCP_MAX_SESSIONS")? {
        mcp.max_sessions = Some(max);
    }
    if let Some(max) = positive(lookup, "PILLAR_MCP_MAX_STREAMS")? {
        mcp.max_streams = Some(max);
    }
    Ok(builder)
}

/// The variable `name` as a whole number of at least 1, when it is set.
fn positive(
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<usize>, Error> {
    let Some(value) = lookup(name) else {
        return Ok(None);
    };
    match value.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(Error::Config {
            name,
            reason: format!("`{value}` is not a whole number of at least 1"),
        }),
    }
}

/// The checks of the numbers in the MCP settings, whether or not `serve()` mounts MCP
/// (an adapter may): a confirmation wait above zero, and caps of at least 1 that leave
/// connections for the webhook (an SSE stream holds its connection as long as it is
/// open).
fn check_caps(settings: &Settings) -> Result<(), Error> {
    let mcp = &settings.mcp;
    let connections = settings.limits.max_connections;
    if mcp.confirm_timeout.is_zero() {
        return Err(Error::Config {
            name: "PILLAR_MCP_CONFIRM_TIMEOUT_SECS",
            reason: "is zero: a confirmation could never be answered".to_owned(),
        });
    }
    for (name, cap) in [
        ("PILLAR_MCP_MAX_SESSIONS", mcp.max_sessions),
        ("PILLAR_MCP_MAX_STREAMS", mcp.max_streams),
    ] {
        match cap {
            Some(0) => {
                return Err(Error::Config {
                    name,
                    reason: "is 0: no MCP client could connect".to_owned(),
                })
            }
            Some(cap) if cap >= connections => {
                return Err(Error::Config {
                    name,
                    reason: format!(
                        "is {cap}, and must stay below max_connections ({connections}) so \
                         that MCP clients cannot hold every connection the webhook needs"
                    ),
                })
            }
            _ => {}
        }
    }
    Ok(())
}

/// The token check, when authentication is on: set, and long enough to resist guessing.
pub(crate) fn check_token(mcp: &McpSettings) -> Result<(), Error> {
    if mcp.no_auth {
        return Ok(());
    }
    match mcp.token.as_deref().map(str::trim) {
        Some(token) if token.len() >= MIN_TOKEN_LEN => Ok(()),
        Some(token) if !token.is_empty() => Err(Error::Config {
            name: "PILLAR_MCP_TOKEN",
            reason: format!("is shorter than {MIN_TOKEN_LEN} characters"),
        }),
        _ => Err(Error::Config {
            name: "PILLAR_MCP_TOKEN",
            reason: "is not set: MCP clients must send it as a bearer token (or, on a \
                     loopback address only, set PILLAR_MCP_AUTH=none)"
                .to_owned(),
        }),
    }
}

/// The checks `build()` makes of the MCP settings when MCP over HTTP is on: a token,
/// unless authentication is off, which only a loopback address may be.
pub(super) fn check_settings(settings: &Settings) -> Result<(), Error> {
    check_caps(settings)?;
    let mcp = &settings.mcp;
    if !mcp.enabled {
        return Ok(());
    }
    if mcp.no_auth {
        if !settings.addr.ip().is_loopback() {
            return Err(Error::Config {
                name: "PILLAR_MCP_AUTH",
                reason: format!(
                    "`none` (no token) is accepted only on a loopback address, and the server \
                     listens on {}: set PILLAR_MCP_TOKEN instead, or PILLAR_ADDR=127.0.0.1:{}",
                    settings.addr,
                    settings.addr.port()
                ),
            });
        }
        return Ok(());
    }
    check_token(mcp)
}

/// The shortest bearer token accepted.
const MIN_TOKEN_LEN: usize = 16;

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::config::MCP_VARIABLES;

    /// `MCP_VARIABLES` (what a build without `mcp` refuses, what stdio ignores) is the
    /// list `from_lookup` reads, and each is in the environment table.
    #[test]
    fn the_variable_list_is_what_from_lookup_reads() {
        let asked = RefCell::new(Vec::new());
        let lookup = |name: &str| {
            asked.borrow_mut().push(name.to_owned());
            None
        };
        let _builder = from_lookup(Pillar::builder(), &lookup).unwrap();
        assert_eq!(asked.into_inner(), MCP_VARIABLES);
        let table = include_str!("../../ENVIRONMENT.md");
        for name in MCP_VARIABLES {
            assert!(
                table.contains(&format!("`{name}`")),
                "{name} is not in ENVIRONMENT.md"
            );
        }
    }
}
