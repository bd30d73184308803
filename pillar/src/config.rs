//! Serving and registration settings, from a builder or the environment.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

/// The default Pillar Cloud API.
pub const DEFAULT_API_URL: &str = "https://api.trypillar.com";
/// The default listen address of [`serve`](crate::serve), [`Settings::addr`]'s default:
/// `0.0.0.0:8787`, every interface.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8787));
/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// The default budget of request-body bytes buffered at once: 64 MiB (see
/// [`ServerLimits::body_budget`]).
const DEFAULT_BODY_BUDGET: usize = 64 * 1024 * 1024;

/// How the SDK serves and registers; set through [`PillarBuilder`](crate::PillarBuilder)
/// or read with [`PillarBuilder::from_env`](crate::PillarBuilder::from_env).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// The public URL Pillar Cloud calls; without it tools are not registered.
    pub endpoint_url: Option<String>,
    /// The Pillar Cloud API base URL.
    pub api_url: String,
    /// Where [`serve`](crate::serve) listens.
    pub addr: SocketAddr,
    /// Where `addr` was set (`PILLAR_ADDR`, `PORT`, the builder), for the advice of a
    /// bind error; `None` for the default.
    pub(crate) addr_from: Option<&'static str>,
    /// Whether `serve()` registers the tools at start-up.
    pub auto_register: bool,
    /// The largest request body accepted (larger answers 413).
    pub body_limit: usize,
    /// The path the webhook is answered on, besides `/`.
    pub path: String,
    /// The longest a request to Pillar Cloud may wait for its answer.
    pub request_timeout: Duration,
    /// The first delay before retrying a failed registration.
    pub retry_initial: Duration,
    /// The longest delay between registration attempts (backoff doubles up to it).
    pub retry_max: Duration,
    /// How long a finished call's answer is kept for repeat deliveries.
    pub record_ttl: Duration,
    /// How much longer than its tool's timeout a call's claim lives (see
    /// [`PillarBuilder::claim_margin`](crate::PillarBuilder::claim_margin)).
    pub claim_margin: Duration,
    /// The most bytes of answers the default in-memory record of calls keeps (see
    /// [`MemoryStore::max_bytes`](crate::idempotency::MemoryStore::max_bytes)).
    pub record_max_bytes: usize,
    /// How many verified calls run at once before shedding load (503).
    pub max_in_flight: usize,
    /// The HTTP server's timeouts and caps against slow, idle and flooding clients.
    pub limits: ServerLimits,
    /// Whether [`Pillar::serve`](crate::Pillar::serve) prints its logs when the program
    /// has no `tracing` subscriber (see
    /// [`PillarBuilder::default_logging`](crate::PillarBuilder::default_logging)).
    pub default_logging: bool,
    /// The MCP bridge's settings (feature `mcp`; see [`McpSettings`]).
    #[cfg(feature = "mcp")]
    pub mcp: McpSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            endpoint_url: None,
            api_url: DEFAULT_API_URL.to_owned(),
            addr: DEFAULT_ADDR,
            addr_from: None,
            auto_register: true,
            body_limit: DEFAULT_BODY_LIMIT,
            path: "/pillar".to_owned(),
            request_timeout: Duration::from_secs(15),
            retry_initial: Duration::from_millis(500),
            retry_max: Duration::from_secs(60),
            record_ttl: crate::idempotency::DEFAULT_RECORD_TTL,
            claim_margin: crate::idempotency::DEFAULT_CLAIM_MARGIN,
            record_max_bytes: crate::idempotency::DEFAULT_MAX_BYTES,
            max_in_flight: 1024,
            limits: ServerLimits::default(),
            default_logging: true,
            #[cfg(feature = "mcp")]
            mcp: McpSettings::default(),
        }
    }
}

