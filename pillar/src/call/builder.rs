//! [`PillarBuilder`]: every setting of a [`Pillar`], from code or from the environment
//! (the variables are listed once, in `ENVIRONMENT.md`), checked by
//! [`build`](PillarBuilder::build).

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::{Clock, Inner, Pillar};
use crate::config::{ServerLimits, Settings};
use crate::error::Error;
use crate::idempotency::record::Store;
use crate::idempotency::{CallStore, MemoryStore};
use crate::observe::Metrics;
use crate::rejections::Rejections;
use crate::signature::{unix_now, Secret, Verifier, DEFAULT_TOLERANCE};
use crate::skill::{Skill, StaticSkill};
use crate::tool::generated::StaticTool;
use crate::tool::state::States;
use crate::tool::Tool;

/// Builds a [`Pillar`]. Start with [`Pillar::builder`].
#[must_use]
pub struct PillarBuilder {
    secrets: Vec<String>,
    tools: Vec<Tool>,
    registered_tools: bool,
    clock: Option<Clock>,
    tolerance: Duration,
    skills: Vec<Skill>,
    pub(super) settings: Settings,
    store: Option<Store>,
    idempotency: bool,
    states: States,
    /// Who an MCP request's caller is (`PillarBuilder::mcp_caller`, `call/mcp.rs`).
    #[cfg(feature = "mcp")]
    pub(super) mcp_caller: Option<super::mcp::CallerHook>,
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
            .field("states", &self.states.type_names())
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

    /// Gives the tools a value of the application: every tool with a
    /// [`State<T>`](crate::State) parameter of this type receives it (behind an `Arc`;
    /// `T` need not be `Clone`). One value per type: a second value of the same type is
    /// an error of [`build`](Self::build). Each `Pillar` has its own states.
    ///
    /// ```
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// struct Db { url: String }
    ///
    /// /// Where the database is.
    /// #[pillar::tool]
    /// async fn database_url(db: pillar::State<Db>) -> String {
    ///     db.url.clone()
    /// }
    ///
    /// let pillar = pillar::testing::pillar()
    ///     .state(Db { url: "sqlite://crm.db".into() })
    ///     .build()?;
    /// let url = pillar::testing::call(&pillar, "database_url", serde_json::json!({})).await?;
    /// assert_eq!(url, "sqlite://crm.db");
    /// # Ok(()) }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
    /// ```
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.states.insert(value);
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
        self.settings.addr_from = Some("PillarBuilder::addr in your code");
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
    /// `max` (defaults 500 ms and 60 s). After a `429`, the wait is the larger of its
    /// `Retry-After` and the backoff, and at least 1 s.
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

    /// How much longer than its tool's timeout a call's claim lives (default 30 s). It
    /// bounds three waits: a repeat delivery waits for the first delivery's answer at
    /// most the tool's timeout plus this margin; a claimant that crashed frees the call
    /// after as long; and an answer the store could not record is retried in the
    /// background until then. Keep it above the store's own timeout (2 s for the Redis
    /// store) plus the time an outage of the store should be ridden out; tests set it low
    /// to run in seconds.
    pub fn claim_margin(mut self, margin: Duration) -> Self {
        self.settings.claim_margin = margin;
        self
    }

    /// The most bytes of answers the default record of calls keeps in memory (default
    /// 64 MiB), beside its bound of 100,000 records: past it, the oldest finished
    /// records are forgotten (see
    /// [`MemoryStore::max_bytes`](crate::idempotency::MemoryStore::max_bytes) for the
    /// figures and what a too-large answer does). A store given to
    /// [`call_store`](Self::call_store) has its own bounds: `build` refuses both.
    pub fn record_max_bytes(mut self, bytes: usize) -> Self {
        self.settings.record_max_bytes = bytes;
        self
    }

