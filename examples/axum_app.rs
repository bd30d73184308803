//! Pillar inside an existing axum app: the app keeps its own routes and shared state,
//! the webhook is nested at `/pillar`, and the tools use the app's state.
//!
//! ```text
//! PILLAR_SECRET=plr_local cargo run --example axum_app
//! curl -X POST localhost:8787/signup -d 'ada@example.com'
//! curl localhost:8787/
//! curl -X POST localhost:8787/pillar -d '{"action":"ping"}'
//! ```
//!
//! Tools that need the app's state are built with [`pillar::Tool::builder`], whose
//! handler is a closure: it captures an `Arc` of the state, like any axum handler would
//! hold it. (`#[pillar::tool]` functions can reach state through a `static` instead.)

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use pillar::{PillarBuilder, Tool};
use serde_json::{json, Value};

/// The app's shared state, as it was before Pillar came along.
#[derive(Debug, Default)]
struct AppState {
    signups: Mutex<Vec<String>>,
}

impl AppState {
    fn signups(&self) -> Vec<String> {
        self.signups.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

async fn home(State(state): State<Arc<AppState>>) -> String {
    format!("{} people signed up\n", state.signups().len())
}

async fn signup(State(state): State<Arc<AppState>>, email: String) -> &'static str {
    if let Ok(mut signups) = state.signups.lock() {
        signups.push(email.trim().to_owned());
    }
    "welcome\n"
}

/// A tool over the app's state: the closure captures the `Arc`.
fn signup_stats(state: Arc<AppState>) -> Result<Tool, pillar::Error> {
    Tool::builder("signup_stats")
        .description("How many people signed up, and the most recent sign-ups")
        .input_schema(json!({
            "type": "object",
            "properties": {
                "recent": {"type": "integer", "minimum": 0, "description": "How many recent sign-ups to list (default 5)"}
            }
        }))
        .handler(move |args: Value, _ctx| {
            let state = Arc::clone(&state);
            async move {
                let recent = args["recent"].as_u64().unwrap_or(5) as usize;
                let signups = state.signups();
                let latest: Vec<_> = signups.iter().rev().take(recent).collect();
                Ok::<_, Infallible>(json!({ "total": signups.len(), "recent": latest }))
            }
        })
        .build()
}

/// Another one, with a required argument.
fn is_signed_up(state: Arc<AppState>) -> Result<Tool, pillar::Error> {
    Tool::builder("is_signed_up")
        .description("Whether an email address has signed up")
        .input_schema(json!({
            "type": "object",
            "properties": {"email": {"type": "string", "description": "The email address"}},
            "required": ["email"]
        }))
        .handler(move |args: Value, _ctx| {
            let state = Arc::clone(&state);
            async move {
                let email = args["email"]
                    .as_str()
                    .ok_or("arguments.email: expected a string")?;
                let found = state
                    .signups()
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(email));
                Ok::<_, &str>(json!({ "email": email, "signed_up": found }))
            }
        })
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let state = Arc::new(AppState::default());

    // PILLAR_SECRET and friends from the environment, plus the stateful tools.
    let pillar = PillarBuilder::from_env()?
        .tool(signup_stats(Arc::clone(&state))?)
        .tool(is_signed_up(Arc::clone(&state))?)
        .build()?;

    // `pillar::serve()` registers the tools by itself; an app that mounts the router
    // registers them at start-up (in the background, so the app serves meanwhile).
    if pillar.settings().endpoint_url.is_some() {
        let pillar = pillar.clone();
        tokio::spawn(async move {
            match pillar.register().await {
                Ok(done) => println!("registered with Pillar Cloud: {:?}", done.registered),
                Err(err) => eprintln!("could not register with Pillar Cloud: {err}"),
            }
        });
    } else {
        eprintln!("PILLAR_ENDPOINT_URL is not set: the tools are not registered with Pillar Cloud");
    }

    let app = Router::new()
        .route("/", get(home))
        .route("/signup", post(signup))
        .nest("/pillar", pillar.router())
        .with_state(state);

    let addr = pillar.settings().addr;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{addr} (Pillar webhook on /pillar)");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
