//! Registration in the background, until Pillar Cloud accepts: exponential backoff with
//! equal jitter for what may pass, the longest delay for a refusal, a stop for what
//! cannot succeed. A 429 waits the larger of its `Retry-After` and the backoff, and at
//! least [`MIN_RATE_LIMITED_DELAY`]; repeats of one failure are logged at most once per
//! [`REPEAT_LOG_INTERVAL`].

use std::mem::Discriminant;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::handle::Shared;
use super::{CloudError, RegistrationState};
use crate::call::Pillar;
use crate::transport::TransportErrorKind;

/// The shortest delay between two registration attempts, whatever the settings: a
/// zero backoff must not turn into a tight loop.
const MIN_RETRY_DELAY: Duration = Duration::from_millis(10);

/// The shortest delay after a 429, whatever its `Retry-After` and the settings say:
/// Pillar Cloud asked to slow down, and `Retry-After: 0` must not turn into a tight loop
/// (it did: a request every 10 ms).
const MIN_RATE_LIMITED_DELAY: Duration = Duration::from_secs(1);

/// How often a failure like the previous one is logged: the first of its kind at once,
/// repeats at most once per interval (saying how many were not logged), the others at
/// `debug` only.
const REPEAT_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// What to do after a failed registration attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Try again after this delay.
    After(Duration),
    /// Give up: trying again cannot help.
    Stop,
}

/// The delay before the next registration attempt, after `failures` failed attempts in
/// a row (1 after the first), with `jitter` in `[0, 1)`.
///
/// Retryable failures back off exponentially from `initial`, doubling up to `max`, with
/// equal jitter (between half and all of the step). A 429 waits the larger of that
/// backoff and its `Retry-After` (which counts up to `max`), and at least
/// [`MIN_RATE_LIMITED_DELAY`]. A refused secret and other 4xx wait exactly `max`: they
/// only change when someone fixes the configuration, and must not hammer Pillar Cloud. A
/// missing endpoint URL or an invalid request stop.
fn next_attempt(
    err: &CloudError,
    failures: u32,
    initial: Duration,
    max: Duration,
    jitter: f64,
) -> Retry {
    let max = max.max(initial).max(MIN_RETRY_DELAY);
    let step = match err {
        CloudError::NoEndpointUrl => return Retry::Stop,
        CloudError::Transport(err) if err.kind() == TransportErrorKind::InvalidRequest => {
            return Retry::Stop
        }
        // Exactly `max`, unjittered: never sooner.
        _ if !err.is_retryable() => return Retry::After(max),
        _ => {
            let exponent = failures.saturating_sub(1).min(31);
            initial.saturating_mul(1u32 << exponent).min(max)
        }
    };
    let half = step / 2;
    let backoff = half + (step - half).mul_f64(jitter.clamp(0.0, 1.0));
    let delay = match err {
        // Never sooner than the backoff: `Retry-After: 0` is not "at once".
        CloudError::RateLimited { retry_after, .. } => backoff
            .max(retry_after.unwrap_or_default().min(max))
            .max(MIN_RATE_LIMITED_DELAY),
        _ => backoff.max(MIN_RETRY_DELAY),
    };
    Retry::After(delay)
}

/// What makes two failures "the same" for the log: the variant, the status and the
/// transport error's kind.
type FailureClass = (
    Discriminant<CloudError>,
    Option<u16>,
    Option<TransportErrorKind>,
);

fn failure_class(err: &CloudError) -> FailureClass {
    let transport = match err {
        CloudError::Transport(err) => Some(err.kind()),
        _ => None,
    };
    (std::mem::discriminant(err), err.status(), transport)
}

/// Rate-limits the log line of failed attempts: a failure of a new kind is logged at
/// once, a repeat at most once per `interval`.
#[derive(Debug)]
struct FailureLog {
    interval: Duration,
    /// When the last line was written, and for what kind of failure.
    last: Option<(Instant, FailureClass)>,
    /// Failures since the last line that were not logged.
    unlogged: u32,
}

