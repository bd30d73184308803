//! Enforcing what a tool's input schema advertises beyond what serde checks: formats
//! (email, uri, uuid, date, date-time, ipv4, ipv6, ...), ranges, lengths, patterns, item
//! counts, uniqueness, `const`; and, for a hand-written schema, everything (its handler
//! receives a plain `serde_json::Value`, which nothing else checks).
//!
//! The validator (the `jsonschema` crate, formats as assertions) is compiled once per
//! tool when the `Pillar` is built, and only for a schema that needs it: a tool whose
//! schema states nothing serde does not already enforce keeps the serde-only path.

use serde_json::Value;

use super::problems::{serde_words, Problems};
use super::Tool;

/// A tool's compiled input schema.
pub(crate) struct Constraints {
    validator: jsonschema::Validator,
    /// The schema itself, to say what a refused value should have been.
    schema: Value,
}

impl std::fmt::Debug for Constraints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Constraints")
    }
}

/// Where a tool's input schema came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SchemaSource {
    /// Derived from Rust types (the macro, a typed handler): serde enforces the types,
    /// required fields and enum variants.
    Derived,
    /// Written by hand for a handler over `serde_json::Value`: nothing else checks it.
    HandWritten,
    /// None given: any object.
    Default,
}

/// Keywords serde never enforces.
const CONSTRAINTS: &[&str] = &[
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "const",
    "minProperties",
    "maxProperties",
    "contains",
    "patternProperties",
    "dependentRequired",
    "not",
];

impl Constraints {
    /// The validator `schema` needs, if any.
    ///
    /// # Errors
    /// When the schema is not a valid JSON Schema (its error's text).
    pub(crate) fn compile(schema: &Value, source: SchemaSource) -> Result<Option<Self>, String> {
        let needed = match source {
            SchemaSource::Default => false,
            SchemaSource::HandWritten => true,
            SchemaSource::Derived => states_more_than_serde(schema),
        };
        if !needed {
            return Ok(None);
        }
        Self::compile_whole(schema).map(Some)
    }

    /// The validator of the whole schema, whatever serde checks already: for the
    /// tools that need none on their success path, built on their first refused call
    /// to list every problem (serde stops at the first).
    ///
    /// # Errors
    /// When the schema is not a valid JSON Schema (its error's text).
    pub(crate) fn compile_whole(schema: &Value) -> Result<Self, String> {
        jsonschema::options()
            .should_validate_formats(true)
            .build(schema)
            .map(|validator| Self {
                validator,
                schema: schema.clone(),
            })
            .map_err(|err| format!("its input schema is not a valid JSON Schema: {err}"))
    }

    /// Checks `input` (the raw JSON object of the call's `field`): every problem, each
    /// with its path, in words (see `problems.rs`).
    ///
    /// # Errors
    /// The text the agent sees when the input breaks the schema.
    pub(crate) fn check(&self, input: &str, field: &str) -> Result<(), String> {
        let value: Value = crate::json::from_str_with_path(input, Some(field))?;
        let problems = self.problems(&value, field);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.into_message())
        }
    }

    /// Every problem of `value`, the call's `field`.
    pub(crate) fn problems(&self, value: &Value, field: &str) -> Problems {
        Problems::gather(
            self.validator.iter_errors(value),
            &self.schema,
            value,
            field,
        )
    }
}

impl Tool {
    /// The answer to arguments serde refused (`serde_message`, its first problem): every
    /// problem the schema's validator finds, or, when it finds none (a custom
    /// `Deserialize` refused them), serde's message with Rust type names in words.
    pub(crate) fn explain_refusal(&self, input: &str, field: &str, serde_message: &str) -> String {
        let validator = self.constraints.as_deref().or_else(|| {
            self.whole
                .get_or_init(|| Constraints::compile_whole(&self.info.input_schema).ok())
                .as_ref()
        });
        if let (Some(validator), Ok(value)) = (validator, serde_json::from_str::<Value>(input)) {
            let problems = validator.problems(&value, field);
            if !problems.is_empty() {
                return problems.into_message();
            }
        }
        serde_words(serde_message)
    }

    /// `input` without the `null`s given for optional parameters (not `required` by the
    /// schema), which then read as their defaults, as an absent key does; `None` when
    /// there are none. Called only once the input was refused, so a tool whose parameter
    /// takes `null` itself (an `Option`) sees it unchanged.
    pub(crate) fn without_defaulted_nulls(&self, input: &str) -> Option<String> {
        let schema = &self.info.input_schema;
        let required = schema.get("required").and_then(Value::as_array);
        let is_required = |key: &str| required.is_some_and(|r| r.iter().any(|k| k == key));
        let Ok(Value::Object(mut args)) = serde_json::from_str::<Value>(input) else {
            return None;
        };
        let before = args.len();
        args.retain(|key, value| !value.is_null() || is_required(key));
        (args.len() != before).then(|| Value::Object(args).to_string())
    }
}

