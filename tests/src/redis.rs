//! A `redis-server` of one test's own: started on a free loopback port, with or without
//! persistence, plain or TLS-only; killed (and its directory removed) when dropped.
//!
//! Without `redis-server` on the PATH (or, for TLS, with one built without TLS), starting
//! one prints a `SKIPPED` line saying why and gives `None`, and the test passes; except
//! under CI (`CI` set), where that is a failure: `.ci/run` installs Debian's
//! `redis-server`, which has TLS.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How the server keeps its data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Persistence {
    /// `--save "" --appendonly no`: nothing survives a restart.
    #[default]
    None,
    /// `--appendonly yes --appendfsync always`: every write is on disk before the reply.
    AofAlways,
}

/// What to start: the persistence, and TLS (the server then listens with TLS only).
#[derive(Debug, Clone, Default)]
pub struct RedisOptions {
    persistence: Persistence,
    tls: Option<Tls>,
}

/// The PEM texts of a TLS-only server.
#[derive(Debug, Clone)]
struct Tls {
    ca: String,
    cert: String,
    key: String,
}

impl RedisOptions {
    /// How the server keeps its data (default [`Persistence::None`]).
    #[must_use]
    pub fn persistence(mut self, persistence: Persistence) -> Self {
        self.persistence = persistence;
        self
    }

    /// Listen with TLS only (`--port 0 --tls-port <port>`) with this server certificate
    /// and key, issued by `ca_pem`; clients present no certificate. Readiness is then a
    /// TCP connection (no `PING` in the clear), and the server also binds `::1` when it
    /// can, so that `localhost` reaches it whichever address it resolves to first.
    #[must_use]
    pub fn tls(mut self, ca_pem: &str, cert_pem: &str, key_pem: &str) -> Self {
        self.tls = Some(Tls {
            ca: ca_pem.to_owned(),
            cert: cert_pem.to_owned(),
            key: key_pem.to_owned(),
        });
        self
    }
}

/// A `redis-server` of this test's own, on a loopback port and a data directory of its
/// own; killed (no shutdown, no save) and its directory removed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    options: RedisOptions,
}

/// How starting `redis-server` on one port went.
enum Spawned {
    Ready(Child),
    /// It exited: the port was taken meanwhile.
    PortTaken,
    /// It cannot run here: no `redis-server`, or one without TLS. Why, in words.
    Unavailable(String),
}

/// Distinguishes the directories of servers started in one nanosecond.
static STARTED: AtomicUsize = AtomicUsize::new(0);

impl RedisServer {
    /// A server without persistence; `None` (after saying why) when there is no
    /// `redis-server`.
    ///
    /// # Panics
    /// Under CI when there is no `redis-server`; when it does not start.
    #[must_use]
    pub fn start() -> Option<Self> {
        Self::start_with(RedisOptions::default())
    }

