//! Stage 2, check: the rules a tool function's signature must follow.
//!
//! One function per rule, each reporting into the [`Ctxt`] with the span of the offending
//! token. [`signature`] runs them all and returns what the expansion needs; it also strips
//! the parameter attributes the macro consumes (`///`, `#[serde]`, `#[schemars]`,
//! `#[pillar]`) from the function, which is re-emitted whether or not the checks pass.
//!
//! Types are never recognised by name here (a renamed or re-exported `ToolContext` or
//! `Option` must keep working): the context parameter is found by its shape (`&T`), and
//! the compiler checks the types through the `assert_*` calls of the expansion.

use proc_macro2::Span;
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ItemFn, Lifetime, Meta, Pat, PatType, PathArguments,
    Receiver, ReturnType, Signature, Token, Type, TypeImplTrait, TypeReference,
};

use crate::ctxt::Ctxt;

/// What the expansion needs to know about a checked signature.
pub(crate) struct ToolSig {
    /// The parameters, in declaration order.
    pub(crate) params: Vec<Param>,
    /// The return type.
    pub(crate) ret: Ret,
}

/// One parameter of the tool function.
pub(crate) enum Param {
    /// A parameter read from the JSON input.
    Json(JsonParam),
    /// The context parameter `&T`; holds `T`.
    Context(Type),
    /// An application state, `State<T>` (or a path ending in it); holds the type as
    /// written. The compiler checks it is `pillar::State<T>`.
    State(Type),
}

/// A parameter read from the JSON input.
pub(crate) struct JsonParam {
    /// The binding's name (without `mut`), which is also the JSON key.
    pub(crate) ident: Ident,
    /// The declared type.
    pub(crate) ty: Type,
    /// `#[doc]` attributes, which become the property's `description`.
    pub(crate) docs: Vec<Attribute>,
    /// `#[serde]` and `#[schemars]` attributes, moved onto the generated field.
    pub(crate) attrs: Vec<Attribute>,
    /// The span of `input` in `#[pillar(input)]`: this parameter is the whole input.
    pub(crate) whole_input: Option<Span>,
}

/// The return type of the tool function (`()` when it declares none). Whether it is
/// fallible is decided by the compiler, by what the type is (a `Result`, through any
/// alias), never by its name here.
pub(crate) struct Ret(pub(crate) Type);

/// Runs every signature rule on `item`, stripping the parameter attributes the macro
/// consumes.
pub(crate) fn signature(cx: &Ctxt, item: &mut ItemFn) -> ToolSig {
    let sig = &mut item.sig;
    check_async(cx, sig);
    check_const(cx, sig);
    check_unsafe(cx, sig);
    check_abi(cx, sig);
    check_variadic(cx, sig);
    check_generics(cx, sig);

    let mut params = Vec::new();
    let mut has_context = false;
    for arg in &mut sig.inputs {
        match arg {
            FnArg::Receiver(receiver) => check_receiver(cx, receiver),
            FnArg::Typed(pat_type) => {
                let attrs = param_attrs(cx, &mut pat_type.attrs);
                if is_state(&pat_type.ty) {
                    check_state_attrs(cx, &attrs);
                    params.push(Param::State((*pat_type.ty).clone()));
                    continue;
                }
                match param_kind(cx, &pat_type.ty) {
                    Some(Kind::Context(ty)) => {
                        check_one_context(cx, has_context, &pat_type.ty);
                        has_context = true;
                        check_context_attrs(cx, &attrs);
                        params.push(Param::Context(*ty));
                    }
                    Some(Kind::Json) => {
                        if let Some(ident) = check_pattern(cx, pat_type) {
                            params.push(Param::Json(JsonParam {
                                ident,
                                ty: (*pat_type.ty).clone(),
                                docs: attrs.docs,
                                attrs: attrs.passthrough,
                                whole_input: attrs.input,
                            }));
                        }
                    }
                    None => {}
                }
            }
        }
    }
    check_whole_input(cx, &params);

    let ret = check_return(cx, &sig.output);
    ToolSig { params, ret }
}

