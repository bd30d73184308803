//! Where the attribute was put: a tool is a free `async fn` at module level, never a
//! function of an `impl` block or a trait (it could not be called without naming the
//! type, which the attribute cannot see).
//!
//! An attribute only sees its function, so an associated function is found by what gives
//! it away: `Self` in its signature or body, a body-less declaration (a trait method), or,
//! when the compiler tells where the source file is, that file's text, in which the
//! function's only tool-attributed definitions sit in `impl` or trait blocks. (A `self`
//! receiver is reported by `check`.) When none of them tells, the generated code is left
//! to fail as it does.

use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use proc_macro2::Span;
use syn::visit::Visit;
use syn::{Attribute, Ident, ItemFn};

/// The tool-attributed functions of a file: each one's name, and the block it is in.
type Tools = Vec<(String, Option<Block>)>;

/// The file and hash of the content last parsed, and its tools.
type Parsed = Option<((PathBuf, u64), Tools)>;

/// The two kinds of block a tool cannot be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Block {
    Impl,
    Trait,
}

/// The error for a tool function in `block`.
pub(crate) fn message(block: Option<Block>, name: &Ident) -> String {
    let place = match block {
        Some(Block::Impl) => "a function of an `impl` block",
        Some(Block::Trait) => "a trait method",
        None => "a function of an `impl` block or a trait",
    };
    format!(
        "`#[pillar::tool]` cannot be applied to {place}: a tool is a free `async fn` at \
         module level; move `{name}` out of the block (a tool takes the application's \
         state as a `State<T>` parameter, given with `PillarBuilder::state`), or register \
         a tool built with `Tool::builder` whose handler calls the method"
    )
}

