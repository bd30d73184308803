//! Better errors for parameter types that need a crate feature: `Arc<str>` (serde's `rc`;
//! `Rc<str>`, which is also never `Send`),
//! chrono, uuid, url and the other crates whose `JsonSchema` schemars implements behind a
//! feature.
//!
//! A type is recognised here by its name, so nothing is ever rejected on a name: the
//! recognised type is checked by the compiler against a trait with the same bounds as any
//! parameter (`Deserialize + JsonSchema`), whose `#[diagnostic::on_unimplemented]` names
//! the feature to enable. When the feature is on, the check passes and the type works.

use syn::{GenericArgument, PathArguments, Type, TypePath};

/// Which feature a recognised type may be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// `Arc<T>`: serde's `rc` feature.
    Arc,
    /// `Rc<T>`: serde's `rc` feature, and never `Send` (a tool's future must be).
    Rc,
    /// chrono's types: schemars' `chrono04`, chrono's `serde`.
    Chrono,
    /// `Uuid`: schemars' `uuid1`, uuid's `serde`.
    Uuid,
    /// `Url`: schemars' `url2`, url's `serde`.
    Url,
    /// The other crates schemars supports behind a feature.
    OtherCrate,
}

impl Hint {
    /// The `__private` function whose bound carries the hint's notes.
    pub(crate) fn assert_fn(self) -> &'static str {
        match self {
            Hint::Arc => "assert_arc_param",
            Hint::Rc => "assert_rc_param",
            Hint::Chrono => "assert_chrono_param",
            Hint::Uuid => "assert_uuid_param",
            Hint::Url => "assert_url_param",
            Hint::OtherCrate => "assert_foreign_param",
        }
    }
}

/// Crates (a path segment) and type names of chrono.
const CHRONO: (&[&str], &[&str]) = (
    &["chrono"],
    &["DateTime", "NaiveDate", "NaiveTime", "NaiveDateTime"],
);
/// ... of uuid.
const UUID: (&[&str], &[&str]) = (&["uuid"], &["Uuid"]);
/// ... of url.
const URL: (&[&str], &[&str]) = (&["url"], &["Url"]);
/// ... of the other crates schemars has a feature for.
const OTHER: (&[&str], &[&str]) = (
    &[
        "bytes",
        "rust_decimal",
        "bigdecimal",
        "indexmap",
        "jiff",
        "semver",
        "smallvec",
        "arrayvec",
        "either",
        "smol_str",
    ],
    &[
        "Bytes",
        "Decimal",
        "BigDecimal",
        "IndexMap",
        "IndexSet",
        "SmallVec",
        "ArrayVec",
        "ArrayString",
        "Either",
        "SmolStr",
    ],
);

/// The types inside `ty` (`ty` itself included) that may need a feature, outermost first,
/// each with its hint. The generic arguments of a recognised type are not searched.
pub(crate) fn hinted_types(ty: &Type) -> Vec<(Type, Hint)> {
    let mut found = Vec::new();
    walk(ty, &mut found);
    found
}

fn walk(ty: &Type, found: &mut Vec<(Type, Hint)>) {
    match ty {
        Type::Path(path) => {
            if let Some(hint) = hint_of(path) {
                found.push((ty.clone(), hint));
                return;
            }
            for segment in &path.path.segments {
                if let PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        if let GenericArgument::Type(ty) = arg {
                            walk(ty, found);
                        }
                    }
                }
            }
        }
        Type::Array(array) => walk(&array.elem, found),
        Type::Slice(slice) => walk(&slice.elem, found),
        Type::Paren(paren) => walk(&paren.elem, found),
        Type::Group(group) => walk(&group.elem, found),
        Type::Tuple(tuple) => tuple.elems.iter().for_each(|ty| walk(ty, found)),
        _ => {}
    }
}

/// The hint for one type path, if its name is one of the known ones.
fn hint_of(path: &TypePath) -> Option<Hint> {
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    let name = last.ident.to_string();
    if matches!(last.arguments, PathArguments::AngleBracketed(_)) {
        match name.as_str() {
            "Arc" => return Some(Hint::Arc),
            "Rc" => return Some(Hint::Rc),
            _ => {}
        }
    }
    // A crate named in the path decides first (`jiff::civil::DateTime` is jiff's), then
    // the type's name.
    let table = [
        (CHRONO, Hint::Chrono),
        (UUID, Hint::Uuid),
        (URL, Hint::Url),
        (OTHER, Hint::OtherCrate),
    ];
    let in_crate = |crates: &[&str]| {
        path.path
            .segments
            .iter()
            .any(|segment| crates.iter().any(|krate| segment.ident == krate))
    };
    table
        .iter()
        .find_map(|((crates, _), hint)| in_crate(crates).then_some(*hint))
        .or_else(|| {
            table
                .iter()
                .find_map(|((_, names), hint)| names.contains(&name.as_str()).then_some(*hint))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn hints(ty: Type) -> Vec<(String, Hint)> {
        hinted_types(&ty)
            .into_iter()
            .map(|(ty, hint)| (ty.to_token_stream().to_string().replace(' ', ""), hint))
            .collect()
    }

    #[test]
    fn recognised_types() {
        assert_eq!(
            hints(syn::parse_quote!(Arc<str>)),
            [("Arc<str>".to_owned(), Hint::Arc)]
        );
        assert_eq!(
            hints(syn::parse_quote!(Option<Vec<std::rc::Rc<str>>>)),
            [("std::rc::Rc<str>".to_owned(), Hint::Rc)]
        );
        assert_eq!(
            hints(syn::parse_quote!(HashMap<Uuid, chrono::DateTime<chrono::Utc>>)),
            [
                ("Uuid".to_owned(), Hint::Uuid),
                ("chrono::DateTime<chrono::Utc>".to_owned(), Hint::Chrono)
            ]
        );
        assert_eq!(
            hints(syn::parse_quote!((
                NaiveDate,
                [url::Url; 2],
                rust_decimal::Decimal
            ))),
            [
                ("NaiveDate".to_owned(), Hint::Chrono),
                ("url::Url".to_owned(), Hint::Url),
                ("rust_decimal::Decimal".to_owned(), Hint::OtherCrate)
            ]
        );
        assert_eq!(
            hints(syn::parse_quote!(jiff::civil::DateTime)),
            [("jiff::civil::DateTime".to_owned(), Hint::OtherCrate)]
        );
    }

    #[test]
    fn other_types_have_no_hint() {
        for ty in [
            syn::parse_quote!(String),
            syn::parse_quote!(Vec<Option<u32>>),
            syn::parse_quote!(std::sync::Arc),
            syn::parse_quote!(serde_json::Value),
            syn::parse_quote!(<T as Trait>::Uuid),
        ] {
            assert_eq!(hints(ty), []);
        }
    }
}
