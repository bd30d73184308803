//! Mount the webhook inside an app you already have, sharing its state and runtime.
//!
//! | framework | adapter | feature |
//! |---|---|---|
//! | axum | [`axum::router`] (or [`Pillar::router`]): a `Router` to nest at a path | `serve` (default) |
//! | plain hyper, or any framework that mounts a `tower::Service` | [`tower::PillarService`] (or [`Pillar::service`]) | `serve` (default) |
//! | actix-web 4 | `actix::configure` / `actix::scope` | `actix` |
//!
//! Every adapter does the same thing as [`serve`](crate::serve): it refuses a body larger
//! than [`Settings::body_limit`](crate::Settings::body_limit) with `413` before buffering
//! it (a `Content-Length` over the limit is refused without reading a byte), passes the
//! raw body bytes, exactly as received, and the headers to [`Pillar::handle`], and answers
//! its status with the JSON body. The signature is checked there, whatever the framework.
//!
//! Adapters do not register the tools: start the same background registration as
//! `serve()` with [`Pillar::spawn_registration`], and answer readiness probes with
//! [`Pillar::readiness`] ([`axum::readyz`] routes it for axum; other frameworks answer
//! its [`Readiness::status`] and [`Readiness::to_json`]).
//!
//! [`Pillar::spawn_registration`]: crate::Pillar::spawn_registration
//! [`Pillar::readiness`]: crate::Pillar::readiness
//! [`Pillar::handle`]: crate::Pillar::handle
//! [`Pillar::router`]: crate::Pillar::router
//! [`Pillar::service`]: crate::Pillar::service

use std::future::Future;
use std::time::Instant;

use ::axum::body::{Bytes, HttpBody};
use ::http::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use ::http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::Full;
use tracing::Instrument;

use crate::answer::WebhookResponse;
use crate::call::Pillar;
use crate::rejections::Reason;

#[cfg(feature = "actix")]
pub mod actix;
pub mod axum;
mod body;
mod readiness;
pub mod tower;

pub use self::readiness::Readiness;

pub(crate) use self::body::read_body;

/// The error a boxed body error is converted into.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What reading a request body with a limit can end with, besides the bytes.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body is larger than the limit (announced or actual).
    TooLarge,
    /// The whole body did not arrive within the body timeout.
    TimedOut,
    /// The body could not be read (the client went away, a malformed chunk, ...).
    Read(String),
    /// The budget of buffered body bytes was spent for the whole wait.
    Budget,
}

impl BodyError {
    /// The response for this error; the refusal is noted in the rate-limited log.
    pub(crate) fn response(&self, pillar: &Pillar) -> WebhookResponse {
        let settings = pillar.settings();
        let limit = settings.body_limit;
        match self {
            Self::TooLarge => {
                pillar.reject(Reason::TooLarge, &format_args!("limit {limit} bytes"));
                WebhookResponse::refused(StatusCode::PAYLOAD_TOO_LARGE, too_large_message(limit))
            }
            Self::TimedOut => {
                let ms = settings.limits.body_timeout.as_millis();
                pillar.reject(Reason::SlowBody, &format_args!("body timeout {ms} ms"));
                WebhookResponse::refused(
                    StatusCode::REQUEST_TIMEOUT,
                    format!("The request body did not arrive within {ms} ms"),
                )
            }
            Self::Read(reason) => {
                pillar.reject(Reason::UnreadableBody, reason);
                WebhookResponse::refused(StatusCode::BAD_REQUEST, "Could not read the request body")
            }
            Self::Budget => {
                let budget = settings.limits.body_budget;
                pillar.reject(
                    Reason::BodyBudget,
                    &format_args!("budget of {budget} bytes spent for 1 s"),
                );
                WebhookResponse::unavailable(
                    format!(
                        "The server is reading {budget} bytes of other request bodies; retry \
                         after 1 s"
                    ),
                    1,
                )
            }
        }
    }
}
/// The error text of a `413` answer.
pub(crate) fn too_large_message(limit: usize) -> String {
    format!("Request body is larger than {limit} bytes")
}

/// Answers one webhook request: the one implementation behind the axum router, the
/// tower service and [`serve`](crate::serve).
///
/// A plain function returning the future, not an `async fn`: the request is split before
/// the future is made, so its state holds the headers once (an `async fn` keeps its
/// arguments besides what it moves out of them). The web framework allocates and copies
/// this future for every request (BENCHMARKS.md, "the webhook's future").
pub(crate) fn respond<B>(
    pillar: Pillar,
    request: Request<B>,
) -> impl Future<Output = Response<Full<Bytes>>>
where
    B: HttpBody,
    B::Error: Into<BoxError>,
{
    let span = tracing::debug_span!(
        "pillar.webhook",
        "http.request.method" = %request.method(),
        "url.path" = request.uri().path(),
        "http.response.status_code" = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let (parts, body) = request.into_parts();
    let (headers, extensions) = (parts.headers, parts.extensions);
    async move {
        let started = timed();
        let (read, held) = read_body(&pillar, &headers, body).await;
        let response = respond_with(&pillar, read, &headers, extensions, started).await;
        // The body's bytes are given back to the budget once the response is made.
        drop(held);
        http_response(response)
    }
    .instrument(span)
}

/// The start of a request, when something will log or record its latency (a span or a
/// debug event is enabled); `None` spares the clock otherwise.
pub(crate) fn timed() -> Option<Instant> {
    let wanted =
        !tracing::Span::current().is_disabled() || tracing::enabled!(tracing::Level::DEBUG);
    wanted.then(Instant::now)
}

/// The respond stage every adapter shares once the body is read (or refused): the call
/// pipeline ([`Pillar::handle_with_extensions`]), then the span's status and latency.
pub(crate) async fn respond_with(
    pillar: &Pillar,
    read: Result<Bytes, BodyError>,
    headers: &HeaderMap,
    extensions: http::Extensions,
    started: Option<Instant>,
) -> WebhookResponse {
    let response = match read {
        Ok(body) => {
            pillar
                .handle_with_extensions(&body, headers, extensions)
                .await
        }
        Err(err) => err.response(pillar),
    };
    if let Some(started) = started {
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let status = response.status().as_u16();
        let span = tracing::Span::current();
        span.record("http.response.status_code", status);
        span.record("duration_ms", duration_ms);
        tracing::debug!(
            "http.response.status_code" = status,
            duration_ms,
            "webhook answered"
        );
    }
    response
}

/// A [`WebhookResponse`] as an `http` response.
fn http_response(response: WebhookResponse) -> Response<Full<Bytes>> {
    let retry_after = response.retry_after();
    let mut http = json_response(response.status(), response.into_body());
    if let Some(seconds) = retry_after {
        http.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    http
}

/// A response with a JSON body.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
