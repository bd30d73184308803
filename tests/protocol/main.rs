//! The protocol and the tools as an agent sees them: the webhook's answers and order of
//! checks, Pillar Cloud's answers to a registration, the cross-check with the reference
//! SDK, and tools defined with `#[pillar::tool]`: their arguments, constraints, return
//! types, schemas (golden files) and listing.
//!
//! One binary, so every `#[pillar::tool]` of these modules is registered in each
//! `Pillar` built here with the registered tools (the default): a test reads the tools of
//! its own module by name or by place (`Tool::location`), never "every tool of the
//! program". Tests whose `Pillar` must hold their tools alone (`state`, `duplicates`) are
//! binaries of their own.

mod arguments;
mod cloud_answers;
mod constraints;
mod cross_check;
mod protocol;
mod returns;
mod schemas;
mod tools;
