//! Expansion tests: the generated code, compared as token text. (What the generated code
//! does when compiled is tested by `ui-tests/` and the workspace's integration tests.)

use proc_macro2::TokenStream;
use quote::quote;

/// The expansion, as text.
fn expand(attr: TokenStream, item: TokenStream) -> String {
    super::expand(attr, item, None).to_string()
}

/// Whether `haystack` contains the tokens of `needle` (both as token text).
#[track_caller]
#[allow(clippy::needless_pass_by_value)]
fn assert_has(haystack: &str, needle: TokenStream) {
    let needle = needle.to_string();
    assert!(
        haystack.contains(&needle),
        "expansion lacks\n  {needle}\nexpansion:\n  {haystack}"
    );
}

#[track_caller]
fn assert_lacks(haystack: &str, needle: &str) {
    assert!(
        !haystack.contains(needle),
        "expansion has `{needle}`:\n  {haystack}"
    );
}

/// The `compile_error!` messages of an expansion.
fn errors(expansion: &str) -> Vec<String> {
    expansion
        .split("compile_error !")
        .skip(1)
        .map(|rest| {
            let start = rest.find('"').unwrap_or(0) + 1;
            let end = rest[start..]
                .find("\" }")
                .map_or(rest.len(), |end| start + end);
            rest[start..end].to_owned()
        })
        .collect()
}

#[test]
fn the_issue_example() {
    let out = expand(
        quote!(timeout_ms = 5000, channels = ["web"]),
        quote! {
            /// Search orders.
            async fn search_orders(
                /// Order status
                status: Status,
                since: Option<String>,
                ctx: &ToolContext,
            ) -> Result<Vec<Order>, E> { body() }
        },
    );
    // The function, without the parameter's doc comment.
    assert_has(
        &out,
        quote! {
            #[doc = r" Search orders."]
            #[allow(clippy::unused_async)]
            async fn search_orders(status: Status, since: Option<String>, ctx: &ToolContext,)
                -> Result<Vec<Order>, E> { body() }
        },
    );
    assert_has(
        &out,
        quote! {
            #[derive(::pillar::__private::serde::Deserialize, ::pillar::__private::schemars_derive::JsonSchema)]
            #[serde(crate = "::pillar::__private::serde")]
            #[schemars(crate = "::pillar::__private::schemars")]
            #[doc(hidden)]
            struct __PillarArgs<__PillarT0, __PillarT1> {
                #[doc = r" Order status"]
                status: __PillarT0,
                since: __PillarT1,
            }
        },
    );
    assert_has(
        &out,
        quote! {
            fn __pillar_assertions() {
                use ::pillar::__private::{ViaPlain as _, ViaResult as _};
                ::pillar::__private::assert_param::<Status>();
                ::pillar::__private::assert_param::<Option<String> >();
                ::pillar::__private::assert_context::<ToolContext>();
            }
        },
    );
    assert_has(
        &out,
        quote! {
            let __pillar_args = (&&::pillar::__private::args::<__PillarArgs<Status, Option<String> > >()).parse(__pillar_input)?;
            ::pillar::__private::Result::Ok(::pillar::__private::Box::pin(async move {
                let __pillar_ret = search_orders(__pillar_args.status, __pillar_args.since, &__pillar_ctx).await;
                (&&::pillar::__private::kind_of(&__pillar_ret)).kind().output(__pillar_ret)
            }))
        },
    );
    assert_has(
        &out,
        quote! {
            ::pillar::__private::StaticTool {
                name: "search_orders",
                description: "Search orders.",
                guidance: ::core::option::Option::None,
                timeout_ms: 5000u64,
                channels: &["web"],
                input_schema: __pillar_input_schema,
                output_schema: ::core::option::Option::None,
                states: &[],
                call: __pillar_call,
                file: ::core::file!(),
                line: ::core::line!(),
            }
        },
    );
    assert!(out.contains("const _ : () ="));
    assert!(errors(&out).is_empty());
}

#[test]
fn defaults() {
    let out = expand(
        quote!(),
        quote! {
            /// First line.
            ///
            /// Second paragraph.
            async fn ping() {}
        },
    );
    assert_has(&out, quote!(name: "ping"));
    assert_has(
        &out,
        quote!(description: "First line.\n\nSecond paragraph."),
    );
    assert_has(&out, quote!(timeout_ms: 30000u64));
    assert_has(&out, quote!(channels: &["*"]));
    assert_has(&out, quote!(guidance: ::core::option::Option::None));
    // No parameter: an empty struct whose schema still has `properties`, no context.
    assert_has(
        &out,
        quote! {
            #[schemars(extend("properties" = {}))]
            #[doc(hidden)]
            struct __PillarArgs {}
        },
    );
    assert_has(
        &out,
        quote!(let _ = (&&::pillar::__private::args::<__PillarArgs>()).parse),
    );
    assert_has(&out, quote!(_: ::pillar::__private::ToolContext));
    // `()` is a plain answer.
    assert_has(
        &out,
        quote!((&&::pillar::__private::kind_of(&__pillar_ret))
            .kind()
            .output(__pillar_ret)),
    );
}

