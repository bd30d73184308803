// Attribute values as constants: `timeout_ms` as a constant expression or a `const`,
// `description` as a macro, and `#[doc = include_str!(..)]` as (part of) the doc comment.
const TIMEOUT_MS: u64 = 45_000;

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
}
