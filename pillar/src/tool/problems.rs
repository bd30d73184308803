//! What is wrong with a call's arguments, in words a model and a person can act on:
//! every problem in one answer, each with its path, Rust type names turned into words
//! (`a whole number from 0 to 255`, not `u8`), and "did you mean" for a missing key next
//! to a close unknown one.
//!
//! ```text
//! arguments.seats: 1000 is above the maximum of 100; arguments.email: "nope" is not an
//! email address; missing: role (`rol` was given: did you mean `role`?)
//! ```
//!
//! The problems come from the tool's JSON Schema validator (`constraints.rs`), run only
//! once serde or the constraints have refused the arguments: the success path never pays
//! for this module.

use std::fmt::Write as _;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::ValidationError;
use serde_json::{Map, Value};

/// Strings longer than this are cut in messages (with their length said).
const QUOTE_LIMIT: usize = 60;

/// The problems found in one input, gathered in order; `missing` is said last.
#[derive(Default)]
pub(crate) struct Problems {
    problems: Vec<String>,
    missing: Vec<String>,
}

impl Problems {
    /// Reads every validation error of `input` against `schema`.
    pub(crate) fn gather<'a>(
        errors: impl Iterator<Item = ValidationError<'a>>,
        schema: &Value,
        input: &Value,
        field: &str,
    ) -> Self {
        let mut problems = Self::default();
        let context = Context {
            schema,
            input,
            field,
        };
        for err in errors {
            problems.add(&context, &err);
        }
        problems
    }

    /// `true` when nothing was found.
    pub(crate) fn is_empty(&self) -> bool {
        self.problems.is_empty() && self.missing.is_empty()
    }

    /// Every problem, `; `-separated, the missing keys last.
    pub(crate) fn into_message(self) -> String {
        let mut parts = self.problems;
        if !self.missing.is_empty() {
            parts.push(format!("missing: {}", self.missing.join(", ")));
        }
        parts.join("; ")
    }

    fn push(&mut self, problem: String) {
        if !self.problems.contains(&problem) {
            self.problems.push(problem);
        }
    }

    fn add(&mut self, cx: &Context<'_>, err: &ValidationError<'_>) {
        let pointer = err.instance_path().as_str();
        let path = json_path(cx.field, pointer);
        let instance = err.instance();
        let value = quote(instance);
        let problem = match err.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property
                    .as_str()
                    .map_or_else(|| property.to_string(), str::to_owned);
                let mut missing = relative_path(pointer, &name);
                if let Some(close) = cx.close_unknown_key(pointer, err, &name) {
                    let _ = write!(missing, " (`{close}` was given: did you mean `{name}`?)");
                }
                if !self.missing.contains(&missing) {
                    self.missing.push(missing);
                }
                return;
            }
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => {
                if let Some(branch) = best_branch(context, pointer) {
                    for err in branch {
                        self.add(cx, err);
                    }
                    return;
                }
                let expected = cx
                    .schema_node(err, false)
                    .and_then(Value::as_array)
                    .map(|branches| alternatives(branches.iter()))
                    .unwrap_or_else(|| "one of the allowed forms".to_owned());
                format!("{path}: expected {expected}, found {}", found(instance))
            }
            ValidationErrorKind::Type { kind } => {
                let expected = cx
                    .schema_node(err, true)
                    .map_or_else(|| type_kind_words(kind), expected_words);
                format!("{path}: expected {expected}, found {}", found(instance))
            }
            ValidationErrorKind::Enum { options } => {
                let options = options
                    .as_array()
                    .map(|o| o.iter().map(quote).collect::<Vec<_>>().join(", "))
                    .unwrap_or_else(|| quote(options));
                format!("{path}: {value} is not one of {options}")
            }
            ValidationErrorKind::Constant { expected_value } => {
                format!("{path}: expected {}, found {value}", quote(expected_value))
            }
            ValidationErrorKind::Minimum { limit } => {
                format!("{path}: {value} is below the minimum of {limit}")
            }
            ValidationErrorKind::Maximum { limit } => {
                format!("{path}: {value} is above the maximum of {limit}")
            }
            ValidationErrorKind::ExclusiveMinimum { limit } => {
                format!("{path}: {value} is not above {limit}")
            }
            ValidationErrorKind::ExclusiveMaximum { limit } => {
                format!("{path}: {value} is not below {limit}")
            }
            ValidationErrorKind::MultipleOf { multiple_of } => {
                format!("{path}: {value} is not a multiple of {multiple_of}")
            }
            ValidationErrorKind::MinLength { limit } => {
                format!(
                    "{path}: {value} is shorter than {}",
                    count(*limit, "character")
                )
            }
            ValidationErrorKind::MaxLength { limit } => {
                format!(
                    "{path}: {value} is longer than {}",
                    count(*limit, "character")
                )
            }
            ValidationErrorKind::Pattern { pattern } => {
                format!("{path}: {value} does not match the pattern `{pattern}`")
            }
            ValidationErrorKind::Format { format } => {
                format!("{path}: {value} is not {}", format_words(format))
            }
            ValidationErrorKind::MinItems { limit } => format!(
                "{path}: has {}, fewer than the minimum of {limit}",
                count(items(instance), "item")
            ),
            ValidationErrorKind::MaxItems { limit } => format!(
                "{path}: has {}, more than the maximum of {limit}",
                count(items(instance), "item")
            ),
            ValidationErrorKind::UniqueItems => format!("{path}: has duplicate items"),
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    let mut problem =
                        format!("{}: unknown field", json_path(&path, &format!("/{key}")));
                    let known = cx
                        .schema_node(err, true)
                        .and_then(|node| node.get("properties"));
                    if let Some(close) = known
                        .and_then(Value::as_object)
                        .and_then(|known| closest(key, known.keys().map(String::as_str)))
                    {
                        let _ = write!(problem, " (did you mean `{close}`?)");
                    }
                    self.push(problem);
                }
                return;
            }
            _ => format!("{path}: {}", err.masked()),
        };
        self.push(problem);
    }
}

