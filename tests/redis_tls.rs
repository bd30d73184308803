//! The Redis call store over TLS (`rediss://`) against a real `redis-server
//! --tls-port`, with a CA and a server certificate this test makes (rcgen, on ring):
//! the store trusting that CA keeps the record of calls and answers readiness; the
//! server's certificate is always verified (an unknown issuer, another CA, a name that
//! does not match: each is refused). Certificate checks are never turned off.
//!
//! Each test starts its own `redis-server` on a free loopback port. Without
//! `redis-server` on the PATH, or with one built without TLS, each test prints a
//! `SKIPPED` line saying which and passes, except under CI (`CI` set), where that is a
//! failure: `.ci/run` installs Debian's `redis-server`, which has TLS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pillar::http::StatusCode;
use pillar::idempotency::RedisStore;
use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar_integration_tests::counting_tool;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use serde_json::json;

/// A CA of this test's own, and a server certificate it issued.
struct Certificates {
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
}

/// A fresh CA, and a certificate for `localhost` (DNS name only: `127.0.0.1` does not
/// match it) signed by it.
fn certificates() -> Certificates {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "pillar redis_tls test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();

    let mut server = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server_key = KeyPair::generate().unwrap();
    let server_cert = server.signed_by(&server_key, &ca).unwrap();
    Certificates {
        ca_pem: ca.pem(),
        server_cert_pem: server_cert.pem(),
        server_key_pem: server_key.serialize_pem(),
    }
}

/// A `redis-server` of this test listening only with TLS, killed (and its directory
/// removed) when dropped.
struct Server {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

/// How starting `redis-server` on one port went.
enum Spawned {
    Ready(Child),
    /// Exited: the port was taken meanwhile.
    PortTaken,
}

impl Server {
    /// Starts a TLS-only server with `certs`; `None` (after saying why, loudly) when
    /// there is no `redis-server`, or it has no TLS support.
    fn start(certs: &Certificates, test: &str) -> Option<Server> {
        let dir = std::env::temp_dir().join(format!(
            "pillar-redis-tls-{}-{test}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), &certs.ca_pem).unwrap();
        std::fs::write(dir.join("server.pem"), &certs.server_cert_pem).unwrap();
        std::fs::write(dir.join("server.key"), &certs.server_key_pem).unwrap();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            match spawn(&dir, port) {
                Ok(Spawned::Ready(child)) => {
                    return Some(Server {
                        child: Some(child),
                        port,
                        dir,
                    })
                }
                Ok(Spawned::PortTaken) => continue,
                Err(why) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "{why} under CI: .ci/run installs Debian's redis-server, which has TLS"
                    );
                    println!("SKIPPED: {why}; the rediss:// tests did not run");
                    eprintln!("SKIPPED: {why}; the rediss:// tests did not run");
                    return None;
                }
            }
        }
        panic!("redis-server did not start on any of 5 ports");
    }

    /// `rediss://<host>:<port>/`.
    fn url(&self, host: &str) -> String {
        format!("rediss://{host}:{}/", self.port)
    }

