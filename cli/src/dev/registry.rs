//! Pillar Cloud's side of registration, on the developer's machine:
//! `POST /api/tools/register/` checked as Pillar Cloud checks it
//! ([`pillar::protocol::review_registration`], which the SDK's `MockCloud` answers with
//! too), the latest registration of every server kept for the console.
//!
//! Answers, as PROTOCOL.md section 1 and the SDK expect them:
//! - 200 `{"registered": ["name", ...]}`: accepted (warnings are printed and shown in
//!   the console, not refused);
//! - 400 `{"error": "invalid_json" | "invalid_registration", "message": ...}`: the body
//!   is not JSON, or Pillar Cloud would refuse it (the message lists every problem);
//! - 401 `{"error": "unauthorized", "message": ...}`: no `Authorization: Bearer`, or not
//!   this run's secret.
//!
//! Each registered endpoint URL gets the protocol's signed `ping` every [`PING_EVERY`]
//! (and at once after a registration), so that the console tells a live server from one
//! that stopped ([`watch`]); the console can remove an entry ([`remove`]).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use pillar::protocol::{review_registration, WebhookClient};
use pillar::TransportError;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::console::error;
use super::Dev;

/// How many servers (endpoint URLs) are remembered; the one registered longest ago goes
/// first beyond this.
const MAX_ENDPOINTS: usize = 32;
/// How many refused registrations are remembered, for the console.
const MAX_REJECTED: usize = 20;
/// How often every registered server gets a `ping`.
pub(crate) const PING_EVERY: Duration = Duration::from_secs(5);
/// How long a `ping` may take before the server counts as unreachable.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// The most of a `ping` answer read (`{"status":"ok"}` is 15 bytes).
const PING_MAX_BYTES: usize = 64 * 1024;

/// A server's latest accepted registration.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    /// The registration body, as sent.
    pub(crate) body: Value,
    /// What an agent would stumble on, as `{"tool", "message"}` objects.
    pub(crate) warnings: Vec<Value>,
    /// When it arrived, in milliseconds since the Unix epoch.
    pub(crate) at_ms: u64,
    /// How many registrations from this endpoint URL were accepted in this run (1 for
    /// the first; more when the server restarted and registered again).
    pub(crate) count: u32,
    /// What the last `ping` found.
    pub(crate) health: Health,
}

/// Whether a registered server answers its `ping`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Health {
    /// `None` until the first `ping` after the registration is answered or fails.
    pub(crate) reachable: Option<bool>,
    /// When the current state began (the first `ping` that found it), in ms.
    pub(crate) since_ms: u64,
    /// When the last `ping` ended, in ms.
    pub(crate) checked_ms: u64,
    /// Why the server is unreachable, in words.
    pub(crate) problem: Option<String>,
}

impl Health {
    fn to_json(&self) -> Value {
        let state = match self.reachable {
            None => "checking",
            Some(true) => "reachable",
            Some(false) => "unreachable",
        };
        json!({
            "state": state,
            "since_ms": (self.reachable.is_some()).then_some(self.since_ms),
            "checked_ms": (self.reachable.is_some()).then_some(self.checked_ms),
            "problem": self.problem,
        })
    }
}

impl Registration {
    /// The tool called `name`, as registered.
    pub(crate) fn tool(&self, name: &str) -> Option<&Value> {
        self.body["tools"]
            .as_array()?
            .iter()
            .find(|tool| tool["name"] == name)
    }
}

