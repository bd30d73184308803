// `crate = path` reaches the runtime through another path (here a re-export; the test
// with a renamed dependency lives in tests/renamed).
mod sdk {
    pub use ::pillar::*;
}

/// Through a path.
#[pillar::tool(crate = crate::sdk)]
async fn through_path(text: String, ctx: &sdk::ToolContext) -> Result<String, String> {
    let _ = ctx;
    Ok(text)
}

/// A type whose schema is derived through the same path.
#[derive(serde::Deserialize, sdk::JsonSchema)]
#[pillar(crate = crate::sdk)]
struct Query {
    text: String,
}

/// With a derived type.
#[pillar::tool(crate = crate::sdk)]
async fn with_type(query: Query) -> String {
    query.text
}

/// Through a string.
#[pillar::tool(crate = "crate::sdk")]
async fn through_string(n: Option<i32>) -> i32 {
    n.unwrap_or(0)
}

fn main() {
    let pillar = sdk::testing::pillar().build().unwrap();
    assert_eq!(pillar.tools().len(), 3);
}
