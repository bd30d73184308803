// A tool that asks for confirmation before it acts: `Result<Reply<T>, E>`.
use pillar::{Confirmation, JsonSchema, Reply, ToolContext};
use serde::Serialize;

#[derive(Serialize, JsonSchema)]
struct Removed {
    removed: bool,
}

#[derive(Debug)]
struct DbError(String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DbError {}

#[pillar::tool(
    description = "Remove a member from the workspace",
    guidance = "Only use when the user explicitly asks. Always confirm first.",
    timeout_ms = 60_000,
    channels = ["web", "slack"],
    output_schema,
)]
async fn delete_member(user_id: String, ctx: &ToolContext) -> Result<Reply<Removed>, DbError> {
    if user_id.is_empty() {
        return Err(DbError("no such user".to_owned()));
    }
    if !ctx.confirmed() {
        return Ok(Confirmation::new()
            .title("Remove member")
            .message(format!("Remove {user_id} from the workspace?"))
            .detail("Member", &user_id)
            .payload(serde_json::json!({ "user_id": user_id }))
            .into());
    }
    Ok(Reply::Done(Removed { removed: true }))
}

#[tokio::main]
async fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let info = &pillar.tools()[0];
    assert_eq!(
        info.output_schema.as_ref().unwrap()["properties"]["removed"]["type"],
        "boolean"
    );
    let args = serde_json::json!({"user_id": "u1"});
    let value = pillar::testing::call(&pillar, "delete_member", args)
        .await
        .unwrap();
    assert_eq!(value["title"], "Remove member");
}