    /// Kills the server, as an outage would.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `redis-server` with TLS only on `port`, its certificate and key in `dir`;
/// `Err` with the reason when there is no `redis-server` or it cannot do TLS.
fn spawn(dir: &std::path::Path, port: u16) -> Result<Spawned, String> {
    let log = dir.join(format!("redis-{port}.log"));
    let spawned = Command::new("redis-server")
        .args(["--port", "0", "--tls-port", &port.to_string()])
        .arg("--tls-cert-file")
        .arg(dir.join("server.pem"))
        .arg("--tls-key-file")
        .arg(dir.join("server.key"))
        .arg("--tls-ca-cert-file")
        .arg(dir.join("ca.pem"))
        // The test checks the server's certificate; clients present none.
        .args(["--tls-auth-clients", "no"])
        .args([
            "--bind",
            "127.0.0.1 -::1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("no redis-server on PATH".to_owned())
        }
        Err(e) => panic!("cannot start redis-server: {e}"),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(Spawned::Ready(child));
        }
        if child.try_wait().unwrap().is_some() {
            let mut said = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut stderr, &mut said);
            }
            if said.contains("Address already in use") {
                return Ok(Spawned::PortTaken);
            }
            if said.to_ascii_lowercase().contains("tls") {
                return Err(format!(
                    "this redis-server has no TLS support (`redis-server --tls-port` said: {})",
                    said.trim()
                ));
            }
            panic!("redis-server --tls-port {port} exited: {said}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    panic!("redis-server --tls-port {port} did not listen within 10 s");
}

#[tokio::test]
async fn a_rediss_store_trusting_the_test_ca_keeps_the_record_and_answers_readiness() {
    let certs = certificates();
    let Some(mut server) = Server::start(&certs, "record") else {
        return;
    };
    let url = server.url("localhost");
    let store = RedisStore::open_with_root_ca(&url, certs.ca_pem.as_bytes())
        .unwrap()
        .key_prefix("pillar-test:tls:");
    store.ping().await.unwrap();

    let runs = Arc::new(AtomicUsize::new(0));
    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(counting_tool(&runs, 0))
        .call_store(store)
        .auto_register(false)
        .build()
        .unwrap();
    let body = testing::tool_call_body("refund", "tc_tls_1", json!({"order": "o_1"}));
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (status, answer) = pillar
            .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
            .await
            .into_parts();
        assert_eq!(status, StatusCode::OK, "{}", answer.to_value());
        answers.push(answer.to_value());
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the repeat ran the tool");
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0]["result"], json!({"refunded": "o_1", "run": 1}));

    let readiness = pillar.readiness(None).await;
    assert!(readiness.is_ready(), "{:?}", readiness.to_json());
    assert_eq!(readiness.store(), "ok");

    // Redis goes away: not ready, saying where.
    server.stop();
    let readiness = pillar.readiness(None).await;
    assert!(!readiness.is_ready());
    assert_eq!(readiness.status(), 503);
    assert!(
        readiness
            .store()
            .starts_with(&format!("the call store is unavailable: Redis at {url}")),
        "{}",
        readiness.store()
    );
}

#[tokio::test]
async fn the_server_certificate_is_always_verified() {
    let certs = certificates();
    let Some(server) = Server::start(&certs, "verify") else {
        return;
    };
    let refused = |store: RedisStore, why: &'static str| async move {
        let err = store
            .timeout(Duration::from_secs(5))
            .ping()
            .await
            .expect_err(why)
            .to_string();
        assert!(err.contains("certificate"), "{why}: {err}");
        println!("{why}: {err}");
        err
    };

    // The public web roots do not know the test CA.
    let err = refused(
        RedisStore::open(&server.url("localhost")).unwrap(),
        "a certificate of an unknown CA is refused",
    )
    .await;
    assert!(err.contains("UnknownIssuer"), "{err}");

    // Another CA is not the one that issued the certificate.
    let other = certificates();
    let err = refused(
        RedisStore::open_with_root_ca(&server.url("localhost"), other.ca_pem.as_bytes()).unwrap(),
        "a certificate of another CA is refused",
    )
    .await;
    assert!(
        err.contains("UnknownIssuer") || err.contains("BadSignature"),
        "{err}"
    );

    // The right CA, but the certificate names `localhost`, not `127.0.0.1`.
    let err = refused(
        RedisStore::open_with_root_ca(&server.url("127.0.0.1"), certs.ca_pem.as_bytes()).unwrap(),
        "a certificate for another name is refused",
    )
    .await;
    assert!(err.contains("not valid for name"), "{err}");

    // And the right CA with the right name is accepted: the refusals above were the
    // certificate's, not an unreachable server's.
    RedisStore::open_with_root_ca(&server.url("localhost"), certs.ca_pem.as_bytes())
        .unwrap()
        .ping()
        .await
        .unwrap();
}
