/// A `&str` parameter.
#[pillar::tool]
async fn greet(name: &str) -> String {
    format!("hello {name}")
}

fn main() {}
