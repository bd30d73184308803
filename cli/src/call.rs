//! `pillar call`: a signed `tool_call` or `tool_confirm`, and the answer shown readably.

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::Args;
use pillar::http::StatusCode;
use pillar::protocol::WebhookClient;
use pillar::{TransportError, TransportErrorKind};
use serde_json::{json, Map, Value};

use crate::body::{caller_channels, fresh_call_id, webhook_body};
use crate::exit::{Exit, Failure};
use crate::input::{self, SecretArg, Target, DEFAULT_URL};

/// `pillar call`'s options.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The tool to call, by its registered name
    #[arg(value_name = "TOOL")]
    tool: String,
    /// The arguments, a JSON object [default: {}]; with --confirm, the confirm_payload
    #[arg(long, value_name = "JSON", group = "input")]
    args: Option<String>,
    /// Read the arguments (a JSON object) from FILE; `-` reads stdin
    #[arg(long, value_name = "FILE", group = "input")]
    args_file: Option<PathBuf>,
    /// Send a `tool_confirm` carrying the JSON as `confirm_payload`, as Pillar Cloud does
    /// when the user confirms
    #[arg(long)]
    confirm: bool,
    /// The call id [default: a fresh tc_<16 hex digits>]. Repeat one to see how the server
    /// answers a repeated delivery
    #[arg(long, value_name = "ID")]
    call_id: Option<String>,
    /// The caller's channel
    #[arg(long, value_name = "CHANNEL", value_parser = PossibleValuesParser::new(caller_channels()))]
    channel: Option<String>,
    /// The caller's user id in your system (`caller.external_user_id`): the call is from an
    /// identified user
    #[arg(long, value_name = "ID")]
    user_id: Option<String>,
    /// The caller's email (`caller.email`)
    #[arg(long, value_name = "EMAIL")]
    email: Option<String>,
    /// The conversation id the call belongs to
    #[arg(long, value_name = "ID", default_value = "conv_cli")]
    conversation_id: String,
    /// Where to send it.
    #[command(flatten)]
    target: Target,
    /// What to sign it with.
    #[command(flatten)]
    secret: SecretArg,
    /// The largest answer to read, in bytes: a larger one is an error (exit 3), not
    /// unbounded memory
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = WebhookClient::DEFAULT_MAX_ANSWER_BYTES as u64,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    max_answer_bytes: u64,
}

impl CallArgs {
    /// The JSON body to send: the protocol's `tool_call` or `tool_confirm`, with the
    /// caller only when one of its options is given.
    fn body(&self, call_id: &str, input: Value) -> Value {
        let mut caller = Map::new();
        for (key, value) in [
            ("channel", &self.channel),
            ("external_user_id", &self.user_id),
            ("email", &self.email),
        ] {
            if let Some(value) = value {
                caller.insert(key.to_owned(), json!(value));
            }
        }
        webhook_body(
            self.confirm,
            &self.tool,
            call_id,
            input,
            &self.conversation_id,
            caller,
        )
    }
}

/// Sends the call and reports the answer.
pub(crate) async fn run(args: CallArgs) -> Result<Exit, Failure> {
    let url = args.target.url()?;
    let secret = args.secret.required()?;
    let input = match input::source(
        ("--args", args.args.as_deref()),
        ("--args-file", args.args_file.as_ref()),
    ) {
        Some(source) => input::read_object(&source)?,
        None => json!({}),
    };
    let call_id = args.call_id.clone().unwrap_or_else(fresh_call_id);
    let body = args.body(&call_id, input.clone()).to_string();
    let max_answer_bytes = usize::try_from(args.max_answer_bytes).unwrap_or(usize::MAX);
    let client = WebhookClient::new(url.clone(), secret.expose())
        .timeout(args.target.timeout)
        .max_answer_bytes(max_answer_bytes);
    let failed = |err: TransportError| match err.kind() {
        TransportErrorKind::TooLarge => too_large(&url, args.max_answer_bytes),
        _ => transport_failure(&err, &url),
    };
    let (status, answer) = client.send_signed(body.as_bytes()).await.map_err(failed)?;
    print_answer(&answer);
    let sent = Sent {
        url: &url,
        call_id: &call_id,
        input: &input,
    };
    let report = describe(&args, &sent, status, &answer);
    eprintln!("{}", report.text);
    Ok(report.exit)
}

