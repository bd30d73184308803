//! The webhook bodies Pillar Cloud sends, as `pillar call` and `pillar dev` build them.

use serde_json::{json, Map, Value};

/// The protocol's `tool_call` (`confirm` false: `input` is the `arguments`) or
/// `tool_confirm` (`confirm` true: `input` is the `confirm_payload`, and `confirmed` is
/// true), with `caller` only when it has a field.
pub(crate) fn webhook_body(
    confirm: bool,
    tool: &str,
    call_id: &str,
    input: Value,
    conversation_id: &str,
    caller: Map<String, Value>,
) -> Value {
    let mut body = Map::new();
    let action = if confirm { "tool_confirm" } else { "tool_call" };
    body.insert("action".to_owned(), json!(action));
    body.insert("tool_name".to_owned(), json!(tool));
    body.insert("call_id".to_owned(), json!(call_id));
    if confirm {
        body.insert("confirm_payload".to_owned(), input);
        body.insert("confirmed".to_owned(), json!(true));
    } else {
        body.insert("arguments".to_owned(), input);
    }
    body.insert("conversation_id".to_owned(), json!(conversation_id));
    if !caller.is_empty() {
        body.insert("caller".to_owned(), Value::Object(caller));
    }
    Value::Object(body)
}

/// The channels a call may come from, as Pillar Cloud sends them: the names of
/// [`Channel::KNOWN`](pillar::Channel::KNOWN) that Pillar Cloud knows, without `*` (every
/// channel, which a tool lists but no call comes from). `pillar call --channel` accepts
/// them and `pillar dev`'s console offers them.
pub(crate) fn caller_channels() -> Vec<&'static str> {
    pillar::Channel::KNOWN
        .iter()
        .filter(|channel| channel.cloud && channel.name != "*")
        .map(|channel| channel.name)
        .collect()
}

/// A fresh call id, `tc_` and 16 hex digits, as Pillar Cloud makes them.
pub(crate) fn fresh_call_id() -> String {
    format!("tc_{:016x}", fastrand::u64(..))
}
