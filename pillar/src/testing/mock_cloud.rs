//! A local Pillar Cloud for tests: [`MockCloud`] records registrations and identity-link
//! confirmations. Public through [`pillar::testing`](crate::testing).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::protocol::{review_registration, WebhookClient};
use crate::transport::TransportError;

/// Where the mock Cloud answers registrations.
const REGISTER_PATH: &str = "/api/tools/register/";
/// Where the mock Cloud answers identity-link confirmations.
const LINK_CONFIRM_PATH: &str = "/api/public/identity/link-confirm/";

/// A fake Pillar Cloud on `127.0.0.1`, for integration tests of a server's registration
/// and identity linking; no network beyond loopback.
///
/// It answers `POST /api/tools/register/` and `POST /api/public/identity/link-confirm/`
/// as Pillar Cloud does, records every request it receives ([`requests`](Self::requests)),
/// and can be told to fail ([`set_mode`](Self::set_mode)), to hang, or to go down and
/// come back ([`stop`](Self::stop), [`restart`](Self::restart)). Point a `Pillar` at it
/// with [`api_url`](crate::PillarBuilder::api_url)`(cloud.url())`.
///
/// ```
/// use std::time::Duration;
/// use pillar::testing::{MockCloud, Mode};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let mut cloud = MockCloud::start().await?;
/// let pillar = pillar::testing::pillar()
///     .endpoint_url("http://127.0.0.1:8787/pillar")
///     .api_url(cloud.url())
///     .build()?;
///
/// // A 500 is a typed, retryable error.
/// cloud.set_mode(Mode::Status(500));
/// let err = pillar.register().await.unwrap_err();
/// assert_eq!(err.status(), Some(500));
/// assert!(err.is_retryable());
///
/// // Down: nothing listens on the port any more.
/// cloud.stop().await;
/// assert!(pillar.register().await.is_err());
///
/// // Up again, on the same port, answering normally.
/// cloud.set_mode(Mode::Ok);
/// cloud.restart().await?;
/// pillar.register().await?;
///
/// let accepted = cloud.wait_for_registration(Duration::from_secs(1)).await.unwrap();
/// assert_eq!(accepted.json, pillar.registration_payload());
/// assert_eq!(cloud.registrations().len(), 2); // the refused attempt is on record too
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
/// ```
///
/// Dropping it shuts the server down.
pub struct MockCloud {
    shared: Arc<Shared>,
    addr: SocketAddr,
    running: Option<Running>,
}

impl fmt::Debug for MockCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockCloud")
            .field("addr", &self.addr)
            .field("running", &self.running.is_some())
            .field("requests", &lock(&self.shared.log).len())
            .finish_non_exhaustive()
    }
}

/// How the mock Cloud answers an endpoint. Set it with [`MockCloud::set_mode`] (the
/// registration endpoint) or [`MockCloud::set_link_mode`] (identity linking).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// As Pillar Cloud does (the default): a registration answers 200
    /// `{"registered": [<every tool name sent>]}`, or 400 `{"error":
    /// "invalid_registration", "message": ...}` when
    /// [`review_registration`](crate::protocol::review_registration) finds errors in it; a link confirmation answers 200
    /// `{"linked": true, "code": ..., "external_user_id": ...}` (echoing the request).
    #[default]
    Ok,
    /// This HTTP status with a JSON error body `{"error": "<code>", "message": "..."}`.
    /// A number that is not a valid status answers 500.
    Status(u16),
    /// This HTTP status with this JSON body.
    Json(u16, Value),
    /// This HTTP status with this `text/plain` body (say, a proxy's error page).
    Text(u16, String),
    /// Never answers (until the mock stops, when it answers 503): for client timeouts.
    Hang,
}

/// A request the mock Cloud received.
#[derive(Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method.
    pub method: Method,
    /// The path, such as `/api/tools/register/`.
    pub path: String,
    /// Every header, `Authorization` included.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Vec<u8>,
    /// The body as JSON (`null` when it is not JSON).
    pub json: Value,
    /// The status the mock answered; `None` for a request left hanging ([`Mode::Hang`]).
    pub status: Option<u16>,
}

