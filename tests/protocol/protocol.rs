//! Every row of PROTOCOL.md's answers table, its test vectors, and the confirmation
//! round trip, through `Pillar::handle` exactly as an HTTP adapter calls it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use pillar::http::{HeaderMap, HeaderValue, StatusCode};
use pillar::protocol;
use pillar::signature;
use pillar::testing::{self, TEST_SECRET};
use pillar::{Confirmation, Pillar, Reply, Tool, ToolContext};
use serde_json::{json, Value};

const NOW: i64 = 1_710_000_000;

fn echo_tool() -> Tool {
    Tool::builder("echo")
        .description("Echo the arguments and the context")
        .handler(|args: Value, ctx: ToolContext| async move {
            Ok::<_, String>(json!({
                "args": args,
                "confirmed": ctx.confirmed(),
                "call_id": ctx.call_id(),
                "conversation_id": ctx.conversation_id(),
                "channel": ctx.caller().channel.as_str(),
                "identified": ctx.is_identified(),
                "product_id": ctx.product_id(),
            }))
        })
        .build()
        .unwrap()
}

fn failing_tool() -> Tool {
    Tool::builder("fail")
        .description("Always fails")
        .handler(|_args: Value, _ctx| async move {
            Err::<Value, _>(format!("database password {TEST_SECRET} rejected"))
        })
        .build()
        .unwrap()
}

fn slow_tool() -> Tool {
    Tool::builder("slow")
        .description("Sleeps past its timeout")
        .timeout_ms(50)
        .handler(|_args: Value, _ctx| async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<_, String>(json!("never"))
        })
        .build()
        .unwrap()
}

fn panicking_tool() -> Tool {
    Tool::builder("boom")
        .description("Panics")
        .handler(|_args: Value, _ctx| async move {
            if true {
                panic!("secret internals: {TEST_SECRET}");
            }
            Ok::<_, String>(json!(null))
        })
        .build()
        .unwrap()
}

fn web_only_tool() -> Tool {
    Tool::builder("web_only")
        .description("Only for the web panel")
        .channels(["web"])
        .handler(|_args: Value, _ctx| async move { Ok::<_, String>(json!("ran")) })
        .build()
        .unwrap()
}

fn delete_tool() -> Tool {
    Tool::builder("delete_member")
        .description("Remove a member")
        .handler(|args: Value, ctx: ToolContext| async move {
            if !ctx.confirmed() {
                let reply: Reply<Value> = Confirmation::new()
                    .title("Remove member")
                    .detail("Member", args["user_id"].as_str().unwrap_or("?"))
                    .into();
                return Ok::<_, String>(reply);
            }
            Ok(Reply::Done(json!({"removed": args["user_id"]})))
        })
        .build()
        .unwrap()
}

fn delete_with_payload_tool() -> Tool {
    Tool::builder("delete_by_email")
        .description("Remove a member by email")
        .handler(|args: Value, ctx: ToolContext| async move {
            if !ctx.confirmed() {
                let reply: Reply<Value> = Confirmation::new()
                    .message("Delete?")
                    .payload(json!({"user_id": "u_42"}))
                    .into();
                return Ok::<_, String>(reply);
            }
            Ok(Reply::Done(json!({"deleted": args})))
        })
        .build()
        .unwrap()
}

fn pillar() -> Pillar {
    testing::pillar()
        .registered_tools(false)
        .tools([
            echo_tool(),
            failing_tool(),
            slow_tool(),
            panicking_tool(),
            web_only_tool(),
            delete_tool(),
            delete_with_payload_tool(),
        ])
        .clock(|| NOW)
        .build()
        .unwrap()
}

fn signed(body: &[u8]) -> HeaderMap {
    headers(&signature::sign(TEST_SECRET, body, NOW))
}

fn headers(signature: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "X-Pillar-Signature",
        HeaderValue::from_str(signature).unwrap(),
    );
    h
}

async fn send(p: &Pillar, body: &[u8], headers: &HeaderMap) -> (StatusCode, Value) {
    let (status, answer) = p.handle(body, headers).await.into_parts();
    // The bytes an adapter sends and the value agree.
    let bytes: Value = serde_json::from_slice(&answer.to_bytes()).unwrap();
    assert_eq!(bytes, answer.to_value());
    (status, bytes)
}

async fn call(p: &Pillar, body: Value) -> (StatusCode, Value) {
    let body = body.to_string().into_bytes();
    send(p, &body, &signed(&body)).await
}

