//! The same tools over MCP (feature `mcp`): every `#[pillar::tool]` whose channels
//! include `mcp` (`*`, the default, does) is served to MCP clients, beside the webhook,
//! on [rmcp](https://docs.rs/rmcp), the official Rust MCP SDK.
//!
//! ```no_run
//! /// Add two numbers.
//! #[pillar::tool]
//! async fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), pillar::Error> {
//!     // PILLAR_MCP=1 PILLAR_MCP_TOKEN=... : the webhook on /, MCP on /mcp.
//!     pillar::serve().await
//!     // or, for a desktop client that starts the program: pillar::mcp::serve_stdio().await
//! }
//! ```
//!
//! # Transports
//!
//! - **Streamable HTTP**: [`serve`](crate::serve) answers it at `/mcp` when
//!   `PILLAR_MCP=1` (or [`PillarBuilder::mcp`](crate::PillarBuilder::mcp)); in an axum or
//!   tower app, mount [`Pillar::mcp_service`]. Clients send `Authorization: Bearer
//!   <PILLAR_MCP_TOKEN>` (compared in constant time), unless `PILLAR_MCP_AUTH=none`,
//!   which `build()` accepts only on a loopback address. `Host` and `Origin` must name a
//!   loopback host, the host of `PILLAR_ENDPOINT_URL` or one of
//!   `PILLAR_MCP_ALLOWED_HOSTS` (403 otherwise: DNS rebinding). Sessions and requests in
//!   progress (an open SSE stream is one) are capped below
//!   [`ServerLimits::max_connections`](crate::ServerLimits::max_connections) (503
//!   beyond); the body limit is the webhook's; at shutdown every session and stream ends.
//!   Refusals are counted in the refusal summary (`mcp_host`, `mcp_token`, `mcp_cap`).
//! - **stdio**: [`serve_stdio`] (or [`Pillar::serve_stdio`]), for desktop clients that
//!   start the program. It needs no `PILLAR_SECRET`, does not register with Pillar Cloud
//!   and serves no webhook; every log goes to standard error (standard output is the
//!   protocol's).
//!
//! # How a tool maps
//!
//! | tool | MCP |
//! |---|---|
//! | name | `name` |
//! | description, `guidance` | `description`: the description, then a blank line and the guidance |
//! | input schema | `inputSchema`: the macro's (inlined), or a [`Tool::builder`](crate::Tool::builder) schema as it was written (`$schema`, `$defs`, `$ref`, `additionalProperties` kept) |
//! | `output_schema` describing an object | `outputSchema` |
//! | a JSON object result | `structuredContent`, and its JSON as one text block |
//! | a `String` result | one text block, verbatim (not JSON-quoted) |
//! | another JSON result | one text block of its JSON |
//! | [`Content`] / [`Contents`] | the blocks as they are |
//! | the tool's error, bad arguments, a constraint, a timeout, a panic | an `isError` result with the webhook's words |
//! | a confirmation card ([`Reply`](crate::Reply)) | the user is asked (below) |
//! | an unknown tool, or one whose channels lack `mcp` | a JSON-RPC error (invalid params) |
//! | too many calls in flight | an `isError` result: "Server busy: too many calls in flight; retry shortly" |
//!
//! A call runs through the webhook's own run stage: the channel check, the schema's
//! constraints, the arguments, the `State<T>`s, `timeout_ms` and the panic guard; it
//! takes one of the `max_in_flight` slots like a webhook call. The record of calls does
//! not apply: MCP has no call id, and a client's retry is a new call. The tool's
//! [`ToolContext`](crate::ToolContext) has the channel [`Channel::Mcp`](crate::Channel::Mcp),
//! the caller of [`PillarBuilder::mcp_caller`](crate::PillarBuilder::mcp_caller) (over
//! HTTP), the request's extensions (over HTTP), and [`ToolContext::mcp`](crate::ToolContext::mcp):
//! logging, progress, sampling and elicitation ([`McpContext`]).
//!
//! # Confirmations
//!
//! A tool that answers a confirmation card is asked about: on a 2025-11-25 session whose
//! client declared form elicitation, with `elicitation/create` (the card's title, message
//! and details); on 2026-07-28, with an input-required result whose state this process
//! seals (HMAC, single use, expiring). Accepted, the tool runs again with `confirmed()`
//! and the card's `confirm_payload` (the original arguments if none); declined, the answer
//! says so and nothing runs. A client that can do neither gets the card's text, saying
//! confirmation is needed. No argument, header or `_meta` marks a call confirmed. The
//! wait for the user is [`McpSettings::confirm_timeout`](crate::McpSettings::confirm_timeout)
//! (10 minutes), apart from `timeout_ms`.
//!
//! # Skills
//!
//! Each skill ([`skill!`](crate::skill!), [`Skill`](crate::Skill)) is a prompt: its name,
//! its description, its content as one user message. Every `{name}` in the content
//! (`name` an identifier) is a required argument, replaced by the client's value.
//!
//! # The webhook
//!
//! [`ToolContext::mcp`](crate::ToolContext::mcp) is `None` for Pillar Cloud's calls; a
//! tool answering [`Contents`] gives Pillar Cloud the JSON array of the blocks in MCP's
//! shape. A tool whose only channel is `mcp` is not registered with Pillar Cloud.

