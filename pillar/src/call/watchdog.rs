//! The watchdog: names a tool that holds a worker thread without yielding.
//!
//! An `async fn` that blocks (`std::thread::sleep`, a synchronous HTTP or database
//! client, a long computation) stalls every task queued on its worker thread. Its own
//! call is still answered at its timeout, from another worker (the tool runs in a task
//! of its own, see `run.rs`), but only the log can say which tool is at fault: each
//! thread that polls a tool notes in a slot of its own which tool and since when, and a
//! plain `std` thread, started on first use, looks at the slots every [`SCAN`] and warns
//! once per poll longer than [`BLOCKED_AFTER`].

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How long a single poll may run before the watchdog names the tool.
pub(crate) const BLOCKED_AFTER: Duration = Duration::from_secs(1);
/// How often the watchdog looks.
const SCAN: Duration = Duration::from_millis(250);

/// One thread that polls tools, as the watchdog sees it: which tool it is polling and
/// since when. One per thread, not per call: a call costs no allocation and no shared
/// lock, only two stores per poll and an uncontended lock of this thread's own slot.
struct Slot {
    /// The tool being polled; `None` between polls.
    tool: Mutex<Option<Arc<str>>>,
    /// When the poll in progress started, in ms since [`epoch`] plus one; 0 between polls.
    polling_since: AtomicU64,
    /// Whether the poll in progress was reported.
    reported: AtomicBool,
}

/// The slots of the threads that ever polled a tool (a thread's is dropped with it).
static SLOTS: Mutex<Vec<Weak<Slot>>> = Mutex::new(Vec::new());

thread_local! {
    /// This thread's slot, registered with the watchdog on its first tool poll.
    static THIS_THREAD: Arc<Slot> = {
        start_watchdog();
        let slot = Arc::new(Slot {
            tool: Mutex::new(None),
            polling_since: AtomicU64::new(0),
            reported: AtomicBool::new(false),
        });
        SLOTS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::downgrade(&slot));
        slot
    };
}

/// A tool's future with each poll timed for the watchdog.
pub(crate) struct Watched<F> {
    future: F,
    tool: Arc<str>,
}

/// Wraps the future of `tool` so the watchdog sees its polls.
pub(crate) fn watch<F: Future>(future: F, tool: Arc<str>) -> Watched<F> {
    Watched { future, tool }
}

impl<F: Future + Unpin> Future for Watched<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let watched = THIS_THREAD.try_with(|slot| {
            *slot.tool.lock().unwrap_or_else(PoisonError::into_inner) =
                Some(Arc::clone(&this.tool));
            slot.polling_since.store(now_ms(), Ordering::Release);
            Arc::clone(slot)
        });
        let polled = Pin::new(&mut this.future).poll(cx);
        if let Ok(slot) = watched {
            slot.polling_since.store(0, Ordering::Release);
            if slot.reported.swap(false, Ordering::AcqRel) {
                tracing::warn!(tool = %this.tool, "tool '{}' yielded its worker thread again", this.tool);
            }
        }
        polled
    }
}

fn start_watchdog() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let spawned = std::thread::Builder::new()
            .name("pillar-watchdog".to_owned())
            .spawn(|| loop {
                std::thread::sleep(SCAN);
                scan();
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "cannot start the watchdog thread: blocking tools will not be named");
        }
    });
}

/// One look at the polls in progress.
fn scan() {
    let now = now_ms();
    let threshold = u64::try_from(BLOCKED_AFTER.as_millis()).unwrap_or(u64::MAX);
    let mut slots = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
    slots.retain(|slot| {
        let Some(slot) = slot.upgrade() else {
            return false;
        };
        let since = slot.polling_since.load(Ordering::Acquire);
        if since != 0
            && now.saturating_sub(since) >= threshold
            && !slot.reported.swap(true, Ordering::AcqRel)
        {
            let blocked_ms = now.saturating_sub(since);
            let tool = slot
                .tool
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
                .unwrap_or_else(|| Arc::from("(unknown)"));
            tracing::warn!(
                tool = %tool,
                blocked_ms,
                "tool '{tool}' has held a worker thread for {blocked_ms} ms without yielding: \
                 blocking code in an async fn (std::thread::sleep, a synchronous client, a \
                 long computation) stalls the other calls on that thread; move it into \
                 tokio::task::spawn_blocking"
            );
        }
        true
    });
}

/// Milliseconds since the first call, plus one (0 means "not polling").
fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}
