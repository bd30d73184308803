/// Not a function.
#[pillar::tool]
struct Search {
    query: String,
}

fn main() {}
