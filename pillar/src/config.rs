//! Serving and registration settings, from a builder or the environment.

use std::net::SocketAddr;
use std::time::Duration;

/// The default Pillar Cloud API.
pub const DEFAULT_API_URL: &str = "https://api.trypillar.com";
/// The default listen address of [`serve`](crate::serve).
pub const DEFAULT_ADDR: &str = "0.0.0.0:8787";
/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

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
    /// The most bytes of answers the default in-memory record of calls keeps (see
    /// [`MemoryStore::max_bytes`](crate::idempotency::MemoryStore::max_bytes)).
    pub record_max_bytes: usize,
    /// How many webhook requests the HTTP adapters run at once before shedding load.
    pub max_in_flight: usize,
    /// Whether [`Pillar::serve`](crate::Pillar::serve) prints its logs when the program
    /// has no `tracing` subscriber (see
    /// [`PillarBuilder::default_logging`](crate::PillarBuilder::default_logging)).
    pub default_logging: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            endpoint_url: None,
            api_url: DEFAULT_API_URL.to_owned(),
            addr: SocketAddr::from(([0, 0, 0, 0], 8787)),
            auto_register: true,
            body_limit: DEFAULT_BODY_LIMIT,
            path: "/pillar".to_owned(),
            request_timeout: Duration::from_secs(15),
            retry_initial: Duration::from_millis(500),
            retry_max: Duration::from_secs(60),
            record_ttl: crate::idempotency::DEFAULT_RECORD_TTL,
            record_max_bytes: crate::idempotency::DEFAULT_MAX_BYTES,
            max_in_flight: 1024,
            default_logging: true,
        }
    }
}
