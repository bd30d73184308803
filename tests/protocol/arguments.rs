//! One answer names every problem of a call's arguments: every missing and every invalid
//! argument with its path and what was expected, in words (no Rust type names, no
//! internal paths), "did you mean" for a close misspelling, `null` read as the default of
//! an optional parameter; through `testing::call` and over a signed webhook.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::ToolCallErrorKind;
use serde::Deserialize;
use serde_json::{json, Value};

/// A role in the workspace.
#[derive(Debug, Deserialize, pillar::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Role {
    Admin,
    Member,
}

/// Where to ship.
#[derive(Debug, Deserialize, pillar::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Address {
    street: String,
    city: String,
}

/// Add seats for someone.
#[pillar::tool]
async fn add_seats(
    /// Their email
    #[schemars(email)]
    email: String,
    /// Seats to add
    #[schemars(range(min = 1, max = 100))]
    seats: u32,
    /// Their role
    role: Role,
) -> String {
    format!("{email}:{seats}:{role:?}")
}

/// Ship an order: only serde's own checks, so no validator until a call is refused.
#[pillar::tool]
async fn ship(
    quantity: u32,
    address: Address,
    express: bool,
    /// Defaults to 10
    #[serde(default = "ten")]
    limit: u8,
    note: Option<String>,
) -> String {
    let _ = address.street;
    format!("{quantity}:{}:{express}:{limit}:{note:?}", address.city)
}

/// An even number: a rule only its `Deserialize` knows.
fn even<'de, D: serde::Deserializer<'de>>(de: D) -> Result<u32, D::Error> {
    let n = u32::deserialize(de)?;
    if n % 2 == 0 {
        Ok(n)
    } else {
        Err(serde::de::Error::custom(format!("{n} is odd")))
    }
}

/// Split in pairs.
#[pillar::tool]
async fn pairs(#[serde(deserialize_with = "even")] n: u32) -> u32 {
    n / 2
}

fn ten() -> u8 {
    10
}

fn pillar() -> pillar::Pillar {
    testing::pillar().build().unwrap()
}

async fn refusal(p: &pillar::Pillar, tool: &str, args: Value) -> String {
    let err = testing::call(p, tool, args).await.unwrap_err();
    assert_eq!(err.kind(), ToolCallErrorKind::InvalidArguments, "{err}");
    err.message().to_owned()
}

#[tokio::test]
async fn every_missing_argument_in_one_answer() {
    let p = pillar();
    assert_eq!(
        refusal(&p, "add_seats", json!({})).await,
        "missing: email, seats, role"
    );
    assert_eq!(
        refusal(&p, "ship", json!({"express": true})).await,
        "missing: quantity, address"
    );
}

#[tokio::test]
async fn every_invalid_argument_in_words() {
    let p = pillar();
    assert_eq!(
        refusal(&p, "add_seats", json!({"email": "nope", "seats": 1000})).await,
        "arguments.email: \"nope\" is not an email address; \
         arguments.seats: 1000 is above the maximum of 100; missing: role"
    );
    assert_eq!(
        refusal(
            &p,
            "ship",
            json!({"quantity": "three", "address": {"street": "1 Main"}, "express": "yes", "limit": 300})
        )
        .await,
        "arguments.quantity: expected a whole number from 0 to 4294967295, found the string \"three\"; \
         arguments.express: expected true or false, found the string \"yes\"; \
         arguments.limit: 300 is above the maximum of 255; \
         missing: address.city"
    );
    assert_eq!(
        refusal(
            &p,
            "add_seats",
            json!({"email": "a@b.co", "seats": 2, "role": "owner"})
        )
        .await,
        "arguments.role: \"owner\" is not one of \"admin\", \"member\""
    );
    assert_eq!(
        refusal(&p, "ship", json!({"quantity": -1, "address": {"street": "s", "city": "c"}, "express": false, "note": 5}))
            .await,
        "arguments.quantity: -1 is below the minimum of 0; \
         arguments.note: expected a string, found the number 5"
    );
}

#[tokio::test]
async fn a_close_unknown_key_gets_did_you_mean() {
    let p = pillar();
    assert_eq!(
        refusal(
            &p,
            "add_seats",
            json!({"emial": "a@b.co", "seats": 2, "role": "admin"})
        )
        .await,
        "missing: email (`emial` was given: did you mean `email`?)"
    );
    // Inside a struct that denies unknown fields, the unknown one is named too.
    assert_eq!(
        refusal(
            &p,
            "ship",
            json!({"quantity": 1, "address": {"street": "s", "ctiy": "Oslo"}, "express": true})
        )
        .await,
        "arguments.address.ctiy: unknown field (did you mean `city`?); \
         missing: address.city (`ctiy` was given: did you mean `city`?)"
    );
}

#[tokio::test]
async fn unknown_keys_stay_ignored_and_null_reads_as_the_default() {
    let p = pillar();
    let address = json!({"street": "1 Main", "city": "Oslo"});
    assert_eq!(
        testing::call(
            &p,
            "ship",
            json!({"quantity": 2, "address": address, "express": true, "extra": 1})
        )
        .await
        .unwrap(),
        "2:Oslo:true:10:None"
    );
    assert_eq!(
        testing::call(
            &p,
            "ship",
            json!({"quantity": 2, "address": address, "express": true, "limit": null, "note": null})
        )
        .await
        .unwrap(),
        "2:Oslo:true:10:None"
    );
    // `null` for a required parameter is still refused, in words.
    assert_eq!(
        refusal(
            &p,
            "ship",
            json!({"quantity": null, "address": address, "express": true})
        )
        .await,
        "arguments.quantity: expected a whole number from 0 to 4294967295, found null"
    );
}

#[tokio::test]
async fn no_rust_type_name_or_internal_path_leaks() {
    let p = pillar();
    for args in [
        json!({"quantity": 1.5, "address": [], "express": 1}),
        json!({"quantity": 1, "address": "Oslo", "express": true}),
        json!({"email": ["x"], "seats": {}, "role": 3}),
    ] {
        let tool = if args.get("email").is_some() {
            "add_seats"
        } else {
            "ship"
        };
        let message = refusal(&p, tool, args).await;
        for leak in ["u32", "u8", "struct", "Address", "Role", "?", "enum "] {
            assert!(!message.contains(leak), "`{leak}` in: {message}");
        }
    }
}

#[tokio::test]
async fn every_problem_over_a_signed_webhook() {
    let p = pillar();
    let body =
        testing::tool_call_body("add_seats", "tc_every", json!({"seats": 0, "rol": "admin"}));
    let (status, answer) = p
        .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
        .await
        .into_parts();
    assert_eq!(status, 200);
    let answer = answer.to_value();
    assert_eq!(answer["success"], false);
    assert_eq!(
        answer["error"],
        "arguments.seats: 0 is below the minimum of 1; \
         missing: email, role (`rol` was given: did you mean `role`?)"
    );
}

#[tokio::test]
async fn a_rule_only_deserialize_knows_is_said_by_serde() {
    let p = pillar();
    assert_eq!(
        testing::call(&p, "pairs", json!({"n": 4})).await.unwrap(),
        2
    );
    assert_eq!(
        refusal(&p, "pairs", json!({"n": 3})).await,
        "arguments.n: 3 is odd"
    );
    // A problem the schema states is still said in its words.
    assert_eq!(
        refusal(&p, "pairs", json!({"n": "4"})).await,
        "arguments.n: expected a whole number from 0 to 4294967295, found the string \"4\""
    );
}
