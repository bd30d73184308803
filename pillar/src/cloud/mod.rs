//! Pillar Cloud: registering the tools and skills, and confirming identity links.
//!
//! [`serve`](crate::serve) registers in the background at start-up (see
//! [`PillarBuilder::auto_register`](crate::PillarBuilder::auto_register)). An app that
//! mounts the webhook through an [adapter](crate::adapters) starts the same background
//! registration with [`Pillar::spawn_registration`], whose [`RegistrationHandle`] reports
//! where it stands; or it calls [`Pillar::register`] once and handles its typed
//! [`CloudError`].
//!
//! # Registration
//!
//! `POST {api_url}/api/tools/register/` with `Authorization: Bearer <secret>` (the first
//! secret given to the builder) and the body of [`Pillar::registration_payload`]:
//!
//! ```json
//! {
//!   "endpoint_url": "https://api.myapp.com/pillar",
//!   "sdk_version": "pillar-rust/0.1.0",
//!   "tools": [{"name": "lookup_customer", "description": "...", "inputSchema": {}, "...": "..."}],
//!   "skills": [{"name": "setup-guide", "description": "...", "content": "# markdown"}]
//! }
//! ```
//!
//! `skills` is only present when skills are defined.
//!
//! # Retries in the background
//!
//! [`Pillar::spawn_registration`] (which `serve()` uses) retries a failed registration
//! until it succeeds, while the server answers calls; its [`RegistrationHandle`] reports a
//! [`RegistrationState`] (pending, retrying with the last error, registered, failed) and
//! feeds `/readyz` ([`Pillar::readiness`]). What it does depends on the failure
//! ([`CloudError::is_retryable`]):
//!
//! | failure | log | next attempt |
//! |---|---|---|
//! | unreachable, timeout, 5xx, 408, invalid or too large answer | `warn` with the reason | exponential backoff from `retry_initial`, doubling up to `retry_max`, with equal jitter |
//! | 429 (rate limited) | `warn` with the reason | the larger of that backoff and its `Retry-After` (up to `retry_max`), and never sooner than 1 s: `Retry-After: 0` is not "at once" |
//! | 401/403 (the secret was refused) | `error`: bad secret | after exactly `retry_max` (60 s by default), never sooner |
//! | another 4xx (the payload was rejected) | `error` with Pillar Cloud's message | after exactly `retry_max` |
//! | an invalid `api_url` | `error` | none: registration stops ([`RegistrationState::Failed`]) |
//!
//! Every answer of Pillar Cloud (registration and identity links) is read up to
//! [`MAX_CLOUD_ANSWER_BYTES`] (1 MiB) and, headers and body together, within the one
//! deadline of [`request_timeout`](crate::PillarBuilder::request_timeout) (15 s by default): an
//! endless or huge answer is a [`TransportErrorKind::TooLarge`](crate::TransportErrorKind)
//! error and a trickling one a timeout, both retried like an invalid answer, never
//! unbounded memory or a hung registration.
//!
//! A failure like the previous one (same kind, same status) is logged at most once a
//! minute, with the number of attempts not logged since (`unlogged`); the others are
//! logged at `debug`. A failure of another kind is logged at once.
//!
//! Success is logged at `info` with the names Pillar Cloud registered. No log line or
//! error message contains the secret. Set the delays with
//! [`PillarBuilder::registration_backoff`](crate::PillarBuilder::registration_backoff).
//!
//! # Identity linking
//!
//! [`Pillar::confirm_link`] confirms that a chat identity (a Slack user who typed
//! `/pillar connect`) is one of your users.
//!
//! # Example
//!
//! Against the mock Cloud of [`testing`](crate::testing):
//!
//! ```
//! use pillar::testing::MockCloud;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let cloud = MockCloud::start().await?;
//! let pillar = pillar::testing::pillar()
//!     .registered_tools(false)
//!     .skill(pillar::Skill::new("setup-guide", "How to set up billing", "# Setup"))
//!     .endpoint_url("https://api.myapp.com/pillar")
//!     .api_url(cloud.url())
//!     .auto_register(false)
//!     .build()?;
//!
//! let registration = pillar.register().await?;
//! assert!(registration.registered.is_empty()); // no tools in this example
//!
//! let request = &cloud.registrations()[0];
//! assert_eq!(request.header("authorization"), Some("Bearer plr_test_secret"));
//! assert_eq!(request.json, pillar.registration_payload());
//! assert_eq!(request.json["skills"][0]["name"], "setup-guide");
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
//! ```

