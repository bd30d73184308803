//! At-most-once execution per call: the same `(action, call_id)` runs its tool once, and
//! every repeat delivery gets the first delivery's answer.
//!
//! Pillar Cloud may deliver a call more than once (a retry after a timeout, a double
//! click on Confirm). Before a tool runs, [`Pillar::handle`](crate::Pillar::handle)
//! *claims* the call's key in a [`CallStore`]; a repeat that finds the claim waits for the
//! first delivery's answer, and a repeat whose tool or input differs under the same key is
//! refused. The key is never the signature (a retry carries a fresh timestamp).
//!
//! Two stores ship with the SDK: [`MemoryStore`], the default, and `RedisStore` (feature
//! `redis`, or `PILLAR_REDIS_URL` with
//! [`PillarBuilder::from_env`](crate::PillarBuilder::from_env)) for several instances
//! behind a load balancer.
//!
//! Whatever the store, a call never runs without a claim: when the store fails or cannot
//! be reached, the call is refused with 503 and `Retry-After` (Pillar Cloud retries it),
//! rather than risk running it twice.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::StatusCode;
use tokio::sync::watch;

use crate::answer::Answer;

#[cfg(feature = "redis")]
#[path = "idempotency_redis.rs"]
mod redis_store;
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;

/// A boxed future, as the store's methods return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The default time a finished call's answer is kept: twice the signature window.
pub const DEFAULT_RECORD_TTL: Duration = Duration::from_secs(600);

/// The answer of a finished call, as recorded.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub answer: Answer,
}

/// What [`CallStore::claim`] found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Claim {
    /// The key was free and is now claimed by this delivery: run the tool, then
    /// [`complete`](CallStore::complete).
    Run,
    /// Another delivery holds the claim and is running the tool.
    InProgress,
    /// The call ran before; here is its answer.
    Done(Recorded),
    /// The key was claimed for a different request (another tool or other input).
    Conflict,
}

/// Why a store could not answer. The call is then refused with a retryable status
/// rather than risk a second run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store is full of records that have not expired yet.
    #[error("the call store is full ({0} records)")]
    Full(usize),
    /// The store could not be reached or failed.
    #[error("the call store is unavailable: {0}")]
    Unavailable(String),
}

/// Where claims and answers are kept. Implement it to keep them elsewhere.
///
/// Keys are opaque strings (`<action>:<call_id>`); fingerprints identify the request
/// (tool and input) so that a different request reusing a key is refused.
pub trait CallStore: Send + Sync + fmt::Debug + 'static {
    /// Claims `key` for a run, atomically, unless it is claimed or done already. A claim
    /// expires after `claim_ttl`, so a crashed claimant does not block the key forever.
    fn claim<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        claim_ttl: Duration,
    ) -> StoreFuture<'a, Result<Claim, StoreError>>;

    /// Records the answer of a claimed call, kept for `ttl`.
    fn complete<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        recorded: &'a Recorded,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<(), StoreError>>;

    /// Resolves when the claim on `key` may have changed; a repeat delivery calls it
    /// between claims. The default polls every 25 ms.
    fn changed<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        let _ = key;
        Box::pin(tokio::time::sleep(Duration::from_millis(25)))
    }
}

