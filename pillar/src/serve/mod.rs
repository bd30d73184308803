//! The HTTP server: [`serve`], [`Pillar::serve`] and [`Pillar::serve_on`].

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use crate::adapters::axum::readyz;
use crate::call::Pillar;
use crate::cloud::RegistrationHandle;
use crate::error::Error;

mod listen;
mod process;

/// How long after the shutdown grace period the process is ended even when the
/// graceful shutdown could not run.
const HARD_STOP_MARGIN: Duration = Duration::from_secs(1);

/// The path of the health check.
const HEALTHZ: &str = "/healthz";

/// The path of the readiness check.
const READYZ: &str = "/readyz";

/// How long after the slowest tool's timeout a graceful shutdown still waits for
/// connections to close (answers being written, a request body still arriving).
const SHUTDOWN_MARGIN: Duration = Duration::from_secs(2);

/// Serves every `#[pillar::tool]` of the program, configured from the environment, until
/// SIGINT (Ctrl-C) or SIGTERM: the one-liner.
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> Result<(), pillar::Error> {
///     pillar::serve().await
/// }
/// ```
///
/// The same as `Pillar::from_env()?.serve().await` (see [`Pillar::serve`] for what the
/// server answers). The environment:
///
#[doc = include_str!("../../ENVIRONMENT.md")]
///
/// For local use, any non-empty secret will do:
/// `PILLAR_SECRET=plr_local cargo run`.
///
/// # Errors
/// - [`Error::Config`] naming a missing or invalid variable (`PILLAR_SECRET` unset, ...);
/// - an invalid tool definition ([`Error::InvalidTool`], [`Error::DuplicateTool`], ...);
/// - [`Error::Serve`] when the address cannot be bound (already in use, ...).
pub async fn serve() -> Result<(), Error> {
    Pillar::from_env()?.serve().await
}

impl Pillar {
    /// Listens on [`Settings::addr`](crate::Settings::addr) and serves until SIGINT
    /// (Ctrl-C) or SIGTERM, then shuts down gracefully: see [`serve_on`](Self::serve_on).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), pillar::Error> {
    /// pillar::Pillar::builder()
    ///     .secret("plr_...")
    ///     .endpoint_url("https://api.myapp.com/pillar")
    ///     .addr(([0, 0, 0, 0], 8080).into())
    ///     .build()?
    ///     .serve()
    ///     .await
    /// # }
    /// ```
    ///
    /// When the program has set no `tracing` subscriber, one is installed that prints to
    /// standard output, filtered by `RUST_LOG` (default `info`): see
    /// [`PillarBuilder::default_logging`](crate::PillarBuilder::default_logging) to turn
    /// that off.
    ///
    /// For the whole process, `serve` also:
    /// - replaces Rust's default panic hook (which prints a panic's message as it is, and
    ///   a tool's panic may quote a secret) with one that logs through `tracing` with the
    ///   secrets redacted; a hook the program installed before is kept;
    /// - raises the soft open-files limit to the hard one (Unix), and lowers
    ///   [`ServerLimits::max_connections`](crate::ServerLimits::max_connections) to fit it;
    /// - on SIGINT or SIGTERM, ends the process 1 s after the shutdown grace period if the
    ///   graceful shutdown could not finish (every worker thread blocked by a tool): the
    ///   deadline runs on a plain thread of its own.
    ///
    /// # Errors
    /// [`Error::Serve`] when the address cannot be bound or the signal handlers cannot be
    /// installed; [`Error::Config`] for an unusable [`path`](crate::Settings::path).
    pub async fn serve(self) -> Result<(), Error> {
        if self.settings().default_logging {
            install_default_subscriber();
        }
        process::install_panic_hook(&self);
        // Signal handlers are installed before binding, so a signal that arrives once the
        // server answers is never missed.
        let shutdown = shutdown_signal()?;
        // If the graceful shutdown cannot run (every worker blocked by a tool), the
        // process still ends shortly after its grace period.
        let _hard_stop =
            process::HardStop::arm(self.shutdown_grace().saturating_add(HARD_STOP_MARGIN));
        let settings = self.settings();
        let addr = settings.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Serve {
                context: bind_context(addr, settings.addr_from, &source),
                source,
            })?;
        self.serve_on(listener, shutdown).await
    }

    /// Serves on `listener` until `shutdown` completes, then stops accepting connections,
    /// lets the calls in flight finish (each is bounded by its tool's timeout) and returns.
    /// Connections still open 2 s after the longest tool timeout are abandoned, so a client
    /// that trickles a request body cannot hold the shutdown. For tests (bind
    /// `127.0.0.1:0`) and custom set-ups (your own listener or signal).
    ///
    /// The server speaks HTTP/1.1 (with keep-alive) and HTTP/2 (when the client does),
    /// with the timeouts and connection cap of [`ServerLimits`](crate::ServerLimits)
    /// (headers within 10 s, idle connections closed after 60 s, at most 4096 open), and
    /// answers:
    ///
    /// | request | answer |
    /// |---|---|
    /// | `POST /` and `POST` [`Settings::path`](crate::Settings::path) (default `/pillar`) | the webhook: what [`Pillar::handle`] answers, as JSON |
    /// | a body over [`Settings::body_limit`](crate::Settings::body_limit) (default 1 MiB) | 413 `{"success": false, "error": "Request body is larger than N bytes"}`, before buffering it |
    /// | a body not all arrived within [`ServerLimits::body_timeout`](crate::ServerLimits::body_timeout) (10 s) | 408 `{"success": false, "error": "The request body did not arrive within N ms"}` |
    /// | more verified calls running than [`Settings::max_in_flight`](crate::Settings::max_in_flight) | 503 with `Retry-After: 1` |
    /// | `GET /healthz` | 200 `{"status": "ok"}`: the process answers (liveness) |
    /// | `GET /readyz` | 200 `{"status": "ready", "registration": ..., "store": ...}` or 503 `{"status": "not_ready", ...}` naming what is not ready: see [`Pillar::readiness`] |
    ///
    /// When [`Settings::auto_register`](crate::Settings::auto_register) is on, the tools
    /// are registered with Pillar Cloud in the background, with retries, while calls are
    /// answered ([`Pillar::spawn_registration`]). Without an
    /// [`endpoint_url`](crate::Settings::endpoint_url) a warning says the tools will not
    /// be registered.
    ///
    /// `/readyz` is ready once that registration is done (with auto-registration off it
    /// is not required) and the record of calls answers (the memory store always does;
    /// Redis must answer `PING`). With auto-registration on and no endpoint URL it stays
    /// 503 (`"registration": "not_configured: ..."`): Pillar Cloud would never call the
    /// tools. `/healthz` is 200 whatever happens.
    ///
    /// ```
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let pillar = pillar::testing::pillar().registered_tools(false).build()?;
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let server = tokio::spawn(pillar.serve_on(listener, async move { let _ = stopped.await; }));
    /// // ... send requests ...
    /// let _ = stop.send(());
    /// server.await??;
    /// # Ok(()) }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable [`path`](crate::Settings::path); [`Error::Serve`]
    /// when the listener's address cannot be read.
    pub async fn serve_on(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let path = webhook_path(&self.settings().path)?;
        let local = listener.local_addr().map_err(|source| Error::Serve {
            context: "cannot read the listening address".to_owned(),
            source,
        })?;
        let settings = self.settings();
        tracing::info!(
            address = %local,
            path = %settings.path,
            tools = self.tool_count(),
            "pillar listening on http://{local} (webhook on / and {}, health on {HEALTHZ}, \
             readiness on {READYZ})",
            settings.path,
        );
        if let Some(warning) = settings
            .endpoint_url
            .as_deref()
            .and_then(|url| endpoint_port_mismatch(url, local))
        {
            tracing::warn!("{warning}");
        }
        if self.tool_count() == 0 {
            tracing::warn!(
                "no tools to serve: annotate async fns with #[pillar::tool] in this binary \
                 (or in a library it calls into), or add tools with PillarBuilder::tool"
            );
        }
        // Without an endpoint URL this warns and stays `NotConfigured`: /readyz says so.
        let registration = if settings.auto_register {
            Some(self.spawn_registration())
        } else {
            tracing::info!("auto-registration is off: tools are not registered at start-up");
            None
        };
        let app = self.app(path, registration.clone());
        // MCP's Streamable HTTP at /mcp (feature `mcp`, when on); its sessions and SSE
        // streams end at the shutdown signal, so they do not hold the graceful shutdown.
        #[cfg(feature = "mcp")]
        let (app, mcp) = crate::mcp::mount(&self, app)?;
        #[cfg(feature = "mcp")]
        if mcp.is_some() {
            tracing::info!("MCP (Streamable HTTP) on http://{local}/mcp");
        }

        // After the signal, calls in flight get as long as the slowest tool may run, plus
        // a margin to send the answers; a connection still open after that (a client
        // trickling a body, say) does not hold the process forever.
        let grace = self.shutdown_grace();
        let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            shutdown.await;
            #[cfg(feature = "mcp")]
            if let Some(mcp) = &mcp {
                mcp.shutdown();
            }
            tracing::info!(
                grace_ms = grace.as_millis() as u64,
                "shutting down: no new connections; finishing the calls in flight"
            );
            let _ = signalled.send(());
        };
        let server = listen::run(&self, listener, app, shutdown);
        let deadline = async move {
            match on_signal.await {
                Ok(()) => tokio::time::sleep(grace).await,
                // The server stopped by itself: nothing to bound.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            () = server => {}
            () = deadline => {
                tracing::warn!(
                    grace_ms = grace.as_millis() as u64,
                    "connections still open after the shutdown grace period; stopping anyway"
                );
            }
        }
        if let Some(registration) = registration {
            registration.abort();
        }
        tracing::info!("pillar server stopped");
        Ok(())
    }

    /// How long a graceful shutdown waits for connections: the longest tool timeout plus
    /// [`SHUTDOWN_MARGIN`].
    fn shutdown_grace(&self) -> Duration {
        self.longest_timeout().saturating_add(SHUTDOWN_MARGIN)
    }

    /// The server's router: the webhook on `/` and the configured `path`, the health
    /// check, and the readiness check on `registration`.
    fn app(&self, path: Option<String>, registration: Option<RegistrationHandle>) -> Router {
        let webhook = crate::adapters::axum::webhook(self.clone());
        let mut app = Router::new()
            .route(HEALTHZ, get(healthz))
            .route(READYZ, readyz(self.clone(), registration))
            .route("/", webhook.clone());
        if let Some(path) = path {
            app = app.route(&path, webhook);
        }
        app
    }
}

