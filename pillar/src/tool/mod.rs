//! Tool definitions: the static ones the macro submits, and dynamic ones built at run time.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub(crate) mod constraints;
#[cfg(feature = "mcp")]
pub(crate) mod content;
pub(crate) mod context;
pub(crate) mod generated;
pub(crate) mod output;
pub(crate) mod problems;
pub(crate) mod reply;
pub(crate) mod schema;
pub(crate) mod state;

use self::constraints::{Constraints, SchemaSource};
use self::context::ToolContext;
use self::generated::{CallFn, Input, StaticTool};
use self::output::{IntoToolResult, ToolFuture, ToolOutput};
use self::state::{Shared, StateSlot, States};
use crate::error::{Error, Location, MissingStateOf};
use crate::json::from_str_with_path;

/// The default `timeout_ms` of a tool: 30 seconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// A tool's registration form: what Pillar Cloud is told about it, in the wire's key
/// order and naming (`inputSchema` and `outputSchema` in camelCase, the rest snake_case).
///
/// This is what [`Pillar::tools`](crate::Pillar::tools) lists.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ToolInfo {
    /// The tool's name.
    pub name: String,
    /// What the tool does, for the agent.
    pub description: String,
    /// The JSON Schema of the input object, fully inlined.
    #[serde(rename = "inputSchema")]
    pub input_schema: Value,
    /// How long a call may run.
    pub timeout_ms: u64,
    /// The channels that may call it (`["*"]` for all).
    pub channel_compatibility: Vec<String>,
    /// Always `server_side` for tools of this SDK.
    pub tool_type: String,
    /// When and how the agent should use the tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guidance: Option<String>,
    /// The JSON Schema of the result, when declared.
    #[serde(rename = "outputSchema", skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
}

/// A tool as the webhook core runs it.
#[derive(Clone)]
pub struct Tool {
    pub(crate) info: ToolInfo,
    pub(crate) handler: Handler,
    pub(crate) location: Location,
    /// `None` when every channel may call the tool.
    pub(crate) channels: Option<Vec<String>>,
    /// The types of its `State<T>` parameters, in order.
    pub(crate) needs: &'static [StateSlot],
    /// Their values, found by [`resolve_states`](Self::resolve_states) when the `Pillar`
    /// is built.
    pub(crate) states: Arc<[Shared]>,
    /// Where the input schema came from.
    pub(crate) source: SchemaSource,
    /// The input schema's validator, when it states more than serde enforces; compiled
    /// by [`compile_constraints`](Self::compile_constraints) when the `Pillar` is built.
    pub(crate) constraints: Option<Arc<Constraints>>,
    /// The whole schema's validator, built on the first refused call of a tool without
    /// `constraints`, to name every problem (see `constraints.rs`).
    pub(crate) whole: Arc<OnceLock<Option<Constraints>>>,
}

