//! Return types are taken for what they are, not for their name: a `Result` through any
//! alias answers its `Err` as a failure; a generic struct named `...Result` is a plain
//! value.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::ToolCallErrorKind;
use serde::Serialize;
use serde_json::json;

/// An alias of `Result`: its failures must go out as failures, not as `{"Err": ...}`.
type Outcome<T> = Result<T, String>;

/// Divide two numbers.
#[pillar::tool]
async fn divide(a: i64, b: i64) -> Outcome<i64> {
    a.checked_div(b)
        .ok_or_else(|| "cannot divide by zero".to_owned())
}

/// A generic struct whose name ends in `Result`: a plain value.
#[derive(Serialize, pillar::JsonSchema)]
struct SearchResult<T> {
    hits: Vec<T>,
}

/// Search names.
#[pillar::tool(output_schema)]
async fn search_names(prefix: String) -> SearchResult<String> {
    SearchResult {
        hits: vec![format!("{prefix}ara")],
    }
}

/// `std::io::Result`, the `Ok` type's schema as the output schema.
#[pillar::tool(output_schema)]
async fn read_config(fail: bool) -> std::io::Result<Vec<u8>> {
    if fail {
        Err(std::io::Error::other("the disk is gone"))
    } else {
        Ok(vec![1, 2])
    }
}

#[tokio::test]
async fn return_types_are_taken_for_what_they_are_not_for_their_name() {
    let p = testing::pillar().build().unwrap();
    assert_eq!(
        testing::call(&p, "divide", json!({"a": 6, "b": 3}))
            .await
            .unwrap(),
        json!(2)
    );
    let err = testing::call(&p, "divide", json!({"a": 1, "b": 0}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolCallErrorKind::Failed);
    assert_eq!(err.message(), "cannot divide by zero");
    // Over the webhook: a failure, with the error's text.
    let body = testing::tool_call_body("divide", "tc_div", json!({"a": 1, "b": 0}));
    let (status, answer) = p
        .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
        .await
        .into_parts();
    assert_eq!(status, 200);
    assert_eq!(
        answer.to_value(),
        json!({"call_id": "tc_div", "success": false, "error": "cannot divide by zero"})
    );

    assert_eq!(
        testing::call(&p, "search_names", json!({"prefix": "S"}))
            .await
            .unwrap(),
        json!({"hits": ["Sara"]})
    );
    let schema = p
        .tool("search_names")
        .unwrap()
        .info()
        .output_schema
        .clone()
        .unwrap();
    assert_eq!(schema["properties"]["hits"]["type"], "array");

    assert_eq!(
        testing::call(&p, "read_config", json!({"fail": false}))
            .await
            .unwrap(),
        json!([1, 2])
    );
    let err = testing::call(&p, "read_config", json!({"fail": true}))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "the disk is gone");
    let schema = p
        .tool("read_config")
        .unwrap()
        .info()
        .output_schema
        .clone()
        .unwrap();
    assert_eq!(schema["type"], "array", "{schema}");
}
