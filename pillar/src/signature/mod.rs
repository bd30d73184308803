//! Webhook signatures: the `X-Pillar-Signature` header.
//!
//! Pillar Cloud signs every webhook request with a header such as
//!
//! ```text
//! X-Pillar-Signature: t=1710000000,v1=8f52f6519cdf9bcc9e94db03b303e795ef7a046d40a3829984311967ef19508e
//! ```
//!
//! where `v1` is the lowercase hex HMAC-SHA256, keyed with the UTF-8 bytes of the whole
//! secret, of the bytes `"<t>." + raw_body`. A [`Verifier`] checks such a header against
//! one or more accepted secrets and a time window of 300 seconds in both directions
//! ([`DEFAULT_TOLERANCE`]).
//!
//! What it does, in order:
//!
//! 1. refuses a header longer than [`MAX_HEADER_LEN`] bytes, then parses it strictly
//!    ([`SignatureHeader::parse`]): exactly one `t` of 1 to 18 ASCII digits, every `v1` of
//!    exactly 64 hex digits collected (others skipped), `v0` and unknown keys ignored;
//! 2. computes one HMAC per accepted secret and compares it with every `v1` in constant
//!    time (`hmac::Mac::verify_slice`);
//! 3. only then checks the time window, with overflow-safe arithmetic.
//!
//! Every failure is a [`SignatureError`] that says why, for the log; the HTTP answer to
//! the sender is always the same `Invalid signature`. No error, log line or `Debug` output
//! contains a secret.
//!
//! ```
//! use pillar::signature::{sign, SignatureError, Verifier};
//!
//! let verifier = Verifier::new("plr_test_secret")?;
//! let body = br#"{"action":"ping"}"#;
//! let header = sign("plr_test_secret", body, 1_710_000_000);
//!
//! assert_eq!(verifier.verify_at(&header, body, 1_710_000_100), Ok(()));
//! assert_eq!(
//!     verifier.verify_at(&header, b"{}", 1_710_000_100),
//!     Err(SignatureError::Mismatch)
//! );
//! assert!(matches!(
//!     verifier.verify_at(&header, body, 1_710_000_301),
//!     Err(SignatureError::Expired { .. })
//! ));
//! # Ok::<(), SignatureError>(())
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::digest::{Key, KeyInit};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

mod hex;

use self::hex::{decode_hex32, push_hex};

/// Name of the signature header (`X-Pillar-Signature`), lowercase as HTTP/2 sends it.
///
/// Header names are case-insensitive; [`http::HeaderMap`] lookups with it find any
/// spelling.
pub const SIGNATURE_HEADER: &str = "x-pillar-signature";

/// Default tolerance: a signature's timestamp may be at most 300 seconds before or after
/// the receiver's clock (boundaries included).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Longest signature header accepted, in bytes (4 KiB). Longer headers are refused with
/// [`SignatureError::TooLong`] before any parsing.
pub const MAX_HEADER_LEN: usize = 4096;

/// Most digits a `t` timestamp may have: 18 decimal digits always fit in an `i64`.
const MAX_TIMESTAMP_DIGITS: usize = 18;

/// Length of a `v1` signature in hex digits (32 bytes of HMAC-SHA256).
const SIGNATURE_HEX_LEN: usize = 64;

type HmacSha256 = Hmac<Sha256>;

/// A webhook secret.
///
/// It is never empty, and it is used exactly as given: the key is the UTF-8 bytes of the
/// whole string, prefix (`plr_`, `whsec_`, ...) included. Its `Debug` output is
/// `Secret([redacted])`; [`Secret::expose`] is the only way to read it.
#[derive(Clone)]
pub struct Secret {
    value: String,
}

