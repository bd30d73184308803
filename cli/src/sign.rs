//! `pillar sign`: the `X-Pillar-Signature` header value for a body.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{ArgGroup, Args};
use pillar::signature::DEFAULT_TOLERANCE;

use crate::exit::{Exit, Failure};
use crate::input::{self, SecretArg, Source};

/// `pillar sign`'s options.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("body_source").args(["body", "body_file", "stdin"])))]
pub(crate) struct SignArgs {
    /// The body to sign, as given (its exact bytes are signed)
    #[arg(long, value_name = "JSON")]
    body: Option<String>,
    /// Sign the bytes of FILE, exactly (a final newline included); `-` reads stdin
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// `-`: sign what stdin gives
    #[arg(value_name = "-", value_parser = ["-"], hide_possible_values = true)]
    stdin: Option<String>,
    /// Sign as at this Unix time, in seconds [default: now]. Servers refuse signatures more
    /// than 300 s from their clock
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    timestamp: Option<i64>,
    /// What to sign with.
    #[command(flatten)]
    secret: SecretArg,
}

/// Prints the signature of the body on stdout.
pub(crate) fn run(args: &SignArgs) -> Result<Exit, Failure> {
    let secret = args.secret.required()?;
    let source = match input::source(
        ("--body", args.body.as_deref()),
        ("--body-file", args.body_file.as_ref()),
    ) {
        Some(source) => source,
        None if args.stdin.is_some() => Source::Stdin,
        None => {
            return Err(Failure::usage(
                "no body to sign: give it with --body JSON, --body-file FILE, or `-` to read \
                 stdin (pillar sign - < call.json)",
            ))
        }
    };
    let body = source.read()?;
    // A body that is not JSON would only get `400 Invalid JSON`: say so now, where.
    input::parse_json(&source, &body)?;
    let now = unix_now();
    let timestamp = args.timestamp.unwrap_or(now);
    let off = timestamp.abs_diff(now);
    if off > DEFAULT_TOLERANCE.as_secs() {
        eprintln!(
            "note: --timestamp {timestamp} is {off} s from now; servers refuse signatures more \
             than {} s from their clock (what an expiry test wants)",
            DEFAULT_TOLERANCE.as_secs()
        );
    }
    println!(
        "{}",
        pillar::signature::sign(secret.expose(), &body, timestamp)
    );
    Ok(Exit::Success)
}

/// Now, in Unix seconds.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
