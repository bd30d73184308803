#[derive(Debug)]
struct DbError;

/// The error type has no `Display`.
#[pillar::tool]
async fn fetch(id: String) -> Result<String, DbError> {
    Ok(id)
}

fn main() {}
