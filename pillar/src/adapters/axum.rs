//! The webhook as an axum [`Router`], to nest in an existing axum app.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! use axum::extract::State;
//! use axum::routing::get;
//! use axum::Router;
//!
//! #[derive(Default)]
//! struct AppState { visits: AtomicU64 }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pillar = pillar::Pillar::from_env()?;
//! let app = Router::new()
//!     .route("/", get(|State(state): State<Arc<AppState>>| async move {
//!         state.visits.fetch_add(1, Ordering::Relaxed).to_string()
//!     }))
//!     // Pillar Cloud calls https://your.app/pillar; set PILLAR_ENDPOINT_URL to it.
//!     .nest("/pillar", pillar::adapters::axum::router(pillar))
//!     .with_state(Arc::new(AppState::default()));
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! The router answers `POST /` (so `/pillar` once nested there): it reads the raw body
//! with the [`body_limit`](crate::Settings::body_limit) of the `Pillar` (413 above it,
//! before buffering), hands the bytes and headers to [`Pillar::handle`] and answers its
//! status and JSON. It does not register the tools with Pillar Cloud: start the
//! registration with [`Pillar::spawn_registration`](crate::Pillar::spawn_registration),
//! and route [`readyz`] for readiness probes (`examples/axum_app.rs` does both).

use ::axum::extract::Request;
use ::axum::routing::{get, post, MethodRouter};
use ::axum::Router;

use super::json_response;
use crate::call::Pillar;
use crate::cloud::RegistrationHandle;

/// A router answering the webhook on `POST /`; nest it at the path Pillar Cloud calls
/// (`.nest("/pillar", router(pillar))`) or merge it at the root.
///
/// Generic over the app's state `S`, so it nests into a `Router<AppState>` as well as a
/// `Router<()>`; the tools get their state from what they capture (see
/// [`Tool::builder`](crate::Tool::builder)) rather than from axum's `State`.
///
/// ```
/// # fn run() -> Result<(), pillar::Error> {
/// let pillar = pillar::testing::pillar().build()?;
/// let app: axum::Router = axum::Router::new().nest("/pillar", pillar::adapters::axum::router(pillar));
/// # Ok(()) }
/// ```
pub fn router<S>(pillar: Pillar) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/", webhook(pillar))
}

/// The webhook as a `POST` route, for routers that mount it at several paths.
pub(crate) fn webhook<S>(pillar: Pillar) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    post(move |request: Request| {
        let pillar = pillar.clone();
        super::respond(pillar, request)
    })
}

/// A `GET` route answering the readiness of `pillar` (see [`Pillar::readiness`]): 200
/// `{"status": "ready", ...}` when `registration` is registered (or `None`: not tracked)
/// and the call store answers, 503 `{"status": "not_ready", ...}` naming what is not.
/// What `serve()` answers on `GET /readyz`. The route keeps its clone of
/// `registration`, which keeps the registration running while the router exists.
///
/// ```
/// # async fn run() -> Result<(), pillar::Error> {
/// let pillar = pillar::testing::pillar()
///     .endpoint_url("https://api.myapp.com/pillar")
///     .build()?;
/// let registration = pillar.spawn_registration();
/// let app: axum::Router = axum::Router::new()
///     .nest("/pillar", pillar.router())
///     .route("/readyz", pillar::adapters::axum::readyz(pillar.clone(), Some(registration)));
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
/// ```
pub fn readyz<S>(pillar: Pillar, registration: Option<RegistrationHandle>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    get(move || {
        let pillar = pillar.clone();
        let registration = registration.clone();
        async move {
            let readiness = pillar.readiness(registration.as_ref()).await;
            let body = serde_json::to_vec(&readiness.to_json()).unwrap_or_default();
            json_response(readiness.status(), body)
        }
    })
}

impl Pillar {
    /// The webhook as an axum [`Router`] answering `POST /`: the same as
    /// [`adapters::axum::router`](router).
    ///
    /// ```
    /// # fn run() -> Result<(), pillar::Error> {
    /// let pillar = pillar::testing::pillar().build()?;
    /// let app: axum::Router = axum::Router::new()
    ///     .route("/", axum::routing::get(|| async { "my app" }))
    ///     .nest("/pillar", pillar.router());
    /// # Ok(()) }
    /// ```
    pub fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        router(self.clone())
    }
}