#[test]
fn every_key() {
    let out = expand(
        quote!(
            name = "orders.search:v2",
            description = "Described here",
            guidance = "Use it well",
            timeout_ms = 60_000,
            channels = ["web", "slack"],
            output_schema,
            crate = ::my_pillar,
        ),
        quote! {
            /// Not the description.
            async fn search() -> Result<Vec<Order>, E> { todo!() }
        },
    );
    assert_has(&out, quote!(name: "orders.search:v2"));
    assert_has(&out, quote!(description: "Described here"));
    assert_has(
        &out,
        quote!(guidance: ::core::option::Option::Some("Use it well")),
    );
    assert_has(&out, quote!(timeout_ms: 60000u64));
    assert_has(&out, quote!(channels: &["web", "slack"]));
    assert_has(
        &out,
        quote!(output_schema: ::core::option::Option::Some(__pillar_output_schema)),
    );
    let ret = quote!(Result<Vec<Order>, E>);
    assert_has(
        &out,
        quote!((&&::my_pillar::__private::kind::<#ret>()).kind().output_schema()),
    );
    assert_has(
        &out,
        quote!(#[serde(crate = "::my_pillar::__private::serde")]),
    );
    assert_lacks(&out, ":: pillar ::");
}

#[test]
fn crate_paths() {
    for attr in [quote!(crate = crate::sdk), quote!(crate = "crate::sdk")] {
        let out = expand(
            attr,
            quote!(
                #[doc = "d"]
                async fn f(a: u8) {}
            ),
        );
        assert_has(
            &out,
            quote!(#[serde(crate = "crate::sdk::__private::serde")]),
        );
        assert_has(
            &out,
            quote!(#[schemars(crate = "crate::sdk::__private::schemars")]),
        );
        assert_has(&out, quote!(crate::sdk::__private::inventory::submit!));
        assert_lacks(&out, ":: pillar ::");
    }
}

#[test]
fn whole_input() {
    let out = expand(
        quote!(),
        quote! {
            /// Invite.
            async fn invite(ctx: &ToolContext, #[pillar(input)] mut args: InviteArgs) -> Result<(), E> {}
        },
    );
    assert_has(
        &out,
        quote!(
            async fn invite(ctx: &ToolContext, mut args: InviteArgs) -> Result<(), E> {}
        ),
    );
    assert_lacks(&out, "struct __PillarArgs");
    assert_has(
        &out,
        quote!(let __pillar_args = (&&::pillar::__private::args::<InviteArgs>()).parse(__pillar_input)?;),
    );
    assert_has(&out, quote!(invite(&__pillar_ctx, __pillar_args).await));
    assert_has(
        &out,
        quote!((&&::pillar::__private::args::<InviteArgs>()).input_schema()),
    );
    assert_has(
        &out,
        quote!(::pillar::__private::assert_param::<InviteArgs>();),
    );
}

#[test]
fn parameter_attributes() {
    let out = expand(
        quote!(),
        quote! {
            /// Tool.
            async fn list(
                /// Page size.
                #[serde(default = "default_limit")]
                #[schemars(range(max = 10))]
                #[allow(unused_mut)]
                mut limit: u32,
                r#type: String,
            ) {}
        },
    );
    // Moved onto the field...
    assert_has(
        &out,
        quote! {
            struct __PillarArgs<__PillarT0> {
                #[doc = r" Page size."]
                #[serde(default = "default_limit")]
                #[schemars(range(max = 10))]
                limit: u32,
                r#type: __PillarT0,
            }
        },
    );
    // ...and off the function, which keeps the others.
    assert_has(
        &out,
        // (In braces, where rustfmt keeps the trailing comma the tokens have.)
        quote! {
            async fn list(#[allow(unused_mut)] mut limit: u32, r#type: String,) {}
        },
    );
    assert_has(
        &out,
        quote!(list(__pillar_args.limit, __pillar_args.r#type)),
    );
}

#[test]
fn raw_identifier_names() {
    let out = expand(
        quote!(),
        quote!(
            #[doc = "d"]
            async fn r#match() {}
        ),
    );
    assert_has(&out, quote!(name: "match"));
}

#[test]
fn return_types_are_left_to_the_compiler_whatever_their_name() {
    // Fallible or plain is decided by what the type is, in the expansion (a `Result`
    // through any alias is fallible, a `struct SearchResult<T>` plain), never by its name
    // here: every return type expands the same way.
    for ret in [
        quote!(Result<u8, E>),
        quote!(std::result::Result<u8, E>),
        quote!(io::Result<u8>),
        quote!(Outcome<u8>),
        quote!(SearchResult<u8>),
        quote!(Order),
    ] {
        let out = expand(
            quote!(output_schema),
            quote!(#[doc = "d"] async fn f() -> #ret {}),
        );
        assert!(errors(&out).is_empty(), "{out}");
        assert_has(
            &out,
            quote!((&&::pillar::__private::kind_of(&__pillar_ret))
                .kind()
                .output(__pillar_ret)),
        );
        assert_has(
            &out,
            quote!((&&::pillar::__private::kind::<#ret>()).kind().output_schema()),
        );
    }
}

#[test]
fn errors_keep_the_function_and_stop() {
    let out = expand(
        quote!(colour = "blue", channels = ["web", "sms"], timeout_ms = 0),
        quote! {
            /// Report.
            fn report(/// The title.
                title: &str) -> String { title.to_owned() }
        },
    );
    assert_eq!(
        errors(&out),
        [
            "unknown key `colour` in `#[pillar::tool]`: expected one of `description`, `name`, \
             `guidance`, `timeout_ms`, `channels`, `output_schema`, `crate`",
            "unknown channel `sms`: expected one of \\\"web\\\", \\\"slack\\\", \\\"discord\\\", \
             \\\"email\\\", \\\"api\\\", \\\"mcp\\\", \\\"*\\\"",
            "`timeout_ms` must be a whole number of milliseconds greater than 0, such as \
             `timeout_ms = 60_000`",
            "`#[pillar::tool]` functions must be `async`\\nhelp: make it `async fn`; wrap \
             blocking work in `tokio::task::spawn_blocking`",
            "borrowed parameters are not supported: tool arguments are read from JSON; use `String`",
        ]
    );
    // The function is re-emitted (without the parameter's doc comment), nothing else.
    assert_has(
        &out,
        quote!(
            #[doc = r" Report."]
            fn report(title: &str) -> String {
                title.to_owned()
            }
        ),
    );
    assert_lacks(&out, "const _");
}

#[test]
fn each_rule_reports() {
    let cases: &[(TokenStream, TokenStream, &str)] = &[
        (
            quote!(),
            quote!(
                async fn f() {}
            ),
            "tool `f` has no description",
        ),
        (
            quote!(name = "a b"),
            quote!(
                #[doc = "d"]
                async fn f() {}
            ),
            "invalid tool name `a b`",
        ),
        (
            quote!(name = "x", name = "y"),
            quote!(
                #[doc = "d"]
                async fn f() {}
            ),
            "duplicate key `name`",
        ),
        (
            quote!(timeout_ms = -1),
            quote!(
                #[doc = "d"]
                async fn f() {}
            ),
            "greater than 0",
        ),
        (
            quote!(timeout_ms = 1.5),
            quote!(
                #[doc = "d"]
                async fn f() {}
            ),
            "greater than 0",
        ),
        (
            quote!(timeout_ms = 99999999999999999999),
            quote!(
                #[doc = "d"]
                async fn f() {}
            ),
            "does not fit",
        ),
        (
            quote!(channels = []),
            quote!(
                #[doc = "d"]
                async fn f() {}
            ),
            "`channels` must not be empty",
        ),
        (
            quote!(output_schema = true),
            quote!(
                #[doc = "d"]
                async fn f() {}
            ),
            "is a flag",
        ),
        (
            quote!(crate = 1),
            quote!(
                #[doc = "d"]
                async fn f() {}
            ),
            "`crate` must be the path",
        ),
        (
            quote!(descripton = "x"),
            quote!(
                #[doc = "d"]
                async fn f() {}
            ),
            "did you mean `description`?",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(&self) {}
            ),
            "cannot take `self`",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f<T>(t: T) {}
            ),
            "cannot be generic",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f()
                where
                    u8: Copy,
                {
                }
            ),
            "cannot be generic",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(t: impl Display) {}
            ),
            "`impl Trait` parameters",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f((a, b): (u8, u8)) {}
            ),
            "patterns are not supported",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(_: u8) {}
            ),
            "tool parameters need a name",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(a: &Ctx, b: &Ctx) {}
            ),
            "at most one `&ToolContext`",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(a: &[u8]) {}
            ),
            "use `Vec<u8>`",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(a: Option<&str>) {}
            ),
            "use an owned type",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(a: &mut u8) {}
            ),
            "`&mut` parameters",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(a: &'static Ctx) {}
            ),
            "takes no lifetime",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f() -> impl Serialize {}
            ),
            "cannot return `impl Trait`",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async unsafe fn f() {}
            ),
            "cannot be `unsafe`",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                const fn f() {}
            ),
            "cannot be `const`",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async extern "C" fn f() {}
            ),
            "cannot have an `extern` ABI",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(#[pillar(other)] a: u8) {}
            ),
            "expected `#[pillar(input)]`",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(#[pillar(input)] a: A, b: u8) {}
            ),
            "move `b` into `A`",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(#[pillar(input)] a: A, #[pillar(input)] b: B) {}
            ),
            "only one parameter",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(#[pillar(input)] c: &Ctx) {}
            ),
            "cannot mark the context",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f(#[serde(default)] c: &Ctx) {}
            ),
            "not part of the tool's input",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                struct S;
            ),
            "can only be applied to an `async fn`",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f() -> String;
            ),
            "cannot be applied to a trait method: a tool is a free `async fn` at module level",
        ),
        (
            quote!(),
            quote!(
                #[doc = "d"]
                async fn f() -> Option<Self> {
                    None
                }
            ),
            "cannot be applied to a function of an `impl` block or a trait",
        ),
    ];
    for (attr, item, expected) in cases {
        let out = expand(attr.clone(), item.clone());
        let errors = errors(&out);
        assert!(
            errors.iter().any(|error| error.contains(expected)),
            "{item}: expected an error containing {expected:?}, got {errors:?}"
        );
    }
}

