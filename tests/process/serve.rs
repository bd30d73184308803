//! `Pillar::serve` in this process: it binds `settings().addr`, answers, and stops
//! gracefully on SIGTERM. Here, not in the `serving` binary, because `serve()` sets up
//! the whole process: a global subscriber, the redacting panic hook (which would take
//! over the panic messages of every other test in the binary) and signal handlers, and
//! the test sends SIGTERM to its own process.

use std::time::{Duration, Instant};

use pillar_integration_tests::{echo_builder, http_client, signed_echo_call};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

/// `Pillar::serve` binds `settings().addr` and stops gracefully on SIGTERM.
#[tokio::test]
async fn serve_binds_the_configured_address_and_stops_on_sigterm() {
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let pillar = echo_builder().addr(addr).build().unwrap();
    let mut server = tokio::spawn(pillar.serve());

    let client = http_client();
    let url = format!("http://{addr}/healthz");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match client.get(&url).send().await {
            Ok(response) if response.status() == 200 => break,
            _ if Instant::now() < deadline && !server.is_finished() => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => panic!("the server does not answer on {addr}: {other:?}"),
        }
    }
    let (status, json) = signed_echo_call(&client, &format!("http://{addr}/pillar"), "tc_s").await;
    assert_eq!((status, json["success"].clone()), (200, json!(true)));

    // The handlers were installed before binding, so the signal cannot kill the process.
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let result = tokio::time::timeout(Duration::from_secs(5), &mut server)
        .await
        .expect("the server stops on SIGTERM");
    result.unwrap().unwrap();
    assert!(TcpStream::connect(addr).await.is_err());
}
