//! Support for the code `#[pillar::tool]` generates. **Not public API**: anything here
//! may change in any release.

pub use ::inventory;
pub use ::schemars;
pub use ::schemars_derive;
pub use ::serde;
pub use ::serde_json;
pub use ::std::boxed::Box;
pub use ::std::result::Result;

pub use crate::skill::StaticSkill;
pub use crate::tool::context::ToolContext;
pub use crate::tool::generated::{ArgumentsError, CallFn, Input, StaticTool};
pub use crate::tool::output::{ToolFuture, ToolOutput};
pub use crate::tool::state::{Shared as SharedState, StateSlot};

use std::fmt::Display;

use crate::tool::state::{state_at, Shared, State};
use crate::tool::CHANNELS;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// The arguments type of a tool (the generated struct, or the one parameter that is the
/// whole input): `(&&args::<A>()).parse(input)` and `(&&args::<A>()).input_schema()`.
///
/// Autoref dispatch, so that a parameter type without `Deserialize` or `JsonSchema` is
/// reported once, by [`assert_param`] (whose error says what to derive), and not again
/// where the arguments are read and described: [`ArgsReady`] is found when `A` has both,
/// [`ArgsUnusable`] otherwise, and that one cannot be built into a program (its methods
/// evaluate a constant that fails), which is fine: `assert_param` has failed the build.
#[derive(Debug)]
pub struct Args<A>(::core::marker::PhantomData<fn() -> A>);

/// The arguments type `A`.
pub const fn args<A>() -> Args<A> {
    Args(::core::marker::PhantomData)
}

/// Found first: `A` can be read from JSON and has a schema.
pub trait ArgsReady {
    /// The arguments type.
    type Args;

    /// Deserialises a tool's input; errors read `arguments.role: unknown variant ...`.
    ///
    /// # Errors
    /// When the input does not match the type.
    fn parse(&self, input: Input<'_>) -> Result<Self::Args, ArgumentsError>;

    /// The inlined input schema.
    fn input_schema(&self) -> Value;
}

impl<A: DeserializeOwned + JsonSchema> ArgsReady for &Args<A> {
    type Args = A;

    fn parse(&self, input: Input<'_>) -> Result<A, ArgumentsError> {
        crate::json::from_str_with_path(input.json, Some(input.field)).map_err(ArgumentsError)
    }

    fn input_schema(&self) -> Value {
        crate::tool::schema::schema_for::<A>()
    }
}

/// The fallback, for an `A` that lacks `Deserialize` or `JsonSchema`: only reached in a
/// program that does not compile.
pub trait ArgsUnusable {
    /// The arguments type.
    type Args;

    /// Never built: see [`Args`].
    ///
    /// # Errors
    /// None: it does not compile into a program.
    fn parse(&self, _input: Input<'_>) -> Result<Self::Args, ArgumentsError> {
        match Unusable::<Self::Args>::REACHED {}
    }

    /// Never built: see [`Args`].
    fn input_schema(&self) -> Value {
        match Unusable::<Self::Args>::REACHED {}
    }
}

impl<A> ArgsUnusable for Args<A> {
    type Args = A;
}

/// A constant that fails to evaluate when a program would contain [`ArgsUnusable`]'s
/// methods for `A`.
struct Unusable<A>(::core::marker::PhantomData<A>);

impl<A> Unusable<A> {
    const REACHED: ::core::convert::Infallible = ::core::panic!(
        "a tool's parameter type lacks `Deserialize` or `JsonSchema` (reported by `assert_param`)"
    );
}

/// A type a tool parameter may have.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool parameter",
    label = "this parameter's type must implement `Deserialize` and `JsonSchema`",
    note = "tool arguments arrive as JSON: add `#[derive(serde::Deserialize, pillar::JsonSchema)]` (or `schemars::JsonSchema`) to `{Self}`",
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

// The `Ok` type of a tool's `Result` is bound by `crate::IntoToolResult`, public because
// `ToolBuilder::handler` takes it too.
use crate::tool::output::IntoToolResult;

/// The `Err` type of a tool's `Result`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool's error type",
    label = "a tool's error type must implement `Display`: its text is the error the agent reads",
    note = "implement `std::fmt::Display` for `{Self}` (`#[derive(thiserror::Error)]` with `#[error(\"...\")]` does), or return `Result<_, String>`"
)]
pub trait ToolError: Display {}
impl<E: Display> ToolError for E {}

