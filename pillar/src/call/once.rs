//! The at-most-once path of a call: claim its key in the record of calls, run the tool,
//! record the answer; a repeat delivery gets the recorded answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use tracing::Instrument;

use super::run::{Begun, DetachOnDrop};
use super::{Handled, Pillar};
use crate::answer::Answer;
use crate::idempotency::record::CallRecord;
use crate::idempotency::{fingerprint, Claim, StoreError};
use crate::observe::{Outcome, Untrusted};
use crate::rejections::Repeat;
use crate::tool::context::ToolContext;

impl Pillar {
    /// At most one run per record: `(action, call_id)`, or for a call without a
    /// `call_id` the SHA-256 digest of its exact signed body
    /// ([`Store::record_body`](crate::idempotency::record::Store::record_body)).
    /// Claims the key, runs the tool, records the answer; a repeat delivery gets the
    /// recorded answer (waiting for it while the first delivery runs). Once claimed, the
    /// run goes on even if the caller goes away (a client that disconnects), so its
    /// answer is recorded for the retry.
    pub(super) async fn handle_once(
        &self,
        record: CallRecord,
        action: &'static str,
        index: usize,
        input: &str,
        field: &'static str,
        ctx: Box<ToolContext>,
    ) -> Handled {
        let tool = &self.inner.tools[index];
        // Who the call is, on every line logged here: the `pillar.call` span that also
        // says so is DEBUG (see `observe`).
        let (name, call_id) = (tool.info.name.as_str(), &*ctx.call_id);
        let fingerprint = fingerprint(&tool.info.name, input);
        let claim_ttl = tool.timeout() + self.inner.settings.claim_margin;
        let mut deadline = None;
        // When the claim that wins was asked for: it expires at most `claim_ttl` later.
        let mut claimed_at;
        loop {
            claimed_at = Instant::now();
            match record.claim(fingerprint, claim_ttl).await {
                Ok(Claim::Run) => break,
                Ok(Claim::Done(recorded)) => {
                    self.metrics().call(Some(index), Outcome::FromRecord);
                    // Summarised: replays of one captured request are one line per 10 s.
                    let kind = if ctx.call_id.is_empty() {
                        Repeat::SameBody
                    } else {
                        Repeat::Delivery
                    };
                    self.note_repeat(kind, name, call_id);
                    return (recorded.status, recorded.answer).into();
                }
                Ok(Claim::InProgress) => {
                    // A repeat waits for the first delivery at most as long as its claim.
                    let until = *deadline.get_or_insert_with(|| Instant::now() + claim_ttl);
                    if Instant::now() >= until {
                        self.metrics().call(Some(index), Outcome::Refused);
                        return (
                            StatusCode::SERVICE_UNAVAILABLE,
                            Answer::unavailable(
                                "The first delivery of this call is still running; retry later",
                                5,
                            ),
                        )
                            .into();
                    }
                    record.changed().await;
                }
                Ok(Claim::Conflict) => {
                    self.metrics().call(Some(index), Outcome::Conflict);
                    self.note_repeat(Repeat::Conflict, name, call_id);
                    let message = format!(
                        "call_id '{}' was already used for a different {action} (another tool \
                         or other input); this one was not run",
                        ctx.call_id
                    );
                    return (
                        StatusCode::CONFLICT,
                        Answer::tool_error(ctx.call_id, message),
                    )
                        .into();
                }
                Err(err @ (StoreError::Full(_) | StoreError::FullBytes(_))) => {
                    self.metrics().call(Some(index), Outcome::Refused);
                    tracing::error!(
                        "pillar.tool" = name,
                        "pillar.call_id" = ?Untrusted::id(call_id),
                        err = %Untrusted::text(&err),
                        "the record of recent calls is full of records it must keep: refusing \
                         the call rather than forget one (raise the store's capacity or \
                         max_bytes)"
                    );
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Answer::unavailable(
                            "Busy: too many calls in the record window; retry later",
                            30,
                        ),
                    )
                        .into();
                }
                Err(err) => {
                    self.metrics().call(Some(index), Outcome::Refused);
                    tracing::error!(
                        "pillar.tool" = name,
                        "pillar.call_id" = ?Untrusted::id(call_id),
                        err = %Untrusted::text(&err),
                        "the record of calls is unavailable: refusing the call rather than \
                         risk running it twice"
                    );
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Answer::unavailable(
                            "Temporarily unavailable: the record of calls cannot be reached; retry",
                            1,
                        ),
                    )
                        .into();
                }
            }
        }
        let started = Instant::now();
        let call_id = Arc::clone(&ctx.call_id);
        let ttl = self.inner.settings.record_ttl;
        let claim_expires = claimed_at + claim_ttl;
        // A tool that finishes before its first poll returns is answered and recorded
        // here; otherwise the rest runs detached from the caller.
        let result = match self.begin_tool(tool, input, field, ctx).await {
            Begun::Finished(result) => result,
            Begun::Running(guarded) => {
                // The tool waits: from here its run goes on even if the caller goes away,
                // so that its answer is recorded for the retry.
                let pillar = self.clone();
                let detached_id = Arc::clone(&call_id);
                let work = async move {
                    let outcome = guarded.await;
                    let result = pillar.tool_result(&pillar.inner.tools[index], &call_id, outcome);
                    let (status, answer) =
                        pillar.conclude(result, Arc::clone(&call_id), started, index);
                    let answer = Answered {
                        fingerprint,
                        status,
                        answer,
                        ttl,
                        claim_expires,
                    };
                    record_answer(record, answer, call_id).await
                };
                return DetachOnDrop::new(detached_id, work.in_current_span()).await;
            }
        };
        let (status, answer) = self.conclude(result, Arc::clone(&call_id), started, index);
        if record.completes_at_once() {
            let completed = record.complete(fingerprint, status, answer, ttl).await;
            return Handled::recorded(completed, &call_id);
        }
        // A store across the network: its write goes on even if the caller goes away.
        let detached_id = Arc::clone(&call_id);
        let answer = Answered {
            fingerprint,
            status,
            answer,
            ttl,
            claim_expires,
        };
        let work = record_answer(record, answer, call_id);
        DetachOnDrop::new(detached_id, work.in_current_span()).await
    }
}

