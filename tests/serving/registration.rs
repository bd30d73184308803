//! Registration with Pillar Cloud and identity linking, against the mock Cloud of
//! `pillar::testing` on 127.0.0.1: the exact payload, typed errors, background retries
//! with fault injection, the registration handle of `Pillar::spawn_registration`, and
//! `serve_on` end to end.

// Helpers outside `#[test]` functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use pillar::cloud::{CloudError, LinkError, RegistrationHandle, RegistrationState};
use pillar::testing::{self, MockCloud, Mode, TEST_SECRET};
use pillar::{Pillar, PillarBuilder, Skill, Tool, TransportErrorKind};
use pillar_integration_tests::Server;
use serde_json::{json, Value};

const ENDPOINT: &str = "https://api.myapp.com/pillar";

fn lookup_customer() -> Tool {
    Tool::builder("lookup_customer")
        .description("Look up a customer by email")
        .input_schema(json!({
            "type": "object",
            "properties": {"email": {"type": "string"}},
            "required": ["email"]
        }))
        .guidance("Use when the user asks about a customer")
        .handler(|args: Value, _ctx| async move {
            Ok::<_, String>(json!({"email": args["email"], "plan": "pro"}))
        })
        .build()
        .unwrap()
}

fn delete_member() -> Tool {
    Tool::builder("delete_member")
        .description("Remove a member from the workspace")
        .input_schema(json!({
            "type": "object",
            "properties": {"user_id": {"type": "string"}},
            "required": ["user_id"]
        }))
        .output_schema(json!({"type": "object", "properties": {"removed": {"type": "boolean"}}}))
        .timeout_ms(60_000)
        .channels(["web", "slack"])
        .handler(|_args: Value, ctx: pillar::ToolContext| async move {
            Ok::<_, String>(json!({"removed": ctx.confirmed()}))
        })
        .build()
        .unwrap()
}

fn setup_guide() -> Skill {
    Skill::new(
        "setup-guide",
        "How to set up billing",
        "# Setup\n\n1. Open Settings.",
    )
}

/// The known tool set, pointed at `cloud`.
fn builder(cloud: &MockCloud) -> PillarBuilder {
    testing::pillar()
        .registered_tools(false)
        .tool(lookup_customer())
        .tool(delete_member())
        .skill(setup_guide())
        .endpoint_url(ENDPOINT)
        .api_url(cloud.url())
        .request_timeout(Duration::from_secs(5))
        .registration_backoff(Duration::from_millis(50), Duration::from_millis(500))
}

/// PROTOCOL.md section 1, for the known tool set.
fn expected_payload() -> Value {
    json!({
        "endpoint_url": ENDPOINT,
        "sdk_version": format!("pillar-rust/{}", env!("CARGO_PKG_VERSION")),
        "tools": [
            {
                "name": "delete_member",
                "description": "Remove a member from the workspace",
                "inputSchema": {
                    "type": "object",
                    "properties": {"user_id": {"type": "string"}},
                    "required": ["user_id"]
                },
                "timeout_ms": 60000,
                "channel_compatibility": ["web", "slack"],
                "tool_type": "server_side",
                "outputSchema": {"type": "object", "properties": {"removed": {"type": "boolean"}}}
            },
            {
                "name": "lookup_customer",
                "description": "Look up a customer by email",
                "inputSchema": {
                    "type": "object",
                    "properties": {"email": {"type": "string"}},
                    "required": ["email"]
                },
                "timeout_ms": 30000,
                "channel_compatibility": ["*"],
                "tool_type": "server_side",
                "guidance": "Use when the user asks about a customer"
            }
        ],
        "skills": [
            {"name": "setup-guide", "description": "How to set up billing", "content": "# Setup\n\n1. Open Settings."}
        ]
    })
}

/// A signed call is answered by the server.
async fn assert_answers_calls(server: &Server) {
    let (status, answer) = server
        .webhook()
        .call_tool("lookup_customer", json!({"email": "sarah@acme.com"}))
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["result"],
        json!({"email": "sarah@acme.com", "plan": "pro"})
    );
}

// ---------------------------------------------------------------------------------
// register(): the payload and typed errors