#[test]
fn state_parameters_are_taken_in_order_and_kept_out_of_the_input() {
    let out = expand(
        quote!(),
        quote! {
            /// Look up.
            async fn lookup(db: State<Db>, email: String, ctx: &ToolContext, log: pillar::State<Log>) -> String { body() }
        },
    );
    assert!(errors(&out).is_empty(), "{out}");
    assert_has(
        &out,
        quote! {
            struct __PillarArgs<__PillarT0> {
                email: __PillarT0,
            }
        },
    );
    assert_has(
        &out,
        quote! {
            let __pillar_state_0 = <State<Db> as ::pillar::__private::StateParam>::take(__pillar_states, 0usize)?;
            let __pillar_state_1 = <pillar::State<Log> as ::pillar::__private::StateParam>::take(__pillar_states, 1usize)?;
        },
    );
    assert_has(
        &out,
        quote! {
            let __pillar_ret = lookup(__pillar_state_0, __pillar_args.email, &__pillar_ctx, __pillar_state_1).await;
        },
    );
    assert_has(
        &out,
        quote! {
            states: &[
                <State<Db> as ::pillar::__private::StateParam>::SLOT,
                <pillar::State<Log> as ::pillar::__private::StateParam>::SLOT
            ],
        },
    );
    assert_has(
        &out,
        quote! {
            ::pillar::__private::assert_state::<State<Db> >();
        },
    );
}

