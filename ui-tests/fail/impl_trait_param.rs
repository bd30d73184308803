/// `impl Trait` is a hidden generic.
#[pillar::tool]
async fn display(value: impl std::fmt::Display) -> String {
    value.to_string()
}

fn main() {}
