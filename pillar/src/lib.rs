//! Server tools for [Pillar](https://trypillar.com), the AI co-pilot SaaS products embed.
//!
//! Annotate an `async fn` with [`#[pillar::tool]`](macro@tool); its JSON Schema is derived
//! from the parameter types, it is registered with no further call, and
//! [`Pillar::handle`] answers Pillar Cloud's signed webhooks by running it.
//!
//! # Install
//!
//! The package is `pillar-ai-server`; its library is `pillar`:
//!
//! ```toml
//! [dependencies]
//! pillar-ai-server = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! serde = { version = "1", features = ["derive"] }
//! ```
//!
//! `pillar::serve()` then serves every tool of the program, configured from the
//! environment; on its first run it prints where it listens, how many tools it serves and
//! whether it registers them (see [`PillarBuilder::default_logging`]).
//!
//! # Quick start
//!
//! A complete server with two tools: `src/main.rs` of a new binary crate with the
//! dependencies above.
//!
//! ```no_run
//! use pillar::{Confirmation, Reply, ToolContext};
//! use serde::{Deserialize, Serialize};
//!
//! /// An order's status.
//! #[derive(Deserialize, pillar::JsonSchema)]
//! #[serde(rename_all = "lowercase")]
//! enum Status {
//!     Pending,
//!     Shipped,
//! }
//!
//! #[derive(Serialize)]
//! struct Order {
//!     id: u32,
//!     shipped: bool,
//! }
//!
//! /// Search orders by status.
//! #[pillar::tool]
//! async fn search_orders(
//!     /// The status the orders have
//!     status: Status,
//!     /// At most this many (10 when not given)
//!     limit: Option<u32>,
//! ) -> Result<Vec<Order>, String> {
//!     let shipped = matches!(status, Status::Shipped);
//!     let orders = (1..=3).map(|id| Order { id, shipped });
//!     Ok(orders.take(limit.unwrap_or(10) as usize).collect())
//! }
//!
//! #[derive(Serialize)]
//! struct Removed {
//!     email: String,
//! }
//!
//! /// Remove a member from the workspace.
//! #[pillar::tool(
//!     guidance = "Only when the user explicitly asks to remove someone.",
//!     timeout_ms = 30_000,
//!     channels = ["web", "slack"],
//! )]
//! async fn remove_member(email: String, ctx: &ToolContext) -> Result<Reply<Removed>, String> {
//!     // The first call asks the user; the tool runs again with `confirmed()` once they agree.
//!     if !ctx.confirmed() {
//!         return Ok(Confirmation::new()
//!             .title("Remove member")
//!             .message(format!("Remove {email} from the workspace?"))
//!             .detail("Member", &email)
//!             .into());
//!     }
//!     Ok(Reply::Done(Removed { email }))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), pillar::Error> {
//!     pillar::serve().await
//! }
//! ```
//!
//! [`serve()`] finds every `#[pillar::tool]` of the program, registers them with Pillar
//! Cloud when `PILLAR_ENDPOINT_URL` says where Pillar Cloud reaches this server, and answers
//! the signed webhooks on `PILLAR_ADDR` (`0.0.0.0:8787` by default) until Ctrl-C. It needs
//! `PILLAR_SECRET`: the secret from Pillar's dashboard, or any non-empty string locally.
//! Every setting is in [`Settings`]; a server with [`State<T>`] or limits of its own is
//! built with [`PillarBuilder`] and served with [`Pillar::serve`].
//!
//! # The development loop
//!
//! The `pillar` command (`cargo install pillar-ai-server-cli`) calls tools as Pillar Cloud
//! does, signed with the same secret:
//!
//! ```text
//! PILLAR_SECRET=plr_local cargo run
//! # in another terminal:
//! PILLAR_SECRET=plr_local pillar call search_orders --args '{"status": "shipped", "limit": 2}'
//! PILLAR_SECRET=plr_local pillar call remove_member --args '{"email": "li@example.com"}' --confirm
//! ```
//!
//! `pillar dev` runs a local Pillar Cloud with a console in the browser: start it first,
//! then start the server with the environment it prints (`PILLAR_API_URL`,
//! `PILLAR_ENDPOINT_URL`, `PILLAR_ADDR`, `PILLAR_SECRET`); the server registers its tools
//! with it, and the console lists them and calls them from forms built from their schemas.
//!
//! In tests, no server is needed: [`Pillar::handle`] answers a webhook's raw body and
//! headers, and [`testing`] builds signed calls (see [Testing](#testing)).
//!
//! # Defining tools
//!
//! - With the macro: [`#[pillar::tool]`](macro@tool), parameters typed with anything that
//!   implements `Deserialize` and [`JsonSchema`](derive@JsonSchema) (derive both; `pillar::JsonSchema` is
//!   schemars' derive, re-exported so `schemars` need not be a dependency).
//! - Without it: [`Tool::builder`] takes a name, description, JSON Schema and an async
//!   closure over `serde_json::Value`, for tools known only at run time.
//!
//! A tool answers with its result, an error, a [`Confirmation`] request (through
//! [`Reply`]) or a [`DisplayResult`] with display hints.
//!
//! # State and request data
//!
//! A tool takes the application's values (a database pool, an HTTP client, its
//! configuration) as [`State<T>`] parameters, given once to
//! [`PillarBuilder::state`]; a tool whose state was not given fails
//! [`build`](PillarBuilder::build), naming the tool and the type. When the webhook is
//! mounted in a web app through an [adapter](crate::adapters), what the app's middleware
//! put on the request reaches the tool through [`ToolContext::extension`]. Tools built
//! with [`Tool::builder`] capture state in their closure;
//! [`ToolBuilder::typed_handler`] reads their arguments into a type of yours.
//!
//! ```
//! use pillar::{State, ToolContext};
//!
//! struct Db { customers: Vec<(String, String)> }
//!
//! #[derive(Clone)]
//! struct RequestId(String);
//!
//! /// Look up a customer by email.
//! #[pillar::tool]
//! async fn lookup_customer(
//!     /// Email of the customer
//!     email: String,
//!     db: State<Db>,
//!     ctx: &ToolContext,
//! ) -> Result<String, String> {
//!     let request = ctx.extension::<RequestId>().map_or("-", |id| id.0.as_str());
//!     db.customers
//!         .iter()
//!         .find(|(e, _)| *e == email)
//!         .map(|(_, name)| format!("{name} (request {request})"))
//!         .ok_or_else(|| format!("no customer {email}"))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Db { customers: vec![("sarah@acme.com".into(), "Sarah".into())] };
//! let pillar = pillar::testing::pillar().state(db).build()?;
//! let found = pillar::testing::call(&pillar, "lookup_customer", serde_json::json!({"email": "sarah@acme.com"})).await?;
//! assert_eq!(found, "Sarah (request -)");
//!
//! // Without the state, the Pillar is not built:
//! let err = pillar::testing::pillar().build().unwrap_err();
//! assert!(err.to_string().contains("takes `State<"), "{err}");
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
//! ```
//!
//! # Tools in library crates
//!
//! `#[pillar::tool]` registers a tool with [`inventory`](https://docs.rs/inventory), a
//! link-time registry. A tool defined in a library crate is only seen when the final
//! binary links that crate: if nothing in the binary uses the library, the linker drops
//! it, and its tools with it. Use anything from the library in the binary (a `use
//! my_tools as _;` is not enough on every platform; calling a function of it is), or
//! list tools explicitly with [`PillarBuilder::tool`].
//!
//! # Testing
//!
//! [`testing`] runs tools in process, builds webhook bodies and mocks Pillar Cloud;
//! [`ToolContext::builder`] builds a context. [`protocol`] signs bodies and sends them to a
//! server as Pillar Cloud does, and checks registrations as Pillar Cloud does: what the
//! `pillar` command runs on.
//!
//! [`Pillar::handle`] is the framework-independent entry point every adapter and
//! [`serve()`] calls: a signed webhook's raw body and headers in, the response out.
//!
//! ```
//! use pillar::http::StatusCode;
//! use serde_json::json;
//!
//! /// Add two numbers.
//! #[pillar::tool]
//! async fn add(a: i64, b: i64) -> Result<i64, String> {
//!     a.checked_add(b).ok_or_else(|| "the sum overflows".to_string())
//! }
//!
//! // In a test module, under `#[tokio::test]`:
//! async fn add_answers_a_signed_call() -> Result<(), pillar::Error> {
//!     let pillar = pillar::Pillar::builder().secret("plr_test_secret").build()?;
//!
//!     // The body and headers Pillar Cloud would send.
//!     let body = pillar::testing::tool_call_body("add", "tc_1", json!({"a": 2, "b": 3}));
//!     let headers = pillar::protocol::signed_headers("plr_test_secret", &body);
//!
//!     let response = pillar.handle(&body, &headers).await;
//!     assert_eq!(response.status(), StatusCode::OK);
//!     assert_eq!(response.answer().to_value()["result"], json!(5));
//!     Ok(())
//! }
//! # tokio::runtime::Runtime::new().unwrap().block_on(add_answers_a_signed_call()).unwrap();
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: label feature-gated items with their
// feature (`doc_cfg` shows the cfgs of items on its own since `doc_auto_cfg` was merged
// into it).
#![cfg_attr(docsrs, feature(doc_cfg))]

