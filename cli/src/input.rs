//! What the subcommands share: the secret, the server's URL and timeout, and reading
//! JSON from an option, a file or stdin with errors that name the position.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use crate::exit::Failure;

/// The URL when neither `--url` nor `PILLAR_ENDPOINT_URL` gives one: where
/// `pillar::serve()` listens by default.
pub(crate) const DEFAULT_URL: &str = "http://127.0.0.1:8787/";

/// A signing secret. Its `Debug` is redacted, and nothing prints it.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    /// The secret's text, for signing.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl FromStr for Secret {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the secret is empty: give the server's secret (PILLAR_SECRET)".to_owned());
        }
        Ok(Self(text.to_owned()))
    }
}

/// `--secret`, else `PILLAR_SECRET`.
#[derive(Debug, Args)]
pub(crate) struct SecretArg {
    /// The secret to sign with [default: $PILLAR_SECRET, the first one if it lists several,
    /// comma-separated]. Prefer the variable: an option shows in the process list
    #[arg(long, value_name = "SECRET")]
    secret: Option<Secret>,
}

impl SecretArg {
    /// The secret from `--secret` or `PILLAR_SECRET`, if either gives one.
    pub(crate) fn optional(&self) -> Option<Secret> {
        self.secret.clone().or_else(|| {
            let all = std::env::var("PILLAR_SECRET").ok()?;
            all.split(',').find_map(|one| one.parse().ok())
        })
    }

    /// The secret, or the error that says where to put it.
    pub(crate) fn required(&self) -> Result<Secret, Failure> {
        self.optional().ok_or_else(|| {
            Failure::usage(
                "no secret to sign with: set PILLAR_SECRET to the server's secret (the one \
                 it was started with), or pass --secret SECRET",
            )
        })
    }
}

/// Where the server is and how long to wait for it.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// The server's webhook URL [default: $PILLAR_ENDPOINT_URL, else http://127.0.0.1:8787/]
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// How long to wait for the answer, in seconds
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_timeout)]
    pub(crate) timeout: Duration,
}

impl Target {
    /// The URL from `--url`, `PILLAR_ENDPOINT_URL` or the default, checked for a scheme.
    pub(crate) fn url(&self) -> Result<String, Failure> {
        let (url, from) = match &self.url {
            Some(url) => (url.trim().to_owned(), "--url"),
            None => match std::env::var("PILLAR_ENDPOINT_URL") {
                Ok(url) if !url.trim().is_empty() => (url.trim().to_owned(), "PILLAR_ENDPOINT_URL"),
                _ => (DEFAULT_URL.to_owned(), "the default URL"),
            },
        };
        check_url(&url, from)?;
        Ok(url)
    }
}

/// Refuses a URL without an `http://` or `https://` scheme, before any request.
fn check_url(url: &str, from: &str) -> Result<(), Failure> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        if url
            .split_once("://")
            .is_some_and(|(_, rest)| rest.is_empty())
        {
            return Err(Failure::usage(format!(
                "{from} `{url}` has no host: use a URL like {DEFAULT_URL}"
            )));
        }
        return Ok(());
    }
    let hint = if url.contains("://") {
        "only http:// and https:// URLs are supported".to_owned()
    } else {
        format!("add the scheme: http://{url}")
    };
    Err(Failure::usage(format!(
        "{from} `{url}` is not an http(s) URL: {hint}"
    )))
}

/// `--timeout`: a positive number of seconds.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|secs| secs.is_finite() && *secs > 0.0 && *secs < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("`{text}` is not a positive number of seconds, like 10 or 0.5"))
}

/// Where a JSON text comes from, to read it and to name it in messages.
#[derive(Debug)]
pub(crate) enum Source<'a> {
    /// Given inline, by the named option.
    Inline {
        /// The option, like `--args`.
        option: &'static str,
        /// Its value.
        text: &'a str,
    },
    /// A file (`-` for stdin), given by the named option.
    File {
        /// The option, like `--args-file`.
        option: &'static str,
        /// The path.
        path: &'a Path,
    },
    /// Standard input.
    Stdin,
}