mod handle;
mod link;
mod retry;

use std::time::Duration;

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

pub use self::handle::{RegistrationHandle, RegistrationState};
pub use self::link::{IdentityLink, LinkError};

use crate::call::Pillar;
use crate::skill::Skill;
use crate::tool::context::Channel;
use crate::tool::ToolInfo;
use crate::transport::{
    http_client, read_capped, Peer, TransportError, MAX_CLOUD_ANSWER_BYTES, USER_AGENT,
};

/// The `sdk_version` sent with every registration: `pillar-rust/<crate version>` (also
/// the `User-Agent` of every request).
pub const SDK_VERSION: &str = USER_AGENT;

/// The registration path, under the API base URL.
const REGISTER_PATH: &str = "/api/tools/register/";

/// The longest error message kept from an answer of Pillar Cloud, in characters.
const MAX_MESSAGE_CHARS: usize = 500;

/// What Pillar Cloud answered to a successful registration.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Registration {
    /// The names Pillar Cloud says it registered (its `registered` field; empty when
    /// absent).
    pub registered: Vec<String>,
    /// The whole JSON answer (`null` when the answer had no body).
    pub response: Value,
}

/// Why [`Pillar::register`] failed.
///
/// No message contains the secret, even when Pillar Cloud's own answer quotes it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloudError {
    /// No `endpoint_url` is configured, so there is nothing to register.
    #[error(
        "cannot register with Pillar Cloud: no endpoint URL; set PILLAR_ENDPOINT_URL (or \
         PillarBuilder::endpoint_url) to the public URL Pillar Cloud calls"
    )]
    NoEndpointUrl,

    /// Pillar Cloud refused the secret (HTTP 401 or 403).
    #[error(
        "Pillar Cloud refused the secret (HTTP {status}): {message}; check that \
         PILLAR_SECRET is the secret shown in the Pillar dashboard"
    )]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// Pillar Cloud's explanation.
        message: String,
    },

    /// Pillar Cloud rejected the request (another 4xx, such as an invalid payload).
    #[error("Pillar Cloud rejected the request (HTTP {status}): {message}")]
    Rejected {
        /// The 4xx status.
        status: u16,
        /// Pillar Cloud's explanation.
        message: String,
    },

    /// Pillar Cloud asked to slow down (HTTP 429).
    #[error("Pillar Cloud is rate limiting requests (HTTP 429): {message}")]
    RateLimited {
        /// Its `Retry-After`, when it sent one in seconds.
        retry_after: Option<Duration>,
        /// Pillar Cloud's explanation.
        message: String,
    },

    /// Pillar Cloud failed (HTTP 5xx).
    #[error("Pillar Cloud failed (HTTP {status}): {message}")]
    Server {
        /// The 5xx status.
        status: u16,
        /// Its explanation, if any.
        message: String,
    },

    /// The request got no usable answer: Pillar Cloud unreachable, no answer in time,
    /// an invalid `api_url`, or an answer that is not the expected JSON.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl CloudError {
    /// Whether trying again later may succeed: yes for an unreachable Cloud, a timeout,
    /// a 5xx, a 408 or 429, an invalid answer; no for a refused secret, another 4xx, a
    /// missing endpoint URL or an invalid request.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Server { .. } | Self::RateLimited { .. } => true,
            Self::Transport(err) => err.is_retryable(),
            Self::Rejected { status, .. } => *status == 408,
            Self::NoEndpointUrl | Self::Unauthorized { .. } => false,
        }
    }

    /// The HTTP status Pillar Cloud answered, when it answered with an error status.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { status, .. }
            | Self::Rejected { status, .. }
            | Self::Server { status, .. } => Some(*status),
            Self::RateLimited { .. } => Some(429),
            _ => None,
        }
    }
}

/// A tool's registration form as Pillar Cloud gets it: its channels without the ones
/// local to this server (`mcp`); `None` when it has no other (it is not registered).
fn cloud_form(tool: &ToolInfo) -> Option<Cow<'_, ToolInfo>> {
    let cloud = |name: &String| {
        Channel::KNOWN
            .iter()
            .any(|known| known.cloud && known.name == name.as_str())
    };
    if tool.channel_compatibility.iter().all(cloud) {
        return Some(Cow::Borrowed(tool));
    }
    let channels: Vec<String> = tool
        .channel_compatibility
        .iter()
        .filter(|c| cloud(c))
        .cloned()
        .collect();
    if channels.is_empty() {
        return None;
    }
    let mut form = tool.clone();
    form.channel_compatibility = channels;
    Some(Cow::Owned(form))
}

