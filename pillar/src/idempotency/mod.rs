//! At-most-once execution per call: the same `(action, call_id)` runs its tool once, and
//! every repeat delivery gets the first delivery's answer.
//!
//! Pillar Cloud may deliver a call more than once (a retry after a timeout, a double
//! click on Confirm). Before a tool runs, [`Pillar::handle`](crate::Pillar::handle)
//! *claims* the call's key in a [`CallStore`]; a repeat that finds the claim waits for the
//! first delivery's answer, and a repeat whose tool or input differs under the same key is
//! refused. The key is never the signature (a retry carries a fresh timestamp).
//!
//! A signed call without a `call_id` (or with `""`) is keyed on the SHA-256 digest of its
//! exact signed body (`body-sha256:<64 hex digits>`): a replay of a captured request, or
//! a retry of the same body with a fresh signature, within the record's time
//! ([`PillarBuilder::record_ttl`](crate::PillarBuilder::record_ttl), 10 minutes by
//! default, which covers the whole 600 s during which one signature verifies) runs the
//! tool once and gets the first answer, byte for byte. Any other body is another call. The
//! 64-bit [`fingerprint`] is never the key (two different bodies sharing a record would
//! get each other's answer); a single delivery is answered exactly as without a record
//! (`{"call_id": "", ...}`, as the reference SDK answers it). Two calls that are meant to
//! run twice must differ somewhere in their bodies: Pillar Cloud gives each call its own
//! `call_id`.
//!
//! Two stores ship with the SDK: [`MemoryStore`], the default, and `RedisStore` (feature
//! `redis`, or `PILLAR_REDIS_URL` with
//! [`PillarBuilder::from_env`](crate::PillarBuilder::from_env)) for several instances
//! behind a load balancer.
//!
//! Whatever the store, a call never runs without a claim: when the store fails or cannot
//! be reached, the call is refused with 503 and `Retry-After` (Pillar Cloud retries it),
//! rather than risk running it twice.
//!
//! A claim lives the tool's timeout plus the claim margin
//! ([`PillarBuilder::claim_margin`](crate::PillarBuilder::claim_margin), 30 s by
//! default). When the store fails after the tool ran, the answer is still sent, and kept
//! in memory: recording it is retried in the background until the claim expires, so a
//! repeat delivery that waits on the claim gets it once the store is back. A repeat
//! delivery waits at most one claim's time (the tool's timeout plus the margin); after
//! that it is answered 503 and Pillar Cloud retries.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::answer::WebhookResponse;

mod memory;
pub(crate) mod record;
#[cfg(feature = "redis")]
mod redis;
mod ring;

pub use self::memory::{MemoryStore, WhenFull, DEFAULT_CAPACITY, DEFAULT_MAX_BYTES};
#[cfg(feature = "redis")]
pub use self::redis::RedisStore;
pub(crate) use self::ring::Key;

/// A boxed future, as the store's methods return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The default time a finished call's answer is kept: twice the signature window.
pub const DEFAULT_RECORD_TTL: Duration = Duration::from_secs(600);

/// The default claim margin: a call's claim lives its tool's timeout plus this (see
/// [`PillarBuilder::claim_margin`](crate::PillarBuilder::claim_margin)).
pub const DEFAULT_CLAIM_MARGIN: Duration = Duration::from_secs(30);

/// What [`CallStore::claim`] found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Claim {
    /// The key was free and is now claimed by this delivery: run the tool, then
    /// [`complete`](CallStore::complete).
    Run,
    /// Another delivery holds the claim and is running the tool.
    InProgress,
    /// The call ran before; here is its response (status and answer).
    Done(WebhookResponse),
    /// The key was claimed for a different request (another tool or other input).
    Conflict,
}

/// Why a store could not answer. The call is then refused with a retryable status
/// rather than risk a second run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store is full of records that must be kept: claims of calls still running,
    /// or, with [`WhenFull::Refuse`], records that have not expired yet.
    #[error("the call store is full ({0} records)")]
    Full(usize),
    /// With [`WhenFull::Refuse`], the answers a [`MemoryStore`] keeps fill its byte
    /// bound ([`MemoryStore::max_bytes`], given here), and none may be forgotten before
    /// it expires.
    #[error(
        "the call store is full: its answers fill its byte bound ({0} bytes, \
         MemoryStore::max_bytes) and none has expired yet"
    )]
    FullBytes(usize),
    /// The store could not be reached or failed.
    #[error("the call store is unavailable: {0}")]
    Unavailable(String),
}