/// The function's doc comment as one text: each `///` line without its first space, joined
/// with newlines, trimmed. `None` when there is none, or it is blank.
pub(crate) fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter_map(doc_line)
        .map(|line| line.strip_prefix(' ').unwrap_or(&line).to_owned())
        .collect();
    let text = lines.join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The function's doc comment as an expression of type `&'static str`: the text of
/// [`doc_text`] when every line is a literal; otherwise (a `#[doc = include_str!(..)]`
/// line) a `concat!` of the lines, which the runtime trims. `None` without any.
pub(crate) fn doc_expr(attrs: &[Attribute]) -> Option<proc_macro2::TokenStream> {
    let values: Vec<&syn::Expr> = attrs
        .iter()
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(nv) if nv.path.is_ident("doc") => Some(&nv.value),
            _ => None,
        })
        .collect();
    let literal = |value: &syn::Expr| {
        matches!(
            value,
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(_),
                ..
            })
        )
    };
    if values.iter().all(|value| literal(value)) {
        return doc_text(attrs).map(|text| quote::quote!(#text));
    }
    let pieces = values.iter().map(|value| match value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => {
            let line = lit.value();
            let line = line.strip_prefix(' ').unwrap_or(&line).to_owned();
            quote::quote!(#line)
        }
        other => quote::quote!(#other),
    });
    let mut joined = Vec::new();
    for (i, piece) in pieces.enumerate() {
        if i > 0 {
            joined.push(quote::quote!(
                "
"
            ));
        }
        joined.push(piece);
    }
    Some(quote::quote!(::core::concat!(#(#joined),*)))
}

/// The string of a `#[doc = "..."]` attribute.
fn doc_line(attr: &Attribute) -> Option<String> {
    let Meta::NameValue(nv) = &attr.meta else {
        return None;
    };
    if !nv.path.is_ident("doc") {
        return None;
    }
    match &nv.value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => Some(lit.value()),
        _ => None,
    }
}

/// Rule: the function is `async`, since the tool runner awaits it under a timeout.
fn check_async(cx: &Ctxt, sig: &Signature) {
    if sig.asyncness.is_none() {
        cx.error_at(
            sig.fn_token.span,
            "`#[pillar::tool]` functions must be `async`\n\
             help: make it `async fn`; wrap blocking work in `tokio::task::spawn_blocking`",
        );
    }
}

/// Rule: not `const` (a `const fn` cannot be `async` anyway).
fn check_const(cx: &Ctxt, sig: &Signature) {
    if let Some(token) = &sig.constness {
        cx.error_spanned_by(token, "`#[pillar::tool]` functions cannot be `const`");
    }
}

/// Rule: not `unsafe`: the runner calls the tool with arguments from the network and could
/// not uphold its safety contract.
fn check_unsafe(cx: &Ctxt, sig: &Signature) {
    if let Some(token) = &sig.unsafety {
        cx.error_spanned_by(
            token,
            "`#[pillar::tool]` functions cannot be `unsafe`: the tool runner calls them with \
             arguments from the network and cannot uphold a safety contract; \
             make the function safe and use `unsafe` blocks inside it",
        );
    }
}

/// Rule: the Rust ABI (no `extern "C"`).
fn check_abi(cx: &Ctxt, sig: &Signature) {
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(
            abi,
            "`#[pillar::tool]` functions cannot have an `extern` ABI: write a plain `async fn`",
        );
    }
}

/// Rule: not variadic.
fn check_variadic(cx: &Ctxt, sig: &Signature) {
    if let Some(variadic) = &sig.variadic {
        cx.error_spanned_by(
            variadic,
            "`#[pillar::tool]` functions cannot be variadic: each argument is a named JSON property",
        );
    }
}

/// Rule: no generic parameters or `where` clause: the tool is registered once, and its
/// schema is derived from concrete types.
fn check_generics(cx: &Ctxt, sig: &Signature) {
    const MESSAGE: &str = "`#[pillar::tool]` functions cannot be generic: the tool is \
        registered once, with an input schema derived from concrete parameter types";
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(&sig.generics, MESSAGE);
    } else if let Some(where_clause) = &sig.generics.where_clause {
        cx.error_spanned_by(where_clause, MESSAGE);
    }
}

/// Rule: a free function, not a method.
fn check_receiver(cx: &Ctxt, receiver: &Receiver) {
    cx.error_spanned_by(
        receiver.self_token,
        "`#[pillar::tool]` functions cannot take `self`: a tool is a free `async fn`; \
         take the application's state as a parameter instead, `db: pillar::State<Db>`, and \
         give the value to the builder with `.state(db)`",
    );
}

/// How a parameter is passed.
enum Kind {
    /// Read from the JSON input.
    Json,
    /// The context `&T` (holds `T`).
    Context(Box<Type>),
}

/// Rules on a parameter's type: no `impl Trait`, no `&mut`, no `&str`, `&[T]` or other
/// borrowed type. A shared reference to anything else is the context candidate (the
/// compiler then checks that it is `&ToolContext`). `None` when a rule failed.
fn param_kind(cx: &Ctxt, ty: &Type) -> Option<Kind> {
    let mut found = TypeFinder::default();
    found.visit_type(ty);
    if let Some(impl_trait) = found.impl_trait {
        cx.error_spanned_by(
            impl_trait,
            "`#[pillar::tool]` functions cannot be generic: `impl Trait` parameters are \
             not supported; use a concrete type",
        );
        return None;
    }

    match strip_parens(ty) {
        Type::Reference(reference) => reference_kind(cx, ty, reference),
        _ if found.borrows => {
            cx.error_spanned_by(
                ty,
                "borrowed parameters are not supported: tool arguments are read from JSON; \
                 use an owned type (`String` for `&str`, `Vec<T>` for `&[T]`)",
            );
            None
        }
        Type::Path(path)
            if path.qself.is_none()
                && path.path.segments.last().is_some_and(|last| {
                    last.ident == "ToolContext" && last.arguments.is_empty()
                }) =>
        {
            cx.error_spanned_by(
                ty,
                format_args!(
                    "the context is passed by reference: write `&{}` (a tool's other \
                     parameters are read from JSON)",
                    pretty(ty)
                ),
            );
            None
        }
        _ => Some(Kind::Json),
    }
}

/// The rules for a parameter whose type is a reference.
fn reference_kind(cx: &Ctxt, ty: &Type, reference: &TypeReference) -> Option<Kind> {
    if reference.mutability.is_some() {
        cx.error_spanned_by(
            ty,
            "`&mut` parameters are not supported: tool arguments are read from JSON and \
             must be owned types; the context is passed as `&ToolContext`",
        );
        return None;
    }
    match strip_parens(&reference.elem) {
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            cx.error_spanned_by(
                ty,
                "borrowed parameters are not supported: tool arguments are read from JSON; \
                 use `String`",
            );
            None
        }
        Type::Slice(slice) => {
            cx.error_spanned_by(
                ty,
                format_args!(
                    "borrowed parameters are not supported: tool arguments are read from \
                     JSON; use `Vec<{}>`",
                    pretty(&slice.elem)
                ),
            );
            None
        }
        elem => {
            if let Some(lifetime) = &reference.lifetime {
                if lifetime.ident != "_" {
                    cx.error_spanned_by(
                        lifetime,
                        "the context parameter takes no lifetime: write `&ToolContext`",
                    );
                    return None;
                }
            }
            Some(Kind::Context(Box::new(elem.clone())))
        }
    }
}

/// Rule: at most one context parameter.
fn check_one_context(cx: &Ctxt, has_context: bool, ty: &Type) {
    if has_context {
        cx.error_spanned_by(
            ty,
            "a tool takes at most one `&ToolContext` parameter; \
             its other parameters are read from JSON and must be owned types",
        );
    }
}

/// Rule: a JSON parameter is bound to a plain name (`mut` allowed), which is its JSON key.
fn check_pattern(cx: &Ctxt, pat_type: &PatType) -> Option<Ident> {
    match &*pat_type.pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => Some(pat.ident.clone()),
        Pat::Wild(wild) => {
            cx.error_spanned_by(
                wild,
                "tool parameters need a name: the name is the parameter's key in the tool's \
                 JSON input",
            );
            None
        }
        pat => {
            cx.error_spanned_by(
                pat,
                "patterns are not supported in tool parameters: write a plain name such as \
                 `limit: u32` (the name is the parameter's key in the tool's JSON input) and \
                 destructure in the body",
            );
            None
        }
    }
}

