//! Who may use the console. Any web page the developer opens can send requests to
//! `127.0.0.1`, so:
//!
//! - every console route answers only a `Host` of the console itself (`127.0.0.1`,
//!   `localhost` or `[::1]` with its port): a DNS-rebinding page, whose requests carry
//!   its own host name, is refused;
//! - the API answers only requests whose `Origin` (when the browser sends one) is the
//!   console's, and whose `Sec-Fetch-Site` (when sent) is `same-origin` or `none`: a
//!   cross-site `fetch` or form post is refused;
//! - and only requests with the run's token in `X-Pillar-Console-Token`, compared in
//!   constant time: the token is in the printed URL's fragment, which browsers never
//!   send to servers nor put in `Referer`.
//!
//! The page itself (HTML, CSS, JavaScript) holds no secret; it is served to any request
//! with a right `Host`, with a Content-Security-Policy that allows only its own files.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::console::Refusal;
use super::Dev;

/// The header that carries the console's token.
pub(crate) const TOKEN_HEADER: &str = "x-pillar-console-token";

/// The console's Content-Security-Policy: its own script, style and API, nothing else;
/// no inline script or style, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   connect-src 'self'; img-src 'self' data:; form-action 'none'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The `Host` values the console answers, and the origins its page has.
#[derive(Debug)]
pub(crate) struct Hosts {
    hosts: [String; 3],
}

impl Hosts {
    /// The loopback names with `port`.
    pub(crate) fn loopback(port: u16) -> Self {
        Self {
            hosts: [
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
            ],
        }
    }

    fn allows_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    fn allows_origin(&self, origin: &str) -> bool {
        origin
            .strip_prefix("http://")
            .is_some_and(|host| self.allows_host(host))
    }
}

/// The largest request body read: a registration of hundreds of tools fits.
pub(crate) const MAX_BODY: usize = 4 << 20;
/// How long a client has to send its body.
const BODY_DEADLINE: Duration = Duration::from_secs(10);

/// Every route: the body is read whole before the handler runs, within [`MAX_BODY`]
/// bytes (413, before reading when `Content-Length` says more) and [`BODY_DEADLINE`]
/// (408), so a client that announces a body and stalls holds no handler.
pub(crate) async fn buffered(request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, MAX_BODY)).await;
    match read {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        // Over the limit while reading (no `Content-Length`), or cut off: either way no
        // handler runs.
        Ok(Err(_)) => too_large(),
        Err(_) => refuse(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            &format!(
                "the request body did not arrive within {} s",
                BODY_DEADLINE.as_secs()
            ),
        )
        .into_response(),
    }
}

fn too_large() -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        &format!(
            "the request body is over {} MiB, or was cut off",
            MAX_BODY >> 20
        ),
    )
    .into_response()
}

/// The page's routes: a right `Host`, then the security headers on the answer.
pub(crate) async fn page(State(dev): State<Arc<Dev>>, request: Request, next: Next) -> Response {
    if let Err(refused) = check_host(&dev, request.headers()) {
        return refused.into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    secure(headers);
    response
}

/// The API's routes: a right `Host`, `Origin` and token.
pub(crate) async fn api(State(dev): State<Arc<Dev>>, request: Request, next: Next) -> Response {
    let checked = check_host(&dev, request.headers())
        .and_then(|()| check_origin(&dev, request.headers()))
        .and_then(|()| check_token(&dev, request.headers()));
    let mut response = match checked {
        Ok(()) => next.run(request).await,
        Err(refused) => refused.into_response(),
    };
    secure(response.headers_mut());
    response
}

/// Headers on every console answer: no caching, no sniffing, no referrer.
fn secure(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

fn check_host(dev: &Dev, headers: &HeaderMap) -> Result<(), Refusal> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match host {
        Some(host) if dev.hosts.allows_host(host) => Ok(()),
        Some(host) => Err(refuse(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            &format!(
                "the console answers only on 127.0.0.1, localhost or [::1] with its port, not on {host:?}"
            ),
        )),
        None => Err(refuse(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            "the request has no Host header",
        )),
    }
}

fn check_origin(dev: &Dev, headers: &HeaderMap) -> Result<(), Refusal> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("(not text)");
        if !dev.hosts.allows_origin(origin) {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                &format!("requests from {origin} may not use the console"),
            ));
        }
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                "cross-site requests may not use the console",
            ));
        }
    }
    Ok(())
}

fn check_token(dev: &Dev, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(token) = headers.get(TOKEN_HEADER) else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "open the console with the URL `pillar dev` printed (it ends with #token=...)",
        ));
    };
    if constant_time_eq(token.as_bytes(), dev.token.as_bytes()) {
        Ok(())
    } else {
        Err(refuse(
            StatusCode::UNAUTHORIZED,
            "bad_token",
            "the console token is not this run's: open the URL `pillar dev` printed last",
        ))
    }
}

/// Compares in time that depends on the lengths only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refuse(status: StatusCode, code: &'static str, message: &str) -> Refusal {
    Refusal {
        status,
        code,
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{constant_time_eq, Hosts};

    #[test]
    fn only_loopback_names_with_the_port_are_hosts() {
        let hosts = Hosts::loopback(8900);
        for ok in [
            "127.0.0.1:8900",
            "localhost:8900",
            "LOCALHOST:8900",
            "[::1]:8900",
        ] {
            assert!(hosts.allows_host(ok), "{ok}");
        }
        for refused in [
            "127.0.0.1",
            "127.0.0.1:8901",
            "evil.example:8900",
            "localhost.evil.example:8900",
            "",
        ] {
            assert!(!hosts.allows_host(refused), "{refused}");
        }
    }

    #[test]
    fn origins_are_the_console_over_http() {
        let hosts = Hosts::loopback(8900);
        assert!(hosts.allows_origin("http://127.0.0.1:8900"));
        assert!(hosts.allows_origin("http://localhost:8900"));
        assert!(!hosts.allows_origin("https://127.0.0.1:8900"));
        assert!(!hosts.allows_origin("http://evil.example"));
        assert!(!hosts.allows_origin("null"));
    }

    #[test]
    fn tokens_compare_by_content() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
