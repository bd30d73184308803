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

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use pillar::protocol::review_registration;
use serde_json::{json, Value};

use super::console::error;
use super::Dev;

/// How many servers (endpoint URLs) are remembered; the one registered longest ago goes
/// first beyond this.
const MAX_ENDPOINTS: usize = 32;
/// How many refused registrations are remembered, for the console.
const MAX_REJECTED: usize = 20;

/// A server's latest accepted registration.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    /// The registration body, as sent.
    pub(crate) body: Value,
    /// What an agent would stumble on, as `{"tool", "message"}` objects.
    pub(crate) warnings: Vec<Value>,
    /// When it arrived, in milliseconds since the Unix epoch.
    pub(crate) at_ms: u64,
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
                    "tools": registration.body.get("tools").cloned().unwrap_or_else(|| json!([])),
                    "skills": registration.body.get("skills").cloned().unwrap_or_else(|| json!([])),
                    "warnings": registration.warnings,
                })
            })
            .collect();
        let rejected = lock(&self.rejected).iter().rev().cloned().collect();
        (endpoints, rejected)
    }

    fn accept(&self, url: String, registration: Registration) {
        let mut accepted = lock(&self.accepted);
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
    }

    fn reject(&self, endpoint_url: Option<&str>, message: &str) {
        let mut rejected = lock(&self.rejected);
        if rejected.len() >= MAX_REJECTED {
            rejected.pop_front();
        }
        rejected.push_back(json!({
            "at_ms": now_ms(),
            "endpoint_url": endpoint_url,
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
    if !authorized(&dev, &headers) {
        println!("refused a registration: wrong or missing bearer secret");
        dev.registry
            .reject(None, "wrong or missing bearer secret (PILLAR_SECRET)");
        return unauthorized();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        println!("refused a registration: the body is not JSON");
        dev.registry.reject(None, "the body is not JSON");
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the body is not JSON",
        )
        .into_response();
    };
    let review = review_registration(&body);
    let url = body["endpoint_url"].as_str().map(str::to_owned);
    if !review.is_accepted() {
        let message = review.message();
        println!("refused a registration: {message}");
        dev.registry.reject(url.as_deref(), &message);
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
    println!(
        "registered {} tool{} from {url} ({})",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        body["sdk_version"].as_str().unwrap_or("unknown SDK"),
    );
    for warning in &review.warnings {
        println!("  warning: {warning}");
    }
    let warnings = review
        .warnings
        .iter()
        .map(|w| json!({"tool": w.tool, "message": w.message}))
        .collect();
    dev.registry.accept(
        url,
        Registration {
            body,
            warnings,
            at_ms: now_ms(),
        },
    );
    Json(json!({ "registered": names })).into_response()
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
