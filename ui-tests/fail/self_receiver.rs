struct Service;

impl Service {
    /// A method.
    #[pillar::tool]
    async fn method(&self, query: String) -> String {
        query
    }
}

fn main() {}
