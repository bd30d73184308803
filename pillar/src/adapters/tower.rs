//! The webhook as a [`tower::Service`] over `http::Request`s, for any
//! tower-based server or framework.
//!
//! [`PillarService`] accepts a request with any body type (`hyper::body::Incoming`,
//! `axum::body::Body`, `http_body_util::Full`, ...), reads it with the
//! [`body_limit`](crate::Settings::body_limit) of the `Pillar` (413 above it, before
//! buffering), and answers whatever the path and method: route to it the requests Pillar
//! Cloud sends. It never fails (`Error = Infallible`): every problem is an HTTP answer.
//!
//! ```
//! use tower::ServiceExt;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pillar = pillar::testing::pillar().registered_tools(false).build()?;
//! let request = http::Request::post("/pillar")
//!     .body(http_body_util::Full::new(axum::body::Bytes::from_static(br#"{"action":"ping"}"#)))?;
//! let response = pillar.service().oneshot(request).await?;
//! assert_eq!(response.status(), 200);
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
//! ```
//!
//! Served directly by hyper (with `hyper-util`), as any tower service is:
//!
//! ```ignore
//! let service = hyper_util::service::TowerToHyperService::new(pillar.service());
//! hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
//!     .serve_connection(TokioIo::new(stream), service)
//!     .await?;
//! ```

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::axum::body::{Bytes, HttpBody};
use ::http::{Request, Response};
use http_body_util::Full;

use super::BoxError;
use crate::call::Pillar;

/// A [`tower::Service`] answering Pillar webhooks; see the
/// [module](self) documentation. Make one with [`Pillar::service`] or
/// [`PillarService::new`]; cheap to clone.
#[derive(Clone, Debug)]
pub struct PillarService {
    pillar: Pillar,
}

impl PillarService {
    /// A service answering webhooks with `pillar`.
    pub fn new(pillar: Pillar) -> Self {
        Self { pillar }
    }
}

impl Pillar {
    /// The webhook as a [`tower::Service`]:
    /// [`adapters::tower::PillarService`](PillarService).
    pub fn service(&self) -> PillarService {
        PillarService::new(self.clone())
    }
}

impl<B> ::tower::Service<Request<B>> for PillarService
where
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let pillar = self.pillar.clone();
        ResponseFuture(Box::pin(async move {
            Ok(super::respond(pillar, request).await)
        }))
    }
}

/// What a [`PillarService`] call resolves to.
type Answered = Result<Response<Full<Bytes>>, Infallible>;

/// The future of a [`PillarService`] call: the response, never an error.
#[must_use = "futures do nothing unless polled"]
pub struct ResponseFuture(Pin<Box<dyn Future<Output = Answered> + Send>>);

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Answered;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}
