//! The tool `echo` that the serving tests call, a builder serving it alone, and the HTTP
//! client and requests they send it with.

use std::time::Duration;

use pillar::http::HeaderMap;
use pillar::protocol::signed_headers;
use pillar::testing::{self, tool_call_body, TEST_SECRET};
use pillar::{PillarBuilder, Tool};
use serde_json::{json, Value};

/// The tool `echo`: answers with its arguments, verbatim.
///
/// # Panics
/// Never: the definition is valid.
pub fn echo() -> Tool {
    #[allow(clippy::expect_used)]
    Tool::builder("echo")
        .description("Echo the arguments")
        .handler(|args: Value, _ctx| async move { Ok::<_, String>(args) })
        .build()
        .expect("echo is a valid tool")
}

/// [`testing::pillar`] serving [`echo`] alone: the binary's `#[pillar::tool]`s left out,
/// no registration with Pillar Cloud.
pub fn echo_builder() -> PillarBuilder {
    testing::pillar()
        .registered_tools(false)
        .auto_register(false)
        .tool(echo())
}

/// An HTTP client whose requests give up after 10 s, so that a server that stops
/// answering fails the test instead of hanging it.
///
/// # Panics
/// When the client cannot be built (no TLS roots, say).
pub fn http_client() -> reqwest::Client {
    #[allow(clippy::expect_used)]
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client")
}

/// POSTs `body` with `headers` to `url`: the status, the content type and the body as
/// JSON.
///
/// # Panics
/// When the request fails or the answer is not JSON.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    headers: HeaderMap,
) -> (u16, String, Value) {
    let mut request = client.post(url).body(body);
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_bytes());
    }
    #[allow(clippy::expect_used)]
    let response = request.send().await.expect("the request is answered");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    #[allow(clippy::expect_used)]
    let body = response.bytes().await.expect("the answer's body");
    let json = serde_json::from_slice(&body).unwrap_or_else(|e| {
        #[allow(clippy::panic)]
        {
            panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body))
        }
    });
    (status, content_type, json)
}

/// A call of [`echo`] with the arguments `{"n": 1}`, signed with [`TEST_SECRET`] and
/// POSTed to `url`: the status and the JSON body, once its content type is checked.
///
/// # Panics
/// As [`post`] does, and when the content type is not `application/json`.
pub async fn signed_echo_call(client: &reqwest::Client, url: &str, call_id: &str) -> (u16, Value) {
    let body = tool_call_body("echo", call_id, json!({"n": 1}));
    let headers = signed_headers(TEST_SECRET, &body);
    let (status, content_type, json) = post(client, url, body, headers).await;
    assert_eq!(content_type, "application/json", "{url}");
    (status, json)
}
