//! Identity linking (PROTOCOL.md section 5): confirming that a chat identity is a user of
//! the application.

use serde::Serialize;
use serde_json::Value;

use super::{api_endpoint, error_message, parse_success, shorten};
use crate::call::Pillar;
use crate::transport::{Peer, TransportError};

/// The identity-linking path, under the API base URL.
const LINK_CONFIRM_PATH: &str = "/api/public/identity/link-confirm/";

/// An identity link confirmed by Pillar Cloud: its answer, the mapping as JSON.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IdentityLink {
    /// The whole JSON answer.
    pub response: Value,
}

impl IdentityLink {
    /// A string field of the answer, such as `"external_user_id"`.
    #[must_use]
    pub fn get_str(&self, field: &str) -> Option<&str> {
        self.response.get(field).and_then(Value::as_str)
    }

    /// The user id in your system the identity is now linked to, when the answer
    /// carries it.
    #[must_use]
    pub fn external_user_id(&self) -> Option<&str> {
        self.get_str("external_user_id")
    }
}

/// Why [`Pillar::confirm_link`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Pillar Cloud refused the link, with its error code (`error`, such as an expired
    /// or unknown code; `link_failed` when it sent none) and message.
    #[error("Pillar Cloud refused the identity link (HTTP {status}, {code}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Pillar Cloud's error code.
        code: String,
        /// Pillar Cloud's message.
        message: String,
    },

    /// The request got no usable answer: Pillar Cloud unreachable, no answer in time,
    /// an invalid `api_url`, or an answer that is not JSON.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl LinkError {
    /// Whether trying again later may succeed: yes for an unreachable Cloud, a timeout,
    /// a 5xx, 408 or 429, an invalid answer; no for other refusals.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Rejected { status, .. } => *status >= 500 || matches!(*status, 408 | 429),
            Self::Transport(err) => err.is_retryable(),
        }
    }
}

#[derive(Serialize)]
struct LinkBody<'a> {
    code: &'a str,
    external_user_id: &'a str,
}

impl Pillar {
    /// Confirms an identity link (PROTOCOL.md section 5): the chat identity that got
    /// `code` from `/pillar connect` is your user `external_user_id`. Call it from your
    /// app once the user has signed in. Returns the mapping Pillar Cloud created.
    ///
    /// ```no_run
    /// # async fn run(pillar: pillar::Pillar) -> Result<(), pillar::cloud::LinkError> {
    /// let link = pillar.confirm_link("ABC-123", "user_42").await?;
    /// println!("linked: {}", link.response);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`LinkError::Rejected`] with Pillar Cloud's error code and message, or
    /// [`LinkError::Transport`] when the request got no usable answer.
    pub async fn confirm_link(
        &self,
        code: &str,
        external_user_id: &str,
    ) -> Result<IdentityLink, LinkError> {
        let url = api_endpoint(&self.settings().api_url, LINK_CONFIRM_PATH);
        let body = LinkBody {
            code,
            external_user_id,
        };
        let answer = self.post_json(&url, &body).await?;
        let status = answer.status;
        if !(200..300).contains(&status) {
            let (code, message) = link_error(&answer.body, status);
            return Err(LinkError::Rejected {
                status,
                code: self.scrub(code),
                message: self.scrub(message),
            });
        }
        let response = parse_success(&answer.body)
            .map_err(|message| TransportError::invalid_response(Peer::Cloud, &url, message))?;
        Ok(IdentityLink { response })
    }
}

/// The `error` code and `message` of a link-confirm error answer, as the reference SDK
/// reads them: code `link_failed` when absent, message the code when absent.
fn link_error(body: &[u8], status: u16) -> (String, String) {
    match serde_json::from_slice::<Value>(body) {
        Ok(json) if json.is_object() => {
            let code = json
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("link_failed")
                .to_owned();
            let message = json
                .get("message")
                .or_else(|| json.get("detail"))
                .and_then(Value::as_str)
                .map_or_else(|| code.clone(), shorten);
            (code, message)
        }
        _ => ("link_failed".to_owned(), error_message(body, status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_errors_read_like_the_reference() {
        assert_eq!(
            link_error(
                br#"{"error":"code_expired","message":"The code has expired"}"#,
                400
            ),
            ("code_expired".to_owned(), "The code has expired".to_owned())
        );
        assert_eq!(
            link_error(br#"{"error":"invalid_code"}"#, 404),
            ("invalid_code".to_owned(), "invalid_code".to_owned())
        );
        assert_eq!(
            link_error(b"oops", 500),
            ("link_failed".to_owned(), "oops".to_owned())
        );
    }
}
