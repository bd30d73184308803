//! Stage 1, parse: the arguments of `#[pillar::tool(...)]`.
//!
//! The list is split into `key = value` items by darling's [`NestedMeta`]; each key is then
//! matched here so that unknown and duplicate keys are reported on the key itself, and each
//! value is checked on the value itself. Every problem goes into the [`Ctxt`]; a key whose
//! value is wrong is left unset, so the rest of the expansion can still run its checks.

use darling::ast::NestedMeta;
use darling::util::path_to_string;
use darling::FromMeta;
use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Expr, Lit, LitStr, Meta, Path};

use crate::ctxt::Ctxt;

/// Every key the attribute accepts, in the order the docs list them.
const KEYS: &[&str] = &[
    "description",
    "name",
    "guidance",
    "timeout_ms",
    "channels",
    "output_schema",
    "crate",
];

/// The channel names a tool may be limited to (`*` is every channel). A copy of the
/// runtime's `Channel::KNOWN` (`pillar/src/tool/context.rs`), which this crate cannot
/// depend on: `pillar/src/__private.rs` fails to compile when the two differ.
pub(crate) const CHANNELS: &[&str] = &["web", "slack", "discord", "email", "api", "mcp", "*"];

/// The parsed arguments. A key that was absent, or whose value was rejected, is `None`.
#[derive(Default)]
pub(crate) struct ToolAttr {
    /// `description = "..."`, or a macro that makes a string (`concat!`, `include_str!`).
    pub(crate) description: Option<Expr>,
    /// `name = "..."`, already checked against the name pattern.
    pub(crate) name: Option<LitStr>,
    /// `guidance = "..."`.
    pub(crate) guidance: Option<LitStr>,
    /// `timeout_ms = 60_000` (checked > 0 here), or a constant expression (checked by a
    /// `const` assertion in the expansion).
    pub(crate) timeout_ms: Option<Timeout>,
    /// `channels = ["web", ...]` (each checked here), or a constant (checked by a `const`
    /// assertion in the expansion).
    pub(crate) channels: Option<Channels>,
    /// The span of the `output_schema` flag, when present.
    pub(crate) output_schema: Option<Span>,
    /// `crate = path` or `crate = "path"`.
    pub(crate) krate: Option<Path>,
}

/// Parses the attribute's arguments, reporting every problem into `cx`.
pub(crate) fn parse(cx: &Ctxt, args: TokenStream) -> ToolAttr {
    let mut attr = ToolAttr::default();
    let items = match NestedMeta::parse_meta_list(args) {
        Ok(items) => items,
        Err(err) => {
            cx.syn_error(err);
            return attr;
        }
    };

    let mut seen: Vec<String> = Vec::new();
    for item in &items {
        let meta = match item {
            NestedMeta::Meta(meta) => meta,
            NestedMeta::Lit(lit) => {
                cx.error_spanned_by(
                    lit,
                    "expected `key = value`, such as `description = \"...\"`",
                );
                continue;
            }
        };
        let key = path_to_string(meta.path());
        if !KEYS.contains(&key.as_str()) {
            cx.error_spanned_by(meta.path(), unknown_key_message(&key));
            continue;
        }
        if seen.contains(&key) {
            cx.error_spanned_by(
                meta.path(),
                format_args!("duplicate key `{key}`: each key may be given once"),
            );
            continue;
        }
        seen.push(key.clone());

        match key.as_str() {
            "description" => attr.description = description(cx, meta),
            "guidance" => attr.guidance = non_empty_string(cx, meta, &key),
            "name" => attr.name = name(cx, meta),
            "timeout_ms" => attr.timeout_ms = timeout_ms(cx, meta),
            "channels" => attr.channels = channels(cx, meta),
            "output_schema" => attr.output_schema = flag(cx, meta, &key),
            "crate" => attr.krate = crate_path(cx, meta),
            _ => {}
        }
    }
    attr
}

