// The description comes from the doc comment, unless `description` overrides it.

/// Looks a customer up.
///
/// Matches on the email address first, then on the name.
#[pillar::tool]
async fn find_customer(query: String) -> String {
    query
}

/// This doc comment is for Rust readers only.
#[pillar::tool(description = "Cancel a subscription")]
async fn cancel(id: String) -> String {
    id
}

/** A block doc comment. */
#[pillar::tool]
async fn block_doc() {}

#[pillar::tool(description = "No doc comment at all")]
async fn undocumented() {}

fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let description = |name: &str| {
        let info = pillar
            .tools()
            .iter()
            .find(|info| info.name == name)
            .unwrap();
        info.description.clone()
    };
    assert_eq!(
        description("find_customer"),
        "Looks a customer up.\n\nMatches on the email address first, then on the name."
    );
    assert_eq!(description("cancel"), "Cancel a subscription");
    assert_eq!(description("block_doc"), "A block doc comment.");
    assert_eq!(description("undocumented"), "No doc comment at all");
}
