//! Regression tests for what the fuzz targets (`fuzz/`, see `fuzz/README.md`) found. Each
//! test names the target and the input that showed the problem.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::{Pillar, Tool};
use serde_json::Value;

fn echo_pillar() -> Pillar {
    let echo = Tool::builder("echo")
        .description("Returns its arguments")
        .handler(|args: Value, _ctx| async move { Ok::<_, String>(args) })
        .build()
        .unwrap();
    testing::pillar()
        .registered_tools(false)
        .tool(echo)
        .build()
        .unwrap()
}

/// Target `handle`, input (after the selector byte `\x02`, "signed now"):
/// `{"action":"tool_call","tool_name":"echo","call_id":"tc_1","arguments":{"n":[0,999999999999,999899999999999999999999999999990.566…]}}`.
///
/// A float argument reaches the tool one ULP away from the number sent: `9.999e+32`
/// arrives as `9.998999999999999e+32`, because serde_json's default float parser is not
/// correctly rounded. Enabling serde_json's `float_roundtrip` feature (root `Cargo.toml`,
/// `[workspace.dependencies]`) makes it exact (checked with
/// `cargo test -p pillar-ai-server --test fuzz_regressions --features serde_json/float_roundtrip`).
#[tokio::test]
async fn float_arguments_reach_the_tool_exactly() {
    let pillar = echo_pillar();
    let body =
        br#"{"action":"tool_call","tool_name":"echo","call_id":"c","arguments":{"n":9.999e+32}}"#;
    let (status, answer) = pillar
        .handle(body, &protocol::signed_headers(TEST_SECRET, body))
        .await
        .into_parts();
    assert_eq!(status, 200);
    let result = answer.result().expect("a result").get();
    assert_eq!(result, r#"{"n":9.999e+32}"#, "the tool got another number");
}