/// "unknown key", with a suggestion when the key is a likely typo, and the list of keys.
fn unknown_key_message(key: &str) -> String {
    let expected = KEYS
        .iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let close = |known: &&&str| {
        edit_distance(key, known) <= 2 || (key.len() >= 4 && known.starts_with(key))
    };
    match KEYS.iter().find(close) {
        Some(known) => format!(
            "unknown key `{key}` in `#[pillar::tool]`: did you mean `{known}`? \
             (expected one of {expected})"
        ),
        None => format!("unknown key `{key}` in `#[pillar::tool]`: expected one of {expected}"),
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(current).min(row[j])
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// The value of a `key = value` item, or an error on the item when it has another form.
fn value<'a>(cx: &Ctxt, meta: &'a Meta, key: &str, example: &str) -> Option<&'a Expr> {
    match meta {
        Meta::NameValue(nv) => Some(strip_groups(&nv.value)),
        _ => {
            cx.error_spanned_by(meta, format_args!("expected `{key} = {example}`"));
            None
        }
    }
}

/// Looks through the invisible groups a `macro_rules!` expansion may wrap a value in.
fn strip_groups(mut expr: &Expr) -> &Expr {
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    expr
}

/// A string literal value.
fn string(cx: &Ctxt, meta: &Meta, key: &str) -> Option<LitStr> {
    let expr = value(cx, meta, key, "\"...\"")?;
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit.clone()),
        _ => {
            cx.error_spanned_by(
                expr,
                format_args!("`{key}` must be a string literal: `{key} = \"...\"`"),
            );
            None
        }
    }
}

/// A string literal value that is not blank.
fn non_empty_string(cx: &Ctxt, meta: &Meta, key: &str) -> Option<LitStr> {
    let lit = string(cx, meta, key)?;
    if lit.value().trim().is_empty() {
        cx.error_spanned_by(&lit, format_args!("`{key}` must not be empty"));
        return None;
    }
    Some(lit)
}

/// `description = "..."` (not empty), or a macro that makes a string at compile time
/// (`concat!(...)`, `include_str!("tool.md")`), whose emptiness `build()` checks.
fn description(cx: &Ctxt, meta: &Meta) -> Option<Expr> {
    let expr = value(cx, meta, "description", "\"...\"")?;
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(_), ..
        }) => non_empty_string(cx, meta, "description").map(|lit| syn::parse_quote!(#lit)),
        Expr::Macro(_) => Some(expr.clone()),
        _ => {
            cx.error_spanned_by(
                expr,
                "`description` must be a string, such as `description = \"...\"`, or a \
                 macro that makes one (`concat!(...)`, `include_str!(\"tool.md\")`)",
            );
            None
        }
    }
}

/// `name = "..."`: a tool name the Pillar Cloud accepts.
fn name(cx: &Ctxt, meta: &Meta) -> Option<LitStr> {
    let lit = string(cx, meta, "name")?;
    let value = lit.value();
    if !is_valid_name(&value) {
        cx.error_spanned_by(&lit, invalid_name_message(&value));
        return None;
    }
    Some(lit)
}

/// Whether `name` matches `^[a-zA-Z_][a-zA-Z0-9_.\-:]{0,63}$`.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | ':'))
}

/// The error for a name that breaks the pattern.
pub(crate) fn invalid_name_message(name: &str) -> String {
    format!(
        "invalid tool name `{name}`: a name starts with an ASCII letter or `_`, \
         continues with ASCII letters, digits, `_`, `.`, `-` or `:`, \
         and has at most 64 characters"
    )
}

/// A tool's timeout as written.
pub(crate) enum Timeout {
    /// An integer literal, checked here.
    Literal(u64),
    /// A constant expression (`60 * 1000`, `TIMEOUT_MS`), checked by the compiler: a
    /// `u64` above 0.
    Const(Expr),
}

/// `timeout_ms = 60_000`: an integer literal greater than zero that fits a `u64`, or a
/// constant expression of type `u64` (a `const`, an arithmetic expression), which the
/// expansion checks at compile time.
fn timeout_ms(cx: &Ctxt, meta: &Meta) -> Option<Timeout> {
    const HINT: &str =
        "`timeout_ms` must be a whole number of milliseconds greater than 0, such as `timeout_ms = 60_000`";
    let expr = value(cx, meta, "timeout_ms", "60_000")?;
    let int = match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(int), ..
        }) => int,
        Expr::Lit(_) | Expr::Array(_) | Expr::Tuple(_) | Expr::Range(_) | Expr::Closure(_) => {
            cx.error_spanned_by(expr, HINT);
            return None;
        }
        _ => return Some(Timeout::Const(expr.clone())),
    };
    if int.base10_digits().starts_with('-') {
        cx.error_spanned_by(int, HINT);
        return None;
    }
    if !matches!(int.suffix(), "" | "u64") {
        cx.error_spanned_by(
            int,
            "`timeout_ms` is a `u64`: drop the suffix, or write `u64`",
        );
        return None;
    }
    match int.base10_parse::<u64>() {
        Ok(0) => {
            cx.error_spanned_by(int, HINT);
            None
        }
        Ok(ms) => Some(Timeout::Literal(ms)),
        Err(_) => {
            cx.error_spanned_by(int, "`timeout_ms` does not fit in a `u64`");
            None
        }
    }
}