impl FailureLog {
    fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: None,
            unlogged: 0,
        }
    }

    /// Whether to log `err` now: `Some(n)` with `n` failures not logged since the last
    /// line, `None` to leave it out (it is counted).
    fn admit(&mut self, err: &CloudError, now: Instant) -> Option<u32> {
        let class = failure_class(err);
        let due = match self.last {
            Some((at, last)) => last != class || now.duration_since(at) >= self.interval,
            None => true,
        };
        if due {
            self.last = Some((now, class));
            Some(std::mem::take(&mut self.unlogged))
        } else {
            self.unlogged = self.unlogged.saturating_add(1);
            None
        }
    }
}

/// Registers until Pillar Cloud accepts, retrying as the [module documentation](super)
/// describes, and reports each step in `shared`. Calls are answered meanwhile; the
/// [`RegistrationHandle`](super::RegistrationHandle) stops it.
pub(super) async fn register_until_accepted(pillar: Pillar, shared: Arc<Shared>) {
    let settings = pillar.settings();
    let api_url = settings.api_url.as_str();
    let mut failures: u32 = 0;
    let mut log = FailureLog::new(REPEAT_LOG_INTERVAL);
    loop {
        let err = match pillar.register().await {
            Ok(registration) => {
                tracing::info!(
                    api_url,
                    endpoint_url = settings.endpoint_url.as_deref().unwrap_or(""),
                    registered = ?registration.registered,
                    attempts = failures + 1,
                    "registered {} tool(s) and {} skill(s) with Pillar Cloud",
                    pillar.tools().len(),
                    pillar.skills().len(),
                );
                shared.set(RegistrationState::Registered {
                    at: SystemTime::now(),
                    attempts: failures.saturating_add(1),
                    registration,
                });
                return;
            }
            Err(err) => err,
        };
        failures = failures.saturating_add(1);
        let retry = next_attempt(
            &err,
            failures,
            settings.retry_initial,
            settings.retry_max,
            fastrand::f64(),
        );
        let Retry::After(delay) = retry else {
            tracing::error!(
                api_url,
                error = %crate::observe::Untrusted::text(&err),
                "registration with Pillar Cloud failed and will not be retried; tools are \
                 still answered, but Pillar Cloud will not know them"
            );
            shared.set(RegistrationState::Failed(Arc::new(err)));
            return;
        };
        match (&err, log.admit(&err, Instant::now())) {
            (_, None) => tracing::debug!(
                api_url,
                error = %crate::observe::Untrusted::text(&err),
                attempt = failures,
                retry_in = ?delay,
                "registration with Pillar Cloud failed again; retrying"
            ),
            (CloudError::Unauthorized { .. }, Some(unlogged)) => tracing::error!(
                api_url,
                error = %crate::observe::Untrusted::text(&err),
                attempt = failures,
                unlogged,
                retry_in = ?delay,
                "registration with Pillar Cloud failed: bad secret; retrying slowly, fix \
                 PILLAR_SECRET"
            ),
            (_, Some(unlogged)) if !err.is_retryable() => tracing::error!(
                api_url,
                error = %crate::observe::Untrusted::text(&err),
                attempt = failures,
                unlogged,
                retry_in = ?delay,
                "registration with Pillar Cloud was rejected; retrying slowly"
            ),
            (_, Some(unlogged)) => tracing::warn!(
                api_url,
                error = %crate::observe::Untrusted::text(&err),
                attempt = failures,
                unlogged,
                retry_in = ?delay,
                "registration with Pillar Cloud failed; retrying"
            ),
        }
        shared.set(RegistrationState::Retrying {
            attempts: failures,
            last_error: Arc::new(err),
        });
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::tests::status;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum_with_equal_jitter() {
        let err = status(500);
        let delays: Vec<_> = (1..=8)
            .map(|n| next_attempt(&err, n, ms(100), ms(1000), 0.999_999))
            .collect();
        let expected = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
        for (delay, ms) in delays.iter().zip(expected) {
            let Retry::After(d) = delay else {
                panic!("stopped")
            };
            assert!(d.as_millis().abs_diff(ms) <= 1, "{d:?} vs {ms}");
        }
        // No jitter at all: half of the step.
        assert_eq!(
            next_attempt(&err, 3, ms(100), ms(1000), 0.0),
            Retry::After(ms(200))
        );
        // Huge attempt counts do not overflow.
        assert_eq!(
            next_attempt(&err, u32::MAX, ms(100), ms(1000), 0.0),
            Retry::After(ms(500))
        );
    }

    #[test]
    fn refused_secret_and_other_4xx_wait_the_maximum() {
        for code in [401, 403, 400, 422] {
            let Retry::After(d) = next_attempt(&status(code), 1, ms(50), ms(500), 0.0) else {
                panic!("stopped");
            };
            assert_eq!(d, ms(500), "{code}");
        }
    }

    #[test]
    fn configuration_errors_stop() {
        assert_eq!(
            next_attempt(&CloudError::NoEndpointUrl, 1, ms(50), ms(500), 0.5),
            Retry::Stop
        );
    }

    #[test]
    fn retry_after_is_honoured_within_the_maximum() {
        let limited = |secs| CloudError::RateLimited {
            retry_after: Some(Duration::from_secs(secs)),
            message: String::new(),
        };
        assert_eq!(
            next_attempt(&limited(2), 1, ms(50), Duration::from_secs(10), 0.5),
            Retry::After(Duration::from_secs(2))
        );
        assert_eq!(
            next_attempt(&limited(600), 1, ms(50), Duration::from_secs(10), 0.5),
            Retry::After(Duration::from_secs(10))
        );
    }

    #[test]
    fn retry_after_zero_waits_the_backoff_and_at_least_the_floor() {
        let limited = |retry_after| CloudError::RateLimited {
            retry_after,
            message: String::new(),
        };
        let secs = Duration::from_secs;
        for retry_after in [Some(Duration::ZERO), None] {
            // Backoff from 10 ms: the floor.
            assert_eq!(
                next_attempt(&limited(retry_after), 1, ms(10), secs(60), 0.0),
                Retry::After(MIN_RATE_LIMITED_DELAY),
                "{retry_after:?}"
            );
            // The backoff when it is longer, doubling: half of 4 s, 8 s, 16 s with no
            // jitter.
            for (failures, want) in [(2, 2), (3, 4), (4, 8)] {
                assert_eq!(
                    next_attempt(&limited(retry_after), failures, secs(2), secs(60), 0.0),
                    Retry::After(secs(want)),
                );
            }
            // Settings of zero still wait the floor.
            assert_eq!(
                next_attempt(
                    &limited(retry_after),
                    1,
                    Duration::ZERO,
                    Duration::ZERO,
                    0.9
                ),
                Retry::After(MIN_RATE_LIMITED_DELAY)
            );
        }
        // A Retry-After longer than the backoff wins.
        assert_eq!(
            next_attempt(&limited(Some(secs(5))), 1, ms(100), secs(60), 0.0),
            Retry::After(secs(5))
        );
    }

    #[test]
    fn repeated_failures_are_logged_once_per_interval() {
        let mut log = FailureLog::new(Duration::from_secs(60));
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let limited = CloudError::RateLimited {
            retry_after: Some(Duration::ZERO),
            message: String::new(),
        };
        assert_eq!(log.admit(&limited, at(0)), Some(0));
        for n in 1..=100 {
            assert_eq!(log.admit(&limited, at(n * 10)), None);
        }
        // Another kind of failure is logged at once, then the first kind again.
        assert_eq!(log.admit(&status(503), at(1_100)), Some(100));
        assert_eq!(log.admit(&status(502), at(1_200)), Some(0));
        assert_eq!(log.admit(&limited, at(1_300)), Some(0));
        assert_eq!(log.admit(&limited, at(1_400)), None);
        // The same kind once the interval has passed, with the count left out.
        assert_eq!(log.admit(&limited, at(61_300)), Some(1));
    }

    #[test]
    fn zero_delays_never_make_a_tight_loop() {
        let Retry::After(d) = next_attempt(&status(500), 1, Duration::ZERO, Duration::ZERO, 0.0)
        else {
            panic!("stopped");
        };
        assert!(d >= MIN_RETRY_DELAY);
    }
}
