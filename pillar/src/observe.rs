//! What the SDK tells an operator: metrics and `tracing` spans.
//!
//! # Metrics
//!
//! Through the [`metrics`] facade: install the exporter you run (Prometheus,
//! OpenTelemetry, StatsD) and the SDK's metrics appear in it (`examples/metrics.rs` serves
//! them on `/metrics` with `metrics-exporter-prometheus`). Without a recorder, each
//! metric costs the facade's check for one.
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `pillar_calls_total` | counter | `tool`, `outcome` | calls answered, by outcome (below) |
//! | `pillar_call_duration_seconds` | histogram | `tool` | how long a tool ran (calls that ran it) |
//! | `pillar_calls_in_flight` | gauge | | calls running now |
//! | `pillar_record_answers` | gauge | | answers in the in-memory record of calls |
//! | `pillar_record_evictions_total` | counter | | records the in-memory record forgot to make room |
//! | `pillar_registrations_total` | counter | `outcome` (`ok`, `error`) | registration attempts with Pillar Cloud |
//! | `pillar_rejections_total` | counter | `reason` | requests refused before any tool ran (the same counts as the log's summary) |
//!
//! `outcome` of a call: `ok`, `tool_error` (the tool answered an error), `invalid_arguments`,
//! `timeout`, `panic`, `wrong_channel`, `from_record` (a repeat answered from the record),
//! `conflict` (a `call_id` reused for another call), `refused` (the record of calls full or
//! unreachable: not run), `shed` (too many calls in flight: 503), `unknown_tool`.
//!
//! `reason` of a rejection: `invalid_signature`, `body_too_large`, `body_timeout`,
//! `body_unreadable`, `busy`, `body_budget` (the bytes of request bodies being read at
//! once reached `ServerLimits::body_budget`), `header_timeout` (a connection whose first
//! request's headers did not arrive in time), `connection_limit`, `http2_protocol_error` (an HTTP/2
//! connection the server closed with `GOAWAY` for a protocol error of the client's, such
//! as a rapid-reset flood).
//!
//! Label values are bounded: `tool` is one of the tools served, or `unknown` for a name
//! the server does not serve (an unsigned sender cannot create label values: its request
//! is refused before the tool name is read). The keys are built once per tool when the
//! `Pillar` is built.
//!
//! # Spans
//!
//! Named and shaped after OpenTelemetry's conventions, so a `tracing-opentelemetry`
//! layer exports them as they are. Durations are `duration_ms`, a float, everywhere.
//!
//! The spans are DEBUG, as tower-http's are: enable them with `RUST_LOG=info,pillar=debug`,
//! or give the layer that exports them a filter of its own that lets `pillar=debug`
//! through. At INFO under `serve()`'s default logging, formatting their fields on every
//! call cost about a quarter of its throughput (BENCHMARKS.md). The SDK's own lines
//! about a call (a panic, a repeat delivery, a reused `call_id`, a record that cannot be
//! written) carry `pillar.tool` and `pillar.call_id` themselves, so they say which call
//! they are about at any level.
//!
//! Under attack the log stays small: refused requests, HTTP/2 protocol errors, repeat
//! deliveries and reused `call_id`s are each logged in full once per 10 s and counted in
//! a summary line otherwise. Text that came from outside (a `call_id`, a tool name,
//! Pillar Cloud's answer, a panic's message, a store's error) has its control
//! characters escaped (`\n`, `\u{1b}`, ...) and is cut at 128 characters (ids and
//! names) or 1,024 (messages) with `…(+N bytes)`, so it cannot forge a log line.
//!
//! | span | level | fields | one per |
//! |---|---|---|---|
//! | `pillar.webhook` | DEBUG | `http.request.method`, `url.path`, `http.response.status_code`, `duration_ms` | HTTP request through `serve()` or an adapter |
//! | `pillar.call` | DEBUG | `pillar.tool`, `pillar.call_id`, `pillar.action` (`tool_call`, `tool_confirm`), `pillar.channel`, `pillar.conversation_id`, `pillar.outcome` (the labels above), `duration_ms` | verified call of a tool the server serves |
//!
//! Inside `pillar.call`, the event `tool call answered` (DEBUG: `RUST_LOG=pillar=debug`
//! shows it; at INFO it cost about a third of `serve()`'s throughput) carries
//! `pillar.outcome` and `duration_ms`; a tool's own events are inside it too, when the
//! span is enabled. Arguments, results and
//! secrets are never recorded in a span or an event at INFO (secrets at no level: they
//! are redacted from every message).

