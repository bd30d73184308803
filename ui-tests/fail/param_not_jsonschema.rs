use serde::Deserialize;

#[derive(Deserialize)]
struct Filter {
    prefix: String,
}

/// The parameter's type has no `JsonSchema`.
#[pillar::tool]
async fn search(filter: Filter) -> String {
    filter.prefix
}

fn main() {}
