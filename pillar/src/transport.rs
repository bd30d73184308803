//! The HTTP client the SDK sends requests with (registration, identity links, and the
//! webhook client of [`protocol`](crate::protocol)), and [`TransportError`]: a request that got no usable answer.
//!
//! The error keeps the underlying error's text and its `source()` chain, not its type,
//! so the HTTP client can change without changing this crate's public API.

use std::error::Error as StdError;
use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

/// The `User-Agent` of every request: `pillar-rust/<version>`.
pub(crate) const USER_AGENT: &str = concat!("pillar-rust/", env!("CARGO_PKG_VERSION"));

/// A request that got no usable answer: the peer could not be reached, did not answer
/// in time, the request could not be built, or the answer could not be read.
///
/// Shared by [`CloudError`](crate::cloud::CloudError), [`LinkError`](crate::cloud::LinkError)
/// and [`WebhookClient`](crate::protocol::WebhookClient). Its message names the peer and
/// the URL; [`source`](StdError::source) gives the underlying error, as text and chain.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    peer: Peer,
    url: String,
    detail: String,
    timeout: Option<Duration>,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

/// What kind of [`TransportError`] happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The request could not be completed: connection refused, DNS or TLS failure,
    /// connection lost.
    Unreachable,
    /// No answer within the request's timeout.
    Timeout,
    /// The request could not be built, usually because the URL is not valid.
    InvalidRequest,
    /// The peer answered success with a body that is not what was expected.
    InvalidResponse,
    /// The peer's answer is larger than the SDK reads (from Pillar Cloud,
    /// [`MAX_CLOUD_ANSWER_BYTES`](crate::protocol::MAX_CLOUD_ANSWER_BYTES), 1 MiB; from a
    /// server, the [`WebhookClient`](crate::protocol::WebhookClient)'s
    /// [`max_answer_bytes`](crate::protocol::WebhookClient::max_answer_bytes)): the SDK
    /// stopped reading it rather than hold it all in memory.
    TooLarge,
}

/// The most bytes of an answer the SDK reads from Pillar Cloud: 1 MiB. A larger answer
/// (by its `Content-Length`, or as it arrives) is a [`TransportErrorKind::TooLarge`]
/// error, and reading stops there.
pub const MAX_CLOUD_ANSWER_BYTES: usize = 1024 * 1024;

/// Who the request was for, in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    /// Pillar Cloud's API (`PILLAR_API_URL`).
    Cloud,
    /// A webhook server, called by the testing client.
    Server,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Self::Cloud => "Pillar Cloud",
            Self::Server => "the server",
        }
    }
}

