//! Refused requests, logged as a rate-limited summary: a flood of unsigned or oversized
//! requests must not become a flood of log lines (50,000 of them would write megabytes).
//!
//! Per window of [`WINDOW`], the first refusal is logged in full (its reason and detail,
//! so a misconfigured secret shows at once); the others are counted by reason, and the
//! next refusal after the window ends logs those counts in one line before its own. At
//! most two lines per window, whatever the traffic.

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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
    /// A connection closed at once: too many open.
    Connections,
}

impl Reason {
    pub(crate) const ALL: [Reason; 6] = [
        Reason::Signature,
        Reason::TooLarge,
        Reason::SlowBody,
        Reason::UnreadableBody,
        Reason::Busy,
        Reason::Connections,
    ];

    /// The reason's name in the summary.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::Signature => "invalid_signature",
            Reason::TooLarge => "body_too_large",
            Reason::SlowBody => "body_timeout",
            Reason::UnreadableBody => "body_unreadable",
            Reason::Busy => "busy",
            Reason::Connections => "connection_limit",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Reason::Signature => "webhook refused: invalid signature (401)",
            Reason::TooLarge => "webhook refused: request body is larger than the limit (413)",
            Reason::SlowBody => "webhook refused: the request body did not arrive in time (408)",
            Reason::UnreadableBody => "webhook refused: the request body could not be read (400)",
            Reason::Busy => "webhook refused: too many calls in flight (503, Retry-After: 1)",
            Reason::Connections => "connection closed at once: too many connections open",
        }
    }
}

/// The refusals of one `Pillar` (one server), counted per window.
#[derive(Debug, Default)]
pub(crate) struct Rejections {
    /// When the current window started, in ms since [`epoch`] (0: none yet).
    window_start: AtomicU64,
    /// Refusals not logged in full in the current window, by [`Reason::ALL`] index.
    suppressed: [AtomicU64; 6],
}

impl Rejections {
    /// Notes a refusal: logged in full if it is the window's first, counted otherwise.
    pub(crate) fn note(&self, reason: Reason, detail: &dyn Display) {
        let now = millis_since_epoch();
        let start = self.window_start.load(Ordering::Relaxed);
        let window = u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX);
        let new_window = start == 0 || now.saturating_sub(start) >= window;
        if new_window
            && self
                .window_start
                .compare_exchange(start, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.report_suppressed(now.saturating_sub(start));
            tracing::warn!(
                reason = reason.as_str(),
                %detail,
                "{} (further refusals are counted and summarised every {} s)",
                reason.what(),
                WINDOW.as_secs()
            );
        } else {
            let index = Reason::ALL.iter().position(|r| *r == reason).unwrap_or(0);
            self.suppressed[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Logs the refusals counted in a window that has ended, if no later refusal did
    /// (called every [`WINDOW`] by `serve()`, so a flood's last counts are not left
    /// unsaid); the next refusal is then logged in full.
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn flush(&self) {
        self.flush_at(millis_since_epoch());
    }

    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    fn flush_at(&self, now: u64) {
        let start = self.window_start.load(Ordering::Relaxed);
        if start == 0 {
            return;
        }
        let window = u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX);
        if now.saturating_sub(start) >= window
            && self
                .window_start
                .compare_exchange(start, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.report_suppressed(now.saturating_sub(start));
        }
    }

    /// Logs, in one line, the refusals counted since the last one logged in full.
    fn report_suppressed(&self, over_ms: u64) {
        let counts: Vec<(Reason, u64)> = Reason::ALL
            .iter()
            .zip(&self.suppressed)
            .map(|(reason, count)| (*reason, count.swap(0, Ordering::Relaxed)))
            .filter(|(_, count)| *count > 0)
            .collect();
        if counts.is_empty() {
            return;
        }
        let total: u64 = counts.iter().map(|(_, n)| n).sum();
        let by_reason = counts
            .iter()
            .map(|(reason, n)| format!("{}={n}", reason.as_str()))
            .collect::<Vec<_>>()
            .join(" ");
        tracing::warn!(
            refused = total,
            over_s = over_ms / 1000,
            "{total} more requests refused over the last {} s: {by_reason}",
            over_ms / 1000
        );
    }

    /// How many refusals of `reason` are counted and not yet summarised (tests).
    #[cfg(test)]
    fn pending(&self, reason: Reason) -> u64 {
        let index = Reason::ALL.iter().position(|r| *r == reason).unwrap_or(0);
        self.suppressed[index].load(Ordering::Relaxed)
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
        assert_eq!(rejections.pending(Reason::Signature), 999);
        assert_eq!(rejections.pending(Reason::Busy), 1);
        // A new window (as if the last one had ended): the counts are reported and start
        // again.
        rejections.window_start.store(0, Ordering::Relaxed);
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
        let start = rejections.window_start.load(Ordering::Relaxed);
        rejections.flush_at(start + WINDOW.as_millis() as u64);
        assert_eq!(rejections.pending(Reason::Busy), 0);
        assert_eq!(rejections.window_start.load(Ordering::Relaxed), 0);
    }
}