/// Prints the answer on stdout: pretty JSON, or the text of an answer that is not JSON.
pub(crate) fn print_answer(answer: &Value) {
    match answer {
        Value::Null => {}
        Value::String(text) => println!("{text}"),
        other => match serde_json::to_string_pretty(other) {
            Ok(pretty) => println!("{pretty}"),
            Err(_) => println!("{other}"),
        },
    }
}

/// The failure for an answer over `--max-answer-bytes`: exit 3, saying the limit and
/// the option.
fn too_large(url: &str, limit: u64) -> Failure {
    Failure::new(
        Exit::Transport,
        format!(
            "the server at {url} sent an answer larger than {limit} bytes; stopped reading \
             it. To read a larger answer, raise --max-answer-bytes (now {limit})"
        ),
    )
}

/// The failure for a request that got no answer: exit 3, or 2 for a URL the client
/// cannot use.
pub(crate) fn transport_failure(err: &TransportError, url: &str) -> Failure {
    match err.kind() {
        TransportErrorKind::InvalidRequest => {
            Failure::usage(format!("{err}: check --url (like {DEFAULT_URL})"))
        }
        TransportErrorKind::Timeout => Failure::new(
            Exit::Transport,
            format!("{err}: the tool may still be running; wait longer with --timeout SECONDS"),
        ),
        _ => Failure::new(
            Exit::Transport,
            format!(
                "{err}: is the server running at {url}? Start one (for example \
                 `PILLAR_SECRET=plr_local cargo run --example quickstart` in the SDK's \
                 repository), or point --url or PILLAR_ENDPOINT_URL at it"
            ),
        ),
    }
}

/// What to tell about an answer, and the exit code.
#[derive(Debug)]
struct Report {
    /// The status line and what follows it, for stderr.
    text: String,
    /// The exit code.
    exit: Exit,
}

/// What was sent, for the report.
#[derive(Debug)]
struct Sent<'a> {
    /// Where.
    url: &'a str,
    /// The call id.
    call_id: &'a str,
    /// The arguments, or the confirmation payload.
    input: &'a Value,
}

/// Reads the server's answer to a call: success, a confirmation request, the tool's
/// error, or an HTTP error status with what it usually means.
fn describe(args: &CallArgs, sent: &Sent<'_>, status: StatusCode, answer: &Value) -> Report {
    let tool = &args.tool;
    let (url, call_id) = (sent.url, sent.call_id);
    let head = format!("HTTP {status}");
    let error = answer.get("error").and_then(Value::as_str);
    if status.is_success() {
        return match answer.get("success").and_then(Value::as_bool) {
            Some(true) => {
                let result = answer.get("result").unwrap_or(&Value::Null);
                let text =
                    if result.get("confirmation_required").and_then(Value::as_bool) == Some(true) {
                        confirmation(args, sent, result, &head)
                    } else {
                        let mut text = format!("{head}: `{tool}` succeeded (call {call_id})");
                        display_hints(result, &mut text);
                        text
                    };
                Report {
                    text,
                    exit: Exit::Success,
                }
            }
            Some(false) => Report {
                text: format!(
                    "{head}: `{tool}` answered an error (call {call_id}): {}",
                    error.unwrap_or("(no error message)")
                ),
                exit: Exit::ToolError,
            },
            None => Report {
                text: format!(
                    "{head}, but the answer is not a Pillar server's (it has no \"success\"): \
                     is {url} the webhook of a Pillar server?"
                ),
                exit: Exit::Http,
            },
        };
    }
    let said = error.map_or_else(String::new, |e| format!(": {e}"));
    let hint = match status.as_u16() {
        401 => "the server refused the signature: sign with the secret the server was \
                started with (PILLAR_SECRET or --secret), and check that this machine's clock \
                and the server's agree within 300 s"
            .to_owned(),
        404 if error.is_some() => format!(
            "the server at {url} serves no tool named `{tool}`: check the name (it is \
             case-sensitive) and that the server registers the tool"
        ),
        404 | 405 => format!(
            "nothing answers webhooks at {url}: a Pillar server takes them on / and on its \
             path (default /pillar); check --url"
        ),
        409 => "the server already ran this call id with another body: use a fresh --call-id \
                (or leave it out)"
            .to_owned(),
        413 => "the body is larger than the server accepts (its body limit, 1 MiB by \
                default): send smaller arguments"
            .to_owned(),
        503 => "the server is busy or cannot reach its record of calls; the tool did not \
                run: try again shortly"
            .to_owned(),
        400 => "the server could not read the request: see its error above".to_owned(),
        _ if status.is_server_error() => "the server failed: see its log for the reason".to_owned(),
        _ => "the server refused the request".to_owned(),
    };
    Report {
        text: format!("{head}{said}\n{hint}"),
        exit: Exit::Http,
    }
}

