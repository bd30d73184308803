//! What a webhook answers: the JSON body ([`Answer`]) and the response it travels in
//! ([`WebhookResponse`]: the status, the retry hint and the body's bytes once made).

use std::sync::Arc;

use http::StatusCode;

use serde::de::Deserializer;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// The body [`Pillar::handle`](crate::Pillar::handle) answers, in the exact wire shape:
///
/// | case | body |
/// |---|---|
/// | ping | `{"status": "ok"}` |
/// | request error | `{"success": false, "error": "..."}` |
/// | tool error | `{"call_id": "...", "success": false, "error": "..."}` |
/// | tool result | `{"call_id": "...", "success": true, "result": ...}` |
///
/// It serialises with serde; [`Answer::to_bytes`] gives the body ready to send.
#[derive(Debug, Clone)]
pub struct Answer {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Pong,
    Failure {
        call_id: Option<Arc<str>>,
        error: String,
    },
    Success {
        call_id: Arc<str>,
        result: Box<RawValue>,
    },
}

impl Answer {
    pub(crate) fn pong() -> Self {
        Self { kind: Kind::Pong }
    }

    pub(crate) fn request_error(error: impl Into<String>) -> Self {
        Self {
            kind: Kind::Failure {
                call_id: None,
                error: error.into(),
            },
        }
    }

    pub(crate) fn tool_error(call_id: impl Into<Arc<str>>, error: String) -> Self {
        Self {
            kind: Kind::Failure {
                call_id: Some(call_id.into()),
                error,
            },
        }
    }

    pub(crate) fn success(call_id: impl Into<Arc<str>>, result: Box<RawValue>) -> Self {
        Self {
            kind: Kind::Success {
                call_id: call_id.into(),
                result,
            },
        }
    }

    /// `true` for a tool result (`"success": true`).
    pub fn is_success(&self) -> bool {
        matches!(self.kind, Kind::Success { .. })
    }

    /// `true` for the answer to a ping.
    pub fn is_pong(&self) -> bool {
        matches!(self.kind, Kind::Pong)
    }

    /// The error text, for a failure.
    pub fn error(&self) -> Option<&str> {
        match &self.kind {
            Kind::Failure { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The call id echoed back, for answers about a call.
    pub fn call_id(&self) -> Option<&str> {
        match &self.kind {
            Kind::Failure { call_id, .. } => call_id.as_deref(),
            Kind::Success { call_id, .. } => Some(call_id),
            Kind::Pong => None,
        }
    }

    /// The tool's result as raw JSON, for a success.
    pub fn result(&self) -> Option<&RawValue> {
        match &self.kind {
            Kind::Success { result, .. } => Some(result),
            _ => None,
        }
    }

    /// The body as bytes, ready to send with `Content-Type: application/json`.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Sized for the whole body up front (escapes aside): one allocation, no regrowth.
        let estimate = match &self.kind {
            Kind::Pong => 16,
            Kind::Failure { call_id, error } => {
                48 + call_id.as_deref().map_or(0, str::len) + error.len()
            }
            Kind::Success { call_id, result } => 48 + call_id.len() + result.get().len(),
        };
        let mut bytes = Vec::with_capacity(estimate);
        // Serialising strings, a bool and pre-validated raw JSON into a Vec cannot fail.
        match serde_json::to_writer(&mut bytes, self) {
            Ok(()) => bytes,
            Err(_) => br#"{"success":false}"#.to_vec(),
        }
    }

    /// The body as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads an answer back from [`to_bytes`](Self::to_bytes), for call stores that keep
    /// answers outside the process. `None` for anything `to_bytes` does not produce.
    pub(crate) fn from_json(bytes: &[u8]) -> Option<Answer> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            #[serde(default)]
            status: Option<String>,
            #[serde(default)]
            call_id: Option<String>,
            #[serde(default)]
            success: Option<bool>,
            #[serde(default)]
            error: Option<String>,
            // `"result": null` is a result (null), not a missing one.
            #[serde(default, deserialize_with = "some_raw")]
            result: Option<Box<RawValue>>,
        }

        fn some_raw<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Box<RawValue>>, D::Error> {
            Box::<RawValue>::deserialize(de).map(Some)
        }

        let wire: Wire = serde_json::from_slice(bytes).ok()?;
        let kind = match wire {
            Wire {
                status: Some(status),
                call_id: None,
                success: None,
                error: None,
                result: None,
            } if status == "ok" => Kind::Pong,
            Wire {
                status: None,
                call_id,
                success: Some(false),
                error: Some(error),
                result: None,
            } => Kind::Failure {
                call_id: call_id.map(Arc::from),
                error,
            },
            Wire {
                status: None,
                call_id: Some(call_id),
                success: Some(true),
                error: None,
                result: Some(result),
            } => Kind::Success {
                call_id: Arc::from(call_id),
                result,
            },
            _ => return None,
        };
        Some(Self { kind })
    }
}

/// What the webhook sends back for one request: the HTTP status, the JSON [`Answer`], and
/// for a retryable refusal (503) the seconds for `Retry-After`. The one value a call's
/// outcome travels in, from the tool (or the refusal) through the record of calls to the
/// transport; [`Pillar::handle`](crate::Pillar::handle) returns it, and a
/// [`CallStore`](crate::idempotency::CallStore) keeps it.
///
/// The body's bytes are made once: the record of calls keeps the bytes the response
/// sends ([`into_body`](Self::into_body)).
#[derive(Debug, Clone)]
pub struct WebhookResponse {
    status: StatusCode,
    /// Seconds for a `Retry-After` header, on a retryable refusal.
    retry_after: Option<u32>,
    answer: Answer,
    /// The answer's bytes, once made (to record it, or read from the record).
    encoded: Option<Vec<u8>>,
}