#[test]
fn a_type_named_state_without_arguments_is_a_json_argument() {
    let out = expand(
        quote!(),
        quote! {
            /// Count.
            async fn count(state: State, n: u8) -> u8 { body() }
        },
    );
    assert!(errors(&out).is_empty(), "{out}");
    assert_has(&out, quote!(state: State,));
    assert_has(&out, quote!(states: &[],));
}

#[test]
fn channels_as_a_constant_are_checked_when_the_program_compiles() {
    let out = expand(
        quote!(channels = settings::CHANNELS),
        quote! {
            /// d
            async fn f() {}
        },
    );
    assert!(errors(&out).is_empty(), "{out}");
    assert_has(
        &out,
        quote! {
            channels: {
                const __PILLAR_CHANNELS: &[&str] = &settings::CHANNELS;
                const _: () = if let ::core::option::Option::Some(problem) =
                    ::pillar::__private::channels_problem(__PILLAR_CHANNELS)
                {
                    ::core::panic!("{}", problem.as_str())
                };
                __PILLAR_CHANNELS
            },
        },
    );
    // A literal that is not an array is still refused by the macro, with the two forms.
    let out = expand(
        quote!(channels = "web"),
        quote! {
            /// d
            async fn f() {}
        },
    );
    assert!(
        errors(&out)
            .iter()
            .any(|error| error.contains("or a constant of type `&[&str]`")),
        "{out}"
    );
}