/// The registrations received, by endpoint URL, and the latest refused ones.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    accepted: Mutex<BTreeMap<String, Registration>>,
    rejected: Mutex<VecDeque<Value>>,
    /// Wakes [`watch`] when a registration arrives, to `ping` it at once.
    registered: Notify,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Registry {
    /// The latest registration of `endpoint_url`.
    pub(crate) fn get(&self, endpoint_url: &str) -> Option<Registration> {
        lock(&self.accepted).get(endpoint_url).cloned()
    }

    /// The console's view: every server's latest registration, sorted by URL, and the
    /// refused ones, newest first.
    pub(crate) fn snapshot(&self) -> (Vec<Value>, Vec<Value>) {
        let endpoints = lock(&self.accepted)
            .iter()
            .map(|(url, registration)| {
                json!({
                    "endpoint_url": url,
                    "sdk_version": registration.body["sdk_version"],
                    "registered_at_ms": registration.at_ms,
                    "registrations": registration.count,
                    "health": registration.health.to_json(),
                    "tools": registration.body.get("tools").cloned().unwrap_or_else(|| json!([])),
                    "skills": registration.body.get("skills").cloned().unwrap_or_else(|| json!([])),
                    "warnings": registration.warnings,
                })
            })
            .collect();
        let rejected = lock(&self.rejected).iter().rev().cloned().collect();
        (endpoints, rejected)
    }

    /// Keeps `registration` as the latest of `url`, replacing an earlier one (whose
    /// count it continues); answers that count.
    fn accept(&self, url: String, mut registration: Registration) -> u32 {
        let mut accepted = lock(&self.accepted);
        registration.count = accepted.get(&url).map_or(1, |earlier| earlier.count + 1);
        let count = registration.count;
        if !accepted.contains_key(&url) && accepted.len() >= MAX_ENDPOINTS {
            let oldest = accepted
                .iter()
                .min_by_key(|(_, r)| r.at_ms)
                .map(|(url, _)| url.clone());
            if let Some(oldest) = oldest {
                accepted.remove(&oldest);
            }
        }
        accepted.insert(url, registration);
        drop(accepted);
        self.registered.notify_one();
        count
    }

    /// Forgets the registration of `url`; whether there was one.
    pub(crate) fn remove(&self, url: &str) -> bool {
        lock(&self.accepted).remove(url).is_some()
    }

    /// The registered endpoint URLs.
    fn urls(&self) -> Vec<String> {
        lock(&self.accepted).keys().cloned().collect()
    }

    /// Records a `ping` of `url` that ended at `now`: `Ok` when the server answered
    /// as a Pillar server does, else why not. Answers the health before and after, or
    /// `None` when `url` is no longer registered.
    fn record_ping(
        &self,
        url: &str,
        outcome: Result<(), String>,
        now: u64,
    ) -> Option<(Health, Health)> {
        let mut accepted = lock(&self.accepted);
        let health = &mut accepted.get_mut(url)?.health;
        let before = health.clone();
        let reachable = outcome.is_ok();
        if health.reachable != Some(reachable) {
            health.reachable = Some(reachable);
            health.since_ms = now;
        }
        health.checked_ms = now;
        health.problem = outcome.err();
        Some((before, health.clone()))
    }

    fn reject(&self, endpoint_url: Option<&str>, error: &str, message: &str) {
        let mut rejected = lock(&self.rejected);
        if rejected.len() >= MAX_REJECTED {
            rejected.pop_front();
        }
        rejected.push_back(json!({
            "at_ms": now_ms(),
            "endpoint_url": endpoint_url,
            "error": error,
            "message": message,
        }));
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Whether the request carries `Authorization: Bearer <the run's secret>`.
fn authorized(dev: &Dev, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| token == dev.secret)
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "the bearer secret is not this `pillar dev` run's: set PILLAR_SECRET to the one it printed",
    )
    .into_response()
}

