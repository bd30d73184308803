//! Helpers for tests: a preset builder and secret ([`pillar()`], [`TEST_SECRET`]), tools
//! run in process ([`call`]), webhook bodies, and a mock Pillar Cloud. Signing and the
//! webhook client, which the `pillar` command also runs on, are in
//! [`protocol`](crate::protocol).
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
//! let headers = pillar::protocol::signed_headers(testing::TEST_SECRET, &body);
//! let response = pillar.handle(&body, &headers).await;
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.answer().to_value(), json!({"call_id": "tc_1", "success": true, "result": {"sum": 2}}));
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run());
//! ```

#[cfg(feature = "serve")]
mod mock_cloud;

use serde_json::Value;

#[cfg(feature = "serve")]
pub use self::mock_cloud::{MockCloud, Mode, RecordedRequest};

use crate::call::{Pillar, PillarBuilder, ToolCallError};
use crate::tool::context::ToolContext;

/// The secret [`pillar()`] configures; sign test requests with it.
pub const TEST_SECRET: &str = "plr_test_secret";

/// A builder preset with [`TEST_SECRET`].
pub fn pillar() -> PillarBuilder {
    Pillar::builder().secret(TEST_SECRET)
}

/// Runs a tool by name in process with a default context: no signature, but the same
/// argument parsing, channel check, timeout and panic guard as a webhook call.
///
/// # Errors
/// What the agent would have seen, as a [`ToolCallError`].
pub async fn call(pillar: &Pillar, name: &str, arguments: Value) -> Result<Value, ToolCallError> {
    pillar
        .run_tool(name, &arguments, ToolContext::builder().build())
        .await
}

/// The body of a `tool_call` webhook (in conversation `conv_test`). Sign it with
/// [`protocol::signed_headers`](crate::protocol::signed_headers).
pub fn tool_call_body(tool_name: &str, call_id: &str, arguments: Value) -> Vec<u8> {
    crate::protocol::tool_call_body(tool_name, call_id, arguments)
}

/// The body of a `tool_confirm` webhook carrying `confirm_payload` (in conversation
/// `conv_test`, confirmed).
pub fn tool_confirm_body(tool_name: &str, call_id: &str, confirm_payload: Value) -> Vec<u8> {
    crate::protocol::tool_confirm_body(tool_name, call_id, confirm_payload)
}
