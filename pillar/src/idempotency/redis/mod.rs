//! The Redis call store (feature `redis`): several instances behind a load balancer share
//! one record of what ran.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script, TlsCertificates};
use tokio::sync::OnceCell;

mod wire;

use self::wire::{
    is_earlier_format, parse_record, redact_url, CLAIM_SCRIPT, CLAIM_TAG, COMPLETE_SCRIPT,
    DONE_TAG, RELEASE_SCRIPT,
};
use super::{CallStore, Claim, StoreError, StoreFuture};
use crate::answer::WebhookResponse;

/// The default prefix of every key the store writes.
const DEFAULT_PREFIX: &str = "pillar:call:";
/// The default bound of one operation, connecting included.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest a readiness check ([`CallStore::ready`]) waits for `PING`: below the 1 s a
/// readiness probe usually allows.
const READY_TIMEOUT: Duration = Duration::from_millis(800);
/// Above this many claims in flight, the local record of claim tokens drops expired ones.
const TOKENS_SWEEP_AT: usize = 1024;

/// The most claims of refused deliveries (see `release_later`) one store releases at
/// once; past it, such a claim expires by itself.
const MAX_RELEASING: usize = 4096;
/// The first delay between two attempts to release a claim, doubling up to
/// [`RELEASE_RETRY_MAX`].
const RELEASE_RETRY_FIRST: Duration = Duration::from_millis(20);
/// The longest delay between two attempts to release a claim.
const RELEASE_RETRY_MAX: Duration = Duration::from_millis(500);

