//! The background registration as a value: [`Pillar::spawn_registration`] starts it,
//! [`RegistrationHandle`] reports its [`RegistrationState`], waits for its outcome and
//! stops it.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::{CloudError, Registration};
use crate::call::Pillar;

/// Where a background registration stands: see [`RegistrationHandle::state`].
///
/// Its [`Display`](fmt::Display) is the one-line form `/readyz` shows (`registered`,
/// `retrying: <error> (3 failed attempts)`, ...).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RegistrationState {
    /// No [`endpoint_url`](crate::Settings::endpoint_url) is configured: nothing is sent,
    /// and Pillar Cloud will not call the tools. Final.
    NotConfigured,
    /// The first attempt is under way.
    Pending,
    /// At least one attempt failed; the next follows after a backoff (see the
    /// [module documentation](super) for the delays).
    Retrying {
        /// How many attempts failed so far.
        attempts: u32,
        /// Why the last one failed.
        last_error: Arc<CloudError>,
    },
    /// Pillar Cloud accepted the tools and skills. Final.
    Registered {
        /// When Pillar Cloud's answer arrived.
        at: SystemTime,
        /// How many attempts it took (1 when the first one succeeded).
        attempts: u32,
        /// What Pillar Cloud answered.
        registration: Registration,
    },
    /// Registration stopped on an error that trying again cannot fix (an invalid
    /// [`api_url`](crate::Settings::api_url)). Final.
    Failed(Arc<CloudError>),
    /// [`RegistrationHandle::abort`] stopped it before Pillar Cloud accepted. Final.
    Stopped,
}

impl RegistrationState {
    /// Whether Pillar Cloud accepted the tools.
    #[must_use]
    pub fn is_registered(&self) -> bool {
        matches!(self, Self::Registered { .. })
    }

    /// Whether this state is final: registered, failed, not configured or stopped. A
    /// final state never changes; [`RegistrationHandle::wait`] returns the first one.
    #[must_use]
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Pending | Self::Retrying { .. })
    }
}

impl fmt::Display for RegistrationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotConfigured => write!(f, "not_configured: {}", CloudError::NoEndpointUrl),
            Self::Pending => f.write_str("pending: the first attempt is under way"),
            Self::Retrying {
                attempts,
                last_error,
            } => {
                let plural = if *attempts == 1 { "" } else { "s" };
                write!(
                    f,
                    "retrying: {last_error} ({attempts} failed attempt{plural})"
                )
            }
            Self::Registered { .. } => f.write_str("registered"),
            Self::Failed(err) => write!(f, "failed: {err}"),
            Self::Stopped => f.write_str("stopped: aborted before Pillar Cloud accepted"),
        }
    }
}

/// The state shared by the loop (which writes it) and the handles (which read it).
pub(super) struct Shared {
    state: watch::Sender<RegistrationState>,
}

impl Shared {
    fn new(state: RegistrationState) -> Arc<Self> {
        Arc::new(Self {
            state: watch::Sender::new(state),
        })
    }

    /// Moves to `next`, unless the handle was aborted meanwhile: `Stopped` stays.
    pub(super) fn set(&self, next: RegistrationState) {
        self.state.send_if_modified(|state| {
            if matches!(state, RegistrationState::Stopped) {
                return false;
            }
            *state = next;
            true
        });
    }
}

/// A registration running in the background, from [`Pillar::spawn_registration`].
///
/// Read where it stands with [`state`](Self::state), wait for its outcome with
/// [`wait`](Self::wait). Clones share the one registration.
///
/// **Stopping**: the registration stops when [`abort`](Self::abort) is called on any
/// clone (its state becomes [`RegistrationState::Stopped`] unless it had already
/// finished), or when the last clone is dropped. Keep a clone for as long as the app
/// serves, for instance in the route of
/// [`adapters::axum::readyz`](crate::adapters::axum::readyz); `let _ =
/// pillar.spawn_registration();` stops it at once.
#[derive(Clone)]
#[must_use = "the registration stops when the last clone of its handle is dropped"]
pub struct RegistrationHandle {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    /// `None` when nothing was spawned (no endpoint URL).
    task: Option<AbortHandle>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl fmt::Debug for RegistrationHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistrationHandle")
            .field("state", &*self.inner.shared.state.borrow())
            .finish()
    }
}

