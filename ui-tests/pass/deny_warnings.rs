//! A crate that denies every warning and requires docs: the expansion adds none.
#![deny(warnings, missing_docs)]
#![deny(
    unused_qualifications,
    unused_results,
    unreachable_pub,
    rust_2018_idioms
)]

use pillar::{JsonSchema, ToolContext};
use serde::Deserialize;

/// A filter.
#[derive(Deserialize, JsonSchema)]
pub struct Filter {
    /// A prefix.
    pub prefix: String,
}

/// A page of results.
#[derive(Deserialize, JsonSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
}

/// A mode.
#[derive(Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", default)]
pub struct Mode {
    /// Fast or not.
    pub fast: bool,
}

/// Generic and defaulted types.
#[pillar::tool]
async fn paged(page: Page<u8>, mode: Mode) -> usize {
    page.items.len() + usize::from(mode.fast)
}

/// Search, with every kind of parameter.
#[pillar::tool(output_schema)]
pub async fn search(
    /// The text.
    text: String,
    /// An optional limit.
    limit: Option<u32>,
    ctx: &ToolContext,
    filter: Filter,
) -> Result<Vec<String>, std::io::Error> {
    let _ = (limit, ctx.call_id(), filter.prefix);
    Ok(vec![text])
}

/// Without parameters nor context.
#[pillar::tool]
async fn ping() {}

/// The whole input.
#[pillar::tool]
async fn whole(#[pillar(input)] filter: Filter) -> String {
    filter.prefix
}

/// Only the context.
#[pillar::tool]
async fn context_only(ctx: &ToolContext) -> bool {
    ctx.confirmed()
}

fn main() {
    let _pillar = pillar::testing::pillar().build();
}