#[allow(unused_extern_crates)]
extern crate self as pillar;

mod answer;
mod call;
mod config;
mod error;
pub mod idempotency;
mod json;
pub mod observe;
pub mod protocol;
mod rejections;
pub mod signature;
mod skill;
pub mod testing;
mod tool;

#[cfg(feature = "serve")]
pub mod adapters;
#[cfg(feature = "serve")]
pub mod cloud;
#[cfg(feature = "serve")]
mod serve;
#[cfg(feature = "serve")]
mod transport;

#[cfg(feature = "mcp")]
pub mod mcp;

/// The README's Rust code, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// What `#[pillar::tool]` and `pillar::skill!` expand to; not a public API.
#[doc(hidden)]
pub mod __private;

pub use crate::answer::{Answer, WebhookResponse};
pub use crate::call::{Pillar, PillarBuilder, ToolCallError, ToolCallErrorKind};
#[cfg(feature = "mcp")]
pub use crate::config::McpSettings;
pub use crate::config::{
    ServerLimits, Settings, DEFAULT_ADDR, DEFAULT_API_URL, DEFAULT_BODY_LIMIT,
};
pub use crate::error::{Error, Location, MissingStateOf};
pub use crate::skill::Skill;
pub use crate::tool::context::{
    CallerInfo, Channel, KnownChannel, ToolContext, ToolContextBuilder,
};
pub use crate::tool::output::IntoToolResult;
pub use crate::tool::reply::{Action, Confirmation, DisplayResult, Reply};
pub use crate::tool::state::State;
pub use crate::tool::{Tool, ToolBuilder, ToolInfo, CHANNELS, DEFAULT_TIMEOUT_MS, NAME_PATTERN};
#[cfg(feature = "serve")]
pub use crate::transport::{TransportError, TransportErrorKind};

/// The `JsonSchema` trait (schemars'), in the type namespace. The derive of the same
/// name, in the macro namespace, is ours: explicit imports shadow glob imports.
///
/// Hidden from the docs: rustdoc lists what a glob brings without the shadowing, so where
/// a dependency turns on schemars' `derive` feature (rmcp does, with `mcp`) the docs would
/// list schemars' derive beside ours. The derive's page links the trait.
#[doc(hidden)]
pub use self::schema_trait::*;

// `#[derive(pillar::JsonSchema)]`: documented in the macro crate.
pub use pillar_macros::JsonSchema;

mod schema_trait {
    // `pillar` builds schemars without its `derive` feature, so this is the trait alone
    // (the docs list one `JsonSchema` derive: ours). Where another crate of the build turns
    // the feature on, the crate root's explicit derive import shadows the glob's.
    pub use schemars::JsonSchema;
}

/// The `http` crate, whose `StatusCode` and `HeaderMap` [`Pillar::handle`] uses.
pub use http;

#[doc = include_str!("../docs/tool.md")]
pub use pillar_macros::tool;

#[cfg(feature = "serve")]
pub use crate::serve::serve;