/// A [`CallStore`] on Redis, for several instances behind a load balancer: they share
/// one record of what ran, so a call delivered to two of them runs once.
///
/// ```no_run
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use pillar::idempotency::RedisStore;
///
/// let store = RedisStore::open("redis://127.0.0.1:6379/")?.key_prefix("myapp:pillar:");
/// let pillar = pillar::Pillar::builder()
///     .secret("plr_...")
///     .call_store(store)
///     .build()?;
/// # let _ = pillar; Ok(()) }
/// ```
///
/// [`PillarBuilder::from_env`](crate::PillarBuilder::from_env) builds one from
/// `PILLAR_REDIS_URL`.
///
/// # TLS
/// A `rediss://` URL connects over TLS (rustls, on the build's one crypto provider,
/// ring), as most managed Redis services require. The server's certificate is always
/// verified, and its name must match the URL's host: [`open`](Self::open) trusts the
/// public web roots (the Mozilla set of `webpki-roots`, the same reqwest trusts for
/// Pillar Cloud); [`open_with_root_ca`](Self::open_with_root_ca) trusts only the CA
/// certificate(s) you give, for a Redis whose certificate comes from a private CA.
/// There is no switch that turns verification off.
///
/// ```no_run
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use pillar::idempotency::RedisStore;
///
/// // A managed Redis with a publicly trusted certificate:
/// let store = RedisStore::open("rediss://:password@my-redis.example.com:6380/0")?;
/// // A Redis whose certificate a private CA issued:
/// let ca = std::fs::read("/etc/pillar/redis-ca.pem")?;
/// let store = RedisStore::open_with_root_ca("rediss://redis.internal:6380/", &ca)?;
/// # let _ = store; Ok(()) }
/// ```
///
/// # What is stored
/// One string per call under `<prefix><action>:<call_id>`:
/// - `R2:<fingerprint>:<token>` while a delivery runs the tool, expiring after the
///   claim's time to live (the tool's timeout plus the claim margin,
///   [`PillarBuilder::claim_margin`](crate::PillarBuilder::claim_margin), 30 s by
///   default), so a crashed claimant frees the key;
/// - `D2:<fingerprint>:<status>:<answer JSON>` once it has run, kept for the record time
///   to live (10 minutes by default).
///
/// `<fingerprint>` is [`fingerprint`](super::fingerprint) in 16 hex digits; the `2` in
/// the tag is its format. Records of earlier builds (`R:` and `D:`, another hash) are
/// never compared with a new fingerprint: a delivery that finds one is refused as a
/// conflict (409, not run; logged), since whether it is the same request cannot be told,
/// and builds that wrote them read the new tags as "not a call record" and refuse with a
/// retryable 503. Either way nothing runs twice while old and new instances share a
/// Redis; upgrade them together (or drain the old ones) to avoid these refusals.
///
/// The claim is one atomic command, `SET key claim NX PX ttl GET` (on a Redis before 7.0,
/// which refuses it, one Lua script doing the same: `GET`, then `SET ... PX` only if the
/// key is free), so two deliveries can never both claim a key. The answer is written by a
/// second script that overwrites only this delivery's own claim, or a key whose claim has
/// expired (and answers "written" again for the very same record, so a write retried
/// after a lost reply succeeds).
///
/// # When Redis cannot be reached
/// Nothing runs without a claim: every operation is bounded by a
/// [`timeout`](Self::timeout) (2 s by default, connecting included), and a store that
/// fails or does not answer in time makes [`Pillar::handle`](crate::Pillar::handle)
/// refuse the call with 503 and `Retry-After`, which Pillar Cloud retries. A claim that
/// timed out may still have been written (Redis was slow, not gone): the store then
/// deletes that claim in the background as soon as Redis answers again, by
/// compare-and-delete on this delivery's own token (never another delivery's claim), so
/// the retry runs at once instead of waiting for the claim to expire. If Redis fails
/// after a claim, while the tool runs, the answer is still sent to the caller and kept in
/// memory: recording it is retried until the claim expires, and a retry that waits on the
/// claim gets it once Redis is back. Only a Redis that stays away for longer than the
/// claim (the tool's timeout plus the claim margin) lets a retry run the tool again. The
/// store connects on first use and reconnects by itself once Redis is back.
///
/// # When Redis loses data
/// At most once holds only while Redis keeps what it acknowledged. A Redis that restarts
/// empty (no persistence), from an old RDB snapshot, that evicts keys (any
/// `maxmemory-policy` but `noeviction`: every record has a TTL), or whose replica is
/// promoted before it received the last writes (replication is asynchronous; this store
/// does not issue `WAIT`) has forgotten those claims: their retries run the tool again.
/// Run Redis with `appendonly yes` and `appendfsync always` (`everysec` can lose about
/// the last second of claims when the machine crashes) and `maxmemory-policy
/// noeviction`; SECURITY.md ("Redis: which configuration keeps the promise") has the
/// whole table, and `tests/redis/redis_durability.rs` shows both outcomes on a killed
/// `redis-server`.
pub struct RedisStore {
    client: Client,
    /// The URL with any password hidden, for messages.
    shown_url: String,
    prefix: String,
    timeout: Duration,
    connection: OnceCell<ConnectionManager>,
    claim_script: Script,
    complete_script: Script,
    release_script: Script,
    /// How many claims of refused deliveries are being released in the background.
    releasing: Arc<AtomicUsize>,
    /// Set once the server refused `SET ... NX GET` (before Redis 7.0): claims go through
    /// the claim script from then on.
    claim_by_script: AtomicBool,
    /// This process's claims in flight: key to (token, expiry).
    tokens: Mutex<HashMap<String, (String, Instant)>>,
    /// Makes each claim's token unique within the process.
    counter: AtomicU64,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.shown_url)
            .field("key_prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("connected", &self.connection.initialized())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store on the Redis server at `url`: `redis://[user][:password@]host[:port][/db]`,
    /// `rediss://...` for TLS (trusting the public web roots: see [TLS](#tls)), or
    /// `redis+unix:///path`. The URL is checked now; the connection is made on first use
    /// (see [`ping`](Self::ping) to check it at start-up), so this needs no runtime.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the URL is not a Redis URL. The message names the
    /// URL without its password.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let shown_url = redact_url(url);
        let client = Client::open(url).map_err(|err| {
            StoreError::Unavailable(format!("`{shown_url}` is not a usable Redis URL: {err}"))
        })?;
        Ok(Self::with_client(client, shown_url))
    }

    /// A store on the Redis server at the `rediss://` `url`, over TLS, trusting only the
    /// CA certificate(s) in `root_ca_pem` (one or more `-----BEGIN CERTIFICATE-----`
    /// blocks, as in a `ca.pem` file) instead of the public web roots: for a Redis whose
    /// certificate a private CA issued. The certificate is verified as with
    /// [`open`](Self::open), its name against the URL's host included.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when `url` is not a `rediss://` URL, or `root_ca_pem`
    /// holds no certificate or one that cannot be parsed. The message names the URL
    /// without its password.
    pub fn open_with_root_ca(url: &str, root_ca_pem: &[u8]) -> Result<Self, StoreError> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::CertificateDer;

        let shown_url = redact_url(url);
        let unusable = |reason: String| {
            StoreError::Unavailable(format!(
                "`{shown_url}` with a root CA is not usable: {reason}"
            ))
        };
        if !url.trim_start().starts_with("rediss://") {
            return Err(unusable(
                "a root CA is for TLS, which needs a `rediss://` URL".to_owned(),
            ));
        }
        let mut certificates = 0;
        for parsed in CertificateDer::pem_slice_iter(root_ca_pem) {
            parsed.map_err(|err| unusable(format!("the root CA's PEM cannot be read: {err}")))?;
            certificates += 1;
        }
        if certificates == 0 {
            return Err(unusable(
                "the root CA holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned(),
            ));
        }
        let tls = TlsCertificates {
            client_tls: None,
            root_cert: Some(root_ca_pem.to_vec()),
        };
        let client = Client::build_with_tls(url, tls).map_err(|err| unusable(err.to_string()))?;
        Ok(Self::with_client(client, shown_url))
    }

    fn with_client(client: Client, shown_url: String) -> Self {
        Self {
            client,
            shown_url,
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            connection: OnceCell::new(),
            claim_script: Script::new(CLAIM_SCRIPT),
            complete_script: Script::new(COMPLETE_SCRIPT),
            release_script: Script::new(RELEASE_SCRIPT),
            releasing: Arc::new(AtomicUsize::new(0)),
            claim_by_script: AtomicBool::new(false),
            tokens: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
        }
    }

    /// The prefix of every key written (default `pillar:call:`). Give apps sharing one
    /// Redis different prefixes.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest one operation may take, connecting included (default 2 s). Past it
    /// the store reports [`StoreError::Unavailable`] and the call is refused with a
    /// retryable 503, so a hung Redis does not hold calls.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects now, if not connected yet, and checks that Redis answers `PING`: call it
    /// at start-up to fail fast on a wrong URL or an unreachable server.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] naming the URL (without its password) and the cause.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.ping_within(self.timeout).await
    }

    async fn ping_within(&self, limit: Duration) -> Result<(), StoreError> {
        self.bounded_by(limit, async {
            let mut conn = self.connection().await?;
            redis::cmd("PING").query_async::<()>(&mut conn).await
        })
        .await
    }

    /// The shared connection, made on first use. A failed attempt leaves it unmade, so
    /// the next operation tries again; once made, it reconnects by itself.
    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        let manager = self
            .connection
            .get_or_try_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await?;
        Ok(manager.clone())
    }

    /// Runs one operation within the timeout, mapping every failure to
    /// [`StoreError::Unavailable`].
    async fn bounded<T>(
        &self,
        op: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        self.bounded_by(self.timeout, op).await
    }

    async fn bounded_by<T>(
        &self,
        limit: Duration,
        op: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(limit, op).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(StoreError::Unavailable(format!(
                "Redis at {}: {err}",
                self.shown_url
            ))),
            Err(_) => Err(StoreError::Unavailable(format!(
                "Redis at {} did not answer within {limit:?}",
                self.shown_url
            ))),
        }
    }

    fn new_token(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!("{:x}.{nanos:x}.{n:x}", std::process::id())
    }

    fn remember(&self, key: &str, token: String, ttl: Duration) {
        let Ok(mut tokens) = self.tokens.lock() else {
            return;
        };
        let now = Instant::now();
        if tokens.len() >= TOKENS_SWEEP_AT {
            tokens.retain(|_, (_, expires)| *expires > now);
        }
        tokens.insert(key.to_owned(), (token, now + ttl));
    }

    /// Takes this process's token of the claim on `key`, with the claim's expiry.
    fn forget(&self, key: &str) -> Option<(String, Instant)> {
        let mut tokens = self.tokens.lock().ok()?;
        tokens.remove(key)
    }

    /// Puts back a token [`forget`](Self::forget) took, when its answer could not be
    /// recorded: the next attempt writes over the same claim.
    fn restore(&self, key: &str, token: String, expires: Instant) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(key.to_owned(), (token, expires));
        }
    }

    /// Deletes, in the background, a claim this delivery asked for but was refused (503)
    /// because Redis did not answer in time or the connection failed: Redis may have set
    /// it all the same, and nobody would complete it. As soon as Redis answers, the claim
    /// is deleted if it is still this delivery's own (compare-and-delete on the whole
    /// claim, whose token is this delivery's alone); tried until the claim would have
    /// expired. On the same connection, the delete is ordered after the claim.
    fn release_later(&self, full_key: String, claim: String, claim_ttl: Duration) {
        // Never connected: nothing was sent.
        let Some(connection) = self.connection.get() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.releasing.fetch_add(1, Ordering::Relaxed) >= MAX_RELEASING {
            self.releasing.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let releasing = Releasing(Arc::clone(&self.releasing));
        let mut connection = connection.clone();
        let script = self.release_script.clone();
        let timeout = self.timeout;
        let until = Instant::now() + claim_ttl;
        runtime.spawn(async move {
            let _releasing = releasing;
            let mut delay = RELEASE_RETRY_FIRST;
            loop {
                let deleted = tokio::time::timeout(
                    timeout,
                    script
                        .key(&full_key)
                        .arg(&claim)
                        .invoke_async::<i64>(&mut connection),
                )
                .await;
                match deleted {
                    Ok(Ok(deleted)) => {
                        if deleted == 1 {
                            tracing::info!(
                                key = %crate::observe::Untrusted::id(&full_key),
                                "Redis answered again: deleted the claim of a delivery that \
                                 was refused (503) when its claim timed out, so its retry runs \
                                 now"
                            );
                        }
                        return;
                    }
                    _ if Instant::now() + delay >= until => return,
                    _ => {}
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(RELEASE_RETRY_MAX);
            }
        });
    }

    async fn claim_now(
        &self,
        key: &str,
        fingerprint: u64,
        claim_ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let full_key = format!("{}{key}", self.prefix);
        let token = self.new_token();
        let claim = format!("{CLAIM_TAG}{fingerprint:016x}:{token}");
        let current: Result<Option<Vec<u8>>, StoreError> = self
            .bounded(async {
                let mut conn = self.connection().await?;
                if !self.claim_by_script.load(Ordering::Relaxed) {
                    let claimed = redis::cmd("SET")
                        .arg(&full_key)
                        .arg(&claim)
                        .arg("NX")
                        .arg("PX")
                        .arg(px(claim_ttl))
                        .arg("GET")
                        .query_async(&mut conn)
                        .await;
                    match claimed {
                        // A plain `ERR` reply (a syntax error before Redis 7.0, or a proxy
                        // that does not know the option): nothing was set; use the script.
                        Err(err) if err.code() == Some("ERR") => {
                            tracing::info!(
                                err = %crate::observe::Untrusted::text(&err),
                                "Redis refused `SET ... NX GET` (before 7.0?): claiming with a \
                                 script instead"
                            );
                            self.claim_by_script.store(true, Ordering::Relaxed);
                        }
                        other => return other,
                    }
                }
                self.claim_script
                    .key(&full_key)
                    .arg(&claim)
                    .arg(px(claim_ttl))
                    .invoke_async(&mut conn)
                    .await
            })
            .await;
        let current = match current {
            Ok(current) => current,
            Err(err) => {
                self.release_later(full_key, claim, claim_ttl);
                return Err(err);
            }
        };
        let Some(current) = current else {
            self.remember(key, token, claim_ttl);
            return Ok(Claim::Run);
        };
        if is_earlier_format(&current) {
            tracing::warn!(
                key = %crate::observe::Untrusted::id(&full_key),
                "the call's record was written by an earlier build of the SDK (another \
                 fingerprint format): whether this is the same request cannot be told, so it \
                 is refused as a conflict and not run"
            );
            return Ok(Claim::Conflict);
        }
        parse_record(&current, fingerprint).ok_or_else(|| {
            StoreError::Unavailable(format!(
                "Redis at {}: `{full_key}` holds something that is not a call record",
                self.shown_url
            ))
        })
    }

    async fn complete_now(
        &self,
        key: &str,
        fingerprint: u64,
        response: &WebhookResponse,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let full_key = format!("{}{key}", self.prefix);
        let taken = self.forget(key);
        let token = taken.as_ref().map_or("", |(token, _)| token.as_str());
        let mut record = format!(
            "{DONE_TAG}{fingerprint:016x}:{:03}:",
            response.status().as_u16()
        )
        .into_bytes();
        record.extend_from_slice(&response.to_body());
        let written: Result<i64, StoreError> = self
            .bounded(async {
                let mut conn = self.connection().await?;
                self.complete_script
                    .key(&full_key)
                    .arg(format!("{CLAIM_TAG}{fingerprint:016x}:"))
                    .arg(token)
                    .arg(&record)
                    .arg(px(ttl))
                    .invoke_async(&mut conn)
                    .await
            })
            .await;
        let written = match written {
            Ok(written) => written,
            Err(err) => {
                if let Some((token, expires)) = taken {
                    self.restore(key, token, expires);
                }
                return Err(err);
            }
        };
        if written == 0 {
            tracing::warn!(
                key = %crate::observe::Untrusted::id(&full_key),
                "this delivery's claim had expired and another delivery took the key \
                 meanwhile; its record is kept and this answer is not recorded"
            );
        }
        Ok(())
    }
}

impl CallStore for RedisStore {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        claim_ttl: Duration,
    ) -> StoreFuture<'a, Result<Claim, StoreError>> {
        Box::pin(self.claim_now(key, fingerprint, claim_ttl))
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        fingerprint: u64,
        response: &'a WebhookResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, Result<(), StoreError>> {
        Box::pin(self.complete_now(key, fingerprint, response, ttl))
    }

    fn changed<'a>(&'a self, _key: &'a str) -> StoreFuture<'a, ()> {
        // Redis tells nothing when a key changes (keyspace notifications are off by
        // default): poll.
        Box::pin(tokio::time::sleep(Duration::from_millis(25)))
    }

    /// `PING`, within the store's [`timeout`](RedisStore::timeout) and at most 800 ms.
    fn ready(&self) -> StoreFuture<'_, Result<(), StoreError>> {
        Box::pin(self.ping_within(self.timeout.min(READY_TIMEOUT)))
    }
}

