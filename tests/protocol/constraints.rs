//! What a tool's schema advertises is what a call gets: formats, ranges, lengths,
//! patterns, item counts and uniqueness are enforced before the tool runs, every problem
//! named with its path; for macro tools, typed handlers and hand-written schemas alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::{Tool, ToolCallErrorKind};
use serde_json::{json, Value};

/// Invite someone to the workspace.
#[pillar::tool]
async fn invite(
    /// Their email
    #[schemars(email)]
    email: String,
    /// Seats to add
    #[schemars(range(min = 1, max = 100))]
    seats: u32,
    /// Team name
    #[schemars(length(min = 3, max = 20))]
    team: String,
    /// Labels, distinct, at least one
    #[schemars(length(min = 1))]
    #[schemars(extend("uniqueItems" = true))]
    labels: Vec<String>,
) -> String {
    format!("{email}:{seats}:{team}:{}", labels.len())
}

/// Record a login.
#[pillar::tool]
async fn record_login(
    #[schemars(extend("format" = "uuid"))] user: String,
    #[schemars(extend("format" = "date-time"))] at: String,
    #[schemars(extend("format" = "date"))] day: String,
    #[schemars(extend("format" = "ipv4"))] ip: String,
    #[schemars(extend("format" = "ipv6"))] ip6: Option<String>,
    #[schemars(url)] referrer: Option<String>,
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))] country: String,
) -> bool {
    let _ = (user, at, day, ip, ip6, referrer, country);
    true
}

/// Count: only serde's own checks, so no validator. (Not `count`: `tools::count` is
/// registered in this binary too.)
#[pillar::tool]
async fn count_items(n: u8, items: Vec<i64>) -> usize {
    usize::from(n) + items.len()
}

fn pillar() -> pillar::Pillar {
    let hand_written = Tool::builder("set_limit")
        .description("Set a limit")
        .input_schema(json!({
            "type": "object",
            "properties": {"limit": {"type": "integer", "minimum": 0, "maximum": 10}},
            "required": ["limit"]
        }))
        .handler(|args: Value, _ctx| async move { Ok::<_, String>(args["limit"].clone()) })
        .build()
        .unwrap();
    testing::pillar().tool(hand_written).build().unwrap()
}

fn good_invite() -> Value {
    json!({"email": "sarah@acme.com", "seats": 5, "team": "core", "labels": ["a", "b"]})
}

#[tokio::test]
async fn valid_arguments_run_the_tool() {
    let p = pillar();
    assert_eq!(
        testing::call(&p, "invite", good_invite()).await.unwrap(),
        "sarah@acme.com:5:core:2"
    );
    let login = json!({"user": "67e55044-10b1-426f-9247-bb680e5fe0c8", "at": "2026-11-26T10:00:00Z",
                       "day": "2026-11-26", "ip": "10.0.0.1", "ip6": "::1",
                       "referrer": "https://example.com/x", "country": "FR"});
    assert_eq!(
        testing::call(&p, "record_login", login).await.unwrap(),
        true
    );
    assert_eq!(
        testing::call(&p, "count_items", json!({"n": 2, "items": [1]}))
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn each_advertised_constraint_is_enforced() {
    let p = pillar();
    for (field, value) in [
        ("email", json!("not-an-email")),
        ("seats", json!(0)),
        ("seats", json!(1000)),
        ("team", json!("a")),
        ("team", json!("a-team-name-that-is-far-too-long")),
        ("labels", json!([])),
        ("labels", json!(["a", "a"])),
    ] {
        let mut args = good_invite();
        args[field] = value.clone();
        let err = testing::call(&p, "invite", args).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ToolCallErrorKind::InvalidArguments,
            "{field}={value}"
        );
        assert!(
            err.message().starts_with(&format!("arguments.{field}: ")),
            "{field}={value}: {}",
            err.message()
        );
    }
    for (field, value) in [
        ("user", "not-a-uuid"),
        ("at", "yesterday"),
        ("day", "2026-13-45"),
        ("ip", "300.1.1.1"),
        ("ip6", "not:an:ip"),
        ("referrer", "not a uri"),
        ("country", "France"),
    ] {
        let mut args = json!({"user": "67e55044-10b1-426f-9247-bb680e5fe0c8", "at": "2026-11-26T10:00:00Z",
                              "day": "2026-11-26", "ip": "10.0.0.1", "country": "FR"});
        args[field] = json!(value);
        let err = testing::call(&p, "record_login", args).await.unwrap_err();
        assert!(
            err.message().starts_with(&format!("arguments.{field}: ")),
            "{field}={value}: {}",
            err.message()
        );
    }
}

#[tokio::test]
async fn one_answer_names_every_problem_over_the_webhook() {
    let p = pillar();
    let body = testing::tool_call_body(
        "invite",
        "tc_bad",
        json!({"email": "nope", "seats": 1000, "team": "core", "labels": ["x"]}),
    );
    let (status, answer) = p
        .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
        .await
        .into_parts();
    assert_eq!(status, 200);
    let answer = answer.to_value();
    assert_eq!(answer["success"], false);
    let error = answer["error"].as_str().unwrap();
    assert_eq!(
        error,
        "arguments.email: \"nope\" is not an email address; \
         arguments.seats: 1000 is above the maximum of 100"
    );
}

#[tokio::test]
async fn a_hand_written_schema_is_enforced_whole() {
    let p = pillar();
    assert_eq!(
        testing::call(&p, "set_limit", json!({"limit": 3}))
            .await
            .unwrap(),
        3
    );
    let err = testing::call(&p, "set_limit", json!({})).await.unwrap_err();
    assert_eq!(err.message(), "missing: limit");
    let err = testing::call(&p, "set_limit", json!({"limit": 11}))
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "arguments.limit: 11 is above the maximum of 10"
    );
    let err = testing::call(&p, "set_limit", json!({"limit": "3"}))
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "arguments.limit: expected a whole number from 0 to 10, found the string \"3\""
    );
}

#[test]
fn an_invalid_hand_written_schema_fails_the_build() {
    let tool = Tool::builder("broken")
        .description("d")
        .input_schema(json!({"type": "object", "properties": {"x": {"type": 7}}}))
        .handler(|_: Value, _ctx| async { Ok::<_, String>(()) })
        .build()
        .unwrap();
    let err = testing::pillar().tool(tool).build().unwrap_err();
    assert!(
        err.to_string()
            .contains("is invalid: its input schema is not a valid JSON Schema"),
        "{err}"
    );
}
