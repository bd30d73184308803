//! The SDK's error type.

use std::fmt;

use crate::signature::SignatureError;

/// What can go wrong while setting up or running the SDK.
///
/// Problems with a single webhook call are not errors of this type: they are answered
/// to Pillar Cloud (see [`Pillar::handle`](crate::Pillar::handle)).
///
/// Its `Debug` form is its message, so that `fn main() -> Result<(), pillar::Error>`
/// prints `Error: invalid setting PILLAR_SECRET: is not set or empty; ...` rather than
/// the variant's fields (`{:#?}` shows the fields).
///
/// ```
/// let err = pillar::PillarBuilder::from_lookup(|_| None).unwrap_err();
/// assert!(matches!(err, pillar::Error::Config { name: "PILLAR_SECRET", .. }));
/// assert!(err.to_string().starts_with("invalid setting PILLAR_SECRET: is not set or empty"));
///
/// // A missing secret given in code is refused when the `Pillar` is built.
/// assert!(matches!(pillar::Pillar::builder().build(), Err(pillar::Error::MissingSecret)));
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No secret, or an empty one, was given.
    #[error("no webhook secret: pass one to Pillar::builder().secret(...) or set PILLAR_SECRET")]
    MissingSecret,

    /// A secret was refused.
    #[error("invalid webhook secret: {0}")]
    Secret(#[source] SignatureError),

    /// Two tools share a name.
    #[error(
        "two tools are named `{name}`: one at {first}, one at {second}; tool names must be unique"
    )]
    DuplicateTool {
        /// The shared name.
        name: String,
        /// Where the first is defined.
        first: Location,
        /// Where the second is defined.
        second: Location,
    },

    /// A skill definition is invalid.
    #[error("skill `{name}` is invalid: {reason}")]
    InvalidSkill {
        /// The skill's name.
        name: String,
        /// What is wrong.
        reason: String,
    },

    /// Two skills share a name.
    #[error("two skills are named `{0}`; skill names must be unique")]
    DuplicateSkill(String),

    /// A setting from the environment or the builder is invalid.
    #[error("invalid setting {name}: {reason}")]
    Config {
        /// The variable or setting.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// The HTTP server could not start or stopped on an I/O error (the address is in
    /// use, a signal handler could not be installed, ...).
    #[error("{context}: {source}")]
    Serve {
        /// What the server was doing.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A tool takes a `State<T>` the builder was not given (the only one missing: several
    /// are [`Error::MissingStates`]).
    #[error(
        "tool `{tool}` (at {location}) takes `State<{type_name}>`, but no state of type \
         `{type_name}` was given: add `.state(...)` with a `{type_name}` to the builder \
         ({BUILDER_FORM})"
    )]
    MissingState {
        /// The tool's name.
        tool: String,
        /// Where it is defined.
        location: Location,
        /// The type it asks for.
        type_name: &'static str,
    },

    /// Tools take `State<T>`s the builder was not given: every one, in the tools' order.
    #[error("{}", missing_states(.0))]
    MissingStates(Vec<MissingStateOf>),

    /// Two states of one type were given to the builder.
    #[error(
        "two states of type `{type_name}` were given to the builder; give each type once \
         (wrap values that share a type in types of their own)"
    )]
    DuplicateState {
        /// The type given twice.
        type_name: &'static str,
    },

    /// A tool definition is invalid.
    #[error("tool `{name}` (at {location}) is invalid: {reason}")]
    InvalidTool {
        /// The tool's name.
        name: String,
        /// Where it is defined.
        location: Location,
        /// What is wrong.
        reason: String,
    },
}

/// Where a tool was defined, for error messages about duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// The source file.
    pub file: &'static str,
    /// The line in it.
    pub line: u32,
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            return fmt::Display::fmt(self, f);
        }
        match self {
            Self::MissingSecret => f.write_str("MissingSecret"),
            Self::Secret(err) => f.debug_tuple("Secret").field(err).finish(),
            Self::DuplicateTool {
                name,
                first,
                second,
            } => f
                .debug_struct("DuplicateTool")
                .field("name", name)
                .field("first", first)
                .field("second", second)
                .finish(),
            Self::InvalidSkill { name, reason } => f
                .debug_struct("InvalidSkill")
                .field("name", name)
                .field("reason", reason)
                .finish(),
            Self::DuplicateSkill(name) => f.debug_tuple("DuplicateSkill").field(name).finish(),
            Self::Config { name, reason } => f
                .debug_struct("Config")
                .field("name", name)
                .field("reason", reason)
                .finish(),
            Self::Serve { context, source } => f
                .debug_struct("Serve")
                .field("context", context)
                .field("source", source)
                .finish(),
            Self::MissingState {
                tool,
                location,
                type_name,
            } => f
                .debug_struct("MissingState")
                .field("tool", tool)
                .field("location", location)
                .field("type_name", type_name)
                .finish(),
            Self::MissingStates(missing) => f.debug_tuple("MissingStates").field(missing).finish(),
            Self::DuplicateState { type_name } => f
                .debug_struct("DuplicateState")
                .field("type_name", type_name)
                .finish(),
            Self::InvalidTool {
                name,
                location,
                reason,
            } => f
                .debug_struct("InvalidTool")
                .field("name", name)
                .field("location", location)
                .field("reason", reason)
                .finish(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_the_message_so_main_prints_something_actionable() {
        let err = Error::Config {
            name: "PILLAR_SECRET",
            reason: "is not set or empty".to_owned(),
        };
        assert_eq!(
            format!("{err:?}"),
            "invalid setting PILLAR_SECRET: is not set or empty"
        );
        assert!(format!("{err:#?}").starts_with("Config {"), "{err:#?}");
    }
}

/// How to give states, for the missing-state errors: `pillar::serve()` gives none.
const BUILDER_FORM: &str = "`pillar::serve()` gives no state: serve with \
    `pillar::PillarBuilder::from_env()?.state(value).build()?.serve().await` instead";

/// One `State<T>` a tool takes and the builder was not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingStateOf {
    /// The tool's name.
    pub tool: String,
    /// Where it is defined.
    pub location: Location,
    /// The type it asks for.
    pub type_name: &'static str,
}

/// The text of [`Error::MissingStates`].
fn missing_states(missing: &[MissingStateOf]) -> String {
    let mut types: Vec<&str> = Vec::new();
    for missing in missing {
        if !types.contains(&missing.type_name) {
            types.push(missing.type_name);
        }
    }
    let each: Vec<String> = missing
        .iter()
        .map(|m| {
            format!(
                "tool `{}` (at {}) takes `State<{}>`",
                m.tool, m.location, m.type_name
            )
        })
        .collect();
    format!(
        "{} states the tools take were not given to the builder: {}; add a `.state(...)` \
         for each of {} ({BUILDER_FORM})",
        missing.len(),
        each.join("; "),
        types
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", "),
    )
}