/// A plain return type a tool may answer with.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool's result",
    label = "a tool returns `Result<T, E>` with `T: Serialize` and `E: Display`, or a plain `T: Serialize`",
    note = "derive `serde::Serialize` on `{Self}`"
)]
pub trait PlainResult {
    /// The answer of a tool that returned `self`.
    fn into_output(self) -> ToolOutput;
}
impl<T: Serialize> PlainResult for T {
    fn into_output(self) -> ToolOutput {
        ToolOutput::from_value(&self)
    }
}

// MCP content blocks (feature `mcp`) are not `Serialize`, so these impls do not overlap
// the ones above: a tool returning them answers `ToolOutput::Content`.
#[cfg(feature = "mcp")]
mod content_results {
    use super::{PlainResult, ToolOutput};
    use crate::tool::content::{Content, Contents};

    impl PlainResult for Contents {
        fn into_output(self) -> ToolOutput {
            ToolOutput::Content(self)
        }
    }

    impl PlainResult for Content {
        fn into_output(self) -> ToolOutput {
            ToolOutput::Content(Contents::from(self))
        }
    }
}

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
///
/// Each tag's methods bound the types the tag carries by traits of their own
/// ([`IntoToolResult`](crate::IntoToolResult), [`ToolError`], [`PlainResult`]) whose self type is the user's type, so that a missing
/// `Serialize` or `Display` is reported with their message. The answer (`output`) is the
/// one place the bounds are required: a second check would report the same error twice.
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
    /// The `Ok` type.
    type Ok;
    /// The `Err` type.
    type Err;

    /// The tag of a fallible return.
    fn kind(&self) -> FallibleTag<Self::Ok, Self::Err> {
        FallibleTag(::core::marker::PhantomData)
    }
}
impl<T, E> ViaResult for &Kind<Result<T, E>> {
    type Ok = T;
    type Err = E;
}

/// The fallback: any other type.
pub trait ViaPlain {
    /// The type.
    type Type;

    /// The tag of a plain return.
    fn kind(&self) -> PlainTag<Self::Type> {
        PlainTag(::core::marker::PhantomData)
    }
}
impl<T> ViaPlain for Kind<T> {
    type Type = T;
}

/// A `Result<T, E>` return.
#[derive(Debug)]
pub struct FallibleTag<T, E>(::core::marker::PhantomData<fn() -> (T, E)>);

/// A plain return of a `T`.
#[derive(Debug)]
pub struct PlainTag<T>(::core::marker::PhantomData<fn() -> T>);

impl<T, E> FallibleTag<T, E> {
    /// The answer of a tool that returned `result`.
    pub fn output(self, result: Result<T, E>) -> ToolOutput
    where
        T: IntoToolResult,
        E: ToolError,
    {
        match result {
            Ok(value) => value.into_output(),
            Err(err) => ToolOutput::Err(err.to_string()),
        }
    }

    /// The `outputSchema`: the `Ok` type's.
    pub fn output_schema(self) -> Value
    where
        T: OutputSchema,
    {
        crate::tool::schema::schema_for::<T>()
    }
}

impl<T> PlainTag<T> {
    /// The answer of a tool that returned `value`.
    pub fn output(self, value: T) -> ToolOutput
    where
        T: PlainResult,
    {
        value.into_output()
    }