    /// How many verified calls run at once before answering 503 with `Retry-After`
    /// (default 1024). Only a call whose body has arrived and whose signature is valid
    /// takes a slot.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.settings.max_in_flight = max;
        self
    }

    /// The HTTP server's timeouts and connection cap (see [`ServerLimits`] for the
    /// defaults and where each applies).
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.settings.limits = limits;
        self
    }

    /// Whether [`serve`](Pillar::serve) prints its logs when the program has set no
    /// `tracing` subscriber (default `true`): it then installs a `tracing-subscriber` fmt
    /// subscriber on standard output, filtered by `RUST_LOG` (`info` when unset), so the
    /// first run says where it listens, how many tools it serves and whether it registers
    /// them. A subscriber of your own, set before `serve`, is always used instead. Turn it
    /// off for a program that wants no output from the SDK without a subscriber.
    pub fn default_logging(mut self, on: bool) -> Self {
        self.settings.default_logging = on;
        self
    }

    /// Checks everything and builds the `Pillar`.
    ///
    /// # Errors
    /// - [`Error::MissingSecret`] without a secret, [`Error::Secret`] for an empty one;
    /// - [`Error::DuplicateTool`] when two tools share a name (both places are named);
    /// - [`Error::InvalidTool`] for a tool whose definition is invalid;
    /// - [`Error::MissingState`] when a tool takes a `State<T>` no `.state(...)` gave
    ///   ([`Error::MissingStates`] naming every one when several are missing),
    ///   [`Error::DuplicateState`] when one type was given twice.
    pub fn build(self) -> Result<Pillar, Error> {
        #[cfg(feature = "mcp")]
        super::mcp::check_settings(&self.settings)?;
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
        if let Some(type_name) = self.states.duplicate() {
            return Err(Error::DuplicateState { type_name });
        }
        // Every missing state at once, so one run names them all.
        let mut missing = Vec::new();
        for tool in &mut all {
            if let Err(more) = tool.resolve_states(&self.states) {
                missing.extend(more);
            }
        }
        match missing.len() {
            0 => {}
            1 => {
                let only = missing.remove(0);
                return Err(Error::MissingState {
                    tool: only.tool,
                    location: only.location,
                    type_name: only.type_name,
                });
            }
            _ => return Err(Error::MissingStates(missing)),
        }
        for tool in &mut all {
            tool.compile_constraints()?;
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
        let (body_limit, body_budget) =
            (self.settings.body_limit, self.settings.limits.body_budget);
        if body_budget < body_limit || body_budget > u32::MAX as usize {
            return Err(Error::Config {
                name: "body_budget",
                reason: format!(
                    "{body_budget} bytes must be at least body_limit ({body_limit} bytes), or \
                     a request of body_limit bytes could never be read, and at most 4 GiB"
                ),
            });
        }
        let index = all
            .iter()
            .enumerate()
            .map(|(i, t)| (t.info.name.clone(), i))
            .collect();
        let clock = self.clock.unwrap_or_else(|| Arc::new(unix_now));
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
        let max_bytes = self.settings.record_max_bytes;
        if self.store.is_some() && max_bytes != crate::idempotency::DEFAULT_MAX_BYTES {
            return Err(Error::Config {
                name: "record_max_bytes",
                reason: "applies to the default record of calls, but a store was given to \
                         call_store; set its bound on that store (MemoryStore::max_bytes)"
                    .to_owned(),
            });
        }
        let store = match (self.idempotency, self.store) {
            (false, _) => Store::Off,
            (true, Some(store)) => store,
            (true, None) => Store::Memory(Arc::new(MemoryStore::default().max_bytes(max_bytes))),
        };
        let metrics = Metrics::new(all.iter().map(|t| t.info.name.as_str()));
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
                #[cfg(feature = "serve")]
                body_budget: super::budget::BodyBudget::new(body_budget),
                rejections: Rejections::default(),
                metrics,
                record_reported: AtomicU64::new(u64::MAX),
                started: Instant::now(),
                #[cfg(feature = "mcp")]
                mcp_caller: self.mcp_caller,
            }),
        })
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
            states: States::default(),
            #[cfg(feature = "mcp")]
            mcp_caller: None,
        }
    }
}

