//! Each example runs as its own header says: the in-process one prints what it promises,
//! and the servers answer the signed calls their headers make with `pillar call` (sent
//! here by `pillar::protocol::WebhookClient`, the client that command sends with; the
//! command itself is tested against a server in `cli/tests/cli.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pillar::http::StatusCode;
use serde_json::Value;
use support::{call, command, Running};

/// A call's answer, after checking that it succeeded (a 2xx status without `"success":
/// false`, what `pillar call` exits 0 for) exactly when `expected_ok`.
fn answer((status, answer): &(StatusCode, Value), expected_ok: bool) -> Value {
    let ok = status.is_success() && answer["success"] != false;
    assert_eq!(ok, expected_ok, "HTTP {status}: {answer}");
    answer.clone()
}

fn server(name: &str) -> Running {
    let mut server = command(name);
    server
        .env("PILLAR_SECRET", "plr_local")
        .env("PILLAR_ADDR", "127.0.0.1:0");
    Running::start(server)
}

#[test]
fn struct_input_prints_its_schema_and_runs_once() {
    let output = command("struct_input").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("inputSchema of create_invoice:"),
        "{stdout}"
    );
    assert!(stdout.contains("\"customer_email\""), "{stdout}");
    // 4900 x 1 + 1000 x 3.
    assert!(stdout.contains("\"total_cents\":7900"), "{stdout}");
    assert!(stdout.contains("3 x Seats"), "{stdout}");
}

#[test]
fn confirmation_asks_first_then_does_the_work_when_confirmed() {
    let mut running = server("confirmation");
    let url = running.webhook_url();
    let first = answer(
        &call(
            &url,
            "cancel_subscription",
            r#"{"account_id": "acct_7"}"#,
            false,
        ),
        true,
    );
    assert_eq!(first["result"]["confirmation_required"], true, "{first}");
    let payload = first["result"]["confirm_payload"].to_string();
    let confirmed = answer(&call(&url, "cancel_subscription", &payload, true), true);
    let text = confirmed.to_string();
    assert!(
        text.contains("The subscription of acct_7 is cancelled."),
        "{text}"
    );
    assert!(text.contains("\"refunded\":true"), "{text}");
}

#[test]
fn dynamic_tools_serves_one_tool_per_flag() {
    let mut running = server("dynamic_tools");
    let url = running.webhook_url();
    let done = answer(
        &call(&url, "toggle_beta_search", r#"{"enabled": true}"#, false),
        true,
    );
    assert_eq!(done["result"]["flag"], "beta_search", "{done}");
    assert_eq!(done["result"]["enabled"], true, "{done}");
    let refused = answer(
        &call(&url, "toggle_beta_search", r#"{"enabled": "yes"}"#, false),
        false,
    );
    assert_eq!(refused["success"], false, "{refused}");
}

/// Sends a plain HTTP/1.1 request and returns the response's head and body.
fn http(url: &str, method: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn axum_app_tools_share_the_apps_state_and_see_its_middleware() {
    let mut running = server("axum_app");
    let url = running.webhook_url();
    assert!(http(&url, "POST", "/signup", "ada@example.com").contains("welcome"));
    assert!(http(&url, "GET", "/", "").contains("1 people signed up"));
    let stats = answer(
        &call(
            &format!("{url}/pillar"),
            "signup_stats",
            r#"{"recent": 3}"#,
            false,
        ),
        true,
    );
    assert_eq!(
        stats["result"],
        serde_json::json!({"tenant": "acme", "total": 1, "recent": ["ada@example.com"]})
    );
    let found = answer(
        &call(
            &format!("{url}/pillar"),
            "is_signed_up",
            r#"{"email": "ADA@example.com"}"#,
            false,
        ),
        true,
    );
    assert_eq!(found["result"], true);
}

#[test]
fn crm_creates_seeds_and_serves_its_database() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("crm-headers-test");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut crm = command("crm");
    crm.env("PILLAR_SECRET", "plr_local")
        .env("PILLAR_ADDR", "127.0.0.1:0")
        .env(
            "CRM_DATABASE_URL",
            format!("sqlite://{}/crm.db", dir.display()),
        );
    let mut running = Running::start(crm);
    let url = running.webhook_url();
    assert!(dir.join("crm.db").exists(), "the database file is created");
    let pro = answer(
        &call(&url, "search_customers", r#"{"plan": "pro"}"#, false),
        true,
    );
    assert_eq!(pro["result"].as_array().unwrap().len(), 2, "{pro}");
    let card = answer(
        &call(
            &url,
            "delete_customer",
            r#"{"email": "li@globex.com"}"#,
            false,
        ),
        true,
    );
    assert_eq!(card["result"]["confirmation_required"], true, "{card}");
    let payload = card["result"]["confirm_payload"].to_string();
    let done = answer(&call(&url, "delete_customer", &payload, true), true);
    assert_eq!(done["result"]["deleted"], true, "{done}");
}
