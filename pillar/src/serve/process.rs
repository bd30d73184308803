//! What `serve()` sets up for the whole process: a panic hook that does not print the
//! secret, and a hard deadline on shutdown that holds even when every worker thread is
//! blocked.

use std::any::Any;
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::call::Pillar;

/// Replaces Rust's default panic hook with one that logs through `tracing` (or prints to
/// standard error without a subscriber) with the secrets redacted: the default hook
/// prints a panic's message as is, and a tool's panic may quote a secret. A hook the
/// program installed before is kept. Installed once per process; the first `Pillar`'s
/// secrets are the ones redacted.
pub(super) fn install_panic_hook(pillar: &Pillar) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.set(()).is_err() {
        return;
    }
    // `take_hook` hands back the hook in force and leaves the default one, so a second
    // call hands back the default: the two are the same boxed function exactly when no
    // hook was installed.
    let current = std::panic::take_hook();
    let default = std::panic::take_hook();
    let is_default = std::ptr::eq(std::ptr::from_ref(&*current), std::ptr::from_ref(&*default));
    drop(default);
    if !is_default {
        std::panic::set_hook(current);
        tracing::debug!("a panic hook was installed before serve(): it is kept");
        return;
    }
    drop(current);
    let pillar = pillar.clone();
    std::panic::set_hook(Box::new(move |info| report_panic(&pillar, info)));
}

fn report_panic(pillar: &Pillar, info: &PanicHookInfo<'_>) {
    let message = pillar.redact(payload_text(info.payload()));
    let thread = std::thread::current();
    let thread = thread.name().unwrap_or("<unnamed>");
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    let backtrace = std::backtrace::Backtrace::capture();
    let backtrace = match backtrace.status() {
        std::backtrace::BacktraceStatus::Captured => format!("\n{backtrace}"),
        _ => String::new(),
    };
    if tracing::dispatcher::has_been_set() {
        // The message may quote a request: escaped, so that it cannot forge a log line.
        let message = crate::observe::Untrusted::text(&message);
        tracing::error!(thread, location, "panicked: {message}{backtrace}");
    } else {
        eprintln!("thread '{thread}' panicked at {location}:\n{message}{backtrace}");
    }
}

/// A panic's message, when it is a string.
pub(crate) fn payload_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".to_owned())
}

/// Ends the process `deadline` after SIGINT or SIGTERM unless dropped first (`serve()`
/// returned): the graceful shutdown runs on the tokio workers, and when every worker
/// is held by a blocking tool nothing else would end the process but SIGKILL. The signal
/// is read on a plain `std` thread (`signal-hook`), beside tokio's own handler.
pub(super) struct HardStop {
    disarmed: Arc<AtomicBool>,
    #[cfg(unix)]
    handle: Option<signal_hook::iterator::Handle>,
}

impl HardStop {
    /// Arms the deadline. Without the means to (not on Unix, or the handler cannot be
    /// installed), says so and does nothing.
    pub(super) fn arm(deadline: Duration) -> Self {
        let disarmed = Arc::new(AtomicBool::new(false));
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
                Ok(mut signals) => {
                    let handle = signals.handle();
                    let flag = Arc::clone(&disarmed);
                    let watcher = std::thread::Builder::new()
                        .name("pillar-hard-stop".to_owned())
                        .spawn(move || {
                            if signals.forever().next().is_none() {
                                return; // closed: serve() returned
                            }
                            std::thread::sleep(deadline);
                            if !flag.load(Ordering::Acquire) {
                                let ms = deadline.as_millis();
                                tracing::error!(
                                    deadline_ms = ms as u64,
                                    "the graceful shutdown did not finish {ms} ms after the signal \
                                     (worker threads blocked by a tool?): exiting now"
                                );
                                eprintln!("pillar: shutdown deadline of {ms} ms passed; exiting");
                                std::process::exit(1);
                            }
                        });
                    if let Err(err) = watcher {
                        tracing::warn!(error = %err, "cannot start the shutdown deadline thread");
                    }
                    return Self {
                        disarmed,
                        handle: Some(handle),
                    };
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot install the shutdown deadline's signal handler");
                }
            }
            Self {
                disarmed,
                handle: None,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = deadline;
            Self { disarmed }
        }
    }
}

impl Drop for HardStop {
    /// `serve()` returned: the deadline no longer applies.
    fn drop(&mut self) {
        self.disarmed.store(true, Ordering::Release);
        #[cfg(unix)]
        if let Some(handle) = &self.handle {
            handle.close();
        }
    }
}