#[tokio::test]
async fn register_sends_exactly_the_protocol_payload() {
    let cloud = MockCloud::start().await.unwrap();
    let pillar = builder(&cloud).auto_register(false).build().unwrap();
    assert_eq!(pillar.registration_payload(), expected_payload());

    let registration = pillar.register().await.unwrap();
    assert_eq!(
        registration.registered,
        ["delete_member", "lookup_customer"]
    );
    assert_eq!(
        registration.response,
        json!({"registered": ["delete_member", "lookup_customer"]})
    );

    let requests = cloud.registrations();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/api/tools/register/");
    assert_eq!(
        request.header("authorization"),
        Some("Bearer plr_test_secret")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.json, expected_payload());

    // Keys go out in the protocol's order, mixed case kept.
    let raw = String::from_utf8(request.body.clone()).unwrap();
    assert!(raw.starts_with(r#"{"endpoint_url":"#), "{raw}");
    let order: Vec<usize> = [
        r#""sdk_version""#,
        r#""tools""#,
        r#""name":"delete_member""#,
        r#""description""#,
        r#""inputSchema""#,
        r#""timeout_ms""#,
        r#""channel_compatibility""#,
        r#""tool_type""#,
        r#""outputSchema""#,
        r#""skills""#,
    ]
    .iter()
    .map(|key| {
        raw.find(key)
            .unwrap_or_else(|| panic!("{key} missing in {raw}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{raw}");
}

#[tokio::test]
async fn skills_are_left_out_when_there_are_none() {
    let cloud = MockCloud::start().await.unwrap();
    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(lookup_customer())
        .endpoint_url(ENDPOINT)
        .api_url(format!("{}/", cloud.url())) // a trailing slash is fine
        .build()
        .unwrap();
    pillar.register().await.unwrap();
    let json = &cloud.registrations()[0].json;
    assert!(json.get("skills").is_none(), "{json}");
    assert_eq!(json["tools"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_first_secret_is_the_bearer_token() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.expect_secret(Some("plr_current"));
    let pillar = Pillar::builder()
        .secrets(["plr_current", "plr_previous"])
        .registered_tools(false)
        .endpoint_url(ENDPOINT)
        .api_url(cloud.url())
        .build()
        .unwrap();
    pillar.register().await.unwrap();
    assert_eq!(cloud.registrations()[0].bearer_token(), Some("plr_current"));
}

#[tokio::test]
async fn without_endpoint_url_nothing_is_sent() {
    let cloud = MockCloud::start().await.unwrap();
    let pillar = testing::pillar()
        .registered_tools(false)
        .api_url(cloud.url())
        .build()
        .unwrap();
    let err = pillar.register().await.unwrap_err();
    assert!(matches!(err, CloudError::NoEndpointUrl), "{err:?}");
    assert!(err.to_string().contains("PILLAR_ENDPOINT_URL"), "{err}");
    assert!(!err.is_retryable());
    assert!(cloud.requests().is_empty());
}

#[tokio::test]
async fn refused_secret_is_unauthorized_and_never_quoted() {
    let cloud = MockCloud::start().await.unwrap();
    let pillar = builder(&cloud).build().unwrap();

    cloud.expect_secret(Some("plr_the_right_one"));
    let err = pillar.register().await.unwrap_err();
    let CloudError::Unauthorized { status, message } = &err else {
        panic!("{err:?}");
    };
    assert_eq!((*status, message.as_str()), (401, "Invalid API key"));
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("refused the secret"), "{err}");

    cloud.expect_secret(None);
    cloud.set_mode(Mode::Status(403));
    let err = pillar.register().await.unwrap_err();
    assert!(
        matches!(err, CloudError::Unauthorized { status: 403, .. }),
        "{err:?}"
    );

    // Even when Pillar Cloud's answer quotes the secret, the error does not.
    cloud.set_mode(Mode::Json(
        401,
        json!({"detail": format!("unknown key {TEST_SECRET}")}),
    ));
    let err = pillar.register().await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(TEST_SECRET), "{shown}");
    assert!(shown.contains("unknown key [redacted]"), "{shown}");
}

#[tokio::test]
async fn server_errors_are_retryable() {
    let cloud = MockCloud::start().await.unwrap();
    let pillar = builder(&cloud).build().unwrap();
    for status in [500, 502, 503] {
        cloud.set_mode(Mode::Status(status));
        let err = pillar.register().await.unwrap_err();
        assert!(
            matches!(&err, CloudError::Server { status: s, .. } if *s == status),
            "{err:?}"
        );
        assert!(err.is_retryable());
        assert_eq!(err.status(), Some(status));
    }
    // An HTML error page from a proxy is read as text.
    cloud.set_mode(Mode::Text(502, "<h1>Bad Gateway</h1>".into()));
    let err = pillar.register().await.unwrap_err();
    assert!(err.to_string().contains("<h1>Bad Gateway</h1>"), "{err}");
}

#[tokio::test]
async fn other_client_errors_are_rejected_with_the_cloud_message() {
    let cloud = MockCloud::start().await.unwrap();
    let pillar = builder(&cloud).build().unwrap();
    cloud.set_mode(Mode::Json(
        400,
        json!({"error": "invalid_tools", "message": "tool `x` has no description"}),
    ));
    let err = pillar.register().await.unwrap_err();
    let CloudError::Rejected { status, message } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        (*status, message.as_str()),
        (400, "tool `x` has no description")
    );
    assert!(!err.is_retryable());

    cloud.set_mode(Mode::Status(429));
    let err = pillar.register().await.unwrap_err();
    assert!(matches!(err, CloudError::RateLimited { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_hanging_cloud_times_out() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.set_mode(Mode::Hang);
    let pillar = builder(&cloud)
        .request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = pillar.register().await.unwrap_err();
    assert!(
        matches!(&err, CloudError::Transport(e) if e.kind() == TransportErrorKind::Timeout),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(err.to_string().contains(&cloud.url()), "{err}");
    assert_eq!(cloud.registrations()[0].status, None);
}

#[tokio::test]
async fn an_unreachable_cloud_is_reported_with_its_url() {
    let mut cloud = MockCloud::start().await.unwrap();
    cloud.stop().await;
    let pillar = builder(&cloud).build().unwrap();
    let err = pillar.register().await.unwrap_err();
    assert!(
        matches!(&err, CloudError::Transport(e) if e.kind() == TransportErrorKind::Unreachable),
        "{err:?}"
    );
    assert!(err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains(&format!("{}/api/tools/register/", cloud.url())),
        "{text}"
    );
    assert!(!text.contains(TEST_SECRET));
}

#[tokio::test]
async fn an_invalid_api_url_is_not_retried() {
    let pillar = testing::pillar()
        .registered_tools(false)
        .endpoint_url(ENDPOINT)
        .api_url("not a url")
        .build()
        .unwrap();
    let err = pillar.register().await.unwrap_err();
    assert!(
        matches!(&err, CloudError::Transport(e) if e.kind() == TransportErrorKind::InvalidRequest),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_success_that_is_not_json_is_an_invalid_response() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.set_mode(Mode::Text(200, "<html>captive portal</html>".into()));
    let pillar = builder(&cloud).build().unwrap();
    let err = pillar.register().await.unwrap_err();
    assert!(
        matches!(&err, CloudError::Transport(e) if e.kind() == TransportErrorKind::InvalidResponse),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

// ---------------------------------------------------------------------------------
// Background registration by serve_on, with fault injection

#[tokio::test]
async fn serve_registers_the_expected_payload_and_answers_calls() {
    let cloud = MockCloud::start().await.unwrap();
    let server = Server::start(builder(&cloud).build().unwrap()).await;

    let registration = cloud
        .wait_for_registration(Duration::from_secs(5))
        .await
        .expect("registered at start-up");
    assert_eq!(registration.json, expected_payload());
    assert_eq!(
        registration.header("authorization"),
        Some("Bearer plr_test_secret")
    );
    assert_eq!(cloud.registrations().len(), 1);

    // The mock Cloud sends signed calls and confirmations, as Pillar Cloud does.
    let (status, answer) = cloud
        .call_tool(
            &server.url(""),
            TEST_SECRET,
            "lookup_customer",
            json!({"email": "a@b.c"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(answer["success"], true);
    assert!(
        answer["call_id"].as_str().unwrap().starts_with("tc_"),
        "{answer}"
    );
    assert_eq!(answer["result"]["email"], "a@b.c");

    let (status, answer) = cloud
        .confirm_tool(
            &server.url(""),
            TEST_SECRET,
            "delete_member",
            json!({"user_id": "u_42"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(answer["result"], json!({"removed": true}));

    let (status, answer) = server.webhook().ping().await.unwrap();
    assert_eq!((status.as_u16(), answer), (200, json!({"status": "ok"})));

    // A wrong secret is refused by the server.
    let (status, answer) = cloud
        .call_tool(&server.url(""), "plr_wrong", "lookup_customer", json!({}))
        .await
        .unwrap();
    assert_eq!(status, 401);
    assert_eq!(
        answer,
        json!({"success": false, "error": "Invalid signature"})
    );

    // Unsigned, through the raw sender.
    let body = testing::tool_call_body("lookup_customer", "tc_x", json!({"email": "a@b.c"}));
    let (status, _) = server.webhook().send(&body, None).await.unwrap();
    assert_eq!(status, 401);

    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn auto_register_off_registers_nothing() {
    let cloud = MockCloud::start().await.unwrap();
    let server = Server::start(builder(&cloud).auto_register(false).build().unwrap()).await;
    assert_answers_calls(&server).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(cloud.requests().is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn cloud_down_at_start_then_up_registers_soon_after() {
    let mut cloud = MockCloud::start().await.unwrap();
    cloud.stop().await; // down: connections to its port are refused
    let server = Server::start(builder(&cloud).build().unwrap()).await;

    // Calls are answered while registration keeps failing.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_answers_calls(&server).await;
    assert!(cloud.requests().is_empty());

    cloud.restart().await.unwrap();
    let up = Instant::now();
    let registration = cloud
        .wait_for_registration(Duration::from_secs(5))
        .await
        .expect("registered once the Cloud is back");
    let after = up.elapsed();
    // The backoff is capped at 500 ms: registered well within a few seconds.
    assert!(
        after < Duration::from_secs(2),
        "registered {after:?} after coming back"
    );
    assert_eq!(registration.json, expected_payload());
    assert_answers_calls(&server).await;

    // Registered once: no more attempts.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(cloud.registrations().len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_until_accepted() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.set_mode(Mode::Status(500));
    let server = Server::start(builder(&cloud).build().unwrap()).await;

    let failed = cloud
        .wait_for_registrations(4, Duration::from_secs(5))
        .await;
    assert!(failed.len() >= 4, "{} attempts", failed.len());
    assert!(failed.iter().all(|r| r.status == Some(500)));
    assert_answers_calls(&server).await;

    cloud.set_mode(Mode::Ok);
    let accepted = cloud
        .wait_for_registration(Duration::from_secs(5))
        .await
        .expect("registered once the Cloud recovers");
    assert_eq!(accepted.json, expected_payload());

    let count = cloud.registrations().len();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        cloud.registrations().len(),
        count,
        "no attempts after success"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_hanging_cloud_is_retried_after_the_client_timeout() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.set_mode(Mode::Hang);
    let pillar = builder(&cloud)
        .request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let server = Server::start(pillar).await;

    let hung = cloud
        .wait_for_registrations(2, Duration::from_secs(5))
        .await;
    assert!(hung.len() >= 2, "retried after a timeout");
    assert_answers_calls(&server).await;

    cloud.set_mode(Mode::Ok);
    assert!(cloud
        .wait_for_registration(Duration::from_secs(5))
        .await
        .is_some());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_refused_secret_is_not_retried_in_a_tight_loop() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.expect_secret(Some("plr_the_right_one"));
    let server = Server::start(builder(&cloud).build().unwrap()).await;

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let attempts = cloud.registrations();
    // Retried only every `retry_max` (500 ms here): at 0, 500 and 1000 ms at most.
    assert!(
        (1..=3).contains(&attempts.len()),
        "{} attempts in 1.2 s",
        attempts.len()
    );
    assert!(attempts.iter().all(|r| r.status == Some(401)));
    assert_answers_calls(&server).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn no_endpoint_url_means_no_registration() {
    let cloud = MockCloud::start().await.unwrap();
    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(lookup_customer())
        .api_url(cloud.url())
        .build()
        .unwrap();
    let server = Server::start(pillar).await;
    assert_answers_calls(&server).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(cloud.requests().is_empty());
    server.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------
// Pillar::spawn_registration: the handle an app that mounts the webhook keeps

/// Polls `handle` until `done` holds of its state; panics after 10 s (a bound for a
/// stuck loop, never a measure of speed).
async fn state_until(
    handle: &RegistrationHandle,
    done: impl Fn(&RegistrationState) -> bool,
) -> RegistrationState {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = handle.state();
        if done(&state) {
            return state;
        }
        assert!(Instant::now() < deadline, "still {state:?} after 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_handle_goes_from_retrying_to_registered_when_the_cloud_recovers() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.set_mode(Mode::Status(503));
    let pillar = builder(&cloud).build().unwrap();
    let handle = pillar.spawn_registration();

    let failed = cloud
        .wait_for_registrations(2, Duration::from_secs(10))
        .await;
    assert!(failed.len() >= 2, "{} attempts", failed.len());
    // The second attempt was made after the first failure was reported.
    let RegistrationState::Retrying {
        attempts,
        last_error,
    } = handle.state()
    else {
        panic!("expected Retrying, got {:?}", handle.state());
    };
    assert!(attempts >= 1, "{attempts}");
    assert_eq!(last_error.status(), Some(503), "{last_error}");
    assert!(last_error.is_retryable());
    assert!(!handle.is_registered());
    let shown = handle.state().to_string();
    assert!(
        shown.starts_with("retrying: Pillar Cloud failed (HTTP 503)"),
        "{shown}"
    );

    cloud.set_mode(Mode::Ok);
    let outcome = tokio::time::timeout(Duration::from_secs(10), handle.wait())
        .await
        .expect("registered within 10 s of the Cloud recovering");
    let RegistrationState::Registered {
        at,
        attempts,
        registration,
    } = outcome
    else {
        panic!("expected Registered, got {outcome:?}");
    };
    assert!(attempts >= 3, "{attempts}: two failures, then success");
    assert!(at <= std::time::SystemTime::now());
    assert_eq!(
        registration.registered,
        ["delete_member", "lookup_customer"]
    );
    assert!(handle.is_registered());
    assert_eq!(handle.state().to_string(), "registered");
    let accepted = cloud.registrations();
    assert_eq!(accepted.last().unwrap().json, expected_payload());
    assert_eq!(accepted.iter().filter(|r| r.succeeded()).count(), 1);

    // Registered is final: abort changes nothing, and no attempt follows.
    handle.abort();
    assert!(handle.state().is_registered());
}

#[tokio::test]
async fn the_first_attempt_is_pending_and_a_refused_secret_is_retrying_with_the_reason() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.set_mode(Mode::Hang);
    let pillar = builder(&cloud)
        .request_timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let handle = pillar.spawn_registration();
    // The Cloud holds the first attempt: pending until the request times out.
    assert_eq!(
        cloud
            .wait_for_registrations(1, Duration::from_secs(10))
            .await
            .len(),
        1
    );
    assert!(
        matches!(handle.state(), RegistrationState::Pending),
        "{:?}",
        handle.state()
    );
    drop(handle);

    let cloud = MockCloud::start().await.unwrap();
    cloud.expect_secret(Some("plr_the_right_one"));
    let handle = builder(&cloud).build().unwrap().spawn_registration();
    let state = state_until(&handle, |s| matches!(s, RegistrationState::Retrying { .. })).await;
    let RegistrationState::Retrying { last_error, .. } = &state else {
        unreachable!()
    };
    assert!(
        matches!(**last_error, CloudError::Unauthorized { status: 401, .. }),
        "{last_error:?}"
    );
    assert!(state.to_string().contains("refused the secret"), "{state}");
}

#[tokio::test]
async fn abort_stops_the_loop_and_says_so() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.set_mode(Mode::Status(500));
    // At least 1 s between attempts: abort lands while the loop sleeps.
    let pillar = builder(&cloud)
        .registration_backoff(Duration::from_secs(2), Duration::from_secs(2))
        .build()
        .unwrap();
    let handle = pillar.spawn_registration();
    let watcher = handle.clone();
    state_until(&handle, |s| matches!(s, RegistrationState::Retrying { .. })).await;
    handle.abort();
    assert!(matches!(watcher.state(), RegistrationState::Stopped));
    assert!(watcher.state().is_final());
    assert!(matches!(watcher.wait().await, RegistrationState::Stopped));

    // Well past the next attempt's time (1 to 2 s): none was made.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(cloud.registrations().len(), 1);
}

#[tokio::test]
async fn dropping_the_last_clone_stops_the_loop() {
    let cloud = MockCloud::start().await.unwrap();
    cloud.set_mode(Mode::Status(500));
    let pillar = builder(&cloud)
        .registration_backoff(Duration::from_secs(2), Duration::from_secs(2))
        .build()
        .unwrap();
    let handle = pillar.spawn_registration();
    let clone = handle.clone();
    state_until(&handle, |s| matches!(s, RegistrationState::Retrying { .. })).await;
    drop(handle);
    // One clone still holds it: the loop goes on, and retries.
    let retried = cloud
        .wait_for_registrations(2, Duration::from_secs(10))
        .await;
    assert_eq!(retried.len(), 2);
    state_until(
        &clone,
        |s| matches!(s, RegistrationState::Retrying { attempts, .. } if *attempts == 2),
    )
    .await;
    drop(clone);

    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(cloud.registrations().len(), 2);
}

#[tokio::test]
async fn without_endpoint_url_the_handle_is_not_configured_at_once() {
    let cloud = MockCloud::start().await.unwrap();
    let pillar = testing::pillar()
        .registered_tools(false)
        .api_url(cloud.url())
        .build()
        .unwrap();
    let handle = pillar.spawn_registration();
    assert!(matches!(handle.state(), RegistrationState::NotConfigured));
    assert!(matches!(
        handle.wait().await,
        RegistrationState::NotConfigured
    ));
    let shown = handle.state().to_string();
    assert!(
        shown.starts_with("not_configured: ") && shown.contains("PILLAR_ENDPOINT_URL"),
        "{shown}"
    );
    assert!(cloud.requests().is_empty());
}

#[tokio::test]
async fn an_invalid_api_url_fails_for_good() {
    let pillar = testing::pillar()
        .registered_tools(false)
        .endpoint_url(ENDPOINT)
        .api_url("not a url")
        .build()
        .unwrap();
    let handle = pillar.spawn_registration();
    let outcome = tokio::time::timeout(Duration::from_secs(10), handle.wait())
        .await
        .expect("a registration that cannot succeed ends");
    let RegistrationState::Failed(err) = &outcome else {
        panic!("expected Failed, got {outcome:?}");
    };
    assert!(
        matches!(&**err, CloudError::Transport(e) if e.kind() == TransportErrorKind::InvalidRequest),
        "{err:?}"
    );
    assert!(outcome.to_string().starts_with("failed: "), "{outcome}");
}

/// A "Cloud" on a raw `TcpListener` that answers every request `429` with
/// `Retry-After: 0` (the mock Cloud sends no `Retry-After`): its URL, how many requests
/// it received, and its task (aborted on drop).
struct RateLimitingCloud {
    url: String,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RateLimitingCloud {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RateLimitingCloud {
    async fn start() -> Self {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests: std::sync::Arc<std::sync::atomic::AtomicUsize> = std::sync::Arc::default();
        let counter = std::sync::Arc::clone(&requests);
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counter = std::sync::Arc::clone(&counter);
                tokio::spawn(async move {
                    // The head, then the body its Content-Length announces.
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&request[..end]).to_lowercase();
                            let length: usize = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .map_or(0, |v| v.trim().parse().unwrap_or(0));
                            if request.len() >= end + 4 + length {
                                break;
                            }
                        }
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let body = r#"{"error": "rate_limited", "message": "slow down"}"#;
                    let answer = format!(
                        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Type: \
                         application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self {
            url,
            requests,
            task,
        }
    }

    fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A 429 with `Retry-After: 0` is not "again at once": the background registration waits
/// at least 1 s between attempts (it used to retry every 10 ms: about 100 requests a
/// second), and logs the repeats once, not once per attempt.
#[tokio::test]
async fn a_429_with_retry_after_0_waits_and_is_logged_once() {
    // A current-thread runtime: the registration task logs through this subscriber.
    let (captured, _guard) = pillar_integration_tests::Captured::install(tracing::Level::INFO);

    let cloud = RateLimitingCloud::start().await;
    // The shortest backoff the settings allow: only the 429 rule keeps it slow.
    let pillar = testing::pillar()
        .registered_tools(false)
        .tool(lookup_customer())
        .endpoint_url(ENDPOINT)
        .api_url(&cloud.url)
        .request_timeout(Duration::from_secs(5))
        .registration_backoff(Duration::ZERO, Duration::ZERO)
        .build()
        .unwrap();
    let started = Instant::now();
    let handle = pillar.spawn_registration();

    // Three attempts (a bound of 15 s for a stuck loop, not a measure of speed).
    while cloud.requests() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{} attempts after 15 s",
            cloud.requests()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let requests = cloud.requests();
    handle.abort();

    // Each attempt after the first waited at least 1 s: at most 1 + whole seconds
    // elapsed (the old loop had made hundreds by then, 3 in about 20 ms).
    let allowed = 1 + elapsed.as_secs();
    assert!(
        requests as u64 <= allowed,
        "{requests} requests in {elapsed:?}: at most {allowed} with 1 s between them"
    );
    let RegistrationState::Stopped = handle.state() else {
        panic!("{:?}", handle.state());
    };

    // One log line for the three failures: the repeats are counted, not written.
    let logs = captured.text();
    let lines = logs
        .lines()
        .filter(|l| l.contains("registration with Pillar Cloud") && l.contains(&cloud.url))
        .count();
    assert_eq!(lines, 1, "{requests} attempts wrote {lines} lines:\n{logs}");
    assert!(logs.contains("HTTP 429"), "{logs}");
    assert!(logs.contains("retry_in=1s"), "{logs}");
}

// ---------------------------------------------------------------------------------
// Identity linking

#[tokio::test]
async fn confirm_link_posts_the_code_and_returns_the_mapping() {
    let cloud = MockCloud::start().await.unwrap();
    let pillar = builder(&cloud).build().unwrap();
    let link = pillar.confirm_link("ABC-123", "user_42").await.unwrap();
    assert_eq!(link.external_user_id(), Some("user_42"));
    assert_eq!(
        link.response,
        json!({"linked": true, "code": "ABC-123", "external_user_id": "user_42"})
    );

    let requests = cloud.link_confirms();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/api/public/identity/link-confirm/");
    assert_eq!(requests[0].bearer_token(), Some(TEST_SECRET));
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    assert_eq!(
        requests[0].json,
        json!({"code": "ABC-123", "external_user_id": "user_42"})
    );
    assert!(cloud.registrations().is_empty());
}

#[tokio::test]
async fn confirm_link_errors_are_typed() {
    let mut cloud = MockCloud::start().await.unwrap();
    let pillar = builder(&cloud)
        .request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    cloud.set_link_mode(Mode::Json(
        400,
        json!({"error": "code_expired", "message": "The link code has expired"}),
    ));
    let err = pillar.confirm_link("OLD", "user_42").await.unwrap_err();
    let LinkError::Rejected {
        status,
        code,
        message,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(
        (*status, code.as_str(), message.as_str()),
        (400, "code_expired", "The link code has expired")
    );
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("code_expired"), "{err}");

    // Without a JSON error body: the reference's `link_failed`.
    cloud.set_link_mode(Mode::Text(502, "Bad Gateway".into()));
    let err = pillar.confirm_link("X", "user_42").await.unwrap_err();
    assert!(
        matches!(&err, LinkError::Rejected { status: 502, code, message } if code == "link_failed" && message == "Bad Gateway"),
        "{err:?}"
    );
    assert!(err.is_retryable());

    cloud.set_link_mode(Mode::Text(200, "not json".into()));
    let err = pillar.confirm_link("X", "user_42").await.unwrap_err();
    assert!(
        matches!(&err, LinkError::Transport(e) if e.kind() == TransportErrorKind::InvalidResponse),
        "{err:?}"
    );

    cloud.set_link_mode(Mode::Hang);
    let err = pillar.confirm_link("X", "user_42").await.unwrap_err();
    assert!(
        matches!(&err, LinkError::Transport(e) if e.kind() == TransportErrorKind::Timeout),
        "{err:?}"
    );

    cloud.stop().await;
    let err = pillar.confirm_link("X", "user_42").await.unwrap_err();
    assert!(
        matches!(&err, LinkError::Transport(e) if e.kind() == TransportErrorKind::Unreachable),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains(TEST_SECRET));
}

#[tokio::test]
async fn the_mock_cloud_refuses_what_pillar_cloud_would_refuse() {
    let cloud = MockCloud::start().await.unwrap();
    let body = json!({"endpoint_url": "http://127.0.0.1:8787/", "sdk_version": "x/1",
        "tools": [{"name": "ok", "description": "d", "inputSchema": {"type": "object"},
                   "timeout_ms": -1, "channel_compatibility": ["*"], "tool_type": "server_side"}]});
    let answer = reqwest::Client::new()
        .post(format!("{}/api/tools/register/", cloud.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(
        answer,
        json!({"error": "invalid_registration",
               "message": "tool `ok`: `timeout_ms` must be a positive integer of milliseconds, found -1"})
    );
    assert_eq!(cloud.registrations()[0].status, Some(400));
}
