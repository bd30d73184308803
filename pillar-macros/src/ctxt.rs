//! Error collection, after serde_derive's `Ctxt`: every check reports into one context so
//! the user sees all the problems of a tool at once instead of one per build.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

/// Collects the errors found while parsing, checking and expanding one tool.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    /// An empty context.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Reports an error that underlines all of `tokens` (first to last token).
    pub(crate) fn error_spanned_by<T: ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.syn_error(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Reports an error at one span.
    pub(crate) fn error_at<M: Display>(&self, span: Span, message: M) {
        self.syn_error(syn::Error::new(span, message));
    }

    /// Reports a `syn` error (which may hold several).
    pub(crate) fn syn_error(&self, error: syn::Error) {
        self.errors.borrow_mut().extend(error);
    }

    /// Whether nothing has been reported so far.
    pub(crate) fn is_ok(&self) -> bool {
        self.errors.borrow().is_empty()
    }

    /// The `compile_error!` invocations of every error reported, in order.
    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.errors
            .into_inner()
            .into_iter()
            .map(|error| error.into_compile_error())
            .collect()
    }
}
