//! The wire form of a webhook request: reading `action` before the signature is checked,
//! and the payload of a verified `tool_call` or `tool_confirm`, parsed once and borrowing
//! from the body.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::json::from_json_with_path;
use crate::tool::context::CallerInfo;

/// Reads only `action`, before the signature is checked. Fails when the body is not
/// JSON. A JSON document that is not an object has no action.
pub(super) fn probe_action(body: &[u8]) -> Result<Option<Cow<'_, str>>, InvalidJson> {
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, default)]
        action: Option<&'a RawValue>,
    }

    // JSON is UTF-8 throughout; serde_json does not check the strings it skips.
    let text = std::str::from_utf8(body).map_err(|_| InvalidJson)?;
    let starts_object = text
        .bytes()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| b == b'{');
    if !starts_object {
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|_| InvalidJson)?;
        return Ok(None);
    }
    let probe: Probe<'_> = serde_json::from_str(text).map_err(|_| InvalidJson)?;
    Ok(probe.action.map(|raw| {
        serde_json::from_str::<Cow<'_, str>>(raw.get()).unwrap_or_else(|_| Cow::Borrowed(raw.get()))
    }))
}

/// The body is not JSON (or not UTF-8).
pub(super) struct InvalidJson;

/// The payload of a verified `tool_call` or `tool_confirm`.
#[derive(Deserialize)]
pub(super) struct Envelope<'a> {
    /// Read by the fast path; the careful path has read it already.
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    pub(super) action: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    pub(super) tool_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    pub(super) call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) arguments: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) confirm_payload: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    pub(super) conversation_id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) product_id: Option<String>,
    #[serde(default)]
    pub(super) confirmed: Option<bool>,
    #[serde(default)]
    pub(super) caller: Option<CallerInfo>,
}

/// An optional string that borrows from the body unless it has escapes (serde's own
/// `Option<Cow<str>>` always copies).
fn borrowed_str<'de: 'a, 'a, D>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Text<'a>(Cow<'a, str>);

    impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Cow<'de, str>;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string")
                }

                fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                    Ok(Cow::Borrowed(v))
                }

                fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(Cow::Owned(v.to_owned()))
                }

                fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                    Ok(Cow::Owned(v))
                }
            }
            deserializer.deserialize_str(Visit).map(Text)
        }
    }

    Ok(Option::<Text<'a>>::deserialize(deserializer)?.map(|text| text.0))
}

/// The fast path: a verified `tool_call` or `tool_confirm`, parsed once with plain
/// serde_json. `None` for anything else (another action, no action, any error), which
/// `Pillar::parse_unusual` then answers precisely.
///
/// Not inlined: inlined into its one caller, serde's visitor was generated less well
/// (about 360 instructions more per call in `bench/count_serve.sh`).
#[inline(never)]
pub(super) fn parse_call(body: &[u8]) -> Option<(Envelope<'_>, bool)> {
    // JSON is UTF-8 throughout; serde_json does not check the strings it skips.
    let text = std::str::from_utf8(body).ok()?;
    let mut envelope: Envelope<'_> = serde_json::from_str(text).ok()?;
    let confirm = match envelope.action.as_deref()? {
        "tool_call" => false,
        "tool_confirm" => true,
        _ => return None,
    };
    null_means_none(&mut envelope);
    Some((envelope, confirm))
}

/// `"arguments": null` reads as no arguments.
fn null_means_none(envelope: &mut Envelope<'_>) {
    for slot in [&mut envelope.arguments, &mut envelope.confirm_payload] {
        if slot.is_some_and(|raw| raw.get() == "null") {
            *slot = None;
        }
    }
}

pub(super) fn parse_envelope(body: &[u8]) -> Result<Envelope<'_>, String> {
    let mut envelope: Envelope<'_> = from_json_with_path(body, None)?;
    null_means_none(&mut envelope);
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_parsed_without_copying_its_strings() {
        let body =
            br#"{"action":"tool_call","tool_name":"t","call_id":"tc_1","conversation_id":"c"}"#;
        let (envelope, confirm) = parse_call(body).unwrap();
        assert!(!confirm);
        for field in [
            envelope.action,
            envelope.tool_name,
            envelope.call_id,
            envelope.conversation_id,
        ] {
            assert!(matches!(field, Some(Cow::Borrowed(_))), "{field:?}");
        }
        // A string with an escape is unescaped into a copy.
        let body = br#"{"action":"tool_call","call_id":"tc_\u0031\n","tool_name":null}"#;
        let (envelope, _) = parse_call(body).unwrap();
        assert_eq!(envelope.call_id.as_deref(), Some("tc_1\n"));
        assert!(envelope.tool_name.is_none());
        assert!(parse_call(br#"{"action":"tool_call","call_id":5}"#).is_none());
    }
}