/// The first `Self` in the function's signature or body (not in nested items or macro
/// calls): a free function cannot use it.
pub(crate) fn uses_self(func: &ItemFn) -> Option<Span> {
    #[derive(Default)]
    struct Finder(Option<Span>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_ident(&mut self, ident: &'ast Ident) {
            if self.0.is_none() && ident == "Self" {
                self.0 = Some(ident.span());
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut finder = Finder::default();
    finder.visit_signature(&func.sig);
    finder.visit_block(&func.block);
    finder.0
}

/// Whether the source file says the function `name` is in an `impl` or trait block: every
/// tool-attributed function of that name in the file is in one. `None` when the file
/// cannot be read or parsed, or holds no such function, or one at module level.
pub(crate) fn block_in_file(file: Option<&Path>, name: &Ident) -> Option<Block> {
    let text = std::fs::read_to_string(file?).ok()?;
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    let key = (file?.to_path_buf(), hasher.finish());

    // One parse per file and content, however many tools it holds.
    thread_local! {
        static PARSED: RefCell<Parsed> =
            const { RefCell::new(None) };
    }
    let tools = PARSED.with(|parsed| {
        let mut parsed = parsed.borrow_mut();
        match &*parsed {
            Some((cached, tools)) if *cached == key => Some(tools.clone()),
            _ => {
                let tools = tools_in(&text)?;
                *parsed = Some((key, tools.clone()));
                Some(tools)
            }
        }
    })?;

    let name = name.to_string();
    let mut blocks = tools
        .iter()
        .filter(|(tool, _)| *tool == name)
        .map(|(_, block)| *block);
    let first = blocks.next()??;
    blocks.all(|block| block.is_some()).then_some(first)
}

/// The tool-attributed functions of a file: their names, and the block each is in
/// (`None` for module level, including inside a function's body).
fn tools_in(text: &str) -> Option<Tools> {
    struct Collect {
        block: Option<Block>,
        tools: Tools,
    }
    impl Collect {
        fn add(&mut self, attrs: &[Attribute], name: &Ident) {
            let is_tool = |attr: &Attribute| {
                attr.path()
                    .segments
                    .last()
                    .is_some_and(|last| last.ident == "tool")
            };
            if attrs.iter().any(is_tool) {
                self.tools.push((name.to_string(), self.block));
            }
        }
        fn within(&mut self, block: Option<Block>, walk: impl FnOnce(&mut Self)) {
            let outer = std::mem::replace(&mut self.block, block);
            walk(self);
            self.block = outer;
        }
    }
    impl<'ast> Visit<'ast> for Collect {
        fn visit_item_fn(&mut self, node: &'ast ItemFn) {
            self.add(&node.attrs, &node.sig.ident);
            self.within(None, |this| syn::visit::visit_item_fn(this, node));
        }
        fn visit_impl_item_fn(&mut self, node: &'ast syn::ImplItemFn) {
            self.add(&node.attrs, &node.sig.ident);
            self.within(None, |this| syn::visit::visit_impl_item_fn(this, node));
        }
        fn visit_trait_item_fn(&mut self, node: &'ast syn::TraitItemFn) {
            self.add(&node.attrs, &node.sig.ident);
            self.within(None, |this| syn::visit::visit_trait_item_fn(this, node));
        }
        fn visit_item_impl(&mut self, node: &'ast syn::ItemImpl) {
            self.within(Some(Block::Impl), |this| {
                syn::visit::visit_item_impl(this, node);
            });
        }
        fn visit_item_trait(&mut self, node: &'ast syn::ItemTrait) {
            self.within(Some(Block::Trait), |this| {
                syn::visit::visit_item_trait(this, node);
            });
        }
        fn visit_item_mod(&mut self, node: &'ast syn::ItemMod) {
            self.within(None, |this| syn::visit::visit_item_mod(this, node));
        }
    }
    let file = syn::parse_file(text).ok()?;
    let mut collect = Collect {
        block: None,
        tools: Vec::new(),
    };
    collect.visit_file(&file);
    Some(collect.tools)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_of(text: &str, name: &str) -> Option<Block> {
        let dir = std::env::temp_dir().join(format!("pillar-placement-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{name}-{}.rs", text.len()));
        std::fs::write(&file, text).unwrap();
        let block = block_in_file(Some(&file), &Ident::new(name, Span::call_site()));
        std::fs::remove_file(&file).unwrap();
        block
    }

    #[test]
    fn blocks_from_the_file() {
        let text = r#"
            struct S;
            impl S {
                /// In an impl.
                #[pillar::tool]
                async fn in_impl(q: String) {}
            }
            trait T {
                #[tool]
                async fn in_trait() {}
            }
            #[pillar::tool]
            async fn free() {}
            mod inner {
                #[pillar::tool]
                async fn in_module() {}
                impl super::S {
                    #[pillar::tool]
                    async fn free() {}
                }
            }
            impl S {
                async fn not_a_tool() {}
            }
            async fn not_a_tool() {}
        "#;
        assert_eq!(block_of(text, "in_impl"), Some(Block::Impl));
        assert_eq!(block_of(text, "in_trait"), Some(Block::Trait));
        assert_eq!(block_of(text, "in_module"), None);
        // Also at module level: the file cannot tell which one this is.
        assert_eq!(block_of(text, "free"), None);
        assert_eq!(block_of(text, "not_a_tool"), None);
        assert_eq!(block_of(text, "absent"), None);
        assert_eq!(block_of("this is not Rust {", "in_impl"), None);
        assert_eq!(
            block_in_file(None, &Ident::new("x", Span::call_site())),
            None
        );
    }

    #[test]
    fn self_in_the_signature_or_body() {
        let func: ItemFn = syn::parse_quote! {
            async fn f() -> Option<Self> { None }
        };
        assert!(uses_self(&func).is_some());
        let func: ItemFn = syn::parse_quote! {
            async fn f() { let _ = Self::helper(); }
        };
        assert!(uses_self(&func).is_some());
        let func: ItemFn = syn::parse_quote! {
            async fn f() {
                struct Local;
                impl Local { fn new() -> Self { Local } }
                let _ = Local::new();
            }
        };
        assert!(uses_self(&func).is_none());
    }
}