impl PillarBuilder {
    /// A builder configured from the environment:
    ///
    #[doc = include_str!("../../ENVIRONMENT.md")]
    ///
    /// With `PILLAR_REDIS_URL`, the Redis store is made here and connects on first use:
    /// while Redis cannot be reached, calls are refused with a retryable 503, never run
    /// without a claim. Further builder calls may override any of them.
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable that is missing or invalid.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables (for tests).
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let secrets: Vec<String> = lookup("PILLAR_SECRET")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if secrets.is_empty() {
            return Err(Error::Config {
                name: "PILLAR_SECRET",
                reason: "is not set or empty; set it to the secret from the Pillar dashboard \
                         (any non-empty value for local use)"
                    .to_owned(),
            });
        }
        let mut builder = Pillar::builder().secrets(secrets);
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(url) = non_empty("PILLAR_ENDPOINT_URL") {
            builder = builder.endpoint_url(url.trim());
        }
        if let Some(url) = non_empty("PILLAR_API_URL") {
            builder = builder.api_url(url.trim());
        }
        if let Some(addr) = non_empty("PILLAR_ADDR") {
            let addr = addr.trim().parse().map_err(|e| Error::Config {
                name: "PILLAR_ADDR",
                reason: format!("`{addr}` is not a socket address like 0.0.0.0:8787 ({e})"),
            })?;
            builder = builder.addr(addr);
            builder.settings.addr_from = Some("PILLAR_ADDR");
        } else if let Some(port) = non_empty("PORT") {
            let port: u16 = port.trim().parse().map_err(|e| Error::Config {
                name: "PORT",
                reason: format!("`{port}` is not a port number ({e})"),
            })?;
            builder = builder.addr(SocketAddr::from(([0, 0, 0, 0], port)));
            builder.settings.addr_from = Some("PORT");
        }
        if let Some(flag) = non_empty("PILLAR_AUTO_REGISTER") {
            let on = match flag.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(Error::Config {
                        name: "PILLAR_AUTO_REGISTER",
                        reason: format!("`{flag}` is not true or false"),
                    })
                }
            };
            builder = builder.auto_register(on);
        }
        if let Some(url) = non_empty("PILLAR_REDIS_URL") {
            builder = with_redis(builder, url.trim())?;
        }
        with_mcp(builder, &non_empty)
    }
}

/// The MCP bridge's settings, from the `PILLAR_MCP*` variables.
#[cfg(feature = "mcp")]
use super::mcp::from_lookup as with_mcp;

