use pillar::{JsonSchema, ToolContext};
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct InviteArgs {
    email: String,
}

/// Beside another parameter.
#[pillar::tool]
async fn beside(#[pillar(input)] _args: InviteArgs, _role: String) {}

/// Twice.
#[pillar::tool]
async fn twice(#[pillar(input)] _a: InviteArgs, #[pillar(input)] _b: InviteArgs) {}

/// On the context.
#[pillar::tool]
async fn on_context(#[pillar(input)] _ctx: &ToolContext) {}

/// An unknown option.
#[pillar::tool]
async fn unknown(#[pillar(inputs)] _args: InviteArgs) {}

/// Serde attributes belong on the type.
#[pillar::tool]
async fn serde_attr(
    #[pillar(input)]
    #[serde(default)]
    _args: InviteArgs,
) {
}

fn main() {}