/// A confirmation request, readably: its title, message and details, and the command
/// that confirms it (the payload, or the original arguments when it has none, as Pillar
/// Cloud then sends them).
fn confirmation(args: &CallArgs, sent: &Sent<'_>, request: &Value, head: &str) -> String {
    let url = sent.url;
    let tool = &args.tool;
    let mut text = format!("{head}: `{tool}` asks for the user's confirmation first");
    for key in ["title", "message"] {
        if let Some(line) = request.get(key).and_then(Value::as_str) {
            text.push_str(&format!("\n  {line}"));
        }
    }
    if let Some(details) = request.get("details").and_then(Value::as_object) {
        let width = details.keys().map(|k| k.chars().count()).max().unwrap_or(0);
        for (key, value) in details {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            text.push_str(&format!("\n    {key:<width$}  {value}"));
        }
    }
    let payload = request
        .get("confirm_payload")
        .unwrap_or(sent.input)
        .to_string();
    let mut command = format!(
        "pillar call {tool} --confirm --args {}",
        shell_quote(&payload)
    );
    if url != DEFAULT_URL {
        command.push_str(&format!(" --url {}", shell_quote(url)));
    }
    text.push_str(&format!(
        "\nTo confirm, as Pillar Cloud does when the user clicks Confirm:\n  {command}"
    ));
    text
}

/// A result with display hints (`summary`, `actions`): the summary and each action's
/// label and URL, under the status line.
fn display_hints(result: &Value, text: &mut String) {
    if let Some(summary) = result.get("summary").and_then(Value::as_str) {
        text.push_str(&format!("\n  {summary}"));
    }
    for action in result
        .get("actions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let label = action.get("label").and_then(Value::as_str).unwrap_or("");
        let target = action.get("url").and_then(Value::as_str).unwrap_or("");
        text.push_str(&format!("\n  [{label}] {target}"));
    }
}

