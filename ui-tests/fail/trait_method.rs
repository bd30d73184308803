// The attribute on a trait method, with or without a default body.
trait Tools {
    /// A default body.
    #[pillar::tool]
    async fn lookup(query: String) -> String {
        query
    }

    /// A declaration.
    #[pillar::tool]
    async fn other(query: String) -> String;
}

fn main() {}