impl RecordedRequest {
    /// A header's value, when present and text (names are case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The bearer token of the `Authorization` header, if any.
    #[must_use]
    pub fn bearer_token(&self) -> Option<&str> {
        self.header("authorization")?.strip_prefix("Bearer ")
    }

    /// Whether the mock answered it with a 2xx status.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

impl fmt::Debug for RecordedRequest {
    /// Like a derived `Debug`, with the `Authorization` header redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if name == http::header::AUTHORIZATION {
                    "[redacted]"
                } else {
                    value.to_str().unwrap_or("[binary]")
                };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &headers)
            .field("json", &self.json)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// State shared by the handlers, kept across stops and restarts.
struct Shared {
    log: Mutex<Vec<RecordedRequest>>,
    registration_mode: Mutex<Mode>,
    link_mode: Mutex<Mode>,
    expected_secret: Mutex<Option<String>>,
    /// Bumped after every recorded request, to wake waiters.
    changed: watch::Sender<u64>,
}

/// One running server.
struct Running {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Register,
    LinkConfirm,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not make every later call panic too.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MockCloud {
    /// Starts a mock Cloud on `127.0.0.1` on a free port.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start() -> io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a mock Cloud on `addr` (port 0 picks a free port).
    ///
    /// # Errors
    /// When `addr` cannot be bound.
    pub async fn start_on(addr: SocketAddr) -> io::Result<Self> {
        let (changed, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            log: Mutex::new(Vec::new()),
            registration_mode: Mutex::new(Mode::Ok),
            link_mode: Mutex::new(Mode::Ok),
            expected_secret: Mutex::new(None),
            changed,
        });
        let (running, addr) = launch(Arc::clone(&shared), addr).await?;
        Ok(Self {
            shared,
            addr,
            running: Some(running),
        })
    }

