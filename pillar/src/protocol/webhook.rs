//! [`WebhookClient`]: signed tool calls sent to a server, as Pillar Cloud sends them.

use std::fmt;
use std::time::Duration;

use http::StatusCode;
use serde_json::Value;

use super::{sign, tool_call_body, tool_confirm_body};
use crate::signature::SIGNATURE_HEADER;
use crate::transport::{http_client, read_capped, Peer, TransportError};

/// Sends signed webhook requests to a Pillar server, as Pillar Cloud does: the client
/// behind [`MockCloud::call_tool`](crate::testing::MockCloud::call_tool) and the `pillar` command
/// (package `pillar-ai-server-cli`, the command-line analogue of `stripe trigger`).
///
/// Each request is signed now (`X-Pillar-Signature: t=<now>,v1=<hmac>`) with the secret.
/// Answers come back as `(status, JSON body)`; a body that is not JSON comes back as a
/// JSON string, an empty one as `null`. An answer is read up to
/// [`max_answer_bytes`](Self::max_answer_bytes)
/// ([`DEFAULT_MAX_ANSWER_BYTES`](Self::DEFAULT_MAX_ANSWER_BYTES), 16 MiB, by default),
/// through the same capped reader as the answers of Pillar Cloud: a larger or endless
/// one is a [`TransportErrorKind::TooLarge`](crate::TransportErrorKind::TooLarge) error,
/// never unbounded memory.
///
/// ```no_run
/// use pillar::protocol::WebhookClient;
/// use serde_json::json;
///
/// # async fn run() -> Result<(), pillar::TransportError> {
/// let client = WebhookClient::new("http://127.0.0.1:8787", "plr_local");
/// let (status, answer) = client.call_tool("lookup_customer", json!({"email": "sarah@acme.com"})).await?;
/// println!("{status}: {answer:#}");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WebhookClient {
    url: String,
    secret: String,
    timeout: Duration,
    max_answer_bytes: usize,
}

impl fmt::Debug for WebhookClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookClient")
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .field("timeout", &self.timeout)
            .field("max_answer_bytes", &self.max_answer_bytes)
            .finish()
    }
}

impl WebhookClient {
    /// The most bytes of an answer a client reads unless
    /// [`max_answer_bytes`](Self::max_answer_bytes) says otherwise: 16 MiB.
    pub const DEFAULT_MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

    /// A client for the webhook at `url` (the server's address and path, such as
    /// `http://127.0.0.1:8787` or `http://127.0.0.1:8787/pillar`), signing with `secret`.
    /// Requests time out after 60 seconds; answers are read up to
    /// [`DEFAULT_MAX_ANSWER_BYTES`](Self::DEFAULT_MAX_ANSWER_BYTES).
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret: secret.into(),
            timeout: Duration::from_secs(60),
            max_answer_bytes: Self::DEFAULT_MAX_ANSWER_BYTES,
        }
    }

    /// The most bytes of an answer's body to read (default
    /// [`DEFAULT_MAX_ANSWER_BYTES`](Self::DEFAULT_MAX_ANSWER_BYTES), 16 MiB). A larger
    /// answer, by its `Content-Length` or as it arrives, is a
    /// [`TransportErrorKind::TooLarge`](crate::TransportErrorKind::TooLarge) error that
    /// gives the limit, and reading stops there: memory stays within the limit whatever
    /// the server sends.
    #[must_use]
    pub fn max_answer_bytes(mut self, bytes: usize) -> Self {
        self.max_answer_bytes = bytes;
        self
    }

    /// How long to wait for each answer (default 60 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The webhook URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends `{"action": "ping"}` (signed, although servers answer pings unsigned).
    ///
    /// # Errors
    /// When the server cannot be reached, does not answer in time, or answers more than
    /// [`max_answer_bytes`](Self::max_answer_bytes).
    pub async fn ping(&self) -> Result<(StatusCode, Value), TransportError> {
        self.send_signed(br#"{"action":"ping"}"#).await
    }

    /// Sends a signed `tool_call` of `tool_name` with `arguments` and a fresh call id.
    ///
    /// # Errors
    /// When the server cannot be reached, does not answer in time, or answers more than
    /// [`max_answer_bytes`](Self::max_answer_bytes).
    pub async fn call_tool(
        &self,
        tool_name: &str,
        arguments: Value,
    ) -> Result<(StatusCode, Value), TransportError> {
        let body = tool_call_body(tool_name, &new_call_id(), arguments);
        self.send_signed(&body).await
    }

    /// Sends a signed `tool_confirm` of `tool_name` carrying `confirm_payload`, as
    /// Pillar Cloud does when the user confirms, with a fresh call id.
    ///
    /// # Errors
    /// When the server cannot be reached, does not answer in time, or answers more than
    /// [`max_answer_bytes`](Self::max_answer_bytes).
    pub async fn confirm_tool(
        &self,
        tool_name: &str,
        confirm_payload: Value,
    ) -> Result<(StatusCode, Value), TransportError> {
        let body = tool_confirm_body(tool_name, &new_call_id(), confirm_payload);
        self.send_signed(&body).await
    }

    /// Signs any body now and sends it: for payloads with a chosen call id, caller or
    /// conversation (see [`tool_call_body`](crate::testing::tool_call_body)).
    ///
    /// # Errors
    /// When the server cannot be reached, does not answer in time, or answers more than
    /// [`max_answer_bytes`](Self::max_answer_bytes).
    pub async fn send_signed(&self, body: &[u8]) -> Result<(StatusCode, Value), TransportError> {
        let signature = sign(&self.secret, body);
        self.send(body, Some(&signature)).await
    }

    /// Sends `body` with the given `X-Pillar-Signature` header value, or none: for
    /// tests of rejected signatures.
    ///
    /// # Errors
    /// When the server cannot be reached, does not answer in time, or answers more than
    /// [`max_answer_bytes`](Self::max_answer_bytes).
    pub async fn send(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<(StatusCode, Value), TransportError> {
        let transport =
            |err| TransportError::from_reqwest(err, Peer::Server, &self.url, self.timeout);
        let client = http_client().map_err(transport)?;
        let mut request = client
            .post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .timeout(self.timeout)
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = read_capped(
            response,
            self.max_answer_bytes,
            Peer::Server,
            &self.url,
            self.timeout,
        )
        .await?;
        let answer = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok((status, answer))
    }
}

/// A call id like Pillar Cloud's: `tc_` and 16 hex digits.
fn new_call_id() -> String {
    format!("tc_{:016x}", fastrand::u64(..))
}