/// What a problem is described against.
struct Context<'a> {
    schema: &'a Value,
    input: &'a Value,
    field: &'a str,
}

impl Context<'_> {
    /// The schema node an error's keyword belongs to (`parent`: the object holding the
    /// keyword), or the keyword's own value. `None` through a `$ref`.
    fn schema_node(&self, err: &ValidationError<'_>, parent: bool) -> Option<&Value> {
        let pointer = err.schema_path().as_str();
        let pointer = if parent {
            pointer.rsplit_once('/').map_or("", |(parent, _)| parent)
        } else {
            pointer
        };
        self.schema.pointer(pointer)
    }

    /// An unknown key of the object at `pointer` close to the missing `name`.
    fn close_unknown_key(
        &self,
        pointer: &str,
        err: &ValidationError<'_>,
        name: &str,
    ) -> Option<String> {
        let given = self.input.pointer(pointer)?.as_object()?;
        let known = self
            .schema_node(err, true)
            .and_then(|node| node.get("properties"))
            .and_then(Value::as_object);
        let unknown = given
            .keys()
            .filter(|key| known.is_none_or(|known| !known.contains_key(*key)))
            .map(String::as_str);
        closest(name, unknown).map(str::to_owned)
    }
}

/// Of an `anyOf`/`oneOf`'s failed branches, the one the value was meant for: the only
/// branch whose errors are not all about the value's own type (an object that matched
/// the branch's shape but broke a rule inside it).
fn best_branch<'c>(
    branches: &'c [Vec<ValidationError<'static>>],
    pointer: &str,
) -> Option<&'c [ValidationError<'static>]> {
    let mut meant = branches.iter().filter(|errors| {
        !errors.iter().all(|err| {
            err.instance_path().as_str() == pointer
                && matches!(
                    err.kind(),
                    ValidationErrorKind::Type { .. }
                        | ValidationErrorKind::Constant { .. }
                        | ValidationErrorKind::Enum { .. }
                )
        })
    });
    let first = meant.next()?;
    meant.next().is_none().then_some(first.as_slice())
}

