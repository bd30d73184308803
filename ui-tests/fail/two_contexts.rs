use pillar::ToolContext;

/// Two contexts.
#[pillar::tool]
async fn twice(a: &ToolContext, query: String, b: &ToolContext) -> String {
    let _ = (a, b);
    query
}

fn main() {}