impl fmt::Debug for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.info.name)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// A handler given to [`ToolBuilder`]: reads its input (errors name the path) and starts
/// the tool.
pub(crate) type DynHandler =
    dyn Fn(Input<'_>, ToolContext) -> Result<ToolFuture, String> + Send + Sync;

#[derive(Clone)]
pub(crate) enum Handler {
    Static(CallFn),
    Dynamic(Arc<DynHandler>),
}

impl Tool {
    /// Starts a tool defined without the macro: a name, a description, a JSON Schema and
    /// an async handler over `serde_json::Value`.
    ///
    /// ```
    /// use pillar::Tool;
    /// use serde_json::{json, Value};
    ///
    /// let echo = Tool::builder("echo")
    ///     .description("Repeat the text back")
    ///     .input_schema(json!({
    ///         "type": "object",
    ///         "properties": {"text": {"type": "string"}},
    ///         "required": ["text"]
    ///     }))
    ///     .handler(|args: Value, _ctx| async move {
    ///         Ok::<_, std::convert::Infallible>(json!({"echo": args["text"]}))
    ///     })
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(echo.info().name, "echo");
    /// ```
    #[track_caller]
    pub fn builder(name: impl Into<String>) -> ToolBuilder {
        let caller = std::panic::Location::caller();
        ToolBuilder {
            name: name.into(),
            description: String::new(),
            input_schema: None,
            output_schema: None,
            guidance: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            channels: vec!["*".to_owned()],
            handler: None,
            derived_schema: None,
            typed: false,
            location: Location {
                file: caller.file(),
                line: caller.line(),
            },
        }
    }

    /// The tool's registration form.
    pub fn info(&self) -> &ToolInfo {
        &self.info
    }

    /// Where the tool was defined.
    pub fn location(&self) -> Location {
        self.location
    }

    /// The tool's timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.info.timeout_ms)
    }

    /// Whether a caller on `channel` may call this tool.
    pub(crate) fn allows_channel(&self, channel: &str) -> bool {
        self.channels
            .as_ref()
            .is_none_or(|list| list.iter().any(|c| c == channel))
    }

    pub(crate) fn from_static(def: &StaticTool) -> Result<Self, Error> {
        let input_schema = (def.input_schema)();
        let output_schema = def.output_schema.map(|f| f());
        let location = Location {
            file: def.file,
            line: def.line,
        };
        let channels: Vec<String> = def.channels.iter().map(|c| (*c).to_owned()).collect();
        let tool = Self {
            channels: channel_filter(&channels),
            info: ToolInfo {
                name: def.name.to_owned(),
                // Trimmed: a description made by `concat!` of doc lines and an
                // `include_str!` file keeps the file's surrounding blank lines.
                description: def.description.trim().to_owned(),
                input_schema,
                timeout_ms: def.timeout_ms,
                channel_compatibility: channels,
                tool_type: "server_side".to_owned(),
                guidance: def.guidance.map(str::to_owned),
                output_schema,
            },
            handler: Handler::Static(def.call),
            location,
            needs: def.states,
            states: Arc::new([]),
            source: SchemaSource::Derived,
            constraints: None,
            whole: Arc::default(),
        };
        tool.validate()?;
        Ok(tool)
    }

    /// Finds the value of each of the tool's `State<T>` parameters among `states`.
    ///
    /// # Errors
    /// Every type the builder was not given, in the tool's parameter order.
    pub(crate) fn resolve_states(&mut self, states: &States) -> Result<(), Vec<MissingStateOf>> {
        let mut missing = Vec::new();
        let mut resolved = Vec::with_capacity(self.needs.len());
        for slot in self.needs.iter() {
            match states.find(slot) {
                Some(state) => resolved.push(state),
                None => missing.push(MissingStateOf {
                    tool: self.info.name.clone(),
                    location: self.location,
                    type_name: slot.type_name(),
                }),
            }
        }
        if !missing.is_empty() {
            return Err(missing);
        }
        self.states = resolved.into();
        Ok(())
    }

    /// Compiles the input schema's validator, when the schema states more than serde
    /// enforces (or was written by hand).
    ///
    /// # Errors
    /// [`Error::InvalidTool`] when the schema is not a valid JSON Schema.
    pub(crate) fn compile_constraints(&mut self) -> Result<(), Error> {
        self.constraints = Constraints::compile(&self.info.input_schema, self.source)
            .map_err(|reason| Error::InvalidTool {
                name: self.info.name.clone(),
                location: self.location,
                reason,
            })?
            .map(Arc::new);
        Ok(())
    }

    /// The checks every tool passes before a [`Pillar`](crate::Pillar) accepts it. The
    /// macro makes the same checks at compile time; the builder path needs them here.
    fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: String| Error::InvalidTool {
            name: self.info.name.clone(),
            location: self.location,
            reason,
        };
        if !is_valid_name(&self.info.name) {
            return Err(invalid(format!(
                "the name must match {NAME_PATTERN} (a letter or `_` first, at most 64 characters)"
            )));
        }
        if self.info.description.trim().is_empty() {
            return Err(invalid("the description is empty".to_owned()));
        }
        if self.info.timeout_ms == 0 {
            return Err(invalid("timeout_ms must be greater than 0".to_owned()));
        }
        for channel in &self.info.channel_compatibility {
            if !CHANNELS.contains(&channel.as_str()) {
                return Err(invalid(format!(
                    "unknown channel `{channel}`; expected one of {}",
                    CHANNELS.join(", ")
                )));
            }
        }
        if self.info.channel_compatibility.is_empty() {
            return Err(invalid(
                "the channel list is empty; use [\"*\"] for every channel".to_owned(),
            ));
        }
        if self.info.input_schema.get("type") != Some(&Value::from("object")) {
            return Err(invalid(format!(
                "the input schema must describe a JSON object (\"type\": \"object\"), found {}",
                schema::describe(&self.info.input_schema)
            )));
        }
        Ok(())
    }
}

