//! Refused requests and repeat deliveries, logged as a rate-limited summary: a flood of
//! unsigned or oversized requests, of HTTP/2 protocol errors, or of replays of one
//! captured signed request must not become a flood of log lines (50,000 of them would
//! write megabytes).
//!
//! Per window of [`WINDOW`], the first event is logged in full (its reason and detail,
//! so a misconfigured secret shows at once); the others are counted by reason, and the
//! next event after the window ends logs those counts in one line before its own. At
//! most two lines per window, whatever the traffic. Refusals, repeat deliveries and
//! `call_id` conflicts have a window each, so that a flood of one does not hide the
//! first of another.

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::observe::Untrusted;

/// How long a window lasts.
pub(crate) const WINDOW: Duration = Duration::from_secs(10);

/// Why a request was refused before any tool ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// 401: the signature is missing, stale or wrong.
    Signature,
    /// 413: the body is over the limit.
    TooLarge,
    /// 408: the body did not arrive in time.
    SlowBody,
    /// 400: the body could not be read.
    UnreadableBody,
    /// 503: too many calls in flight.
    Busy,
    /// 503: the budget of buffered body bytes stayed spent for the whole wait.
    BodyBudget,
    /// A connection closed: its first request's headers did not arrive within the
    /// header timeout.
    SlowHeaders,
    /// A connection closed at once: too many open.
    Connections,
    /// An HTTP/2 connection closed by the server (`GOAWAY`) for a protocol error of the
    /// client's: too many reset streams (rapid reset), a malformed frame, ...
    Http2Protocol,
    /// 403: an MCP request named a host (`Host` or `Origin`) that is not allowed.
    McpHost,
    /// 401: an MCP request without the bearer token, or with another.
    McpToken,
    /// 503: an MCP request over the cap of sessions or of requests in progress.
    McpCap,
}

impl Reason {
    pub(crate) const ALL: [Reason; 12] = [
        Reason::Signature,
        Reason::TooLarge,
        Reason::SlowBody,
        Reason::UnreadableBody,
        Reason::Busy,
        Reason::BodyBudget,
        Reason::SlowHeaders,
        Reason::Connections,
        Reason::Http2Protocol,
        Reason::McpHost,
        Reason::McpToken,
        Reason::McpCap,
    ];

    /// The reason's name in the summary.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::Signature => "invalid_signature",
            Reason::TooLarge => "body_too_large",
            Reason::SlowBody => "body_timeout",
            Reason::UnreadableBody => "body_unreadable",
            Reason::Busy => "busy",
            Reason::BodyBudget => "body_budget",
            Reason::SlowHeaders => "header_timeout",
            Reason::Connections => "connection_limit",
            Reason::Http2Protocol => "http2_protocol_error",
            Reason::McpHost => "mcp_host",
            Reason::McpToken => "mcp_token",
            Reason::McpCap => "mcp_cap",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Reason::Signature => "webhook refused: invalid signature (401)",
            Reason::TooLarge => "webhook refused: request body is larger than the limit (413)",
            Reason::SlowBody => "webhook refused: the request body did not arrive in time (408)",
            Reason::UnreadableBody => "webhook refused: the request body could not be read (400)",
            Reason::Busy => "webhook refused: too many calls in flight (503, Retry-After: 1)",
            Reason::BodyBudget => {
                "webhook refused: other request bodies hold the body budget (503, Retry-After: 1)"
            }
            Reason::SlowHeaders => {
                "connection closed: its request's headers did not arrive within the header timeout"
            }
            Reason::Connections => "connection closed at once: too many connections open",
            Reason::Http2Protocol => {
                "HTTP/2 connection closed: the client broke the protocol (GOAWAY)"
            }
            Reason::McpHost => "MCP request refused: its Host or Origin is not allowed (403)",
            Reason::McpToken => "MCP request refused: no valid bearer token (401)",
            Reason::McpCap => {
                "MCP request refused: too many sessions or requests in progress (503)"
            }
        }
    }

    fn index(self) -> usize {
        Reason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// A signed delivery of a call the record of calls knows already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// A repeat of a `call_id`: answered with the first delivery's answer.
    Delivery,
    /// A repeat of a call without `call_id` (the same signed body): answered likewise.
    SameBody,
    /// A `call_id` reused for a different request: 409, not run.
    Conflict,
}

impl Repeat {
    const ALL: [Repeat; 3] = [Repeat::Delivery, Repeat::SameBody, Repeat::Conflict];