/// The registration body, serialised in the protocol's key order.
#[derive(Serialize)]
struct RegistrationBody<'a> {
    endpoint_url: Option<&'a str>,
    sdk_version: &'static str,
    tools: Vec<Cow<'a, ToolInfo>>,
    #[serde(skip_serializing_if = "<[Skill]>::is_empty")]
    skills: &'a [Skill],
}

impl Pillar {
    /// The JSON body [`register`](Self::register) sends (PROTOCOL.md section 1):
    /// `endpoint_url`, `sdk_version` ([`SDK_VERSION`]), every tool of
    /// [`tools`](Self::tools) that Pillar Cloud may call, and `skills` when there are any.
    /// Channels local to this server ([`KnownChannel::cloud`](crate::KnownChannel::cloud)
    /// `false`: `mcp`) are left out of a tool's `channel_compatibility`, and a tool whose
    /// only channels are local is not registered. `endpoint_url` is `null`
    /// when none is configured (and `register` then refuses to send it).
    #[must_use]
    pub fn registration_payload(&self) -> Value {
        // Cannot fail: every field is a string, a number, a list or a JSON value.
        serde_json::to_value(self.registration_body()).unwrap_or_default()
    }

    fn registration_body(&self) -> RegistrationBody<'_> {
        RegistrationBody {
            endpoint_url: self.settings().endpoint_url.as_deref(),
            sdk_version: SDK_VERSION,
            tools: self.tools().iter().filter_map(cloud_form).collect(),
            skills: self.skills(),
        }
    }

    /// Registers every tool and skill with Pillar Cloud, once: `POST
    /// {api_url}/api/tools/register/` with the [`registration_payload`] and the first
    /// secret as bearer token, waiting at most
    /// [`request_timeout`](crate::PillarBuilder::request_timeout).
    ///
    /// [`serve`](crate::serve) calls it in the background, with retries, unless
    /// auto-registration is off.
    ///
    /// # Errors
    /// A [`CloudError`] that says what happened; [`CloudError::is_retryable`] tells
    /// whether to try again later.
    ///
    /// [`registration_payload`]: Self::registration_payload
    pub async fn register(&self) -> Result<Registration, CloudError> {
        let Some(endpoint_url) = self.settings().endpoint_url.as_deref() else {
            return Err(CloudError::NoEndpointUrl);
        };
        let outcome = self.register_at(endpoint_url).await;
        self.metrics().registration(outcome.is_ok());
        outcome
    }

    /// One registration attempt for `endpoint_url` (see [`register`](Self::register)).
    async fn register_at(&self, endpoint_url: &str) -> Result<Registration, CloudError> {
        let url = api_endpoint(&self.settings().api_url, REGISTER_PATH);
        let body = RegistrationBody {
            endpoint_url: Some(endpoint_url),
            ..self.registration_body()
        };
        tracing::debug!(
            %url,
            endpoint_url,
            tools = self.tools().len(),
            skills = self.skills().len(),
            "registering with Pillar Cloud"
        );
        let answer = self.post_json(&url, &body).await?;
        let status = answer.status;
        if !(200..300).contains(&status) {
            let message = self.scrub(error_message(&answer.body, status));
            return Err(match status {
                401 | 403 => CloudError::Unauthorized { status, message },
                429 => CloudError::RateLimited {
                    retry_after: answer.retry_after,
                    message,
                },
                400..=499 => CloudError::Rejected { status, message },
                _ => CloudError::Server { status, message },
            });
        }
        let response = parse_success(&answer.body)
            .map_err(|message| TransportError::invalid_response(Peer::Cloud, &url, message))?;
        let registered = registered_names(&response);
        Ok(Registration {
            registered,
            response,
        })
    }

    /// POSTs `body` as JSON with the bearer secret and reads the answer: at most
    /// [`MAX_CLOUD_ANSWER_BYTES`] of body, and all of it (connecting, sending, the headers
    /// and the body) within the one deadline of
    /// [`request_timeout`](crate::PillarBuilder::request_timeout). An endless or huge
    /// answer is an error, never unbounded memory; a slow one ends at the deadline.
    pub(crate) async fn post_json(
        &self,
        url: &str,
        body: &impl Serialize,
    ) -> Result<RawAnswer, TransportError> {
        let timeout = self.settings().request_timeout;
        let exchange = async {
            let failed = |err| TransportError::from_reqwest(err, Peer::Cloud, url, timeout);
            let client = http_client().map_err(failed)?;
            let response = client
                .post(url)
                .bearer_auth(self.api_secret())
                .json(body)
                .timeout(timeout)
                .send()
                .await
                .map_err(failed)?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body =
                read_capped(response, MAX_CLOUD_ANSWER_BYTES, Peer::Cloud, url, timeout).await?;
            Ok(RawAnswer {
                status,
                retry_after,
                body,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(TransportError::timed_out(Peer::Cloud, url, timeout)))
    }

    /// Removes the bearer secret from a text that came from the network.
    pub(crate) fn scrub(&self, text: String) -> String {
        let secret = self.api_secret();
        if !secret.is_empty() && text.contains(secret) {
            text.replace(secret, "[redacted]")
        } else {
            text
        }
    }
}

/// `base` without trailing slashes, then `path`.
pub(crate) fn api_endpoint(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim().trim_end_matches('/'))
}