/// `POST /api/tools/register/`.
pub(crate) async fn register(
    State(dev): State<Arc<Dev>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body);
    // The server's URL, when the body gives one, even in a refused registration.
    let url = parsed
        .as_ref()
        .ok()
        .and_then(|body| body["endpoint_url"].as_str())
        .map(str::to_owned);
    if !authorized(&dev, &headers) {
        let from = url
            .as_deref()
            .map(|url| format!(" from {url}"))
            .unwrap_or_default();
        println!("refused a registration{from}: wrong or missing bearer secret");
        dev.registry.reject(
            url.as_deref(),
            "unauthorized",
            "wrong or missing bearer secret: start the server with the PILLAR_SECRET `pillar dev` printed",
        );
        return unauthorized();
    }
    let Ok(body) = parsed else {
        println!("refused a registration: the body is not JSON");
        dev.registry
            .reject(None, "invalid_json", "the body is not JSON");
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the body is not JSON",
        )
        .into_response();
    };
    let review = review_registration(&body);
    if !review.is_accepted() {
        let message = review.message();
        let from = url
            .as_deref()
            .map(|url| format!(" from {url}"))
            .unwrap_or_default();
        println!("refused a registration{from}: {message}");
        dev.registry
            .reject(url.as_deref(), "invalid_registration", &message);
        return error(StatusCode::BAD_REQUEST, "invalid_registration", &message).into_response();
    }
    let Some(url) = url else {
        // `review_registration` refuses a body without a string `endpoint_url`.
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_registration",
            "`endpoint_url` is missing",
        )
        .into_response();
    };
    let names: Vec<Value> = body["tools"]
        .as_array()
        .map(|tools| tools.iter().map(|t| t["name"].clone()).collect())
        .unwrap_or_default();
    let line = format!(
        "{} tool{} from {url} ({})",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        body["sdk_version"].as_str().unwrap_or("unknown SDK"),
    );
    let warnings: Vec<Value> = review
        .warnings
        .iter()
        .map(|w| json!({"tool": w.tool, "message": w.message}))
        .collect();
    let count = dev.registry.accept(
        url,
        Registration {
            body,
            warnings,
            at_ms: now_ms(),
            count: 0,
            health: Health::default(),
        },
    );
    if count == 1 {
        println!("registered {line}");
    } else {
        println!("registered {line}: registration {count} of this server, replacing the last");
    }
    for warning in &review.warnings {
        println!("  warning: {warning}");
    }
    Json(json!({ "registered": names })).into_response()
}

/// `POST /console/api/remove` `{"endpoint_url"}`: forgets a server's registration (it
/// comes back when the server registers again). Answers `{"removed": url}`, or 404.
pub(crate) async fn remove(State(dev): State<Arc<Dev>>, body: Bytes) -> Response {
    let url = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|body| body["endpoint_url"].as_str().map(str::to_owned));
    let Some(url) = url else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the body must be {\"endpoint_url\": \"...\"}",
        )
        .into_response();
    };
    if !dev.registry.remove(&url) {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_endpoint",
            &format!("no server registered {url}"),
        )
        .into_response();
    }
    println!("removed {url} from the console (it comes back when it registers again)");
    Json(json!({ "removed": url })).into_response()
}

/// Pings every registered server, every [`PING_EVERY`] and at once after a
/// registration, and records whether it answered; prints each change of state. Runs
/// until `pillar dev` stops.
pub(crate) async fn watch(dev: Arc<Dev>) {
    loop {
        let pings: Vec<_> = dev
            .registry
            .urls()
            .into_iter()
            .map(|url| {
                let dev = Arc::clone(&dev);
                tokio::spawn(async move {
                    let client = WebhookClient::new(url.clone(), dev.secret.clone())
                        .timeout(PING_TIMEOUT)
                        .max_answer_bytes(PING_MAX_BYTES);
                    let outcome = ping_outcome(client.ping().await);
                    if let Some((before, after)) = dev.registry.record_ping(&url, outcome, now_ms())
                    {
                        if let Some(line) = change_line(&url, &before, &after) {
                            println!("{line}");
                        }
                    }
                })
            })
            .collect();
        for ping in pings {
            let _ = ping.await;
        }
        tokio::select! {
            () = tokio::time::sleep(PING_EVERY) => {}
            () = dev.registry.registered.notified() => {}
        }
    }
}

/// A `ping`'s answer: `Ok` for HTTP 200 `{"status": "ok"}`, else why not, in words.
fn ping_outcome(
    answer: Result<(axum::http::StatusCode, Value), TransportError>,
) -> Result<(), String> {
    match answer {
        Ok((status, body)) if status == StatusCode::OK && body["status"] == "ok" => Ok(()),
        Ok((status, _)) => Err(format!(
            "answered the ping with HTTP {}, not {{\"status\": \"ok\"}}: not a Pillar webhook URL?",
            status.as_u16()
        )),
        Err(err) => Err(err.to_string()),
    }
}

