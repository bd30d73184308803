//! Compile-time tests of `#[pillar::tool]`, run with `cargo test -p ui-tests`.
//!
//! `pass/*.rs` must compile; each `fail/*.rs` must fail with exactly the errors in the
//! `.stderr` file beside it. Those files are the macro's user interface: review a change
//! to them like code. The toolchain is pinned in `rust-toolchain.toml` so they stay
//! stable; regenerate them with `TRYBUILD=overwrite cargo test -p ui-tests`.
