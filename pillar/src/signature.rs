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

/// Exactly 64 hex digits (either case) as 32 bytes.
fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let bytes = s.as_bytes();
    if bytes.len() != SIGNATURE_HEX_LEN {
        return None;
    }
    let mut out = [0_u8; 32];
    // Without a branch per digit: a non-digit reads as 0xff, whose high bits are checked
    // once at the end.
    let mut seen = 0_u8;
    for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let (hi, lo) = (
            HEX_VALUES[usize::from(pair[0])],
            HEX_VALUES[usize::from(pair[1])],
        );
        seen |= hi | lo;
        *byte = (hi << 4) | (lo & 0x0f);
    }
    (seen & 0xf0 == 0).then_some(out)
}

/// The value of each byte as a hex digit (either case), 0xff for any other byte.
const HEX_VALUES: [u8; 256] = {
    let mut table = [0xff_u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
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
fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use http::{HeaderMap, HeaderName, HeaderValue};

    const SECRET: &str = "plr_test_secret";
    const BODY: &[u8] =
        br#"{"action":"tool_call","tool_name":"lookup_customer","call_id":"tc_1","arguments":{"email":"sarah@acme.com"}}"#;
    const T: i64 = 1_710_000_000;
    const HEX: &str = "8f52f6519cdf9bcc9e94db03b303e795ef7a046d40a3829984311967ef19508e";

    fn verifier() -> Verifier {
        Verifier::new(SECRET).unwrap()
    }

    fn hex(bytes: &[u8]) -> String {
        let mut s = String::new();
        push_hex(&mut s, bytes);
        s
    }

    fn hmac_hex(key: &[u8], data: &[u8]) -> String {
        let mut mac = keyed_mac(key);
        mac.update(data);
        hex(&mac.finalize().into_bytes())
    }

    /// The lowercase hex `v1` for `t_raw + "." + body`, whatever `t_raw` is.
    fn v1(secret: &str, t_raw: &str, body: &[u8]) -> String {
        let mut data = t_raw.as_bytes().to_vec();
        data.push(b'.');
        data.extend_from_slice(body);
        hmac_hex(secret.as_bytes(), &data)
    }

    fn malformed_reason(result: Result<(), SignatureError>) -> String {
        match result {
            Err(SignatureError::Malformed { reason }) => reason,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    // --- test vectors -------------------------------------------------------------

    #[test]
    fn protocol_vectors_sign_and_verify() {
        let vectors: [(&str, i64, &[u8], &str); 3] = [
            (SECRET, T, BODY, HEX),
            (
                "whsec_rotate_me",
                1_700_000_000,
                b"",
                "76ad68e4d3d034f4f212c9b61c4bd0e46d62346ccff67da3065eaf3103f35e20",
            ),
            (
                "plr_éè_unicode",
                1_767_225_600,
                br#"{"action":"ping"}"#,
                "80e955e97241a4c71dcbd6f0c3f6dd500f3d73eea4ca266fe7c6b6005f69740e",
            ),
        ];
        for (secret, t, body, expected) in vectors {
            let header = sign(secret, body, t);
            assert_eq!(header, format!("t={t},v1={expected}"));
            let v = Verifier::new(secret).unwrap();
            assert_eq!(v.verify_at(&header, body, t), Ok(()));
            assert_eq!(v.verify_ignoring_time(&header, body), Ok(()));
        }
    }

    #[test]
    fn rfc4231_case_1() {
        assert_eq!(
            hmac_hex(&[0x0b; 20], b"Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn rfc4231_case_6_key_longer_than_a_block() {
        assert_eq!(
            hmac_hex(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn github_example() {
        assert_eq!(
            hmac_hex(b"It's a Secret to Everybody", b"Hello, World!"),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn hex_decoding_agrees_with_from_str_radix_for_every_byte() {
        let valid = "0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789abcdef0123";
        let expected: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&valid[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        assert_eq!(decode_hex32(valid).map(|d| d.to_vec()), Some(expected));
        for byte in 0..=255_u8 {
            for at in [0, 33, 63] {
                let mut text = valid.as_bytes().to_vec();
                text[at] = byte;
                let Ok(text) = String::from_utf8(text) else {
                    continue;
                };
                let reference: Option<Vec<u8>> = (0..32)
                    .map(|i| {
                        let pair = &text[2 * i..2 * i + 2];
                        // from_str_radix also takes a sign; a signature does not.
                        let digits = pair.bytes().all(|b| b.is_ascii_hexdigit());
                        digits.then(|| u8::from_str_radix(pair, 16).unwrap())
                    })
                    .collect();
                assert_eq!(
                    decode_hex32(&text).map(|d| d.to_vec()),
                    reference,
                    "{byte} at {at}"
                );
            }
        }
        assert_eq!(decode_hex32(&valid[..62]), None);
    }

    #[test]
    fn keyed_mac_matches_new_from_slice_for_every_key_length() {
        for len in 0..=200_usize {
            let key: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let mut ours = keyed_mac(&key);
            let mut reference = <HmacSha256 as Mac>::new_from_slice(&key).unwrap();
            ours.update(b"some data");
            reference.update(b"some data");
            assert_eq!(
                ours.finalize().into_bytes(),
                reference.finalize().into_bytes(),
                "key length {len}"
            );
        }
    }

    // --- 1, 2: missing, empty, duplicate ------------------------------------------

    #[test]
    fn missing_or_empty_header_is_rejected() {
        let v = verifier();
        assert_eq!(v.verify_at("", BODY, T), Err(SignatureError::Missing));
        assert_eq!(v.verify_at(" \t ", BODY, T), Err(SignatureError::Missing));
        assert_eq!(
            v.verify_headers(&HeaderMap::new(), BODY, T),
            Err(SignatureError::Missing)
        );
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, HeaderValue::from_static(""));
        assert_eq!(
            v.verify_headers(&headers, BODY, T),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn header_map_lookup_is_case_insensitive() {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_bytes(b"X-Pillar-Signature").unwrap(),
            HeaderValue::from_str(&sign(SECRET, BODY, T)).unwrap(),
        );
        assert_eq!(verifier().verify_headers(&headers, BODY, T), Ok(()));
    }

    #[test]
    fn duplicate_header_is_rejected_even_if_both_are_valid() {
        let good = HeaderValue::from_str(&sign(SECRET, BODY, T)).unwrap();
        let mut headers = HeaderMap::new();
        headers.append(SIGNATURE_HEADER, good.clone());
        headers.append(SIGNATURE_HEADER, good);
        assert_eq!(
            verifier().verify_headers(&headers, BODY, T),
            Err(SignatureError::Duplicate)
        );
    }

    #[test]
    fn non_visible_ascii_header_value_is_malformed() {
        let mut headers = HeaderMap::new();
        let mut bytes = sign(SECRET, BODY, T).into_bytes();
        bytes.push(0xff);
        headers.insert(SIGNATURE_HEADER, HeaderValue::from_bytes(&bytes).unwrap());
        let reason = malformed_reason(verifier().verify_headers(&headers, BODY, T));
        assert!(reason.contains("visible ASCII"), "{reason}");
    }

    // --- 3: splitting ---------------------------------------------------------------

    #[test]
    fn spaces_and_tabs_around_items_are_trimmed() {
        let header = format!(" \tt={T} ,\t v1={HEX}\t ");
        assert_eq!(verifier().verify_at(&header, BODY, T), Ok(()));
        let parsed = SignatureHeader::parse(&header).unwrap();
        assert_eq!(parsed.timestamp_raw, T.to_string());
    }

    #[test]
    fn item_without_equals_is_malformed() {
        let v = verifier();
        let reason = malformed_reason(v.verify_at(&format!("t={T},v1={HEX},abc"), BODY, T));
        assert_eq!(reason, "item `abc` has no `=`");
        let reason = malformed_reason(v.verify_at(&format!("t={T},,v1={HEX}"), BODY, T));
        assert!(reason.contains("empty item"), "{reason}");
        malformed_reason(v.verify_at(&format!("t={T},v1={HEX},"), BODY, T));
    }

    #[test]
    fn header_longer_than_4096_bytes_is_rejected() {
        let good = sign(SECRET, BODY, T);
        // Padded with an unknown item to exactly the limit: accepted.
        let pad = MAX_HEADER_LEN - good.len() - ",x=".len();
        let at_limit = format!("{good},x={}", "a".repeat(pad));
        assert_eq!(at_limit.len(), MAX_HEADER_LEN);
        assert_eq!(verifier().verify_at(&at_limit, BODY, T), Ok(()));
        let over = format!("{at_limit}a");
        assert_eq!(
            SignatureHeader::parse(&over).unwrap_err().to_string(),
            "the X-Pillar-Signature header is 4097 bytes long, more than the 4096 allowed"
        );
        assert_eq!(
            verifier().verify_at(&over, BODY, T),
            Err(SignatureError::TooLong {
                len: MAX_HEADER_LEN + 1
            })
        );
    }

    // --- 4, 5: the timestamp --------------------------------------------------------

    #[test]
    fn timestamp_must_be_1_to_18_ascii_digits_even_when_signed() {
        let v = verifier();
        for t_raw in [
            format!("+{T}"),
            format!("{T}abc"),
            String::new(),
            "-9223372036854775808".to_owned(),
            "1_700_000_000".to_owned(),
            "1234567890123456789".to_owned(), // 19 digits
            "99999999999999999999999".to_owned(),
            "1710 000000".to_owned(),
            format!("{T}.5"),
            "١٧١٠".to_owned(), // non-ASCII digits
        ] {
            // Signed correctly over exactly these bytes, so only the parser can refuse it.
            let header = format!("t={t_raw},v1={}", v1(SECRET, &t_raw, BODY));
            let reason = malformed_reason(v.verify_at(&header, BODY, T));
            assert!(reason.contains("is not 1 to 18 ASCII digits"), "{reason}");
        }
        assert_eq!(
            malformed_reason(v.verify_at(&format!("t=+5,v1={HEX}"), BODY, T)),
            "timestamp `+5` is not 1 to 18 ASCII digits"
        );
    }

    #[test]
    fn eighteen_digits_and_leading_zeros_parse() {
        let header = format!("t=999999999999999999,v1={HEX}");
        let parsed = SignatureHeader::parse(&header).unwrap();
        assert_eq!(parsed.timestamp, 999_999_999_999_999_999);
        let header = format!("t=0001,v1={HEX}");
        let parsed = SignatureHeader::parse(&header).unwrap();
        assert_eq!((parsed.timestamp_raw, parsed.timestamp), ("0001", 1));
        // The MAC is over the raw digits, leading zeros included.
        let header = format!("t=0{T},v1={}", v1(SECRET, &format!("0{T}"), BODY));
        assert_eq!(verifier().verify_at(&header, BODY, T), Ok(()));
        assert_eq!(
            verifier().verify_at(&format!("t=0{T},v1={HEX}"), BODY, T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn splice_attack_moving_a_body_prefix_into_t_fails() {
        let body = br#"{"v":1.5}"#;
        let header = sign(SECRET, body, T);
        let signature = header.split_once(",v1=").unwrap().1;
        // Move `{"v":1` from the body into `t`: the MAC input is the same bytes...
        let spliced_t = format!(r#"{T}.{{"v":1"#);
        let spliced_body = b"5}";
        assert_eq!(v1(SECRET, &spliced_t, spliced_body), signature);
        // ...but such a `t` is refused.
        let spliced = format!("t={spliced_t},v1={signature}");
        malformed_reason(verifier().verify_at(&spliced, spliced_body, T));
        // Same with a purely numeric body (valid JSON) whose dot is moved into `t`.
        let header = sign(SECRET, b"1.5", T);
        let signature = header.split_once(",v1=").unwrap().1;
        let spliced = format!("t={T}.1,v1={signature}");
        assert_eq!(v1(SECRET, &format!("{T}.1"), b"5"), signature);
        malformed_reason(verifier().verify_at(&spliced, b"5", T));
    }

    #[test]
    fn two_t_items_are_rejected() {
        let v = verifier();
        for header in [
            format!("t={T},t={T},v1={HEX}"),
            format!("t={T},v1={HEX},t={}", T + 1),
            format!("t={},t={T},v1={HEX}", T + 1),
        ] {
            assert_eq!(
                malformed_reason(v.verify_at(&header, BODY, T)),
                "two `t` items"
            );
        }
    }

    #[test]
    fn no_t_item() {
        assert_eq!(
            verifier().verify_at(&format!("v1={HEX}"), BODY, T),
            Err(SignatureError::NoTimestamp)
        );
        // Keys are case-sensitive.
        assert_eq!(
            verifier().verify_at(&format!("T={T},v1={HEX}"), BODY, T),
            Err(SignatureError::NoTimestamp)
        );
    }

    // --- 6, 7, 8, 12: the v1 list -----------------------------------------------------

    #[test]
    fn every_v1_is_tried_in_either_order() {
        let v = verifier();
        let bad = v1("wrong_secret", &T.to_string(), BODY);
        assert_eq!(
            v.verify_at(&format!("t={T},v1={bad},v1={HEX}"), BODY, T),
            Ok(())
        );
        assert_eq!(
            v.verify_at(&format!("t={T},v1={HEX},v1={bad}"), BODY, T),
            Ok(())
        );
        assert_eq!(
            v.verify_at(&format!("t={T},v1={bad},v1={bad}"), BODY, T),
            Err(SignatureError::Mismatch)
        );
        let header = format!("t={T},v1={bad},v1=zz,v1={HEX}");
        let parsed = SignatureHeader::parse(&header).unwrap();
        assert_eq!(parsed.signatures.len(), 2);
        assert_eq!(hex(&parsed.signatures[0]), bad);
        assert_eq!(hex(&parsed.signatures[1]), HEX);
    }

    #[test]
    fn v0_and_unknown_schemes_are_never_used() {
        let v = verifier();
        for header in [
            format!("t={T},v0={HEX}"),
            format!("t={T},v2={HEX}"),
            format!("t={T},V1={HEX}"),
            format!("t={T},v1 ={HEX}"),
        ] {
            assert_eq!(
                v.verify_at(&header, BODY, T),
                Err(SignatureError::NoSignature),
                "{header}"
            );
        }
        let bad = v1("wrong_secret", &T.to_string(), BODY);
        assert_eq!(
            v.verify_at(&format!("t={T},v0={HEX},v1={bad}"), BODY, T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn uppercase_and_mixed_case_hex_decode() {
        let v = verifier();
        let upper = HEX.to_ascii_uppercase();
        assert_eq!(v.verify_at(&format!("t={T},v1={upper}"), BODY, T), Ok(()));
        let mixed: String = HEX
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(v.verify_at(&format!("t={T},v1={mixed}"), BODY, T), Ok(()));
    }

    #[test]
    fn v1_of_the_wrong_length_or_not_hex_is_skipped() {
        let v = verifier();
        for sig in [
            String::new(),
            HEX[..8].to_owned(),
            HEX[..63].to_owned(),
            format!("{HEX}00"),
            format!("{HEX}0"),
            format!("{}g", &HEX[..63]),
            format!(" {HEX}x"),
            format!("0x{}", &HEX[..62]),
        ] {
            let header = format!("t={T},v1={sig}");
            assert_eq!(
                v.verify_at(&header, BODY, T),
                Err(SignatureError::NoSignature),
                "{header}"
            );
            // Skipped, not an error: a good v1 beside it still verifies.
            assert_eq!(v.verify_at(&format!("{header},v1={HEX}"), BODY, T), Ok(()));
        }
    }

    #[test]
    fn signature_differing_in_any_one_byte_fails() {
        let v = verifier();
        for position in [0, 1, 31, 32, 62, 63] {
            let mut sig = HEX.as_bytes().to_vec();
            sig[position] = if sig[position] == b'0' { b'1' } else { b'0' };
            let sig = String::from_utf8(sig).unwrap();
            assert_eq!(
                v.verify_at(&format!("t={T},v1={sig}"), BODY, T),
                Err(SignatureError::Mismatch),
                "hex digit {position} changed"
            );
        }
    }

    // --- 14, 15, 16: time -------------------------------------------------------------

    #[test]
    fn window_boundaries_are_inclusive_in_both_directions() {
        let v = verifier();
        let header = sign(SECRET, BODY, T);
        assert_eq!(v.verify_at(&header, BODY, T + 300), Ok(()));
        assert_eq!(v.verify_at(&header, BODY, T - 300), Ok(()));
        assert_eq!(
            v.verify_at(&header, BODY, T + 301),
            Err(SignatureError::Expired {
                timestamp: T,
                now: T + 301
            })
        );
        assert_eq!(
            v.verify_at(&header, BODY, T - 301),
            Err(SignatureError::Expired {
                timestamp: T,
                now: T - 301
            })
        );
    }

    #[test]
    fn expired_message_says_how_far_and_which_way() {
        let v = verifier();
        let header = sign(SECRET, BODY, T);
        let past = v.verify_at(&header, BODY, T + 301).unwrap_err().to_string();
        assert!(past.contains("301 s in the past"), "{past}");
        let future = v
            .verify_at(&header, BODY, T - 1000)
            .unwrap_err()
            .to_string();
        assert!(future.contains("1000 s in the future"), "{future}");
    }

    #[test]
    fn extreme_timestamps_and_clocks_do_not_panic() {
        let v = verifier();
        let max_t = 999_999_999_999_999_999_i64;
        for t in [0, 1, max_t] {
            let header = sign(SECRET, BODY, t);
            for now in [i64::MIN, -1, 0, 1, i64::MAX] {
                let result = v.verify_at(&header, BODY, now);
                if t.abs_diff(now) <= 300 {
                    assert_eq!(result, Ok(()), "t={t} now={now}");
                } else {
                    assert_eq!(
                        result,
                        Err(SignatureError::Expired { timestamp: t, now }),
                        "t={t} now={now}"
                    );
                    // The message's arithmetic must not overflow either.
                    assert!(!result.unwrap_err().to_string().is_empty());
                }
            }
        }
    }

    #[test]
    fn mac_is_checked_before_time() {
        let v = verifier();
        // Unsigned requests with absurd timestamps fail as Mismatch, not Expired.
        for t in ["999999999999999999", "0"] {
            assert_eq!(
                v.verify_at(&format!("t={t},v1={HEX}"), BODY, i64::MIN),
                Err(SignatureError::Mismatch)
            );
        }
    }

    #[test]
    fn verify_uses_the_system_clock() {
        let v = verifier();
        let now = unix_now();
        assert!(now > 1_700_000_000);
        assert_eq!(v.verify(&sign(SECRET, BODY, now), BODY), Ok(()));
        assert!(matches!(
            v.verify(&sign(SECRET, BODY, now - 3600), BODY),
            Err(SignatureError::Expired { .. })
        ));
    }

    #[test]
    fn verify_ignoring_time_still_checks_the_mac() {
        let v = verifier();
        let old = sign(SECRET, BODY, 1_000_000_000);
        assert_eq!(v.verify_ignoring_time(&old, BODY), Ok(()));
        assert_eq!(
            v.verify_ignoring_time(&old, b"tampered"),
            Err(SignatureError::Mismatch)
        );
        let wrong = sign("other_secret", BODY, 1_000_000_000);
        assert_eq!(
            v.verify_ignoring_time(&wrong, BODY),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            v.verify_ignoring_time("t=+1,v1=00", BODY),
            Err(SignatureError::Malformed {
                reason: "timestamp `+1` is not 1 to 18 ASCII digits".to_owned()
            })
        );
    }

    #[test]
    fn zero_tolerance_means_exactly_now_not_off() {
        let v = verifier().tolerance(Duration::ZERO);
        let header = sign(SECRET, BODY, T);
        assert_eq!(v.verify_at(&header, BODY, T), Ok(()));
        assert!(v.verify_at(&header, BODY, T + 1).is_err());
        assert!(v.verify_at(&header, BODY, T - 1).is_err());
        // Fractions of a second are dropped: 1.9 s is a 1 s window.
        let v = verifier().tolerance(Duration::from_millis(1900));
        assert_eq!(v.verify_at(&header, BODY, T + 1), Ok(()));
        assert!(v.verify_at(&header, BODY, T + 2).is_err());
    }

    // --- 17, 18, 19, 20: secrets ------------------------------------------------------

    #[test]
    fn several_secrets_all_verify() {
        let v = Verifier::with_secrets(["plr_new", "plr_old"]).unwrap();
        assert_eq!(v.secret_count(), 2);
        assert_eq!(v.verify_at(&sign("plr_new", BODY, T), BODY, T), Ok(()));
        assert_eq!(v.verify_at(&sign("plr_old", BODY, T), BODY, T), Ok(()));
        assert_eq!(
            v.verify_at(&sign("plr_other", BODY, T), BODY, T),
            Err(SignatureError::Mismatch)
        );
        let owned = Verifier::with_secrets(vec![String::from("a")]).unwrap();
        assert_eq!(owned.secret_count(), 1);
    }

    #[test]
    fn empty_secrets_are_refused() {
        assert!(matches!(Secret::new(""), Err(SignatureError::EmptySecret)));
        assert!(matches!(
            Verifier::new(""),
            Err(SignatureError::EmptySecret)
        ));
        assert!(matches!(
            Verifier::with_secrets(["plr_ok", ""]),
            Err(SignatureError::EmptySecret)
        ));
        assert!(matches!(
            Verifier::with_secrets(Vec::<String>::new()),
            Err(SignatureError::EmptySecret)
        ));
        assert_eq!(
            SignatureError::EmptySecret.to_string(),
            "webhook secret is empty"
        );
    }

    #[test]
    fn whitespace_secret_is_accepted_and_used_as_is() {
        let secret = " plr_spaced\n";
        assert_eq!(Secret::new(secret).unwrap().expose(), secret);
        let v = Verifier::new(secret).unwrap();
        assert_eq!(v.verify_at(&sign(secret, BODY, T), BODY, T), Ok(()));
        assert_eq!(
            v.verify_at(&sign(secret.trim(), BODY, T), BODY, T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let secret = Secret::new("plr_super_secret_value").unwrap();
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains("super_secret"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
        let v = Verifier::with_secrets(["plr_super_secret_value", "plr_other_value"]).unwrap();
        let shown = format!("{v:?} {v:#?}");
        assert!(!shown.contains("super_secret"), "{shown}");
        assert!(!shown.contains("other_value"), "{shown}");
        assert!(shown.contains("secrets: 2"), "{shown}");
    }

    // --- 21: the body -----------------------------------------------------------------

    #[test]
    fn pretty_json_signed_as_compact_fails() {
        let compact = br#"{"action":"ping","n":1}"#;
        let pretty = b"{\n  \"action\": \"ping\",\n  \"n\": 1\n}";
        let header = sign(SECRET, compact, T);
        assert_eq!(verifier().verify_at(&header, compact, T), Ok(()));
        assert_eq!(
            verifier().verify_at(&header, pretty, T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn non_ascii_utf8_body_passes() {
        let body = r#"{"name":"Zoë 日本 🎉"}"#.as_bytes();
        assert_eq!(
            verifier().verify_at(&sign(SECRET, body, T), body, T),
            Ok(())
        );
    }

    #[test]
    fn invalid_utf8_body_passes_the_mac() {
        let body = b"{\"a\":\"\xff\xfe\xc3\x28\"}";
        assert!(String::from_utf8(body.to_vec()).is_err());
        assert_eq!(
            verifier().verify_at(&sign(SECRET, body, T), body, T),
            Ok(())
        );
    }

    #[test]
    fn sign_with_a_negative_timestamp_never_verifies() {
        let header = sign(SECRET, BODY, -5);
        assert!(header.starts_with("t=-5,v1="));
        assert!(matches!(
            verifier().verify_at(&header, BODY, -5),
            Err(SignatureError::Malformed { .. })
        ));
    }

    #[test]
    fn snippet_truncates_and_escapes() {
        let long = format!("{}\n", "x".repeat(100));
        let reason = malformed_reason(verifier().verify_at(&format!("t={long}"), BODY, T));
        assert!(reason.chars().count() < 90, "{reason}");
        assert!(reason.contains('…'));
        let reason = malformed_reason(verifier().verify_at("t=1\u{7},v1=x", BODY, T));
        assert!(reason.contains("\\u{7}"), "{reason}");
    }
}
