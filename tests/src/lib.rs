//! The integration tests' shared harness:
//!
//! - [`echo`], [`echo_builder`], [`http_client`], [`post`] and [`signed_echo_call`]: the
//!   tool the serving tests call and the requests they send it;
//! - [`Server`]: a server started with [`Pillar::serve_on`](pillar::Pillar::serve_on) on a
//!   free loopback port, and the means to call and stop it;
//! - [`Captured`]: what a log subscriber prints ([`Captured::install`] sets one for the
//!   test's thread only);
//! - the tool `refund` counting its runs, [`counted_at_start`] or [`counted_at_finish`]
//!   (the [`counting`] module says which to use), and [`pillar_with`];
//! - [`RedisServer`]: a `redis-server` of one test's own, plain, persistent or TLS-only.
//!
//! The tests themselves are grouped by concern into a few binaries beside this folder
//! (ARCHITECTURE.md, "Tests"); the mock Pillar Cloud they register with is
//! [`pillar::testing::MockCloud`].

mod capture;
pub mod counting;
mod echo;
mod redis;
mod server;

pub use capture::Captured;
pub use counting::{counted_at_finish, counted_at_start, counted_at_start_within, pillar_with};
pub use echo::{echo, echo_builder, http_client, post, signed_echo_call};
pub use redis::{Persistence, RedisOptions, RedisServer};
pub use server::Server;
