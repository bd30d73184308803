//! A crate that depends on the SDK renamed as `sdk`: there is no `::pillar` here, so the
//! generated code compiles only if it uses the path given with `crate = sdk`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde::Deserialize;

/// A greeting style.
#[derive(Debug, Deserialize, sdk::JsonSchema)]
#[schemars(crate = "sdk::__private::schemars")]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// Formal.
    Formal,
    /// Casual.
    Casual,
}

/// Greet someone.
#[sdk::tool(crate = sdk)]
pub async fn greet(
    /// Who to greet
    name: String,
    style: Option<Style>,
    ctx: &sdk::ToolContext,
) -> Result<String, std::convert::Infallible> {
    let _ = ctx;
    Ok(match style {
        Some(Style::Formal) => format!("Good day, {name}."),
        _ => format!("Hi {name}!"),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[tokio::test]
    async fn renamed_dependency_tool_runs() {
        let pillar = sdk::testing::pillar().build().unwrap();
        assert_eq!(
            sdk::testing::call(&pillar, "greet", json!({"name": "Ada", "style": "formal"}))
                .await
                .unwrap(),
            json!("Good day, Ada.")
        );
        let schema = &pillar.tools()[0].input_schema;
        assert_eq!(schema["properties"]["name"]["description"], "Who to greet");
        assert_eq!(schema["required"], json!(["name"]));
    }
}
