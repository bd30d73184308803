//! What the Redis store writes: its Lua scripts and the format of its records (a claim,
//! `R2:<fingerprint>:<token>`, or an answer, `D2:<fingerprint>:<status>:<body>`), and the
//! URL as it may be shown.

use http::StatusCode;

use crate::answer::WebhookResponse;
use crate::idempotency::Claim;

/// Claims a key atomically: sets the claim if the key is free (and answers nil), or
/// answers what the key holds, unchanged. What `SET key claim NX PX ttl GET` does in one
/// native command on Redis 7.0 and later (about a third of the script's cost in Redis,
/// and fewer bytes); the script is the fallback for a server that refuses `NX` with
/// `GET`.
///
/// `KEYS[1]`: the key. `ARGV[1]`: the claim, `R2:<fingerprint>:<token>`. `ARGV[2]`: the
/// claim's time to live, in milliseconds.
pub(super) const CLAIM_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
if current then
  return current
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
";

/// Records a call's answer over this delivery's own claim, or over a key that is free
/// again (the claim expired and nobody took it); leaves anything else (another
/// delivery's claim or answer) as it is. Answers 1 when written, or when the key holds
/// this very record already (a write retried after its reply was lost); 0 when left.
///
/// `KEYS[1]`: the key. `ARGV[1]`: the claim's prefix, `R2:<fingerprint>:`. `ARGV[2]`:
/// this delivery's token, or `""` when unknown (then any claim with the same fingerprint
/// is taken as ours). `ARGV[3]`: the record, `D2:<fingerprint>:<status>:<answer JSON>`.
/// `ARGV[4]`: the record's time to live, in milliseconds.
pub(super) const COMPLETE_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
local ours = current == false or current == ARGV[1] .. ARGV[2]
if not ours and ARGV[2] == '' then
  ours = string.sub(current, 1, string.len(ARGV[1])) == ARGV[1]
end
if ours then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
  return 1
end
if current == ARGV[3] then
  return 1
end
return 0
";

/// Deletes a claim if it is still this delivery's own: compare-and-delete on the whole
/// claim, `R2:<fingerprint>:<token>`, whose token no other delivery has. Answers 1 when
/// deleted, 0 when the key holds anything else (or nothing).
///
/// `KEYS[1]`: the key. `ARGV[1]`: the claim.
pub(super) const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// The tag of a claim, with the fingerprint's format (2: XXH3, see
/// [`fingerprint`](crate::idempotency::fingerprint)).
pub(super) const CLAIM_TAG: &str = "R2:";
/// The tag of a recorded answer, with the fingerprint's format.
pub(super) const DONE_TAG: &str = "D2:";

/// Whether a key holds a record of an earlier build (`R:` or `D:`, whose fingerprint is
/// another hash's and must not be compared with ours).
pub(super) fn is_earlier_format(value: &[u8]) -> bool {
    value.starts_with(b"R:") || value.starts_with(b"D:")
}

/// Reads what a key holds, as seen by a delivery of the request `fingerprint`; `None`
/// when it is not a record this store writes (an earlier build's record included: see
/// [`is_earlier_format`]).
pub(super) fn parse_record(value: &[u8], fingerprint: u64) -> Option<Claim> {
    let (tag, rest) = (value.get(..3)?, value.get(3..)?);
    let (fp, rest) = (rest.get(..16)?, rest.get(16..)?);
    let fp = u64::from_str_radix(std::str::from_utf8(fp).ok()?, 16).ok()?;
    if rest.first() != Some(&b':') {
        return None;
    }
    match tag {
        b"R2:" if fp == fingerprint => Some(Claim::InProgress),
        b"R2:" => Some(Claim::Conflict),
        b"D2:" => {
            let status = rest.get(1..4)?;
            let status = std::str::from_utf8(status).ok()?.parse::<u16>().ok()?;
            let status = StatusCode::from_u16(status).ok()?;
            if rest.get(4) != Some(&b':') {
                return None;
            }
            Some(if fp == fingerprint {
                Claim::Done(WebhookResponse::from_recorded(
                    status,
                    rest.get(5..)?.to_vec(),
                )?)
            } else {
                Claim::Conflict
            })
        }
        _ => None,
    }
}

/// The URL with any password (or a lone user-info part, which may be one) replaced by
/// `***`, and the `pass`/`password` query values of a socket URL too. Errs on the side of
/// hiding: everything before the last `@` ahead of the query is user info, even when a
/// password holds a `/` that makes the URL invalid.
pub(super) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let location = match before_query.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) if !user.contains('/') => format!("{user}:***@{host}"),
            _ => format!("***@{host}"),
        },
        None => before_query.to_owned(),
    };
    let Some(query) = query else {
        return format!("{scheme}://{location}");
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name == "pass" || name == "password" => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{scheme}://{location}?{}", query.join("&"))
}
