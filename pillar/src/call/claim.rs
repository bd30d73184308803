//! The claim stage: a call's key in the record of calls is claimed before its tool runs,
//! so that the same call runs at most once. A repeat delivery gets the recorded response
//! (waiting for it while the first delivery runs); a key reused for another request is
//! refused (409); a store that cannot answer refuses the call (503), never runs it
//! without a claim. With the record of calls off, every claim is granted at once.

use std::time::Instant;

use http::StatusCode;

use super::Pillar;
use crate::answer::{Answer, WebhookResponse};
use crate::idempotency::record::CallRecord;
use crate::idempotency::{fingerprint, Claim, StoreError};
use crate::observe::{Outcome, Untrusted};
use crate::rejections::Repeat;
use crate::tool::context::ToolContext;

/// A claimed call: what the record stage needs to record its response.
pub(super) struct Claimed {
    /// The request's fingerprint (tool and input), recorded with the response.
    pub(super) fingerprint: u64,
    /// When the claim expires at the latest (`None` with the record of calls off):
    /// recording a response the store refused is retried until then.
    pub(super) expires: Option<Instant>,
}

impl Pillar {
    /// Claims `record` for this delivery: at most one run per record, `(action,
    /// call_id)`, or for a call without a `call_id` the SHA-256 digest of its exact signed
    /// body ([`Store::record_body`](crate::idempotency::record::Store::record_body)).
    /// The response that ends the call here when it is not this delivery's to run.
    pub(super) async fn claim(
        &self,
        record: &CallRecord,
        action: &'static str,
        index: usize,
        input: &str,
        ctx: &ToolContext,
    ) -> Result<Claimed, WebhookResponse> {
        if !record.keeps_answers() {
            return Ok(Claimed {
                fingerprint: 0,
                expires: None,
            });
        }
        let tool = &self.inner.tools[index];
        // Who the call is, on every line logged here: the `pillar.call` span that also
        // says so is DEBUG (see `observe`).
        let (name, call_id) = (tool.info.name.as_str(), &*ctx.call_id);
        let fingerprint = fingerprint(name, input);
        let claim_ttl = tool.timeout() + self.inner.settings.claim_margin;
        let mut deadline = None;
        loop {
            // When the claim that wins was asked for: it expires at most `claim_ttl` later.
            let asked = Instant::now();
            let refusal = match record.claim(fingerprint, claim_ttl).await {
                Ok(Claim::Run) => {
                    return Ok(Claimed {
                        fingerprint,
                        expires: Some(asked + claim_ttl),
                    })
                }
                Ok(Claim::Done(recorded)) => {
                    self.metrics().call(Some(index), Outcome::FromRecord);
                    // Summarised: replays of one captured request are one line per 10 s.
                    let kind = if call_id.is_empty() {
                        Repeat::SameBody
                    } else {
                        Repeat::Delivery
                    };
                    self.note_repeat(kind, name, call_id);
                    return Err(recorded);
                }
                Ok(Claim::InProgress) => {
                    // A repeat waits for the first delivery at most as long as its claim.
                    let until = *deadline.get_or_insert_with(|| asked + claim_ttl);
                    if Instant::now() < until {
                        record.changed().await;
                        continue;
                    }
                    WebhookResponse::unavailable(
                        "The first delivery of this call is still running; retry later",
                        5,
                    )
                }
                Ok(Claim::Conflict) => {
                    self.metrics().call(Some(index), Outcome::Conflict);
                    self.note_repeat(Repeat::Conflict, name, call_id);
                    let message = format!(
                        "call_id '{call_id}' was already used for a different {action} \
                         (another tool or other input); this one was not run"
                    );
                    return Err(WebhookResponse::new(
                        StatusCode::CONFLICT,
                        Answer::tool_error(call_id, message),
                    ));
                }
                Err(err @ (StoreError::Full(_) | StoreError::FullBytes(_))) => {
                    tracing::error!(
                        "pillar.tool" = name,
                        "pillar.call_id" = ?Untrusted::id(call_id),
                        err = %Untrusted::text(&err),
                        "the record of recent calls is full of records it must keep: refusing \
                         the call rather than forget one (raise the store's capacity or \
                         max_bytes)"
                    );
                    WebhookResponse::unavailable(
                        "Busy: too many calls in the record window; retry later",
                        30,
                    )
                }
                Err(err) => {
                    tracing::error!(
                        "pillar.tool" = name,
                        "pillar.call_id" = ?Untrusted::id(call_id),
                        err = %Untrusted::text(&err),
                        "the record of calls is unavailable: refusing the call rather than \
                         risk running it twice"
                    );
                    WebhookResponse::unavailable(
                        "Temporarily unavailable: the record of calls cannot be reached; retry",
                        1,
                    )
                }
            };
            self.metrics().call(Some(index), Outcome::Refused);
            return Err(refusal);
        }
    }
}
