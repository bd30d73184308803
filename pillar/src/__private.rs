//! Support for the code `#[pillar::tool]` generates. **Not public API**: anything here
//! may change in any release.

pub use ::inventory;
pub use ::schemars;
pub use ::serde;
pub use ::serde_json;
pub use ::std::boxed::Box;
pub use ::std::result::Result;

pub use crate::skill::StaticSkill;
pub use crate::tool::context::ToolContext;
pub use crate::tool::output::{ToolFuture, ToolOutput};
pub use crate::tool::state::{Shared as SharedState, StateSlot};

use std::fmt::Display;

use crate::tool::state::{state_at, Shared, State};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

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

/// Deserialises a tool's input; errors read `arguments.role: unknown variant ...`.
pub fn parse_args<T: DeserializeOwned>(input: Input<'_>) -> Result<T, ArgumentsError> {
    crate::json::from_json_with_path(input.json.as_bytes(), Some(input.field))
        .map_err(ArgumentsError)
}

/// The inlined input schema of the generated arguments struct.
pub fn input_schema<T: JsonSchema>() -> Value {
    crate::tool::schema::schema_for::<T>()
}

/// A type a tool parameter may have.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool parameter",
    label = "this parameter's type must implement `Deserialize` and `JsonSchema`",
    note = "tool arguments arrive as JSON: derive `serde::Deserialize` and `pillar::JsonSchema` on `{Self}`",
    note = "for the application's state, write the parameter's type as `State<T>` or `pillar::State<T>`: the macro recognises a state by that name, not under an alias (`use pillar::State as AppState` is read as a JSON argument)"
)]
pub trait ToolParam: DeserializeOwned + JsonSchema {}
impl<T: DeserializeOwned + JsonSchema> ToolParam for T {}

/// Checks a parameter's type (the call is spanned on the type).
pub const fn assert_param<T: ToolParam>() {}

/// The one borrowed parameter a tool may take.
#[diagnostic::on_unimplemented(
    message = "`&{Self}` cannot be a tool parameter",
    label = "the only borrowed parameter a tool may take is `&pillar::ToolContext`",
    note = "other parameters are read from JSON and must be owned types, such as `String` for `&str`"
)]
pub trait ContextParam {}
impl ContextParam for ToolContext {}

/// Checks the context parameter's type.
pub const fn assert_context<T: ContextParam + ?Sized>() {}

/// A return type that is a `Result` a tool may answer with.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool's result",
    label = "a tool returns `Result<T, E>` with `T: Serialize` and `E: Display`, or a plain `T: Serialize`",
    note = "the `Ok` value is sent as the result, the `Err` value's `Display` text as the error"
)]
pub trait ToolResult {
    /// The `Ok` type.
    type Ok;

    /// The answer: the `Ok` value serialised, or the `Err` value's text as the error.
    fn into_output(self) -> ToolOutput;
}

impl<T: Serialize, E: Display> ToolResult for Result<T, E> {
    type Ok = T;

    fn into_output(self) -> ToolOutput {
        ToolOutput::from_result(self)
    }
}

/// A plain return type a tool may answer with.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool's result",
    label = "a tool returns `Result<T, E>` with `T: Serialize` and `E: Display`, or a plain `T: Serialize`",
    note = "derive `serde::Serialize` on `{Self}`"
)]
pub trait PlainResult: Serialize {}
impl<T: Serialize> PlainResult for T {}

/// A type whose schema can be the tool's `outputSchema`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no JSON Schema for `output_schema`",
    label = "with `output_schema`, the `Ok` type must implement `JsonSchema`",
    note = "derive `pillar::JsonSchema` on `{Self}`, or drop the `output_schema` flag"
)]
pub trait OutputSchema: JsonSchema {}
impl<T: JsonSchema> OutputSchema for T {}

/// The return value's kind, chosen by what its type is (not by its name): a
/// `Result<T, E>`, through any alias, answers `Ok` as the result and `Err` as the tool's
/// error; any other type is the result. Autoref dispatch: `(&&Kind(marker)).kind()`
/// finds [`ViaResult`] for a `Result`, and falls back to [`ViaPlain`] otherwise.
#[derive(Debug)]
pub struct Kind<T>(pub ::core::marker::PhantomData<T>);

/// A marker of the type of `value`.
pub fn kind_of<T>(_: &T) -> Kind<T> {
    Kind(::core::marker::PhantomData)
}

/// A marker of `T`.
pub const fn kind<T>() -> Kind<T> {
    Kind(::core::marker::PhantomData)
}

/// Found first: the type is a `Result`.
pub trait ViaResult {
    /// The tag of a fallible return.
    fn kind(&self) -> FallibleTag {
        FallibleTag
    }
}
impl<T, E> ViaResult for &Kind<Result<T, E>> {}

/// The fallback: any other type.
pub trait ViaPlain {
    /// The tag of a plain return.
    fn kind(&self) -> PlainTag {
        PlainTag
    }
}
impl<T> ViaPlain for Kind<T> {}

/// A `Result` return.
#[derive(Debug, Clone, Copy)]
pub struct FallibleTag;

/// A plain return.
#[derive(Debug, Clone, Copy)]
pub struct PlainTag;

impl FallibleTag {
    /// The answer of a tool that returned `result`.
    pub fn output<R: ToolResult>(self, result: R) -> ToolOutput {
        result.into_output()
    }

    /// Checks the return type.
    pub fn check<R: ToolResult>(self) {}

    /// The `outputSchema`: the `Ok` type's.
    pub fn output_schema<R: ToolResult>(self) -> Value
    where
        R::Ok: OutputSchema,
    {
        crate::tool::schema::schema_for::<R::Ok>()
    }
}

impl PlainTag {
    /// The answer of a tool that returned `value`.
    pub fn output<T: PlainResult>(self, value: T) -> ToolOutput {
        ToolOutput::from_value(&value)
    }

    /// Checks the return type.
    pub fn check<T: PlainResult>(self) {}

    /// The `outputSchema`: the type's.
    pub fn output_schema<T: PlainResult + OutputSchema>(self) -> Value {
        crate::tool::schema::schema_for::<T>()
    }
}

/// The type of a `State<...>` parameter: `pillar::State<T>` with `T: Send + Sync +
/// 'static`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool's state parameter",
    label = "a tool's state parameter is `pillar::State<T>`, with `T: Send + Sync + 'static`",
    note = "the macro takes a parameter whose type is named `State<...>` for the application's state, given with `PillarBuilder::state`; `axum::extract::State` and other `State` types are not it: write `pillar::State<T>`",
    note = "a state is shared by every call, across threads: `T` must be `Send + Sync + 'static` (wrap what is not in a `Mutex`, or keep an `Arc` of it)"
)]
pub trait StateParam: Sized {
    /// The type given to the builder.
    const SLOT: StateSlot;

    /// The parameter's value from the tool's resolved states.
    ///
    /// # Errors
    /// Only when the states were not resolved for this tool (a bug of the SDK).
    fn take(states: &[Shared], index: usize) -> Result<Self, ArgumentsError>;
}

impl<T: Send + Sync + 'static> StateParam for State<T> {
    const SLOT: StateSlot = StateSlot::of::<T>();

    fn take(states: &[Shared], index: usize) -> Result<Self, ArgumentsError> {
        state_at(states, index).map_err(ArgumentsError)
    }
}

/// Checks a state parameter's type.
pub const fn assert_state<T: StateParam>() {}
