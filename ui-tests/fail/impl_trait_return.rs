/// `impl Trait` in return position.
#[pillar::tool]
async fn numbers() -> impl serde::Serialize {
    vec![1, 2, 3]
}

fn main() {}