/// The attributes of one parameter, sorted by what the macro does with them.
#[derive(Default)]
struct ParamAttrs {
    /// `///` doc comments.
    docs: Vec<Attribute>,
    /// `#[serde(...)]` and `#[schemars(...)]`.
    passthrough: Vec<Attribute>,
    /// The span of `input` in `#[pillar(input)]`.
    input: Option<Span>,
}

/// Rule: `#[pillar(...)]` on a parameter holds only `input`. Takes the doc, serde,
/// schemars and pillar attributes out of `attrs` (other attributes stay on the function).
fn param_attrs(cx: &Ctxt, attrs: &mut Vec<Attribute>) -> ParamAttrs {
    let mut out = ParamAttrs::default();
    let mut kept = Vec::new();
    for attr in attrs.drain(..) {
        let path = attr.path();
        if path.is_ident("doc") {
            out.docs.push(attr);
        } else if path.is_ident("serde") || path.is_ident("schemars") {
            out.passthrough.push(attr);
        } else if path.is_ident("pillar") {
            pillar_attr(cx, &attr, &mut out.input);
        } else {
            kept.push(attr);
        }
    }
    *attrs = kept;
    out
}

/// Reads one `#[pillar(...)]` parameter attribute.
fn pillar_attr(cx: &Ctxt, attr: &Attribute, input: &mut Option<Span>) {
    const EXPECTED: &str = "expected `#[pillar(input)]`: the only `#[pillar]` parameter \
        attribute marks the parameter that is the tool's whole input";
    let Meta::List(list) = &attr.meta else {
        cx.error_spanned_by(attr, EXPECTED);
        return;
    };
    let items = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
        Ok(items) => items,
        Err(err) => {
            cx.syn_error(err);
            return;
        }
    };
    if items.is_empty() {
        cx.error_spanned_by(attr, EXPECTED);
    }
    for item in items {
        match &item {
            Meta::Path(path) if path.is_ident("input") => {
                if input.is_some() {
                    cx.error_spanned_by(path, "`input` is given twice");
                } else {
                    *input = Some(path.span());
                }
            }
            _ => cx.error_spanned_by(item.path(), EXPECTED),
        }
    }
}