/// The fingerprint of a request, as `Pillar::handle` passes it to a [`CallStore`]: its
/// tool and its exact input text. A stable 64-bit
/// hash (the same in every process and version, so instances sharing a store agree) that
/// reads eight bytes at a time: a 1 MiB input costs a fraction of its HMAC.
pub fn fingerprint(tool: &str, input: &str) -> u64 {
    const SEED: u64 = 0xcbf2_9ce4_8422_2325;
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    fn mix(hash: u64, word: u64) -> u64 {
        (hash ^ word).wrapping_mul(K).rotate_left(29)
    }
    fn absorb(mut hash: u64, bytes: &[u8]) -> u64 {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            hash = mix(hash, u64::from_le_bytes(word));
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        // The length goes in too, so inputs that differ only by trailing zero bytes differ.
        mix(mix(hash, u64::from_le_bytes(tail)), bytes.len() as u64)
    }
    let hash = absorb(absorb(SEED, tool.as_bytes()), input.as_bytes());
    // A final avalanche so every input bit reaches every output bit.
    let hash = (hash ^ (hash >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^ (hash >> 33)
}

/// The default store: in this process's memory, bounded.
///
/// Records expire after their TTL; when the store holds `capacity` records that have not
/// expired, new calls are refused with a retryable error (never evicting a record that
/// could let a call run twice).
///
/// Size it as the peak rate of distinct calls times the record TTL: the default, 100,000
/// records kept 10 minutes, sustains about 165 new calls a second (each record takes
/// roughly 0.7 KiB with a small answer). For more, use
/// [`with_capacity`](Self::with_capacity) or a shared Redis store.
pub struct MemoryStore {
    state: Mutex<State>,
    capacity: usize,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.state.lock().map_or(0, |s| s.map.len());
        f.debug_struct("MemoryStore")
            .field("records", &len)
            .field("capacity", &self.capacity)
            .finish()
    }
}

#[derive(Default)]
struct State {
    /// Keys are shared with `expiries`: one allocation per call.
    map: HashMap<Arc<str>, Entry>,
    /// Keys in the order their current expiry was set, to sweep without a scan.
    expiries: VecDeque<(Instant, Arc<str>)>,
}

struct Entry {
    fingerprint: u64,
    expires: Instant,
    done: Option<Recorded>,
    /// Made when a repeat delivery first waits on a running claim; replacing the entry
    /// drops it, which wakes exactly the waiters of this key.
    waiters: Option<watch::Sender<()>>,
}

impl State {
    /// Drops expired records, oldest first.
    fn sweep(&mut self, now: Instant) {
        while let Some((when, _)) = self.expiries.front() {
            if *when > now {
                break;
            }
            let Some((when, key)) = self.expiries.pop_front() else {
                break;
            };
            if self.map.get(&key).is_some_and(|e| e.expires <= when) {
                self.map.remove(&key);
            }
        }
    }
}

/// The default capacity of a [`MemoryStore`].
pub const DEFAULT_CAPACITY: usize = 100_000;

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl MemoryStore {
    /// A store holding at most `capacity` records.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            capacity,
        }
    }

    /// How many records (claims and answers) are held now.
    pub fn len(&self) -> usize {
        self.state.lock().map_or(0, |s| s.map.len())
    }

    /// Whether the store holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn claim_now(&self, key: &str, fingerprint: u64, ttl: Duration) -> Result<Claim, StoreError> {
        let now = Instant::now();
        let mut state = self
            .state
            .lock()
            .map_err(|_| StoreError::Unavailable("the store's lock is poisoned".to_owned()))?;
        state.sweep(now);
        if let Some(entry) = state.map.get(key) {
            if entry.expires > now {
                return Ok(if entry.fingerprint != fingerprint {
                    Claim::Conflict
                } else if let Some(done) = &entry.done {
                    Claim::Done(done.clone())
                } else {
                    Claim::InProgress
                });
            }
        }
        if state.map.len() >= self.capacity {
            return Err(StoreError::Full(self.capacity));
        }
        let expires = now + ttl;
        let key: Arc<str> = Arc::from(key);
        state.map.insert(
            Arc::clone(&key),
            Entry {
                fingerprint,
                expires,
                done: None,
                waiters: None,
            },
        );
        state.expiries.push_back((expires, key));
        Ok(Claim::Run)
    }

    fn complete_now(
        &self,
        key: &str,
        fingerprint: u64,
        recorded: &Recorded,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let expires = Instant::now() + ttl;
        {
            let mut state = self
                .state
                .lock()
                .map_err(|_| StoreError::Unavailable("the store's lock is poisoned".to_owned()))?;
            let entry = Entry {
                fingerprint,
                expires,
                done: Some(recorded.clone()),
                waiters: None,
            };
            // Reuse the claim's key when it is still there (the usual case).
            let key = match state.map.get_key_value(key) {
                Some((shared, _)) => Arc::clone(shared),
                None => Arc::from(key),
            };
            state.map.insert(Arc::clone(&key), entry);
            state.expiries.push_back((expires, key));
        }
        // The replaced entry's `waiters` sender is dropped above: its waiters wake.
        Ok(())
    }
}

