//! Metrics for Prometheus on `/metrics`, beside the webhook: the SDK's metrics go through
//! the `metrics` facade (see `pillar::observe` for the list), and
//! `metrics-exporter-prometheus` renders them. Any exporter of that facade works the same
//! way (OpenTelemetry, StatsD). The webhook is mounted in an axum app, as in
//! `axum_app.rs`, so this example does not register its tool with Pillar Cloud.
//!
//! ```text
//! PILLAR_SECRET=plr_local cargo run --example metrics
//! # in another terminal: a signed call, then the metrics
//! pillar call greet --args '{"name": "Ada"}' --secret plr_local
//! curl localhost:8787/metrics
//! ```

use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::net::TcpListener;

/// Greet someone by name.
#[pillar::tool]
async fn greet(
    /// Who to greet
    name: String,
) -> String {
    format!("Hello, {name}!")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The recorder first: the `Pillar` describes its metrics (units, help texts) to the
    // recorder installed when it is built.
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let pillar = pillar::Pillar::from_env()?;
    let addr = pillar.settings().addr;
    let app = Router::new()
        .route(
            "/metrics",
            get(move || std::future::ready(prometheus.render())),
        )
        .merge(pillar.router());
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    println!("pillar listening on http://{local}/ (metrics on http://{local}/metrics)");
    axum::serve(listener, app).await?;
    Ok(())
}
