//! [`McpService`]: rmcp's Streamable HTTP service behind the checks rmcp does not make
//! (or makes without telling the refusal summary): `Host` and `Origin` against the
//! hosts allowed, the bearer token (constant-time), a cap on sessions and on requests in
//! progress (an SSE stream is one until it ends). rmcp's own `Host` check is off: this
//! layer's list is the one in force.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Bytes, HttpBody};
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, ORIGIN, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::bridge::{Bridge, Shared};
use crate::adapters::{read_body, BoxError};
use crate::call::Pillar;
use crate::rejections::Reason;

/// The hosts every MCP server accepts in `Host` and `Origin`: the loopback ones.
const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// MCP's Streamable HTTP transport as a `tower::Service` (feature `mcp`): mount it at a
/// path of an axum or tower app (`Router::route_service("/mcp", ...)`). Made by
/// [`Pillar::mcp_service`]; [`serve`](crate::serve) mounts one at `/mcp` when
/// [`McpSettings::enabled`](crate::McpSettings::enabled).
///
/// Cheap to clone; every clone shares the sessions. [`shutdown`](Self::shutdown) ends
/// every session and open stream.
#[derive(Clone)]
pub struct McpService {
    inner: StreamableHttpService<Bridge, LocalSessionManager>,
    guard: Arc<Guard>,
}

impl std::fmt::Debug for McpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpService")
            .field("hosts", &self.guard.hosts)
            .field("max_sessions", &self.guard.max_sessions)
            .finish_non_exhaustive()
    }
}

struct Guard {
    pillar: Pillar,
    /// `None`: no token checked (loopback only, checked by `build()`).
    token: Option<String>,
    /// Allowed hosts, lower case; an entry with a port matches that port only.
    hosts: Vec<String>,
    sessions: Arc<LocalSessionManager>,
    max_sessions: usize,
    /// One permit per request in progress (an SSE stream holds one until it ends).
    streams: Arc<Semaphore>,
    stop: CancellationToken,
}

impl McpService {
    pub(crate) fn new(pillar: Pillar) -> Self {
        let settings = pillar.settings().clone();
        let mcp = &settings.mcp;
        let connections = settings.limits.max_connections.max(2);
        let max_sessions = mcp.max_sessions.unwrap_or(connections / 4).max(1);
        let max_streams = mcp.max_streams.unwrap_or(connections / 2).max(1);
        let mut hosts: Vec<String> = LOOPBACK.iter().map(|h| (*h).to_owned()).collect();
        if let Some(host) = settings
            .endpoint_url
            .as_deref()
            .and_then(|url| reqwest::Url::parse(url).ok())
            .and_then(|url| url.host_str().map(str::to_owned))
        {
            hosts.push(host.trim_matches(['[', ']']).to_ascii_lowercase());
        }
        hosts.extend(mcp.allowed_hosts.iter().map(|h| h.to_ascii_lowercase()));
        let stop = CancellationToken::new();
        let sessions = Arc::new(LocalSessionManager::default());
        let shared = Shared::new(pillar.clone());
        let config = StreamableHttpServerConfig::default()
            .with_cancellation_token(stop.child_token())
            .with_max_request_body_bytes(settings.body_limit)
            .with_sse_keep_alive(Some(Duration::from_secs(15)))
            .disable_allowed_hosts();
        let inner = StreamableHttpService::new(
            move || Ok(Bridge::new(Arc::clone(&shared))),
            Arc::clone(&sessions),
            config,
        );
        Self {
            inner,
            guard: Arc::new(Guard {
                pillar,
                token: if mcp.no_auth { None } else { mcp.token.clone() },
                hosts,
                sessions,
                max_sessions,
                streams: Arc::new(Semaphore::new(max_streams)),
                stop,
            }),
        }
    }

    /// Ends every MCP session and open stream, and refuses new requests: what `serve()`
    /// does at shutdown. Call it from the shutdown of an app the service is mounted in.
    pub fn shutdown(&self) {
        self.guard.stop.cancel();
    }

    /// How many MCP sessions are open.
    pub async fn sessions(&self) -> usize {
        self.guard.sessions.sessions.read().await.len()
    }
}

/// The response body of the MCP service.
pub type McpBody = BoxBody<Bytes, Infallible>;

impl<B> tower::Service<Request<B>> for McpService
where
    B: HttpBody + Send + 'static,
    B::Error: Into<BoxError>,
    B::Data: Send,
{
    type Response = Response<McpBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<McpBody>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.answer(request).await) })
    }
}

