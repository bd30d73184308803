// `#[pillar(input)]`: one parameter is the whole input, its type's schema the tool's.
use pillar::{JsonSchema, ToolContext};
use serde::Deserialize;

/// Who to invite.
#[derive(Deserialize, JsonSchema)]
struct InviteArgs {
    /// The invitee's email address.
    email: String,
    /// Their role, `member` unless given.
    #[serde(default)]
    role: Option<String>,
}

/// Invite someone to the workspace.
#[pillar::tool]
async fn invite(#[pillar(input)] args: InviteArgs, ctx: &ToolContext) -> Result<String, String> {
    let _ = ctx;
    Ok(format!(
        "{} as {}",
        args.email,
        args.role.as_deref().unwrap_or("member")
    ))
}

/// The context may come first, and the attribute may be written `#[pillar(input,)]`.
#[pillar::tool]
async fn invite_again(_ctx: &ToolContext, #[pillar(input)] mut args: InviteArgs) -> String {
    args.email.push('!');
    args.email
}

#[tokio::main]
async fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let info = pillar
        .tools()
        .iter()
        .find(|info| info.name == "invite")
        .unwrap();
    let properties = info.input_schema["properties"].as_object().unwrap();
    assert!(properties.contains_key("email"));
    assert!(properties.contains_key("role"));
    assert!(!properties.contains_key("args"));
    assert_eq!(info.input_schema["required"], serde_json::json!(["email"]));

    let args = serde_json::json!({"email": "a@b.c"});
    let value = pillar::testing::call(&pillar, "invite", args.clone())
        .await
        .unwrap();
    assert_eq!(value, "a@b.c as member");
    let value = pillar::testing::call(&pillar, "invite_again", args)
        .await
        .unwrap();
    assert_eq!(value, "a@b.c!");
}