/// The HTTP server's timeouts and caps: what keeps slow, idle or flooding clients from
/// taking the server away from Pillar Cloud's calls. Set with
/// [`PillarBuilder::limits`](crate::PillarBuilder::limits).
///
/// The defaults suit a webhook whose one sender is Pillar Cloud (small bodies, sent at
/// once), not browsers:
///
/// | limit | default | at the limit | applies to |
/// |---|---|---|---|
/// | [`header_timeout`](Self::header_timeout) | 10 s | the connection is closed | [`serve`](crate::serve) (HTTP/1) |
/// | [`body_timeout`](Self::body_timeout) | 10 s | `408` `{"success": false, "error": "..."}` | `serve` and every adapter |
/// | [`idle_timeout`](Self::idle_timeout) | 60 s | the connection is closed (HTTP/2: `GOAWAY`) | `serve` |
/// | [`close_timeout`](Self::close_timeout) | 5 s | a connection still closing with no request in progress is dropped | `serve` |
/// | [`max_connections`](Self::max_connections) | 4096 | a new connection is closed at once | `serve` |
/// | [`body_budget`](Self::body_budget) | 64 MiB | a request waits for room at most 1 s, then `503` with `Retry-After: 1` | `serve` and every adapter |
///
/// An HTTP/1 keep-alive connection waiting for its next request is closed at the earlier
/// of `header_timeout` and `idle_timeout` (10 s with the defaults): hyper's header timer
/// runs while the connection waits for the next request's headers. `idle_timeout` bounds
/// HTTP/2 connections and HTTP/1 ones that have sent no byte.
///
/// ```
/// use std::time::Duration;
/// # fn run() -> Result<(), pillar::Error> {
/// let pillar = pillar::Pillar::builder()
///     .secret("plr_local")
///     .limits(
///         pillar::ServerLimits::default()
///             .header_timeout(Duration::from_secs(5))
///             .max_connections(512),
///     )
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// How long a client may take to send a request's headers, counted from the moment
    /// the server waits for them (on an HTTP/1 keep-alive connection, from the end of
    /// the previous answer).
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive once its headers have.
    pub body_timeout: Duration,
    /// How long a connection may stay open with no request in progress.
    pub idle_timeout: Duration,
    /// How long a connection that is being closed (after [`idle_timeout`](Self::idle_timeout)
    /// or at the server's shutdown) may stay open with no request in progress: a client
    /// that never acknowledges HTTP/2's closing `PING`, keeps a zero flow-control window
    /// or pipelines requests and never reads their answers is dropped then. A request in
    /// progress is never cut.
    pub close_timeout: Duration,
    /// How many connections may be open at once.
    pub max_connections: usize,
    /// How many bytes of request bodies may be buffered at once, across every request of
    /// the [`Pillar`](crate::Pillar) (`serve()` and every adapter): bodies are read before
    /// their signature can be checked. A request announcing its `Content-Length` reserves
    /// that much before reading; others take bytes as they arrive. A request that finds
    /// no room within 1 s is answered `503` with `Retry-After: 1`. At least
    /// [`Settings::body_limit`], at most 4 GiB (checked by `build()`).
    pub body_budget: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            close_timeout: Duration::from_secs(5),
            max_connections: 4096,
            body_budget: DEFAULT_BODY_BUDGET,
        }
    }
}

impl ServerLimits {
    /// Sets [`header_timeout`](Self::header_timeout).
    #[must_use]
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Sets [`body_timeout`](Self::body_timeout).
    #[must_use]
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`close_timeout`](Self::close_timeout).
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets [`max_connections`](Self::max_connections).
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// Sets [`body_budget`](Self::body_budget).
    #[must_use]
    pub fn body_budget(mut self, bytes: usize) -> Self {
        self.body_budget = bytes;
        self
    }
}

/// The variables of the MCP bridge ([`McpSettings`]): read by `from_env` with the `mcp`
/// feature, refused without it.
pub(crate) const MCP_VARIABLES: [&str; 7] = [
    "PILLAR_MCP",
    "PILLAR_MCP_TOKEN",
    "PILLAR_MCP_AUTH",
    "PILLAR_MCP_ALLOWED_HOSTS",
    MCP_CONFIRM_TIMEOUT,
    "PILLAR_MCP_MAX_SESSIONS",
    "PILLAR_MCP_MAX_STREAMS",
];

/// The one MCP variable stdio honours too.
pub(crate) const MCP_CONFIRM_TIMEOUT: &str = "PILLAR_MCP_CONFIRM_TIMEOUT_SECS";