use std::fmt::{self, Write as _};
use std::time::Duration;

use metrics::{Key, Label, Level, Metadata};

use crate::rejections::Reason;

static META: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The `tool` label of a tool the server does not serve.
pub(crate) const UNKNOWN_TOOL: &str = "unknown";

/// How a call ended, for `pillar_calls_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    ToolError,
    InvalidArguments,
    Timeout,
    Panic,
    WrongChannel,
    FromRecord,
    Conflict,
    Refused,
    Shed,
    UnknownTool,
}

impl Outcome {
    const ALL: [Outcome; 11] = [
        Outcome::Ok,
        Outcome::ToolError,
        Outcome::InvalidArguments,
        Outcome::Timeout,
        Outcome::Panic,
        Outcome::WrongChannel,
        Outcome::FromRecord,
        Outcome::Conflict,
        Outcome::Refused,
        Outcome::Shed,
        Outcome::UnknownTool,
    ];

    /// The label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ToolError => "tool_error",
            Outcome::InvalidArguments => "invalid_arguments",
            Outcome::Timeout => "timeout",
            Outcome::Panic => "panic",
            Outcome::WrongChannel => "wrong_channel",
            Outcome::FromRecord => "from_record",
            Outcome::Conflict => "conflict",
            Outcome::Refused => "refused",
            Outcome::Shed => "shed",
            Outcome::UnknownTool => "unknown_tool",
        }
    }

    fn index(self) -> usize {
        Outcome::ALL.iter().position(|o| *o == self).unwrap_or(0)
    }
}

/// One tool's metric keys.
#[derive(Debug)]
struct ToolKeys {
    calls: Vec<Key>,
    duration: Key,
}

impl ToolKeys {
    fn new(tool: &str) -> Self {
        let tool = tool.to_owned();
        Self {
            calls: Outcome::ALL
                .iter()
                .map(|outcome| {
                    Key::from_parts(
                        "pillar_calls_total",
                        vec![
                            Label::new("tool", tool.clone()),
                            Label::new("outcome", outcome.as_str()),
                        ],
                    )
                })
                .collect(),
            duration: Key::from_parts(
                "pillar_call_duration_seconds",
                vec![Label::new("tool", tool)],
            ),
        }
    }
}

/// Every metric key of one `Pillar`, built once.
#[derive(Debug)]
pub(crate) struct Metrics {
    /// In the order of the `Pillar`'s tools.
    tools: Vec<ToolKeys>,
    unknown: ToolKeys,
    in_flight: Key,
    record_answers: Key,
    evictions: Key,
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    registrations_ok: Key,
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    registrations_error: Key,
    rejections: Vec<(Reason, Key)>,
}