/// Refuses `PILLAR_MCP*` in a build without the bridge, rather than serving no MCP
/// silently.
#[cfg(not(feature = "mcp"))]
fn with_mcp(
    builder: PillarBuilder,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<PillarBuilder, Error> {
    for name in crate::config::MCP_VARIABLES {
        if lookup(name).is_some() {
            return Err(Error::Config {
                name,
                reason: "set, but this build has no `mcp` feature".to_owned(),
            });
        }
    }
    Ok(builder)
}

/// Keeps the record of calls in Redis, from `PILLAR_REDIS_URL`.
#[cfg(feature = "redis")]
fn with_redis(builder: PillarBuilder, url: &str) -> Result<PillarBuilder, Error> {
    match crate::idempotency::RedisStore::open(url) {
        Ok(store) => Ok(builder.call_store(store)),
        Err(err) => Err(Error::Config {
            name: "PILLAR_REDIS_URL",
            reason: match err {
                crate::idempotency::StoreError::Unavailable(reason) => reason,
                other => other.to_string(),
            },
        }),
    }
}

/// Refuses `PILLAR_REDIS_URL` in a build without Redis, rather than silently keeping the
/// record of calls per process.
#[cfg(not(feature = "redis"))]
fn with_redis(_builder: PillarBuilder, _url: &str) -> Result<PillarBuilder, Error> {
    Err(Error::Config {
        name: "PILLAR_REDIS_URL",
        reason: "set, but this build has no `redis` feature".to_owned(),
    })
}

impl Pillar {
    /// Builds a `Pillar` from the environment (see [`PillarBuilder::from_env`]).
    ///
    /// # Errors
    /// A missing or invalid variable, or an invalid tool.
    pub fn from_env() -> Result<Self, Error> {
        PillarBuilder::from_env()?.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn secret_is_required_and_named() {
        for pairs in [
            &[][..],
            &[("PILLAR_SECRET", "")],
            &[("PILLAR_SECRET", " , ")],
        ] {
            let err = PillarBuilder::from_lookup(env(pairs))
                .unwrap_err()
                .to_string();
            assert!(err.contains("PILLAR_SECRET"), "{err}");
        }
    }

    #[test]
    fn everything_reads_from_the_environment() {
        let p = PillarBuilder::from_lookup(env(&[
            ("PILLAR_SECRET", "plr_a, plr_b"),
            ("PILLAR_ENDPOINT_URL", "https://example.com/pillar"),
            ("PILLAR_API_URL", "http://127.0.0.1:9"),
            ("PORT", "9000"),
            ("PILLAR_AUTO_REGISTER", "off"),
        ]))
        .unwrap()
        .registered_tools(false)
        .build()
        .unwrap();
        let s = p.settings();
        assert_eq!(
            s.endpoint_url.as_deref(),
            Some("https://example.com/pillar")
        );
        assert_eq!(s.api_url, "http://127.0.0.1:9");
        assert_eq!(s.addr, SocketAddr::from(([0, 0, 0, 0], 9000)));
        assert!(!s.auto_register);
        assert_eq!(p.verifier().secret_count(), 2);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("PILLAR_ADDR", "nowhere"),
            ("PORT", "99999"),
            ("PILLAR_AUTO_REGISTER", "maybe"),
        ] {
            let err = PillarBuilder::from_lookup(env(&[("PILLAR_SECRET", "s"), (name, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(name) && err.contains(value), "{err}");
        }
    }

    #[cfg(not(feature = "redis"))]
    #[test]
    fn a_redis_url_without_the_feature_is_refused() {
        let err = PillarBuilder::from_lookup(env(&[
            ("PILLAR_SECRET", "s"),
            ("PILLAR_REDIS_URL", "redis://127.0.0.1/"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("PILLAR_REDIS_URL") && err.contains("no `redis` feature"),
            "{err}"
        );
    }

    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn a_redis_url_makes_a_redis_store_that_connects_on_first_use() {
        let tool = crate::Tool::builder("noop")
            .description("Does nothing")
            .handler(|_args: serde_json::Value, _ctx| async { Ok::<_, String>(1) })
            .build()
            .unwrap();
        // Nothing listens on port 1: building works, the call is refused, not run.
        let pillar = PillarBuilder::from_lookup(env(&[
            ("PILLAR_SECRET", crate::testing::TEST_SECRET),
            ("PILLAR_REDIS_URL", " redis://:hunter2@127.0.0.1:1/ "),
        ]))
        .unwrap()
        .registered_tools(false)
        .tool(tool)
        .build()
        .unwrap();
        let body = crate::testing::tool_call_body("noop", "tc_1", serde_json::json!({}));
        let headers = crate::protocol::signed_headers(crate::testing::TEST_SECRET, &body);
        let response = pillar.handle(&body, &headers).await;
        assert_eq!(response.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.retry_after(), Some(1));

        let err = PillarBuilder::from_lookup(env(&[
            ("PILLAR_SECRET", "s"),
            ("PILLAR_REDIS_URL", "http://:hunter2@127.0.0.1/"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("PILLAR_REDIS_URL"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