/// Whether a schema derived from Rust types states anything serde does not enforce: a
/// constraint keyword, a string format, or a range other than an integer type's own
/// (schemars writes `"format": "uint8", "minimum": 0, "maximum": 255` for a `u8`).
pub(crate) fn states_more_than_serde(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            if CONSTRAINTS.iter().any(|k| map.contains_key(*k)) {
                return true;
            }
            let format = map.get("format").and_then(Value::as_str);
            if let Some(format) = format {
                if integer_bounds(format).is_none() && !matches!(format, "float" | "double") {
                    return true;
                }
            }
            let bounds = format.and_then(integer_bounds);
            for (key, natural) in [
                ("minimum", bounds.map(|b| b.0)),
                ("maximum", bounds.map(|b| b.1)),
            ] {
                if let Some(given) = map.get(key) {
                    if natural.is_none_or(|natural| given.as_f64() != Some(natural)) {
                        return true;
                    }
                }
            }
            map.values().any(states_more_than_serde)
        }
        Value::Array(items) => items.iter().any(states_more_than_serde),
        _ => false,
    }
}

/// The range of the integer type schemars names by `format`, as floats (what JSON
/// numbers compare as).
#[allow(clippy::cast_precision_loss)]
fn integer_bounds(format: &str) -> Option<(f64, f64)> {
    Some(match format {
        "int8" => (f64::from(i8::MIN), f64::from(i8::MAX)),
        "int16" => (f64::from(i16::MIN), f64::from(i16::MAX)),
        "int32" => (f64::from(i32::MIN), f64::from(i32::MAX)),
        "int64" | "int" => (i64::MIN as f64, i64::MAX as f64),
        "int128" => (i128::MIN as f64, i128::MAX as f64),
        "uint8" => (0.0, f64::from(u8::MAX)),
        "uint16" => (0.0, f64::from(u16::MAX)),
        "uint32" => (0.0, f64::from(u32::MAX)),
        "uint64" | "uint" => (0.0, u64::MAX as f64),
        "uint128" => (0.0, u128::MAX as f64),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_types_and_enums_need_no_validator() {
        for schema in [
            json!({"type": "object", "properties": {"n": {"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255}}}),
            json!({"type": "integer", "format": "uint32", "minimum": 0}),
            json!({"type": "integer", "format": "int64"}),
            json!({"type": "number", "format": "double"}),
            json!({"type": "string", "enum": ["a", "b"]}),
            json!({"anyOf": [{"type": "string"}, {"type": "null"}]}),
        ] {
            assert!(!states_more_than_serde(&schema), "{schema}");
        }
    }

    #[test]
    fn constraints_need_one() {
        for schema in [
            json!({"type": "string", "format": "email"}),
            json!({"type": "integer", "format": "uint32", "minimum": 1, "maximum": 100}),
            json!({"type": "number", "format": "double", "maximum": 1.5}),
            json!({"type": "string", "minLength": 3}),
            json!({"type": "array", "items": {"type": "string", "pattern": "^a"}}),
            json!({"type": "object", "properties": {"x": {"type": "array", "uniqueItems": true}}}),
        ] {
            assert!(states_more_than_serde(&schema), "{schema}");
        }
    }

    #[test]
    fn every_problem_is_named_with_its_path() {
        let schema = json!({
            "type": "object",
            "properties": {
                "email": {"type": "string", "format": "email"},
                "seats": {"type": "integer", "minimum": 1, "maximum": 100},
                "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string", "minLength": 3}}}}
            }
        });
        let constraints = Constraints::compile(&schema, SchemaSource::Derived)
            .unwrap()
            .unwrap();
        assert_eq!(
            constraints.check(r#"{"email": "sarah@acme.com", "seats": 5}"#, "arguments"),
            Ok(())
        );
        let err = constraints
            .check(
                r#"{"email": "not-an-email", "seats": 1000, "lines": [{"sku": "ab"}]}"#,
                "arguments",
            )
            .unwrap_err();
        assert_eq!(
            err,
            "arguments.email: \"not-an-email\" is not an email address; \
             arguments.seats: 1000 is above the maximum of 100; \
             arguments.lines[0].sku: \"ab\" is shorter than 3 characters"
        );
    }

    #[test]
    fn an_invalid_schema_is_reported() {
        let err = Constraints::compile(&json!({"type": 5}), SchemaSource::HandWritten).unwrap_err();
        assert!(
            err.starts_with("its input schema is not a valid JSON Schema"),
            "{err}"
        );
    }
}
