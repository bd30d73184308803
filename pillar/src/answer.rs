//! The JSON body of a webhook answer.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
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
    /// For a retryable refusal (503): seconds after which to retry.
    retry_after: Option<u32>,
}

#[derive(Debug, Clone)]
enum Kind {
    Pong,
    Failure {
        call_id: Option<String>,
        error: String,
    },
    Success {
        call_id: String,
        result: Box<RawValue>,
    },
}

impl Answer {
    pub(crate) fn pong() -> Self {
        Self {
            kind: Kind::Pong,
            retry_after: None,
        }
    }

    pub(crate) fn request_error(error: impl Into<String>) -> Self {
        Self {
            kind: Kind::Failure {
                call_id: None,
                error: error.into(),
            },
            retry_after: None,
        }
    }

    pub(crate) fn tool_error(call_id: &str, error: String) -> Self {
        Self {
            kind: Kind::Failure {
                call_id: Some(call_id.to_owned()),
                error,
            },
            retry_after: None,
        }
    }

    pub(crate) fn success(call_id: &str, result: Box<RawValue>) -> Self {
        Self {
            kind: Kind::Success {
                call_id: call_id.to_owned(),
                result,
            },
            retry_after: None,
        }
    }

    /// A retryable refusal: the server cannot take the call now (503 with
    /// `Retry-After`); nothing ran.
    pub(crate) fn unavailable(error: impl Into<String>, retry_after_secs: u32) -> Self {
        Self {
            kind: Kind::Failure {
                call_id: None,
                error: error.into(),
            },
            retry_after: Some(retry_after_secs),
        }
    }

    /// For a retryable refusal, the seconds after which the sender may retry: adapters
    /// send it as the `Retry-After` header.
    pub fn retry_after(&self) -> Option<u32> {
        self.retry_after
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
        // Serialising strings, a bool and pre-validated raw JSON into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_else(|_| br#"{"success":false}"#.to_vec())
    }

    /// The body as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
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
                    map.serialize_entry("call_id", call_id)?;
                }
                map.serialize_entry("success", &false)?;
                map.serialize_entry("error", error)?;
                map.end()
            }
            Kind::Success { call_id, result } => {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry("call_id", call_id)?;
                map.serialize_entry("success", &true)?;
                map.serialize_entry("result", result)?;
                map.end()
            }
        }
    }
}
