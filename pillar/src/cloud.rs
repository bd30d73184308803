//! Pillar Cloud: registering the tools and skills, and confirming identity links.
//!
//! [`serve`](crate::serve) registers in the background at start-up (see
//! [`PillarBuilder::auto_register`](crate::PillarBuilder::auto_register)); with
//! auto-registration off, call [`Pillar::register`] yourself and handle its typed
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
//! `serve()` retries a failed registration until it succeeds, while the server answers
//! calls. What it does depends on the failure ([`CloudError::is_retryable`]):
//!
//! | failure | log | next attempt |
//! |---|---|---|
//! | unreachable, timeout, 5xx, 408, 429, invalid answer | `warn` with the reason | exponential backoff from `retry_initial`, doubling up to `retry_max`, with equal jitter (a 429's `Retry-After` is honoured, up to `retry_max`) |
//! | 401/403 (the secret was refused) | `error`: bad secret | after exactly `retry_max` (60 s by default), never sooner |
//! | another 4xx (the payload was rejected) | `error` with Pillar Cloud's message | after exactly `retry_max` |
//! | an invalid `api_url` | `error` | none: registration stops |
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

use std::error::Error as StdError;
use std::sync::OnceLock;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::{Pillar, Skill, ToolInfo};

/// The `sdk_version` sent with every registration: `pillar-rust/<crate version>`.
pub const SDK_VERSION: &str = concat!("pillar-rust/", env!("CARGO_PKG_VERSION"));

/// The registration path, under the API base URL.
const REGISTER_PATH: &str = "/api/tools/register/";

/// The identity-linking path, under the API base URL.
const LINK_CONFIRM_PATH: &str = "/api/public/identity/link-confirm/";

/// The longest error message kept from an answer of Pillar Cloud, in characters.
const MAX_MESSAGE_CHARS: usize = 500;

/// The shortest delay between two registration attempts, whatever the settings: a
/// zero backoff must not turn into a tight loop.
const MIN_RETRY_DELAY: Duration = Duration::from_millis(10);

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

    /// The request could not be completed: connection refused, DNS or TLS failure,
    /// connection lost.
    #[error("could not reach Pillar Cloud at {url}: {}", root_cause(.source))]
    Unreachable {
        /// The URL requested.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// Pillar Cloud did not answer within the request timeout
    /// ([`PillarBuilder::request_timeout`](crate::PillarBuilder::request_timeout)).
    #[error("Pillar Cloud at {url} did not answer in time")]
    Timeout {
        /// The URL requested.
        url: String,
    },

    /// The request could not be built, usually because `api_url` is not a valid URL.
    #[error("could not send a request to {url}: {}; check PILLAR_API_URL", root_cause(.source))]
    InvalidRequest {
        /// The URL that was to be requested.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// Pillar Cloud answered success with a body that is not the expected JSON.
    #[error("Pillar Cloud sent an invalid answer: {message}")]
    InvalidResponse {
        /// What is wrong with it.
        message: String,
    },
}

impl CloudError {
    /// Whether trying again later may succeed: yes for an unreachable Cloud, a timeout,
    /// a 5xx, a 408 or 429, an invalid answer; no for a refused secret, another 4xx, a
    /// missing endpoint URL or an invalid request.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Server { .. }
            | Self::Unreachable { .. }
            | Self::Timeout { .. }
            | Self::InvalidResponse { .. }
            | Self::RateLimited { .. } => true,
            Self::Rejected { status, .. } => *status == 408,
            Self::NoEndpointUrl | Self::Unauthorized { .. } | Self::InvalidRequest { .. } => false,
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

/// An identity link confirmed by Pillar Cloud: its answer, the mapping as JSON.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IdentityLink {
    /// The whole JSON answer.
    pub response: Value,
}

impl IdentityLink {
    /// A string field of the answer, such as `"external_user_id"`.
    #[must_use]
    pub fn get_str(&self, field: &str) -> Option<&str> {
        self.response.get(field).and_then(Value::as_str)
    }

    /// The user id in your system the identity is now linked to, when the answer
    /// carries it.
    #[must_use]
    pub fn external_user_id(&self) -> Option<&str> {
        self.get_str("external_user_id")
    }
}

/// Why [`Pillar::confirm_link`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Pillar Cloud refused the link, with its error code (`error`, such as an expired
    /// or unknown code; `link_failed` when it sent none) and message.
    #[error("Pillar Cloud refused the identity link (HTTP {status}, {code}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Pillar Cloud's error code.
        code: String,
        /// Pillar Cloud's message.
        message: String,
    },

    /// The request could not be completed: connection refused, DNS or TLS failure,
    /// connection lost.
    #[error("could not reach Pillar Cloud at {url}: {}", root_cause(.source))]
    Unreachable {
        /// The URL requested.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// Pillar Cloud did not answer within the request timeout.
    #[error("Pillar Cloud at {url} did not answer in time")]
    Timeout {
        /// The URL requested.
        url: String,
    },

    /// The request could not be built, usually because `api_url` is not a valid URL.
    #[error("could not send a request to {url}: {}; check PILLAR_API_URL", root_cause(.source))]
    InvalidRequest {
        /// The URL that was to be requested.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// Pillar Cloud answered success with a body that is not JSON.
    #[error("Pillar Cloud sent an invalid answer: {message}")]
    InvalidResponse {
        /// What is wrong with it.
        message: String,
    },
}

impl LinkError {
    /// Whether trying again later may succeed: yes for an unreachable Cloud, a timeout,
    /// a 5xx, 408 or 429, an invalid answer; no for other refusals.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Rejected { status, .. } => *status >= 500 || matches!(*status, 408 | 429),
            Self::Unreachable { .. } | Self::Timeout { .. } | Self::InvalidResponse { .. } => true,
            Self::InvalidRequest { .. } => false,
        }
    }
}

