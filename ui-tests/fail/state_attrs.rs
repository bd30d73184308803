use pillar::State;

struct Db;

/// Input attributes on a state parameter.
#[pillar::tool]
async fn lookup(#[pillar(input)] db: State<Db>, #[serde(default)] other: State<u8>) -> String {
    let _ = (db, other);
    String::new()
}

fn main() {}
