// A tool without parameters has an empty object schema and accepts `{}` or no arguments.

/// The server's version.
#[pillar::tool]
async fn version() -> &'static str {
    "1.0.0"
}

#[tokio::main]
async fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let schema = &pillar.tools()[0].input_schema;
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"], serde_json::json!({}));
    let value = pillar::testing::call(&pillar, "version", serde_json::json!({})).await;
    assert_eq!(value.unwrap(), "1.0.0");
}