impl Source<'_> {
    /// The bytes, exactly as given.
    pub(crate) fn read(&self) -> Result<Vec<u8>, Failure> {
        match self {
            Self::Inline { text, .. } => Ok(text.as_bytes().to_vec()),
            Self::File { path, .. } if *path == Path::new("-") => Source::Stdin.read(),
            Self::File { option, path } => std::fs::read(path).map_err(|err| {
                Failure::usage(format!(
                    "{option}: cannot read {}: {err}; check the path",
                    path.display()
                ))
            }),
            Self::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .map_err(|err| Failure::usage(format!("cannot read stdin: {err}")))?;
                Ok(bytes)
            }
        }
    }

    /// What to call it in messages: `--args`, `--args-file call.json`, `stdin`.
    fn name(&self) -> String {
        match self {
            Self::Inline { option, .. } => (*option).to_owned(),
            Self::File { path, .. } if *path == Path::new("-") => "stdin".to_owned(),
            Self::File { option, path } => format!("{option} {}", path.display()),
            Self::Stdin => "stdin".to_owned(),
        }
    }
}

/// A source from an inline option and a file option, at most one of which is set
/// (clap enforces it); `None` when neither is.
pub(crate) fn source<'a>(
    inline: (&'static str, Option<&'a str>),
    file: (&'static str, Option<&'a PathBuf>),
) -> Option<Source<'a>> {
    match (inline, file) {
        ((option, Some(text)), _) => Some(Source::Inline { option, text }),
        (_, (option, Some(path))) => Some(Source::File { option, path }),
        _ => None,
    }
}

/// Parses `bytes` from `source` as JSON; the error names the line and column, shows the
/// spot, and says how to fix the usual mistakes.
pub(crate) fn parse_json(source: &Source<'_>, bytes: &[u8]) -> Result<Value, Failure> {
    serde_json::from_slice(bytes).map_err(|err| Failure::usage(json_error(source, bytes, &err)))
}

