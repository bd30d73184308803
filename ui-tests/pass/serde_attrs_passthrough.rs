// `#[serde(...)]` and `#[schemars(...)]` on a parameter apply to its property.

/// Lists items.
#[pillar::tool]
async fn list_items(
    /// Page size.
    #[serde(default = "default_limit")]
    limit: u32,
    #[serde(rename = "type")] kind: String,
    #[serde(default)]
    #[schemars(range(max = 10))]
    page: u8,
    #[allow(unused_mut)] mut verbose: Option<bool>,
) -> String {
    format!("{limit} {kind} {page} {verbose:?}")
}

fn default_limit() -> u32 {
    20
}

#[tokio::main]
async fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let schema = &pillar.tools()[0].input_schema;
    let properties = schema["properties"].as_object().unwrap();
    assert!(properties.contains_key("type"));
    assert!(!properties.contains_key("kind"));
    assert_eq!(schema["required"], serde_json::json!(["type"]));
    assert_eq!(properties["page"]["maximum"], 10);

    let args = serde_json::json!({"type": "book"});
    let value = pillar::testing::call(&pillar, "list_items", args)
        .await
        .unwrap();
    assert_eq!(value, "20 book 0 None");
}
