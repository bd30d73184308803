//! [`MemoryStore`]: the default call store, in this process's memory, over the ring in
//! [`ring`](super::ring).

use std::fmt;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::StatusCode;
use tokio::sync::watch;

use super::ring::{Body, Key, Ring, Room, Slot, SlotState, INLINE};
use super::{millis, CallStore, Claim, StoreError, StoreFuture};
use crate::answer::Answer;
use crate::answer::WebhookResponse;

/// The default store: in this process's memory, bounded.
///
/// Records expire after their TTL. The store holds at most `capacity` records (default
/// [`DEFAULT_CAPACITY`]); what it does with a new call when full is its [`WhenFull`]
/// policy:
///
/// - [`WhenFull::EvictOldest`] (the default) forgets the oldest finished call (the first
///   to arrive of those that finished), with a warning in the log: under a sustained
///   rate above `capacity / record_ttl` (about 167 new calls a second with the
///   defaults), a repeat delivery is recognised for `capacity / rate` instead of the full
///   TTL (10 s at 10,000 calls a second). The server keeps answering.
/// - [`WhenFull::Refuse`] refuses new calls (503 with `Retry-After`) until the oldest
///   record expires (the check is one look at the oldest record: a flood of refused
///   calls costs no more than accepted ones): no call ever runs twice, and above that
///   rate calls wait.
///
/// Either way, the claim of a call still running is never dropped. The answers kept
/// beside the slots are bounded in bytes too (64 MiB by default, under the same policy:
/// see [`max_bytes`](Self::max_bytes)). A record takes about
/// 0.2 KiB (a 192-byte slot holding an answer of up to 150 bytes, larger answers beside
/// it, and 16 bytes of index: about 21 MB for the default 100,000): size the capacity as
/// the peak rate of distinct calls times the record TTL, or share a Redis store (feature
/// `redis`) between instances.
///
/// Keys are kept as two 64-bit SipHash values under a random key, domain-separated (a
/// false match between two calls has a probability of about 2^-128), answers as their
/// JSON bytes.
pub struct MemoryStore {
    state: Mutex<State>,
    capacity: usize,
    /// The most bytes the answers may hold beside their slots.
    max_bytes: usize,
    when_full: WhenFull,
    /// A random SipHash key; a call's key is kept as two hashes of it under this key,
    /// domain-separated (two outputs of a keyed PRF on distinct inputs).
    hasher: RandomState,
    /// Times are kept as milliseconds since this instant.
    epoch: Instant,
}

/// What a full [`MemoryStore`] does with a new call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WhenFull {
    /// Forget the oldest finished call (the first to arrive of those that finished), and
    /// take the new call; a warning in the log says how many records were dropped before
    /// their time.
    #[default]
    EvictOldest,
    /// Refuse the new call with a retryable error (503 with `Retry-After`) until the
    /// oldest record expires.
    Refuse,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (len, bytes, evicted) = self.state.lock().map_or((0, 0, 0), |s| {
            (s.ring.len(), s.ring.heap_bytes(), s.evicted)
        });
        f.debug_struct("MemoryStore")
            .field("records", &len)
            .field("capacity", &self.capacity)
            .field("answer_bytes", &bytes)
            .field("max_bytes", &self.max_bytes)
            .field("when_full", &self.when_full)
            .field("evicted", &evicted)
            .finish()
    }
}

struct State {
    ring: Ring,
    /// Finished records forgotten before their expiry to make room.
    evicted: u64,
    /// When the last warning about evictions was logged, and the count then.
    warned: Option<(u64, u64)>,
}

impl State {
    /// [`Ring::make_room`], counting what it evicts.
    fn make_room(&mut self, now: u64, evict: bool) -> Room {
        let room = self.ring.make_room(now, evict);
        if let Room::Evicted = room {
            self.evicted += 1;
        }
        room
    }

