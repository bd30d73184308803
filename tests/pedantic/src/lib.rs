//! A user crate that turns on `clippy::pedantic`: `cargo clippy --workspace -- -D
//! warnings` fails if the expansion of `#[pillar::tool]` (or a tool that awaits nothing,
//! as many do) trips one of its lints.

#![warn(clippy::pedantic)]
// A tool's doc comment is its description for the agent: a `# Errors` section would be
// sent to it too. That lint is the user's choice, not the expansion's.
#![allow(clippy::missing_errors_doc)]

use pillar::{State, ToolContext};

/// A counter shared by the tools.
#[derive(Debug, Default)]
pub struct Counter(std::sync::atomic::AtomicU64);

/// Search, awaiting nothing (clippy's `unused_async` must not fire).
#[pillar::tool(timeout_ms = 5 * 1000)]
pub async fn search(
    /// Words to look for
    query: String,
    limit: Option<u32>,
    counter: State<Counter>,
    ctx: &ToolContext,
) -> Result<Vec<String>, String> {
    counter.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let _ = ctx.call_id();
    Ok(vec![query; limit.unwrap_or(1) as usize])
}
