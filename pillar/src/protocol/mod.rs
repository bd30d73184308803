//! Pillar's webhook protocol from Pillar Cloud's side: signing requests, sending them to a
//! server ([`WebhookClient`]), and checking a registration as Pillar Cloud does
//! ([`review_registration`]).
//!
//! Named for what it is, the protocol as the other end speaks it, not for who uses it:
//! the `pillar` command (`pillar call`, `pillar sign`, `pillar ping`), `pillar dev`'s
//! local Pillar Cloud and programs of yours that call a Pillar server run on it in
//! production, and [`testing`](crate::testing) builds its helpers (the mock Cloud, test
//! bodies) on it. The server's side is [`Pillar::handle`](crate::Pillar::handle), which
//! verifies signatures with [`signature`](crate::signature).
//!
//! It also holds the limits of answers read over HTTP:
//! [`MAX_CLOUD_ANSWER_BYTES`] for Pillar Cloud's answers to the SDK, and
//! [`WebhookClient::DEFAULT_MAX_ANSWER_BYTES`] for a server's answers to the client.
//!
//! ```
//! use pillar::protocol;
//! use pillar::signature::Verifier;
//!
//! let body = br#"{"action":"ping"}"#;
//! let headers = protocol::signed_headers("plr_local", body);
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
//! let verifier = Verifier::new("plr_local")?;
//! assert_eq!(verifier.verify_headers(&headers, body, now.as_secs() as i64), Ok(()));
//! # Ok::<(), pillar::signature::SignatureError>(())
//! ```

mod registration;
#[cfg(feature = "serve")]
mod webhook;

use http::{HeaderMap, HeaderValue};

pub use self::registration::{review_registration, RegistrationReview, RegistrationWarning};
#[cfg(feature = "serve")]
pub use self::webhook::WebhookClient;
#[cfg(feature = "serve")]
pub use crate::transport::MAX_CLOUD_ANSWER_BYTES;

/// Signs `body` now with `secret`: the value of an `X-Pillar-Signature` header,
/// `t=<now>,v1=<hmac>`. To sign as if at another time, use
/// [`signature::sign`](crate::signature::sign).
#[must_use]
pub fn sign(secret: &str, body: &[u8]) -> String {
    crate::signature::sign(secret, body, crate::signature::unix_now())
}

/// Headers carrying a signature of `body` made now, for
/// [`Pillar::handle`](crate::Pillar::handle).
#[must_use]
pub fn signed_headers(secret: &str, body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    // A signature is ASCII: `t=<digits>,v1=<hex>`.
    if let Ok(value) = HeaderValue::from_str(&sign(secret, body)) {
        headers.insert(crate::signature::SIGNATURE_HEADER, value);
    }
    headers
}

/// The body of a `tool_call` webhook, as Pillar Cloud sends it.
pub(crate) fn tool_call_body(
    tool_name: &str,
    call_id: &str,
    arguments: serde_json::Value,
) -> Vec<u8> {
    serde_json::json!({
        "action": "tool_call",
        "tool_name": tool_name,
        "call_id": call_id,
        "arguments": arguments,
        "conversation_id": "conv_test",
    })
    .to_string()
    .into_bytes()
}

/// The body of a `tool_confirm` webhook carrying `confirm_payload`, as Pillar Cloud sends
/// it when the user confirms.
pub(crate) fn tool_confirm_body(
    tool_name: &str,
    call_id: &str,
    confirm_payload: serde_json::Value,
) -> Vec<u8> {
    serde_json::json!({
        "action": "tool_confirm",
        "tool_name": tool_name,
        "call_id": call_id,
        "confirm_payload": confirm_payload,
        "conversation_id": "conv_test",
        "confirmed": true,
    })
    .to_string()
    .into_bytes()
}