impl CallStore for MemoryStore {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        claim_ttl: Duration,
    ) -> StoreFuture<'a, Result<Claim, StoreError>> {
        let result = self.claim_now(key, fingerprint, claim_ttl);
        Box::pin(std::future::ready(result))
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        recorded: &'a Recorded,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<(), StoreError>> {
        let result = self.complete_now(key, fingerprint, recorded, ttl);
        Box::pin(std::future::ready(result))
    }

    fn changed<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        // Subscribed under the lock, so a completion after this point is never missed.
        let subscription = self.state.lock().ok().and_then(|mut state| {
            let entry = state.map.get_mut(key)?;
            if entry.done.is_some() {
                return None;
            }
            let sender = entry.waiters.get_or_insert_with(|| watch::channel(()).0);
            Some(sender.subscribe())
        });
        Box::pin(async move {
            if let Some(mut receiver) = subscription {
                // Bounded, so an expired claim (a crashed claimant) is noticed too.
                let _ = tokio::time::timeout(Duration::from_millis(100), receiver.changed()).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded() -> Recorded {
        Recorded {
            status: StatusCode::OK,
            answer: Answer::pong(),
        }
    }

    #[tokio::test]
    async fn claim_then_done_then_conflict() {
        let store = MemoryStore::default();
        let ttl = Duration::from_secs(60);
        assert!(matches!(
            store.claim("k", 1, ttl).await.unwrap(),
            Claim::Run
        ));
        assert!(matches!(
            store.claim("k", 1, ttl).await.unwrap(),
            Claim::InProgress
        ));
        assert!(matches!(
            store.claim("k", 2, ttl).await.unwrap(),
            Claim::Conflict
        ));
        store.complete("k", 1, &recorded(), ttl).await.unwrap();
        assert!(matches!(
            store.claim("k", 1, ttl).await.unwrap(),
            Claim::Done(_)
        ));
        assert!(matches!(
            store.claim("k", 2, ttl).await.unwrap(),
            Claim::Conflict
        ));
    }

    #[tokio::test]
    async fn an_expired_claim_can_be_taken_again() {
        let store = MemoryStore::default();
        assert!(matches!(
            store.claim("k", 1, Duration::ZERO).await.unwrap(),
            Claim::Run
        ));
        assert!(matches!(
            store.claim("k", 1, Duration::from_secs(5)).await.unwrap(),
            Claim::Run
        ));
    }

    #[tokio::test]
    async fn capacity_is_a_hard_bound_and_expiry_frees_it() {
        let store = MemoryStore::with_capacity(2);
        let short = Duration::from_millis(20);
        store.claim("a", 1, short).await.unwrap();
        store.claim("b", 1, short).await.unwrap();
        assert!(matches!(
            store.claim("c", 1, short).await,
            Err(StoreError::Full(2))
        ));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(matches!(
            store.claim("c", 1, short).await.unwrap(),
            Claim::Run
        ));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn fingerprints_are_stable_across_versions() {
        // Instances sharing a Redis store must agree: these values must never change.
        assert_eq!(fingerprint("refund", r#"{"order":"o_1"}"#), PINNED_REFUND);
        assert_eq!(fingerprint("", ""), PINNED_EMPTY);
    }

    const PINNED_REFUND: u64 = 15_483_265_309_372_575_832;
    const PINNED_EMPTY: u64 = 5_842_266_533_514_299_570;

    #[test]
    fn fingerprints_tell_requests_apart() {
        assert_eq!(fingerprint("a", "{}"), fingerprint("a", "{}"));
        assert_ne!(fingerprint("a", "{}"), fingerprint("b", "{}"));
        assert_ne!(fingerprint("a", "{\"x\":1}"), fingerprint("a", "{\"x\":2}"));
        assert_ne!(fingerprint("ab", "c"), fingerprint("a", "bc"));
        assert_ne!(fingerprint("a", "x"), fingerprint("a", "x\0"));
    }
}