impl Secret {
    /// Wraps a secret.
    ///
    /// # Errors
    ///
    /// [`SignatureError::EmptySecret`] if `s` is empty: an empty key would make every
    /// signature trivially forgeable by anyone who guesses it.
    ///
    /// A secret with leading or trailing white space is accepted (it is used as is), but a
    /// warning is logged, without the secret, because it is usually a copy-paste mistake
    /// such as a trailing newline.
    pub fn new(s: impl Into<String>) -> Result<Secret, SignatureError> {
        let value = s.into();
        if value.is_empty() {
            return Err(SignatureError::EmptySecret);
        }
        if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
            tracing::warn!(
                "the webhook secret has leading or trailing white space; it is used exactly \
                 as given, so check it for a stray space or newline"
            );
        }
        Ok(Secret { value })
    }

    /// Reads the secret. This is the only way to get at it: keep the result out of logs
    /// and error messages.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Verifies `X-Pillar-Signature` headers against one or more accepted secrets.
///
/// Several secrets allow rotation without downtime: accept the new and the old secret
/// until the sender has switched. Each secret's keyed HMAC state is computed once, when
/// the verifier is built; verifying a request clones it, so the hot path neither re-hashes
/// the key nor allocates.
///
/// Its `Debug` output shows how many secrets it holds and the tolerance, never a secret.
#[derive(Clone)]
pub struct Verifier {
    /// One keyed HMAC state per accepted secret, in the order given.
    keys: Vec<HmacSha256>,
    tolerance: Duration,
}

impl Verifier {
    /// A verifier accepting one secret, with the [`DEFAULT_TOLERANCE`] of 300 seconds.
    ///
    /// # Errors
    ///
    /// [`SignatureError::EmptySecret`] if the secret is empty.
    pub fn new(secret: impl Into<String>) -> Result<Self, SignatureError> {
        Self::with_secrets([secret])
    }