    /// The `outputSchema`: the type's.
    pub fn output_schema(self) -> Value
    where
        T: OutputSchema,
    {
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

// ---------------------------------------------------------------------------------------
// `channels = CONSTANT`: the compile-time check.

/// A message built at compile time, for the panic of a `const` assertion (a `const`
/// panic can only print a `&str` as it is).
#[derive(Debug, Clone, Copy)]
pub struct ConstMessage {
    bytes: [u8; 512],
    len: usize,
}

impl ConstMessage {
    const fn new() -> Self {
        Self {
            bytes: [0; 512],
            len: 0,
        }
    }

    /// Appends `text` (cut at the capacity).
    const fn push(mut self, text: &str) -> Self {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    /// Appends the known channels, quoted: `"web", "slack", ...`.
    const fn push_channels(self) -> Self {
        self.push_names(CHANNELS)
    }

    /// Appends `names`, quoted and joined: `"web", "slack", ...`.
    const fn push_names(mut self, names: &[&str]) -> Self {
        let mut i = 0;
        while i < names.len() {
            if i > 0 {
                self = self.push(", ");
            }
            self = self.push("\"").push(names[i]).push("\"");
            i += 1;
        }
        self
    }

    /// The text (up to the last whole character, when it was cut).
    pub const fn as_str(&self) -> &str {
        let (bytes, _) = self.bytes.split_at(self.len);
        match ::core::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => match ::core::str::from_utf8(bytes.split_at(err.valid_up_to()).0) {
                Ok(text) => text,
                Err(_) => "",
            },
        }
    }
}

/// Whether two strings are equal, in a `const` context.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// What is wrong with a tool's `channels` given as a constant, if anything: an empty
/// list, an unknown channel, a channel listed twice. The same rules as for a literal list,
/// which the macro checks itself.
pub const fn channels_problem(channels: &[&str]) -> Option<ConstMessage> {
    if channels.is_empty() {
        return Some(
            ConstMessage::new()
                .push("`channels` must not be empty: list the channels that may call this tool (")
                .push_channels()
                .push("), or leave `channels` out for all of them"),
        );
    }
    let mut i = 0;
    while i < channels.len() {
        let channel = channels[i];
        let mut known = false;
        let mut k = 0;
        while k < CHANNELS.len() {
            known |= same(channel, CHANNELS[k]);
            k += 1;
        }
        if !known {
            return Some(
                ConstMessage::new()
                    .push("unknown channel `")
                    .push(channel)
                    .push("` in `channels`: expected one of ")
                    .push_channels(),
            );
        }
        let mut j = 0;
        while j < i {
            if same(channels[j], channel) {
                return Some(
                    ConstMessage::new()
                        .push("channel `")
                        .push(channel)
                        .push("` is listed twice in `channels`"),
                );
            }
            j += 1;
        }
        i += 1;
    }
    None
}

// The macro checks a literal `channels` list against its own copy of the channel names
// (it cannot depend on this crate): this crate does not compile when that copy is not
// `Channel::KNOWN`'s names.
const _: () = if let Some(problem) = channel_names_problem(&pillar_macros::__channel_names!()) {
    panic!("{}", problem.as_str())
};

/// What differs between the channel names `#[pillar::tool]` accepts (`macro_names`) and
/// the runtime's ([`CHANNELS`], from [`Channel::KNOWN`](crate::Channel::KNOWN)), if
/// anything: they must be the same names in the same order, so that the macro's messages
/// and the runtime's agree.
pub const fn channel_names_problem(macro_names: &[&str]) -> Option<ConstMessage> {
    let mut same_names = macro_names.len() == CHANNELS.len();
    let mut i = 0;
    while same_names && i < CHANNELS.len() {
        same_names = same(macro_names[i], CHANNELS[i]);
        i += 1;
    }
    if same_names {
        return None;
    }
    Some(
        ConstMessage::new()
            .push("the channel names of `#[pillar::tool]` (CHANNELS in pillar-macros/src/tool/attr.rs: ")
            .push_names(macro_names)
            .push(") are not the runtime's (Channel::KNOWN in pillar/src/tool/context.rs: ")
            .push_channels()
            .push("): write the same names in the same order in both"),
    )
}

// ---------------------------------------------------------------------------------------
// Parameter types that need a crate feature. The macro checks a type it recognises by
// name with one of these instead of (or besides) `assert_param`: the bounds are the same,
// only the error's notes differ, so a type that works is never refused.

/// A parameter type that is an `Arc<T>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool parameter",
    label = "this parameter's type must implement `Deserialize` and `JsonSchema`",
    note = "serde implements `Deserialize` for `Arc<T>` only with its `rc` feature: take the owned value (`String` for `Arc<str>`, `T` for `Arc<T>`) and wrap it in the tool's body, or enable the feature in Cargo.toml: `serde = {{ version = \"1\", features = [\"derive\", \"rc\"] }}`"
)]
pub trait ArcParam: DeserializeOwned + JsonSchema {}
impl<T: DeserializeOwned + JsonSchema> ArcParam for T {}

/// Checks an `Arc<T>` in a parameter's type.
pub const fn assert_arc_param<T: ArcParam>() {}

