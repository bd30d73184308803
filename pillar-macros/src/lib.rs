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

/// Turns an `async fn` into a Pillar tool: the agent can call it with JSON arguments.
///
/// The function is left as it is (minus the parameter attributes the macro reads) and
/// registered at link time; every [`Pillar`] built in the program serves it, with no
/// explicit registration call.
///
/// ```ignore
/// use pillar::{JsonSchema, ToolContext};
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// #[serde(rename_all = "lowercase")]
/// enum Status { Pending, Shipped, Delivered }
///
/// /// Search orders by status and date range.
/// #[pillar::tool]
/// async fn search_orders(
///     /// Order status
///     status: Status,
///     /// ISO date string
///     since: Option<String>,
///     limit: Option<u32>,
///     ctx: &ToolContext,
/// ) -> Result<Vec<Order>, OrderError> {
///     // ...
/// }
/// ```
///
/// (The examples here are not compiled: this crate cannot depend on `pillar`. The
/// `pillar` crate's documentation has the same examples as doctests.)
///
/// # Arguments
///
/// All are optional: `#[pillar::tool]` alone is a complete tool when the function has a
/// doc comment.
///
/// | argument | default | meaning |
/// |---|---|---|
/// | `description = "..."` | the doc comment | What the tool does, for the agent. One of the two is required. |
/// | `name = "..."` | the function's name (without `r#`) | The tool's name; it must match `^[a-zA-Z_][a-zA-Z0-9_.\-:]{0,63}$`. |
/// | `guidance = "..."` | none | When (not) to use the tool, for the agent. |
/// | `timeout_ms = 60_000` | `30_000` | How long a call may run: an integer literal greater than 0. |
/// | `channels = ["web", "slack"]` | `["*"]` | The channels whose users may call it: any of `web`, `slack`, `discord`, `email`, `api`, `*` (all). A constant (`channels = CHANNELS`, a `&[&str]` or an array) is checked at compile time by the same rules. |
/// | `output_schema` | off | Also send the JSON Schema of the result (the `Ok` type of a `Result<T, E>`, or the plain return type), which must then implement `JsonSchema`. |
/// | `crate = path` | `::pillar` | Where the `pillar` crate is, when it is renamed in `Cargo.toml` or re-exported (`crate = my_pillar` or `crate = "my_pillar"`). |
///
/// ```ignore
/// #[pillar::tool(
///     description = "Remove a member from the workspace",
///     guidance = "Only use when the user explicitly asks. Always confirm first.",
///     timeout_ms = 60_000,
///     channels = ["web", "slack"],
/// )]
/// async fn delete_member(user_id: String, ctx: &ToolContext) -> Result<Reply<Removed>, DbError> {
///     // ...
/// }
/// ```
///
/// # The function
///
/// - It is an `async fn`: free (at module level, not in an `impl` block or a trait, no
///   `self`), not generic, not `unsafe`, `const` or `extern`. Blocking work belongs in
///   `tokio::task::spawn_blocking`.
/// - Each parameter is a property of the tool's JSON input, in order, named after the
///   parameter (a plain name: `mut` is fine, patterns are not). Its type implements
///   `serde::Deserialize` and `JsonSchema`, and is owned (`String`, not `&str`).
///   `Option<T>` parameters are optional; the others are required.
/// - A `///` doc comment on a parameter becomes its `description` in the schema;
///   `#[serde(...)]` and `#[schemars(...)]` attributes on a parameter apply to its
///   property (`#[serde(default)]`, `#[serde(rename = "type")]`, ...).
/// - One parameter of type `&ToolContext`, anywhere in the list, receives the call's
///   context (caller, conversation, confirmation). It is not part of the input.
/// - `#[pillar(input)]` on the only other parameter makes its type the whole input: the
///   tool's schema is that struct's schema.
/// - It returns `Result<T, E>` (any type path whose last segment ends in `Result`, such as
///   `io::Result<T>` or an alias `DbResult<T>`) with `T: Serialize` and `E: Display`, or a
///   plain `T: Serialize` (including `()`). The `Ok` value is the result; the `Err`
///   value's `Display` text is the error the agent sees.
///
/// ```ignore
/// /// Who to invite.
/// #[derive(Deserialize, JsonSchema)]
/// struct InviteArgs {
///     /// The invitee's email address.
///     email: String,
///     #[serde(default)]
///     role: Role,
/// }
///
/// /// Invite someone to the workspace.
/// #[pillar::tool(timeout_ms = 10_000)]
/// async fn invite(#[pillar(input)] args: InviteArgs, ctx: &ToolContext) -> Result<Invited, Error> {
///     // ...
/// }
/// ```
///
/// # Compile-time checks
///
/// Mistakes are reported at compile time, all at once, each on the token at fault: a
/// missing `async` (on `fn`), a missing description (on the name), an invalid name, an
/// unknown or repeated argument (on the key), a bad `timeout_ms` or channel (on the
/// value; a constant's channels when the program compiles), `self`, a function of an
/// `impl` block or a trait, generics and `impl Trait`, pattern parameters, two context
/// parameters, borrowed parameters (`&str`: use `String`; `&[T]`: use `Vec<T>`), a
/// parameter type that is not `Deserialize + JsonSchema` (on that parameter's type; for
/// `Arc<str>`, chrono's, uuid's and other crates' types the error names the serde or
/// schemars feature to enable), a return type that cannot be a result (on the return
/// type).
///
/// ```text
/// error: `#[pillar::tool]` functions must be `async`
///        help: make it `async fn`; wrap blocking work in `tokio::task::spawn_blocking`
///  --> src/main.rs:3:1
///   |
/// 3 | fn read_file(path: String) -> std::io::Result<String> {
///   | ^^
/// ```
///
/// # What it generates
///
/// Beside the function, one `const _: () = { ... };` block (nothing is added to the
/// module's namespace) holding: a `Deserialize + JsonSchema` struct with one field per
/// parameter, compile-time checks of the parameter and return types, a shim that parses
/// the JSON input and calls the function, and the `inventory` submission. The generated
/// code reaches serde, schemars and inventory through `pillar`, and compiles clean in a
/// crate with `#![deny(warnings, missing_docs)]`.
///
/// [`Pillar`]: https://docs.rs/pillar/latest/pillar/struct.Pillar.html
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

/// Derives `JsonSchema` (schemars' trait) through `pillar`, so that a crate needs no
/// `schemars` dependency of its own. Re-exported as `pillar::JsonSchema`.
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
