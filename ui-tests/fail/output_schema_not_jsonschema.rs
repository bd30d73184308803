use serde::Serialize;

#[derive(Serialize)]
struct Removed {
    removed: bool,
}

/// `output_schema` needs `JsonSchema` on the `Ok` type.
#[pillar::tool(output_schema)]
async fn remove(id: String) -> Result<Removed, String> {
    let _ = id;
    Ok(Removed { removed: true })
}

fn main() {}