/// The webhook path to route besides `/`, if any. Refuses paths axum would read as
/// captures or wildcards, and the health check's path.
fn webhook_path(path: &str) -> Result<Option<String>, Error> {
    let path = path.trim();
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    if path == "/" {
        return Ok(None);
    }
    let invalid = |reason: &str| Error::Config {
        name: "path",
        reason: format!("`{path}` {reason}"),
    };
    if path.contains(['{', '}', '*', '?', '#'])
        || path.contains("//")
        || path.contains(char::is_whitespace)
    {
        return Err(invalid(
            "is not a plain URL path like /pillar (no `{`, `}`, `*`, `?`, `#`, `//` or spaces)",
        ));
    }
    if path.trim_end_matches('/') == HEALTHZ {
        return Err(invalid("is the health check's path"));
    }
    if path.trim_end_matches('/') == READYZ {
        return Err(invalid("is the readiness check's path"));
    }
    Ok(Some(path))
}

/// The directive `serve()`'s default subscriber adds unless `RUST_LOG` names h2: h2
/// writes a WARN line for each connection it closes for a protocol error (a rapid-reset
/// flood wrote 54,366 in 10 s); the refusal summary counts them instead
/// (`http2_protocol_error`).
const QUIET_H2: &str = "h2=error";

/// The default subscriber's filter: `RUST_LOG` (`info` when unset or invalid), with
/// [`QUIET_H2`] added unless it names the `h2` target itself.
fn default_directives(rust_log: Option<&str>) -> String {
    match rust_log.map(str::trim) {
        Some(directives) if !directives.is_empty() => {
            if names_h2(directives) {
                directives.to_owned()
            } else {
                format!("{directives},{QUIET_H2}")
            }
        }
        _ => format!("info,{QUIET_H2}"),
    }
}

