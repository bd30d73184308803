//! The glue between a call and its record: the built-in [`MemoryStore`] called directly
//! (no boxed futures, no key string), any other store through [`CallStore`], and the
//! record of calls turned off as a store that always answers "run" (an enum variant,
//! not a `dyn` store: no boxed future per call).

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{CallStore, Claim, Key as MemoryKey, MemoryStore, StoreError};
use crate::answer::WebhookResponse;

/// Where the record of calls is kept: the built-in [`MemoryStore`] is called directly (no
/// boxed futures, no key string), any other store through [`CallStore`]; `Off` keeps
/// nothing and lets every call run.
#[derive(Clone)]
pub(crate) enum Store {
    Off,
    Memory(Arc<MemoryStore>),
    Other(Arc<dyn CallStore>),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("Off"),
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
        if let Self::Off = self {
            return CallRecord::Off;
        }
        let digest = Sha256::digest(body);
        let mut key = String::with_capacity(BODY_KEY_PREFIX.len() + 64);
        key.push_str(BODY_KEY_PREFIX);
        for byte in digest {
            key.push(char::from(HEX[usize::from(byte >> 4)]));
            key.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        match self {
            Self::Off => CallRecord::Off,
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
            Self::Off | Self::Memory(_) => Ok(()),
            Self::Other(store) => store.ready().await,
        }
    }

    /// The record of one call, `<action>:<call_id>`.
    pub(crate) fn record(&self, action: &str, call_id: &str) -> CallRecord {
        match self {
            Self::Off => CallRecord::Off,
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
    /// No record: every delivery runs.
    Off,
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
            Self::Off => Ok(Claim::Run),
            Self::Memory { store, key } => store.claim_now(*key, fingerprint, ttl),
            Self::Other { store, key } => store.claim(key, fingerprint, ttl).await,
        }
    }

    /// Whether the answer is kept for repeat deliveries: a call whose caller goes away
    /// then runs on, so that its answer is there for the retry.
    pub(crate) fn keeps_answers(&self) -> bool {
        !matches!(self, Self::Off)
    }

    /// Whether [`record`](Self::record) finishes without yielding (the built-in store,
    /// or none), so that a caller going away cannot interrupt it.
    pub(crate) fn records_at_once(&self) -> bool {
        !matches!(self, Self::Other { .. })
    }

    /// Records `response`; its body's bytes are made here, once, and sent as they are.
    pub(crate) async fn record(
        &self,
        fingerprint: u64,
        response: &mut WebhookResponse,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        match self {
            Self::Off => Ok(()),
            Self::Memory { store, key } => {
                let status = response.status();
                store.complete_encoded(*key, fingerprint, status, response.body(), ttl)
            }
            Self::Other { store, key } => {
                response.body();
                store.complete(key, fingerprint, response, ttl).await
            }
        }
    }

    pub(crate) async fn changed(&self) {
        match self {
            // Never claimed by another delivery: nothing to wait for.
            Self::Off => {}
            Self::Memory { store, key } => store.changed_now(*key).await,
            Self::Other { store, key } => store.changed(key).await,
        }
    }
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
            CallRecord::Memory { .. } | CallRecord::Off => {
                panic!("expected a store other than memory")
            }
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
            _response: &'a WebhookResponse,
            _ttl: Duration,
        ) -> super::super::StoreFuture<'a, Result<(), StoreError>> {
            Box::pin(std::future::ready(Err(StoreError::Unavailable(
                "not a real store".to_owned(),
            ))))
        }
    }
}
