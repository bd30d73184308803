//! The record of calls in memory: at most one run per `(action, call_id)` (repeats,
//! conflicts, callers that go away, a store that cannot be reached), repeat deliveries
//! of an exact body, and the record's bound in bytes.

mod idempotency;
mod record_bytes;
mod replays;