    /// The base URL, `http://127.0.0.1:<port>`: pass it to
    /// [`api_url`](crate::PillarBuilder::api_url).
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on (and listens on again after [`restart`](Self::restart)).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether it is listening (not [`stop`](Self::stop)ped).
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Stops listening and closes every connection, keeping what was recorded and the
    /// port number: until [`restart`](Self::restart), connections to it are refused, as
    /// when Pillar Cloud is down. Hanging requests are answered 503.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.shutdown.send(true);
            let _ = running.task.await;
        }
    }

    /// Listens again on the same address after [`stop`](Self::stop) (does nothing when
    /// running), with everything recorded so far and the same modes.
    ///
    /// # Errors
    /// When the port was taken by something else meanwhile.
    pub async fn restart(&mut self) -> io::Result<()> {
        if self.running.is_none() {
            let (running, _) = launch(Arc::clone(&self.shared), self.addr).await?;
            self.running = Some(running);
        }
        Ok(())
    }

    /// How registrations are answered from now on (default [`Mode::Ok`]).
    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.shared.registration_mode) = mode;
    }

    /// How identity-link confirmations are answered from now on (default [`Mode::Ok`]).
    pub fn set_link_mode(&self, mode: Mode) {
        *lock(&self.shared.link_mode) = mode;
    }

    /// Requires `Authorization: Bearer <secret>` on both endpoints: other requests are
    /// answered 401 `{"error": "unauthorized", ...}`, whatever the mode. `None` (the
    /// default) accepts any.
    pub fn expect_secret(&self, secret: Option<&str>) {
        *lock(&self.shared.expected_secret) = secret.map(str::to_owned);
    }

    /// Every request received, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }

    /// Every registration request received (`POST /api/tools/register/`), in order,
    /// whatever it was answered.
    #[must_use]
    pub fn registrations(&self) -> Vec<RecordedRequest> {
        self.filtered(REGISTER_PATH)
    }

    /// Every identity-link confirmation received, in order.
    #[must_use]
    pub fn link_confirms(&self) -> Vec<RecordedRequest> {
        self.filtered(LINK_CONFIRM_PATH)
    }

    /// Forgets every recorded request.
    pub fn clear(&self) {
        lock(&self.shared.log).clear();
    }

    /// Waits until a registration has been answered with success (2xx) and returns the
    /// first such; `None` after `timeout`.
    pub async fn wait_for_registration(&self, timeout: Duration) -> Option<RecordedRequest> {
        self.wait_until(timeout, |log| {
            log.iter()
                .find(|r| r.path == REGISTER_PATH && r.succeeded())
                .cloned()
        })
        .await
    }

    /// Waits until at least `count` registration requests have arrived (answered or
    /// not) and returns them all; after `timeout`, returns those that did arrive.
    pub async fn wait_for_registrations(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Vec<RecordedRequest> {
        let found = self
            .wait_until(timeout, |_| {
                let registrations = self.registrations();
                (registrations.len() >= count).then_some(registrations)
            })
            .await;
        found.unwrap_or_else(|| self.registrations())
    }

    /// A client that sends signed webhooks to the server at `server_url`, as Pillar
    /// Cloud does.
    pub fn webhook(
        &self,
        server_url: impl Into<String>,
        secret: impl Into<String>,
    ) -> WebhookClient {
        WebhookClient::new(server_url, secret)
    }

    /// Sends a signed `tool_call` to the server at `server_url`, as Pillar Cloud does,
    /// and returns its answer. See [`WebhookClient::call_tool`].
    ///
    /// # Errors
    /// When the server cannot be reached or does not answer in time.
    pub async fn call_tool(
        &self,
        server_url: &str,
        secret: &str,
        tool_name: &str,
        arguments: Value,
    ) -> Result<(StatusCode, Value), TransportError> {
        self.webhook(server_url, secret)
            .call_tool(tool_name, arguments)
            .await
    }

    /// Sends a signed `tool_confirm` carrying `confirm_payload` to the server at
    /// `server_url`, and returns its answer. See [`WebhookClient::confirm_tool`].
    ///
    /// # Errors
    /// When the server cannot be reached or does not answer in time.
    pub async fn confirm_tool(
        &self,
        server_url: &str,
        secret: &str,
        tool_name: &str,
        confirm_payload: Value,
    ) -> Result<(StatusCode, Value), TransportError> {
        self.webhook(server_url, secret)
            .confirm_tool(tool_name, confirm_payload)
            .await
    }

    fn filtered(&self, path: &str) -> Vec<RecordedRequest> {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Evaluates `check` on the log after every new request until it returns something.
    async fn wait_until<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&[RecordedRequest]) -> Option<T>,
    ) -> Option<T> {
        let mut changed = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            changed.borrow_and_update();
            let log = self.requests();
            if let Some(found) = check(&log) {
                return Some(found);
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                // The sender lives as long as `self`; a timeout ends the wait.
                Ok(Err(_)) | Err(_) => return check(&self.requests()),
            }
        }
    }
}

impl Drop for MockCloud {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            // The server task sees the signal, closes its connections and ends.
            let _ = running.shutdown.send(true);
        }
    }
}

/// Binds `addr` and serves the mock on it.
async fn launch(shared: Arc<Shared>, addr: SocketAddr) -> io::Result<(Running, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (shutdown, signal) = watch::channel(false);
    let app = Router::new()
        .fallback(answer)
        .layer(DefaultBodyLimit::disable())
        .with_state(AppState {
            shared,
            shutdown: signal.clone(),
        });
    let mut signal = signal;
    let task = tokio::spawn(async move {
        let stopped = async move {
            // Also ends when the sender is dropped with the `MockCloud`.
            let _ = signal.wait_for(|stop| *stop).await;
        };
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::warn!(error = %err, "the mock Pillar Cloud stopped with an error");
        }
    });
    Ok((Running { shutdown, task }, addr))
}