    /// A verifier accepting any of several secrets (for example the current one and the
    /// previous one during a rotation), with the [`DEFAULT_TOLERANCE`] of 300 seconds.
    ///
    /// # Errors
    ///
    /// [`SignatureError::EmptySecret`] if the list is empty or any secret in it is empty.
    pub fn with_secrets<I, S>(secrets: I) -> Result<Self, SignatureError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let keys = secrets
            .into_iter()
            .map(|s| Secret::new(s).map(|secret| keyed_mac(secret.expose().as_bytes())))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(SignatureError::EmptySecret);
        }
        Ok(Verifier {
            keys,
            tolerance: DEFAULT_TOLERANCE,
        })
    }

    /// Sets how far (in either direction) a signature's timestamp may be from now.
    ///
    /// The window is counted in whole seconds (any fraction of a second is dropped) and
    /// its boundaries are included. A tolerance of zero does **not** turn the check off:
    /// it accepts only a timestamp equal to the current second. To skip the time check
    /// (for example to replay a captured fixture), call
    /// [`Verifier::verify_ignoring_time`] instead.
    #[must_use]
    pub fn tolerance(mut self, d: Duration) -> Self {
        self.tolerance = d;
        self
    }

    /// How many secrets this verifier accepts.
    #[must_use]
    pub fn secret_count(&self) -> usize {
        self.keys.len()
    }

    /// Verifies a signature header against the raw request body, with the system clock
    /// as "now".
    ///
    /// A clock set before 1970 counts as a negative time; it does not panic.
    ///
    /// # Errors
    ///
    /// See [`Verifier::verify_at`].
    pub fn verify(&self, header: &str, body: &[u8]) -> Result<(), SignatureError> {
        self.verify_at(header, body, unix_now())
    }

    /// Verifies a signature header against the raw request body, as if the current time
    /// were `now_unix` (seconds since the Unix epoch).
    ///
    /// `body` must be the bytes exactly as received, never a re-serialised value.
    ///
    /// Order of checks: parse the header, then compare the MACs, then check the time, so a
    /// request without a valid signature fails as [`SignatureError::Mismatch`] whatever
    /// its timestamp says.
    ///
    /// # Errors
    ///
    /// [`SignatureError::TooLong`], [`SignatureError::Missing`],
    /// [`SignatureError::Malformed`], [`SignatureError::NoTimestamp`] or
    /// [`SignatureError::NoSignature`] for a header that cannot be used,
    /// [`SignatureError::Mismatch`] if no `v1` matches any accepted secret, and
    /// [`SignatureError::Expired`] if the signature is valid but its timestamp is outside
    /// the tolerance window.
    pub fn verify_at(
        &self,
        header: &str,
        body: &[u8],
        now_unix: i64,
    ) -> Result<(), SignatureError> {
        let scanned = scan(header)?;
        self.check_mac(&scanned, body)?;
        check_time(scanned.timestamp, now_unix, self.tolerance)
    }

    /// Verifies the header and the MAC but **not** the timestamp.
    ///
    /// Meant for replaying captured fixtures in tests; never use it for live requests,
    /// since a captured request would then verify forever.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify_at`], except [`SignatureError::Expired`].
    pub fn verify_ignoring_time(&self, header: &str, body: &[u8]) -> Result<(), SignatureError> {
        let scanned = scan(header)?;
        self.check_mac(&scanned, body)
    }

    /// Finds the signature header in `headers` and verifies it as
    /// [`Verifier::verify_at`] does.
    ///
    /// # Errors
    ///
    /// [`SignatureError::Missing`] if the header is absent or empty,
    /// [`SignatureError::Duplicate`] if it was sent more than once,
    /// [`SignatureError::Malformed`] if its value is not visible ASCII, and then every
    /// error of [`Verifier::verify_at`].
    pub fn verify_headers(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        now_unix: i64,
    ) -> Result<(), SignatureError> {
        // A ready-made name: looked up by its hash, without parsing the name each call.
        static NAME: http::HeaderName = http::HeaderName::from_static(SIGNATURE_HEADER);
        let mut values = headers.get_all(&NAME).iter();
        let Some(value) = values.next() else {
            return Err(SignatureError::Missing);
        };
        if values.next().is_some() {
            return Err(SignatureError::Duplicate);
        }
        let Ok(header) = value.to_str() else {
            return Err(SignatureError::Malformed {
                reason: "the header value is not visible ASCII".to_owned(),
            });
        };
        self.verify_at(header, body, now_unix)
    }

    /// Succeeds if any `v1` of the header is the HMAC of `t_raw + "." + body` under any
    /// accepted secret.
    fn check_mac(&self, scanned: &Scanned<'_>, body: &[u8]) -> Result<(), SignatureError> {
        for key in &self.keys {
            let mut mac = key.clone();
            mac.update(scanned.timestamp_raw.as_bytes());
            mac.update(b".");
            mac.update(body);
            for signature in scanned.signatures() {
                // `verify_slice` checks the length, then compares in constant time.
                if mac.clone().verify_slice(&signature).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(SignatureError::Mismatch)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &self.keys.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

/// Signs `body` at time `timestamp` (Unix seconds) with `secret`, and returns the whole
/// header value `t=<timestamp>,v1=<lowercase hex>`.
///
/// For tests and for senders. A [`Verifier`] only accepts timestamps of 1 to 18 digits, so
/// a negative `timestamp` (or one of 19 digits) gives a header that never verifies.
#[must_use]
pub fn sign(secret: &str, body: &[u8], timestamp: i64) -> String {
    let timestamp = timestamp.to_string();
    let mut mac = keyed_mac(secret.as_bytes());
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag: [u8; 32] = mac.finalize().into_bytes().into();
    let mut header = String::with_capacity(2 + timestamp.len() + 4 + SIGNATURE_HEX_LEN);
    header.push_str("t=");
    header.push_str(&timestamp);
    header.push_str(",v1=");
    push_hex(&mut header, &tag);
    header
}

/// A parsed `X-Pillar-Signature` header (public for fuzzing and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    /// The `t` value exactly as sent (1 to 18 ASCII digits); the MAC is computed over it.
    pub timestamp_raw: &'a str,
    /// The `t` value as a number of seconds since the Unix epoch.
    pub timestamp: i64,
    /// Every `v1` of exactly 64 hex digits, decoded, in header order (at least one).
    pub signatures: Vec<[u8; 32]>,
}

impl<'a> SignatureHeader<'a> {
    /// Parses a header value such as `t=1710000000,v1=8f52…508e`.
    ///
    /// Rules: the header may be at most [`MAX_HEADER_LEN`] bytes; it is split on `,`;
    /// spaces and tabs around each item are trimmed; each item is split on its first `=`
    /// (an item without `=`, including an empty one, is malformed). `t` must appear exactly
    /// once and be 1 to 18 ASCII digits (no sign, `_`, `.` or space). Every `v1` of exactly
    /// 64 hex digits (either case) is kept; other `v1` values are skipped. `v0` and unknown
    /// keys are ignored. Keys are case-sensitive.
    ///
    /// Never panics, whatever the input.
    ///
    /// # Errors
    ///
    /// [`SignatureError::TooLong`], [`SignatureError::Missing`] (empty or blank header),
    /// [`SignatureError::Malformed`], [`SignatureError::NoTimestamp`] or
    /// [`SignatureError::NoSignature`].
    pub fn parse(header: &'a str) -> Result<Self, SignatureError> {
        let scanned = scan(header)?;
        Ok(SignatureHeader {
            timestamp_raw: scanned.timestamp_raw,
            timestamp: scanned.timestamp,
            signatures: scanned.signatures().collect(),
        })
    }
}

/// Why a signature was refused, for the log. The HTTP answer to the sender is always
/// `Invalid signature`, whatever the reason. No variant carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// A secret was empty, or no secret was given at all.
    #[error("webhook secret is empty")]
    EmptySecret,
    /// The request had no signature header, or an empty one.
    #[error("the X-Pillar-Signature header is missing or empty")]
    Missing,
    /// The request carried the signature header more than once.
    #[error("the X-Pillar-Signature header was sent more than once")]
    Duplicate,
    /// The header was longer than [`MAX_HEADER_LEN`] bytes.
    #[error(
        "the X-Pillar-Signature header is {len} bytes long, more than the {MAX_HEADER_LEN} allowed"
    )]
    TooLong {
        /// The header's length in bytes.
        len: usize,
    },
    /// The header could not be parsed.
    #[error("the X-Pillar-Signature header is malformed: {reason}")]
    Malformed {
        /// What was wrong, for example ``item `abc` has no `=` ``.
        reason: String,
    },
    /// The header had no `t` item.
    #[error("the X-Pillar-Signature header has no `t` timestamp")]
    NoTimestamp,
    /// The header had no usable `v1` item (none at all, or none of 64 hex digits).
    #[error("the X-Pillar-Signature header has no usable `v1` signature (64 hex digits)")]
    NoSignature,
    /// The signature is valid, but its timestamp is outside the tolerance window (in
    /// either direction).
    #[error("the signature's timestamp {timestamp} is {}, outside the accepted window", skew(*.timestamp, *.now))]
    Expired {
        /// The header's `t`, in Unix seconds.
        timestamp: i64,
        /// The receiver's clock when verifying, in Unix seconds.
        now: i64,
    },
    /// No `v1` matched any accepted secret.
    #[error("no `v1` signature matches any accepted secret")]
    Mismatch,
}

