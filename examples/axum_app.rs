//! Pillar inside an existing axum app: the app keeps its own routes and shared state, the
//! webhook is nested at `/pillar`, and `#[pillar::tool]` functions receive the same state
//! (`pillar::State<Arc<Signups>>`) and what the app's middleware put on the request (the
//! tenant, through `ToolContext::extension`). The tools are registered with Pillar Cloud
//! in the background, with retries, as `pillar::serve()` does, and `/readyz` says whether
//! that is done (503 until then; without PILLAR_ENDPOINT_URL it stays 503 and says why).
//!
//! ```text
//! PILLAR_SECRET=plr_local cargo run --example axum_app
//! curl -X POST localhost:8787/signup -d 'ada@example.com'
//! curl localhost:8787/
//! curl -i localhost:8787/readyz
//! PILLAR_SECRET=plr_local pillar call signup_stats --url http://127.0.0.1:8787/pillar \
//!     --args '{"recent": 3}'
//! ```
//!
//! (`pillar` is the command of `cli/`: `cargo install --path cli`.)

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use pillar::{PillarBuilder, ToolContext};
use serde::Serialize;

/// The app's shared state, as it was before Pillar came along.
#[derive(Debug, Default)]
struct Signups(Mutex<Vec<String>>);

impl Signups {
    fn all(&self) -> Vec<String> {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// What the app's authentication middleware puts on every request.
#[derive(Debug, Clone)]
struct Tenant(String);

async fn home(State(signups): State<Arc<Signups>>) -> String {
    format!("{} people signed up\n", signups.all().len())
}

async fn signup(State(signups): State<Arc<Signups>>, email: String) -> &'static str {
    if let Ok(mut all) = signups.0.lock() {
        all.push(email.trim().to_owned());
    }
    "welcome\n"
}

/// The app's middleware: here every request is the `acme` tenant's.
async fn authenticate(mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(Tenant("acme".to_owned()));
    next.run(request).await
}

#[derive(Serialize)]
struct Stats {
    tenant: Option<String>,
    total: usize,
    recent: Vec<String>,
}

/// How many people signed up, and the most recent sign-ups.
#[pillar::tool]
async fn signup_stats(
    /// How many recent sign-ups to list (default 5)
    recent: Option<u32>,
    signups: pillar::State<Arc<Signups>>,
    ctx: &ToolContext,
) -> Stats {
    let all = signups.all();
    let recent = recent.unwrap_or(5) as usize;
    Stats {
        tenant: ctx.extension::<Tenant>().map(|t| t.0.clone()),
        total: all.len(),
        recent: all.iter().rev().take(recent).cloned().collect(),
    }
}

/// Whether an email address has signed up.
#[pillar::tool]
async fn is_signed_up(
    /// The email address
    email: String,
    signups: pillar::State<Arc<Signups>>,
) -> bool {
    signups.all().iter().any(|s| s.eq_ignore_ascii_case(&email))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let signups = Arc::new(Signups::default());

    // PILLAR_SECRET and friends from the environment; the tools get the app's state.
    let pillar = PillarBuilder::from_env()?
        .state(Arc::clone(&signups))
        .build()?;

    // `pillar::serve()` registers the tools by itself; an app that mounts the router
    // starts the same background registration (retried with backoff until Pillar Cloud
    // accepts; without PILLAR_ENDPOINT_URL it warns and sends nothing). The registration
    // runs as long as a clone of its handle lives: the /readyz route keeps one.
    // PILLAR_AUTO_REGISTER=false leaves it out, as it does for `serve()`.
    let registration = pillar
        .settings()
        .auto_register
        .then(|| pillar.spawn_registration());

    let app = Router::new()
        .route("/", get(home))
        .route("/signup", post(signup))
        .nest("/pillar", pillar.router())
        // 200 once registered (and the call store answers), 503 naming what is not.
        .route(
            "/readyz",
            pillar::adapters::axum::readyz(pillar.clone(), registration.clone()),
        )
        .layer(from_fn(authenticate))
        .with_state(signups);

    let addr = pillar.settings().addr;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(
        "listening on http://{} (Pillar webhook on /pillar)",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    // Stop retrying, if Pillar Cloud has not accepted yet.
    if let Some(registration) = registration {
        registration.abort();
    }
    Ok(())
}
