//! What `#[pillar::tool]` generates, as the runtime reads it: the [`StaticTool`] each
//! annotated fn submits to the inventory, and its shim's types. Defined here, with the
//! tools they describe; `__private` re-exports them for the macro's expansions, so the
//! dependency runs one way (`__private` -> `tool`).

use std::fmt::Display;

use serde_json::Value;

use super::context::ToolContext;
use super::output::ToolFuture;
use super::state::{Shared as SharedState, StateSlot};

/// The generated shim: parses the input, then returns the future that runs the tool.
pub type CallFn = fn(Input<'_>, ToolContext, &[SharedState]) -> Result<ToolFuture, ArgumentsError>;

/// A tool defined with `#[pillar::tool]`, as submitted to the inventory.
#[derive(Debug)]
pub struct StaticTool {
    /// Tool name.
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// Guidance, if any.
    pub guidance: Option<&'static str>,
    /// Timeout in ms (checked > 0 by the macro).
    pub timeout_ms: u64,
    /// Channel names (checked by the macro).
    pub channels: &'static [&'static str],
    /// Builds the input schema.
    pub input_schema: fn() -> Value,
    /// Builds the output schema, when asked for.
    pub output_schema: Option<fn() -> Value>,
    /// The types of its `State<T>` parameters, in order.
    pub states: &'static [StateSlot],
    /// The shim.
    pub call: CallFn,
    /// `file!()` of the definition.
    pub file: &'static str,
    /// `line!()` of the definition.
    pub line: u32,
}

inventory::collect!(StaticTool);

/// The raw JSON object a tool runs with, and the name of the payload field it came from.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub(crate) json: &'a str,
    pub(crate) field: &'static str,
}

impl<'a> Input<'a> {
    pub(crate) fn new(json: &'a str, field: &'static str) -> Self {
        Self { json, field }
    }
}

/// Arguments that do not fit the tool's parameters; the message names the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentsError(pub(crate) String);

impl Display for ArgumentsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