/// "301 s in the past (now 1700000301)" or "... in the future ...".
fn skew(timestamp: i64, now: i64) -> String {
    let distance = timestamp.abs_diff(now);
    let direction = if timestamp < now { "past" } else { "future" };
    format!("{distance} s in the {direction} (now {now})")
}

/// What [`scan`] found: a valid header, with its first signature decoded and the others
/// left to iterate over (so the hot path does not allocate or decode twice).
struct Scanned<'a> {
    /// The header from just after its first well-formed `v1`.
    rest: &'a str,
    first: [u8; 32],
    timestamp_raw: &'a str,
    timestamp: i64,
}

impl<'a> Scanned<'a> {
    /// Every well-formed `v1` of the header, decoded, in order.
    fn signatures(&self) -> impl Iterator<Item = [u8; 32]> + 'a {
        let rest = items(self.rest)
            .filter_map(|item| item.split_once('='))
            .filter(|(key, _)| *key == "v1")
            .filter_map(|(_, value)| decode_hex32(value));
        std::iter::once(self.first).chain(rest)
    }
}

/// Checks the whole header (see [`SignatureHeader::parse`]) without allocating on success.
fn scan(header: &str) -> Result<Scanned<'_>, SignatureError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(SignatureError::TooLong { len: header.len() });
    }
    if header.trim_matches(is_space_or_tab).is_empty() {
        return Err(SignatureError::Missing);
    }
    let mut timestamp: Option<(&str, i64)> = None;
    let mut first: Option<([u8; 32], &str)> = None;
    // Where the current item starts in `header`.
    let mut start = 0;
    for raw in header.split(',') {
        start += raw.len() + 1;
        let item = raw.trim_matches(is_space_or_tab);
        let Some((key, value)) = item.split_once('=') else {
            return Err(malformed(if item.is_empty() {
                "empty item (a stray `,`)".to_owned()
            } else {
                format!("item `{}` has no `=`", snippet(item))
            }));
        };
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(malformed("two `t` items".to_owned()));
                }
                let Some(seconds) = parse_timestamp(value) else {
                    return Err(malformed(format!(
                        "timestamp `{}` is not 1 to {MAX_TIMESTAMP_DIGITS} ASCII digits",
                        snippet(value)
                    )));
                };
                timestamp = Some((value, seconds));
            }
            "v1" if first.is_none() => {
                if let Some(signature) = decode_hex32(value) {
                    first = Some((signature, header.get(start..).unwrap_or("")));
                }
            }
            _ => {}
        }
    }
    let Some((timestamp_raw, timestamp)) = timestamp else {
        return Err(SignatureError::NoTimestamp);
    };
    let Some((first, rest)) = first else {
        return Err(SignatureError::NoSignature);
    };
    Ok(Scanned {
        rest,
        first,
        timestamp_raw,
        timestamp,
    })
}

