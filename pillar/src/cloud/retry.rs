//! Registration in the background, until Pillar Cloud accepts: exponential backoff with
//! equal jitter for what may pass, the longest delay for a refusal, a stop for what
//! cannot succeed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::handle::Shared;
use super::{CloudError, RegistrationState};
use crate::call::Pillar;
use crate::transport::TransportErrorKind;

/// The shortest delay between two registration attempts, whatever the settings: a
/// zero backoff must not turn into a tight loop.
const MIN_RETRY_DELAY: Duration = Duration::from_millis(10);

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
/// equal jitter (between half and all of the step). A refused secret and other 4xx wait
/// exactly `max`: they only change when someone fixes the configuration, and must not
/// hammer Pillar Cloud. A missing endpoint URL or an invalid request stop.
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
        CloudError::RateLimited {
            retry_after: Some(wait),
            ..
        } => return Retry::After((*wait).clamp(MIN_RETRY_DELAY, max)),
        // Exactly `max`, unjittered: never sooner.
        _ if !err.is_retryable() => return Retry::After(max),
        _ => {
            let exponent = failures.saturating_sub(1).min(31);
            initial.saturating_mul(1u32 << exponent).min(max)
        }
    };
    let half = step / 2;
    let delay = half + (step - half).mul_f64(jitter.clamp(0.0, 1.0));
    Retry::After(delay.max(MIN_RETRY_DELAY))
}

/// Registers until Pillar Cloud accepts, retrying as the [module documentation](super)
/// describes, and reports each step in `shared`. Calls are answered meanwhile; the
/// [`RegistrationHandle`](super::RegistrationHandle) stops it.
pub(super) async fn register_until_accepted(pillar: Pillar, shared: Arc<Shared>) {
    let settings = pillar.settings();
    let api_url = settings.api_url.as_str();
    let mut failures: u32 = 0;
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
                error = %err,
                "registration with Pillar Cloud failed and will not be retried; tools are \
                 still answered, but Pillar Cloud will not know them"
            );
            shared.set(RegistrationState::Failed(Arc::new(err)));
            return;
        };
        match &err {
            CloudError::Unauthorized { .. } => tracing::error!(
                api_url,
                error = %err,
                attempt = failures,
                retry_in = ?delay,
                "registration with Pillar Cloud failed: bad secret; retrying slowly, fix \
                 PILLAR_SECRET"
            ),
            _ if !err.is_retryable() => tracing::error!(
                api_url,
                error = %err,
                attempt = failures,
                retry_in = ?delay,
                "registration with Pillar Cloud was rejected; retrying slowly"
            ),
            _ => tracing::warn!(
                api_url,
                error = %err,
                attempt = failures,
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
    fn zero_delays_never_make_a_tight_loop() {
        let Retry::After(d) = next_attempt(&status(500), 1, Duration::ZERO, Duration::ZERO, 0.0)
        else {
            panic!("stopped");
        };
        assert!(d >= MIN_RETRY_DELAY);
    }
}
