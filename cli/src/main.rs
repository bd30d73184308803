//! `pillar`: talk to a Pillar tool server from the terminal, as Pillar Cloud does.
//!
//! - `pillar call <tool>` sends a signed `tool_call` (or, with `--confirm`, the
//!   `tool_confirm` a user's confirmation sends) and prints the answer;
//! - `pillar sign` prints the `X-Pillar-Signature` header value for a body, for curl;
//! - `pillar ping` asks the server whether it is up;
//! - `pillar dev` runs a local stand-in for Pillar Cloud with a console in the browser:
//!   the server registers with it, and the console calls its tools.
//!
//! The exit code says how it went ([`exit::Exit`]): 0 success, 1 the tool answered an
//! error, 2 a usage or configuration error, 3 the server could not be reached, 4 an
//! HTTP error status. Install it with `cargo install pillar-ai-server-cli`.

mod body;
mod call;
mod dev;
mod exit;
mod input;
mod ping;
mod sign;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::{Exit, Failure};

/// The exit codes, as `--help` prints them (docs/cli.md has the same table): a macro so
/// that `concat!` can put examples before them.
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0  success: the server answered 2xx and the tool succeeded (or asked for confirmation)
  1  the tool answered an error: HTTP 200 with \"success\": false
  2  usage or configuration error: a bad option, bad JSON, no secret, a bad URL
  3  transport error: the server could not be reached, did not answer in time, or
     sent an answer over --max-answer-bytes
  4  HTTP error status (401 signature refused, 404 unknown tool or path, other 4xx and
     5xx), or an answer that is not a Pillar server's"
    };
}

/// `pillar sign`'s exit codes.
macro_rules! sign_exit_codes {
    () => {
        "Exit codes:
  0  the signature was printed
  2  usage or configuration error: no body, a body that is not JSON, no secret"
    };
}

/// `pillar ping`'s exit codes.
macro_rules! ping_exit_codes {
    () => {
        "Exit codes:
  0  the server answered {\"status\": \"ok\"}
  2  usage or configuration error: a bad option, a bad URL
  3  transport error: the server could not be reached, did not answer in time, or
     sent an answer over 16 MiB
  4  HTTP error status, or an answer that is not a Pillar server's"
    };
}

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "pillar",
    version,
    about = "Signed tool calls, signatures and pings for a Pillar tool server, as Pillar Cloud sends them",
    long_about = "Signed tool calls, signatures and pings for a Pillar tool server, as Pillar \
                  Cloud sends them.\n\nThe secret comes from --secret or PILLAR_SECRET (the \
                  first one when it lists several, comma-separated); prefer the variable, \
                  which other users of the machine cannot see in the process list. The \
                  server's URL comes from --url or PILLAR_ENDPOINT_URL, else \
                  http://127.0.0.1:8787/.",
    after_help = exit_codes!()
)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Send a signed tool call (or, with --confirm, a confirmed re-call) and print the answer
    #[command(
        long_about = "Send a signed tool call to a Pillar server, as Pillar Cloud does, and \
                      print the answer: a status line on stderr, the answer's JSON, \
                      pretty-printed, on stdout.\n\nWith --confirm it sends the `tool_confirm` \
                      that Pillar Cloud sends when the user confirms: the JSON given with \
                      --args becomes the `confirm_payload` the tool runs with. When a tool \
                      asks for confirmation, the status line shows the request and the \
                      command that confirms it.",
        after_help = exit_codes!(),
        after_long_help = concat!(
            "Examples:\n",
            "  PILLAR_SECRET=plr_local pillar call lookup_customer --args '{\"email\": \"sarah@acme.com\"}'\n",
            "  pillar call delete_customer --args-file payload.json --confirm\n",
            "  pillar call search --url http://127.0.0.1:8787/pillar --channel slack --user-id u_42\n\n",
            exit_codes!()
        )
    )]
    Call(call::CallArgs),
    /// Print the X-Pillar-Signature header value for a body, for curl
    #[command(
        long_about = "Print the X-Pillar-Signature header value (`t=<unix seconds>,v1=<hex \
                      HMAC-SHA256>`) for a body, signed now or at --timestamp, for sending \
                      the body with curl or any other HTTP client. The signature covers the \
                      body's exact bytes: send the same bytes (curl --data-binary @FILE, not \
                      -d, which strips newlines).",
        after_help = sign_exit_codes!(),
        after_long_help = concat!(
            "Example:\n",
            "  export PILLAR_SECRET=plr_local\n",
            "  curl http://127.0.0.1:8787/ -H 'Content-Type: application/json' \\\n",
            "    -H \"X-Pillar-Signature: $(pillar sign --body-file call.json)\" \\\n",
            "    --data-binary @call.json\n\n",
            sign_exit_codes!()
        )
    )]
    Sign(sign::SignArgs),
    /// Send a ping and report whether the server answers as a Pillar server does
    #[command(
        long_about = "Send {\"action\": \"ping\"} to the URL and report whether it answers \
                      {\"status\": \"ok\"}, as a Pillar server does. A ping needs no \
                      signature: it is signed only when a secret is at hand (--secret or \
                      PILLAR_SECRET).",
        after_help = ping_exit_codes!()
    )]
    Ping(ping::PingArgs),
    /// Run a local Pillar Cloud with a console in the browser, to call your tools by hand
    #[command(
        long_about = "Run a local stand-in for Pillar Cloud on 127.0.0.1 (port 8900 by \
                      default) with a console in the browser. It prints the console's URL \
                      and the three variables to start your server with (PILLAR_API_URL, \
                      PILLAR_ENDPOINT_URL and a generated PILLAR_SECRET); your server \
                      registers its tools with it at start-up, and the console lists them, \
                      builds their arguments from their schemas, sends signed calls, shows \
                      confirmation cards and sends the confirmation.\n\nThe console's URL \
                      carries a token for this run: only a page opened with it, on \
                      127.0.0.1, can use the console. It opens nothing by itself; Ctrl-C \
                      stops it.",
        after_long_help = concat!(
            "Example, in two terminals:\n",
            "  pillar dev\n",
            "  # then, with the three variables it printed:\n",
            "  PILLAR_API_URL=... PILLAR_ENDPOINT_URL=... PILLAR_SECRET=... cargo run --example quickstart\n\n",
            "Exit codes:\n",
            "  0  stopped with Ctrl-C\n",
            "  2  usage error: the port is taken, a bad option"
        )
    )]
    Dev(dev::DevArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Sign(args) => sign::run(&args),
        Command::Call(args) => with_runtime(|| call::run(args)),
        Command::Ping(args) => with_runtime(|| ping::run(args)),
        Command::Dev(args) => with_runtime(|| dev::run(args)),
    };
    match outcome {
        Ok(exit) => exit.into(),
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit().into()
        }
    }
}

/// Runs the future `start` makes on a single-threaded runtime: the command sends one
/// request at a time.
fn with_runtime<F>(start: impl FnOnce() -> F) -> Result<Exit, Failure>
where
    F: std::future::Future<Output = Result<Exit, Failure>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            Failure::new(
                Exit::Transport,
                format!("cannot start the network runtime: {err}"),
            )
        })?;
    runtime.block_on(start())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_documents_every_exit_code() {
        let help = Cli::command().render_long_help().to_string();
        for code in [
            "0  success",
            "1  the tool",
            "2  usage",
            "3  transport",
            "4  HTTP",
        ] {
            assert!(help.contains(code), "{code} is missing from:\n{help}");
        }
    }
}
