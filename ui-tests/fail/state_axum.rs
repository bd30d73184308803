use axum::extract::State;

#[derive(Clone)]
struct Db;

/// axum's `State` written by mistake.
#[pillar::tool]
async fn lookup(db: State<Db>, email: String) -> String {
    let _ = db;
    email
}

fn main() {}
