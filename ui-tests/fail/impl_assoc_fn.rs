// The attribute on a function of an `impl` block: a tool is a free `async fn`.
struct Service;

impl Service {
    /// An associated function, no `self`.
    #[pillar::tool]
    async fn lookup(query: String) -> String {
        query
    }

    /// One that names `Self`.
    #[pillar::tool]
    async fn create(name: String) -> Option<Self> {
        let _ = name;
        None
    }
}

fn main() {}
