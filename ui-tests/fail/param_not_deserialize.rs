use pillar::JsonSchema;

#[derive(JsonSchema)]
struct Filter {
    prefix: String,
}

/// The parameter's type has no `Deserialize`.
#[pillar::tool]
async fn search(query: String, filter: Filter) -> String {
    let _ = filter.prefix;
    query
}

fn main() {}
