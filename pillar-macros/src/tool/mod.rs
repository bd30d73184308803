//! `#[pillar::tool]`: parse the attribute ([`attr`]), check the signature ([`check`]),
//! generate the registration ([`expand`]).

mod attr;
mod check;
mod expand;
mod hints;
mod placement;

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use std::path::Path as FilePath;
use syn::ext::IdentExt;

use syn::{FnArg, Item, ItemFn, Path, TraitItemFn, Type};

use crate::ctxt::Ctxt;
use attr::ToolAttr;
use check::Ret;

/// The channel names the attribute accepts, as an array expression
/// (`["web", ..., "*"]`): what `pillar_macros::__channel_names!()` expands to, which the
/// runtime compares with its own list when it compiles.
pub(crate) fn channel_names() -> TokenStream {
    let names = attr::CHANNELS;
    quote!([#(#names),*])
}

/// Expands `#[pillar::tool(attr)] item`.
///
/// Never fails as a whole: the problems found are emitted as `compile_error!`s beside the
/// user's function, which is always re-emitted (without the parameter attributes the macro
/// consumes) so that one mistake does not cascade into "cannot find function" errors.
///
/// `file` is the source file the attribute is in, when the compiler tells: it shows
/// whether the function sits in an `impl` or trait block (see [`placement`]).
pub(crate) fn expand(attr: TokenStream, item: TokenStream, file: Option<&FilePath>) -> TokenStream {
    let cx = Ctxt::new();
    let args = attr::parse(&cx, attr);

    let mut func: ItemFn = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => func,
        other => {
            match syn::parse2::<TraitItemFn>(item) {
                // A declaration without a body: a trait method.
                Ok(method) if method.default.is_none() => cx.error_spanned_by(
                    &method.sig.ident,
                    placement::message(Some(placement::Block::Trait), &method.sig.ident),
                ),
                _ => cx.error_at(
                    Span::call_site(),
                    "`#[pillar::tool]` can only be applied to an `async fn`",
                ),
            }
            let item = other.ok();
            let errors = cx.into_compile_errors();
            return quote!(#item #errors);
        }
    };

    // In an `impl` or trait block (a `self` receiver is reported by the signature check).
    let has_receiver = matches!(func.sig.inputs.first(), Some(FnArg::Receiver(_)));
    if !has_receiver {
        let ident = &func.sig.ident;
        if let Some(block) = placement::block_in_file(file, ident) {
            cx.error_spanned_by(ident, placement::message(Some(block), ident));
        } else if let Some(span) = placement::uses_self(&func) {
            cx.error_at(span, placement::message(None, ident));
        }
    }

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
        channels: args.channels.unwrap_or_else(|| {
            attr::Channels::Literal(vec![syn::LitStr::new("*", Span::call_site())])
        }),
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