/// The header's items, split on `,`, with spaces and tabs trimmed around each.
fn items(header: &str) -> impl Iterator<Item = &str> {
    header
        .split(',')
        .map(|item| item.trim_matches(is_space_or_tab))
}

fn is_space_or_tab(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn malformed(reason: String) -> SignatureError {
    SignatureError::Malformed { reason }
}

/// A short, escaped excerpt of untrusted header text for an error message.
fn snippet(s: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out = String::new();
    for c in s.chars().take(MAX_CHARS) {
        if c == '"' || c == '\'' {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    if s.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// 1 to 18 ASCII digits and nothing else, as seconds.
fn parse_timestamp(raw: &str) -> Option<i64> {
    if raw.is_empty() || raw.len() > MAX_TIMESTAMP_DIGITS {
        return None;
    }
    raw.bytes().try_fold(0_i64, |acc, b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// The HMAC-SHA256 state keyed with `key`, ready for `update`.
///
/// HMAC (RFC 2104) hashes a key longer than the hash's block and zero-pads a shorter one
/// to the block size; doing that here lets us use the infallible `KeyInit::new`, which
/// takes exactly one block, instead of `new_from_slice` and an error branch that cannot
/// happen. The unit tests check it against `new_from_slice` for every length up to 200.
fn keyed_mac(key: &[u8]) -> HmacSha256 {
    let mut block = Key::<HmacSha256>::default();
    if key.len() > block.len() {
        let digest = <Sha256 as Digest>::digest(key);
        for (b, k) in block.iter_mut().zip(digest.iter()) {
            *b = *k;
        }
    } else {
        for (b, k) in block.iter_mut().zip(key) {
            *b = *k;
        }
    }
    <HmacSha256 as KeyInit>::new(&block)
}

/// `|timestamp - now| <= tolerance`, without overflow.
fn check_time(timestamp: i64, now: i64, tolerance: Duration) -> Result<(), SignatureError> {
    if timestamp.abs_diff(now) > tolerance.as_secs() {
        Err(SignatureError::Expired { timestamp, now })
    } else {
        Ok(())
    }
}

/// Seconds since the Unix epoch; negative if the clock is set before it. Never panics.
pub(crate) fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

#[cfg(test)]
mod tests;