/// A parameter type that is an `Rc<T>`: also `Send`, since the arguments move into the
/// tool's future, which runs on any thread (the standard `Rc` never is).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool parameter",
    label = "this parameter's type must implement `Deserialize` and `JsonSchema`, and be `Send`",
    note = "a tool's arguments move into its future, which may run on any thread: `Rc<T>` is not `Send` (and serde implements `Deserialize` for it only with its `rc` feature); take the owned value (`String` for `Rc<str>`, `T` for `Rc<T>`), or an `Arc<T>` with serde's `rc` feature"
)]
pub trait RcParam: DeserializeOwned + JsonSchema + Send {}
impl<T: DeserializeOwned + JsonSchema + Send> RcParam for T {}

/// Checks an `Rc<T>` in a parameter's type.
pub const fn assert_rc_param<T: RcParam>() {}

/// A parameter type from chrono.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool parameter",
    label = "this parameter's type must implement `Deserialize` and `JsonSchema`",
    note = "schemars implements `JsonSchema` for chrono's types with its `chrono04` feature: add `schemars = {{ version = \"1\", features = [\"chrono04\"] }}` to Cargo.toml (it is the schemars `pillar` uses, so the feature applies to it)",
    note = "serde's `Deserialize` needs chrono's `serde` feature: `chrono = {{ version = \"0.4\", features = [\"serde\"] }}`"
)]
pub trait ChronoParam: DeserializeOwned + JsonSchema {}
impl<T: DeserializeOwned + JsonSchema> ChronoParam for T {}

/// Checks a chrono type in a parameter's type.
pub const fn assert_chrono_param<T: ChronoParam>() {}

/// A parameter type from uuid.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool parameter",
    label = "this parameter's type must implement `Deserialize` and `JsonSchema`",
    note = "schemars implements `JsonSchema` for `Uuid` with its `uuid1` feature: add `schemars = {{ version = \"1\", features = [\"uuid1\"] }}` to Cargo.toml (it is the schemars `pillar` uses, so the feature applies to it)",
    note = "serde's `Deserialize` needs uuid's `serde` feature: `uuid = {{ version = \"1\", features = [\"serde\"] }}`"
)]
pub trait UuidParam: DeserializeOwned + JsonSchema {}
impl<T: DeserializeOwned + JsonSchema> UuidParam for T {}

/// Checks a `Uuid` in a parameter's type.
pub const fn assert_uuid_param<T: UuidParam>() {}

/// A parameter type from url.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool parameter",
    label = "this parameter's type must implement `Deserialize` and `JsonSchema`",
    note = "schemars implements `JsonSchema` for `Url` with its `url2` feature: add `schemars = {{ version = \"1\", features = [\"url2\"] }}` to Cargo.toml (it is the schemars `pillar` uses, so the feature applies to it)",
    note = "serde's `Deserialize` needs url's `serde` feature: `url = {{ version = \"2\", features = [\"serde\"] }}`"
)]
pub trait UrlParam: DeserializeOwned + JsonSchema {}
impl<T: DeserializeOwned + JsonSchema> UrlParam for T {}

/// Checks a `Url` in a parameter's type.
pub const fn assert_url_param<T: UrlParam>() {}

/// A parameter type from another crate that schemars supports behind a feature.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool parameter",
    label = "this parameter's type must implement `Deserialize` and `JsonSchema`",
    note = "schemars implements `JsonSchema` for other crates' types behind a feature each: `bytes1` (bytes), `rust_decimal1` (rust_decimal), `bigdecimal04` (bigdecimal), `indexmap2` (indexmap), `jiff02` (jiff), `semver1` (semver), `smallvec1` (smallvec), `arrayvec07` (arrayvec), `either1` (either), `smol_str02` / `smol_str03` (smol_str): enable the one of `{Self}`'s crate, `schemars = {{ version = \"1\", features = [\"...\"] }}` in Cargo.toml",
    note = "serde's `Deserialize` needs that crate's own serde feature (usually named `serde`)"
)]
pub trait ForeignParam: DeserializeOwned + JsonSchema {}
impl<T: DeserializeOwned + JsonSchema> ForeignParam for T {}

/// Checks a type of another crate (see [`ForeignParam`]) in a parameter's type.
pub const fn assert_foreign_param<T: ForeignParam>() {}