impl McpService {
    async fn answer<B>(&self, request: Request<B>) -> Response<McpBody>
    where
        B: HttpBody + Send + 'static,
        B::Error: Into<BoxError>,
        B::Data: Send,
    {
        let guard = &*self.guard;
        if let Some(refusal) = guard.check_headers(&request) {
            return refusal;
        }
        if guard.stop.is_cancelled() {
            return refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server is shutting down",
            );
        }
        let Ok(permit) = Arc::clone(&guard.streams).try_acquire_owned() else {
            guard.pillar.reject(Reason::McpCap, &"requests in progress");
            return busy("Too many MCP requests in progress; retry shortly");
        };
        let new_session =
            request.method() == Method::POST && !request.headers().contains_key("mcp-session-id");
        if new_session && guard.sessions.sessions.read().await.len() >= guard.max_sessions {
            guard.pillar.reject(Reason::McpCap, &"sessions");
            return busy("Too many MCP sessions open; retry shortly");
        }
        // The body is read as the webhook's is (adapters/body.rs): the body limit (413),
        // the body timeout (408), the shared budget of buffered bytes (503).
        let (parts, body) = request.into_parts();
        let (read, held) = read_body(&guard.pillar, &parts.headers, body).await;
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(err) => {
                let refusal = err.response(&guard.pillar);
                let status = refusal.status();
                let mut response =
                    Response::new(Full::new(Bytes::from(refusal.into_body())).boxed());
                *response.status_mut() = status;
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                return response;
            }
        };
        let response = self
            .inner
            .handle(Request::from_parts(parts, Full::new(bytes)))
            .await;
        drop(held);
        // The permit is held until the body ends or is dropped (an SSE stream's whole life).
        response.map(move |body| {
            body.map_frame(move |frame| {
                let _held = &permit;
                frame
            })
            .boxed()
        })
    }
}

impl Guard {
    /// Refuses a request whose `Host` or `Origin` is not allowed (403), or that lacks the
    /// token (401).
    fn check_headers<B>(&self, request: &Request<B>) -> Option<Response<McpBody>> {
        let headers = request.headers();
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
        if !host.as_deref().is_some_and(|h| self.allows(h)) {
            self.pillar.reject(
                Reason::McpHost,
                &format_args!(
                    "Host {:?}",
                    crate::observe::Untrusted::text(host.unwrap_or_default())
                ),
            );
            return Some(refused(
                StatusCode::FORBIDDEN,
                "Forbidden: Host is not allowed",
            ));
        }
        if let Some(origin) = headers.get(ORIGIN) {
            let authority = origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://"))
                .map(|(_, rest)| rest.trim_end_matches('/'));
            if !authority.is_some_and(|a| self.allows(a)) {
                self.pillar.reject(
                    Reason::McpHost,
                    &format_args!(
                        "Origin {:?}",
                        crate::observe::Untrusted::text(
                            String::from_utf8_lossy(origin.as_bytes()).into_owned()
                        )
                    ),
                );
                return Some(refused(
                    StatusCode::FORBIDDEN,
                    "Forbidden: Origin is not allowed",
                ));
            }
        }
        if let Some(token) = &self.token {
            let given = headers
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            if !same(given.trim().as_bytes(), token.as_bytes()) {
                self.pillar.reject(Reason::McpToken, &"bearer token");
                let mut response = refused(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized: a valid bearer token is required",
                );
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return Some(response);
            }
        }
        None
    }

    /// Whether an authority (`host[:port]`) names an allowed host.
    fn allows(&self, authority: &str) -> bool {
        let authority = authority.to_ascii_lowercase();
        let host = host_of(&authority);
        self.hosts.iter().any(|allowed| {
            if allowed.contains(':') && !LOOPBACK.contains(&allowed.as_str()) {
                *allowed == authority || allowed.trim_matches(['[', ']']) == host
            } else {
                allowed == host
            }
        })
    }
}

/// The host of an authority, without the port and IPv6 brackets.
fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => authority,
    }
}

/// Whether two byte strings are equal, in time that depends on their lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refused(status: StatusCode, message: &str) -> Response<McpBody> {
    let body = serde_json::json!({"error": message}).to_string();
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn busy(message: &str) -> Response<McpBody> {
    let mut response = refused(StatusCode::SERVICE_UNAVAILABLE, message);
    response
        .headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports() {
        assert_eq!(host_of("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_of("[::1]:80"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
        assert_eq!(host_of("example.com:443"), "example.com");
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