impl WebhookResponse {
    /// A response of `status` with `answer`: what a call store gives back for a call it
    /// recorded.
    pub fn new(status: StatusCode, answer: Answer) -> Self {
        Self {
            status,
            retry_after: None,
            answer,
            encoded: None,
        }
    }

    /// A request refused before any call (`{"success": false, "error": ...}`).
    pub(crate) fn refused(status: StatusCode, error: impl Into<String>) -> Self {
        Self::new(status, Answer::request_error(error))
    }

    /// A retryable refusal: the server cannot take the call now (503 with
    /// `Retry-After`); nothing ran.
    pub(crate) fn unavailable(error: impl Into<String>, retry_after_secs: u32) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::refused(StatusCode::SERVICE_UNAVAILABLE, error)
        }
    }

    /// A recorded response read back: its status and the body's bytes as
    /// [`to_body`](Self::to_body) gave them to the store (they are sent again as they
    /// are). `None` when the bytes are not an answer this SDK makes.
    pub fn from_recorded(status: StatusCode, body: Vec<u8>) -> Option<Self> {
        let answer = Answer::from_json(&body)?;
        Some(Self {
            encoded: Some(body),
            ..Self::new(status, answer)
        })
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body.
    pub fn answer(&self) -> &Answer {
        &self.answer
    }

    /// For a retryable refusal, the seconds after which the sender may retry: sent as the
    /// `Retry-After` header.
    pub fn retry_after(&self) -> Option<u32> {
        self.retry_after
    }

    /// The body's bytes, borrowed when they were made already.
    pub fn to_body(&self) -> std::borrow::Cow<'_, [u8]> {
        match &self.encoded {
            Some(bytes) => std::borrow::Cow::Borrowed(bytes),
            None => std::borrow::Cow::Owned(self.answer.to_bytes()),
        }
    }

    /// The body's bytes, made now (and kept) unless they were already.
    pub fn body(&mut self) -> &[u8] {
        let answer = &self.answer;
        self.encoded.get_or_insert_with(|| answer.to_bytes())
    }

    /// The body's bytes, ready to send with `Content-Type: application/json`.
    pub fn into_body(self) -> Vec<u8> {
        match self.encoded {
            Some(bytes) => bytes,
            None => self.answer.to_bytes(),
        }
    }

    /// The status and the answer.
    pub fn into_parts(self) -> (StatusCode, Answer) {
        (self.status, self.answer)
    }
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.kind {
            Kind::Pong => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("status", "ok")?;
                map.end()
            }
            Kind::Failure { call_id, error } => {
                let mut map = serializer.serialize_map(None)?;
                if let Some(call_id) = call_id {
                    map.serialize_entry("call_id", &**call_id)?;
                }
                map.serialize_entry("success", &false)?;
                map.serialize_entry("error", error)?;
                map.end()
            }
            Kind::Success { call_id, result } => {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry("call_id", &**call_id)?;
                map.serialize_entry("success", &true)?;
                map.serialize_entry("result", result)?;
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(answer: &Answer) -> Answer {
        let bytes = answer.to_bytes();
        let back = Answer::from_json(&bytes).unwrap();
        assert_eq!(back.to_bytes(), bytes);
        back
    }

    #[test]
    fn every_kind_of_answer_reads_back() {
        assert!(round_trip(&Answer::pong()).is_pong());
        let err = round_trip(&Answer::request_error("Invalid JSON"));
        assert_eq!((err.error(), err.call_id()), (Some("Invalid JSON"), None));
        let err = round_trip(&Answer::tool_error(
            "tc_1",
            "no \"such\" order\n".to_owned(),
        ));
        assert_eq!(err.error(), Some("no \"such\" order\n"));
        assert_eq!(err.call_id(), Some("tc_1"));
        for result in [
            r#"{"b":1,"a":[true,null,"\u00e9"]}"#,
            "null",
            "0.1",
            r#""text""#,
            "[]",
        ] {
            let raw = RawValue::from_string(result.to_owned()).unwrap();
            let ok = round_trip(&Answer::success("tc_2", raw));
            assert!(ok.is_success());
            assert_eq!(ok.call_id(), Some("tc_2"));
            assert_eq!(ok.result().map(RawValue::get), Some(result));
        }
    }

    #[test]
    fn the_retry_hint_is_not_part_of_the_body() {
        let mut refused = WebhookResponse::unavailable("busy", 5);
        assert_eq!(refused.retry_after(), Some(5));
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        let back = Answer::from_json(refused.body()).unwrap();
        assert_eq!(back.error(), Some("busy"));
        assert_eq!(refused.into_body(), br#"{"success":false,"error":"busy"}"#);
    }

    #[test]
    fn anything_else_is_refused() {
        for bytes in [
            &b""[..],
            b"null",
            b"[]",
            b"{}",
            b"{\"status\":\"down\"}",
            b"{\"status\":\"ok\",\"success\":true}",
            b"{\"success\":true,\"result\":1}",
            b"{\"call_id\":\"c\",\"success\":true}",
            b"{\"success\":false}",
            b"{\"success\":false,\"error\":\"e\",\"result\":1}",
            b"{\"success\":false,\"error\":\"e\",\"extra\":1}",
            b"{\"call_id\":1,\"success\":false,\"error\":\"e\"}",
            b"{\"success\":true,\"call_id\":\"c\",\"result\":1} trailing",
        ] {
            assert!(
                Answer::from_json(bytes).is_none(),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
