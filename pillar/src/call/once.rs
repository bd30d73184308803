//! The at-most-once path of a call: claim its key in the record of calls, run the tool,
//! record the answer; a repeat delivery gets the recorded answer.

use std::sync::Arc;
use std::time::Instant;

use http::StatusCode;
use tracing::Instrument;

use super::run::{Begun, DetachOnDrop};
use super::{Handled, Pillar};
use crate::answer::Answer;
use crate::idempotency::record::{CallRecord, CLAIM_MARGIN};
use crate::idempotency::{fingerprint, Claim, StoreError};
use crate::observe::Outcome;
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
        let claim_ttl = tool.timeout() + CLAIM_MARGIN;
        let mut deadline = None;
        loop {
            match record.claim(fingerprint, claim_ttl).await {
                Ok(Claim::Run) => break,
                Ok(Claim::Done(recorded)) => {
                    self.metrics().call(Some(index), Outcome::FromRecord);
                    if ctx.call_id.is_empty() {
                        tracing::info!(
                            "pillar.tool" = name,
                            "repeat of a call without call_id (the same signed body): answered \
                             with the first delivery's answer"
                        );
                    } else {
                        tracing::info!(
                            "pillar.tool" = name,
                            "pillar.call_id" = call_id,
                            "repeat delivery: answered with the first delivery's answer"
                        );
                    }
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
                    tracing::warn!(
                        "pillar.tool" = name,
                        "pillar.call_id" = call_id,
                        "call_id reused for a different request: not run"
                    );
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
                        "pillar.call_id" = call_id,
                        %err,
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
                        "pillar.call_id" = call_id,
                        %err,
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
                    let completed = record.complete(fingerprint, status, answer, ttl).await;
                    Handled::recorded(completed, &call_id)
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
        let work = async move {
            let completed = record.complete(fingerprint, status, answer, ttl).await;
            Handled::recorded(completed, &call_id)
        };
        DetachOnDrop::new(detached_id, work.in_current_span()).await
    }
}