/// The closest of `candidates` to `name`, if one is close enough to be a typo or another
/// spelling (`emial`, `Email`, `e_mail` for `email`).
pub(crate) fn closest<'c>(
    name: &str,
    candidates: impl Iterator<Item = &'c str>,
) -> Option<&'c str> {
    let normal = |s: &str| {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let wanted = normal(name);
    candidates
        .filter(|candidate| *candidate != name)
        .map(|candidate| (strsim::osa_distance(&wanted, &normal(candidate)), candidate))
        .filter(|(distance, _)| *distance <= (wanted.chars().count() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// What a schema node accepts, in words: `a whole number from 0 to 255`, `a string or
/// null`, `one of "admin", "member"`.
pub(crate) fn expected_words(node: &Value) -> String {
    let Some(map) = node.as_object() else {
        return "a valid value".to_owned();
    };
    if let Some(constant) = map.get("const") {
        return quote(constant);
    }
    if let Some(options) = map.get("enum").and_then(Value::as_array) {
        let options: Vec<String> = options.iter().map(quote).collect();
        return format!("one of {}", options.join(", "));
    }
    if let Some(branches) = ["anyOf", "oneOf"]
        .iter()
        .find_map(|k| map.get(*k).and_then(Value::as_array))
    {
        return alternatives(branches.iter());
    }
    let types: Vec<&str> = match map.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return "a valid value".to_owned(),
    };
    let words: Vec<String> = types.iter().map(|t| type_words(t, map)).collect();
    words.join(" or ")
}

/// The words of several alternatives, `or`-joined, each said once.
fn alternatives<'v>(branches: impl Iterator<Item = &'v Value>) -> String {
    let mut words: Vec<String> = Vec::new();
    for branch in branches {
        let said = expected_words(branch);
        if !words.contains(&said) {
            words.push(said);
        }
    }
    words.join(" or ")
}

/// One JSON type of a schema node in words, with its range or format.
fn type_words(kind: &str, node: &Map<String, Value>) -> String {
    match kind {
        "integer" | "number" => {
            let natural = node
                .get("format")
                .and_then(Value::as_str)
                .and_then(integer_range);
            let low = node
                .get("minimum")
                .map(ToString::to_string)
                .or_else(|| natural.map(|r| r.0.to_owned()));
            let high = node
                .get("maximum")
                .map(ToString::to_string)
                .or_else(|| natural.map(|r| r.1.to_owned()));
            let noun = if kind == "integer" {
                "a whole number"
            } else {
                "a number"
            };
            match (low, high) {
                (Some(low), Some(high)) => format!("{noun} from {low} to {high}"),
                (Some(low), None) => format!("{noun} of at least {low}"),
                (None, Some(high)) => format!("{noun} of at most {high}"),
                (None, None) => noun.to_owned(),
            }
        }
        "string" => match node.get("format").and_then(Value::as_str) {
            Some(format) => format_words(format),
            None => "a string".to_owned(),
        },
        "boolean" => "true or false".to_owned(),
        "array" => "a list".to_owned(),
        "object" => "an object".to_owned(),
        "null" => "null".to_owned(),
        other => format!("a JSON {other}"),
    }
}

/// The words of a type error's expected type when its schema node cannot be found.
fn type_kind_words(kind: &TypeKind) -> String {
    let empty = Map::new();
    match kind {
        TypeKind::Single(t) => type_words(&t.to_string(), &empty),
        TypeKind::Multiple(ts) => ts
            .iter()
            .map(|t| type_words(&t.to_string(), &empty))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// The range of the integer type schemars names by `format`, exactly.
fn integer_range(format: &str) -> Option<(&'static str, &'static str)> {
    Some(match format {
        "int8" => ("-128", "127"),
        "int16" => ("-32768", "32767"),
        "int32" => ("-2147483648", "2147483647"),
        "int64" | "int" => ("-9223372036854775808", "9223372036854775807"),
        "int128" => (
            "-170141183460469231731687303715884105728",
            "170141183460469231731687303715884105727",
        ),
        "uint8" => ("0", "255"),
        "uint16" => ("0", "65535"),
        "uint32" => ("0", "4294967295"),
        "uint64" | "uint" => ("0", "18446744073709551615"),
        "uint128" => ("0", "340282366920938463463374607431768211455"),
        _ => return None,
    })
}

/// A string format in words: `an email address`, `a UUID`.
fn format_words(format: &str) -> String {
    match format {
        "email" | "idn-email" => "an email address",
        "uri" | "iri" => "a URI (such as https://example.com/a)",
        "uri-reference" | "iri-reference" => "a URI reference",
        "uuid" => "a UUID (such as 67e55044-10b1-426f-9247-bb680e5fe0c8)",
        "date" => "a date (YYYY-MM-DD)",
        "date-time" => "a date and time (RFC 3339, such as 2026-01-31T09:30:00Z)",
        "time" => "a time (RFC 3339, such as 09:30:00Z)",
        "duration" => "an ISO 8601 duration (such as P3D)",
        "ipv4" => "an IPv4 address",
        "ipv6" => "an IPv6 address",
        "hostname" | "idn-hostname" => "a host name",
        "regex" => "a regular expression",
        "json-pointer" => "a JSON pointer",
        other => return format!("a valid {other}"),
    }
    .to_owned()
}

/// A value as the agent sent it: JSON, long strings cut.
fn quote(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() > QUOTE_LIMIT => {
            let cut: String = s.chars().take(QUOTE_LIMIT).collect();
            format!("\"{cut}...\" ({} characters)", s.chars().count())
        }
        Value::Array(_) => "the list".to_owned(),
        Value::Object(_) => "the object".to_owned(),
        other => other.to_string(),
    }
}

/// What was found instead of the expected type.
fn found(value: &Value) -> String {
    match value {
        Value::String(_) => format!("the string {}", quote(value)),
        Value::Number(n) => format!("the number {n}"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        other => other.to_string(),
    }
}

fn items(value: &Value) -> u64 {
    value.as_array().map_or(0, |a| a.len() as u64)
}

fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `field` and a JSON pointer as the SDK's other errors write paths:
/// `arguments.lines[0].amount` for `/lines/0/amount`.
pub(crate) fn json_path(field: &str, pointer: &str) -> String {
    let mut path = field.to_owned();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            path.push('[');
            path.push_str(&segment);
            path.push(']');
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&segment);
        }
    }
    path
}

