//! The built `pillar` command against a real server (`Pillar::serve_on` on a free loopback
//! port): its output and exit code for each outcome.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Output;
use std::time::Duration;

use pillar::protocol::WebhookClient;
use pillar::testing::TEST_SECRET;
use serde_json::{json, Value};

use crate::support::Server;

/// What a run printed and how it ended.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `pillar args...` with none of this process's `PILLAR_*` variables, and `env`
/// set, feeding `stdin`.
async fn pillar_with(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
    use tokio::io::AsyncWriteExt;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pillar"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PILLAR_") {
            command.env_remove(key);
        }
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).await.unwrap();
    drop(input);
    let output: Output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the command ends within 30 s")
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `pillar call <args> --url <server>` signing with the server's secret (PILLAR_SECRET).
async fn call(server: &Server, args: &[&str]) -> Run {
    let url = server.url();
    let mut all = vec!["call"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--url", &url]);
    pillar_with(&all, &[("PILLAR_SECRET", TEST_SECRET)], b"").await
}

#[tokio::test]
async fn a_successful_call_prints_the_answer_and_exits_0() {
    let server = Server::start().await;
    let run = call(
        &server,
        &[
            "lookup",
            "--args",
            r#"{"email": "sarah@acme.com"}"#,
            "--call-id",
            "tc_cli_1",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.json(),
        json!({"call_id": "tc_cli_1", "success": true,
               "result": {"email": "sarah@acme.com", "plan": "pro"}})
    );
    // Pretty-printed, and the status line on stderr.
    assert!(
        run.stdout.contains("\n  \"call_id\": \"tc_cli_1\""),
        "{run}"
    );
    assert_eq!(
        run.stderr.trim(),
        "HTTP 200 OK: `lookup` succeeded (call tc_cli_1)",
        "{run}"
    );
    // The secret is never printed.
    assert!(!run.stdout.contains(TEST_SECRET) && !run.stderr.contains(TEST_SECRET));
}

#[tokio::test]
async fn arguments_from_a_file_or_stdin_and_the_caller_options_reach_the_tool() {
    let server = Server::start().await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join("cli-test-args.json");
    std::fs::write(&file, "{\"email\": \"li@globex.com\"}\n").unwrap();
    let run = call(&server, &["lookup", "--args-file", file.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json()["result"]["email"], "li@globex.com", "{run}");
    let url = server.url();
    let run = pillar_with(
        &["call", "lookup", "--args-file", "-", "--url", &url],
        &[("PILLAR_SECRET", TEST_SECRET)],
        br#"{"email": "ada@example.com"}"#,
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json()["result"]["email"], "ada@example.com", "{run}");

    let run = call(
        &server,
        &[
            "whoami",
            "--channel",
            "slack",
            "--user-id",
            "u_7",
            "--email",
            "sarah@acme.com",
            "--conversation-id",
            "conv_42",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    let result = &run.json()["result"];
    assert_eq!(result["caller"]["channel"], "slack", "{run}");
    assert_eq!(result["caller"]["external_user_id"], "u_7", "{run}");
    assert_eq!(result["caller"]["email"], "sarah@acme.com", "{run}");
    assert_eq!(result["conversation_id"], "conv_42", "{run}");
    // A fresh call id like Pillar Cloud's.
    let id = result["call_id"].as_str().unwrap();
    assert!(
        id.len() == 19 && id.starts_with("tc_") && id[3..].chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
}

#[tokio::test]
async fn a_tool_error_exits_1_with_the_tools_message() {
    let server = Server::start().await;
    let run = call(&server, &["archived"]).await;
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(run.json()["success"], false, "{run}");
    assert!(
        run.stderr
            .contains("`archived` answered an error (call tc_")
            && run
                .stderr
                .contains("): the customer is archived: restore it first"),
        "{run}"
    );
}

#[tokio::test]
async fn arguments_the_tool_refuses_exit_1_and_say_which() {
    let server = Server::start().await;
    let run = call(
        &server,
        &["lookup", "--args", r#"{"emial": "sarah@acme.com"}"#],
    )
    .await;
    assert_eq!(run.code, 1, "{run}");
    let error = run.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("email"), "{run}");
    assert!(run.stderr.contains(&error), "{run}");
}

#[tokio::test]
async fn json_that_does_not_parse_exits_2_naming_the_position() {
    let server = Server::start().await;
    let run = call(
        &server,
        &["lookup", "--args", r#"{"email": sarah@acme.com}"#],
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stdout.is_empty(), "nothing was sent: {run}");
    assert!(
        run.stderr.starts_with(
            "error: --args is not valid JSON: expected value at line 1 column 11\n  \
             {\"email\": sarah@acme.com}\n            ^\n"
        ),
        "{run}"
    );
    assert!(run.stderr.contains("single quotes"), "{run}");
    let run = call(&server, &["lookup", "--args", "[1]"]).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("--args must be a JSON object"), "{run}");
    let run = call(
        &server,
        &["lookup", "--args-file", "/nonexistent/args.json"],
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr
            .starts_with("error: --args-file: cannot read /nonexistent/args.json: "),
        "{run}"
    );
    // Both sources at once is a usage error too (clap's, with its usage line).
    let run = call(
        &server,
        &["lookup", "--args", "{}", "--args-file", "x.json"],
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("cannot be used with"), "{run}");
}

#[tokio::test]
async fn a_confirmation_request_is_shown_readably_and_confirm_runs_the_tool() {
    let server = Server::start().await;
    let run = call(
        &server,
        &["remove_member", "--args", r#"{"email": "sarah@acme.com"}"#],
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json()["result"]["confirmation_required"], true, "{run}");
    let url = server.url();
    let expected = format!(
        "HTTP 200 OK: `remove_member` asks for the user's confirmation first\n  \
         Remove member\n  Remove Sarah from the workspace?\n    Member  Sarah\n\
         To confirm, as Pillar Cloud does when the user clicks Confirm:\n  \
         pillar call remove_member --confirm --args '{{\"user_id\":\"u_42\"}}' --url '{url}'\n"
    );
    assert_eq!(run.stderr, expected, "{run}");

    let run = call(
        &server,
        &[
            "remove_member",
            "--confirm",
            "--args",
            r#"{"user_id":"u_42"}"#,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.json()["result"],
        json!({"removed": "u_42", "removals": 1}),
        "{run}"
    );
    assert!(run.stderr.contains("`remove_member` succeeded"), "{run}");
}

#[tokio::test]
async fn a_wrong_secret_is_refused_with_401_and_exits_4() {
    let server = Server::start().await;
    let url = server.url();
    let run = pillar_with(
        &[
            "call",
            "lookup",
            "--args",
            "{}",
            "--url",
            &url,
            "--secret",
            "plr_wrong",
        ],
        &[],
        b"",
    )
    .await;
    assert_eq!(run.code, 4, "{run}");
    assert!(
        run.stderr
            .starts_with("HTTP 401 Unauthorized: Invalid signature\n"),
        "{run}"
    );
    assert!(run.stderr.contains("PILLAR_SECRET or --secret"), "{run}");
    assert!(!run.stderr.contains("plr_wrong"), "{run}");
}

#[tokio::test]
async fn an_unknown_tool_exits_4_naming_it() {
    let server = Server::start().await;
    let run = call(&server, &["lokup"]).await;
    assert_eq!(run.code, 4, "{run}");
    assert!(
        run.stderr
            .starts_with("HTTP 404 Not Found: Tool 'lokup' not found\n"),
        "{run}"
    );
}

#[tokio::test]
async fn an_unreachable_server_exits_3() {
    // A port that was free a moment ago: nothing listens there.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let run = pillar_with(
        &["call", "lookup", "--url", &url],
        &[("PILLAR_SECRET", TEST_SECRET)],
        b"",
    )
    .await;
    assert_eq!(run.code, 3, "{run}");
    assert!(run.stderr.starts_with("error: "), "{run}");
    assert!(
        run.stderr
            .contains(&format!("is the server running at {url}?")),
        "{run}"
    );
    let run = pillar_with(&["ping", "--url", &url], &[], b"").await;
    assert_eq!(run.code, 3, "{run}");
}

/// A server on a raw `TcpListener` that answers every request `200` with
/// `Transfer-Encoding: chunked` and 64 KiB chunks until the client goes away: its URL and
/// how many bytes it managed to write in all.
async fn endless_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let written = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = std::sync::Arc::clone(&written);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = std::sync::Arc::clone(&counter);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let start = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                             Transfer-Encoding: chunked\r\n\r\n";
                if stream.write_all(start.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = [
                    format!("{:x}\r\n", 64 * 1024).as_bytes(),
                    &[b' '; 64 * 1024],
                    b"\r\n",
                ]
                .concat();
                while stream.write_all(&chunk).await.is_ok() {
                    counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                }
            });
        }
    });
    (url, written)
}

/// Against a server whose answer never ends, `pillar call` stops at its answer limit
/// (16 MiB by default, `--max-answer-bytes`) and exits 3 saying so: it used to read on,
/// to 870 MiB of memory in a second. What the server could write before the command
/// closed the connection bounds what the command held.
#[tokio::test]
async fn an_endless_answer_exits_3_at_the_answer_limit() {
    use std::sync::atomic::Ordering;

    let (url, written) = endless_server().await;
    let run = pillar_with(
        &["call", "lookup", "--url", &url, "--timeout", "20"],
        &[("PILLAR_SECRET", TEST_SECRET)],
        b"",
    )
    .await;
    assert_eq!(run.code, 3, "{run}");
    assert_eq!(
        run.stderr,
        format!(
            "error: the server at {url} sent an answer larger than 16777216 bytes; stopped \
             reading it. To read a larger answer, raise --max-answer-bytes (now 16777216)\n"
        ),
        "{run}"
    );
    let sent = written.load(Ordering::SeqCst);
    assert!(sent < 64 * 1024 * 1024, "{sent} bytes were sent: {run}");

    let (url, written) = endless_server().await;
    let run = pillar_with(
        &[
            "call",
            "lookup",
            "--url",
            &url,
            "--max-answer-bytes",
            "100000",
        ],
        &[("PILLAR_SECRET", TEST_SECRET)],
        b"",
    )
    .await;
    assert_eq!(run.code, 3, "{run}");
    assert!(
        run.stderr.contains("larger than 100000 bytes")
            && run.stderr.contains("--max-answer-bytes (now 100000)"),
        "{run}"
    );
    let sent = written.load(Ordering::SeqCst);
    assert!(sent < 16 * 1024 * 1024, "{sent} bytes were sent: {run}");

    let run = pillar_with(
        &["call", "lookup", "--url", &url, "--max-answer-bytes", "0"],
        &[("PILLAR_SECRET", TEST_SECRET)],
        b"",
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
}

#[tokio::test]
async fn a_missing_secret_or_a_bad_url_exits_2_saying_what_to_do() {
    let run = pillar_with(&["call", "lookup"], &[], b"").await;
    assert_eq!(run.code, 2, "{run}");
    assert_eq!(
        run.stderr,
        "error: no secret to sign with: set PILLAR_SECRET to the server's secret (the one it \
         was started with), or pass --secret SECRET\n"
    );
    let run = pillar_with(&["sign", "--body", "{}"], &[("PILLAR_SECRET", " ")], b"").await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("set PILLAR_SECRET"), "{run}");
    let run = pillar_with(
        &["call", "lookup", "--url", "localhost:8787"],
        &[("PILLAR_SECRET", TEST_SECRET)],
        b"",
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("add the scheme: http://localhost:8787"),
        "{run}"
    );
    // An unknown option is clap's usage error, also 2.
    let run = pillar_with(&["call", "lookup", "--tool", "x"], &[], b"").await;
    assert_eq!(run.code, 2, "{run}");
}

#[tokio::test]
async fn the_url_and_secret_come_from_the_environment() {
    let server = Server::start().await;
    let url = server.url();
    let run = pillar_with(
        &["call", "lookup", "--args", r#"{"email": "a@b.c"}"#],
        &[
            ("PILLAR_ENDPOINT_URL", url.as_str()),
            // Several secrets during a rotation: the first signs.
            ("PILLAR_SECRET", &format!("{TEST_SECRET},plr_next")),
        ],
        b"",
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
}

#[tokio::test]
async fn sign_prints_a_header_the_server_accepts() {
    let server = Server::start().await;
    let body = r#"{"action":"tool_call","tool_name":"lookup","call_id":"tc_signed","arguments":{"email":"sarah@acme.com"}}"#;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join("cli-test-call.json");
    // With the final newline a file usually has: signed and sent byte for byte.
    std::fs::write(&file, format!("{body}\n")).unwrap();
    let run = pillar_with(
        &["sign", "--body-file", file.to_str().unwrap()],
        &[("PILLAR_SECRET", TEST_SECRET)],
        b"",
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.is_empty(), "{run}");
    let header = run.stdout.trim_end();
    assert!(header.starts_with("t=") && header.contains(",v1="), "{run}");

    // Sent as curl --data-binary would: the server accepts it.
    let client = WebhookClient::new(server.url(), "unused").timeout(Duration::from_secs(10));
    let bytes = std::fs::read(&file).unwrap();
    let (status, answer) = client.send(&bytes, Some(header)).await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["call_id"], "tc_signed", "{answer}");
    assert_eq!(answer["success"], true, "{answer}");
    // Another body under the same header is refused: the signature covers the bytes.
    let (status, _) = client.send(body.as_bytes(), Some(header)).await.unwrap();
    assert_eq!(status, 401);

    // From stdin, with `-`, the same bytes sign the same way.
    let run = pillar_with(
        &["sign", "-", "--timestamp", "1710000000"],
        &[("PILLAR_SECRET", TEST_SECRET)],
        format!("{body}\n").as_bytes(),
    )
    .await;
    let from_file = pillar_with(
        &[
            "sign",
            "--body-file",
            file.to_str().unwrap(),
            "--timestamp",
            "1710000000",
        ],
        &[("PILLAR_SECRET", TEST_SECRET)],
        b"",
    )
    .await;
    assert_eq!(run.stdout, from_file.stdout, "{run}");
}

#[tokio::test]
async fn sign_matches_the_protocols_test_vector() {
    let run = pillar_with(
        &[
            "sign",
            "--secret",
            "plr_test_secret",
            "--timestamp",
            "1710000000",
            "--body",
            r#"{"action":"tool_call","tool_name":"lookup_customer","call_id":"tc_1","arguments":{"email":"sarah@acme.com"}}"#,
        ],
        &[],
        b"",
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.stdout,
        "t=1710000000,v1=8f52f6519cdf9bcc9e94db03b303e795ef7a046d40a3829984311967ef19508e\n"
    );
    // Far from now: said on stderr, still printed.
    assert!(
        run.stderr.starts_with("note: --timestamp 1710000000 is "),
        "{run}"
    );
}

#[tokio::test]
async fn sign_refuses_no_body_and_bodies_that_are_not_json() {
    let env = [("PILLAR_SECRET", TEST_SECRET)];
    let run = pillar_with(&["sign"], &env, b"").await;
    assert_eq!(run.code, 2, "{run}");
    assert_eq!(
        run.stderr,
        "error: no body to sign: give it with --body JSON, --body-file FILE, or `-` to read \
         stdin (pillar sign - < call.json)\n"
    );
    let run = pillar_with(&["sign", "--body", "{}", "-"], &env, b"").await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("cannot be used with"), "{run}");
    let run = pillar_with(&["sign", "--body", r#"{"action": ping}"#], &env, b"").await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr
            .starts_with("error: --body is not valid JSON: expected value at line 1 column 12"),
        "{run}"
    );
    assert!(run.stdout.is_empty(), "{run}");
}

#[tokio::test]
async fn ping_reports_a_pillar_server_and_refuses_anything_else() {
    let server = Server::start().await;
    let run = pillar_with(&["ping", "--url", &server.url()], &[], b"").await;
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json(), json!({"status": "ok"}), "{run}");
    assert!(
        run.stderr.starts_with(&format!(
            "HTTP 200 OK: the Pillar server at {} answers (",
            server.url()
        )),
        "{run}"
    );
    // Signed when a secret is at hand: still answered.
    let run = pillar_with(
        &["ping", "--url", &server.url()],
        &[("PILLAR_SECRET", TEST_SECRET)],
        b"",
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    // The health check's path is not a webhook: 405, exit 4.
    let run = pillar_with(
        &["ping", "--url", &format!("http://{}/healthz", server.addr)],
        &[],
        b"",
    )
    .await;
    assert_eq!(run.code, 4, "{run}");
    assert!(
        run.stderr
            .contains("is it the webhook URL of a Pillar server?"),
        "{run}"
    );
}

#[tokio::test]
async fn help_lists_the_subcommands_and_the_exit_codes() {
    let run = pillar_with(&["--help"], &[], b"").await;
    assert_eq!(run.code, 0, "{run}");
    for needle in ["call", "sign", "ping", "Exit codes:", "3  transport error"] {
        assert!(run.stdout.contains(needle), "{needle}: {run}");
    }
    let run = pillar_with(&["call", "--help"], &[], b"").await;
    assert_eq!(run.code, 0, "{run}");
    for needle in [
        "--args-file",
        "--confirm",
        "--user-id",
        "PILLAR_SECRET",
        "PILLAR_ENDPOINT_URL",
        "4  HTTP error status",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {run}");
    }
    let run = pillar_with(&["sign", "--help"], &[], b"").await;
    assert!(run.stdout.contains("--data-binary @call.json"), "{run}");
}
