//! Sends a signed tool call to a running Pillar server, as Pillar Cloud does, and prints
//! the answer: the analogue of `stripe trigger` for Pillar tools.
//!
//! ```text
//! # terminal 1
//! PILLAR_SECRET=plr_local cargo run --example quickstart
//!
//! # terminal 2
//! cargo run --example call -- --url http://127.0.0.1:8787 --secret plr_local \
//!     --tool lookup_customer --args '{"email": "sarah@acme.com"}'
//! cargo run --example call -- --secret plr_local --tool upgrade_plan \
//!     --args '{"email": "li@globex.com", "plan": "pro"}' --confirm
//! cargo run --example call -- --ping
//! ```
//!
//! The status goes to stderr and the JSON answer, pretty-printed, to stdout. The exit
//! code is 0 when the server answered 2xx without `"success": false`, 1 for any other
//! answer or when the server cannot be reached, 2 for a usage error.
//!
//! It uses `pillar::testing::WebhookClient`, the client the mock Pillar Cloud sends calls
//! with.

use std::process::ExitCode;
use std::time::Duration;

use pillar::testing::{self, WebhookClient};
use serde_json::Value;

const USAGE: &str = "\
Sends a signed webhook to a Pillar server, as Pillar Cloud does, and prints the answer.

Usage: cargo run --example call -- [OPTIONS]

Options:
  --url URL        the server's webhook URL [default: $PILLAR_URL or http://127.0.0.1:8787]
  --secret SECRET  the secret to sign with [default: $PILLAR_SECRET, the first if several]
  --tool NAME      the tool to call (required unless --ping)
  --args JSON      the arguments, a JSON object [default: {}]; @FILE reads them from FILE
  --confirm        send a tool_confirm carrying the arguments as confirm_payload, as when
                   the user confirms
  --call-id ID     the call id [default: a fresh tc_...]
  --ping           send a ping instead of a tool call
  --timeout SECS   how long to wait for the answer [default: 60]
  -h, --help       print this help

Example:
  cargo run --example call -- --url http://127.0.0.1:8787 --secret plr_local \\
      --tool lookup_customer --args '{\"email\": \"sarah@acme.com\"}'";

/// What to send, from the command line.
#[derive(Debug)]
struct Options {
    url: String,
    secret: String,
    request: Request,
    timeout: Duration,
}

#[derive(Debug)]
enum Request {
    Ping,
    Tool {
        name: String,
        arguments: Value,
        confirm: bool,
        call_id: Option<String>,
    },
}

/// `Ok(None)` when help was asked for.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut url = None;
    let mut secret = None;
    let mut tool = None;
    let mut arguments = None;
    let mut confirm = false;
    let mut call_id = None;
    let mut ping = false;
    let mut timeout = Duration::from_secs(60);

    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // `--name=value` or `--name value`.
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value ({what})"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--url" => url = Some(value("the webhook URL")?),
            "--secret" => secret = Some(value("the secret")?),
            "--tool" => tool = Some(value("a tool name")?),
            "--args" | "--arguments" => arguments = Some(read_arguments(&value("a JSON object")?)?),
            "--call-id" => call_id = Some(value("a call id")?),
            "--timeout" => {
                let secs = value("seconds")?;
                let secs: f64 = secs
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| {
                        format!("--timeout: `{secs}` is not a positive number of seconds")
                    })?;
                timeout = Duration::from_secs_f64(secs);
            }
            "--confirm" => confirm = true,
            "--ping" => ping = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }

    let url = url
        .or_else(|| {
            std::env::var("PILLAR_URL")
                .ok()
                .filter(|u| !u.trim().is_empty())
        })
        .unwrap_or_else(|| "http://127.0.0.1:8787".to_owned());
    let secret = secret.or_else(|| {
        std::env::var("PILLAR_SECRET").ok().and_then(|all| {
            all.split(',')
                .map(str::trim)
                .find(|s| !s.is_empty())
                .map(str::to_owned)
        })
    });
    let request = match (ping, tool) {
        (true, Some(_)) => return Err("--ping and --tool cannot be used together".to_owned()),
        (true, None) => Request::Ping,
        (false, None) => return Err("--tool is required (or --ping)".to_owned()),
        (false, Some(name)) => Request::Tool {
            name,
            arguments: arguments.unwrap_or_else(|| Value::Object(Default::default())),
            confirm,
            call_id,
        },
    };
    // A ping needs no signature; anything else does.
    let secret = match (secret, &request) {
        (Some(secret), _) => secret,
        (None, Request::Ping) => String::new(),
        (None, Request::Tool { .. }) => {
            return Err("no secret: pass --secret or set PILLAR_SECRET".to_owned())
        }
    };
    Ok(Some(Options {
        url,
        secret,
        request,
        timeout,
    }))
}

/// `--args`: a JSON object, inline or `@file`.
fn read_arguments(text: &str) -> Result<Value, String> {
    let text = match text.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("--args: cannot read {path}: {e}"))?
        }
        None => text.to_owned(),
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("--args is not valid JSON: {e}"))?;
    if !value.is_object() {
        return Err(format!(
            "--args must be a JSON object, like {{\"email\": \"...\"}}; got {value}"
        ));
    }
    Ok(value)
}

async fn send(
    options: Options,
) -> Result<(pillar::http::StatusCode, Value), pillar::TransportError> {
    let client = WebhookClient::new(options.url, options.secret).timeout(options.timeout);
    match options.request {
        Request::Ping => client.ping().await,
        Request::Tool {
            name,
            arguments,
            confirm,
            call_id: Some(call_id),
        } => {
            let body = if confirm {
                testing::tool_confirm_body(&name, &call_id, arguments)
            } else {
                testing::tool_call_body(&name, &call_id, arguments)
            };
            client.send_signed(&body).await
        }
        Request::Tool {
            name,
            arguments,
            confirm: true,
            call_id: None,
        } => client.confirm_tool(&name, arguments).await,
        Request::Tool {
            name,
            arguments,
            confirm: false,
            call_id: None,
        } => client.call_tool(&name, arguments).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let url = options.url.clone();
    match send(options).await {
        Ok((status, answer)) => {
            eprintln!("HTTP {status}");
            match serde_json::to_string_pretty(&answer) {
                Ok(pretty) => println!("{pretty}"),
                Err(_) => println!("{answer}"),
            }
            let failed = answer.get("success").and_then(Value::as_bool) == Some(false);
            if status.is_success() && !failed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            eprintln!("is the server running at {url}? (PILLAR_SECRET=plr_local cargo run --example quickstart)");
            ExitCode::FAILURE
        }
    }
}
