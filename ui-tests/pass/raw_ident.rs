// Raw identifiers: the JSON key and the tool name are the identifier without `r#`.

/// A tool named after a keyword, with a keyword parameter.
#[pillar::tool]
async fn r#match(r#type: String, r#async: Option<bool>) -> String {
    format!("{type_} {async_:?}", type_ = r#type, async_ = r#async)
}

#[tokio::main]
async fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let info = &pillar.tools()[0];
    assert_eq!(info.name, "match");
    assert!(info.input_schema["properties"].get("type").is_some());
    assert!(info.input_schema["properties"].get("async").is_some());
    let value = pillar::testing::call(&pillar, "match", serde_json::json!({"type": "t"}));
    assert_eq!(value.await.unwrap(), "t None");
}
