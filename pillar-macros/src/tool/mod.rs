//! `#[pillar::tool]`: parse the attribute ([`attr`]), check the signature ([`check`]),
//! generate the registration ([`expand`]).

mod attr;
mod check;
mod expand;

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::{Item, ItemFn, Path, Type};

use crate::ctxt::Ctxt;
use attr::ToolAttr;
use check::Ret;

/// Expands `#[pillar::tool(attr)] item`.
///
/// Never fails as a whole: the problems found are emitted as `compile_error!`s beside the
/// user's function, which is always re-emitted (without the parameter attributes the macro
/// consumes) so that one mistake does not cascade into "cannot find function" errors.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let args = attr::parse(&cx, attr);

    let mut func: ItemFn = match syn::parse2::<Item>(item) {
        Ok(Item::Fn(func)) => func,
        other => {
            cx.error_at(
                Span::call_site(),
                "`#[pillar::tool]` can only be applied to an `async fn`",
            );
            let item = other.ok();
            let errors = cx.into_compile_errors();
            return quote!(#item #errors);
        }
    };

    let sig = check::signature(&cx, &mut func);
    let name = tool_name(&cx, &args, &func);
    let description = description(&cx, &args, &func);
    let output = output_type(&args, &sig.ret);

    let (Some(name), Some(description), true) = (name, description, cx.is_ok()) else {
        let errors = cx.into_compile_errors();
        return quote!(#func #errors);
    };

    let krate: Path = args.krate.unwrap_or_else(|| syn::parse_quote!(::pillar));
    let tool = expand::Tool {
        krate: &krate,
        func: &func,
        sig: &sig,
        name,
        description,
        guidance: args.guidance,
        timeout_ms: args
            .timeout_ms
            .unwrap_or(attr::Timeout::Literal(DEFAULT_TIMEOUT_MS)),
        channels: match args.channels {
            Some(channels) => channels.iter().map(|lit| lit.value()).collect(),
            None => vec!["*".to_owned()],
        },
        output,
    };
    let generated = expand::generate(&tool);
    // A tool is an `async fn` even when it awaits nothing (the runner awaits it under a
    // timeout): clippy's `unused_async` does not apply.
    let mut func = func;
    func.attrs
        .push(syn::parse_quote!(#[allow(clippy::unused_async)]));
    quote!(#func #generated)
}

/// The timeout when the attribute sets none.
const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// `name = "..."`, or the function's name (without `r#`), which must fit the pattern too.
fn tool_name(cx: &Ctxt, args: &ToolAttr, func: &ItemFn) -> Option<String> {
    if let Some(name) = &args.name {
        return Some(name.value());
    }
    let name = func.sig.ident.unraw().to_string();
    if attr::is_valid_name(&name) {
        Some(name)
    } else {
        cx.error_spanned_by(
            &func.sig.ident,
            format!(
                "{}; set a valid one with `name = \"...\"`",
                attr::invalid_name_message(&name)
            ),
        );
        None
    }
}

/// `description = ...`, or the function's doc comment (`#[doc = include_str!(..)]`
/// lines included); one of them is required. An expression of type `&'static str`.
fn description(cx: &Ctxt, args: &ToolAttr, func: &ItemFn) -> Option<TokenStream> {
    if let Some(description) = &args.description {
        return Some(description.to_token_stream());
    }
    if let Some(docs) = check::doc_expr(&func.attrs) {
        return Some(docs);
    }
    cx.error_spanned_by(
        &func.sig.ident,
        format_args!(
            "tool `{}` has no description: add a doc comment or `description = \"...\"`",
            func.sig.ident.unraw()
        ),
    );
    None
}

/// With `output_schema`, the return type: the compiler takes its `outputSchema` from the
/// `Ok` type of a `Result` (through any alias), or from the type itself.
fn output_type(args: &ToolAttr, ret: &Ret) -> Option<Type> {
    args.output_schema?;
    Some(ret.0.clone())
}

#[cfg(test)]
mod tests;