    /// The kind's name in the summary.
    fn as_str(self) -> &'static str {
        match self {
            Repeat::Delivery => "repeat_delivery",
            Repeat::SameBody => "repeat_body",
            Repeat::Conflict => "call_id_conflict",
        }
    }

    fn index(self) -> usize {
        Repeat::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// The refusals and repeats of one `Pillar` (one server), counted per window.
#[derive(Debug, Default)]
pub(crate) struct Rejections {
    refusals: Window<{ Reason::ALL.len() }>,
    /// Repeat deliveries, of a `call_id` or of a body (indexed by [`Repeat::ALL`]).
    repeats: Window<{ Repeat::ALL.len() }>,
    /// `call_id` conflicts (at [`Repeat::Conflict`]'s index).
    conflicts: Window<{ Repeat::ALL.len() }>,
}

impl Rejections {
    /// Notes a refusal: logged in full if it is the window's first, counted otherwise.
    /// `detail` may hold text from the request: it is escaped and cut.
    pub(crate) fn note(&self, reason: Reason, detail: &dyn Display) {
        let now = millis_since_epoch();
        if let Some(counts) = self.refusals.admit(reason.index(), now) {
            report_refusals(&counts);
            tracing::warn!(
                reason = reason.as_str(),
                detail = %Untrusted::text(detail),
                "{} (further refusals are counted and summarised every {} s)",
                reason.what(),
                WINDOW.as_secs()
            );
        }
    }

    /// Notes a repeat delivery or a conflict of the tool `tool` (one the server serves)
    /// and `call_id`: logged in full if it is the window's first, counted otherwise.
    pub(crate) fn repeat(&self, kind: Repeat, tool: &str, call_id: &str) {
        let now = millis_since_epoch();
        let window = match kind {
            Repeat::Conflict => &self.conflicts,
            Repeat::Delivery | Repeat::SameBody => &self.repeats,
        };
        let Some(counts) = window.admit(kind.index(), now) else {
            return;
        };
        report_repeats(&counts);
        let every = WINDOW.as_secs();
        let call_id = Untrusted::id(call_id);
        match kind {
            Repeat::Delivery => tracing::info!(
                "pillar.tool" = tool,
                "pillar.call_id" = ?call_id,
                "repeat delivery: answered with the first delivery's answer (further \
                 repeats are counted and summarised every {every} s)"
            ),
            Repeat::SameBody => tracing::info!(
                "pillar.tool" = tool,
                "repeat of a call without call_id (the same signed body): answered with the \
                 first delivery's answer (further repeats are counted and summarised every \
                 {every} s)"
            ),
            Repeat::Conflict => tracing::warn!(
                "pillar.tool" = tool,
                "pillar.call_id" = ?call_id,
                "call_id reused for a different request: not run (further conflicts are \
                 counted and summarised every {every} s)"
            ),
        }
    }

    /// Logs the events counted in a window that has ended, if no later event did
    /// (called every [`WINDOW`] by `serve()`, so a flood's last counts are not left
    /// unsaid); the next event is then logged in full.
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn flush(&self) {
        self.flush_at(millis_since_epoch());
    }

    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    fn flush_at(&self, now: u64) {
        if let Some(counts) = self.refusals.flush_at(now) {
            report_refusals(&counts);
        }
        for window in [&self.repeats, &self.conflicts] {
            if let Some(counts) = window.flush_at(now) {
                report_repeats(&counts);
            }
        }
    }

    /// How many refusals of `reason` are counted and not yet summarised (tests).
    #[cfg(test)]
    fn pending(&self, reason: Reason) -> u64 {
        self.refusals.suppressed[reason.index()].load(Ordering::Relaxed)
    }
}

/// What a window counted and did not log in full, and how long it lasted.
struct Counts<const N: usize> {
    over_ms: u64,
    counts: [u64; N],
}

impl<const N: usize> Counts<N> {
    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `name=count` for each name with a count, space-separated.
    fn by_name(&self, names: impl Iterator<Item = &'static str>) -> String {
        names
            .zip(self.counts)
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{name}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Logs, in one line, the refusals counted since the last one logged in full.
fn report_refusals(counts: &Counts<{ Reason::ALL.len() }>) {
    let total = counts.total();
    if total == 0 {
        return;
    }
    let by_reason = counts.by_name(Reason::ALL.iter().map(|r| r.as_str()));
    let over_s = counts.over_ms / 1000;
    tracing::warn!(
        refused = total,
        over_s,
        "{total} more requests refused over the last {over_s} s: {by_reason}"
    );
}

/// Logs, in one line, the repeats or conflicts counted since the last one logged in
/// full.
fn report_repeats(counts: &Counts<{ Repeat::ALL.len() }>) {
    let total = counts.total();
    if total == 0 {
        return;
    }
    let by_kind = counts.by_name(Repeat::ALL.iter().map(|r| r.as_str()));
    let over_s = counts.over_ms / 1000;
    if counts.counts[Repeat::Conflict.index()] > 0 {
        tracing::warn!(
            repeated = total,
            over_s,
            "{total} more call_id conflicts over the last {over_s} s: {by_kind}"
        );
    } else {
        tracing::info!(
            repeated = total,
            over_s,
            "{total} more repeat deliveries answered from the record over the last {over_s} \
             s: {by_kind}"
        );
    }
}

/// One kind of event, counted per window at `N` indexes.
#[derive(Debug)]
struct Window<const N: usize> {
    /// When the current window started, in ms since [`millis_since_epoch`]'s start (0: none yet).
    window_start: AtomicU64,
    /// Events not logged in full in the current window, by index.
    suppressed: [AtomicU64; N],
}

impl<const N: usize> Default for Window<N> {
    fn default() -> Self {
        Self {
            window_start: AtomicU64::new(0),
            suppressed: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl<const N: usize> Window<N> {
    /// An event at `index`, at `now`: the counts of the window that ended if this event
    /// opens a new one (log them, then the event in full), `None` if it is counted.
    fn admit(&self, index: usize, now: u64) -> Option<Counts<N>> {
        let start = self.window_start.load(Ordering::Relaxed);
        let window = u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX);
        let new_window = start == 0 || now.saturating_sub(start) >= window;
        if new_window
            && self
                .window_start
                .compare_exchange(start, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            Some(self.take(now.saturating_sub(start)))
        } else {
            if let Some(count) = self.suppressed.get(index) {
                count.fetch_add(1, Ordering::Relaxed);
            }
            None
        }
    }

    /// The counts of a window that has ended by `now`, if any; the next event then
    /// opens a new window.
    fn flush_at(&self, now: u64) -> Option<Counts<N>> {
        let start = self.window_start.load(Ordering::Relaxed);
        if start == 0 {
            return None;
        }
        let window = u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX);
        (now.saturating_sub(start) >= window
            && self
                .window_start
                .compare_exchange(start, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok())
        .then(|| self.take(now.saturating_sub(start)))
    }

    fn take(&self, over_ms: u64) -> Counts<N> {
        Counts {
            over_ms,
            counts: std::array::from_fn(|i| self.suppressed[i].swap(0, Ordering::Relaxed)),
        }
    }
}

/// Milliseconds since the first call, plus one so that 0 means "no window yet".
fn millis_since_epoch() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

/// The HTTP/2 protocol error in `err`'s chain of sources, if the connection ended for
/// one the server detected (h2 sent `GOAWAY` with an error code): a client breaking the
/// protocol, such as a rapid-reset flood. I/O errors, a client's own `GOAWAY` and
/// HTTP/1 errors are not.
#[cfg(feature = "serve")]
pub(crate) fn http2_protocol_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a h2::Error> {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            let detected = h2.is_go_away()
                && h2.is_library()
                && h2
                    .reason()
                    .is_some_and(|reason| reason != h2::Reason::NO_ERROR);
            return detected.then_some(h2);
        }
        next = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_of_a_window_is_logged_in_full() {
        let rejections = Rejections::default();
        for _ in 0..1000 {
            rejections.note(Reason::Signature, &"stale");
        }
        rejections.note(Reason::Busy, &"");
        rejections.note(Reason::Http2Protocol, &"too_many_resets");
        assert_eq!(rejections.pending(Reason::Signature), 999);
        assert_eq!(rejections.pending(Reason::Busy), 1);
        assert_eq!(rejections.pending(Reason::Http2Protocol), 1);
        // A new window (as if the last one had ended): the counts are reported and start
        // again.
        rejections.refusals.window_start.store(0, Ordering::Relaxed);
        rejections.note(Reason::TooLarge, &"2 MiB");
        assert_eq!(rejections.pending(Reason::Signature), 0);
        assert_eq!(rejections.pending(Reason::Busy), 0);
        assert_eq!(rejections.pending(Reason::TooLarge), 0);
        // The window's counts are flushed once it has ended, even with no later refusal.
        rejections.note(Reason::Busy, &"");
        rejections.flush();
        assert_eq!(
            rejections.pending(Reason::Busy),
            1,
            "the window has not ended"
        );
        let start = rejections.refusals.window_start.load(Ordering::Relaxed);
        rejections.flush_at(start + WINDOW.as_millis() as u64);
        assert_eq!(rejections.pending(Reason::Busy), 0);
        assert_eq!(rejections.refusals.window_start.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn repeats_and_conflicts_have_windows_of_their_own() {
        let rejections = Rejections::default();
        rejections.note(Reason::Signature, &"stale");
        for _ in 0..100 {
            rejections.repeat(Repeat::Delivery, "echo", "c1");
        }
        rejections.repeat(Repeat::SameBody, "echo", "");
        // The first conflict is logged in full despite the flood of repeats.
        rejections.repeat(Repeat::Conflict, "echo", "c1");
        rejections.repeat(Repeat::Conflict, "echo", "c1");
        let pending = |window: &Window<3>, kind: Repeat| {
            window.suppressed[kind.index()].load(Ordering::Relaxed)
        };
        assert_eq!(pending(&rejections.repeats, Repeat::Delivery), 99);
        assert_eq!(pending(&rejections.repeats, Repeat::SameBody), 1);
        assert_eq!(pending(&rejections.conflicts, Repeat::Conflict), 1);
        assert_eq!(rejections.pending(Reason::Signature), 0);
        let start = rejections.repeats.window_start.load(Ordering::Relaxed);
        rejections.flush_at(start + WINDOW.as_millis() as u64 + 1);
        assert_eq!(pending(&rejections.repeats, Repeat::Delivery), 0);
        assert_eq!(pending(&rejections.conflicts, Repeat::Conflict), 0);
    }
}