impl TransportError {
    /// The kind of failure.
    #[must_use]
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The URL requested.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether trying again later may succeed: yes, except for a request that could not
    /// be built.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.kind != TransportErrorKind::InvalidRequest
    }

    /// Classifies an error of the HTTP client.
    pub(crate) fn from_reqwest(
        err: reqwest::Error,
        peer: Peer,
        url: &str,
        timeout: Duration,
    ) -> Self {
        let kind = if err.is_timeout() {
            TransportErrorKind::Timeout
        } else if err.is_builder() {
            TransportErrorKind::InvalidRequest
        } else {
            TransportErrorKind::Unreachable
        };
        Self {
            kind,
            peer,
            url: url.to_owned(),
            detail: root_cause(&err),
            timeout: (kind == TransportErrorKind::Timeout).then_some(timeout),
            source: Some(Box::new(err)),
        }
    }

    /// No complete answer (headers and body) within `timeout`, the request's one overall
    /// deadline.
    pub(crate) fn timed_out(peer: Peer, url: &str, timeout: Duration) -> Self {
        Self {
            kind: TransportErrorKind::Timeout,
            peer,
            url: url.to_owned(),
            detail: String::new(),
            timeout: Some(timeout),
            source: None,
        }
    }

    /// An answer larger than `cap` bytes: `seen` is its `Content-Length`, or how much had
    /// arrived when reading stopped.
    fn too_large(peer: Peer, url: &str, cap: usize, seen: u64, declared: bool) -> Self {
        let detail = if declared {
            format!("its Content-Length is {seen} bytes")
        } else {
            format!("more than {seen} bytes arrived")
        };
        Self {
            kind: TransportErrorKind::TooLarge,
            peer,
            url: url.to_owned(),
            detail: format!("{detail}, over the limit of {cap} bytes"),
            timeout: None,
            source: None,
        }
    }

    /// An answer whose body is not what was expected.
    pub(crate) fn invalid_response(peer: Peer, url: &str, message: String) -> Self {
        Self {
            kind: TransportErrorKind::InvalidResponse,
            peer,
            url: url.to_owned(),
            detail: message,
            timeout: None,
            source: None,
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (peer, url, detail) = (self.peer.name(), &self.url, &self.detail);
        match self.kind {
            TransportErrorKind::Unreachable => {
                write!(f, "could not reach {peer} at {url}: {detail}")
            }
            TransportErrorKind::Timeout => match self.timeout {
                Some(timeout) => write!(
                    f,
                    "{peer} at {url} did not answer within {timeout:?} (the whole answer, \
                     body included)"
                ),
                None => write!(f, "{peer} at {url} did not answer in time"),
            },
            TransportErrorKind::InvalidRequest => {
                write!(f, "could not send a request to {url}: {detail}")?;
                if self.peer == Peer::Cloud {
                    f.write_str("; check PILLAR_API_URL")?;
                }
                Ok(())
            }
            TransportErrorKind::InvalidResponse => {
                write!(f, "{peer} sent an invalid answer: {detail}")
            }
            TransportErrorKind::TooLarge => {
                write!(
                    f,
                    "{peer} at {url} sent an answer too large to read ({detail}); stopped \
                     reading it"
                )?;
                if self.peer == Peer::Server {
                    f.write_str("; raise the limit with WebhookClient::max_answer_bytes")?;
                }
                Ok(())
            }
        }
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|err| err as &(dyn StdError + 'static))
    }
}

/// The process-wide HTTP client: one connection pool and TLS configuration. Timeouts are
/// set per request.
pub(crate) fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder().user_agent(USER_AGENT).build()?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

/// Reads the body of `response`, at most `cap` bytes: a larger body, by its
/// `Content-Length` or as it arrives, is a [`TransportErrorKind::TooLarge`] error and is
/// not read further. Memory stays within `cap` plus one chunk whatever the peer sends;
/// the caller bounds the time (see [`TransportError::timed_out`]).
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
    peer: Peer,
    url: &str,
    timeout: Duration,
) -> Result<Vec<u8>, TransportError> {
    let cap_u64 = u64::try_from(cap).unwrap_or(u64::MAX);
    if let Some(declared) = response.content_length() {
        if declared > cap_u64 {
            return Err(TransportError::too_large(peer, url, cap, declared, true));
        }
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| TransportError::from_reqwest(err, peer, url, timeout))?
    {
        if chunk.len() > cap - body.len() {
            return Err(TransportError::too_large(peer, url, cap, cap_u64, false));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The innermost cause of an error: "Connection refused (os error 111)" rather than
/// reqwest's "error sending request".
pub(crate) fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_peer_and_the_url() {
        let err = TransportError::invalid_response(Peer::Cloud, "http://x/api", "not JSON".into());
        assert_eq!(
            err.to_string(),
            "Pillar Cloud sent an invalid answer: not JSON"
        );
        assert_eq!(err.kind(), TransportErrorKind::InvalidResponse);
        assert_eq!(err.url(), "http://x/api");
        assert!(err.is_retryable());
        assert!(err.source().is_none());
    }

    #[test]
    fn too_large_and_timed_out_say_what_and_where() {
        let err = TransportError::too_large(Peer::Cloud, "http://x/api", 10, 99, true);
        assert_eq!(
            err.to_string(),
            "Pillar Cloud at http://x/api sent an answer too large to read (its \
             Content-Length is 99 bytes, over the limit of 10 bytes); stopped reading it"
        );
        assert_eq!(err.kind(), TransportErrorKind::TooLarge);
        assert!(err.is_retryable());
        let err = TransportError::too_large(Peer::Cloud, "http://x/api", 10, 10, false);
        assert!(
            err.to_string().contains("more than 10 bytes arrived"),
            "{err}"
        );
        let err = TransportError::timed_out(Peer::Cloud, "http://x/api", Duration::from_secs(2));
        assert_eq!(
            err.to_string(),
            "Pillar Cloud at http://x/api did not answer within 2s (the whole answer, body \
             included)"
        );
        assert_eq!(err.kind(), TransportErrorKind::Timeout);
    }

    #[test]
    fn a_too_large_answer_from_a_server_says_which_setting_raises_the_limit() {
        let err = TransportError::too_large(Peer::Server, "http://x/pillar", 10, 10, false);
        assert_eq!(
            err.to_string(),
            "the server at http://x/pillar sent an answer too large to read (more than 10 \
             bytes arrived, over the limit of 10 bytes); stopped reading it; raise the limit \
             with WebhookClient::max_answer_bytes"
        );
    }

    #[tokio::test]
    async fn a_bad_url_is_an_invalid_request_with_its_cause_chained() {
        let client = http_client().unwrap();
        let err = client.get("not a url").send().await.unwrap_err();
        let err =
            TransportError::from_reqwest(err, Peer::Cloud, "not a url", Duration::from_secs(1));
        assert_eq!(err.kind(), TransportErrorKind::InvalidRequest);
        assert!(!err.is_retryable());
        assert!(err.to_string().ends_with("; check PILLAR_API_URL"), "{err}");
        assert!(err.source().is_some());
    }
}