/// The regular expression tool names must match.
pub const NAME_PATTERN: &str = r"^[a-zA-Z_][a-zA-Z0-9_.\-:]{0,63}$";

/// The channel names a tool may list: the names of [`Channel::KNOWN`](crate::Channel::KNOWN),
/// `*` (every channel) last.
pub const CHANNELS: &[&str] = &{
    let known = context::Channel::KNOWN;
    let mut names = [""; context::Channel::KNOWN.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = known[i].name;
        i += 1;
    }
    names
};

/// Whether `name` matches [`NAME_PATTERN`].
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    name.len() <= 64
        && (first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':'))
}

fn channel_filter(channels: &[String]) -> Option<Vec<String>> {
    if channels.iter().any(|c| c == "*") {
        None
    } else {
        Some(channels.to_vec())
    }
}

/// Builds a [`Tool`] without the macro. Start with [`Tool::builder`].
#[must_use]
pub struct ToolBuilder {
    name: String,
    description: String,
    input_schema: Option<Value>,
    output_schema: Option<Value>,
    guidance: Option<String>,
    timeout_ms: u64,
    channels: Vec<String>,
    handler: Option<Arc<DynHandler>>,
    /// The schema of a [`typed_handler`](Self::typed_handler)'s argument type.
    derived_schema: Option<Value>,
    /// Whether the handler is the typed one (a later `.handler` replaces it).
    typed: bool,
    location: Location,
}

