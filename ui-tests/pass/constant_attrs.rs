// Attribute values as constants: `timeout_ms` as a constant expression or a `const`,
// `channels` as a `const` (a slice or an array, here or in another module),
// `description` as a macro, and `#[doc = include_str!(..)]` as (part of) the doc comment.
const TIMEOUT_MS: u64 = 45_000;
const CHANNELS: &[&str] = &["web", "slack"];
const EVERYWHERE: [&str; 1] = ["*"];

mod settings {
    pub(crate) const INTERNAL: &[&str] = &["api", "email"];
}

/// Channels from a constant slice.
#[pillar::tool(channels = CHANNELS)]
async fn from_slice() {}

/// Channels from a constant array, and a constant in another module.
#[pillar::tool(channels = EVERYWHERE)]
async fn from_array() {}

/// Channels from a path.
#[pillar::tool(channels = settings::INTERNAL, timeout_ms = TIMEOUT_MS * 2)]
async fn from_path() {}

/// An arithmetic expression.
#[pillar::tool(timeout_ms = 60 * 1000)]
async fn computed() {}

#[pillar::tool(timeout_ms = TIMEOUT_MS, description = concat!("Made ", "at compile time"))]
async fn constant() {}

/// First line.
#[doc = include_str!("doc_fragment.md")]
/// Last line.
#[pillar::tool]
async fn between() {}

#[doc = include_str!("doc_fragment.md")]
#[pillar::tool]
async fn alone() {}

fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let info = |name: &str| pillar.tool(name).unwrap().info().clone();
    assert_eq!(info("computed").timeout_ms, 60_000);
    assert_eq!(info("constant").timeout_ms, 45_000);
    assert_eq!(info("constant").description, "Made at compile time");
    assert_eq!(
        info("between").description,
        "First line.\nFrom a file: the tool's longer story.\n\nLast line."
    );
    assert_eq!(info("alone").description, "From a file: the tool's longer story.");
    assert_eq!(info("from_slice").channel_compatibility, ["web", "slack"]);
    assert_eq!(info("from_array").channel_compatibility, ["*"]);
    assert_eq!(info("from_path").channel_compatibility, ["api", "email"]);
    assert_eq!(info("from_path").timeout_ms, 90_000);
}