mod bridge;
mod confirm;
mod context;
mod http;

use std::io;

use rmcp::ServiceExt;

pub use self::context::{Elicitation, LogLevel, McpContext, RequestError};
pub use self::http::{McpBody, McpService};
pub use crate::tool::content::{Content, Contents};

use self::bridge::{Bridge, Shared};
use crate::call::{Pillar, PillarBuilder};
use crate::config::{MCP_CONFIRM_TIMEOUT, MCP_VARIABLES};
use crate::error::Error;

/// Serves every `#[pillar::tool]` of the program over MCP on standard input and output,
/// configured from the environment, until the client closes the pipe: the one-liner for
/// desktop clients that start the program.
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> Result<(), pillar::Error> {
///     pillar::mcp::serve_stdio().await
/// }
/// ```
///
/// It needs no `PILLAR_SECRET` (no webhook is served), does not register with Pillar
/// Cloud, and ignores the `PILLAR_MCP*` variables of Streamable HTTP (all but
/// `PILLAR_MCP_CONFIRM_TIMEOUT_SECS`); the logs go to standard error.
///
/// # Errors
/// A tool definition or variable that is invalid; [`Error::Serve`] when the protocol
/// could not start (the client sent no `initialize`) or broke.
pub async fn serve_stdio() -> Result<(), Error> {
    // A secret nobody knows: nothing is signed with it, no webhook is served.
    let mut bytes = [0u8; 24];
    let _ = getrandom::fill(&mut bytes);
    let placeholder: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    PillarBuilder::from_lookup(|name| match name {
        "PILLAR_SECRET" => Some(format!("stdio_{placeholder}")),
        // Streamable HTTP's settings; the confirmation's wait applies here too.
        name if MCP_VARIABLES.contains(&name) && name != MCP_CONFIRM_TIMEOUT => None,
        other => std::env::var(other).ok(),
    })?
    .auto_register(false)
    .build()?
    .serve_stdio()
    .await
}

impl Pillar {
    /// Serves the tools over MCP on standard input and output until the client closes
    /// the pipe (see [`serve_stdio`]). When the program has set no `tracing` subscriber
    /// and [`default_logging`](crate::PillarBuilder::default_logging) is on, one writing
    /// to standard error is installed.
    ///
    /// # Errors
    /// [`Error::Serve`] when the protocol could not start or broke.
    pub async fn serve_stdio(self) -> Result<(), Error> {
        if self.settings().default_logging && !tracing::dispatcher::has_been_set() {
            let _ = tracing_subscriber::fmt()
                .with_writer(io::stderr)
                .with_ansi(false)
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .try_init();
        }
        let serve_error = |context: &str, err: String| Error::Serve {
            context: context.to_owned(),
            source: io::Error::other(err),
        };
        let bridge = Bridge::new(Shared::new(self));
        let running = bridge.serve(rmcp::transport::stdio()).await.map_err(|e| {
            serve_error(
                "the MCP client did not start a session on stdio",
                e.to_string(),
            )
        })?;
        running
            .waiting()
            .await
            .map_err(|e| serve_error("MCP over stdio stopped", e.to_string()))?;
        Ok(())
    }

    /// MCP's Streamable HTTP transport as a `tower::Service`, to mount in an axum or tower
    /// app (see the [module's docs](crate::mcp) for what it checks):
    ///
    /// ```
    /// # fn run() -> Result<(), pillar::Error> {
    /// let pillar = pillar::Pillar::builder()
    ///     .secret("plr_local")
    ///     .mcp(pillar::McpSettings::new().token("a-long-random-token"))
    ///     .build()?;
    /// let app: axum::Router = axum::Router::new()
    ///     .route_service("/mcp", pillar.mcp_service()?)
    ///     .merge(pillar.router());
    /// # Ok(()) }
    /// # run().unwrap();
    /// ```
    ///
    /// Call [`McpService::shutdown`] when the app shuts down, so open streams end.
    ///
    /// # Errors
    /// [`Error::Config`] without a token of at least 16 characters when authentication is
    /// on ([`McpSettings::token`](crate::McpSettings::token)).
    pub fn mcp_service(&self) -> Result<McpService, Error> {
        crate::call::mcp::check_token(&self.settings().mcp)?;
        Ok(McpService::new(self.clone()))
    }
}

/// `serve()`'s MCP route: `app` with `/mcp` added when MCP is on, and the service to
/// shut down with the server.
pub(crate) fn mount(
    pillar: &Pillar,
    app: axum::Router,
) -> Result<(axum::Router, Option<McpService>), Error> {
    if !pillar.settings().mcp.enabled {
        return Ok((app, None));
    }
    let service = pillar.mcp_service()?;
    Ok((app.route_service("/mcp", service.clone()), Some(service)))
}
