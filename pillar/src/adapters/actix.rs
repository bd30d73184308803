//! The webhook in an actix-web 4 app (feature `actix`).
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pillar = pillar::Pillar::from_env()?;
//! HttpServer::new(move || {
//!     App::new()
//!         .route("/", web::get().to(|| async { "my app" }))
//!         // Pillar Cloud calls https://your.app/pillar; set PILLAR_ENDPOINT_URL to it.
//!         .service(pillar::adapters::actix::scope("/pillar", pillar.clone()))
//! })
//! .bind(("0.0.0.0", 8080))?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```
//!
//! The handler reads the raw payload with the [`body_limit`](crate::Settings::body_limit)
//! of the `Pillar` (413 above it; a `Content-Length` over the limit is refused before
//! reading), converts the headers to [`http::HeaderMap`], and answers what
//! [`Pillar::handle`] answers. Tool timeouts work on actix's workers: they run tokio
//! runtimes.
//!
//! # Request data
//!
//! actix keeps what middleware puts on a request in its own extensions, which cannot be
//! listed; name the types tools may read with [`Webhook::carry`], and they reach
//! [`ToolContext::extension`](crate::ToolContext::extension):
//!
//! ```
//! use actix_web::{dev::Service, App, HttpMessage};
//!
//! #[derive(Clone)]
//! struct Tenant(String);
//!
//! # fn run() -> Result<(), pillar::Error> {
//! let pillar = pillar::testing::pillar().build()?;
//! let app = App::new()
//!     .wrap_fn(|req, srv| {
//!         // Your authentication middleware.
//!         req.extensions_mut().insert(Tenant("acme".into()));
//!         srv.call(req)
//!     })
//!     .service(pillar::adapters::actix::Webhook::new(pillar).carry::<Tenant>().scope("/pillar"));
//! # let _ = app; Ok(()) }
//! ```

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::dev::Extensions as ActixExtensions;
use actix_web::http::StatusCode as ActixStatus;
use actix_web::web::Bytes;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, Route, Scope};
use futures_core::Stream;
use http::{HeaderMap, HeaderName, HeaderValue};
use tracing::Instrument;

use crate::answer::WebhookResponse;
use crate::call::Pillar;

/// Mounts the webhook (`POST`) at the root of whatever it configures: the app's `/`, or a
/// scope's own path.
///
/// ```
/// use actix_web::{web, App};
///
/// # fn run() -> Result<(), pillar::Error> {
/// let pillar = pillar::testing::pillar().build()?;
/// let app = App::new().service(
///     web::scope("/pillar").configure(pillar::adapters::actix::configure(pillar.clone())),
/// );
/// # let _ = app; Ok(()) }
/// ```
pub fn configure(pillar: Pillar) -> impl FnOnce(&mut web::ServiceConfig) {
    Webhook::new(pillar).configure()
}

/// A scope answering the webhook at `path` (and `path/`).
///
/// ```
/// # fn run() -> Result<(), pillar::Error> {
/// let pillar = pillar::testing::pillar().build()?;
/// let app = actix_web::App::new().service(pillar::adapters::actix::scope("/pillar", pillar));
/// # let _ = app; Ok(()) }
/// ```
pub fn scope(path: &str, pillar: Pillar) -> Scope {
    Webhook::new(pillar).scope(path)
}

/// The webhook, with the request values its tools may read: [`configure`] and [`scope`]
/// with [`carry`](Self::carry).
#[derive(Clone)]
#[must_use]
pub struct Webhook {
    pillar: Pillar,
    carried: Vec<Carry>,
}

/// Copies one type of request value from actix's extensions to the call's.
type Carry = fn(&ActixExtensions, &mut http::Extensions);

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("pillar", &self.pillar)
            .field("carried", &self.carried.len())
            .finish()
    }
}

impl Webhook {
    /// The webhook of `pillar`, carrying no request values.
    pub fn new(pillar: Pillar) -> Self {
        Self {
            pillar,
            carried: Vec::new(),
        }
    }

    /// Passes the request's value of type `T` (put there by a middleware, with
    /// `req.extensions_mut().insert(...)`), when it has one, to the tools, which read it
    /// with [`ToolContext::extension`](crate::ToolContext::extension). Cloned once per
    /// call.
    pub fn carry<T: Clone + Send + Sync + 'static>(mut self) -> Self {
        self.carried.push(carry_one::<T>);
        self
    }

    /// A scope answering the webhook at `path` (and `path/`), as [`scope`].
    pub fn scope(self, path: &str) -> Scope {
        let (first, second) = self.routes();
        web::scope(path).route("", first).route("/", second)
    }

    /// The webhook at the root of whatever it configures, as [`configure`].
    pub fn configure(self) -> impl FnOnce(&mut web::ServiceConfig) {
        move |cfg| {
            cfg.route("", self.routes().0);
        }
    }

    /// Two `POST` routes sharing the webhook.
    fn routes(self) -> (Route, Route) {
        let carried: Arc<[Carry]> = self.carried.into();
        (
            route(self.pillar.clone(), Arc::clone(&carried)),
            route(self.pillar, carried),
        )
    }
}

fn carry_one<T: Clone + Send + Sync + 'static>(from: &ActixExtensions, to: &mut http::Extensions) {
    if let Some(value) = from.get::<T>() {
        to.insert(value.clone());
    }
}

/// The webhook as a `POST` route.
fn route(pillar: Pillar, carried: Arc<[Carry]>) -> Route {
    web::post().to(move |request: HttpRequest, payload: web::Payload| {
        respond(pillar.clone(), Arc::clone(&carried), request, payload)
    })
}

/// Answers one webhook request.
async fn respond(
    pillar: Pillar,
    carried: Arc<[Carry]>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let span = tracing::debug_span!(
        "pillar.webhook",
        "http.request.method" = %request.method(),
        "url.path" = request.path(),
        "http.response.status_code" = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    async move {
        let started = super::timed();
        let headers = convert_headers(request.headers());
        let (read, held) = super::read_body(&pillar, &headers, PayloadBody(payload)).await;
        let mut extensions = http::Extensions::new();
        if !carried.is_empty() {
            let from = request.extensions();
            for carry in carried.iter() {
                carry(&from, &mut extensions);
            }
        }
        let response = super::respond_with(&pillar, read, &headers, extensions, started).await;
        drop(held);
        actix_response(response)
    }
    .instrument(span)
    .await
}

/// actix's payload as an `http_body::Body`, so that it is read by the reader every
/// transport shares (body limit, body timeout, body budget).
struct PayloadBody(web::Payload);

impl hyper::body::Body for PayloadBody {
    type Data = Bytes;
    type Error = actix_web::error::PayloadError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.0)
            .poll_next(cx)
            .map(|chunk| chunk.map(|chunk| chunk.map(hyper::body::Frame::data)))
    }
}

/// A [`WebhookResponse`] as an actix response.
fn actix_response(response: WebhookResponse) -> HttpResponse {
    let status = ActixStatus::from_u16(response.status().as_u16())
        .unwrap_or(ActixStatus::INTERNAL_SERVER_ERROR);
    let mut actix = HttpResponse::build(status);
    actix.content_type("application/json");
    if let Some(seconds) = response.retry_after() {
        actix.insert_header(("retry-after", seconds.to_string()));
    }
    actix.body(response.into_body())
}

/// actix-web 4 speaks `http` 0.2; the SDK speaks `http` 1. Names and values are copied by
/// bytes (both are already valid, so nothing is dropped in practice).
fn convert_headers(from: &actix_web::http::header::HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(from.len());
    for (name, value) in from {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    headers
}
