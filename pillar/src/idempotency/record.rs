//! The glue between a call and its record: the built-in [`MemoryStore`] called directly
//! (no boxed futures, no key string), any other store through [`CallStore`].

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use sha2::{Digest, Sha256};

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

    /// The record of a call without a `call_id`: `body-sha256:<hex>`, the SHA-256 digest
    /// of its exact signed body (which holds its action, tool and input). A replay of the
    /// same body finds it; any other body has another key (a collision of SHA-256 is not
    /// a risk to plan for), so two different calls never share a record. The prefix is
    /// not `tool_call:` or `tool_confirm:`: no `call_id` makes the same key.
    pub(crate) fn record_body(&self, body: &[u8]) -> CallRecord {
        let digest = Sha256::digest(body);
        let mut key = String::with_capacity(BODY_KEY_PREFIX.len() + 64);
        key.push_str(BODY_KEY_PREFIX);
        for byte in digest {
            key.push(char::from(HEX[usize::from(byte >> 4)]));
            key.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        match self {
            Self::Memory(store) => CallRecord::Memory {
                key: store.key_of(&[&key]),
                store: Arc::clone(store),
            },
            Self::Other(store) => CallRecord::Other {
                key,
                store: Arc::clone(store),
            },
        }
    }

    /// Whether the store can take claims now ([`CallStore::ready`]); the built-in
    /// memory store always can.
    #[cfg(feature = "serve")]
    pub(crate) async fn ready(&self) -> Result<(), StoreError> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Other(store) => store.ready().await,
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

/// The start of the key of a call without a `call_id` (see [`Store::record_body`]).
pub(crate) const BODY_KEY_PREFIX: &str = "body-sha256:";

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    fn other_key(record: &CallRecord) -> &str {
        match record {
            CallRecord::Other { key, .. } => key,
            CallRecord::Memory { .. } => panic!("expected a store other than memory"),
        }
    }

    #[test]
    fn a_body_key_is_the_sha256_of_the_exact_body() {
        let store = Store::new(std::sync::Arc::new(NoStore));
        // `printf '%s' '{"a":1}' | sha256sum`
        assert_eq!(
            other_key(&store.record_body(br#"{"a":1}"#)),
            "body-sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
        );
        // One byte more is another key; no call id can make a body key.
        assert_ne!(
            other_key(&store.record_body(br#"{"a":1} "#)),
            other_key(&store.record_body(br#"{"a":1}"#))
        );
        assert!(!other_key(&store.record("tool_call", "x")).starts_with(BODY_KEY_PREFIX));
    }

    /// A store that is never called: only its keys are looked at.
    #[derive(Debug)]
    struct NoStore;

    impl CallStore for NoStore {
        fn claim<'a>(
            &'a self,
            _key: &'a str,
            _fingerprint: u64,
            _claim_ttl: Duration,
        ) -> super::super::StoreFuture<'a, Result<Claim, StoreError>> {
            Box::pin(std::future::ready(Err(StoreError::Unavailable(
                "not a real store".to_owned(),
            ))))
        }

        fn complete<'a>(
            &'a self,
            _key: &'a str,
            _fingerprint: u64,
            _recorded: &'a Recorded,
            _ttl: Duration,
        ) -> super::super::StoreFuture<'a, Result<(), StoreError>> {
            Box::pin(std::future::ready(Err(StoreError::Unavailable(
                "not a real store".to_owned(),
            ))))
        }
    }
}