/// The one handler: records the request, then answers per endpoint and mode.
async fn answer(
    State(app): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let endpoint = match path.as_str() {
        REGISTER_PATH => Some(Endpoint::Register),
        LINK_CONFIRM_PATH => Some(Endpoint::LinkConfirm),
        _ => None,
    };
    let mut request = RecordedRequest {
        method,
        path,
        headers,
        body: body.to_vec(),
        json,
        status: None,
    };
    let (status, answer) = match endpoint {
        None => (
            StatusCode::NOT_FOUND,
            error_body("not_found", &format!("no such endpoint: {}", request.path)),
        ),
        Some(_) if request.method != Method::POST => (
            StatusCode::METHOD_NOT_ALLOWED,
            error_body("method_not_allowed", "use POST"),
        ),
        Some(endpoint) => {
            let expected = lock(&app.shared.expected_secret).clone();
            let authorized = expected.is_none_or(|secret| request.bearer_token() == Some(&secret));
            let mode = if authorized {
                match endpoint {
                    Endpoint::Register => lock(&app.shared.registration_mode).clone(),
                    Endpoint::LinkConfirm => lock(&app.shared.link_mode).clone(),
                }
            } else {
                Mode::Json(401, error_body("unauthorized", "Invalid API key"))
            };
            match mode {
                Mode::Ok => ok_answer(endpoint, &request.json),
                Mode::Status(code) => {
                    let status =
                        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    let code_name = status
                        .canonical_reason()
                        .unwrap_or("error")
                        .to_ascii_lowercase()
                        .replace(' ', "_");
                    let message = format!("mock Pillar Cloud answered HTTP {}", status.as_u16());
                    (status, error_body(&code_name, &message))
                }
                Mode::Json(code, body) => (
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    body,
                ),
                Mode::Text(code, text) => {
                    let status =
                        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    request.status = Some(status.as_u16());
                    record(&app.shared, request);
                    return (status, text).into_response();
                }
                Mode::Hang => {
                    record(&app.shared, request);
                    let mut shutdown = app.shutdown.clone();
                    let _ = shutdown.wait_for(|stop| *stop).await;
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        axum::Json(error_body("unavailable", "the mock Pillar Cloud stopped")),
                    )
                        .into_response();
                }
            }
        }
    };
    request.status = Some(status.as_u16());
    record(&app.shared, request);
    (status, axum::Json(answer)).into_response()
}

fn record(shared: &Shared, request: RecordedRequest) {
    lock(&shared.log).push(request);
    shared.changed.send_modify(|n| *n = n.wrapping_add(1));
}

fn error_body(code: &str, message: &str) -> Value {
    json!({ "error": code, "message": message })
}

/// What Pillar Cloud answers in [`Mode::Ok`]: 400 `invalid_registration` for a
/// registration it would refuse ([`review_registration`]), else success.
fn ok_answer(endpoint: Endpoint, request: &Value) -> (StatusCode, Value) {
    if endpoint == Endpoint::Register {
        let review = review_registration(request);
        if !review.is_accepted() {
            return (
                StatusCode::BAD_REQUEST,
                error_body("invalid_registration", &review.message()),
            );
        }
    }
    (StatusCode::OK, success_body(endpoint, request))
}

/// What Pillar Cloud answers on success.
fn success_body(endpoint: Endpoint, request: &Value) -> Value {
    match endpoint {
        Endpoint::Register => {
            let names: Vec<&Value> = request
                .get("tools")
                .and_then(Value::as_array)
                .map(|tools| tools.iter().filter_map(|t| t.get("name")).collect())
                .unwrap_or_default();
            json!({ "registered": names })
        }
        Endpoint::LinkConfirm => json!({
            "linked": true,
            "code": request.get("code").cloned().unwrap_or(Value::Null),
            "external_user_id": request.get("external_user_id").cloned().unwrap_or(Value::Null),
        }),
    }
}
