//! Readiness: whether this instance should get traffic. [`serve`](crate::serve) answers it
//! on `GET /readyz`; an app that mounts the webhook through an adapter asks
//! [`Pillar::readiness`] (or routes [`axum::readyz`](super::axum::readyz)).

use ::http::StatusCode;
use serde_json::json;

use crate::call::Pillar;
use crate::cloud::{RegistrationHandle, RegistrationState};

/// What `registration` says when no registration is tracked.
const NOT_REQUIRED: &str = "not_required";
/// What `store` says when the record of calls is off.
const NOT_USED: &str = "not_used";
/// What `store` says when the store answers.
const OK: &str = "ok";

/// Whether an instance is ready for Pillar Cloud's calls, part by part: from
/// [`Pillar::readiness`].
///
/// Ready when both parts are:
///
/// | part | ready | not ready |
/// |---|---|---|
/// | `registration` | `registered`; `not_required` when no registration is tracked (`serve()` with [`auto_register`](crate::Settings::auto_register) off) | `pending: ...`, `retrying: <error> (N failed attempts)`, `failed: <error>`, `not_configured: ...` (no [`endpoint_url`](crate::Settings::endpoint_url): Pillar Cloud will never call the tools), `stopped: ...` |
/// | `store` | `ok` (the [`MemoryStore`](crate::idempotency::MemoryStore) always is; another store answers [`CallStore::ready`](crate::idempotency::CallStore::ready), a `PING` for Redis); `not_used` when the record of calls is off | the store's error, naming what cannot be reached (a Redis URL without its password) |
///
/// As JSON ([`to_json`](Self::to_json)), answered with [`status`](Self::status), 200 or
/// 503:
///
/// ```json
/// {"status": "not_ready", "registration": "retrying: Pillar Cloud failed (HTTP 503): ... (2 failed attempts)", "store": "ok"}
/// ```
///
/// The texts say which dependency fails (an error of Pillar Cloud, the Redis host):
/// route readiness where your orchestrator's probes reach it, not necessarily on the
/// public internet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    registration: Part,
    store: Part,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    ready: bool,
    text: String,
}

impl Readiness {
    /// Whether every part is ready.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.registration.ready && self.store.ready
    }

    /// The registration's part: `registered`, `not_required`, or what is wrong
    /// (`retrying: <error> ...`, see the table above).
    #[must_use]
    pub fn registration(&self) -> &str {
        &self.registration.text
    }

    /// The call store's part: `ok`, `not_used`, or the store's error.
    #[must_use]
    pub fn store(&self) -> &str {
        &self.store.text
    }

    /// 200 when ready, 503 otherwise.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        if self.is_ready() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        }
    }

    /// `{"status": "ready" | "not_ready", "registration": ..., "store": ...}`.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "status": if self.is_ready() { "ready" } else { "not_ready" },
            "registration": self.registration.text,
            "store": self.store.text,
        })
    }
}

impl Pillar {
    /// Whether this instance is ready for calls: the registration given is done (or
    /// `None`: no registration is tracked, so it is not required) and the record of calls
    /// answers (a `PING` of at most 800 ms for Redis). See [`Readiness`] for what each
    /// part says. `serve()` answers it on `GET /readyz`; an app that mounts the webhook
    /// routes it with [`adapters::axum::readyz`](super::axum::readyz), or answers
    /// [`Readiness::status`] and [`Readiness::to_json`] from its own handler.
    ///
    /// ```
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let pillar = pillar::testing::pillar().build()?; // no endpoint URL
    /// let readiness = pillar.readiness(None).await;
    /// assert!(readiness.is_ready());
    /// assert_eq!((readiness.registration(), readiness.store()), ("not_required", "ok"));
    ///
    /// // Without an endpoint URL the tools are never registered: not ready.
    /// let registration = pillar.spawn_registration();
    /// let readiness = pillar.readiness(Some(&registration)).await;
    /// assert!(!readiness.is_ready());
    /// assert_eq!(readiness.status(), 503);
    /// assert!(readiness.registration().starts_with("not_configured"));
    /// # Ok(()) }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
    /// ```
    pub async fn readiness(&self, registration: Option<&RegistrationHandle>) -> Readiness {
        let registration = match registration.map(RegistrationHandle::state) {
            None => Part {
                ready: true,
                text: NOT_REQUIRED.to_owned(),
            },
            Some(state) => Part {
                ready: matches!(state, RegistrationState::Registered { .. }),
                text: state.to_string(),
            },
        };
        let store = match self.call_store() {
            None => Part {
                ready: true,
                text: NOT_USED.to_owned(),
            },
            Some(store) => match store.ready().await {
                Ok(()) => Part {
                    ready: true,
                    text: OK.to_owned(),
                },
                Err(err) => Part {
                    ready: false,
                    text: err.to_string(),
                },
            },
        };
        Readiness {
            registration,
            store,
        }
    }
}