/// A finished call's answer, to record.
struct Answered {
    fingerprint: u64,
    status: StatusCode,
    answer: Answer,
    /// How long the record is kept.
    ttl: Duration,
    /// When the call's claim expires at the latest: recording is retried until then.
    claim_expires: Instant,
}

/// The first delay before recording an answer again, doubling up to [`RECORD_RETRY_MAX`].
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(50);
/// The longest delay between two attempts to record an answer.
const RECORD_RETRY_MAX: Duration = Duration::from_secs(1);

/// Records a call's answer in its store. When the store fails, the caller is answered
/// at once and the answer is kept: recording it is retried in the background until the
/// call's claim expires, so that a repeat delivery waiting on the claim gets this answer
/// once the store is back, rather than run the tool again after the claim expires.
async fn record_answer(record: CallRecord, answered: Answered, call_id: Arc<str>) -> Handled {
    let Answered {
        fingerprint,
        status,
        answer,
        ttl,
        claim_expires,
    } = answered;
    let mut completed = record.complete(fingerprint, status, answer, ttl).await;
    let Err(err) = std::mem::replace(&mut completed.stored, Ok(())) else {
        return Handled::recorded(completed, &call_id);
    };
    let left = claim_expires.saturating_duration_since(Instant::now());
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        completed.stored = Err(err);
        return Handled::recorded(completed, &call_id);
    };
    tracing::error!(
        "pillar.call_id" = ?Untrusted::id(&*call_id),
        err = %Untrusted::text(&err),
        "the answer could not be recorded; it was sent, and recording it is retried for \
         {left:?}, until the call's claim expires (a repeat delivery waits for it; past \
         that, a repeat may run the tool again)"
    );
    let kept = Answered {
        fingerprint,
        status: completed.status,
        answer: completed.answer.clone(),
        ttl,
        claim_expires,
    };
    let retry_id = Arc::clone(&call_id);
    runtime.spawn(keep_recording(record, kept, retry_id).in_current_span());
    Handled::recorded(completed, &call_id)
}

/// Records `answered` again until the store takes it or the claim expires.
async fn keep_recording(record: CallRecord, answered: Answered, call_id: Arc<str>) {
    let Answered {
        fingerprint,
        status,
        mut answer,
        ttl,
        claim_expires,
    } = answered;
    let mut delay = RECORD_RETRY_FIRST;
    let mut attempts = 1u32;
    let last_err = loop {
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RECORD_RETRY_MAX);
        attempts += 1;
        let attempt = tokio::time::timeout_at(
            claim_expires.into(),
            record.complete(fingerprint, status, answer, ttl),
        )
        .await;
        let Ok(completed) = attempt else {
            break None;
        };
        match completed.stored {
            Ok(()) => {
                tracing::info!(
                    "pillar.call_id" = ?Untrusted::id(&*call_id),
                    attempts,
                    "the answer was recorded after the store came back: a repeat delivery \
                     gets it"
                );
                return;
            }
            Err(err) if Instant::now() + delay >= claim_expires => break Some(err),
            Err(_) => answer = completed.answer,
        }
    };
    let last_err = last_err.map_or_else(
        || "no answer from the store before the claim expired".to_owned(),
        |err| err.to_string(),
    );
    tracing::error!(
        "pillar.call_id" = ?Untrusted::id(&*call_id),
        attempts,
        err = %Untrusted::text(&last_err),
        "the answer could not be recorded before the call's claim expired: a repeat \
         delivery may run the tool again (the store stayed unavailable; see SECURITY.md, \
         \"Redis: which configuration keeps the promise\")"
    );
}
