//! The budget of request-body bytes a [`Pillar`](crate::Pillar) buffers at once, shared by
//! `serve()` and every adapter: bodies are read before their signature can be checked, so
//! without it a client with no secret could make the server buffer
//! connections x streams x [`body_limit`](crate::Settings::body_limit) bytes.
//!
//! A request with `Content-Length` reserves that many bytes before it reads one (two
//! half-read bodies waiting on each other's bytes could otherwise hold the budget
//! forever); a body of unknown length takes bytes frame by frame. A request waits for
//! bytes first-in-first-out, at most [`BUDGET_WAIT`], then is refused with 503; its bytes
//! are given back when its answer is made.

use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// The longest a request waits for body bytes when the budget is spent (counted in the
/// body timeout).
pub(crate) const BUDGET_WAIT: Duration = Duration::from_secs(1);

/// Body bytes that may be buffered at once, one semaphore permit a byte. tokio's
/// semaphore serves waiters first-in-first-out.
#[derive(Debug)]
pub(crate) struct BodyBudget {
    bytes: Semaphore,
}

/// The budget is spent: no bytes came free within the wait.
#[derive(Debug)]
pub(crate) struct Spent;

/// Bytes a request holds, given back when dropped.
#[derive(Debug, Default)]
pub(crate) struct Held<'a> {
    permit: Option<SemaphorePermit<'a>>,
}

impl BodyBudget {
    /// A budget of `bytes` (at most `u32::MAX`, checked by `build()`).
    pub(crate) fn new(bytes: usize) -> Self {
        Self {
            bytes: Semaphore::new(bytes.min(Semaphore::MAX_PERMITS)),
        }
    }

    /// Adds `n` bytes to `held`, waiting in line until `until()` at most (read only when
    /// the bytes are not free at once).
    pub(crate) async fn take<'a>(
        &'a self,
        held: &mut Held<'a>,
        n: usize,
        until: impl FnOnce() -> Instant,
    ) -> Result<(), Spent> {
        if n == 0 {
            return Ok(());
        }
        let n = u32::try_from(n).map_err(|_| Spent)?;
        // An uncontended take costs one compare-and-swap, no timer.
        let permit = match self.bytes.try_acquire_many(n) {
            Ok(permit) => permit,
            Err(_) => match tokio::time::timeout_at(until(), self.bytes.acquire_many(n)).await {
                Ok(Ok(permit)) => permit,
                // Timed out, or closed (never: the budget is not closed).
                _ => return Err(Spent),
            },
        };
        match &mut held.permit {
            Some(existing) => existing.merge(permit),
            none => *none = Some(permit),
        }
        Ok(())
    }

    /// Bytes free now (for tests and metrics).
    #[cfg(test)]
    pub(crate) fn available(&self) -> usize {
        self.bytes.available_permits()
    }
}

impl Held<'_> {
    /// How many bytes are held.
    pub(crate) fn bytes(&self) -> usize {
        self.permit.as_ref().map_or(0, SemaphorePermit::num_permits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bytes_are_taken_in_line_and_given_back() {
        let budget = BodyBudget::new(100);
        let until = Instant::now() + BUDGET_WAIT;
        let mut a = Held::default();
        budget.take(&mut a, 60, || until).await.unwrap();
        budget.take(&mut a, 30, || until).await.unwrap();
        assert_eq!(a.bytes(), 90);
        assert_eq!(budget.available(), 10);
        // Does not fit: waits the whole second, then is refused.
        let mut b = Held::default();
        let started = Instant::now();
        assert!(budget.take(&mut b, 20, || until).await.is_err());
        assert_eq!(started.elapsed(), BUDGET_WAIT);
        assert_eq!(b.bytes(), 0);
        drop(a);
        assert_eq!(budget.available(), 100);
        let until = Instant::now() + BUDGET_WAIT;
        budget.take(&mut b, 20, || until).await.unwrap();
        assert_eq!(budget.available(), 80);
    }
}