impl Metrics {
    /// The keys for `tools` (names, in the `Pillar`'s order); describes the metrics to
    /// the recorder installed now, if any.
    pub(crate) fn new<'a>(tools: impl Iterator<Item = &'a str>) -> Self {
        describe();
        Self {
            tools: tools.map(ToolKeys::new).collect(),
            unknown: ToolKeys::new(UNKNOWN_TOOL),
            in_flight: Key::from_name("pillar_calls_in_flight"),
            record_answers: Key::from_name("pillar_record_answers"),
            evictions: Key::from_name("pillar_record_evictions_total"),
            registrations_ok: Key::from_parts(
                "pillar_registrations_total",
                vec![Label::new("outcome", "ok")],
            ),
            registrations_error: Key::from_parts(
                "pillar_registrations_total",
                vec![Label::new("outcome", "error")],
            ),
            rejections: Reason::ALL
                .iter()
                .map(|reason| {
                    (
                        *reason,
                        Key::from_parts(
                            "pillar_rejections_total",
                            vec![Label::new("reason", reason.as_str())],
                        ),
                    )
                })
                .collect(),
        }
    }

    fn keys(&self, tool: Option<usize>) -> &ToolKeys {
        tool.and_then(|i| self.tools.get(i))
            .unwrap_or(&self.unknown)
    }

    /// A call of the tool at `tool` (`None`: not one we serve) ended with `outcome`.
    pub(crate) fn call(&self, tool: Option<usize>, outcome: Outcome) {
        let key = &self.keys(tool).calls[outcome.index()];
        metrics::with_recorder(|r| r.register_counter(key, &META).increment(1));
    }

    /// The tool at `tool` ran for `took`.
    pub(crate) fn duration(&self, tool: usize, took: Duration) {
        let key = &self.keys(Some(tool)).duration;
        metrics::with_recorder(|r| r.register_histogram(key, &META).record(took.as_secs_f64()));
    }

    /// `running` calls are in flight now.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn in_flight(&self, running: usize) {
        metrics::with_recorder(|r| {
            r.register_gauge(&self.in_flight, &META).set(running as f64);
        });
    }

    /// The in-memory record holds `answers`, and has evicted `evicted` since it started.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn record(&self, answers: usize, evicted: u64) {
        metrics::with_recorder(|r| {
            r.register_gauge(&self.record_answers, &META)
                .set(answers as f64);
            r.register_counter(&self.evictions, &META).absolute(evicted);
        });
    }

    /// A registration attempt ended.
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn registration(&self, ok: bool) {
        let key = if ok {
            &self.registrations_ok
        } else {
            &self.registrations_error
        };
        metrics::with_recorder(|r| r.register_counter(key, &META).increment(1));
    }

    /// A request was refused for `reason`.
    pub(crate) fn rejection(&self, reason: Reason) {
        if let Some((_, key)) = self.rejections.iter().find(|(r, _)| *r == reason) {
            metrics::with_recorder(|r| r.register_counter(key, &META).increment(1));
        }
    }
}

/// Names each metric's unit and meaning to the recorder installed now.
fn describe() {
    use metrics::Unit;
    metrics::describe_counter!(
        "pillar_calls_total",
        Unit::Count,
        "Tool calls answered, by tool and outcome"
    );
    metrics::describe_histogram!(
        "pillar_call_duration_seconds",
        Unit::Seconds,
        "How long a tool ran"
    );
    metrics::describe_gauge!(
        "pillar_calls_in_flight",
        Unit::Count,
        "Tool calls running now"
    );
    metrics::describe_gauge!(
        "pillar_record_answers",
        Unit::Count,
        "Answers kept in the in-memory record of calls"
    );
    metrics::describe_counter!(
        "pillar_record_evictions_total",
        Unit::Count,
        "Records the in-memory record of calls forgot to make room"
    );
    metrics::describe_counter!(
        "pillar_registrations_total",
        Unit::Count,
        "Registration attempts with Pillar Cloud, by outcome"
    );
    metrics::describe_counter!(
        "pillar_rejections_total",
        Unit::Count,
        "Requests refused before any tool ran, by reason"
    );
}

/// The longest id or name (a `call_id`, a tool name, a store key) a log line holds, in
/// characters; the rest is cut, with a marker saying how many bytes were left out.
pub(crate) const MAX_LOGGED_ID_CHARS: usize = 128;
/// The longest text from outside (Pillar Cloud's answer, a panic's message, a store's
/// error) a log line holds, in characters.
pub(crate) const MAX_LOGGED_TEXT_CHARS: usize = 1024;

/// A value that came from outside the process (a `call_id`, a tool name, Pillar Cloud's
/// answer, a panic's message), made safe for one log line: control characters (C0, DEL,
/// C1 such as U+0085), the line and paragraph separators U+2028/U+2029 and the bidi
/// overrides are escaped (`\n`, `\r`, `\t`, `\u{1b}`), so a value cannot start a forged
/// line, move the cursor or reorder what a terminal shows; and it is cut at a bounded
/// length, with `…(+N bytes)` saying how much was left out.
///
/// `Display` writes the escaped text as it is (for `error = %...`); `Debug` quotes it and
/// escapes `"` and `\` too (for `pillar.call_id = ?...`, as a `&str` field prints).
/// Neither allocates: the value is written through an escaping writer, chunk by chunk.
pub(crate) struct Untrusted<T> {
    value: T,
    max_chars: usize,
}

