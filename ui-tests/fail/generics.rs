/// Type parameter.
#[pillar::tool]
async fn type_param<T: serde::de::DeserializeOwned>(_value: T) {}

/// Lifetime parameter.
#[pillar::tool]
async fn lifetime<'a>(_value: String) {}

/// Where clause.
#[pillar::tool]
async fn where_clause(_value: String)
where
    String: Clone,
{
}

fn main() {}
