//! Serving over real sockets: `serve_on` end to end (HTTP/1.1 and HTTP/2, limits,
//! graceful shutdown), hostile and slow clients, readiness, registration with Pillar
//! Cloud, the logs, and the axum, tower and actix adapters.
//!
//! Nothing here sets process-wide state: logs are read through `Captured::install` (a
//! subscriber of the test's thread) and metrics through a recorder of the thread's own.
//! `serve()` itself (its global subscriber, panic hook and signal handlers) runs in the
//! `process`, `logging_opt_out` and `logging_own_subscriber` binaries, or in a child
//! process (`attacks::child_serving_with_default_logging`).

mod adapters;
mod attacks;
mod logs;
mod readiness;
mod registration;
mod serve;
