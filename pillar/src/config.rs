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
    /// How many webhook requests the HTTP adapters run at once before shedding load.
    pub max_in_flight: usize,
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
            max_in_flight: 1024,
        }
    }
}

use crate::{Error, Pillar, PillarBuilder};

impl PillarBuilder {
    /// A builder configured from the environment:
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `PILLAR_SECRET` | webhook secret; several comma-separated for rotation | required |
    /// | `PILLAR_ENDPOINT_URL` | the public URL Pillar Cloud calls | none: no registration |
    /// | `PILLAR_API_URL` | the Pillar Cloud API | `https://api.trypillar.com` |
    /// | `PILLAR_ADDR` (or `PORT`) | listen address (or port on `0.0.0.0`) | `0.0.0.0:8787` |
    /// | `PILLAR_AUTO_REGISTER` | register at start-up (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`) | `true` |
    /// | `PILLAR_REDIS_URL` | keep the record of calls in Redis, shared by every instance (feature `redis`) | in memory, per process |
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
        } else if let Some(port) = non_empty("PORT") {
            let port: u16 = port.trim().parse().map_err(|e| Error::Config {
                name: "PORT",
                reason: format!("`{port}` is not a port number ({e})"),
            })?;
            builder = builder.addr(SocketAddr::from(([0, 0, 0, 0], port)));
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
        Ok(builder)
    }
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
        let headers = crate::testing::signed_headers(crate::testing::TEST_SECRET, &body);
        let (status, answer) = pillar.handle(&body, &headers).await;
        assert_eq!(status, http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.retry_after(), Some(1));

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
