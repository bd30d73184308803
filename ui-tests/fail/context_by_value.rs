use pillar::ToolContext;

/// The context taken by value.
#[pillar::tool]
async fn by_value(ctx: ToolContext, query: String) -> String {
    let _ = ctx;
    query
}

/// By its full path.
#[pillar::tool]
async fn by_path(query: String, ctx: pillar::ToolContext) -> String {
    let _ = ctx;
    query
}

fn main() {}