/// Whether a parameter's type is a state: a path whose last segment is `State` with one
/// type argument (`State<Db>`, `pillar::State<Db>`). A type named `State` without
/// arguments (a user's enum, say) is a JSON argument. The name is all the macro can see:
/// the compiler then checks that it is `pillar::State<T>` (an `axum::extract::State<T>`
/// is an error that names `pillar::State`).
fn is_state(ty: &Type) -> bool {
    let Type::Path(path) = strip_parens(ty) else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    if path.qself.is_some() || last.ident != "State" {
        return false;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(args) => {
            args.args.len() == 1 && matches!(args.args.first(), Some(GenericArgument::Type(_)))
        }
        _ => false,
    }
}

/// Rule: a state parameter takes no `#[pillar(input)]`, `#[serde]` or `#[schemars]`: it is
/// not part of the tool's input.
fn check_state_attrs(cx: &Ctxt, attrs: &ParamAttrs) {
    if let Some(span) = attrs.input {
        cx.error_at(
            span,
            "`#[pillar(input)]` marks the parameter whose type is the tool's whole JSON \
             input; it cannot mark a `State<T>` parameter, which the builder gives",
        );
    }
    for attr in &attrs.passthrough {
        cx.error_spanned_by(
            attr,
            "a `State<T>` parameter is not part of the tool's input: `#[serde]` and \
             `#[schemars]` attributes have no effect on it",
        );
    }
}

/// Rule: the context parameter takes no `#[pillar(input)]`, `#[serde]` or `#[schemars]`.
fn check_context_attrs(cx: &Ctxt, attrs: &ParamAttrs) {
    if let Some(span) = attrs.input {
        cx.error_at(
            span,
            "`#[pillar(input)]` marks the parameter whose type is the tool's whole JSON \
             input; it cannot mark the context parameter",
        );
    }
    for attr in &attrs.passthrough {
        cx.error_spanned_by(
            attr,
            "the context parameter is not part of the tool's input: \
             `#[serde]` and `#[schemars]` attributes have no effect on it",
        );
    }
}

