//! Turning what a tool function returns into the wire answer.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use serde_json::value::RawValue;

/// The future a tool call runs; boxed once per call.
pub type ToolFuture = Pin<Box<dyn Future<Output = ToolOutput> + Send + 'static>>;

/// What a tool produced: its JSON result or the text of its error.
#[derive(Debug, Clone)]
pub enum ToolOutput {
    /// The tool returned; the JSON of its result.
    Ok(Box<RawValue>),
    /// The tool failed; the message the agent sees.
    Err(String),
    /// The tool answered MCP content blocks (feature `mcp`): given to an MCP client as
    /// they are, and to Pillar Cloud as the JSON array of the blocks.
    #[cfg(feature = "mcp")]
    Content(super::content::Contents),
}

impl ToolOutput {
    /// Serialises a successful result.
    pub fn from_value<T: Serialize + ?Sized>(value: &T) -> Self {
        match serde_json::value::to_raw_value(value) {
            Ok(raw) => Self::Ok(raw),
            Err(err) => Self::Err(format!(
                "the tool's result could not be serialised as JSON: {err}"
            )),
        }
    }

    /// Converts a `Result` whose error is shown to the agent with `Display`.
    pub fn from_result<T: IntoToolResult, E: Display>(result: Result<T, E>) -> Self {
        match result {
            Ok(value) => value.into_output(),
            Err(err) => Self::Err(err.to_string()),
        }
    }

    /// The result as a JSON value, or the error text.
    ///
    /// # Errors
    /// The tool's error message when the tool failed.
    pub fn into_result(self) -> Result<serde_json::Value, String> {
        match self {
            Self::Ok(raw) => serde_json::from_str(raw.get()).map_err(|e| e.to_string()),
            Self::Err(err) => Err(err),
            #[cfg(feature = "mcp")]
            Self::Content(contents) => contents.to_output().into_result(),
        }
    }
}

/// What a tool's `Ok` value may be: any `Serialize` type, sent as its JSON, and with the
/// `mcp` feature [`Content`](crate::mcp::Content) and [`Contents`](crate::mcp::Contents),
/// MCP content blocks (sent to Pillar Cloud as the JSON array of the blocks). The bound
/// on the `Ok` type of [`#[pillar::tool]`](crate::tool) functions and of
/// [`ToolBuilder::handler`](crate::ToolBuilder::handler) results; not meant to be
/// implemented outside this crate.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool's result",
    label = "the `Ok` value of a tool's `Result` is sent as JSON: its type must implement `Serialize`",
    note = "derive `serde::Serialize` on `{Self}`"
)]
pub trait IntoToolResult {
    /// The answer of a tool whose `Ok` value is `self`.
    #[doc(hidden)]
    fn into_output(self) -> ToolOutput;
}

impl<T: Serialize> IntoToolResult for T {
    fn into_output(self) -> ToolOutput {
        ToolOutput::from_value(&self)
    }
}

// MCP content blocks are not `Serialize`, so these impls do not overlap the one above.
#[cfg(feature = "mcp")]
impl IntoToolResult for super::content::Contents {
    fn into_output(self) -> ToolOutput {
        ToolOutput::Content(self)
    }
}

#[cfg(feature = "mcp")]
impl IntoToolResult for super::content::Content {
    fn into_output(self) -> ToolOutput {
        ToolOutput::Content(self.into())
    }
}
