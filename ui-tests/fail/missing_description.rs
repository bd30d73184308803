#[pillar::tool(timeout_ms = 1000)]
async fn undocumented(query: String) -> String {
    query
}

fn main() {}
