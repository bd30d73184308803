//! The `#[pillar::tool]` attribute. **Use it through the `pillar` crate**, which re-exports
//! it as `pillar::tool` and holds everything the generated code needs: a crate that uses
//! the attribute depends on `pillar` alone.
//!
//! The macro works in three stages, one module each: parse the attribute's arguments
//! (`tool::attr`), check the function's signature (`tool::check`, one function per rule),
//! and generate the registration (`tool::expand`). Problems are collected in a context
//! (`ctxt`) so that every one of them is reported at once, each on the token at fault,
//! and the user's function is always re-emitted beside them.

mod ctxt;
mod schema;
mod tool;

use proc_macro::TokenStream;

/// Turns an `async fn` into a Pillar tool. Use it as `pillar::tool`: its documentation,
/// with examples compiled as doctests, is on the `pillar` crate's re-export
/// (`pillar/docs/tool.md`), where the types it names are.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    // The source file, when the compiler tells, shows whether the function sits in an
    // `impl` or trait block, which the attribute cannot see.
    let file = proc_macro::Span::call_site().local_file();
    tool::expand(attr.into(), item.into(), file.as_deref()).into()
}

/// The channel names `#[pillar::tool]` accepts, as an array of string literals: for the
/// `const` check in `pillar::__private` that they are the runtime's. **Not public API.**
#[doc(hidden)]
#[proc_macro]
pub fn __channel_names(input: TokenStream) -> TokenStream {
    if !input.is_empty() {
        return quote::quote!(::core::compile_error!(
            "`__channel_names!()` takes no input"
        ))
        .into();
    }
    tool::channel_names().into()
}

/// Derives `JsonSchema` ([schemars' trait](https://docs.rs/schemars/1/schemars/trait.JsonSchema.html))
/// through `pillar`, so that a crate needs no `schemars` dependency of its own.
/// Re-exported as `pillar::JsonSchema`, which also names the trait (`T: pillar::JsonSchema`
/// in a bound).
///
/// It accepts everything schemars' derive accepts (`#[serde(...)]` and `#[schemars(...)]`
/// attributes, doc comments as descriptions) and produces the same schema: the type is
/// copied into a private shadow type on which schemars' derive runs, and the type's
/// `JsonSchema` implementation delegates to it.
///
/// ```ignore
/// #[derive(serde::Deserialize, pillar::JsonSchema)]
/// #[serde(rename_all = "lowercase")]
/// enum Status { Pending, Shipped, Delivered }
/// ```
///
/// With a renamed `pillar` dependency, say where it is with `#[pillar(crate = path)]`.
#[proc_macro_derive(JsonSchema, attributes(schemars, serde, validate, garde, pillar))]
pub fn derive_json_schema(item: TokenStream) -> TokenStream {
    schema::expand(item.into()).into()
}