/// Whether a directive of `directives` (`target[span{field}]=level`, comma-separated)
/// is about the `h2` target or one of its modules.
fn names_h2(directives: &str) -> bool {
    directives.split(',').any(|directive| {
        let target = directive
            .split(['[', '='])
            .next()
            .unwrap_or_default()
            .trim();
        target == "h2" || target.starts_with("h2::")
    })
}

/// Installs a `tracing-subscriber` fmt subscriber as the global default, honouring
/// `RUST_LOG` (`info` when unset; h2's per-connection WARN lines off unless `RUST_LOG`
/// names h2), unless a global subscriber is set already: the user's own always wins.
fn install_default_subscriber() {
    if tracing::dispatcher::has_been_set() {
        return;
    }
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, invalid) =
        match tracing_subscriber::EnvFilter::try_new(default_directives(rust_log.as_deref())) {
            Ok(filter) => (filter, None),
            Err(err) => (
                tracing_subscriber::EnvFilter::new(default_directives(None)),
                rust_log.map(|directives| (directives, err)),
            ),
        };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .try_init()
        .is_ok();
    if let (true, Some((directives, err))) = (installed, invalid) {
        tracing::warn!("RUST_LOG=`{directives}` is not a valid filter ({err}); logging at info");
    }
}

/// What a bind error says: the address, and where it was set with how to change it.
fn bind_context(addr: SocketAddr, from: Option<&str>, err: &std::io::Error) -> String {
    let taken = err.kind() == std::io::ErrorKind::AddrInUse;
    let change = match from {
        Some(name @ ("PILLAR_ADDR" | "PORT")) => format!(
            "the address comes from {name}: set {name} to a free one (e.g. \
             PILLAR_ADDR=127.0.0.1:8788)"
        ),
        Some(setting) => format!("the address comes from {setting}: give it a free one"),
        None => "the address is the default: set PILLAR_ADDR (e.g. PILLAR_ADDR=127.0.0.1:8788) \
                 or PORT, or PillarBuilder::addr in code"
            .to_owned(),
    };
    if taken {
        format!("cannot listen on {addr}: another process uses it ({change})")
    } else {
        format!("cannot listen on {addr} ({change})")
    }
}