/// The registration body, serialised in the protocol's key order.
#[derive(Serialize)]
struct RegistrationBody<'a> {
    endpoint_url: Option<&'a str>,
    sdk_version: &'static str,
    tools: &'a [ToolInfo],
    #[serde(skip_serializing_if = "<[Skill]>::is_empty")]
    skills: &'a [Skill],
}

#[derive(Serialize)]
struct LinkBody<'a> {
    code: &'a str,
    external_user_id: &'a str,
}

impl Pillar {
    /// The JSON body [`register`](Self::register) sends (PROTOCOL.md section 1):
    /// `endpoint_url`, `sdk_version` ([`SDK_VERSION`]), every tool of
    /// [`tools`](Self::tools), and `skills` when there are any. `endpoint_url` is `null`
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
            tools: self.tools(),
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
        let answer = self
            .post_json(&url, &body)
            .await
            .map_err(|failure| failure.into_cloud_error(&url))?;
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
            .map_err(|message| CloudError::InvalidResponse { message })?;
        let registered = registered_names(&response);
        Ok(Registration {
            registered,
            response,
        })
    }

    /// Confirms an identity link (PROTOCOL.md section 5): the chat identity that got
    /// `code` from `/pillar connect` is your user `external_user_id`. Call it from your
    /// app once the user has signed in. Returns the mapping Pillar Cloud created.
    ///
    /// ```no_run
    /// # async fn run(pillar: pillar::Pillar) -> Result<(), pillar::cloud::LinkError> {
    /// let link = pillar.confirm_link("ABC-123", "user_42").await?;
    /// println!("linked: {}", link.response);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`LinkError::Rejected`] with Pillar Cloud's error code and message, or a
    /// transport failure ([`LinkError::Unreachable`], [`LinkError::Timeout`]), or
    /// [`LinkError::InvalidResponse`].
    pub async fn confirm_link(
        &self,
        code: &str,
        external_user_id: &str,
    ) -> Result<IdentityLink, LinkError> {
        let url = api_endpoint(&self.settings().api_url, LINK_CONFIRM_PATH);
        let body = LinkBody {
            code,
            external_user_id,
        };
        let answer = self
            .post_json(&url, &body)
            .await
            .map_err(|failure| failure.into_link_error(&url))?;
        let status = answer.status;
        if !(200..300).contains(&status) {
            let (code, message) = link_error(&answer.body, status);
            return Err(LinkError::Rejected {
                status,
                code: self.scrub(code),
                message: self.scrub(message),
            });
        }
        let response = parse_success(&answer.body)
            .map_err(|message| LinkError::InvalidResponse { message })?;
        Ok(IdentityLink { response })
    }

    /// POSTs `body` as JSON with the bearer secret; reads the whole answer.
    async fn post_json(&self, url: &str, body: &impl Serialize) -> Result<RawAnswer, Failure> {
        let client = http_client().map_err(Failure::Build)?;
        let response = client
            .post(url)
            .bearer_auth(self.api_secret())
            .json(body)
            .timeout(self.settings().request_timeout)
            .send()
            .await
            .map_err(Failure::from_reqwest)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(Failure::from_reqwest)?;
        Ok(RawAnswer {
            status,
            retry_after,
            body: body.to_vec(),
        })
    }

    /// Removes the bearer secret from a text that came from the network.
    fn scrub(&self, text: String) -> String {
        let secret = self.api_secret();
        if !secret.is_empty() && text.contains(secret) {
            text.replace(secret, "[redacted]")
        } else {
            text
        }
    }
}