/// How the MCP bridge (feature `mcp`, [`pillar::mcp`](crate::mcp)) serves Streamable
/// HTTP. Set with [`PillarBuilder::mcp`](crate::PillarBuilder::mcp) or the `PILLAR_MCP*`
/// variables. stdio ([`serve_stdio`](crate::mcp::serve_stdio)) uses none of them but
/// [`confirm_timeout`](Self::confirm_timeout).
///
/// `Debug` does not print the token.
#[cfg(feature = "mcp")]
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct McpSettings {
    /// Whether [`serve`](crate::serve) answers MCP at `/mcp` (`PILLAR_MCP`, default off).
    pub enabled: bool,
    /// The bearer token MCP clients send (`Authorization: Bearer <token>`,
    /// `PILLAR_MCP_TOKEN`); required unless [`no_auth`](Self::no_auth).
    pub token: Option<String>,
    /// No token checked (`PILLAR_MCP_AUTH=none`): accepted by `build()` only when the
    /// server listens on a loopback address.
    pub no_auth: bool,
    /// Host names MCP requests may name in `Host` and `Origin` besides the loopback ones
    /// and the host of [`Settings::endpoint_url`] (`PILLAR_MCP_ALLOWED_HOSTS`,
    /// comma-separated). A name without a port matches any port.
    pub allowed_hosts: Vec<String>,
    /// How long a call waits for the user to answer a confirmation (default 10 minutes,
    /// `PILLAR_MCP_CONFIRM_TIMEOUT_SECS`), apart from the tool's `timeout_ms`. Zero is
    /// refused by `build()`.
    pub confirm_timeout: Duration,
    /// How many MCP sessions may be open at once (`PILLAR_MCP_MAX_SESSIONS`); `None`: a
    /// quarter of [`ServerLimits::max_connections`]. A new session over it is answered
    /// 503. `build()` refuses 0 and a cap of `max_connections` or more.
    pub max_sessions: Option<usize>,
    /// How many MCP requests (an open SSE stream is one until it ends) may be in progress
    /// at once (`PILLAR_MCP_MAX_STREAMS`); `None`: half of
    /// [`ServerLimits::max_connections`]. Over it, 503. `build()` refuses 0 and a cap of
    /// `max_connections` or more, which would let MCP clients hold every connection.
    pub max_streams: Option<usize>,
}

#[cfg(feature = "mcp")]
impl Default for McpSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            token: None,
            no_auth: false,
            allowed_hosts: Vec::new(),
            confirm_timeout: Duration::from_secs(600),
            max_sessions: None,
            max_streams: None,
        }
    }
}

#[cfg(feature = "mcp")]
impl std::fmt::Debug for McpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpSettings")
            .field("enabled", &self.enabled)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("no_auth", &self.no_auth)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("confirm_timeout", &self.confirm_timeout)
            .field("max_sessions", &self.max_sessions)
            .field("max_streams", &self.max_streams)
            .finish()
    }
}

#[cfg(feature = "mcp")]
impl McpSettings {
    /// MCP on, with the defaults (a token still to give, or [`no_auth`](Self::no_auth)).
    pub fn new() -> Self {
        Self {
            enabled: true,
            ..Self::default()
        }
    }

    /// Sets the bearer [`token`](Self::token).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Checks no token (loopback addresses only; see [`no_auth`](Self::no_auth)).
    #[must_use]
    pub fn without_auth(mut self) -> Self {
        self.no_auth = true;
        self
    }

    /// Adds [`allowed_hosts`](Self::allowed_hosts).
    #[must_use]
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_hosts.extend(hosts.into_iter().map(Into::into));
        self
    }

    /// Sets [`confirm_timeout`](Self::confirm_timeout).
    #[must_use]
    pub fn confirm_timeout(mut self, timeout: Duration) -> Self {
        self.confirm_timeout = timeout;
        self
    }

    /// Sets [`max_sessions`](Self::max_sessions).
    #[must_use]
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = Some(max);
        self
    }

    /// Sets [`max_streams`](Self::max_streams).
    #[must_use]
    pub fn max_streams(mut self, max: usize) -> Self {
        self.max_streams = Some(max);
        self
    }
}
