//! The first run talks: the quickstart, which sets no `tracing` subscriber of its own,
//! is run as a child process (a test binary's own subscriber would hide what a user
//! sees) and its output is read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Read;
use std::process::Stdio;

use support::{command, has, Running};

#[test]
fn the_quickstart_says_where_it_listens_what_it_serves_and_that_it_does_not_register() {
    let mut quickstart = command("quickstart");
    quickstart
        .env("PILLAR_SECRET", "plr_local")
        .env("PILLAR_ADDR", "127.0.0.1:0");
    let mut running = Running::start(quickstart);
    let lines =
        running.read_until(|lines| has(lines, "listening on") && has(lines, "NOT be registered"));
    let text = lines.join("\n");
    assert!(
        has(lines, "pillar listening on http://127.0.0.1:"),
        "{text}"
    );
    assert!(has(lines, "tools=3"), "the number of tools served: {text}");
    assert!(
        has(
            lines,
            "PILLAR_ENDPOINT_URL is not set: the tools will NOT be registered"
        ),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes when not on a terminal: {text}"
    );
}

#[test]
fn rust_log_filters_what_is_printed() {
    let mut quickstart = command("quickstart");
    quickstart
        .env("PILLAR_SECRET", "plr_local")
        .env("PILLAR_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn");
    let mut running = Running::start(quickstart);
    let lines = running.read_until(|lines| has(lines, "NOT be registered"));
    let text = lines.join("\n");
    assert!(
        has(lines, "NOT be registered"),
        "warnings still print: {text}"
    );
    // The listening line (info) comes before the warning, so it would be here by now.
    assert!(!has(lines, "listening on"), "info is filtered out: {text}");
}

#[test]
fn a_failing_main_prints_a_message_a_person_can_act_on() {
    let mut child = command("quickstart")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(
        stderr.starts_with(
            "Error: invalid setting PILLAR_SECRET: is not set or empty; set it to the secret \
             from the Pillar dashboard"
        ),
        "{stderr}"
    );
}
