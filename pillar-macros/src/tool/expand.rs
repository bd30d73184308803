//! Stage 3, generate: the code beside the user's function.
//!
//! Everything lives in one `const _: () = { ... };` block: the arguments struct (unless a
//! parameter is the whole input), the type assertions, the call shim and the inventory
//! submission. Every runtime crate is reached through `#krate::__private`.

use proc_macro2::{Group, Literal, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, LitStr, Path, Type};

use super::check::{Param, ToolSig};

/// A checked tool, ready to be generated.
pub(crate) struct Tool<'a> {
    /// The path of the `pillar` crate (`::pillar` unless `crate = ...`).
    pub(crate) krate: &'a Path,
    /// The user's function, as it is re-emitted.
    pub(crate) func: &'a ItemFn,
    /// Its checked signature.
    pub(crate) sig: &'a ToolSig,
    /// The tool name.
    pub(crate) name: String,
    /// The tool description: an expression of type `&'static str`.
    pub(crate) description: TokenStream,
    /// The guidance, if any.
    pub(crate) guidance: Option<LitStr>,
    /// The timeout.
    pub(crate) timeout_ms: super::attr::Timeout,
    /// The channels.
    pub(crate) channels: super::attr::Channels,
    /// The `Ok` type whose schema is the `outputSchema`, with `output_schema`.
    pub(crate) output: Option<Type>,
}