/// Counts a background release while it lives (see `RedisStore::release_later`).
struct Releasing(Arc<AtomicUsize>);

impl Drop for Releasing {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A duration in whole milliseconds, at least 1 (`PX 0` is an error in Redis).
fn px(d: Duration) -> u64 {
    super::millis(d).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Answer;
    use http::StatusCode;

    #[test]
    fn passwords_never_show() {
        for (url, shown) in [
            ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
            ("redis://:hunter2@h:1/", "redis://:***@h:1/"),
            ("redis://user:hunter2@h", "redis://user:***@h"),
            ("redis://hunter2@h", "redis://***@h"),
            ("redis://u:p@ss:w@rd@h/2", "redis://u:***@h/2"),
            (
                "redis+unix:///run/r.sock?db=1&pass=hunter2",
                "redis+unix:///run/r.sock?db=1&pass=***",
            ),
            ("redis://:pa/ss@h:1", "redis://:***@h:1"),
            ("redis://h/0?protocol=resp3", "redis://h/0?protocol=resp3"),
            ("localhost:6379", "localhost:6379"),
        ] {
            assert_eq!(redact_url(url), shown);
        }
    }

    #[test]
    fn a_bad_url_is_named_without_its_password() {
        for url in [
            "http://:hunter2@h/",
            "redis://:hunter2@h/notadb",
            "nonsense",
        ] {
            let err = RedisStore::open(url).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
            assert!(err.contains("not a usable Redis URL"), "{err}");
        }
        let debug = format!("{:?}", RedisStore::open("redis://:hunter2@h/").unwrap());
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn a_root_ca_needs_a_rediss_url_and_a_certificate() {
        let err = RedisStore::open_with_root_ca("redis://:hunter2@h:6379/", CA)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs a `rediss://` URL"), "{err}");
        assert!(err.contains("redis://:***@h:6379/"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");

        for junk in [&b""[..], b"not a certificate"] {
            let err = RedisStore::open_with_root_ca("rediss://h:6380/", junk)
                .unwrap_err()
                .to_string();
            assert!(err.contains("holds no PEM certificate"), "{err}");
            assert!(err.contains("rediss://h:6380/"), "{err}");
        }
        let broken = b"-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n";
        let err = RedisStore::open_with_root_ca("rediss://h:6380/", broken)
            .unwrap_err()
            .to_string();
        assert!(err.contains("the root CA's PEM cannot be read"), "{err}");

        let store = RedisStore::open_with_root_ca("rediss://:hunter2@h:6380/", CA).unwrap();
        assert!(!format!("{store:?}").contains("hunter2"));
        // Without a root CA, rediss:// trusts the public roots.
        RedisStore::open("rediss://h:6380/").unwrap();
    }

    /// A CA certificate (ISRG Root X1, Let's Encrypt's root), to parse.
    const CA: &[u8] = b"-----BEGIN CERTIFICATE-----
MIIFazCCA1OgAwIBAgIRAIIQz7DSQONZRGPgu2OCiwAwDQYJKoZIhvcNAQELBQAw
TzELMAkGA1UEBhMCVVMxKTAnBgNVBAoTIEludGVybmV0IFNlY3VyaXR5IFJlc2Vh
cmNoIEdyb3VwMRUwEwYDVQQDEwxJU1JHIFJvb3QgWDEwHhcNMTUwNjA0MTEwNDM4
WhcNMzUwNjA0MTEwNDM4WjBPMQswCQYDVQQGEwJVUzEpMCcGA1UEChMgSW50ZXJu
ZXQgU2VjdXJpdHkgUmVzZWFyY2ggR3JvdXAxFTATBgNVBAMTDElTUkcgUm9vdCBY
MTCCAiIwDQYJKoZIhvcNAQEBBQADggIPADCCAgoCggIBAK3oJHP0FDfzm54rVygc
h77ct984kIxuPOZXoHj3dcKi/vVqbvYATyjb3miGbESTtrFj/RQSa78f0uoxmyF+
0TM8ukj13Xnfs7j/EvEhmkvBioZxaUpmZmyPfjxwv60pIgbz5MDmgK7iS4+3mX6U
A5/TR5d8mUgjU+g4rk8Kb4Mu0UlXjIB0ttov0DiNewNwIRt18jA8+o+u3dpjq+sW
T8KOEUt+zwvo/7V3LvSye0rgTBIlDHCNAymg4VMk7BPZ7hm/ELNKjD+Jo2FR3qyH
B5T0Y3HsLuJvW5iB4YlcNHlsdu87kGJ55tukmi8mxdAQ4Q7e2RCOFvu396j3x+UC
B5iPNgiV5+I3lg02dZ77DnKxHZu8A/lJBdiB3QW0KtZB6awBdpUKD9jf1b0SHzUv
KBds0pjBqAlkd25HN7rOrFleaJ1/ctaJxQZBKT5ZPt0m9STJEadao0xAH0ahmbWn
OlFuhjuefXKnEgV4We0+UXgVCwOPjdAvBbI+e0ocS3MFEvzG6uBQE3xDk3SzynTn
jh8BCNAw1FtxNrQHusEwMFxIt4I7mKZ9YIqioymCzLq9gwQbooMDQaHWBfEbwrbw
qHyGO0aoSCqI3Haadr8faqU9GY/rOPNk3sgrDQoo//fb4hVC1CLQJ13hef4Y53CI
rU7m2Ys6xt0nUW7/vGT1M0NPAgMBAAGjQjBAMA4GA1UdDwEB/wQEAwIBBjAPBgNV
HRMBAf8EBTADAQH/MB0GA1UdDgQWBBR5tFnme7bl5AFzgAiIyBpY9umbbjANBgkq
hkiG9w0BAQsFAAOCAgEAVR9YqbyyqFDQDLHYGmkgJykIrGF1XIpu+ILlaS/V9lZL
ubhzEFnTIZd+50xx+7LSYK05qAvqFyFWhfFQDlnrzuBZ6brJFe+GnY+EgPbk6ZGQ
3BebYhtF8GaV0nxvwuo77x/Py9auJ/GpsMiu/X1+mvoiBOv/2X/qkSsisRcOj/KK
NFtY2PwByVS5uCbMiogziUwthDyC3+6WVwW6LLv3xLfHTjuCvjHIInNzktHCgKQ5
ORAzI4JMPJ+GslWYHb4phowim57iaztXOoJwTdwJx4nLCgdNbOhdjsnvzqvHu7Ur
TkXWStAmzOVyyghqpZXjFaH3pO3JLF+l+/+sKAIuvtd7u+Nxe5AW0wdeRlN8NwdC
jNPElpzVmbUq4JUagEiuTDkHzsxHpFKVK7q4+63SM1N95R1NbdWhscdCb+ZAJzVc
oyi3B43njTOQ5yOf+1CceWxG1bQVs5ZufpsMljq4Ui0/1lvh+wjChP4kqKOJ2qxq
4RgqsahDYVvTH9w7jXbyLeiNdd8XM2w9U/t7y0Ff/9yi0GE44Za4rF2LN9d11TPA
mRGunUHBcnWEvgJBQl9nJEiU0Zsnvgc/ubhPgXRR4Xq37Z0j4r7g1SgEEzwxA57d
emyPxgcYxn/eR44/KJ4EBs+lVDR3veyJm+kXQ99b21/+jh5Xos1AnX5iItreGCc=
-----END CERTIFICATE-----
";

    #[test]
    fn records_read_back() {
        let answer = Answer::tool_error("tc", "no".to_owned());
        let mut done = format!("D2:{:016x}:200:", 7).into_bytes();
        done.extend_from_slice(&answer.to_bytes());
        match parse_record(&done, 7) {
            Some(Claim::Done(r)) => {
                assert_eq!(r.status(), StatusCode::OK);
                assert_eq!(r.into_body(), answer.to_bytes());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse_record(&done, 8), Some(Claim::Conflict)));
        let running = format!("R2:{:016x}:tok", u64::MAX).into_bytes();
        assert!(matches!(
            parse_record(&running, u64::MAX),
            Some(Claim::InProgress)
        ));
        assert!(matches!(parse_record(&running, 1), Some(Claim::Conflict)));
        for junk in [
            &b""[..],
            b"R2:",
            b"R2:0000000000000007",
            b"X2:0000000000000007:x",
            b"D2:0000000000000007:200:{}",
            b"D2:0000000000000007:2000{\"status\":\"ok\"}",
            b"D2:000000000000000g:200:{\"status\":\"ok\"}",
        ] {
            assert!(parse_record(junk, 7).is_none(), "{junk:?}");
        }
    }

    #[test]
    fn an_earlier_builds_record_never_matches() {
        // Records of the earlier format, with the very fingerprint asked about: never
        // taken as this request's (the hash differs), never a panic.
        let mut done = format!("D:{:016x}:200:", 7).into_bytes();
        done.extend_from_slice(&Answer::tool_error("tc", "no".to_owned()).to_bytes());
        let running = format!("R:{:016x}:tok", 7).into_bytes();
        for old in [&done[..], &running, b"R:", b"D:"] {
            assert!(is_earlier_format(old), "{old:?}");
            assert!(parse_record(old, 7).is_none(), "{old:?}");
        }
        // The new tags are not the earlier format.
        assert!(!is_earlier_format(format!("R2:{:016x}:tok", 7).as_bytes()));
        assert!(!is_earlier_format(b"D2:"));
    }
}