/// Rule: one `#[pillar(input)]` parameter at most, and then no other JSON parameter; its
/// serde and schemars attributes belong on its type.
fn check_whole_input(cx: &Ctxt, params: &[Param]) {
    let json: Vec<&JsonParam> = params
        .iter()
        .filter_map(|param| match param {
            Param::Json(json) => Some(json),
            Param::Context(_) | Param::State(_) => None,
        })
        .collect();
    let mut marked = json
        .iter()
        .filter_map(|param| Some((param, param.whole_input?)));
    let Some((input, span)) = marked.next() else {
        return;
    };
    for (_, span) in marked {
        cx.error_at(
            span,
            "only one parameter can be `#[pillar(input)]`: it is the tool's whole input",
        );
    }

    let others: Vec<String> = json
        .iter()
        .filter(|param| param.whole_input.is_none())
        .map(|param| format!("`{}`", param.ident))
        .collect();
    if !others.is_empty() {
        cx.error_at(
            span,
            format_args!(
                "a `#[pillar(input)]` parameter is the tool's whole input, so the tool takes no \
                 other parameters besides the context and states: move {} into `{}`, or \
                 remove `#[pillar(input)]`",
                others.join(", "),
                pretty(&input.ty),
            ),
        );
    }
    for attr in &input.attrs {
        cx.error_spanned_by(
            attr,
            format_args!(
                "`#[serde]` and `#[schemars]` attributes have no effect on a \
                 `#[pillar(input)]` parameter: put them on `{}` and its fields",
                pretty(&input.ty),
            ),
        );
    }
}

/// Rule: the return type is named (not `impl Trait`). The compiler checks the rest: a
/// `Result<T, E>` (however it is spelled: `io::Result<T>`, an alias `Outcome<T>`) needs
/// `T: Serialize` and `E: Display`, any other type `Serialize`.
fn check_return(cx: &Ctxt, output: &ReturnType) -> Ret {
    let ty = match output {
        ReturnType::Default => return Ret(syn::parse_quote!(())),
        ReturnType::Type(_, ty) => &**ty,
    };
    let mut found = TypeFinder::default();
    found.visit_type(ty);
    if let Some(impl_trait) = found.impl_trait {
        cx.error_spanned_by(
            impl_trait,
            "a tool cannot return `impl Trait`: name the type, such as `Result<T, E>` \
             with `T: Serialize` and `E: Display`",
        );
    }
    Ret(ty.clone())
}

/// Looks through parentheses and invisible groups around a type.
fn strip_parens(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Paren(paren) => ty = &paren.elem,
            Type::Group(group) => ty = &group.elem,
            _ => return ty,
        }
    }
}

/// A type as the user wrote it, for messages (`Vec<u8>` rather than `Vec < u8 >`).
pub(crate) fn pretty<T: ToTokens>(tokens: &T) -> String {
    tokens
        .to_token_stream()
        .to_string()
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&")
}

/// Finds `impl Trait` and borrows (references, lifetimes other than `'static`) in a type.
#[derive(Default)]
struct TypeFinder<'ast> {
    impl_trait: Option<&'ast TypeImplTrait>,
    borrows: bool,
}

impl<'ast> Visit<'ast> for TypeFinder<'ast> {
    fn visit_type_impl_trait(&mut self, node: &'ast TypeImplTrait) {
        self.impl_trait.get_or_insert(node);
    }

    fn visit_type_reference(&mut self, node: &'ast TypeReference) {
        self.borrows = true;
        syn::visit::visit_type_reference(self, node);
    }

    fn visit_lifetime(&mut self, node: &'ast Lifetime) {
        if node.ident != "static" {
            self.borrows = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_text_joins_lines() {
        let item: ItemFn = syn::parse_quote! {
            /// First line.
            ///
            ///   indented
            #[doc = "raw"]
            async fn f() {}
        };
        assert_eq!(
            doc_text(&item.attrs).as_deref(),
            Some("First line.\n\n  indented\nraw")
        );
        let item: ItemFn = syn::parse_quote! {
            ///
            async fn f() {}
        };
        assert_eq!(doc_text(&item.attrs), None);
    }

    #[test]
    fn pretty_types() {
        let ty: Type = syn::parse_quote!(std::collections::HashMap<String, Vec<u8>>);
        assert_eq!(pretty(&ty), "std::collections::HashMap<String, Vec<u8>>");
        let ty: Type = syn::parse_quote!(&str);
        assert_eq!(pretty(&ty), "&str");
    }
}