impl fmt::Debug for ToolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolBuilder")
            .field("name", &self.name)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl ToolBuilder {
    /// What the tool does (required).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// The JSON Schema of the input object (default: an object with no properties).
    pub fn input_schema(mut self, schema: Value) -> Self {
        self.input_schema = Some(schema);
        self
    }

    /// The JSON Schema of the result, sent with the registration.
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// When and how the agent should use the tool.
    pub fn guidance(mut self, guidance: impl Into<String>) -> Self {
        self.guidance = Some(guidance.into());
        self
    }

    /// How long one call may run, in milliseconds (default 30 000; must be > 0).
    pub fn timeout_ms(mut self, timeout_ms: u64) -> Self {
        self.timeout_ms = timeout_ms;
        self
    }

    /// The channels that may call the tool: `web`, `slack`, `discord`, `email`, `api`,
    /// or `*` for all (the default).
    pub fn channels<I, S>(mut self, channels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.channels = channels.into_iter().map(Into::into).collect();
        self
    }

    /// The async function that runs a call: it gets the arguments (always a JSON object)
    /// and the context; its `Ok` value is serialised as the result (or, with the `mcp`
    /// feature, may be MCP content blocks: see [`IntoToolResult`]), its `Err` value's
    /// `Display` is the error the agent sees. The schema is
    /// [`input_schema`](Self::input_schema)'s; for arguments of a type of your own, with
    /// the schema derived from it, see [`typed_handler`](Self::typed_handler).
    pub fn handler<F, Fut, T, E>(mut self, handler: F) -> Self
    where
        F: Fn(Value, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: IntoToolResult,
        E: fmt::Display,
    {
        self.handler = Some(Arc::new(move |input: Input<'_>, ctx| {
            let args = from_str_with_path::<Value>(input.json, Some(input.field))?;
            let fut = handler(args, ctx);
            Ok(Box::pin(async move { ToolOutput::from_result(fut.await) }) as ToolFuture)
        }));
        self.typed = false;
        self
    }

    /// The async function that runs a call, with its arguments read into `A`: the input
    /// schema is derived from `A` (inlined, no `$ref`, as the macro's), and arguments that
    /// do not fit are refused before the handler runs, with the path of the mistake
    /// (`arguments.limit: invalid type ...`). State is captured by the closure.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use pillar::Tool;
    ///
    /// #[derive(serde::Deserialize, pillar::JsonSchema)]
    /// struct Search {
    ///     /// Words to look for
    ///     query: String,
    ///     /// At most this many results
    ///     limit: Option<u32>,
    /// }
    ///
    /// let catalog = Arc::new(vec!["red shoes".to_owned(), "blue hat".to_owned()]);
    /// let search = Tool::builder("search_catalog")
    ///     .description("Search the catalog")
    ///     .typed_handler(move |args: Search, _ctx| {
    ///         let catalog = Arc::clone(&catalog);
    ///         async move {
    ///             let limit = args.limit.unwrap_or(10) as usize;
    ///             let found: Vec<String> =
    ///                 catalog.iter().filter(|item| item.contains(&args.query)).take(limit).cloned().collect();
    ///             Ok::<_, std::convert::Infallible>(found)
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(search.info().input_schema["required"], serde_json::json!(["query"]));
    /// ```
    pub fn typed_handler<A, F, Fut, T, E>(mut self, handler: F) -> Self
    where
        A: DeserializeOwned + JsonSchema,
        F: Fn(A, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: IntoToolResult,
        E: fmt::Display,
    {
        self.handler = Some(Arc::new(move |input: Input<'_>, ctx| {
            let args = from_str_with_path::<A>(input.json, Some(input.field))?;
            let fut = handler(args, ctx);
            Ok(Box::pin(async move { ToolOutput::from_result(fut.await) }) as ToolFuture)
        }));
        self.derived_schema = Some(schema::schema_for::<A>());
        self.typed = true;
        self
    }

    /// Checks the definition and finishes the tool.
    ///
    /// # Errors
    /// [`Error::InvalidTool`] naming what is wrong: a bad name, an empty description, a
    /// zero timeout, an unknown channel, a schema that is not an object, no handler.
    pub fn build(self) -> Result<Tool, Error> {
        let Some(handler) = self.handler else {
            return Err(Error::InvalidTool {
                name: self.name,
                location: self.location,
                reason: "no handler was given (call .handler(...))".to_owned(),
            });
        };
        let (input_schema, source) = match (
            self.input_schema,
            self.derived_schema.filter(|_| self.typed),
        ) {
            (Some(_), Some(_)) => {
                return Err(Error::InvalidTool {
                    name: self.name,
                    location: self.location,
                    reason: "both an input_schema and a typed_handler were given: the \
                             typed handler's schema is derived from its argument type; \
                             drop the input_schema"
                        .to_owned(),
                })
            }
            (Some(schema), None) => (schema, SchemaSource::HandWritten),
            (None, Some(schema)) => (schema, SchemaSource::Derived),
            (None, None) => (
                serde_json::json!({"type": "object", "properties": {}}),
                SchemaSource::Default,
            ),
        };
        let tool = Tool {
            channels: channel_filter(&self.channels),
            info: ToolInfo {
                name: self.name,
                description: self.description,
                input_schema,
                timeout_ms: self.timeout_ms,
                channel_compatibility: self.channels,
                tool_type: "server_side".to_owned(),
                guidance: self.guidance,
                output_schema: self.output_schema,
            },
            handler: Handler::Dynamic(handler),
            location: self.location,
            needs: &[],
            states: Arc::new([]),
            source,
            constraints: None,
            whole: Arc::default(),
        };
        tool.validate()?;
        Ok(tool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_pattern() {
        for ok in [
            "a",
            "_x",
            "lookup_customer",
            "ns:tool.v2-beta",
            &"a".repeat(64),
        ] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "1abc", "-x", "has space", "é", &"a".repeat(65), "a/b"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn builder_checks_its_input() {
        let ok = |b: ToolBuilder| b.handler(|_, _| async { Ok::<_, String>(1) });
        let err = ok(Tool::builder("x")).build().unwrap_err().to_string();
        assert!(err.contains("description is empty"), "{err}");
        let err = ok(Tool::builder("bad name").description("d"))
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("must match"), "{err}");
        let err = ok(Tool::builder("x").description("d").channels(["sms"]))
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown channel `sms`"), "{err}");
        let err = ok(Tool::builder("x").description("d").timeout_ms(0))
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("timeout_ms"), "{err}");
        let err = ok(Tool::builder("x")
            .description("d")
            .input_schema(serde_json::json!({"type": "string"})))
        .build()
        .unwrap_err()
        .to_string();
        assert!(err.contains("must describe a JSON object"), "{err}");
        let err = Tool::builder("x")
            .description("d")
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("no handler"), "{err}");
        assert!(err.contains("tool/mod.rs"), "names the location: {err}");
    }
}
