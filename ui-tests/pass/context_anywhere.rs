// The `&ToolContext` parameter may stand first, in the middle or last, and is never part
// of the input schema.
use pillar::ToolContext;

/// Context first.
#[pillar::tool]
async fn first(ctx: &ToolContext, a: String) -> String {
    format!("{}:{a}", ctx.call_id().is_empty())
}

/// Context in the middle.
#[pillar::tool]
async fn middle(a: String, ctx: &ToolContext, b: i64) -> String {
    format!("{a}{b}{}", ctx.confirmed())
}

/// Context last.
#[pillar::tool]
async fn last(a: String, b: i64, ctx: &ToolContext) -> Result<String, String> {
    let _ = ctx;
    Ok(format!("{a}{b}"))
}

/// Only the context, bound to `_`.
#[pillar::tool]
async fn only(_: &ToolContext) {}

/// Context through a path.
#[pillar::tool]
async fn by_path(ctx: &pillar::ToolContext, n: u8) -> u8 {
    let _ = ctx;
    n
}

#[tokio::main]
async fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    for info in pillar.tools() {
        let properties = info.input_schema["properties"].as_object().unwrap();
        assert!(!properties.keys().any(|key| key == "ctx"), "{}", info.name);
    }
    let args = serde_json::json!({"a": "x", "b": 2});
    let value = pillar::testing::call(&pillar, "middle", args.clone())
        .await
        .unwrap();
    assert_eq!(value, "x2false");
    let value = pillar::testing::call(&pillar, "last", args).await.unwrap();
    assert_eq!(value, "x2");
}