/// The process-wide HTTP client for Pillar Cloud and the testing webhook client: one
/// connection pool and TLS configuration. Timeouts are set per request.
pub(crate) fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder().user_agent(SDK_VERSION).build()?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

/// `base` without trailing slashes, then `path`.
fn api_endpoint(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim().trim_end_matches('/'))
}

struct RawAnswer {
    status: u16,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

/// A request that got no answer.
enum Failure {
    Build(reqwest::Error),
    Timeout,
    Unreachable(reqwest::Error),
}

impl Failure {
    fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else if err.is_builder() {
            Self::Build(err)
        } else {
            Self::Unreachable(err)
        }
    }

    fn into_cloud_error(self, url: &str) -> CloudError {
        let url = url.to_owned();
        match self {
            Self::Build(source) => CloudError::InvalidRequest { url, source },
            Self::Timeout => CloudError::Timeout { url },
            Self::Unreachable(source) => CloudError::Unreachable { url, source },
        }
    }

    fn into_link_error(self, url: &str) -> LinkError {
        let url = url.to_owned();
        match self {
            Self::Build(source) => LinkError::InvalidRequest { url, source },
            Self::Timeout => LinkError::Timeout { url },
            Self::Unreachable(source) => LinkError::Unreachable { url, source },
        }
    }
}