pub(crate) struct RawAnswer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
}

/// A 2xx body as JSON; an empty body reads as `null`.
pub(crate) fn parse_success(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| {
        format!(
            "expected JSON ({e}), got: {}",
            shorten(&String::from_utf8_lossy(body))
        )
    })
}

/// The names in a registration answer's `registered` list (strings, or objects with a
/// `name`).
fn registered_names(response: &Value) -> Vec<String> {
    response
        .get("registered")
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().or_else(|| n.get("name")?.as_str()))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The explanation in an error answer: its JSON `message`, `detail` or `error`, else
/// its text, else the status.
pub(crate) fn error_message(body: &[u8], status: u16) -> String {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        for key in ["message", "detail", "error"] {
            if let Some(text) = json.get(key).and_then(Value::as_str) {
                return shorten(text);
            }
        }
        if !json.is_null() {
            return shorten(&json.to_string());
        }
    }
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        format!("no explanation given (HTTP {status})")
    } else {
        shorten(text.trim())
    }
}

/// At most [`MAX_MESSAGE_CHARS`] characters of a text from the network.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn status(status: u16) -> CloudError {
        let message = "m".to_owned();
        match status {
            401 | 403 => CloudError::Unauthorized { status, message },
            400..=499 => CloudError::Rejected { status, message },
            _ => CloudError::Server { status, message },
        }
    }

    #[test]
    fn retryable_classification() {
        assert!(status(500).is_retryable());
        assert!(status(503).is_retryable());
        assert!(status(408).is_retryable());
        assert!(!status(401).is_retryable());
        assert!(!status(403).is_retryable());
        assert!(!status(400).is_retryable());
        assert!(!CloudError::NoEndpointUrl.is_retryable());
        let invalid = TransportError::invalid_response(Peer::Cloud, "u", String::new());
        assert!(CloudError::Transport(invalid).is_retryable());
    }

    #[test]
    fn error_messages_are_read_from_json_or_text() {
        assert_eq!(
            error_message(br#"{"message":"bad tools"}"#, 400),
            "bad tools"
        );
        assert_eq!(
            error_message(br#"{"detail":"Invalid token."}"#, 401),
            "Invalid token."
        );
        assert_eq!(
            error_message(b"<h1>Bad Gateway</h1>", 502),
            "<h1>Bad Gateway</h1>"
        );
        assert_eq!(error_message(b"", 503), "no explanation given (HTTP 503)");
        assert_eq!(
            error_message(&[b'x'; 2000], 500).chars().count(),
            MAX_MESSAGE_CHARS + 3
        );
    }

    #[test]
    fn registered_names_accept_strings_and_objects() {
        let answer = serde_json::json!({"registered": ["a", {"name": "b"}, 3]});
        assert_eq!(registered_names(&answer), ["a", "b"]);
        assert!(registered_names(&Value::Null).is_empty());
    }

    #[test]
    fn endpoints_join_without_double_slashes() {
        assert_eq!(
            api_endpoint("https://api.trypillar.com/", REGISTER_PATH),
            "https://api.trypillar.com/api/tools/register/"
        );
        assert_eq!(
            api_endpoint("http://127.0.0.1:9", "/api/public/identity/link-confirm/"),
            "http://127.0.0.1:9/api/public/identity/link-confirm/"
        );
    }

    #[test]
    fn sdk_version_names_the_rust_sdk() {
        assert_eq!(
            SDK_VERSION,
            format!("pillar-rust/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