/// The `const _: () = { ... };` block for `tool`.
pub(crate) fn generate(tool: &Tool<'_>) -> TokenStream {
    let krate = tool.krate;
    let private = quote!(#krate::__private);
    let fn_ident = &tool.func.sig.ident;

    // The shim's own bindings. They are not hygienic (`mixed_site`) because some are
    // re-spanned onto the user's types below, but no user name is ever bound in the shim:
    // the parameters are read as fields of the arguments struct.
    let input = Ident::new("__pillar_input", Span::call_site());
    let ctx = Ident::new("__pillar_ctx", Span::call_site());
    let args = Ident::new("__pillar_args", Span::call_site());
    let states = Ident::new("__pillar_states", Span::call_site());

    // Each `State<T>` parameter, in order: its type and the binding the shim takes it into
    // (before the future is made, so that the future owns it).
    let state_params: Vec<(&Type, Ident)> = tool
        .sig
        .params
        .iter()
        .filter_map(|param| match param {
            Param::State(ty) => Some(ty),
            _ => None,
        })
        .enumerate()
        .map(|(index, ty)| {
            (
                ty,
                Ident::new(&format!("__pillar_state_{index}"), Span::call_site()),
            )
        })
        .collect();
    let take_states = state_params
        .iter()
        .enumerate()
        .map(|(index, (ty, binding))| {
            quote_spanned! {ty.span()=>
                let #binding = <#ty as #private::StateParam>::take(#states, #index)?;
            }
        });
    let state_slots = state_params
        .iter()
        .map(|(ty, _)| quote_spanned!(ty.span()=> <#ty as #private::StateParam>::SLOT));
    let states_binding = if state_params.is_empty() {
        quote!(_)
    } else {
        states.to_token_stream()
    };

    let whole_input = tool.sig.params.iter().find_map(|param| match param {
        Param::Json(json) if json.whole_input.is_some() => Some(json),
        _ => None,
    });
    let (args_struct, args_ty) = match whole_input {
        Some(json) => (TokenStream::new(), json.ty.to_token_stream()),
        None => args_struct(tool),
    };

    let has_json = tool
        .sig
        .params
        .iter()
        .any(|param| matches!(param, Param::Json(_)));
    let has_context = tool
        .sig
        .params
        .iter()
        .any(|param| matches!(param, Param::Context(_)));
    let args_binding = if has_json {
        args.to_token_stream()
    } else {
        quote!(_)
    };
    let ctx_binding = if has_context {
        ctx.to_token_stream()
    } else {
        quote!(_)
    };

    // The call `output(tool(args..).await)`. A compiler error in it (a return type that
    // cannot be an answer, a context parameter that is not `&ToolContext`) is reported
    // on the user's own type: the whole expression carries the span of the return type,
    // and the context argument that of the context parameter's type.
    let mut state_bindings = state_params.iter().map(|(_, binding)| binding);
    let call_args = tool.sig.params.iter().map(|param| match param {
        Param::State(_) => state_bindings.next().to_token_stream(),
        Param::Json(_) if whole_input.is_some() => args.to_token_stream(),
        Param::Json(json) => {
            let ident = &json.ident;
            quote!(#args.#ident)
        }
        Param::Context(ty) => respan(quote!(&#ctx), ty.span()),
    });
    // The answer is chosen by what the return type is: `(&&kind_of(&ret)).kind()` is a
    // `FallibleTag` for a `Result` (through any alias) and a `PlainTag` otherwise.
    let ret_span = tool.sig.ret.0.span();
    let ret = Ident::new("__pillar_ret", Span::call_site());
    let call = quote!(let #ret = #fn_ident(#(#call_args),*).await;);
    let output_call = respan(
        quote!((&&#private::kind_of(&#ret)).kind().output(#ret)),
        ret_span,
    );

    let assertions = assertions(tool, &private);

    let name = &tool.name;
    let description = &tool.description;
    let guidance = match &tool.guidance {
        Some(guidance) => quote!(::core::option::Option::Some(#guidance)),
        None => quote!(::core::option::Option::None),
    };
    let timeout_ms = match &tool.timeout_ms {
        super::attr::Timeout::Literal(ms) => Literal::u64_suffixed(*ms).to_token_stream(),
        // A constant expression: a `u64`, checked above 0 when the program compiles.
        super::attr::Timeout::Const(expr) => quote_spanned! {expr.span()=>
            {
                const __PILLAR_TIMEOUT_MS: u64 = #expr;
                const _: () = ::core::assert!(
                    __PILLAR_TIMEOUT_MS > 0,
                    "`timeout_ms` must be greater than 0"
                );
                __PILLAR_TIMEOUT_MS
            }
        },
    };
    let channels = match &tool.channels {
        super::attr::Channels::Literal(channels) => quote!(&[#(#channels),*]),
        // A constant: a `&[&str]` (or an array, borrowed), checked when the program
        // compiles by the same rules as a literal list; the error names the channel.
        super::attr::Channels::Const(expr) => quote_spanned! {expr.span()=>
            {
                const __PILLAR_CHANNELS: &[&str] = &#expr;
                const _: () = if let ::core::option::Option::Some(problem) =
                    #private::channels_problem(__PILLAR_CHANNELS)
                {
                    ::core::panic!("{}", problem.as_str())
                };
                __PILLAR_CHANNELS
            }
        },
    };
    let (output_schema, output_schema_fn) = match &tool.output {
        Some(ty) => (
            quote!(::core::option::Option::Some(__pillar_output_schema)),
            {
                let schema = quote_spanned! {ty.span()=>
                    (&&#private::kind::<#ty>()).kind().output_schema()
                };
                quote! {
                    #[doc(hidden)]
                    fn __pillar_output_schema() -> #private::serde_json::Value {
                        use #private::{ViaPlain as _, ViaResult as _};
                        #schema
                    }
                }
            },
        ),
        None => (quote!(::core::option::Option::None), TokenStream::new()),
    };
    let line = quote_spanned!(fn_ident.span()=> ::core::line!());

    quote! {
        #[allow(non_camel_case_types, non_snake_case, dead_code, unused_imports, clippy::all, clippy::pedantic)]
        const _: () = {
            // The type checks come first, so that their errors (spanned on the user's
            // types, with notes that say what a tool needs) are the first ones reported.
            #[doc(hidden)]
            fn __pillar_assertions() {
                use #private::{ViaPlain as _, ViaResult as _};
                #assertions
            }

            #args_struct

            #output_schema_fn

            #[doc(hidden)]
            fn __pillar_input_schema() -> #private::serde_json::Value {
                use #private::{ArgsReady as _, ArgsUnusable as _};
                (&&#private::args::<#args_ty>()).input_schema()
            }

            #[doc(hidden)]
            fn __pillar_call(
                #input: #private::Input<'_>,
                #ctx_binding: #private::ToolContext,
                #states_binding: &[#private::SharedState],
            ) -> #private::Result<#private::ToolFuture, #private::ArgumentsError> {
                use #private::{ArgsReady as _, ArgsUnusable as _, ViaPlain as _, ViaResult as _};
                let #args_binding = (&&#private::args::<#args_ty>()).parse(#input)?;
                #(#take_states)*
                #private::Result::Ok(#private::Box::pin(async move {
                    #call
                    #output_call
                }))
            }

            #private::inventory::submit! {
                #private::StaticTool {
                    name: #name,
                    description: #description,
                    guidance: #guidance,
                    timeout_ms: #timeout_ms,
                    channels: #channels,
                    input_schema: __pillar_input_schema,
                    output_schema: #output_schema,
                    states: &[#(#state_slots),*],
                    call: __pillar_call,
                    file: ::core::file!(),
                    line: #line,
                }
            }
        };
    }
}

/// The generated arguments struct: one field per JSON parameter, in order, with the
/// parameter's docs and serde/schemars attributes; and the struct's type as the shim names
/// it.
///
/// A field without attributes has a type parameter for its type, given where the struct
/// is named: serde's and schemars' derives then bound the parameter instead of requiring
/// `Deserialize`/`JsonSchema` of the user's type in the struct's own impls, so a type that
/// lacks one is reported once, by `assert_param`'s error (which says what to derive),
/// not a second time from inside the derives. A field with attributes keeps its type:
/// `#[serde(default = "f")]`, `deserialize_with` or `#[schemars(with = ..)]` name
/// functions and types of the user's field type, which a type parameter would not match.
fn args_struct(tool: &Tool<'_>) -> (TokenStream, TokenStream) {
    let krate = tool.krate;
    let private = quote!(#krate::__private);
    let krate_str = krate.to_token_stream().to_string().replace(' ', "");
    let serde_crate = format!("{krate_str}::__private::serde");
    let schemars_crate = format!("{krate_str}::__private::schemars");

    let mut params = Vec::new();
    let mut args = Vec::new();
    let fields: Vec<TokenStream> = tool
        .sig
        .params
        .iter()
        .filter_map(|param| match param {
            Param::Json(json) => {
                let docs = &json.docs;
                let attrs = &json.attrs;
                let ident = &json.ident;
                let ty = if attrs.is_empty() {
                    let param =
                        Ident::new(&format!("__PillarT{}", params.len()), Span::call_site());
                    args.push(json.ty.to_token_stream());
                    params.push(param.clone());
                    param.to_token_stream()
                } else {
                    json.ty.to_token_stream()
                };
                Some(quote_spanned! {ident.span()=>
                    #(#docs)*
                    #(#attrs)*
                    #ident: #ty
                })
            }
            Param::Context(_) | Param::State(_) => None,
        })
        .collect();

    // schemars leaves `properties` out of an empty struct's schema; some clients want it.
    let empty = fields.is_empty();
    let empty_properties = empty.then(|| quote!(#[schemars(extend("properties" = {}))]));
    let (generics, ty) = if params.is_empty() {
        (TokenStream::new(), quote!(__PillarArgs))
    } else {
        (quote!(<#(#params),*>), quote!(__PillarArgs<#(#args),*>))
    };

    let def = quote! {
        #[derive(#private::serde::Deserialize, #private::schemars_derive::JsonSchema)]
        #[serde(crate = #serde_crate)]
        #[schemars(crate = #schemars_crate)]
        #empty_properties
        #[doc(hidden)]
        struct __PillarArgs #generics {
            #(#fields,)*
        }
    };
    (def, ty)
}

/// The type checks, each spanned on the type it checks so the compiler's error lands on
/// the user's parameter or return type.
fn assertions(tool: &Tool<'_>, private: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    for param in &tool.sig.params {
        out.extend(match param {
            Param::Json(json) => {
                // A type that may need a crate feature (`Arc<str>`, chrono's, uuid's) is
                // checked on its own as well, by a bound whose error names the feature;
                // when that type is the whole parameter, its check replaces the plain one.
                let ty = &json.ty;
                let hinted = super::hints::hinted_types(ty);
                let whole = hinted.iter().any(|(inner, _)| {
                    inner.to_token_stream().to_string()
                        == strip_parens(ty).to_token_stream().to_string()
                });
                let mut checks = TokenStream::new();
                for (inner, hint) in &hinted {
                    let assert = Ident::new(hint.assert_fn(), Span::call_site());
                    checks.extend(quote_spanned!(inner.span()=> #private::#assert::<#inner>();));
                }
                if !whole {
                    checks.extend(quote_spanned!(ty.span()=> #private::assert_param::<#ty>();));
                }
                checks
            }
            Param::Context(ty) => {
                quote_spanned!(ty.span()=> #private::assert_context::<#ty>();)
            }
            Param::State(ty) => {
                quote_spanned!(ty.span()=> #private::assert_state::<#ty>();)
            }
        });
    }
    // The return type is checked by the answer's own call in the shim (its bounds name
    // what a tool's result and error types need): a check here would repeat each error.
    out
}

/// `tokens` with every span set to `span` (groups included), so that an expression built
/// from them is reported at `span` as a whole.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut new = Group::new(group.delimiter(), respan(group.stream(), span));
                new.set_span(span);
                tree = TokenTree::Group(new);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// `ty` without the parentheses and invisible groups around it.
fn strip_parens(mut ty: &Type) -> &Type {
    while let Type::Paren(syn::TypeParen { elem, .. }) | Type::Group(syn::TypeGroup { elem, .. }) =
        ty
    {
        ty = elem;
    }
    ty
}
