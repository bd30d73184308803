//! The glue between a call and its record: the built-in [`MemoryStore`] called directly
//! (no boxed futures, no key string), any other store through [`CallStore`].

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use super::{CallStore, Claim, Key as MemoryKey, MemoryStore, Recorded, StoreError};
use crate::answer::Answer;

/// Where the record of calls is kept: the built-in [`MemoryStore`] is called directly (no
/// boxed futures, no key string), any other store through [`CallStore`].
#[derive(Clone)]
pub(crate) enum Store {
    Memory(Arc<MemoryStore>),
    Other(Arc<dyn CallStore>),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory(store) => store.fmt(f),
            Self::Other(store) => store.fmt(f),
        }
    }
}

impl Store {
    pub(crate) fn new<S: CallStore>(store: S) -> Self {
        let mut slot = Some(store);
        let memory = (&mut slot as &mut dyn Any)
            .downcast_mut::<Option<MemoryStore>>()
            .and_then(Option::take)
            .map(Arc::new)
            .or_else(|| {
                (&mut slot as &mut dyn Any)
                    .downcast_mut::<Option<Arc<MemoryStore>>>()
                    .and_then(Option::take)
            });
        match (memory, slot) {
            (Some(memory), _) => Self::Memory(memory),
            (None, Some(store)) => Self::Other(Arc::new(store)),
            // The store was taken only by a successful downcast above.
            (None, None) => Self::Memory(Arc::default()),
        }
    }

    /// The record of one call, `<action>:<call_id>`.
    pub(crate) fn record(&self, action: &str, call_id: &str) -> CallRecord {
        match self {
            Self::Memory(store) => CallRecord::Memory {
                key: store.key_of(&[action, ":", call_id]),
                store: Arc::clone(store),
            },
            Self::Other(store) => {
                let mut key = String::with_capacity(action.len() + 1 + call_id.len());
                key.push_str(action);
                key.push(':');
                key.push_str(call_id);
                CallRecord::Other {
                    key,
                    store: Arc::clone(store),
                }
            }
        }
    }
}

/// One call's key in its store.
pub(crate) enum CallRecord {
    Memory {
        store: Arc<MemoryStore>,
        key: MemoryKey,
    },
    Other {
        store: Arc<dyn CallStore>,
        key: String,
    },
}

impl CallRecord {
    pub(crate) async fn claim(&self, fingerprint: u64, ttl: Duration) -> Result<Claim, StoreError> {
        match self {
            Self::Memory { store, key } => store.claim_now(*key, fingerprint, ttl),
            Self::Other { store, key } => store.claim(key, fingerprint, ttl).await,
        }
    }

    /// Whether [`complete`](Self::complete) finishes without yielding (the built-in
    /// store), so that a caller going away cannot interrupt it.
    pub(crate) fn completes_at_once(&self) -> bool {
        matches!(self, Self::Memory { .. })
    }

    /// Records the answer, and gives it back with its body as bytes when it was
    /// serialised to record it.
    pub(crate) async fn complete(
        &self,
        fingerprint: u64,
        status: StatusCode,
        answer: Answer,
        ttl: Duration,
    ) -> Completed {
        match self {
            Self::Memory { store, key } => {
                let bytes = answer.to_bytes();
                let stored = store.complete_encoded(*key, fingerprint, status, &bytes, ttl);
                Completed {
                    stored,
                    status,
                    answer,
                    encoded: Some(bytes),
                }
            }
            Self::Other { store, key } => {
                let recorded = Recorded { status, answer };
                let stored = store.complete(key, fingerprint, &recorded, ttl).await;
                Completed {
                    stored,
                    status: recorded.status,
                    answer: recorded.answer,
                    encoded: None,
                }
            }
        }
    }

    pub(crate) async fn changed(&self) {
        match self {
            Self::Memory { store, key } => store.changed_now(*key).await,
            Self::Other { store, key } => store.changed(key).await,
        }
    }
}

/// A call's answer after the attempt to record it.
pub(crate) struct Completed {
    /// Whether the store kept it.
    pub(crate) stored: Result<(), StoreError>,
    pub(crate) status: StatusCode,
    pub(crate) answer: Answer,
    /// The answer's body as bytes, when they were made to record it.
    pub(crate) encoded: Option<Vec<u8>>,
}

/// How much longer than its tool's timeout a claim lives: a claimant that crashed
/// frees the key after this.
pub(crate) const CLAIM_MARGIN: Duration = Duration::from_secs(30);
