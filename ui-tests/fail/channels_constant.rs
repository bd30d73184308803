// `channels` as a constant is checked when the program compiles, by the same rules as a
// literal list: the error names the channel.
const TYPO: &[&str] = &["web", "slak"];
const NONE: &[&str] = &[];
const TWICE: [&str; 2] = ["api", "api"];
const NOT_NAMES: u32 = 3;

/// An unknown channel.
#[pillar::tool(channels = TYPO)]
async fn typo() {}

/// An empty list.
#[pillar::tool(channels = NONE)]
async fn none() {}

/// A channel twice.
#[pillar::tool(channels = TWICE)]
async fn twice() {}

/// Not a list of names.
#[pillar::tool(channels = NOT_NAMES)]
async fn not_names() {}

fn main() {}