/// The innermost cause of an error: "Connection refused (os error 111)" rather than
/// reqwest's "error sending request".
pub(crate) fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// A 2xx body as JSON; an empty body reads as `null`.
fn parse_success(body: &[u8]) -> Result<Value, String> {
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
fn error_message(body: &[u8], status: u16) -> String {
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

/// The `error` code and `message` of a link-confirm error answer, as the reference SDK
/// reads them: code `link_failed` when absent, message the code when absent.
fn link_error(body: &[u8], status: u16) -> (String, String) {
    match serde_json::from_slice::<Value>(body) {
        Ok(json) if json.is_object() => {
            let code = json
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("link_failed")
                .to_owned();
            let message = json
                .get("message")
                .or_else(|| json.get("detail"))
                .and_then(Value::as_str)
                .map_or_else(|| code.clone(), shorten);
            (code, message)
        }
        _ => ("link_failed".to_owned(), error_message(body, status)),
    }
}

/// At most [`MAX_MESSAGE_CHARS`] characters of a text from the network.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// What to do after a failed registration attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Try again after this delay.
    After(Duration),
    /// Give up: trying again cannot help.
    Stop,
}

/// The delay before the next registration attempt, after `failures` failed attempts in
/// a row (1 after the first), with `jitter` in `[0, 1)`.
///
/// Retryable failures back off exponentially from `initial`, doubling up to `max`, with
/// equal jitter (between half and all of the step). A refused secret and other 4xx wait
/// exactly `max`: they only change when someone fixes the configuration, and must not
/// hammer Pillar Cloud. A missing endpoint URL or an invalid request stop.
fn next_attempt(
    err: &CloudError,
    failures: u32,
    initial: Duration,
    max: Duration,
    jitter: f64,
) -> Retry {
    let max = max.max(initial).max(MIN_RETRY_DELAY);
    let step = match err {
        CloudError::NoEndpointUrl | CloudError::InvalidRequest { .. } => return Retry::Stop,
        CloudError::RateLimited {
            retry_after: Some(wait),
            ..
        } => return Retry::After((*wait).clamp(MIN_RETRY_DELAY, max)),
        // Exactly `max`, unjittered: never sooner.
        _ if !err.is_retryable() => return Retry::After(max),
        _ => {
            let exponent = failures.saturating_sub(1).min(31);
            initial.saturating_mul(1u32 << exponent).min(max)
        }
    };
    let half = step / 2;
    let delay = half + (step - half).mul_f64(jitter.clamp(0.0, 1.0));
    Retry::After(delay.max(MIN_RETRY_DELAY))
}

/// Registers in the background until Pillar Cloud accepts, retrying as the
/// [module documentation](self) describes. Calls are answered meanwhile; abort the
/// handle to stop retrying.
pub(crate) fn spawn_registration(pillar: Pillar) -> JoinHandle<()> {
    tokio::spawn(async move { register_until_accepted(&pillar).await })
}

async fn register_until_accepted(pillar: &Pillar) {
    let settings = pillar.settings();
    let api_url = settings.api_url.as_str();
    let mut failures: u32 = 0;
    loop {
        let err = match pillar.register().await {
            Ok(registration) => {
                tracing::info!(
                    api_url,
                    endpoint_url = settings.endpoint_url.as_deref().unwrap_or(""),
                    registered = ?registration.registered,
                    attempts = failures + 1,
                    "registered {} tool(s) and {} skill(s) with Pillar Cloud",
                    pillar.tools().len(),
                    pillar.skills().len(),
                );
                return;
            }
            Err(err) => err,
        };
        failures = failures.saturating_add(1);
        let retry = next_attempt(
            &err,
            failures,
            settings.retry_initial,
            settings.retry_max,
            fastrand::f64(),
        );
        let Retry::After(delay) = retry else {
            tracing::error!(
                api_url,
                error = %err,
                "registration with Pillar Cloud failed and will not be retried; tools are \
                 still answered, but Pillar Cloud will not know them"
            );
            return;
        };
        match &err {
            CloudError::Unauthorized { .. } => tracing::error!(
                api_url,
                error = %err,
                attempt = failures,
                retry_in = ?delay,
                "registration with Pillar Cloud failed: bad secret; retrying slowly, fix \
                 PILLAR_SECRET"
            ),
            _ if !err.is_retryable() => tracing::error!(
                api_url,
                error = %err,
                attempt = failures,
                retry_in = ?delay,
                "registration with Pillar Cloud was rejected; retrying slowly"
            ),
            _ => tracing::warn!(
                api_url,
                error = %err,
                attempt = failures,
                retry_in = ?delay,
                "registration with Pillar Cloud failed; retrying"
            ),
        }
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn status(status: u16) -> CloudError {
        let message = "m".to_owned();
        match status {
            401 | 403 => CloudError::Unauthorized { status, message },
            400..=499 => CloudError::Rejected { status, message },
            _ => CloudError::Server { status, message },
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum_with_equal_jitter() {
        let err = status(500);
        let delays: Vec<_> = (1..=8)
            .map(|n| next_attempt(&err, n, ms(100), ms(1000), 0.999_999))
            .collect();
        let expected = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
        for (delay, ms) in delays.iter().zip(expected) {
            let Retry::After(d) = delay else {
                panic!("stopped")
            };
            assert!(d.as_millis().abs_diff(ms) <= 1, "{d:?} vs {ms}");
        }
        // No jitter at all: half of the step.
        assert_eq!(
            next_attempt(&err, 3, ms(100), ms(1000), 0.0),
            Retry::After(ms(200))
        );
        // Huge attempt counts do not overflow.
        assert_eq!(
            next_attempt(&err, u32::MAX, ms(100), ms(1000), 0.0),
            Retry::After(ms(500))
        );
    }

    #[test]
    fn refused_secret_and_other_4xx_wait_the_maximum() {
        for code in [401, 403, 400, 422] {
            let Retry::After(d) = next_attempt(&status(code), 1, ms(50), ms(500), 0.0) else {
                panic!("stopped");
            };
            assert_eq!(d, ms(500), "{code}");
        }
    }

    #[test]
    fn configuration_errors_stop() {
        assert_eq!(
            next_attempt(&CloudError::NoEndpointUrl, 1, ms(50), ms(500), 0.5),
            Retry::Stop
        );
    }

    #[test]
    fn retry_after_is_honoured_within_the_maximum() {
        let limited = |secs| CloudError::RateLimited {
            retry_after: Some(Duration::from_secs(secs)),
            message: String::new(),
        };
        assert_eq!(
            next_attempt(&limited(2), 1, ms(50), Duration::from_secs(10), 0.5),
            Retry::After(Duration::from_secs(2))
        );
        assert_eq!(
            next_attempt(&limited(600), 1, ms(50), Duration::from_secs(10), 0.5),
            Retry::After(Duration::from_secs(10))
        );
    }

    #[test]
    fn zero_delays_never_make_a_tight_loop() {
        let Retry::After(d) = next_attempt(&status(500), 1, Duration::ZERO, Duration::ZERO, 0.0)
        else {
            panic!("stopped");
        };
        assert!(d >= MIN_RETRY_DELAY);
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
        assert!(CloudError::Timeout { url: String::new() }.is_retryable());
        assert!(CloudError::InvalidResponse {
            message: String::new()
        }
        .is_retryable());
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
    fn link_errors_read_like_the_reference() {
        assert_eq!(
            link_error(
                br#"{"error":"code_expired","message":"The code has expired"}"#,
                400
            ),
            ("code_expired".to_owned(), "The code has expired".to_owned())
        );
        assert_eq!(
            link_error(br#"{"error":"invalid_code"}"#, 404),
            ("invalid_code".to_owned(), "invalid_code".to_owned())
        );
        assert_eq!(
            link_error(b"oops", 500),
            ("link_failed".to_owned(), "oops".to_owned())
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
            api_endpoint("http://127.0.0.1:9", LINK_CONFIRM_PATH),
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
