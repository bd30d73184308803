//! Running the built examples as a user would: child processes, their output read line
//! by line, killed when the test ends.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use pillar::http::StatusCode;
use pillar::protocol::WebhookClient;
use serde_json::Value;

/// The built example `name`, beside this test binary (`cargo test` builds the examples
/// before it runs the tests).
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p pillar-examples --example {name}`",
        path.display()
    );
    path
}

/// `example(name)` as a command with none of this process's `PILLAR_*`, `PORT` or
/// `RUST_LOG`.
pub fn command(name: &str) -> Command {
    let mut command = Command::new(example(name));
    for (key, _) in std::env::vars() {
        if key.starts_with("PILLAR_") || key == "RUST_LOG" || key == "PORT" {
            command.env_remove(key);
        }
    }
    command
}

/// A child process killed when dropped, whatever the test's outcome, and the lines of
/// its standard output.
pub struct Running {
    child: Child,
    lines: Receiver<String>,
    /// Every line received so far.
    pub seen: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Starts `command` with its standard output read line by line.
    pub fn start(mut command: Command) -> Self {
        command.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until `done` holds for those seen so far, or 20 s pass.
    pub fn read_until(&mut self, done: impl Fn(&[String]) -> bool) -> &[String] {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(&self.seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => break,
            }
        }
        &self.seen
    }

    /// The server's webhook URL, from its "listening on" line.
    pub fn webhook_url(&mut self) -> String {
        let lines = self.read_until(|lines| has(lines, "listening on http://"));
        let line = lines
            .iter()
            .find(|l| l.contains("listening on http://"))
            .unwrap_or_else(|| panic!("the server never said where it listens: {lines:?}"));
        let start = line.find("http://").unwrap();
        let url = line[start..].split_whitespace().next().unwrap();
        url.to_owned()
    }
}

/// Whether any line contains `needle`.
pub fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

/// Sends `tool` the `arguments` (JSON text) at `url`, signed with `plr_local`, as
/// `pillar call <tool> --args <arguments> [--confirm]` does (a `tool_confirm` carrying
/// them as its `confirm_payload` when `confirm`): the answer's status and JSON.
pub fn call(url: &str, tool: &str, arguments: &str, confirm: bool) -> (StatusCode, Value) {
    let arguments: Value = serde_json::from_str(arguments).unwrap();
    let client = WebhookClient::new(url, "plr_local").timeout(Duration::from_secs(10));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(async {
            if confirm {
                client.confirm_tool(tool, arguments).await
            } else {
                client.call_tool(tool, arguments).await
            }
        })
        .unwrap()
}