    /// A server as `options` say; `None` (after saying why) when there is no
    /// `redis-server`, or TLS is asked of one built without it.
    ///
    /// # Panics
    /// Under CI when it cannot run here; when it does not start on any of 5 free ports,
    /// or its directory cannot be made.
    #[must_use]
    #[allow(clippy::unwrap_used, clippy::panic)]
    pub fn start_with(options: RedisOptions) -> Option<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "pillar-redis-{}-{nanos}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(tls) = &options.tls {
            std::fs::write(dir.join("ca.pem"), &tls.ca).unwrap();
            std::fs::write(dir.join("server.pem"), &tls.cert).unwrap();
            std::fs::write(dir.join("server.key"), &tls.key).unwrap();
        }
        let mut server = Self {
            child: None,
            port: 0,
            dir,
            options,
        };
        for _ in 0..5 {
            server.port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            match server.spawn() {
                Spawned::Ready(child) => {
                    server.child = Some(child);
                    return Some(server);
                }
                Spawned::PortTaken => {}
                Spawned::Unavailable(why) => {
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "{why} under CI: .ci/run installs Debian's redis-server, which has TLS"
                    );
                    let what = if server.options.tls.is_some() {
                        "; the rediss:// tests did not run"
                    } else {
                        ""
                    };
                    println!("SKIPPED: {why}{what}");
                    eprintln!("SKIPPED: {why}{what}");
                    return None;
                }
            }
        }
        panic!("redis-server did not start on any of 5 ports");
    }

    /// Starts the process on `self.port` and waits until it answers.
    #[allow(clippy::unwrap_used, clippy::panic)]
    fn spawn(&self) -> Spawned {
        let port = self.port.to_string();
        let mut command = Command::new("redis-server");
        match &self.options.tls {
            None => command.args(["--port", &port, "--bind", "127.0.0.1"]),
            Some(_) => command
                .args(["--port", "0", "--tls-port", &port])
                .arg("--tls-cert-file")
                .arg(self.dir.join("server.pem"))
                .arg("--tls-key-file")
                .arg(self.dir.join("server.key"))
                .arg("--tls-ca-cert-file")
                .arg(self.dir.join("ca.pem"))
                // The tests check the server's certificate; clients present none.
                .args(["--tls-auth-clients", "no", "--bind", "127.0.0.1 -::1"]),
        };
        command.args(["--save", ""]);
        match self.options.persistence {
            Persistence::None => command.args(["--appendonly", "no"]),
            Persistence::AofAlways => {
                command.args(["--appendonly", "yes", "--appendfsync", "always"])
            }
        };
        let log = self.dir.join(format!("redis-{port}.log"));
        let spawned = command
            .args(["--loglevel", "warning"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // What it says before it opens its log file (an unknown option, say).
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Spawned::Unavailable("no redis-server on PATH".to_owned())
            }
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        // Generous: loading an append-only file on a busy machine.
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.answers() {
                return Spawned::Ready(child);
            }
            if child.try_wait().unwrap().is_some() {
                let mut said = std::fs::read_to_string(&log).unwrap_or_default();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = stderr.read_to_string(&mut said);
                }
                if said.contains("Address already in use") {
                    return Spawned::PortTaken;
                }
                if self.options.tls.is_some() && said.to_ascii_lowercase().contains("tls") {
                    return Spawned::Unavailable(format!(
                        "this redis-server has no TLS support (`redis-server --tls-port` said: {})",
                        said.trim()
                    ));
                }
                panic!("redis-server on port {port} exited: {said}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server on port {port} did not answer within 20 s");
    }

    /// Whether the server answers: `PING` for a plain one, a TCP connection for a
    /// TLS-only one.
    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        if self.options.tls.is_some() {
            return true;
        }
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/` (`rediss://` for a TLS-only server).
    #[must_use]
    pub fn url(&self) -> String {
        self.url_at("127.0.0.1")
    }

    /// `redis://<host>:<port>/` (`rediss://` for a TLS-only server).
    #[must_use]
    pub fn url_at(&self, host: &str) -> String {
        let scheme = if self.options.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://{host}:{}/", self.port)
    }

    /// SIGKILL (no shutdown, no save), as a crash, an OOM kill or an outage would. Does
    /// nothing when it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills it (when running), then starts the same command again: same port, same
    /// data directory, same options. Without persistence it comes back empty.
    ///
    /// # Panics
    /// When it does not start again.
    #[allow(clippy::panic)]
    pub fn restart(&mut self) {
        self.kill();
        match self.spawn() {
            Spawned::Ready(child) => self.child = Some(child),
            _ => panic!("redis-server did not restart on port {}", self.port),
        }
    }

    /// Pauses it (SIGSTOP), as a Redis that stops answering for a while does:
    /// connections stay open, commands wait in their buffers.
    ///
    /// # Panics
    /// When it is not running, or `kill` fails.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Resumes a paused server (SIGCONT): it runs the commands that waited, in order.
    ///
    /// # Panics
    /// When it is not running, or `kill` fails.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    #[allow(clippy::expect_used)]
    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("the server runs").id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill can be run");
        assert!(status.success(), "kill {signal} {pid} failed");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
