//! `#[derive(pillar::JsonSchema)]`: schemars' derive, reached through `pillar`.
//!
//! schemars' own derive writes `schemars::...` paths, so a crate using it must depend on
//! `schemars` itself, or add `#[schemars(crate = "...")]` to every type. This derive lets
//! a crate depend on `pillar` alone: it copies the type into a private shadow type (same
//! fields, variants, docs, `serde`/`schemars` attributes, and schema name), derives
//! schemars' `JsonSchema` on the shadow with the crate path set, and implements
//! `JsonSchema` for the real type by delegating to the shadow. The schema is therefore
//! exactly the one schemars derives for the type.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::{
    parse_quote, Attribute, Data, DeriveInput, Fields, GenericParam, Meta, Path, Token, Visibility,
};

use crate::ctxt::Ctxt;

/// Expands `#[derive(JsonSchema)]` on `input`.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => return err.into_compile_error(),
    };
    let cx = Ctxt::new();
    let krate = crate_path(&cx, &input.attrs);
    if let Data::Union(union) = &input.data {
        cx.error_spanned_by(
            union.union_token,
            "`JsonSchema` cannot be derived for a union",
        );
    }
    if !cx.is_ok() {
        return cx.into_compile_errors();
    }
    // Where schemars is: through `#[pillar(crate = ..)]`, or `::pillar` by default, unless
    // the type already says it with `#[schemars(crate = "..")]` (which the shadow keeps).
    // schemars' derive macro is always reached through `pillar` (the schemars `pillar`
    // depends on is built without its `derive` feature).
    // A `#[schemars(crate = "sdk::__private::schemars")]` names where `pillar` is, too.
    let given = schemars_crate(&input.attrs);
    let derive = match (&krate, given.as_ref().and_then(pillar_of_schemars_path)) {
        (Some(krate), _) => quote!(#krate::__private::schemars_derive),
        (None, Some(pillar)) => quote!(#pillar::__private::schemars_derive),
        (None, None) => quote!(::pillar::__private::schemars_derive),
    };
    let schemars = match (krate, given) {
        (Some(krate), _) => Schemars::Added(quote!(#krate::__private::schemars)),
        (None, Some(path)) => Schemars::Given(path.into_token_stream()),
        (None, None) => Schemars::Added(quote!(::pillar::__private::schemars)),
    };
    generate(&input, &schemars, &derive)
}

/// The path of the schemars crate, and whether the shadow needs a `crate` attribute for it.
enum Schemars {
    /// Set with a `#[schemars(crate = "..")]` added to the shadow.
    Added(TokenStream),
    /// Set by the type's own `#[schemars(crate = "..")]`.
    Given(TokenStream),
}

/// The generated shadow type and delegating impl.
fn generate(input: &DeriveInput, schemars: &Schemars, derive: &TokenStream) -> TokenStream {
    let (schemars, crate_attr) = match schemars {
        Schemars::Added(path) => {
            let string = path.to_string().replace(' ', "");
            (path, quote!(#[schemars(crate = #string)]))
        }
        Schemars::Given(path) => (path, TokenStream::new()),
    };
    let ident = &input.ident;
    let shadow_ident = format_ident!("__PillarSchema");

    // The shadow: same shape and schema attributes, private, and named like the original
    // in its schema (unless a rename is already there).
    let mut shadow = input.clone();
    shadow.ident = shadow_ident.clone();
    shadow.vis = Visibility::Inherited;
    shadow.attrs = schema_attrs(&input.attrs);
    match &mut shadow.data {
        Data::Struct(data) => strip_fields(&mut data.fields),
        Data::Enum(data) => {
            for variant in &mut data.variants {
                variant.attrs = schema_attrs(&variant.attrs);
                strip_fields(&mut variant.fields);
            }
        }
        Data::Union(_) => {}
    }
    if !has_rename(&input.attrs) {
        let name = ident.unraw().to_string();
        shadow.attrs.push(parse_quote!(#[schemars(rename = #name)]));
    }

    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut where_clause = where_clause.cloned().unwrap_or_else(|| parse_quote!(where));
    let has_type_params = input
        .generics
        .params
        .iter()
        .any(|param| !matches!(param, GenericParam::Lifetime(_)));
    if has_type_params {
        where_clause
            .predicates
            .push(parse_quote!(#shadow_ident #ty_generics: #schemars::JsonSchema));
    }

    let default_impl = container_default_impl(input, &shadow_ident);

    quote! {
        #[doc(hidden)]
        // `deprecated`: the shadow keeps the type's `#[deprecated]` attributes for its
        // schema, and is used (and uses the type) only here.
        #[allow(non_camel_case_types, dead_code, deprecated, clippy::all, clippy::pedantic)]
        const _: () = {
            #[derive(#derive::JsonSchema)]
            #crate_attr
            #shadow

            #default_impl

            #[automatically_derived]
            #[allow(private_bounds)]
            impl #impl_generics #schemars::JsonSchema for #ident #ty_generics #where_clause {
                fn inline_schema() -> bool {
                    <#shadow_ident #ty_generics as #schemars::JsonSchema>::inline_schema()
                }

                fn schema_name() -> ::std::borrow::Cow<'static, str> {
                    <#shadow_ident #ty_generics as #schemars::JsonSchema>::schema_name()
                }

                fn schema_id() -> ::std::borrow::Cow<'static, str> {
                    <#shadow_ident #ty_generics as #schemars::JsonSchema>::schema_id()
                }

                fn json_schema(
                    generator: &mut #schemars::SchemaGenerator,
                ) -> #schemars::Schema {
                    <#shadow_ident #ty_generics as #schemars::JsonSchema>::json_schema(generator)
                }
            }
        };
    }
}

/// The attributes schemars reads (and the `cfg`s that decide whether a field exists).
/// `#[deprecated]` is one of them: schemars marks a deprecated type, variant or field
/// `"deprecated": true` in its schema.
fn schema_attrs(attrs: &[Attribute]) -> Vec<Attribute> {
    const KEPT: &[&str] = &[
        "doc",
        "serde",
        "schemars",
        "validate",
        "garde",
        "cfg",
        "cfg_attr",
        "deprecated",
    ];
    attrs
        .iter()
        .filter(|attr| KEPT.iter().any(|kept| attr.path().is_ident(kept)))
        .cloned()
        .collect()
}

/// Keeps only the schema attributes of each field.
fn strip_fields(fields: &mut Fields) {
    for field in fields.iter_mut() {
        field.attrs = schema_attrs(&field.attrs);
    }
}

/// Whether a container `#[serde(...)]` or `#[schemars(...)]` attribute sets `rename`.
fn has_rename(attrs: &[Attribute]) -> bool {
    nested_metas(attrs, &["serde", "schemars"]).any(|meta| meta.path().is_ident("rename"))
}

/// The items of the `#[name(...)]` attributes among `attrs` (those that parse as metas).
fn nested_metas<'a>(attrs: &'a [Attribute], names: &'a [&str]) -> impl Iterator<Item = Meta> + 'a {
    attrs
        .iter()
        .filter(move |attr| names.iter().any(|name| attr.path().is_ident(name)))
        .filter_map(|attr| {
            attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
}

/// The path in a `#[schemars(crate = "...")]` attribute of the type.
fn schemars_crate(attrs: &[Attribute]) -> Option<Path> {
    nested_metas(attrs, &["schemars"]).find_map(|meta| match meta {
        Meta::NameValue(nv) if nv.path.is_ident("crate") => match nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) => lit.parse().ok(),
            _ => None,
        },
        _ => None,
    })
}

/// `sdk` of a `sdk::__private::schemars` path: the schemars `pillar` re-exports.
fn pillar_of_schemars_path(path: &Path) -> Option<Path> {
    let n = path.segments.len();
    let ends_so = n > 2
        && path.segments[n - 1].ident == "schemars"
        && path.segments[n - 2].ident == "__private";
    ends_so.then(|| {
        let mut pillar = path.clone();
        pillar.segments = path.segments.iter().take(n - 2).cloned().collect();
        pillar
    })
}

/// `#[serde(default)]` on a struct makes schemars call `Self::default()` (here: the
/// shadow's): build it from the real type's `Default`.
fn container_default_impl(input: &DeriveInput, shadow: &syn::Ident) -> TokenStream {
    let Data::Struct(data) = &input.data else {
        return TokenStream::new();
    };
    let bare_default = nested_metas(&input.attrs, &["serde", "schemars"])
        .any(|meta| matches!(&meta, Meta::Path(path) if path.is_ident("default")));
    if !bare_default {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut where_clause = where_clause.cloned().unwrap_or_else(|| parse_quote!(where));
    where_clause
        .predicates
        .push(parse_quote!(#ident #ty_generics: ::core::default::Default));
    let members: Vec<syn::Member> = data
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| match &field.ident {
            Some(ident) => syn::Member::Named(ident.clone()),
            None => syn::Member::Unnamed(index.into()),
        })
        .collect();
    let bindings: Vec<syn::Ident> = (0..members.len())
        .map(|index| syn::Ident::new(&format!("__field{index}"), Span::call_site()))
        .collect();
    quote! {
        impl #impl_generics ::core::default::Default for #shadow #ty_generics #where_clause {
            fn default() -> Self {
                let #ident { #(#members: #bindings,)* .. } =
                    <#ident #ty_generics as ::core::default::Default>::default();
                Self { #(#members: #bindings,)* }
            }
        }
    }
}

/// `#[pillar(crate = path)]` on the type, for a renamed `pillar` dependency.
fn crate_path(cx: &Ctxt, attrs: &[Attribute]) -> Option<Path> {
    let mut krate = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("pillar")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let value = meta.value()?;
                let path = if value.peek(syn::LitStr) {
                    value.parse::<syn::LitStr>()?.parse::<Path>()?
                } else {
                    value.call(Path::parse_mod_style)?
                };
                krate = Some(path);
                Ok(())
            } else {
                Err(meta.error("expected `#[pillar(crate = path)]`"))
            }
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    krate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(input: TokenStream) -> String {
        expand(input).to_string()
    }

    #[test]
    fn shadow_and_delegation() {
        let out = expand_str(quote! {
            /// Docs.
            #[derive(Debug, Deserialize)]
            #[serde(rename_all = "lowercase")]
            #[deprecated(note = "use Phase")]
            pub enum Status {
                /// Waiting.
                #[serde(alias = "waiting")]
                #[allow(dead_code)]
                Pending,
                Shipped { #[serde(default)] #[deprecated] at: u64 },
            }
        });
        let expected = quote! {
            #[derive(::pillar::__private::schemars_derive::JsonSchema)]
            #[schemars(crate = "::pillar::__private::schemars")]
            #[doc = r" Docs."]
            #[serde(rename_all = "lowercase")]
            #[deprecated(note = "use Phase")]
            #[schemars(rename = "Status")]
            enum __PillarSchema {
                #[doc = r" Waiting."]
                #[serde(alias = "waiting")]
                Pending,
                Shipped { #[serde(default)] #[deprecated] at: u64 },
            }
        };
        assert!(out.contains(&expected.to_string()), "{out}");
        assert!(out.contains("impl :: pillar :: __private :: schemars :: JsonSchema for Status {"));
        assert!(out.contains(
            &quote!(
                <__PillarSchema as ::pillar::__private::schemars::JsonSchema>::json_schema(
                    generator
                )
            )
            .to_string()
        ));
    }

    #[test]
    fn generics_rename_default_and_crate() {
        let out = expand_str(quote! {
            #[serde(default, rename = "Paged")]
            #[pillar(crate = "my_pillar")]
            struct Page<T: Clone> where T: Send { items: Vec<T> }
        });
        assert!(!out.contains("schemars (rename"), "{out}");
        assert!(
            out.contains(
                &quote!(__PillarSchema<T>: my_pillar::__private::schemars::JsonSchema).to_string()
            ),
            "{out}"
        );
        assert!(out.contains(
            &quote!(impl<T: Clone> ::core::default::Default for __PillarSchema<T> where T: Send, Page<T>: ::core::default::Default)
                .to_string()
        ), "{out}");
        assert!(!out.contains(":: pillar ::"), "{out}");
    }

    #[test]
    fn a_given_schemars_crate_is_kept() {
        let out = expand_str(quote! {
            #[schemars(crate = "sdk::__private::schemars")]
            enum Style { Formal }
        });
        assert_eq!(out.matches("schemars (crate").count(), 1, "{out}");
        assert!(
            out.contains("impl sdk :: __private :: schemars :: JsonSchema for Style"),
            "{out}"
        );
        assert!(!out.contains(":: pillar ::"), "{out}");
    }

    #[test]
    fn errors() {
        let out = expand_str(quote!(union U { a: u8 }));
        assert!(out.contains("cannot be derived for a union"), "{out}");
        let out = expand_str(quote!(
            #[pillar(krate = x)]
            struct S;
        ));
        assert!(out.contains("expected `#[pillar(crate = path)]`"), "{out}");
    }
}