impl RegistrationHandle {
    /// Where the registration stands now.
    pub fn state(&self) -> RegistrationState {
        self.inner.shared.state.borrow().clone()
    }

    /// Whether Pillar Cloud accepted the tools.
    #[must_use]
    pub fn is_registered(&self) -> bool {
        self.inner.shared.state.borrow().is_registered()
    }

    /// Waits until the registration ends and returns how: [`Registered`], [`Failed`],
    /// [`NotConfigured`] or [`Stopped`] (see [`RegistrationState::is_final`]). While
    /// Pillar Cloud keeps failing this waits for as long; bound it with
    /// `tokio::time::timeout` when that matters.
    ///
    /// [`Registered`]: RegistrationState::Registered
    /// [`Failed`]: RegistrationState::Failed
    /// [`NotConfigured`]: RegistrationState::NotConfigured
    /// [`Stopped`]: RegistrationState::Stopped
    pub async fn wait(&self) -> RegistrationState {
        let mut states = self.inner.shared.state.subscribe();
        let ended = match states.wait_for(RegistrationState::is_final).await {
            Ok(state) => Some(state.clone()),
            // The sender lives in `self`: never closed while we wait.
            Err(_) => None,
        };
        ended.unwrap_or_else(|| self.state())
    }

    /// Stops the registration now, for every clone: no further attempt is made. The state
    /// becomes [`RegistrationState::Stopped`] unless the registration had already ended.
    pub fn abort(&self) {
        if let Some(task) = &self.inner.task {
            task.abort();
        }
        self.inner.shared.state.send_if_modified(|state| {
            if state.is_final() {
                return false;
            }
            *state = RegistrationState::Stopped;
            true
        });
    }
}

impl Pillar {
    /// Registers the tools and skills with Pillar Cloud in the background, retrying with
    /// backoff until Pillar Cloud accepts (the [module documentation](super) has the
    /// delays and what each failure logs), and returns a handle that reports where it
    /// stands. [`serve`](crate::serve) does this at start-up; call it yourself when you
    /// mount the webhook in your own app through an [adapter](crate::adapters).
    ///
    /// Without an [`endpoint_url`](crate::Settings::endpoint_url) nothing is sent: a
    /// warning is logged and the handle is [`RegistrationState::NotConfigured`] at once.
    ///
    /// The registration stops when the last clone of the handle is dropped, or on
    /// [`RegistrationHandle::abort`]: keep the handle while the app serves.
    ///
    /// ```
    /// use std::time::Duration;
    /// use pillar::cloud::RegistrationState;
    /// use pillar::testing::{MockCloud, Mode};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let cloud = MockCloud::start().await?;
    /// cloud.set_mode(Mode::Status(503));
    /// let pillar = pillar::testing::pillar()
    ///     .endpoint_url("https://api.myapp.com/pillar")
    ///     .api_url(cloud.url())
    ///     .registration_backoff(Duration::from_millis(10), Duration::from_millis(50))
    ///     .build()?;
    ///
    /// let registration = pillar.spawn_registration();
    /// cloud.wait_for_registrations(2, Duration::from_secs(5)).await;
    /// assert!(matches!(registration.state(), RegistrationState::Retrying { .. }));
    ///
    /// cloud.set_mode(Mode::Ok); // Pillar Cloud recovers
    /// assert!(registration.wait().await.is_registered());
    /// # Ok(()) }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
    /// ```
    ///
    /// # Panics
    /// Outside a Tokio runtime, when an endpoint URL is set (the registration is spawned
    /// on the current runtime).
    pub fn spawn_registration(&self) -> RegistrationHandle {
        if self.settings().endpoint_url.is_none() {
            tracing::warn!(
                "PILLAR_ENDPOINT_URL is not set: the tools will NOT be registered with \
                 Pillar Cloud, which will not call them; set PILLAR_ENDPOINT_URL (or \
                 .endpoint_url(...)) to the public URL of this server's webhook"
            );
            return RegistrationHandle {
                inner: Arc::new(Inner {
                    shared: Shared::new(RegistrationState::NotConfigured),
                    task: None,
                }),
            };
        }
        let shared = Shared::new(RegistrationState::Pending);
        let task = tokio::spawn(super::retry::register_until_accepted(
            self.clone(),
            Arc::clone(&shared),
        ));
        RegistrationHandle {
            inner: Arc::new(Inner {
                shared,
                task: Some(task.abort_handle()),
            }),
        }
    }
}
