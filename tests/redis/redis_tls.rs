//! The Redis call store over TLS (`rediss://`) against a real `redis-server
//! --tls-port`, with a CA and a server certificate this test makes (rcgen, on ring):
//! the store trusting that CA keeps the record of calls and answers readiness; the
//! server's certificate is always verified (an unknown issuer, another CA, a name that
//! does not match: each is refused). Certificate checks are never turned off.
//!
//! Each test starts its own `redis-server` (the harness's `RedisServer`, TLS only).
//! Without `redis-server` on the PATH, or with one built without TLS, each test prints a
//! `SKIPPED` line saying which and passes, except under CI (`CI` set), where that is a
//! failure: `.ci/run` installs Debian's `redis-server`, which has TLS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pillar::http::StatusCode;
use pillar::idempotency::RedisStore;
use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar_integration_tests::{counted_at_finish, RedisOptions, RedisServer};
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

/// A TLS-only `redis-server` with `certs`; `None` (after saying why, loudly) when there
/// is no `redis-server`, or it has no TLS support.
fn tls_server(certs: &Certificates) -> Option<RedisServer> {
    RedisServer::start_with(RedisOptions::default().tls(
        &certs.ca_pem,
        &certs.server_cert_pem,
        &certs.server_key_pem,
    ))
}

#[tokio::test]
async fn a_rediss_store_trusting_the_test_ca_keeps_the_record_and_answers_readiness() {
    let certs = certificates();
    let Some(mut server) = tls_server(&certs) else {
        return;
    };
    let url = server.url_at("localhost");
    let store = RedisStore::open_with_root_ca(&url, certs.ca_pem.as_bytes())
        .unwrap()
        .key_prefix("pillar-test:tls:");
    store.ping().await.unwrap();

    let runs = Arc::new(AtomicUsize::new(0));
    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(counted_at_finish(&runs, 0))
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
    server.kill();
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
    let Some(server) = tls_server(&certs) else {
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
        RedisStore::open(&server.url_at("localhost")).unwrap(),
        "a certificate of an unknown CA is refused",
    )
    .await;
    assert!(err.contains("UnknownIssuer"), "{err}");

    // Another CA is not the one that issued the certificate.
    let other = certificates();
    let err = refused(
        RedisStore::open_with_root_ca(&server.url_at("localhost"), other.ca_pem.as_bytes())
            .unwrap(),
        "a certificate of another CA is refused",
    )
    .await;
    assert!(
        err.contains("UnknownIssuer") || err.contains("BadSignature"),
        "{err}"
    );

    // The right CA, but the certificate names `localhost`, not `127.0.0.1`.
    let err = refused(
        RedisStore::open_with_root_ca(&server.url_at("127.0.0.1"), certs.ca_pem.as_bytes())
            .unwrap(),
        "a certificate for another name is refused",
    )
    .await;
    assert!(err.contains("not valid for name"), "{err}");

    // And the right CA with the right name is accepted: the refusals above were the
    // certificate's, not an unreachable server's.
    RedisStore::open_with_root_ca(&server.url_at("localhost"), certs.ca_pem.as_bytes())
        .unwrap()
        .ping()
        .await
        .unwrap();
}