    /// A warning once a minute at most while records are being evicted.
    fn eviction_warning(&mut self, now: u64) -> Option<u64> {
        let since = match self.warned {
            Some((at, _)) if now.saturating_sub(at) < 60_000 => return None,
            Some((_, count)) => count,
            None => 0,
        };
        self.warned = Some((now, self.evicted));
        Some(self.evicted - since)
    }
}

/// The default capacity of a [`MemoryStore`].
pub const DEFAULT_CAPACITY: usize = 100_000;

/// The default byte bound of a [`MemoryStore`]: 64 MiB of answers (see
/// [`MemoryStore::max_bytes`]).
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;

/// What a repeat delivery gets when its call's answer was too large to keep (with the
/// call id when that fits in a slot): the tool is not run again.
const NOT_KEPT: &str = "This call already ran; its answer was too large to record";

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

fn poisoned() -> StoreError {
    StoreError::Unavailable("the store's lock is poisoned".to_owned())
}

impl MemoryStore {
    /// A store holding at most `capacity` records (at most 2^31), evicting the oldest
    /// finished ones when full (see [`when_full`](Self::when_full)).
    ///
    /// Its records are kept in a ring, in the order their calls came, with an index sized
    /// for up to a million records up front (address space; memory is used as records
    /// arrive): the store does not pause or peak in memory to grow, and nothing is
    /// allocated per call but an answer over 150 bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        let state = State {
            ring: Ring::new(capacity, 1 << 20),
            evicted: 0,
            warned: None,
        };
        Self {
            state: Mutex::new(state),
            capacity,
            max_bytes: DEFAULT_MAX_BYTES,
            when_full: WhenFull::default(),
            hasher: RandomState::new(),
            epoch: Instant::now(),
        }
    }

    /// What to do with a new call when the store is full (default
    /// [`WhenFull::EvictOldest`]).
    ///
    /// ```
    /// use pillar::idempotency::{MemoryStore, WhenFull};
    /// // Never forget a call within its TTL; refuse new calls instead.
    /// let store = MemoryStore::with_capacity(1_000_000).when_full(WhenFull::Refuse);
    /// # let _ = store;
    /// ```
    #[must_use]
    pub fn when_full(mut self, policy: WhenFull) -> Self {
        self.when_full = policy;
        self
    }

    /// The most bytes of answers the store keeps beside its records' slots (default
    /// [`DEFAULT_MAX_BYTES`], 64 MiB): the bound in bytes, beside the bound in count.
    ///
    /// An answer of up to 150 bytes is kept in its record's slot (about 0.2 KiB each,
    /// which the count bounds: 21 MB for the default 100,000); a longer one beside it,
    /// and those are what this bounds, under the same [`WhenFull`] policy as the count:
    ///
    /// - [`WhenFull::EvictOldest`]: to keep a new answer, the oldest finished records are
    ///   forgotten until it fits (counted in [`evicted`](Self::evicted), with the same
    ///   warning).
    /// - [`WhenFull::Refuse`]: nothing is forgotten before it expires; while the answers
    ///   kept leave no room for one more (less than 151 bytes free), new calls are
    ///   refused with 503 and `Retry-After`
    ///   ([`StoreError::FullBytes`]).
    ///
    /// Either way, an answer that cannot fit (larger than the bound, or with
    /// `Refuse` larger than the room left) is not kept, and is logged as a warning; the
    /// call is still recorded as done, so a repeat delivery does not run the tool again
    /// but gets `{"call_id": "...", "success": false, "error": "This call already ran;
    /// its answer was too large to record"}` with the first answer's status.
    ///
    /// So the store's memory is at most its slots and index (about 0.2 KiB times the
    /// capacity) plus `max_bytes`: about 85 MB with the defaults, whatever the size of
    /// the answers (of 400 answers of 512 KiB, at most 127 are kept).
    ///
    /// ```
    /// use pillar::idempotency::MemoryStore;
    /// // 16 MiB of answers at most, for a small container.
    /// let store = MemoryStore::with_capacity(20_000).max_bytes(16 * 1024 * 1024);
    /// # let _ = store;
    /// ```
    #[must_use]
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// How many bytes the answers kept beside the slots hold now (at most
    /// [`max_bytes`](Self::max_bytes)).
    pub fn answer_bytes(&self) -> usize {
        self.state.lock().map_or(0, |s| s.ring.heap_bytes())
    }

    /// How many records (claims and answers) are held now.
    pub fn len(&self) -> usize {
        self.state.lock().map_or(0, |s| s.ring.len())
    }

    /// Whether the store holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many finished records were forgotten before their TTL to make room (with
    /// [`WhenFull::EvictOldest`]). Anything but 0 means the capacity is too small for the
    /// rate of calls.
    pub fn evicted(&self) -> u64 {
        self.state.lock().map_or(0, |s| s.evicted)
    }

    fn key(&self, key: &str) -> Key {
        self.key_of(&[key])
    }

    /// The key of the concatenation of `parts`, without making it.
    pub(crate) fn key_of(&self, parts: &[&str]) -> Key {
        let hash = |domain: u8| {
            let mut hasher = self.hasher.build_hasher();
            hasher.write_u8(domain);
            for part in parts {
                hasher.write(part.as_bytes());
            }
            hasher.write_u8(0xff);
            hasher.finish()
        };
        (hash(1), hash(2))
    }

    fn now(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    /// [`CallStore::claim`] without a future, for a key made by [`key_of`](Self::key_of).
    pub(crate) fn claim_now(
        &self,
        key: Key,
        fingerprint: u64,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let now = self.now();
        let expires = now.saturating_add(millis(ttl));
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        state.ring.sweep(now);
        if let Some(slot) = state.ring.get_mut(key) {
            if slot.expires > now {
                if slot.fingerprint != fingerprint {
                    return Ok(Claim::Conflict);
                }
                let SlotState::Done { status, body } = &slot.state else {
                    return Ok(Claim::InProgress);
                };
                let response = WebhookResponse::from_recorded(*status, body.as_bytes().to_vec())
                    .ok_or_else(|| {
                        StoreError::Unavailable("a recorded answer could not be read".to_owned())
                    })?;
                return Ok(Claim::Done(response));
            }
            // Expired but not yet dropped (it was not at the front): the key is free again.
            // Any waiters of an expired claim wake as its sender is dropped.
            slot.fingerprint = fingerprint;
            slot.expires = expires;
            let old = state.ring.set_state(key, SlotState::Running(None));
            drop(state);
            drop(old);
            return Ok(Claim::Run);
        }
        let evict = self.when_full == WhenFull::EvictOldest;
        if !evict && state.ring.heap_bytes() + INLINE >= self.max_bytes {
            // No room for one more answer beside its slot, and nothing may be forgotten.
            return Err(StoreError::FullBytes(self.max_bytes));
        }
        let warning = match state.make_room(now, evict) {
            Room::Free => None,
            Room::Evicted => state.eviction_warning(now),
            Room::Full => return Err(StoreError::Full(self.capacity)),
        };
        state.ring.push(Slot {
            key,
            fingerprint,
            expires,
            state: SlotState::Running(None),
        });
        drop(state);
        if let Some(evicted) = warning {
            self.warn_evicted(evicted);
        }
        Ok(Claim::Run)
    }

    /// [`CallStore::complete`] without a future.
    fn complete_now(
        &self,
        key: Key,
        fingerprint: u64,
        response: &WebhookResponse,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let body = response.to_body();
        self.complete_encoded(key, fingerprint, response.status(), &body, ttl)
    }

    /// Records an answer already serialised (`body`, from [`Answer::to_bytes`]). An
    /// answer that cannot fit under the byte bound is replaced by a short one saying so
    /// (see [`max_bytes`](Self::max_bytes)).
    pub(crate) fn complete_encoded(
        &self,
        key: Key,
        fingerprint: u64,
        status: StatusCode,
        body: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut body = Body::new(body);
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        let now = self.now();
        let expires = now.saturating_add(millis(ttl));
        let evict = self.when_full == WhenFull::EvictOldest;
        let room = state
            .ring
            .make_room_for_answer(now, evict, body.heap_len(), self.max_bytes);
        state.evicted += room.evicted;
        let mut warning = (room.evicted > 0)
            .then(|| state.eviction_warning(now))
            .flatten();
        let mut not_kept = None;
        if !room.fits {
            not_kept = Some((body.heap_len(), state.ring.heap_bytes()));
            body = Body::new(&not_kept_answer(body.as_bytes()));
        }
        let done = SlotState::Done { status, body };
        let waiters = match state.ring.get_mut(key) {
            Some(slot) => {
                slot.fingerprint = fingerprint;
                slot.expires = expires;
                state.ring.set_state(key, done)
            }
            None => {
                // The claim expired and was dropped meanwhile: record the answer anyway, if
                // there is room; a late repeat would otherwise run again.
                let room = state.make_room(now, true);
                let slot = Slot {
                    key,
                    fingerprint,
                    expires,
                    state: done,
                };
                if matches!(room, Room::Evicted) {
                    warning = warning.or_else(|| state.eviction_warning(now));
                }
                if matches!(room, Room::Full) || !state.ring.push(slot) {
                    return Err(StoreError::Full(self.capacity));
                }
                None
            }
        };
        drop(state);
        // Dropped outside the lock: the waiters of this key wake and find the answer.
        drop(waiters);
        if let Some(evicted) = warning {
            self.warn_evicted(evicted);
        }
        if let Some((answer_bytes, kept)) = not_kept {
            tracing::warn!(
                answer_bytes,
                kept_bytes = kept,
                max_bytes = self.max_bytes,
                when_full = ?self.when_full,
                "an answer does not fit in the record of calls' byte bound and was not \
                 kept: a repeat delivery of this call gets an error saying so (the tool is \
                 not run again); raise MemoryStore::max_bytes or \
                 PillarBuilder::record_max_bytes"
            );
        }
        Ok(())
    }

    fn warn_evicted(&self, evicted: u64) {
        tracing::warn!(
            evicted,
            capacity = self.capacity,
            max_bytes = self.max_bytes,
            "the record of calls is full: finished calls are forgotten before their TTL \
             to take new ones, so a late repeat delivery of those would run again; raise \
             the MemoryStore's capacity or max_bytes, or share a Redis store"
        );
    }
}

