//! What Pillar Cloud checks in a registration (PROTOCOL.md section 1), and what an agent
//! would stumble on in one: [`review_registration`]. [`MockCloud`](crate::testing::MockCloud) and
//! the `pillar dev` command answer registrations with it.

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::tool::context::Channel;
use crate::tool::{is_valid_name, NAME_PATTERN};

/// What [`review_registration`] found in a registration body.
///
/// `errors` make Pillar Cloud refuse the registration (answered 400
/// `{"error": "invalid_registration", "message": ...}`, the errors joined with `; `);
/// `warnings` are accepted but worth fixing: each says what an agent would stumble on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistrationReview {
    /// Why the registration is refused; empty when it is accepted.
    pub errors: Vec<String>,
    /// What the agent would stumble on, tool by tool.
    pub warnings: Vec<RegistrationWarning>,
}

/// A registration warning: a tool (or the registration as a whole) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistrationWarning {
    /// The tool's name; `None` for the registration as a whole.
    pub tool: Option<String>,
    /// What is wrong, as a sentence.
    pub message: String,
}

impl fmt::Display for RegistrationWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tool {
            Some(tool) => write!(f, "{tool}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl RegistrationReview {
    /// Whether Pillar Cloud would accept the registration (no errors).
    #[must_use]
    pub fn is_accepted(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors as one message, `"; "`-separated.
    #[must_use]
    pub fn message(&self) -> String {
        self.errors.join("; ")
    }

    fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    fn warn(&mut self, tool: Option<&str>, message: impl Into<String>) {
        self.warnings.push(RegistrationWarning {
            tool: tool.map(str::to_owned),
            message: message.into(),
        });
    }
}

/// Checks a registration body (`POST /api/tools/register/`) as Pillar Cloud does: an
/// `endpoint_url` with an `http` or `https` scheme, `sdk_version` a string, every tool
/// with a valid and unique name ([`NAME_PATTERN`]), a string description, an object
/// `inputSchema` with `"type": "object"`, a positive integer `timeout_ms`, known channels
/// (the names of [`Channel::KNOWN`] that Pillar Cloud knows, `*` among them), `tool_type` `"server_side"`, optional `guidance` (a string) and
/// `outputSchema` (an object), and skills with a name, a description and content.
///
/// It also warns of what an agent would stumble on: a tool or a parameter without a
/// description, an empty input schema, a `$ref` (which many models do not follow),
/// a registration without tools.
///
/// ```
/// use pillar::protocol::review_registration;
/// use serde_json::json;
///
/// let review = review_registration(&json!({
///     "endpoint_url": "http://127.0.0.1:8787/",
///     "sdk_version": "pillar-rust/1.0.0",
///     "tools": [{
///         "name": "lookup", "description": "",
///         "inputSchema": {"type": "object", "properties": {"email": {"type": "string"}}},
///         "timeout_ms": 30000, "channel_compatibility": ["*"], "tool_type": "server_side"
///     }]
/// }));
/// assert!(review.is_accepted());
/// let warnings: Vec<String> = review.warnings.iter().map(ToString::to_string).collect();
/// assert_eq!(warnings, [
///     "lookup: the tool has no description: the agent cannot tell when to call it",
///     "lookup: parameter `email` has no description",
/// ]);
///
/// let refused = review_registration(&json!({"endpoint_url": "ftp://x", "tools": []}));
/// assert_eq!(refused.message(), "`endpoint_url` must be an http or https URL, found \"ftp://x\"; \
///     `sdk_version` is missing");
/// ```
#[must_use]
pub fn review_registration(body: &Value) -> RegistrationReview {
    let mut review = RegistrationReview::default();
    let Some(body) = body.as_object() else {
        review.error(format!(
            "the body must be a JSON object, found {}",
            kind(body)
        ));
        return review;
    };
    match body.get("endpoint_url") {
        Some(Value::String(url)) if is_http_url(url) => {}
        Some(Value::String(url)) => review.error(format!(
            "`endpoint_url` must be an http or https URL, found {url:?}"
        )),
        Some(other) => review.error(format!(
            "`endpoint_url` must be a string, found {}",
            kind(other)
        )),
        None => review.error("`endpoint_url` is missing"),
    }
    match body.get("sdk_version") {
        Some(Value::String(_)) => {}
        Some(other) => review.error(format!(
            "`sdk_version` must be a string, found {}",
            kind(other)
        )),
        None => review.error("`sdk_version` is missing"),
    }
    match body.get("tools") {
        Some(Value::Array(tools)) => {
            if tools.is_empty() {
                review.warn(None, "the registration lists no tools");
            }
            let mut seen = HashSet::new();
            for (index, tool) in tools.iter().enumerate() {
                review_tool(&mut review, index, tool, &mut seen);
            }
        }
        Some(other) => review.error(format!("`tools` must be an array, found {}", kind(other))),
        None => review.error("`tools` is missing"),
    }
    match body.get("skills") {
        None => {}
        Some(Value::Array(skills)) => {
            for (index, skill) in skills.iter().enumerate() {
                review_skill(&mut review, index, skill);
            }
        }
        Some(other) => review.error(format!("`skills` must be an array, found {}", kind(other))),
    }
    review
}

fn review_tool(
    review: &mut RegistrationReview,
    index: usize,
    tool: &Value,
    seen: &mut HashSet<String>,
) {
    let Some(tool) = tool.as_object() else {
        review.error(format!(
            "tools[{index}] must be an object, found {}",
            kind(tool)
        ));
        return;
    };
    let name = match tool.get("name") {
        Some(Value::String(name)) if is_valid_name(name) => {
            if !seen.insert(name.clone()) {
                review.error(format!(
                    "tools[{index}]: the name `{name}` is registered twice"
                ));
            }
            name.as_str()
        }
        Some(Value::String(name)) => {
            review.error(format!(
                "tools[{index}]: the name {name:?} does not match {NAME_PATTERN}"
            ));
            return;
        }
        Some(other) => {
            review.error(format!(
                "tools[{index}].name must be a string, found {}",
                kind(other)
            ));
            return;
        }
        None => {
            review.error(format!("tools[{index}].name is missing"));
            return;
        }
    };
    let at = |field: &str| format!("tool `{name}`: `{field}`");
    match tool.get("description") {
        Some(Value::String(text)) if text.trim().is_empty() => review.warn(
            Some(name),
            "the tool has no description: the agent cannot tell when to call it",
        ),
        Some(Value::String(_)) => {}
        Some(other) => review.error(format!(
            "{} must be a string, found {}",
            at("description"),
            kind(other)
        )),
        None => review.error(format!("{} is missing", at("description"))),
    }
    match tool.get("inputSchema") {
        Some(Value::Object(schema)) => {
            if schema.is_empty() {
                review.warn(
                    Some(name),
                    "the input schema is empty: the agent does not know what to send",
                );
            } else if schema.get("type") != Some(&Value::from("object")) {
                review.error(format!(
                    "{} must have \"type\": \"object\"",
                    at("inputSchema")
                ));
            }
            review_parameters(review, name, schema, "");
            if schema
                .iter()
                .any(|(key, value)| key == "$ref" || contains_ref(value))
            {
                review.warn(
                    Some(name),
                    "the input schema uses `$ref`: many models do not follow references; inline the definitions",
                );
            }
        }
        Some(other) => review.error(format!(
            "{} must be an object, found {}",
            at("inputSchema"),
            kind(other)
        )),
        None => review.error(format!("{} is missing", at("inputSchema"))),
    }
    match tool.get("outputSchema") {
        None | Some(Value::Object(_)) => {}
        Some(other) => review.error(format!(
            "{} must be an object, found {}",
            at("outputSchema"),
            kind(other)
        )),
    }
    match tool.get("guidance") {
        None | Some(Value::String(_)) => {}
        Some(other) => review.error(format!(
            "{} must be a string, found {}",
            at("guidance"),
            kind(other)
        )),
    }
    match tool.get("timeout_ms") {
        Some(Value::Number(n)) if n.as_u64().is_some_and(|ms| ms > 0) => {}
        Some(other) => review.error(format!(
            "{} must be a positive integer of milliseconds, found {other}",
            at("timeout_ms")
        )),
        None => review.error(format!("{} is missing", at("timeout_ms"))),
    }
    match tool.get("channel_compatibility") {
        Some(Value::Array(channels)) if !channels.is_empty() => {
            // Pillar Cloud's channels: a local-only one is not registered.
            let cloud = || Channel::KNOWN.iter().filter(|c| c.cloud).map(|c| c.name);
            for channel in channels {
                if !channel
                    .as_str()
                    .is_some_and(|c| cloud().any(|name| name == c))
                {
                    review.error(format!(
                        "{} lists {channel}, not one of {}",
                        at("channel_compatibility"),
                        cloud().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
        Some(other) => review.error(format!(
            "{} must be a non-empty array of channels, found {other}",
            at("channel_compatibility")
        )),
        None => review.error(format!("{} is missing", at("channel_compatibility"))),
    }
    match tool.get("tool_type") {
        Some(Value::String(t)) if t == "server_side" => {}
        Some(other) => review.error(format!(
            "{} must be \"server_side\", found {other}",
            at("tool_type")
        )),
        None => review.error(format!("{} is missing", at("tool_type"))),
    }
}

/// Warns of every parameter without a description, nested objects included (`prefix` is
/// the path so far, `a.b.`).
fn review_parameters(
    review: &mut RegistrationReview,
    tool: &str,
    schema: &Map<String, Value>,
    prefix: &str,
) {
    let Some(Value::Object(properties)) = schema.get("properties") else {
        return;
    };
    for (name, property) in properties {
        let path = format!("{prefix}{name}");
        let described = property
            .get("description")
            .and_then(Value::as_str)
            .is_some_and(|d| !d.trim().is_empty());
        if !described {
            review.warn(Some(tool), format!("parameter `{path}` has no description"));
        }
        if let Some(nested) = property.as_object() {
            review_parameters(review, tool, nested, &format!("{path}."));
        }
    }
}

fn review_skill(review: &mut RegistrationReview, index: usize, skill: &Value) {
    let Some(skill) = skill.as_object() else {
        review.error(format!(
            "skills[{index}] must be an object, found {}",
            kind(skill)
        ));
        return;
    };
    for field in ["name", "description", "content"] {
        match skill.get(field) {
            Some(Value::String(_)) => {}
            Some(other) => review.error(format!(
                "skills[{index}].{field} must be a string, found {}",
                kind(other)
            )),
            None => review.error(format!("skills[{index}].{field} is missing")),
        }
    }
}

fn contains_ref(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| key == "$ref" || contains_ref(value)),
        Value::Array(items) => items.iter().any(contains_ref),
        _ => false,
    }
}

/// `http://host...` or `https://host...` with a non-empty host: what a webhook URL needs.
fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains(char::is_whitespace)
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::review_registration;

    fn tool() -> serde_json::Value {
        json!({
            "name": "lookup", "description": "Look up",
            "inputSchema": {"type": "object", "properties": {"email": {"type": "string", "description": "Email"}}},
            "timeout_ms": 30000, "channel_compatibility": ["*"], "tool_type": "server_side"
        })
    }

    fn body(tools: serde_json::Value) -> serde_json::Value {
        json!({"endpoint_url": "https://api.example.com/pillar", "sdk_version": "pillar-rust/1", "tools": tools})
    }

    #[test]
    fn a_well_formed_registration_is_accepted_without_warnings() {
        let review = review_registration(&body(json!([tool()])));
        assert!(review.is_accepted(), "{review:?}");
        assert!(review.warnings.is_empty(), "{review:?}");
    }

    #[test]
    fn every_field_is_checked() {
        let mut bad = tool();
        bad["timeout_ms"] = json!(0);
        bad["channel_compatibility"] = json!(["web", "telegram"]);
        bad["tool_type"] = json!("client_side");
        bad["inputSchema"] = json!({"type": "array"});
        let mut twice = tool();
        twice["guidance"] = json!(7);
        let review = review_registration(&body(json!([bad, twice, {"name": "1x"}])));
        assert_eq!(
            review.errors,
            [
                "tool `lookup`: `inputSchema` must have \"type\": \"object\"",
                "tool `lookup`: `timeout_ms` must be a positive integer of milliseconds, found 0",
                "tool `lookup`: `channel_compatibility` lists \"telegram\", not one of web, slack, discord, email, api, *",
                "tool `lookup`: `tool_type` must be \"server_side\", found \"client_side\"",
                "tools[1]: the name `lookup` is registered twice",
                "tool `lookup`: `guidance` must be a string, found a number",
                "tools[2]: the name \"1x\" does not match ^[a-zA-Z_][a-zA-Z0-9_.\\-:]{0,63}$",
            ]
        );
    }

    #[test]
    fn refs_empty_schemas_and_nested_parameters_are_warned_of() {
        let mut with_ref = tool();
        with_ref["inputSchema"] = json!({"type": "object", "properties": {
            "address": {"type": "object", "description": "Where", "properties": {"city": {"type": "string"}}},
            "plan": {"$ref": "#/$defs/Plan", "description": "Plan"}
        }, "$defs": {"Plan": {"enum": ["a"]}}});
        let mut empty = tool();
        empty["name"] = json!("empty");
        empty["inputSchema"] = json!({});
        let review = review_registration(&body(json!([with_ref, empty])));
        assert!(review.is_accepted(), "{review:?}");
        let warnings: Vec<String> = review.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            [
                "lookup: parameter `address.city` has no description",
                "lookup: the input schema uses `$ref`: many models do not follow references; inline the definitions",
                "empty: the input schema is empty: the agent does not know what to send",
            ]
        );
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        assert_eq!(
            review_registration(&json!([1])).message(),
            "the body must be a JSON object, found an array"
        );
    }
}