/// A warning when a loopback endpoint URL names another port than the server's: a local
/// Pillar Cloud (`pillar dev`) would call a port nobody answers.
fn endpoint_port_mismatch(endpoint_url: &str, local: SocketAddr) -> Option<String> {
    let url = reqwest::Url::parse(endpoint_url).ok()?;
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let port = url.port_or_known_default()?;
    (loopback && port != local.port()).then(|| {
        format!(
            "PILLAR_ENDPOINT_URL ({endpoint_url}) names port {port}, but this server listens \
             on {local}: calls sent to that URL will not reach it. Start it with \
             PILLAR_ADDR=127.0.0.1:{port} (what `pillar dev` prints), or set the URL's port \
             to {}",
            local.port()
        )
    })
}

async fn healthz() -> impl axum::response::IntoResponse {
    ([(CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#)
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM. The handlers are installed now.
fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, Error> {
    let signal_error = |source: io::Error| Error::Serve {
        context: "cannot install the shutdown signal handlers".to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt()).map_err(signal_error)?;
        let mut terminate = signal(SignalKind::terminate()).map_err(signal_error)?;
        Ok(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            tracing::info!(signal = name, "shutdown signal received");
        })
    }
    #[cfg(not(unix))]
    {
        let _ = signal_error;
        Ok(async move {
            if let Err(err) = tokio::signal::ctrl_c().await {
                tracing::error!(error = %err, "cannot listen for Ctrl-C; serving until killed");
                std::future::pending::<()>().await;
            }
            tracing::info!(signal = "Ctrl-C", "shutdown signal received");
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_endpoint_on_another_port_is_named() {
        let local: SocketAddr = "127.0.0.1:18791".parse().unwrap();
        let warning = endpoint_port_mismatch("http://127.0.0.1:18792/", local).unwrap();
        assert!(warning.contains("names port 18792"), "{warning}");
        assert!(warning.contains("PILLAR_ADDR=127.0.0.1:18792"), "{warning}");
        for same in ["http://127.0.0.1:18791/", "http://localhost:18791/pillar"] {
            assert_eq!(endpoint_port_mismatch(same, local), None, "{same}");
        }
        assert!(endpoint_port_mismatch("http://[::1]:80/", local).is_some());
        assert!(endpoint_port_mismatch("http://LOCALHOST/", local).is_some());
        // A public URL reaches the server through a proxy or tunnel: any port.
        assert_eq!(
            endpoint_port_mismatch("https://tools.example.com/", local),
            None
        );
        assert_eq!(endpoint_port_mismatch("not a url", local), None);
    }

    #[tokio::test]
    async fn a_taken_address_names_where_it_was_set() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let from_env = crate::PillarBuilder::from_lookup(|name: &str| match name {
            "PILLAR_SECRET" => Some("plr_test".to_owned()),
            "PILLAR_ADDR" => Some(addr.to_string()),
            "PILLAR_AUTO_REGISTER" => Some("false".to_owned()),
            _ => None,
        })
        .unwrap()
        .build()
        .unwrap();
        let err = from_env.serve().await.unwrap_err().to_string();
        assert!(
            err.contains(&format!("cannot listen on {addr}: another process uses it")),
            "{err}"
        );
        assert!(
            err.contains("comes from PILLAR_ADDR: set PILLAR_ADDR"),
            "{err}"
        );
        let in_code = crate::testing::pillar().addr(addr).build().unwrap();
        let err = in_code.serve().await.unwrap_err().to_string();
        assert!(
            err.contains("comes from PillarBuilder::addr in your code"),
            "{err}"
        );
    }

    #[test]
    fn webhook_paths() {
        assert_eq!(webhook_path("/pillar").unwrap().as_deref(), Some("/pillar"));
        assert_eq!(webhook_path("pillar").unwrap().as_deref(), Some("/pillar"));
        assert_eq!(webhook_path("/").unwrap(), None);
        assert_eq!(webhook_path("").unwrap(), None);
        assert_eq!(
            webhook_path("/hooks/pillar").unwrap().as_deref(),
            Some("/hooks/pillar")
        );
        for bad in [
            "/{id}",
            "/*rest",
            "/a b",
            "/healthz",
            "/healthz/",
            "/readyz",
            "//x",
            "/a?b",
        ] {
            let err = webhook_path(bad).unwrap_err().to_string();
            assert!(err.contains("path"), "{bad}: {err}");
        }
    }

    /// h2's WARN lines are off by default, unless `RUST_LOG` names h2.
    #[test]
    fn the_default_filter_quiets_h2_unless_told_otherwise() {
        assert_eq!(default_directives(None), "info,h2=error");
        assert_eq!(default_directives(Some("  ")), "info,h2=error");
        assert_eq!(default_directives(Some("debug")), "debug,h2=error");
        assert_eq!(
            default_directives(Some("info,pillar=debug,h2x=trace")),
            "info,pillar=debug,h2x=trace,h2=error"
        );
        for named in [
            "h2=warn",
            "info,h2=debug",
            "h2",
            "info,h2::proto=trace",
            "h2[conn]=debug",
        ] {
            assert_eq!(default_directives(Some(named)), named);
        }
        for directives in [default_directives(None), default_directives(Some("debug"))] {
            assert!(tracing_subscriber::EnvFilter::try_new(&directives).is_ok());
        }
    }
}
