use pillar::State as AppState;

struct Db;

/// A renamed import is not recognised as a state.
#[pillar::tool]
async fn lookup(db: AppState<Db>, email: String) -> String {
    let _ = db;
    email
}

fn main() {}