/// A tool's channels as written.
pub(crate) enum Channels {
    /// An array of string literals, checked here.
    Literal(Vec<LitStr>),
    /// A constant of type `&[&str]` or `[&str; N]` (`CHANNELS`, `my::CHANNELS`, a block),
    /// checked when the program compiles: not empty, every entry a known channel, none
    /// twice.
    Const(Expr),
}

/// The channel names, quoted and joined, for messages.
fn allowed_channels() -> String {
    CHANNELS
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `channels = ["web", "slack"]`: a non-empty array of known channel names; or a constant
/// (`channels = CHANNELS`), which the expansion checks at compile time.
fn channels(cx: &Ctxt, meta: &Meta) -> Option<Channels> {
    let allowed = allowed_channels();
    let expr = value(cx, meta, "channels", "[\"web\", \"slack\"]")?;
    let array = match expr {
        Expr::Array(array) => array,
        Expr::Lit(_) | Expr::Tuple(_) | Expr::Range(_) | Expr::Closure(_) => {
            cx.error_spanned_by(
                expr,
                format_args!("`channels` must be an array of channel names, such as `channels = [\"web\", \"slack\"]`, or a constant of type `&[&str]`; the channels are {allowed}"),
            );
            return None;
        }
        _ => return Some(Channels::Const(expr.clone())),
    };
    if array.elems.is_empty() {
        cx.error_spanned_by(
            array,
            format_args!("`channels` must not be empty: list the channels that may call this tool ({allowed}), or leave `channels` out for all of them"),
        );
        return None;
    }

    let mut ok = true;
    let mut channels: Vec<LitStr> = Vec::new();
    for elem in &array.elems {
        let lit = match strip_groups(elem) {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => lit,
            other => {
                cx.error_spanned_by(
                    other,
                    format_args!("expected a channel name as a string literal: one of {allowed}"),
                );
                ok = false;
                continue;
            }
        };
        let channel = lit.value();
        if !CHANNELS.contains(&channel.as_str()) {
            cx.error_spanned_by(
                lit,
                format_args!("unknown channel `{channel}`: expected one of {allowed}"),
            );
            ok = false;
        } else if channels.iter().any(|seen| seen.value() == channel) {
            cx.error_spanned_by(lit, format_args!("channel `{channel}` is listed twice"));
            ok = false;
        } else {
            channels.push(lit.clone());
        }
    }
    ok.then_some(Channels::Literal(channels))
}

/// A bare flag such as `output_schema`.
fn flag(cx: &Ctxt, meta: &Meta, key: &str) -> Option<Span> {
    match meta {
        Meta::Path(path) => Some(path.span()),
        _ => {
            cx.error_spanned_by(
                meta,
                format_args!("`{key}` is a flag and takes no value: write `{key}` alone"),
            );
            None
        }
    }
}

/// `crate = path` or `crate = "path"`.
fn crate_path(cx: &Ctxt, meta: &Meta) -> Option<Path> {
    let expr = value(cx, meta, "crate", "path::to::pillar")?;
    match Path::from_expr(expr) {
        Ok(path) => Some(path),
        Err(_) => {
            cx.error_spanned_by(
                expr,
                "`crate` must be the path the `pillar` crate is reachable at, such as `crate = my_pillar` or `crate = \"my_pillar\"`",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["a", "_", "search_orders", "a.b-c:d", "A9", &"x".repeat(64)] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in ["", "9a", "-a", "a b", "a/b", "café", &"x".repeat(65)] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("descripton", "description"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert!(unknown_key_message("timeout").contains("did you mean `timeout_ms`"));
        assert!(!unknown_key_message("colour").contains("did you mean"));
    }
}