/// A missing key's path below the arguments: `role`, `address.city`.
fn relative_path(pointer: &str, name: &str) -> String {
    let parent = json_path("", pointer);
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// A serde error message with Rust type names in words (`expected u32` reads `expected
/// a whole number from 0 to 4294967295`): for the rare refusal the schema does not
/// explain (a custom `Deserialize`).
pub(crate) fn serde_words(message: &str) -> String {
    const WORDS: &[(&str, &str)] = &[
        ("u8", "uint8"),
        ("u16", "uint16"),
        ("u32", "uint32"),
        ("u64", "uint64"),
        ("u128", "uint128"),
        ("usize", "uint64"),
        ("i8", "int8"),
        ("i16", "int16"),
        ("i32", "int32"),
        ("i64", "int64"),
        ("i128", "int128"),
        ("isize", "int64"),
    ];
    // serde_path_to_error writes `?` for a segment it cannot name (inside an untagged
    // enum, say): the path stops before it.
    let mut out = match message.split_once(": ") {
        Some((path, rest)) if path.split('.').any(|s| s == "?") => {
            let known: Vec<&str> = path.split('.').take_while(|s| *s != "?").collect();
            format!("{}: {rest}", known.join("."))
        }
        _ => message.to_owned(),
    };
    for (rust, format) in WORDS {
        let from = format!("expected {rust}");
        if let Some(at) = out.find(&from) {
            let end = at + from.len();
            let boundary = out[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            if boundary {
                if let Some((low, high)) = integer_range(format) {
                    out.replace_range(
                        at..end,
                        &format!("expected a whole number from {low} to {high}"),
                    );
                }
            }
        }
    }
    for (from, to) in [
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected an object"),
        ("expected a boolean", "expected true or false"),
    ] {
        out = out.replace(from, to);
    }
    // `expected struct Address` / `expected enum Role`: the Rust name means nothing to
    // the agent.
    for (from, to) in [
        ("expected struct ", "an object"),
        ("expected enum ", "one of the allowed values"),
    ] {
        while let Some(at) = out.find(from) {
            let name_end = out[at + from.len()..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(out.len(), |n| at + from.len() + n);
            out.replace_range(at..name_end, &format!("expected {to}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_serde_paths() {
        assert_eq!(json_path("arguments", ""), "arguments");
        assert_eq!(json_path("arguments", "/a/0/b~1c"), "arguments.a[0].b/c");
        assert_eq!(relative_path("", "role"), "role");
        assert_eq!(relative_path("/address", "city"), "address.city");
        assert_eq!(relative_path("/lines/2", "sku"), "lines[2].sku");
    }

    #[test]
    fn close_keys() {
        let keys = ["emial", "seats", "name"];
        assert_eq!(closest("email", keys.into_iter()), Some("emial"));
        assert_eq!(closest("Email", ["e_mail"].into_iter()), Some("e_mail"));
        assert_eq!(closest("role", keys.into_iter()), None);
        assert_eq!(closest("id", ["xy"].into_iter()), None);
    }

    #[test]
    fn types_in_words() {
        let u8_schema =
            serde_json::json!({"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255});
        assert_eq!(expected_words(&u8_schema), "a whole number from 0 to 255");
        let u64_schema = serde_json::json!({"type": "integer", "format": "uint64", "minimum": 0});
        assert_eq!(
            expected_words(&u64_schema),
            "a whole number from 0 to 18446744073709551615"
        );
        let option = serde_json::json!({"type": ["string", "null"], "format": "email"});
        assert_eq!(expected_words(&option), "an email address or null");
        let role = serde_json::json!({"type": "string", "enum": ["admin", "member"]});
        assert_eq!(expected_words(&role), r#"one of "admin", "member""#);
        let any = serde_json::json!({"anyOf": [{"type": "boolean"}, {"type": "null"}]});
        assert_eq!(expected_words(&any), "true or false or null");
    }

    #[test]
    fn serde_messages_in_words() {
        assert_eq!(
            serde_words("arguments.n: invalid type: string \"x\", expected u32"),
            "arguments.n: invalid type: string \"x\", expected a whole number from 0 to 4294967295"
        );
        assert_eq!(
            serde_words("invalid type: integer `5`, expected struct Address"),
            "invalid type: integer `5`, expected an object"
        );
        assert_eq!(serde_words("expected u320"), "expected u320");
        assert_eq!(
            serde_words("arguments.shape.?: invalid value"),
            "arguments.shape: invalid value"
        );
    }
}