#[tokio::test]
async fn ping_needs_no_signature() {
    let p = pillar();
    for h in [HeaderMap::new(), headers("t=1,v1=00")] {
        let (status, body) = send(&p, br#"{"action":"ping"}"#, &h).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"status": "ok"}));
    }
}

#[tokio::test]
async fn body_that_is_not_json_is_400() {
    let p = pillar();
    for body in [
        &b"not json"[..],
        b"",
        b"{\"action\":",
        b"\xff\xfe{}",
        b"{} {}",
        // Invalid UTF-8 inside a string that is otherwise skipped (found by fuzzing).
        b"{\"action\":\"ping\",\"x\":\"\xff\"}",
    ] {
        let (status, answer) = send(&p, body, &signed(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(answer, json!({"success": false, "error": "Invalid JSON"}));
    }
}

#[tokio::test]
async fn bad_signatures_are_401_whatever_the_headers() {
    let p = pillar();
    let body = testing::tool_call_body("echo", "tc_1", json!({}));
    let good = signature::sign(TEST_SECRET, &body, NOW);
    let wrong_secret = signature::sign("plr_other", &body, NOW);
    let expired = signature::sign(TEST_SECRET, &body, NOW - 301);
    let future = signature::sign(TEST_SECRET, &body, NOW + 301);
    let mut twice = headers(&good);
    twice.append("x-pillar-signature", HeaderValue::from_str(&good).unwrap());
    let cases = [
        HeaderMap::new(),
        headers(""),
        headers("garbage"),
        headers(&wrong_secret),
        headers(&expired),
        headers(&future),
        headers(&good.replace("v1=", "v0=")),
        twice,
    ];
    for h in &cases {
        let (status, answer) = send(&p, &body, h).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{h:?}");
        assert_eq!(
            answer,
            json!({"success": false, "error": "Invalid signature"})
        );
    }
    // Inside the window, both directions, boundaries included.
    for t in [NOW - 300, NOW + 300] {
        let (status, _) = send(&p, &body, &headers(&signature::sign(TEST_SECRET, &body, t))).await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_reserialised_body_fails_verification() {
    let p = pillar();
    let compact = testing::tool_call_body("echo", "tc_1", json!({"a": 1}));
    let value: Value = serde_json::from_slice(&compact).unwrap();
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    let (status, _) = send(&p, &pretty, &signed(&compact)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_action_is_400_after_the_signature() {
    let p = pillar();
    let (status, body) = call(&p, json!({"action": "tool_delete", "tool_name": "echo"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"success": false, "error": "Unknown action: tool_delete"})
    );
    // Unsigned, the signature is what fails.
    let raw = br#"{"action":"tool_delete"}"#;
    assert_eq!(
        send(&p, raw, &HeaderMap::new()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = call(&p, json!({"tool_name": "echo"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "Unknown action: (missing)");
    let (status, body) = call(&p, json!([1, 2])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "Unknown action: (missing)");
}

#[tokio::test]
async fn unknown_tool_is_404_with_call_id() {
    let p = pillar();
    let (status, body) = call(
        &p,
        json!({"action": "tool_call", "tool_name": "nope", "call_id": "tc_9", "arguments": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"call_id": "tc_9", "success": false, "error": "Tool 'nope' not found"})
    );
}

#[tokio::test]
async fn a_tool_result_is_200_with_the_exact_body_and_context() {
    let p = pillar();
    let (status, body) = call(
        &p,
        json!({
            "action": "tool_call", "tool_name": "echo", "call_id": "tc_1",
            "arguments": {"email": "sarah@acme.com"}, "conversation_id": "conv_1",
            "product_id": "prod_1",
            "caller": {"channel": "slack", "external_user_id": "u_1", "channel_user_id": "U1"}
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"call_id": "tc_1", "success": true, "result": {
            "args": {"email": "sarah@acme.com"}, "confirmed": false, "call_id": "tc_1",
            "conversation_id": "conv_1", "channel": "slack", "identified": true,
            "product_id": "prod_1"
        }})
    );
    let keys: Vec<String> = serde_json::from_slice::<serde_json::Map<String, Value>>(
        &p.handle(
            &testing::tool_call_body("echo", "tc_2", json!({})),
            &signed(&testing::tool_call_body("echo", "tc_2", json!({}))),
        )
        .await
        .into_parts()
        .1
        .to_bytes(),
    )
    .map(|m| m.keys().cloned().collect())
    .unwrap_or_default();
    assert_eq!(keys.len(), 3);
}

#[tokio::test]
async fn missing_fields_read_as_empty_and_null_arguments_as_an_object() {
    let p = pillar();
    for args in [json!(null), Value::Null] {
        let (status, body) = call(
            &p,
            json!({"action": "tool_call", "tool_name": "echo", "arguments": args}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["call_id"], "");
        assert_eq!(body["result"]["args"], json!({}));
        assert_eq!(body["result"]["channel"], "web");
        assert_eq!(body["result"]["identified"], false);
    }
    let (_, body) = call(&p, json!({"action": "tool_call", "tool_name": "echo"})).await;
    assert_eq!(body["result"]["args"], json!({}));
    let (_, body) = call(
        &p,
        json!({"action": "tool_call", "tool_name": "echo", "caller": {"external_user_id": ""}}),
    )
    .await;
    assert_eq!(body["result"]["identified"], false);
}

#[tokio::test]
async fn a_tool_error_is_200_and_never_shows_the_secret() {
    let p = pillar();
    let (status, body) = call(
        &p,
        json!({"action": "tool_call", "tool_name": "fail", "call_id": "tc_3"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"call_id": "tc_3", "success": false, "error": "database password [redacted] rejected"})
    );
}

#[tokio::test]
async fn timeouts_and_panics_are_clear_errors() {
    let p = pillar();
    let (status, body) = call(
        &p,
        json!({"action": "tool_call", "tool_name": "slow", "call_id": "tc_4"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["error"], "Tool 'slow' timed out after 50 ms");
    let (status, body) = call(
        &p,
        json!({"action": "tool_call", "tool_name": "boom", "call_id": "tc_5"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], false);
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("internal error"), "{error}");
    assert!(!error.contains("secret internals") && !error.contains(TEST_SECRET));
}

#[tokio::test]
async fn a_channel_outside_the_tools_list_gets_an_error_not_a_run() {
    let p = pillar();
    let (status, body) = call(
        &p,
        json!({"action": "tool_call", "tool_name": "web_only", "call_id": "tc_6",
               "caller": {"channel": "slack"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["error"],
        "Tool 'web_only' is not available on the slack channel (allowed: web)"
    );
    let (_, body) = call(&p, json!({"action": "tool_call", "tool_name": "web_only"})).await;
    assert_eq!(body["result"], "ran");
}

#[tokio::test]
async fn arguments_that_are_not_an_object_are_refused() {
    let p = pillar();
    let (status, body) = call(
        &p,
        json!({"action": "tool_call", "tool_name": "echo", "call_id": "c", "arguments": [1]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["error"],
        "arguments: expected a JSON object, found an array"
    );
}

#[tokio::test]
async fn a_signed_payload_with_a_mistyped_field_is_400_naming_it() {
    let p = pillar();
    let (status, body) = call(&p, json!({"action": "tool_call", "tool_name": 5})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"],
        "Invalid payload: tool_name: invalid type: integer `5`, expected a string"
    );
}

#[tokio::test]
async fn confirmation_round_trip_with_the_default_payload() {
    let p = pillar();
    let (status, first) = call(
        &p,
        json!({"action": "tool_call", "tool_name": "delete_member", "call_id": "tc_7",
               "arguments": {"user_id": "u_42"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        first["result"],
        json!({"confirmation_required": true, "title": "Remove member", "details": {"Member": "u_42"}})
    );
    // No confirm_payload in the request: Pillar Cloud sends the original arguments back.
    let (_, second) = call(
        &p,
        json!({"action": "tool_confirm", "tool_name": "delete_member", "call_id": "tc_7",
               "confirm_payload": {"user_id": "u_42"}}),
    )
    .await;
    assert_eq!(
        second,
        json!({"call_id": "tc_7", "success": true, "result": {"removed": "u_42"}})
    );
}

#[tokio::test]
async fn confirmation_round_trip_with_a_custom_payload() {
    let p = pillar();
    let (_, first) = call(
        &p,
        json!({"action": "tool_call", "tool_name": "delete_by_email", "call_id": "tc_8",
               "arguments": {"email": "sarah@acme.com"}}),
    )
    .await;
    let payload = first["result"]["confirm_payload"].clone();
    assert_eq!(payload, json!({"user_id": "u_42"}));
    let (_, second) = call(
        &p,
        json!({"action": "tool_confirm", "tool_name": "delete_by_email", "call_id": "tc_8",
               "confirm_payload": payload}),
    )
    .await;
    assert_eq!(second["result"], json!({"deleted": {"user_id": "u_42"}}));
    // The confirmed call saw `confirmed() == true` even without the flag in the body.
    let (_, echoed) = call(
        &p,
        json!({"action": "tool_confirm", "tool_name": "echo", "confirm_payload": {"x": 1}}),
    )
    .await;
    assert_eq!(echoed["result"]["confirmed"], true);
    assert_eq!(echoed["result"]["args"], json!({"x": 1}));
}

#[tokio::test]
async fn a_confirm_reads_only_its_confirm_payload() {
    let p = pillar();
    // `arguments` on a confirm is not the input; without `confirm_payload` the input is {}.
    let (_, echoed) = call(
        &p,
        json!({"action": "tool_confirm", "tool_name": "echo", "call_id": "tc_c1",
               "arguments": {"x": 1}}),
    )
    .await;
    assert_eq!(echoed["result"]["args"], json!({}), "{echoed}");
    let (_, echoed) = call(
        &p,
        json!({"action": "tool_confirm", "tool_name": "echo", "call_id": "tc_c2",
               "arguments": {"x": 1}, "confirm_payload": null}),
    )
    .await;
    assert_eq!(echoed["result"]["args"], json!({}), "{echoed}");
    // The confirmed run never sees the first call's arguments.
    let (_, confirmed) = call(
        &p,
        json!({"action": "tool_confirm", "tool_name": "delete_member", "call_id": "tc_c3",
               "arguments": {"user_id": "u_42"}}),
    )
    .await;
    assert_eq!(confirmed["result"], json!({"removed": null}), "{confirmed}");
}

#[tokio::test]
async fn protocol_test_vectors_verify_through_handle() {
    let vectors: [(&str, i64, &str, &str); 3] = [
        (
            "plr_test_secret",
            1_710_000_000,
            r#"{"action":"tool_call","tool_name":"lookup_customer","call_id":"tc_1","arguments":{"email":"sarah@acme.com"}}"#,
            "8f52f6519cdf9bcc9e94db03b303e795ef7a046d40a3829984311967ef19508e",
        ),
        (
            "whsec_rotate_me",
            1_700_000_000,
            "",
            "76ad68e4d3d034f4f212c9b61c4bd0e46d62346ccff67da3065eaf3103f35e20",
        ),
        (
            "plr_éè_unicode",
            1_767_225_600,
            r#"{"action":"ping"}"#,
            "80e955e97241a4c71dcbd6f0c3f6dd500f3d73eea4ca266fe7c6b6005f69740e",
        ),
    ];
    for (secret, t, body, v1) in vectors {
        assert_eq!(
            signature::sign(secret, body.as_bytes(), t),
            format!("t={t},v1={v1}")
        );
        let p = Pillar::builder()
            .secret(secret)
            .registered_tools(false)
            .tool(
                Tool::builder("lookup_customer")
                    .description("Look up a customer by email")
                    .handler(|args: Value, _| async move { Ok::<_, String>(args["email"].clone()) })
                    .build()
                    .unwrap(),
            )
            .clock(move || t)
            .build()
            .unwrap();
        p.verifier()
            .verify_at(&format!("t={t},v1={v1}"), body.as_bytes(), t)
            .unwrap();
        if body.contains("tool_call") {
            let (status, answer) =
                send(&p, body.as_bytes(), &headers(&format!("t={t},v1={v1}"))).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                answer,
                json!({"call_id": "tc_1", "success": true, "result": "sarah@acme.com"})
            );
        }
    }
}

#[tokio::test]
async fn several_accepted_secrets_rotate_without_downtime() {
    let p = Pillar::builder()
        .secrets(["plr_new", "plr_old"])
        .registered_tools(false)
        .tool(echo_tool())
        .build()
        .unwrap();
    let body = testing::tool_call_body("echo", "tc", json!({}));
    for secret in ["plr_new", "plr_old"] {
        let (status, _) = p
            .handle(&body, &protocol::signed_headers(secret, &body))
            .await
            .into_parts();
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = p
        .handle(&body, &protocol::signed_headers("plr_gone", &body))
        .await
        .into_parts();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test]
fn empty_or_missing_secrets_are_refused_when_built() {
    let err = Pillar::builder().build().unwrap_err().to_string();
    assert!(err.contains("no webhook secret"), "{err}");
    let err = Pillar::builder()
        .secret("")
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty"), "{err}");
    let p = Pillar::builder()
        .secret("plr_very_secret")
        .registered_tools(false)
        .build()
        .unwrap();
    assert!(!format!("{p:?}").contains("plr_very_secret"));
    assert!(!format!("{:?}", Pillar::builder().secret("plr_very_secret")).contains("very_secret"));
}

#[test]
fn two_tools_with_one_name_fail_the_build_naming_both() {
    let err = testing::pillar()
        .registered_tools(false)
        .tool(echo_tool())
        .tool(echo_tool())
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("two tools are named `echo`: one at "),
        "{err}"
    );
    assert_eq!(err.matches("protocol.rs:").count(), 2, "{err}");
}

#[tokio::test]
async fn call_tool_runs_the_same_shim_in_process() {
    let p = pillar();
    let out = testing::call(&p, "echo", json!({"k": "v"})).await.unwrap();
    assert_eq!(out["args"], json!({"k": "v"}));
    let err = testing::call(&p, "nope", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), pillar::ToolCallErrorKind::NotFound);
    let err = testing::call(&p, "slow", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), pillar::ToolCallErrorKind::TimedOut);
}
