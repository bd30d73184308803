//! The run and record stages: a claimed call's tool runs (`run.rs`), its response is made
//! and recorded for repeat deliveries, and goes back to the transport. Once claimed, a
//! call whose response is kept runs on even if its caller goes away, so the response is
//! there for the retry; a store that fails to record it gets it again in the background
//! until the claim expires.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use super::claim::Claimed;
use super::run::{DetachOnDrop, Run};
use super::Pillar;
use crate::answer::WebhookResponse;
use crate::idempotency::record::CallRecord;
use crate::idempotency::StoreError;
use crate::observe::Untrusted;
use crate::tool::context::ToolContext;

impl Pillar {
    /// Runs a claimed call and records its response.
    pub(super) async fn run_and_record(
        &self,
        record: CallRecord,
        claimed: Claimed,
        index: usize,
        input: &str,
        field: &'static str,
        ctx: Box<ToolContext>,
    ) -> WebhookResponse {
        let tool = &self.inner.tools[index];
        let started = Instant::now();
        let call_id = Arc::clone(&ctx.call_id);
        let ttl = self.inner.settings.record_ttl;
        // A tool that finishes before its first poll returns is answered and recorded
        // here; otherwise it waits, in place when nothing is kept of it, detached from the
        // caller when its response is recorded.
        let result = match self.run(tool, input, field, ctx).await {
            Run::Done(result) => result,
            Run::Waiting(guarded) if !record.keeps_answers() => {
                self.tool_result(tool, &call_id, guarded.await)
            }
            Run::Waiting(guarded) => {
                let pillar = self.clone();
                let detached_id = Arc::clone(&call_id);
                let work = async move {
                    let outcome = guarded.await;
                    let result = pillar.tool_result(&pillar.inner.tools[index], &call_id, outcome);
                    let response = pillar.response_of(result, Arc::clone(&call_id), started, index);
                    record_response(record, claimed, response, ttl, call_id).await
                };
                return DetachOnDrop::new(detached_id, work.in_current_span()).await;
            }
        };
        let mut response = self.response_of(result, Arc::clone(&call_id), started, index);
        if record.records_at_once() {
            if let Err(err) = record.record(claimed.fingerprint, &mut response, ttl).await {
                not_recorded(&call_id, &err, None);
            }
            return response;
        }
        // A store across the network: its write goes on even if the caller goes away.
        let detached_id = Arc::clone(&call_id);
        let work = record_response(record, claimed, response, ttl, call_id);
        DetachOnDrop::new(detached_id, work.in_current_span()).await
    }
}

/// The first delay before recording a response again, doubling up to [`RECORD_RETRY_MAX`].
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(50);
/// The longest delay between two attempts to record a response.
const RECORD_RETRY_MAX: Duration = Duration::from_secs(1);

/// Records a call's response in its store. When the store fails, the caller is answered
/// at once and the response is kept: recording it is retried in the background until the
/// call's claim expires, so that a repeat delivery waiting on the claim gets this
/// response once the store is back, rather than run the tool again after the claim
/// expires.
async fn record_response(
    record: CallRecord,
    claimed: Claimed,
    mut response: WebhookResponse,
    ttl: Duration,
    call_id: Arc<str>,
) -> WebhookResponse {
    let Err(err) = record.record(claimed.fingerprint, &mut response, ttl).await else {
        return response;
    };
    let (Some(expires), Ok(runtime)) = (claimed.expires, tokio::runtime::Handle::try_current())
    else {
        not_recorded(&call_id, &err, None);
        return response;
    };
    let left = expires.saturating_duration_since(Instant::now());
    not_recorded(&call_id, &err, Some(left));
    let kept = response.clone();
    runtime.spawn(keep_recording(record, claimed, kept, ttl, call_id).in_current_span());
    response
}

/// Logs a response the store did not take: retried for `retrying`, or not at all.
fn not_recorded(call_id: &str, err: &StoreError, retrying: Option<Duration>) {
    match retrying {
        Some(left) => tracing::error!(
            "pillar.call_id" = ?Untrusted::id(call_id),
            err = %Untrusted::text(err),
            "the answer could not be recorded; it was sent, and recording it is retried for \
             {left:?}, until the call's claim expires (a repeat delivery waits for it; past \
             that, a repeat may run the tool again)"
        ),
        None => tracing::error!(
            "pillar.call_id" = ?Untrusted::id(call_id),
            err = %Untrusted::text(err),
            "the answer could not be recorded; a repeat delivery may run the tool again once \
             the claim expires"
        ),
    }
}

/// Records `response` again until the store takes it or the claim expires.
async fn keep_recording(
    record: CallRecord,
    claimed: Claimed,
    mut response: WebhookResponse,
    ttl: Duration,
    call_id: Arc<str>,
) {
    let Some(expires) = claimed.expires else {
        return;
    };
    let mut delay = RECORD_RETRY_FIRST;
    let mut attempts = 1u32;
    let last_err = loop {
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RECORD_RETRY_MAX);
        attempts += 1;
        let attempt = tokio::time::timeout_at(
            expires.into(),
            record.record(claimed.fingerprint, &mut response, ttl),
        )
        .await;
        match attempt {
            Err(_elapsed) => break None,
            Ok(Ok(())) => {
                tracing::info!(
                    "pillar.call_id" = ?Untrusted::id(&*call_id),
                    attempts,
                    "the answer was recorded after the store came back: a repeat delivery \
                     gets it"
                );
                return;
            }
            Ok(Err(err)) if Instant::now() + delay >= expires => break Some(err),
            Ok(Err(_)) => {}
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
