//! Tools defined with `#[pillar::tool]`, run through `Pillar::handle` and
//! `testing::call`: argument errors, timeouts, panics, channels, confirmations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::{Confirmation, Pillar, Reply, ToolCallErrorKind, ToolContext};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Deserialize, pillar::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Role {
    Admin,
    Member,
    Viewer,
}

#[derive(Debug, Serialize)]
struct Invite {
    email: String,
    role: String,
}

#[derive(Debug, thiserror::Error)]
enum InviteError {
    #[error("{0} is already a member")]
    AlreadyMember(String),
}

/// Invite a new member to the workspace.
#[pillar::tool(
    guidance = "Only when the user asks to invite someone.",
    timeout_ms = 15_000
)]
async fn invite_member(
    /// Email of the person to invite
    email: String,
    /// Role to assign
    role: Role,
) -> Result<Invite, InviteError> {
    if email == "taken@acme.com" {
        return Err(InviteError::AlreadyMember(email));
    }
    Ok(Invite {
        email,
        role: format!("{role:?}").to_lowercase(),
    })
}

#[derive(Debug, Serialize)]
struct Removed {
    removed: bool,
    user_id: String,
}

/// Remove a member from the workspace.
#[pillar::tool(channels = ["web", "slack"])]
async fn remove_member(ctx: &ToolContext, user_id: String) -> Result<Reply<Removed>, String> {
    if !ctx.confirmed() {
        return Ok(Confirmation::new()
            .title("Remove member")
            .message(format!("Remove {user_id}?"))
            .detail("Member", &user_id)
            .payload(json!({ "user_id": user_id }))
            .into());
    }
    Ok(Reply::Done(Removed {
        removed: true,
        user_id,
    }))
}

/// Sleep longer than allowed.
#[pillar::tool(timeout_ms = 30)]
async fn too_slow() -> Result<(), String> {
    tokio::time::sleep(Duration::from_secs(60)).await;
    Ok(())
}

/// Panic on purpose.
#[pillar::tool]
async fn explode(reason: String) -> Result<(), String> {
    panic!("exploded with {reason}");
}

/// Count things; a plain return value.
#[pillar::tool]
async fn count(items: Vec<String>, limit: Option<usize>) -> usize {
    items.len().min(limit.unwrap_or(usize::MAX))
}

fn pillar() -> Pillar {
    testing::pillar().build().unwrap()
}

#[tokio::test]
async fn typed_arguments_and_results() {
    let p = pillar();
    let out = testing::call(
        &p,
        "invite_member",
        json!({"email": "a@b.c", "role": "admin", "extra": 1}),
    )
    .await
    .unwrap();
    assert_eq!(out, json!({"email": "a@b.c", "role": "admin"}));
    let err = testing::call(
        &p,
        "invite_member",
        json!({"email": "taken@acme.com", "role": "viewer"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ToolCallErrorKind::Failed);
    assert_eq!(err.message(), "taken@acme.com is already a member");
    assert_eq!(
        testing::call(&p, "count", json!({"items": ["a", "b", "c"], "limit": 2}))
            .await
            .unwrap(),
        json!(2)
    );
    assert_eq!(
        testing::call(&p, "count", json!({"items": []}))
            .await
            .unwrap(),
        json!(0)
    );
}

#[tokio::test]
async fn argument_errors_name_the_parameter() {
    let p = pillar();
    let cases = [
        (
            json!({"email": "a@b.c", "role": "owner"}),
            r#"arguments.role: "owner" is not one of "admin", "member", "viewer""#,
        ),
        (json!({"role": "admin"}), "missing: email"),
        (
            json!({"email": 5, "role": "admin"}),
            "arguments.email: expected a string, found the number 5",
        ),
    ];
    for (args, expected) in cases {
        let err = testing::call(&p, "invite_member", args).await.unwrap_err();
        assert_eq!(err.kind(), ToolCallErrorKind::InvalidArguments);
        assert_eq!(err.message(), expected);
    }
    let err = testing::call(&p, "count", json!({"items": ["a", 7]}))
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "arguments.items[1]: expected a string, found the number 7"
    );
}

#[tokio::test]
async fn timeouts_and_panics_answer_clear_errors() {
    let p = pillar();
    let err = testing::call(&p, "too_slow", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ToolCallErrorKind::TimedOut);
    assert_eq!(err.message(), "Tool 'too_slow' timed out after 30 ms");
    let err = testing::call(&p, "explode", json!({"reason": "hunter2"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolCallErrorKind::Panicked);
    assert!(!err.message().contains("hunter2"), "{}", err.message());
}

#[tokio::test]
async fn channels_are_enforced() {
    let p = pillar();
    let ctx = ToolContext::builder()
        .channel(pillar::Channel::Discord)
        .build();
    let err = p
        .run_tool("remove_member", &json!({"user_id": "u_1"}), ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolCallErrorKind::ChannelNotAllowed);
}

#[tokio::test]
async fn confirmation_round_trip_over_the_webhook() {
    let p = pillar();
    let body = testing::tool_call_body("remove_member", "tc_1", json!({"user_id": "u_42"}));
    let (status, first) = p
        .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
        .await
        .into_parts();
    assert_eq!(status, 200);
    let first = first.to_value();
    assert_eq!(
        first["result"],
        json!({
            "confirmation_required": true,
            "title": "Remove member",
            "message": "Remove u_42?",
            "details": {"Member": "u_42"},
            "confirm_payload": {"user_id": "u_42"}
        })
    );
    let body = testing::tool_confirm_body(
        "remove_member",
        "tc_1",
        first["result"]["confirm_payload"].clone(),
    );
    let (status, second) = p
        .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
        .await
        .into_parts();
    assert_eq!(status, 200);
    assert_eq!(
        second.to_value(),
        json!({"call_id": "tc_1", "success": true, "result": {"removed": true, "user_id": "u_42"}})
    );
}

#[test]
fn the_listing_is_sorted_and_in_registration_form() {
    let p = pillar();
    // The whole listing (the binary's other modules register tools too) is sorted, each
    // name once; the tools defined here are all in it.
    let all: Vec<&str> = p.tools().iter().map(|t| t.name.as_str()).collect();
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
    let here: Vec<&pillar::ToolInfo> = p
        .tools()
        .iter()
        .filter(|t| p.tool(&t.name).unwrap().location().file == file!())
        .collect();
    let names: Vec<&str> = here.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "count",
            "explode",
            "invite_member",
            "remove_member",
            "too_slow"
        ]
    );
    let invite = serde_json::to_value(here[2]).unwrap();
    assert_eq!(
        invite["description"],
        "Invite a new member to the workspace."
    );
    assert_eq!(
        invite["guidance"],
        "Only when the user asks to invite someone."
    );
    assert_eq!(invite["timeout_ms"], 15_000);
    assert_eq!(invite["channel_compatibility"], json!(["*"]));
    assert_eq!(invite["tool_type"], "server_side");
    assert_eq!(
        invite["inputSchema"],
        json!({
            "type": "object",
            "properties": {
                "email": {"type": "string", "description": "Email of the person to invite"},
                "role": {"type": "string", "enum": ["admin", "member", "viewer"], "description": "Role to assign"}
            },
            "required": ["email", "role"]
        })
    );
    let remove = serde_json::to_value(here[3]).unwrap();
    assert_eq!(remove["channel_compatibility"], json!(["web", "slack"]));
    assert!(remove.get("guidance").is_none());
    let _ = Value::Null;
}
