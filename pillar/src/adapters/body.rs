//! The one request-body reader every transport shares (`serve()`, the axum and tower
//! adapters, actix): the body limit, the body timeout and the budget of buffered body
//! bytes ([`ServerLimits::body_budget`](crate::ServerLimits::body_budget)), enforced frame
//! by frame.

use std::future::poll_fn;
use std::pin::pin;
use std::time::Duration;

use ::axum::body::{Bytes, HttpBody};
use ::http::header::CONTENT_LENGTH;
use ::http::HeaderMap;
use bytes::Buf;

use super::{BodyError, BoxError};
use crate::call::budget::{BodyBudget, Held, BUDGET_WAIT};
use crate::call::Pillar;

/// The length a `Content-Length` value announces, if it is a number.
fn announced(content_length: Option<&[u8]>) -> Option<u64> {
    content_length
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// Reads a whole body for `pillar`, with the bytes it holds of the body budget (give them
/// back by dropping them once the answer is made).
///
/// Refused: a body known to be larger than the limit, from its `Content-Length` or size
/// hint before anything is read (413), or once more than the limit has arrived; a body not
/// all arrived within the body timeout (408: a client that sends headers and holds the
/// body back); a body that found no room in the budget within [`BUDGET_WAIT`] (or half
/// the body timeout, if that is shorter), 503 with `Retry-After: 1`.
pub(crate) async fn read_body<'p, B>(
    pillar: &'p Pillar,
    headers: &HeaderMap,
    body: B,
) -> (Result<Bytes, BodyError>, Held<'p>)
where
    B: HttpBody,
    B::Error: Into<BoxError>,
{
    let settings = pillar.settings();
    let (limit, deadline) = (settings.body_limit, settings.limits.body_timeout);
    let length = announced(headers.get(CONTENT_LENGTH).map(|v| v.as_bytes()));
    let mut held = Held::default();
    if length.is_some_and(|len| len > limit as u64) || body.size_hint().lower() > limit as u64 {
        return (Err(BodyError::TooLarge), held);
    }
    let reading = Reading {
        budget: pillar.body_budget(),
        limit,
        wait: BUDGET_WAIT.min(deadline / 2),
    };
    let read = match tokio::time::timeout(deadline, reading.collect(body, length, &mut held)).await
    {
        Ok(read) => read,
        Err(_) => Err(BodyError::TimedOut),
    };
    (read, held)
}

/// What a body is read against.
struct Reading<'p> {
    budget: &'p BodyBudget,
    limit: usize,
    /// The longest wait for room in the budget.
    wait: Duration,
}

impl<'p> Reading<'p> {
    /// The body's bytes: the first frame as it came when it is the only one, otherwise
    /// every frame copied into one buffer.
    async fn collect<B>(
        &self,
        body: B,
        length: Option<u64>,
        held: &mut Held<'p>,
    ) -> Result<Bytes, BodyError>
    where
        B: HttpBody,
        B::Error: Into<BoxError>,
    {
        // When the wait for room began, once the budget made this request wait.
        let mut waited = None;
        if let Some(length) = length {
            // Reserved before reading: half-read bodies never wait on each other.
            self.take(held, length as usize, &mut waited).await?;
        }
        let mut body = pin!(body);
        let mut first: Option<Bytes> = None;
        let mut joined: Vec<u8> = Vec::new();
        let mut total = 0usize;
        loop {
            // Nothing of the body's own types is held across an await below (the tower
            // adapter's future must be `Send` whatever the body's error type).
            let chunk = match poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
                None => break,
                Some(Err(err)) => return Err(BodyError::Read(err.into().to_string())),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(mut data) => data.copy_to_bytes(data.remaining()),
                    Err(_trailers) => continue,
                },
            };
            if chunk.is_empty() {
                continue;
            }
            total = total.saturating_add(chunk.len());
            if total > self.limit {
                return Err(BodyError::TooLarge);
            }
            // A body of unknown length (or longer than announced) takes bytes per frame.
            if total > held.bytes() {
                self.take(held, total - held.bytes(), &mut waited).await?;
            }
            match first.take() {
                None if joined.is_empty() => first = Some(chunk),
                None => joined.extend_from_slice(&chunk),
                Some(head) => {
                    let expected = length.map_or(0, |len| len as usize);
                    joined.reserve(expected.max(head.len() + chunk.len()));
                    joined.extend_from_slice(&head);
                    joined.extend_from_slice(&chunk);
                }
            }
        }
        Ok(match first {
            Some(only) => only,
            None => Bytes::from(joined),
        })
    }

    /// Adds `n` bytes to `held`, waiting at most `self.wait` in all for this request.
    async fn take(
        &self,
        held: &mut Held<'p>,
        n: usize,
        waited: &mut Option<tokio::time::Instant>,
    ) -> Result<(), BodyError> {
        let wait = self.wait;
        let until = || *waited.get_or_insert_with(|| tokio::time::Instant::now() + wait);
        self.budget
            .take(held, n, until)
            .await
            .map_err(|_| BodyError::Budget)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    #[test]
    fn announced_lengths() {
        assert_eq!(announced(None), None);
        assert_eq!(announced(Some(b"10")), Some(10));
        assert_eq!(announced(Some(b" 10737418240 ")), Some(10_737_418_240));
        // Not a number: left to the body reader (hyper refuses it anyway).
        assert_eq!(announced(Some(b"ten")), None);
    }

    fn pillar(limit: usize, budget: usize) -> Pillar {
        crate::testing::pillar()
            .registered_tools(false)
            .body_limit(limit)
            .limits(crate::ServerLimits::default().body_budget(budget))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        let pillar = pillar(10, 100);
        let headers = HeaderMap::new();
        let ten = Full::new(Bytes::from_static(b"0123456789"));
        let (ok, held) = read_body(&pillar, &headers, ten).await;
        assert_eq!(ok.unwrap(), Bytes::from_static(b"0123456789"));
        assert_eq!(held.bytes(), 10);
        assert_eq!(pillar.body_budget().available(), 90);
        drop(held);
        assert_eq!(pillar.body_budget().available(), 100);
        let eleven = Full::new(Bytes::from_static(b"0123456789A"));
        let (big, _) = read_body(&pillar, &headers, eleven).await;
        assert!(matches!(big, Err(BodyError::TooLarge)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_budget_refuses_after_the_wait() {
        let pillar = pillar(10, 15);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, "10".parse().unwrap());
        let body = || Full::new(Bytes::from_static(b"0123456789"));
        let (first, held) = read_body(&pillar, &headers, body()).await;
        assert!(first.is_ok());
        // Ten more bytes do not fit beside the first body's ten.
        let started = tokio::time::Instant::now();
        let (second, _) = read_body(&pillar, &headers, body()).await;
        assert!(matches!(second, Err(BodyError::Budget)), "{second:?}");
        assert_eq!(started.elapsed(), BUDGET_WAIT);
        assert_eq!(BodyError::Budget.response(&pillar).retry_after(), Some(1));
        drop(held);
        let (third, _) = read_body(&pillar, &headers, body()).await;
        assert!(third.is_ok());
    }
}