impl<T: fmt::Display> Untrusted<T> {
    /// An id or a name: cut at [`MAX_LOGGED_ID_CHARS`].
    pub(crate) fn id(value: T) -> Self {
        Self {
            value,
            max_chars: MAX_LOGGED_ID_CHARS,
        }
    }

    /// A message: cut at [`MAX_LOGGED_TEXT_CHARS`].
    pub(crate) fn text(value: T) -> Self {
        Self {
            value,
            max_chars: MAX_LOGGED_TEXT_CHARS,
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, quoted: bool) -> fmt::Result {
        if quoted {
            f.write_char('"')?;
        }
        let mut escaper = Escaper {
            out: f,
            left: self.max_chars,
            cut_bytes: 0,
            quoted,
        };
        fmt::write(&mut escaper, format_args!("{}", self.value))?;
        let cut = escaper.cut_bytes;
        if cut > 0 {
            write!(f, "…(+{cut} bytes)")?;
        }
        if quoted {
            f.write_char('"')?;
        }
        Ok(())
    }
}

impl<T: fmt::Display> fmt::Display for Untrusted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

impl<T: fmt::Display> fmt::Debug for Untrusted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, true)
    }
}

/// Writes what it is given to `out`, escaped, up to `left` characters; counts the bytes
/// past that.
struct Escaper<'a, 'b> {
    out: &'a mut fmt::Formatter<'b>,
    left: usize,
    cut_bytes: usize,
    quoted: bool,
}

impl fmt::Write for Escaper<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // The plain run not written yet starts at `start`.
        let mut start = 0;
        for (at, c) in s.char_indices() {
            if self.left == 0 {
                self.out.write_str(&s[start..at])?;
                self.cut_bytes += s.len() - at;
                return Ok(());
            }
            self.left -= 1;
            if needs_escape(c, self.quoted) {
                self.out.write_str(&s[start..at])?;
                match c {
                    '\n' => self.out.write_str("\\n")?,
                    '\r' => self.out.write_str("\\r")?,
                    '\t' => self.out.write_str("\\t")?,
                    '"' => self.out.write_str("\\\"")?,
                    '\\' => self.out.write_str("\\\\")?,
                    _ => write!(self.out, "{}", c.escape_unicode())?,
                }
                start = at + c.len_utf8();
            }
        }
        self.out.write_str(&s[start..])
    }
}

/// Whether `c` is written escaped: control characters (C0, DEL, C1), the line and
/// paragraph separators, the bidi marks, embeddings, overrides and isolates; and, in a
/// quoted value, `"` and `\`.
fn needs_escape(c: char, quoted: bool) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{061c}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
        || (quoted && matches!(c, '"' | '\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_escaped_and_cut() {
        let text = "a\nb\rc\u{1b}[31md\u{7}e\u{85}f\u{2028}g\u{202e}h\t\"\\";
        assert_eq!(
            Untrusted::text(text).to_string(),
            "a\\nb\\rc\\u{1b}[31md\\u{7}e\\u{85}f\\u{2028}g\\u{202e}h\\t\"\\"
        );
        assert_eq!(
            format!("{:?}", Untrusted::id("say \"hi\"\\")),
            "\"say \\\"hi\\\"\\\\\""
        );
        assert_eq!(format!("{:?}", Untrusted::id("call_1")), "\"call_1\"");
        // Cut at 128 characters (not bytes), with what was left out.
        let long = "é".repeat(200);
        let shown = Untrusted::id(&long).to_string();
        assert_eq!(shown, format!("{}…(+144 bytes)", "é".repeat(128)));
        // Through another Display, written in several chunks.
        let shown =
            Untrusted::id(format_args!("{}{}", "x".repeat(100), "y\n".repeat(50))).to_string();
        assert_eq!(
            shown,
            format!("{}{}…(+72 bytes)", "x".repeat(100), "y\\n".repeat(14))
        );
    }
}
