//! Helpers for testing tools and webhook handling without a network.
//!
//! ```
//! use pillar::testing;
//! use serde_json::json;
//!
//! # async fn run() {
//! let pillar = testing::pillar()
//!     .tool(
//!         pillar::Tool::builder("add")
//!             .description("Add two numbers")
//!             .handler(|args: serde_json::Value, _ctx| async move {
//!                 let sum = args["a"].as_i64().unwrap_or(0) + args["b"].as_i64().unwrap_or(0);
//!                 Ok::<_, String>(json!({ "sum": sum }))
//!             })
//!             .build()
//!             .unwrap(),
//!     )
//!     .registered_tools(false)
//!     .build()
//!     .unwrap();
//!
//! // In process, through the same shim as a webhook call:
//! assert_eq!(testing::call(&pillar, "add", json!({"a": 2, "b": 3})).await.unwrap(), json!({"sum": 5}));
//!
//! // End to end through `handle`, with a real signature:
//! let body = testing::tool_call_body("add", "tc_1", json!({"a": 1, "b": 1}));
//! let (status, answer) = pillar.handle(&body, &testing::signed_headers(testing::TEST_SECRET, &body)).await;
//! assert_eq!(status, 200);
//! assert_eq!(answer.to_value(), json!({"call_id": "tc_1", "success": true, "result": {"sum": 2}}));
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run());
//! ```

#[cfg(feature = "serve")]
mod mock_cloud;
mod registration;
#[cfg(feature = "serve")]
mod webhook;

use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

#[cfg(feature = "serve")]
pub use self::mock_cloud::{MockCloud, Mode, RecordedRequest};
pub use self::registration::{review_registration, RegistrationReview, RegistrationWarning};
#[cfg(feature = "serve")]
pub use self::webhook::WebhookClient;

use crate::call::{Pillar, PillarBuilder, ToolCallError};
use crate::tool::context::{ToolContext, ToolContextBuilder};

/// The secret [`pillar()`] configures; sign test requests with it.
pub const TEST_SECRET: &str = "plr_test_secret";

/// A builder preset with [`TEST_SECRET`].
pub fn pillar() -> PillarBuilder {
    Pillar::builder().secret(TEST_SECRET)
}

/// Signs `body` now: the value of an `X-Pillar-Signature` header.
pub fn sign(secret: &str, body: &[u8]) -> String {
    sign_at(secret, body, crate::signature::unix_now())
}

/// Signs `body` as if at `timestamp` (Unix seconds), for expiry tests.
pub fn sign_at(secret: &str, body: &[u8], timestamp: i64) -> String {
    crate::signature::sign(secret, body, timestamp)
}

/// Headers carrying a signature of `body` made now.
pub fn signed_headers(secret: &str, body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    // A signature is ASCII: `t=<digits>,v1=<hex>`.
    if let Ok(value) = HeaderValue::from_str(&sign(secret, body)) {
        headers.insert(crate::signature::SIGNATURE_HEADER, value);
    }
    headers
}

/// A [`ToolContext`] builder (the same as [`ToolContext::builder`]).
pub fn context() -> ToolContextBuilder {
    ToolContext::builder()
}

/// Runs a tool by name in process with a default context: no signature, but the same
/// argument parsing, channel check, timeout and panic guard as a webhook call.
///
/// # Errors
/// What the agent would have seen, as a [`ToolCallError`].
pub async fn call(pillar: &Pillar, name: &str, arguments: Value) -> Result<Value, ToolCallError> {
    pillar
        .call_tool(name, &arguments, ToolContext::builder().build())
        .await
}

/// The body of a `tool_call` webhook.
pub fn tool_call_body(tool_name: &str, call_id: &str, arguments: Value) -> Vec<u8> {
    json!({
        "action": "tool_call",
        "tool_name": tool_name,
        "call_id": call_id,
        "arguments": arguments,
        "conversation_id": "conv_test",
    })
    .to_string()
    .into_bytes()
}

/// The body of a `tool_confirm` webhook carrying `confirm_payload`.
pub fn tool_confirm_body(tool_name: &str, call_id: &str, confirm_payload: Value) -> Vec<u8> {
    json!({
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
