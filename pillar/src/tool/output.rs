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
    pub fn from_result<T: Serialize, E: Display>(result: Result<T, E>) -> Self {
        match result {
            Ok(value) => Self::from_value(&value),
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
