// Every key of the attribute at once.
use pillar::JsonSchema;
use serde::Serialize;

#[derive(Serialize, JsonSchema)]
struct Removed {
    removed: bool,
}

#[pillar::tool(
    name = "workspace.remove-member:v2",
    description = "Remove a member from the workspace",
    guidance = "Only use when the user explicitly asks. Always confirm first.",
    timeout_ms = 60_000,
    channels = ["web", "slack", "discord", "email", "api"],
    output_schema,
    crate = ::pillar,
)]
async fn remove_member(user_id: String) -> Result<Removed, std::io::Error> {
    let _ = user_id;
    Ok(Removed { removed: true })
}

/// A plain return with an output schema.
#[pillar::tool(output_schema, channels = ["*"], timeout_ms = 1u64)]
async fn count() -> u32 {
    3
}

fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let info = pillar
        .tools()
        .iter()
        .find(|info| info.name == "workspace.remove-member:v2")
        .unwrap();
    assert_eq!(info.description, "Remove a member from the workspace");
    assert_eq!(
        info.guidance.as_deref(),
        Some("Only use when the user explicitly asks. Always confirm first.")
    );
    assert_eq!(info.timeout_ms, 60_000);
    assert_eq!(
        info.channel_compatibility,
        ["web", "slack", "discord", "email", "api"]
    );
    let output = info.output_schema.as_ref().unwrap();
    assert_eq!(output["properties"]["removed"]["type"], "boolean");

    let info = pillar
        .tools()
        .iter()
        .find(|info| info.name == "count")
        .unwrap();
    assert_eq!(info.timeout_ms, 1);
    assert_eq!(info.output_schema.as_ref().unwrap()["type"], "integer");
}
