//! The `crm` example's own tests (its `#[cfg(test)] mod tests`): every tool against a
//! fresh in-memory database per test. The example is compiled here as a module so that
//! `cargo test` also builds it as the plain binary that `tests/headers.rs` runs (an
//! example with `test = true` is built only as a test harness).

#[allow(dead_code)]
#[path = "../crm.rs"]
mod crm;
