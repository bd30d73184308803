//! `pillar dev`: a local stand-in for Pillar Cloud, with a console in the browser.
//!
//! One process on `127.0.0.1` answers the registration endpoint a server calls at start-up
//! ([`registry`]) and serves the console ([`console`]): a page that lists the registered
//! tools, builds their arguments from their schemas and sends signed calls to the
//! server, as Pillar Cloud does. The signing happens here; the page never sees the
//! secret, and the console's API answers only a request that carries the run's token
//! and comes from the console's own origin ([`guard`]). Every registered server gets a
//! signed `ping` every few seconds, so the console shows which ones still answer.

mod console;
mod guard;
mod history;
mod registry;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use clap::Args;
use tokio::net::TcpListener;

use crate::exit::{Exit, Failure};

/// `pillar dev`'s options.
#[derive(Debug, Args)]
pub(crate) struct DevArgs {
    /// The port to listen on, on 127.0.0.1 only (0 picks a free one)
    #[arg(long, default_value_t = 8900)]
    port: u16,
    /// The port your server will listen on, on 127.0.0.1: printed as
    /// PILLAR_ENDPOINT_URL=http://127.0.0.1:PORT/ and PILLAR_ADDR=127.0.0.1:PORT
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = 8787,
        conflicts_with = "endpoint_url"
    )]
    server_port: u16,
    /// The webhook URL your server answers on, when it is not http://127.0.0.1:PORT/ (a
    /// tunnel, another host): printed as PILLAR_ENDPOINT_URL
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// The secret to sign calls with and to expect on registrations (default: a new
    /// random one for each run, printed as PILLAR_SECRET)
    #[arg(long, value_name = "SECRET")]
    secret: Option<String>,
}

/// What every handler shares.
struct Dev {
    /// The secret: the registration's bearer and the calls' signing key.
    secret: String,
    /// What the console's API requires in `X-Pillar-Console-Token`.
    token: String,
    /// The host names (with the port) the console answers to.
    hosts: guard::Hosts,
    /// The latest registration of every server.
    registry: registry::Registry,
    /// The console's calls, newest last.
    history: history::History,
    /// The URL printed as `PILLAR_ENDPOINT_URL`, the console's default.
    default_endpoint_url: String,
}

/// Runs `pillar dev` until Ctrl-C.
pub(crate) async fn run(args: DevArgs) -> Result<Exit, Failure> {
    let secret = match args.secret {
        Some(secret) if secret.trim().is_empty() => {
            return Err(Failure::usage("--secret must not be empty"));
        }
        Some(secret) => secret,
        None => format!("plr_dev_{}", random_hex(16)?),
    };
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port)))
        .await
        .map_err(|err| {
            Failure::usage(format!(
                "cannot listen on 127.0.0.1:{}: {err} (another `pillar dev`? try --port 0)",
                args.port
            ))
        })?;
    let addr = listener
        .local_addr()
        .map_err(|err| Failure::usage(format!("cannot read the listening address: {err}")))?;
    let dev = Arc::new(Dev {
        secret,
        token: random_hex(32)?,
        hosts: guard::Hosts::loopback(addr.port()),
        registry: registry::Registry::default(),
        history: history::History::default(),
        default_endpoint_url: args
            .endpoint_url
            .unwrap_or_else(|| format!("http://127.0.0.1:{}/", args.server_port)),
    });
    println!("{}", banner(&dev, addr));
    let watcher = tokio::spawn(registry::watch(Arc::clone(&dev)));
    let app = router(Arc::clone(&dev));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|err| Failure::new(Exit::Transport, format!("the server stopped: {err}")))?;
    watcher.abort();
    println!("pillar dev: stopped");
    Ok(Exit::Success)
}

/// What `pillar dev` prints at start: the console's URL and the server's variables,
/// the whole environment the server needs (its address too, on the endpoint URL's port,
/// when that URL is on this machine). The browser tests and `.ci/readme_install.sh` read
/// these lines: keep their shape.
fn banner(dev: &Dev, addr: SocketAddr) -> String {
    let base = format!("http://{addr}");
    let listen = match local_port(&dev.default_endpoint_url) {
        Some(port) => format!("export PILLAR_ADDR=127.0.0.1:{port}\n  "),
        None => String::new(),
    };
    format!(
        "pillar dev: a local Pillar Cloud on {base} (Ctrl-C stops it)\n\n\
         Console: {base}/#token={token}\n\n\
         Start your server with:\n  \
         export PILLAR_API_URL={base}\n  \
         export PILLAR_ENDPOINT_URL={endpoint}\n  \
         {listen}export PILLAR_SECRET={secret}\n\n\
         Waiting for a registration...",
        token = dev.token,
        endpoint = dev.default_endpoint_url,
        secret = dev.secret,
    )
}

/// The port of an endpoint URL on this machine (`127.0.0.1`, `localhost`, `[::1]`); `None`
/// for another host, whose server listens wherever its tunnel or proxy says.
fn local_port(endpoint_url: &str) -> Option<u16> {
    let uri = endpoint_url.parse::<axum::http::Uri>().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    let local = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let port = match (uri.port_u16(), uri.scheme_str()) {
        (Some(port), _) => port,
        (None, Some("https")) => 443,
        (None, _) => 80,
    };
    local.then_some(port)
}

/// The routes: Pillar Cloud's two endpoints, the console's page and its API.
fn router(dev: Arc<Dev>) -> Router {
    let api = Router::new()
        .route("/state", get(console::state))
        .route("/history", get(console::history))
        .route("/call", post(console::call))
        .route("/confirm", post(console::confirm))
        .route("/resend", post(console::resend))
        .route("/remove", post(registry::remove))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&dev),
            guard::api,
        ));
    let page = Router::new()
        .route("/", get(console::page))
        .route("/console/{file}", get(console::script))
        .route("/console.css", get(console::style))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&dev),
            guard::page,
        ));
    Router::new()
        .route("/api/tools/register/", post(registry::register))
        .route(
            "/api/public/identity/link-confirm/",
            post(registry::link_confirm),
        )
        .nest("/console/api", api)
        .merge(page)
        .fallback(console::not_found)
        .layer(axum::middleware::from_fn(guard::buffered))
        .layer(axum::extract::DefaultBodyLimit::max(guard::MAX_BODY))
        .with_state(dev)
}

/// `bytes` random bytes from the operating system, as lowercase hex.
fn random_hex(bytes: usize) -> Result<String, Failure> {
    let mut buf = vec![0_u8; bytes];
    getrandom::fill(&mut buf).map_err(|err| {
        Failure::new(
            Exit::Usage,
            format!("the operating system gave no random bytes: {err}"),
        )
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::{local_port, random_hex};

    #[test]
    fn the_server_address_follows_a_local_endpoint_url() {
        assert_eq!(local_port("http://127.0.0.1:8787/"), Some(8787));
        assert_eq!(local_port("http://localhost:18792/pillar"), Some(18792));
        assert_eq!(local_port("http://[::1]/"), Some(80));
        assert_eq!(local_port("https://abc.ngrok.app/"), None);
    }

    #[test]
    fn random_hex_has_two_digits_per_byte_and_differs_between_calls() {
        let (a, b) = (random_hex(32).unwrap(), random_hex(32).unwrap());
        assert_eq!(a.len(), 64);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }
}
