//! `pillar ping`: is a Pillar server answering at the URL?

use std::time::Instant;

use clap::Args;
use pillar::http::StatusCode;
use pillar::protocol::WebhookClient;
use serde_json::{json, Value};

use crate::call::{print_answer, transport_failure};
use crate::exit::{Exit, Failure};
use crate::input::{SecretArg, Target};

/// The body of a ping.
const PING: &[u8] = br#"{"action":"ping"}"#;

/// `pillar ping`'s options.
#[derive(Debug, Args)]
pub(crate) struct PingArgs {
    /// Where to send it.
    #[command(flatten)]
    target: Target,
    /// A ping needs no signature; it is signed when a secret is given (--secret or
    /// PILLAR_SECRET), as Pillar Cloud signs everything.
    #[command(flatten)]
    secret: SecretArg,
}

/// Sends `{"action": "ping"}` and reports the answer.
pub(crate) async fn run(args: PingArgs) -> Result<Exit, Failure> {
    let url = args.target.url()?;
    let secret = args.secret.optional();
    let client = WebhookClient::new(
        url.clone(),
        secret.as_ref().map_or("", |secret| secret.expose()),
    )
    .timeout(args.target.timeout);
    let started = Instant::now();
    let sent = match secret {
        Some(_) => client.send_signed(PING).await,
        None => client.send(PING, None).await,
    };
    let (status, answer) = sent.map_err(|err| transport_failure(&err, &url))?;
    let elapsed = started.elapsed().as_millis();
    print_answer(&answer);
    let (exit, text) = describe(&url, status, &answer, elapsed);
    eprintln!("{text}");
    Ok(exit)
}

/// The exit code and the status line for a ping's answer.
fn describe(url: &str, status: StatusCode, answer: &Value, elapsed_ms: u128) -> (Exit, String) {
    if status == StatusCode::OK && *answer == json!({"status": "ok"}) {
        return (
            Exit::Success,
            format!("HTTP {status}: the Pillar server at {url} answers ({elapsed_ms} ms)"),
        );
    }
    let why = if status.is_success() {
        "answered, but not {\"status\": \"ok\"} as a Pillar server does"
    } else {
        "answered with an error status"
    };
    (
        Exit::Http,
        format!(
            "HTTP {status}: {url} {why}: is it the webhook URL of a Pillar server? (a Pillar \
             server takes webhooks on / and on its path, default /pillar)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use pillar::http::StatusCode;
    use serde_json::json;

    use super::describe;
    use crate::exit::Exit;

    #[test]
    fn only_a_pillar_servers_answer_is_success() {
        let url = "http://127.0.0.1:8787/";
        let (exit, text) = describe(url, StatusCode::OK, &json!({"status": "ok"}), 3);
        assert_eq!(exit, Exit::Success);
        assert_eq!(
            text,
            "HTTP 200 OK: the Pillar server at http://127.0.0.1:8787/ answers (3 ms)"
        );
        let (exit, _) = describe(url, StatusCode::OK, &json!("<html>"), 3);
        assert_eq!(exit, Exit::Http);
        let (exit, text) = describe(url, StatusCode::NOT_FOUND, &json!(null), 3);
        assert_eq!(exit, Exit::Http);
        assert!(
            text.starts_with(
                "HTTP 404 Not Found: http://127.0.0.1:8787/ answered with an error status"
            ),
            "{text}"
        );
    }
}