/// The short answer kept instead of one too large to record: the same call id (when it
/// fits in a slot) and an error saying what happened. Only on that rare path is the
/// answer read again, for its call id.
fn not_kept_answer(answer: &[u8]) -> Vec<u8> {
    #[derive(serde::Deserialize)]
    struct CallId {
        call_id: Option<String>,
    }
    let call_id = serde_json::from_slice::<CallId>(answer)
        .ok()
        .and_then(|a| a.call_id);
    if let Some(call_id) = call_id {
        let bytes = Answer::tool_error(call_id, NOT_KEPT.to_owned()).to_bytes();
        if bytes.len() <= INLINE {
            return bytes;
        }
    }
    Answer::request_error(NOT_KEPT).to_bytes()
}

impl CallStore for MemoryStore {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        claim_ttl: Duration,
    ) -> StoreFuture<'a, Result<Claim, StoreError>> {
        let result = self.claim_now(self.key(key), fingerprint, claim_ttl);
        Box::pin(std::future::ready(result))
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        response: &'a WebhookResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<(), StoreError>> {
        let result = self.complete_now(self.key(key), fingerprint, response, ttl);
        Box::pin(std::future::ready(result))
    }

    fn changed<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        self.changed_now(self.key(key))
    }
}

impl MemoryStore {
    /// [`CallStore::changed`] for a key made by [`key_of`](Self::key_of).
    pub(crate) fn changed_now(&self, key: Key) -> StoreFuture<'static, ()> {
        // Subscribed under the lock, so a completion after this point is never missed.
        let subscription = self.state.lock().ok().and_then(|mut state| {
            let slot = state.ring.get_mut(key)?;
            let SlotState::Running(waiters) = &mut slot.state else {
                return None;
            };
            let sender = waiters.get_or_insert_with(|| watch::channel(()).0);
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

    fn recorded() -> WebhookResponse {
        WebhookResponse::new(StatusCode::OK, Answer::pong())
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

    #[tokio::test]
    async fn a_full_store_forgets_the_oldest_finished_call_but_never_a_running_one() {
        let store = MemoryStore::with_capacity(3);
        let ttl = Duration::from_secs(60);
        for key in ["a", "b"] {
            store.claim(key, 1, ttl).await.unwrap();
            store.complete(key, 1, &recorded(), ttl).await.unwrap();
        }
        store.claim("running", 1, ttl).await.unwrap();
        // Full: "a", the oldest finished record, makes room for "c".
        assert!(matches!(
            store.claim("c", 1, ttl).await.unwrap(),
            Claim::Run
        ));
        assert_eq!((store.len(), store.evicted()), (3, 1));
        assert!(matches!(
            store.claim("b", 1, ttl).await.unwrap(),
            Claim::Done(_)
        ));
        assert!(matches!(
            store.claim("running", 1, ttl).await.unwrap(),
            Claim::InProgress
        ));
        // "a" was forgotten: it would run again.
        assert!(matches!(
            store.claim("a", 1, ttl).await.unwrap(),
            Claim::Run
        ));
        assert_eq!(store.evicted(), 2);
        // Only running claims left: nothing can be dropped.
        let store = MemoryStore::with_capacity(1);
        store.claim("x", 1, ttl).await.unwrap();
        assert!(matches!(
            store.claim("y", 1, ttl).await,
            Err(StoreError::Full(1))
        ));
        assert!(matches!(
            store.claim("x", 1, ttl).await.unwrap(),
            Claim::InProgress
        ));
    }

    #[tokio::test]
    async fn any_capacity_is_accepted() {
        let store = MemoryStore::with_capacity(usize::MAX);
        assert!(matches!(
            store.claim("k", 1, Duration::from_secs(1)).await.unwrap(),
            Claim::Run
        ));
        let none = MemoryStore::with_capacity(0).when_full(WhenFull::Refuse);
        assert!(matches!(
            none.claim("k", 1, Duration::from_secs(1)).await,
            Err(StoreError::Full(0))
        ));
    }

    #[tokio::test]
    async fn refuse_keeps_every_record_until_it_expires() {
        let store = MemoryStore::with_capacity(1).when_full(WhenFull::Refuse);
        let short = Duration::from_millis(20);
        store.claim("a", 1, short).await.unwrap();
        store.complete("a", 1, &recorded(), short).await.unwrap();
        assert!(matches!(
            store.claim("b", 1, short).await,
            Err(StoreError::Full(1))
        ));
        assert!(matches!(
            store.claim("a", 1, short).await.unwrap(),
            Claim::Done(_)
        ));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(matches!(
            store.claim("b", 1, short).await.unwrap(),
            Claim::Run
        ));
        assert_eq!(store.evicted(), 0);
    }

    #[tokio::test]
    async fn recorded_answers_come_back_as_they_were() {
        let store = MemoryStore::default();
        let ttl = Duration::from_secs(60);
        let raw =
            serde_json::value::RawValue::from_string(r#"{"n":1.5,"s":"é"}"#.to_owned()).unwrap();
        let answers = [
            WebhookResponse::new(StatusCode::OK, Answer::success("tc_1", raw)),
            WebhookResponse::new(
                StatusCode::NOT_FOUND,
                Answer::tool_error("tc_2", "Tool 'x' not found".to_owned()),
            ),
        ];
        for (i, first) in answers.iter().enumerate() {
            let key = format!("k{i}");
            store.claim(&key, 7, ttl).await.unwrap();
            store.complete(&key, 7, first, ttl).await.unwrap();
            let Claim::Done(again) = store.claim(&key, 7, ttl).await.unwrap() else {
                panic!("not recorded");
            };
            assert_eq!(again.status(), first.status());
            assert_eq!(again.into_body(), first.to_body().into_owned());
        }
    }

    /// An answer whose JSON is `len` bytes long, for call `call_id`.
    fn answer_of(call_id: &str, len: usize) -> WebhookResponse {
        let overhead = Answer::success(call_id, raw("\"\"")).to_bytes().len();
        let text = "x".repeat(len - overhead);
        let recorded = WebhookResponse::new(
            StatusCode::OK,
            Answer::success(call_id, raw(&format!("\"{text}\""))),
        );
        assert_eq!(recorded.to_body().len(), len);
        recorded
    }

    fn raw(json: &str) -> Box<serde_json::value::RawValue> {
        serde_json::value::RawValue::from_string(json.to_owned()).unwrap()
    }

    async fn run(
        store: &MemoryStore,
        key: &str,
        len: usize,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        assert!(
            matches!(store.claim(key, 1, ttl).await?, Claim::Run),
            "{key}"
        );
        store.complete(key, 1, &answer_of(key, len), ttl).await?;
        assert!(store.answer_bytes() <= store.max_bytes, "{key}: {store:?}");
        Ok(())
    }

    async fn done(store: &MemoryStore, key: &str) -> Option<Vec<u8>> {
        match store.claim(key, 1, Duration::from_secs(60)).await.unwrap() {
            Claim::Done(recorded) => Some(recorded.into_body()),
            _ => None,
        }
    }

    #[tokio::test]
    async fn the_byte_bound_evicts_the_oldest_finished_answers() {
        let store = MemoryStore::with_capacity(100).max_bytes(1000);
        let ttl = Duration::from_secs(60);
        // A running claim first: it holds no answer and is never evicted.
        store.claim("running", 1, ttl).await.unwrap();
        run(&store, "a", 400, ttl).await.unwrap();
        run(&store, "b", 400, ttl).await.unwrap();
        // Short answers live in their slot and count nothing.
        run(&store, "small", 100, ttl).await.unwrap();
        assert_eq!(store.answer_bytes(), 800);
        // "c" needs 400 more: "a", the oldest finished answer, goes.
        run(&store, "c", 400, ttl).await.unwrap();
        assert_eq!((store.answer_bytes(), store.evicted()), (800, 1));
        assert_eq!(
            done(&store, "b").await,
            Some(answer_of("b", 400).into_body())
        );
        assert!(matches!(
            store.claim("running", 1, ttl).await.unwrap(),
            Claim::InProgress
        ));
        // A 1000-byte answer takes everything finished but the running claim.
        run(&store, "d", 1000, ttl).await.unwrap();
        assert_eq!(store.answer_bytes(), 1000);
        assert!(matches!(
            store.claim("running", 1, ttl).await.unwrap(),
            Claim::InProgress
        ));
        assert_eq!(
            done(&store, "d").await,
            Some(answer_of("d", 1000).into_body())
        );
        // "a" was forgotten: it would run again.
        assert!(matches!(
            store.claim("a", 1, ttl).await.unwrap(),
            Claim::Run
        ));
    }

    #[tokio::test]
    async fn an_answer_larger_than_the_bound_is_not_kept_but_never_runs_again() {
        for policy in [WhenFull::EvictOldest, WhenFull::Refuse] {
            let store = MemoryStore::with_capacity(100)
                .max_bytes(1000)
                .when_full(policy);
            let ttl = Duration::from_secs(60);
            run(&store, "kept", 400, ttl).await.unwrap();
            run(&store, "tc_huge", 5000, ttl).await.unwrap();
            // Nothing was evicted for an answer that could never fit.
            assert_eq!(
                (store.answer_bytes(), store.evicted()),
                (400, 0),
                "{policy:?}"
            );
            let again = done(&store, "tc_huge").await.expect("recorded as done");
            let again: serde_json::Value = serde_json::from_slice(&again).unwrap();
            assert_eq!(
                again,
                serde_json::json!({"call_id": "tc_huge", "success": false, "error": NOT_KEPT})
            );
            // A call id too long for the slot: the short answer without it.
            let long_id = "i".repeat(120);
            run(&store, &long_id, 5000, ttl).await.unwrap();
            let again = done(&store, &long_id).await.expect("recorded as done");
            let again: serde_json::Value = serde_json::from_slice(&again).unwrap();
            assert_eq!(
                again,
                serde_json::json!({"success": false, "error": NOT_KEPT})
            );
        }
    }

    #[tokio::test]
    async fn refuse_keeps_every_answer_and_refuses_new_calls_when_the_bytes_are_full() {
        let store = MemoryStore::with_capacity(100)
            .max_bytes(1000)
            .when_full(WhenFull::Refuse);
        let short = Duration::from_millis(300);
        run(&store, "a", 400, short).await.unwrap();
        run(&store, "b", 400, short).await.unwrap();
        // No room for "c"'s 400 bytes, and nothing may be forgotten: "c" is done, but
        // its answer is not kept.
        run(&store, "c", 400, short).await.unwrap();
        assert_eq!((store.answer_bytes(), store.evicted()), (800, 0));
        assert_eq!(
            done(&store, "a").await,
            Some(answer_of("a", 400).into_body())
        );
        assert_ne!(
            done(&store, "c").await,
            Some(answer_of("c", 400).into_body())
        );
        // 990 of 1000 bytes: less than 151 bytes of room, so new calls are refused.
        run(&store, "d", 190, short).await.unwrap();
        assert_eq!(store.answer_bytes(), 990);
        assert!(matches!(
            store.claim("e", 1, short).await,
            Err(StoreError::FullBytes(1000))
        ));
        // Once the records expire, there is room again.
        tokio::time::sleep(Duration::from_millis(400)).await;
        run(&store, "e", 400, short).await.unwrap();
        assert_eq!(store.answer_bytes(), 400);
    }

    #[tokio::test]
    async fn expired_and_replaced_records_give_their_bytes_back() {
        let store = MemoryStore::with_capacity(10).max_bytes(10_000);
        let long = Duration::from_secs(60);
        run(&store, "front", 200, long).await.unwrap();
        run(&store, "a", 1000, Duration::ZERO).await.unwrap();
        assert_eq!(store.answer_bytes(), 1200);
        // Expired behind a live record: claimed again in place, its old answer freed.
        assert!(matches!(
            store.claim("a", 1, long).await.unwrap(),
            Claim::Run
        ));
        assert_eq!(store.answer_bytes(), 200);
        store
            .complete("a", 1, &answer_of("a", 700), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(store.answer_bytes(), 900);
        assert!(matches!(
            store.claim("a", 1, long).await.unwrap(),
            Claim::Run
        ));
        assert_eq!(store.answer_bytes(), 200);
    }

    #[tokio::test]
    async fn a_waiter_wakes_when_the_call_completes() {
        let store = MemoryStore::default();
        let ttl = Duration::from_secs(60);
        store.claim("k", 1, ttl).await.unwrap();
        // Subscribed when called; ready at once after the completion, not after the
        // 100 ms poll.
        let waiting = store.changed("k");
        store.complete("k", 1, &recorded(), ttl).await.unwrap();
        assert!(tokio::time::timeout(Duration::ZERO, waiting).await.is_ok());
        // Without a completion, it would still be waiting.
        store.claim("j", 1, ttl).await.unwrap();
        let waiting = store.changed("j");
        assert!(tokio::time::timeout(Duration::ZERO, waiting).await.is_err());
    }
}