/// `text` in single quotes for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::Parser;
    use pillar::http::StatusCode;
    use serde_json::json;

    use serde_json::Value;

    use super::{describe, shell_quote, CallArgs, Report, Sent};
    use crate::exit::Exit;

    /// `pillar call` parsed from `line`.
    fn args(line: &[&str]) -> CallArgs {
        #[derive(Debug, Parser)]
        struct Wrapper {
            #[command(flatten)]
            call: CallArgs,
        }
        Wrapper::try_parse_from(std::iter::once("call").chain(line.iter().copied()))
            .unwrap()
            .call
    }

    /// `describe` for a call of `input` to `url` with id `call_id`.
    fn described(
        call: &CallArgs,
        url: &str,
        call_id: &str,
        input: &Value,
        status: StatusCode,
        answer: &Value,
    ) -> Report {
        let sent = Sent {
            url,
            call_id,
            input,
        };
        describe(call, &sent, status, answer)
    }

    #[test]
    fn the_body_is_the_protocols_tool_call_with_the_caller_when_given() {
        let plain = args(&["lookup"]).body("tc_1", json!({"a": 1}));
        assert_eq!(
            plain,
            json!({"action": "tool_call", "tool_name": "lookup", "call_id": "tc_1",
                   "arguments": {"a": 1}, "conversation_id": "conv_cli"})
        );
        let confirm = args(&[
            "lookup",
            "--confirm",
            "--channel",
            "slack",
            "--user-id",
            "u_42",
            "--email",
            "sarah@acme.com",
            "--conversation-id",
            "conv_9",
        ])
        .body("tc_2", json!({"b": 2}));
        assert_eq!(
            confirm,
            json!({"action": "tool_confirm", "tool_name": "lookup", "call_id": "tc_2",
                   "confirm_payload": {"b": 2}, "confirmed": true, "conversation_id": "conv_9",
                   "caller": {"channel": "slack", "external_user_id": "u_42",
                              "email": "sarah@acme.com"}})
        );
    }

    #[test]
    fn an_unknown_channel_is_a_usage_error() {
        #[derive(Debug, Parser)]
        struct Wrapper {
            #[command(flatten)]
            call: CallArgs,
        }
        let err = Wrapper::try_parse_from(["call", "t", "--channel", "sms"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("[possible values: web, slack"),
            "{err}"
        );
    }

    #[test]
    fn answers_map_to_exit_codes() {
        let call = args(&["lookup"]);
        let url = "http://127.0.0.1:8787/";
        let input = json!({});
        let cases = [
            (
                200,
                json!({"call_id": "tc", "success": true, "result": 1}),
                Exit::Success,
            ),
            (
                200,
                json!({"call_id": "tc", "success": false, "error": "no"}),
                Exit::ToolError,
            ),
            (200, json!("<html>"), Exit::Http),
            (
                401,
                json!({"success": false, "error": "Invalid signature"}),
                Exit::Http,
            ),
            (
                404,
                json!({"success": false, "error": "Tool 'lookup' not found"}),
                Exit::Http,
            ),
            (503, json!({"success": false, "error": "Busy"}), Exit::Http),
        ];
        for (status, answer, exit) in cases {
            let status = StatusCode::from_u16(status).unwrap();
            let report = described(&call, url, "tc", &input, status, &answer);
            assert_eq!(report.exit, exit, "{status} {answer}: {}", report.text);
        }
        let refused = described(
            &call,
            url,
            "tc",
            &input,
            StatusCode::UNAUTHORIZED,
            &json!({"success": false, "error": "Invalid signature"}),
        );
        assert!(
            refused
                .text
                .starts_with("HTTP 401 Unauthorized: Invalid signature\nthe server refused"),
            "{}",
            refused.text
        );
    }

    #[test]
    fn a_confirmation_request_reads_as_one_with_the_command_that_confirms_it() {
        let call = args(&["remove_member", "--args", r#"{"email": "sarah@acme.com"}"#]);
        let input = json!({"email": "sarah@acme.com"});
        let answer = json!({"call_id": "tc", "success": true, "result": {
            "confirmation_required": true, "title": "Remove member", "message": "Remove Sarah?",
            "details": {"Member": "Sarah", "Plan": "it's pro"}, "confirm_payload": {"user_id": "u'42"}}});
        let report = described(
            &call,
            "http://127.0.0.1:9/pillar",
            "tc",
            &input,
            StatusCode::OK,
            &answer,
        );
        assert_eq!(report.exit, Exit::Success);
        assert_eq!(
            report.text,
            "HTTP 200 OK: `remove_member` asks for the user's confirmation first\n  \
             Remove member\n  Remove Sarah?\n    Member  Sarah\n    Plan    it's pro\n\
             To confirm, as Pillar Cloud does when the user clicks Confirm:\n  \
             pillar call remove_member --confirm --args '{\"user_id\":\"u'\\''42\"}' \
             --url 'http://127.0.0.1:9/pillar'"
        );
        // Without a payload, Pillar Cloud sends the original arguments back.
        let bare = json!({"success": true, "result": {"confirmation_required": true}});
        let report = described(
            &call,
            "http://127.0.0.1:8787/",
            "tc",
            &input,
            StatusCode::OK,
            &bare,
        );
        assert!(
            report.text.ends_with(
                "pillar call remove_member --confirm --args '{\"email\":\"sarah@acme.com\"}'"
            ),
            "{}",
            report.text
        );
    }

    #[test]
    fn display_hints_show_the_summary_and_actions() {
        let call = args(&["upgrade"]);
        let input = json!({});
        let answer = json!({"success": true, "result": {"summary": "Upgraded to pro",
            "actions": [{"type": "open_url", "label": "View plan", "url": "https://x.test/p"}]}});
        let report = described(
            &call,
            "http://127.0.0.1:8787/",
            "tc_1",
            &input,
            StatusCode::OK,
            &answer,
        );
        assert_eq!(
            report.text,
            "HTTP 200 OK: `upgrade` succeeded (call tc_1)\n  Upgraded to pro\n  [View plan] https://x.test/p"
        );
    }

    #[test]
    fn shell_quoting_survives_single_quotes() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