/// Where claims and answers are kept. Implement it to keep them elsewhere.
///
/// Keys are opaque strings (`<action>:<call_id>`, or `body-sha256:<hex>` for a call
/// without a `call_id`, at most 76 bytes for the latter); fingerprints identify the
/// request (tool and input) so that a different request reusing a key is refused.
pub trait CallStore: Send + Sync + fmt::Debug + 'static {
    /// Claims `key` for a run, atomically, unless it is claimed or done already. A claim
    /// expires after `claim_ttl`, so a crashed claimant does not block the key forever.
    fn claim<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        claim_ttl: Duration,
    ) -> StoreFuture<'a, Result<Claim, StoreError>>;

    /// Records the response of a claimed call, kept for `ttl`. Keep its status and the
    /// body's bytes ([`WebhookResponse::to_body`]: made once, the same bytes the response
    /// sends), and give them back with [`WebhookResponse::from_recorded`]; or keep the
    /// value itself.
    ///
    /// When it fails, the caller is answered anyway and the same answer is given to
    /// `complete` again, in the background, until the call's claim expires: a write that
    /// failed only on its way back (the store wrote it, then timed out) must then succeed
    /// again (keeping the same record), not be refused as another delivery's.
    fn complete<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        response: &'a WebhookResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<(), StoreError>>;

    /// Resolves when the claim on `key` may have changed; a repeat delivery calls it
    /// between claims. The default polls every 25 ms.
    fn changed<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        let _ = key;
        Box::pin(tokio::time::sleep(Duration::from_millis(25)))
    }

    /// Whether the store can take claims now, for readiness checks (`/readyz`,
    /// `Pillar::readiness`): a cheap round trip, bounded by a short timeout (about a
    /// second), never a write. The default answers ready at once, as an in-process store
    /// is; a store on another server should check that it answers.
    ///
    /// # Errors
    /// A [`StoreError`] saying what cannot be reached, and where.
    fn ready(&self) -> StoreFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A store shared behind an `Arc` (several `Pillar`s in one process, or a handle kept to
/// read [`MemoryStore::evicted`]) is a store.
impl<S: CallStore + ?Sized> CallStore for std::sync::Arc<S> {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        claim_ttl: Duration,
    ) -> StoreFuture<'a, Result<Claim, StoreError>> {
        (**self).claim(key, fingerprint, claim_ttl)
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        response: &'a WebhookResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<(), StoreError>> {
        (**self).complete(key, fingerprint, response, ttl)
    }

    fn changed<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        (**self).changed(key)
    }

    fn ready(&self) -> StoreFuture<'_, Result<(), StoreError>> {
        (**self).ready()
    }
}

/// The fingerprint of a request, as `Pillar::handle` passes it to a [`CallStore`]: its
/// tool and its exact input text. A stable 64-bit hash (the same in every process on
/// every platform, so instances sharing a store agree): XXH3-64 of the input, seeded
/// with the XXH3-64 of the tool's name. It is a conflict check only (a key reused for
/// another request is refused), never a key: a call without a `call_id` is keyed on the
/// SHA-256 of its body. A 1 MiB input costs a small fraction of its HMAC.
///
/// The values changed once, before the first release (earlier builds used a serial
/// multiply-rotate hash, several times slower over large inputs; see CHANGELOG.md): a
/// store that persists fingerprints across such an upgrade finds an older record's
/// fingerprint different from the new one, and a repeat of that call is refused as a
/// conflict (409, not run) rather than answered from the record. `RedisStore` tags its records with
/// the format (see its "What is stored"), so it tells such records apart and never
/// compares an old fingerprint with a new one.
pub fn fingerprint(tool: &str, input: &str) -> u64 {
    use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};
    // The tool's name seeds the input's hash: ("ab", "c") and ("a", "bc") differ.
    xxh3_64_with_seed(input.as_bytes(), xxh3_64(tool.as_bytes()))
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_across_versions() {
        // Instances sharing a Redis store must agree: these values must never change
        // (they changed once, to XXH3, with the `R2:`/`D2:` tags of RedisStore's records).
        assert_eq!(fingerprint("refund", r#"{"order":"o_1"}"#), PINNED_REFUND);
        assert_eq!(fingerprint("", ""), PINNED_EMPTY);
        // The hash is standard XXH3-64 (the specification's value for no input), which
        // any other implementation reproduces.
        assert_eq!(xxhash_rust::xxh3::xxh3_64(b""), 0x2d06_8005_38d3_94c2);
    }

    const PINNED_REFUND: u64 = 11_209_521_645_146_845_004;
    const PINNED_EMPTY: u64 = 4_696_993_233_866_070_003;

    #[test]
    fn fingerprints_tell_requests_apart() {
        assert_eq!(fingerprint("a", "{}"), fingerprint("a", "{}"));
        assert_ne!(fingerprint("a", "{}"), fingerprint("b", "{}"));
        assert_ne!(fingerprint("a", "{\"x\":1}"), fingerprint("a", "{\"x\":2}"));
        assert_ne!(fingerprint("ab", "c"), fingerprint("a", "bc"));
        assert_ne!(fingerprint("a", "x"), fingerprint("a", "x\0"));
    }
}
