//! JSON decoding whose errors say where: `arguments.role: unknown variant ...`.

/// Deserialises `json` with plain serde_json (the fast path); only when that fails, once
/// more with path tracking, to say where the error is.
pub(crate) fn from_json_with_path<'de, T: serde::Deserialize<'de>>(
    json: &'de [u8],
    field: Option<&str>,
) -> Result<T, String> {
    with_path(|| serde_json::de::SliceRead::new(json), field)
}

/// [`from_json_with_path`] for a document already known to be UTF-8 (the arguments,
/// borrowed from the parsed envelope): serde_json then skips validating its strings
/// again, one pass less over a large argument.
pub(crate) fn from_str_with_path<'de, T: serde::Deserialize<'de>>(
    json: &'de str,
    field: Option<&str>,
) -> Result<T, String> {
    with_path(|| serde_json::de::StrRead::new(json), field)
}

fn with_path<'de, R, T>(read: impl Fn() -> R, field: Option<&str>) -> Result<T, String>
where
    R: serde_json::de::Read<'de>,
    T: serde::Deserialize<'de>,
{
    let mut de = serde_json::Deserializer::new(read());
    if let Ok(value) = T::deserialize(&mut de) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::new(read());
    serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|err| describe_error(field, &err))
}

/// `field.path: message`, without serde_json's line and column (the path says more to a
/// model than a position in a one-line document).
pub(crate) fn describe_error(
    field: Option<&str>,
    err: &serde_path_to_error::Error<serde_json::Error>,
) -> String {
    let inner = err.inner();
    let text = inner.to_string();
    let position = format!(" at line {} column {}", inner.line(), inner.column());
    let message = text.strip_suffix(&position).unwrap_or(&text);
    let path = err.path().to_string();
    match (field, path.as_str()) {
        (None, ".") => message.to_owned(),
        (None, path) => format!("{path}: {message}"),
        (Some(field), ".") => format!("{field}: {message}"),
        (Some(field), path) => format!("{field}.{path}: {message}"),
    }
}

/// What a JSON document is, by its first byte, for error messages ("found an array").
pub(crate) fn json_kind(json: &str) -> &'static str {
    match json.as_bytes().first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}