/// The line printed when a server's state changes: it stopped answering, or answers
/// again after it had stopped (the first answer after a registration is not news).
fn change_line(url: &str, before: &Health, after: &Health) -> Option<String> {
    match (before.reachable, after.reachable) {
        (Some(false), Some(true)) => Some(format!("{url} answers its ping again")),
        (Some(true) | None, Some(false)) => Some(format!(
            "{url} does not answer its ping: {}",
            after.problem.as_deref().unwrap_or("no answer")
        )),
        _ => None,
    }
}

/// `POST /api/public/identity/link-confirm/`: accepted and echoed, as Pillar Cloud does
/// for a valid code (there are no chat identities here to check it against).
pub(crate) async fn link_confirm(
    State(dev): State<Arc<Dev>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&dev, &headers) {
        return unauthorized();
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (Some(code), Some(user)) = (body["code"].as_str(), body["external_user_id"].as_str())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be {\"code\": \"...\", \"external_user_id\": \"...\"}",
        )
        .into_response();
    };
    println!("linked the chat identity of code {code} to user {user}");
    Json(json!({"linked": true, "code": code, "external_user_id": user})).into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{change_line, Health, Registration, Registry};

    fn registration(tools: usize) -> Registration {
        let tools: Vec<_> = (0..tools)
            .map(|n| json!({"name": format!("t{n}")}))
            .collect();
        Registration {
            body: json!({"endpoint_url": "http://127.0.0.1:1/", "tools": tools}),
            warnings: Vec::new(),
            at_ms: 1,
            count: 0,
            health: Health::default(),
        }
    }

    #[test]
    fn a_registration_from_the_same_url_replaces_the_last_and_is_counted() {
        let registry = Registry::default();
        let url = "http://127.0.0.1:1/";
        assert_eq!(registry.accept(url.to_owned(), registration(1)), 1);
        registry.record_ping(url, Ok(()), 10);
        assert_eq!(registry.accept(url.to_owned(), registration(3)), 2);
        let (endpoints, _) = registry.snapshot();
        assert_eq!(endpoints.len(), 1);
        assert_eq!(endpoints[0]["registrations"], 2);
        assert_eq!(endpoints[0]["tools"].as_array().unwrap().len(), 3);
        assert_eq!(
            endpoints[0]["health"],
            json!({"state": "checking", "since_ms": null, "checked_ms": null, "problem": null}),
            "a new registration is checked afresh"
        );
        assert!(registry.remove(url));
        assert!(!registry.remove(url));
        assert!(registry.snapshot().0.is_empty());
        assert_eq!(registry.record_ping(url, Ok(()), 20), None);
    }

    #[test]
    fn unreachable_since_the_first_failed_ping() {
        let registry = Registry::default();
        let url = "http://127.0.0.1:1/";
        registry.accept(url.to_owned(), registration(1));
        let (before, after) = registry.record_ping(url, Ok(()), 10).unwrap();
        assert_eq!(change_line(url, &before, &after), None);
        let (before, after) = registry
            .record_ping(url, Err("connection refused".to_owned()), 20)
            .unwrap();
        assert_eq!(
            change_line(url, &before, &after).unwrap(),
            "http://127.0.0.1:1/ does not answer its ping: connection refused"
        );
        let (before, after) = registry
            .record_ping(url, Err("timed out".to_owned()), 30)
            .unwrap();
        assert_eq!(change_line(url, &before, &after), None, "no news");
        assert_eq!(
            registry.snapshot().0[0]["health"],
            json!({"state": "unreachable", "since_ms": 20, "checked_ms": 30, "problem": "timed out"})
        );
        let (before, after) = registry.record_ping(url, Ok(()), 40).unwrap();
        assert_eq!(
            change_line(url, &before, &after).unwrap(),
            "http://127.0.0.1:1/ answers its ping again"
        );
        assert_eq!(after.since_ms, 40);
    }
}