/// Reads a JSON object from `source`: tool arguments or a confirmation payload.
pub(crate) fn read_object(source: &Source<'_>) -> Result<Value, Failure> {
    let value = parse_json(source, &source.read()?)?;
    if value.is_object() {
        return Ok(value);
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    Err(Failure::usage(format!(
        "{} must be a JSON object, like {{\"email\": \"sarah@acme.com\"}}, but is {kind}",
        source.name()
    )))
}

/// The message for JSON that does not parse: what, where, the line with a caret under
/// the spot, and a hint.
fn json_error(source: &Source<'_>, bytes: &[u8], err: &serde_json::Error) -> String {
    let name = source.name();
    let text = String::from_utf8_lossy(bytes);
    if text.trim().is_empty() {
        return format!(
            "{name} is empty: give a JSON object, like {{\"email\": \"sarah@acme.com\"}}"
        );
    }
    let mut message = format!("{name} is not valid JSON: {err}");
    if let Some(excerpt) = excerpt(&text, err.line(), err.column()) {
        message.push('\n');
        message.push_str(&excerpt);
    }
    let hint = match source {
        Source::Inline { option, .. } => format!(
            "\nhint: put the JSON in single quotes so that the shell keeps its double quotes: \
             {option} '{{\"email\": \"sarah@acme.com\"}}'"
        ),
        Source::File { .. } | Source::Stdin => {
            format!(
                "\nhint: fix {name} at line {} column {}",
                err.line(),
                err.column()
            )
        }
    };
    message.push_str(&hint);
    message
}

/// Line `line` (1-based) of `text`, shortened around the spot when long, with a `^` under
/// column `column` (1-based, in bytes, as serde_json counts).
fn excerpt(text: &str, line: usize, column: usize) -> Option<String> {
    const WIDTH: usize = 72;
    let source_line = text.lines().nth(line.checked_sub(1)?)?;
    // The caret's position in characters: those that start before the column's byte.
    let at = source_line
        .char_indices()
        .take_while(|(i, _)| *i < column.saturating_sub(1))
        .count();
    let chars: Vec<char> = source_line.chars().collect();
    let start = at.saturating_sub(WIDTH / 2).min(chars.len());
    let end = (start + WIDTH).min(chars.len());
    let lead = if start > 0 { "..." } else { "" };
    let tail = if end < chars.len() { "..." } else { "" };
    let shown: String = chars[start..end].iter().collect();
    let caret = " ".repeat(lead.len() + at - start);
    Some(format!("  {lead}{shown}{tail}\n  {caret}^"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;

    use super::{check_url, excerpt, parse_json, parse_timeout, read_object, Source};

    fn inline(text: &str) -> Source<'_> {
        Source::Inline {
            option: "--args",
            text,
        }
    }

    #[test]
    fn bad_json_names_the_position_and_shows_it() {
        let source = inline(r#"{"email": sarah}"#);
        let err = parse_json(&source, r#"{"email": sarah}"#.as_bytes()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("--args is not valid JSON: expected value at line 1 column 11"),
            "{message}"
        );
        assert!(
            message.contains("  {\"email\": sarah}\n            ^"),
            "{message}"
        );
        assert!(message.contains("single quotes"), "{message}");
    }

    #[test]
    fn bad_json_in_a_file_says_where_to_fix_it() {
        let path = Path::new("call.json");
        let source = Source::File {
            option: "--args-file",
            path,
        };
        let err = parse_json(&source, b"{\n  \"a\": 1,\n}").unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("--args-file call.json is not valid JSON: trailing comma"),
            "{message}"
        );
        assert!(message.contains("line 3 column 1"), "{message}");
        assert!(
            message.ends_with("hint: fix --args-file call.json at line 3 column 1"),
            "{message}"
        );
    }

    #[test]
    fn empty_json_says_what_to_give() {
        let err = parse_json(&inline(" "), b" ").unwrap_err();
        assert!(err.to_string().starts_with("--args is empty"), "{err}");
    }

    #[test]
    fn arguments_must_be_an_object() {
        let err = read_object(&inline("[1, 2]")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--args must be a JSON object, like {\"email\": \"sarah@acme.com\"}, but is an array"
        );
        assert!(read_object(&inline(r#"{"a": 1}"#)).is_ok());
    }

    #[test]
    fn the_caret_counts_characters_and_long_lines_are_cut_around_it() {
        // `é` is two bytes: the caret stays under the `x` (byte column 8, character 7).
        assert_eq!(
            excerpt("{\"é\": x}", 1, 8).unwrap(),
            "  {\"é\": x}\n        ^"
        );
        let long = format!("{}X{}", "a".repeat(100), "b".repeat(100));
        let shown = excerpt(&long, 1, 101).unwrap();
        let (line, caret) = shown.split_once('\n').unwrap();
        assert!(
            line.starts_with("  ...") && line.ends_with("..."),
            "{shown}"
        );
        assert_eq!(line.find('X'), Some(caret.find('^').unwrap()), "{shown}");
        assert_eq!(excerpt("{}", 2, 1), None);
    }

    #[test]
    fn urls_need_an_http_scheme_and_a_host() {
        assert!(check_url("http://127.0.0.1:8787/", "--url").is_ok());
        assert!(check_url("HTTPS://api.example.com/pillar", "--url").is_ok());
        let err = check_url("localhost:8787", "--url").unwrap_err();
        assert_eq!(
            err.to_string(),
            "--url `localhost:8787` is not an http(s) URL: add the scheme: http://localhost:8787"
        );
        assert!(check_url("ftp://x", "--url").is_err());
        assert!(check_url("http://", "--url").is_err());
    }

    #[test]
    fn timeouts_are_positive_seconds() {
        assert_eq!(parse_timeout("0.5").unwrap().as_millis(), 500);
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("-1").is_err());
        assert!(parse_timeout("soon").is_err());
        assert!(parse_timeout("inf").is_err());
    }
}
