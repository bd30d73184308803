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
//! ```
//! use pillar::{Confirmation, Reply, ToolContext};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, pillar::JsonSchema)]
//! #[serde(rename_all = "lowercase")]
//! enum Status { Pending, Shipped, Delivered }
//!
//! #[derive(Serialize)]
//! struct Order { id: String }
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("the order database is unavailable")]
//! struct OrderError;
//!
//! /// Search orders by status and date range.
//! #[pillar::tool]
//! async fn search_orders(
//!     /// Order status
//!     status: Status,
//!     /// ISO date string
//!     since: Option<String>,
//!     limit: Option<u32>,
//! ) -> Result<Vec<Order>, OrderError> {
//!     # let _ = (status, since);
//!     let limit = limit.unwrap_or(10) as usize;
//!     Ok(vec![Order { id: "ord_1".into() }].into_iter().take(limit).collect())
//! }
//!
//! #[derive(Serialize)]
//! struct Removed { removed: bool }
//!
//! # mod db {
//! #     pub struct User { pub name: String }
//! #     #[derive(Debug, thiserror::Error)]
//! #     #[error("no such member")]
//! #     pub struct DbError;
//! #     pub async fn get_user(_id: &str) -> Result<User, DbError> { Ok(User { name: "Sarah".into() }) }
//! #     pub async fn remove_member(_id: &str) -> Result<(), DbError> { Ok(()) }
//! # }
//! # use db::DbError;
//! #[pillar::tool(
//!     description = "Remove a member from the workspace",
//!     guidance = "Only use when the user explicitly asks. Always confirm first.",
//!     timeout_ms = 60_000,
//!     channels = ["web", "slack"],
//! )]
//! async fn delete_member(user_id: String, ctx: &ToolContext) -> Result<Reply<Removed>, DbError> {
//!     if !ctx.confirmed() {
//!         let user = db::get_user(&user_id).await?;
//!         return Ok(Confirmation::new()
//!             .title("Remove member")
//!             .message(format!("Remove {} from the workspace?", user.name))
//!             .detail("Member", &user.name)
//!             .payload(serde_json::json!({ "user_id": user_id }))
//!             .into());
//!     }
//!     db::remove_member(&user_id).await?;
//!     Ok(Reply::Done(Removed { removed: true }))
//! }
//!
//! # async fn run() -> Result<(), pillar::Error> {
//! // The framework-independent entry point every adapter and `serve()` calls:
//! let pillar = pillar::Pillar::builder().secret("plr_test_secret").build()?;
//! # let raw_body = pillar::testing::tool_call_body("search_orders", "tc_1", serde_json::json!({"status": "shipped"}));
//! # let headers = pillar::protocol::signed_headers("plr_test_secret", &raw_body);
//! let response = pillar.handle(&raw_body, &headers).await;
//! assert_eq!(response.status(), pillar::http::StatusCode::OK);
//! assert_eq!(response.answer().to_value()["result"], serde_json::json!([{"id": "ord_1"}]));
//!
//! // Each tool's registration form, as Pillar Cloud receives it:
//! let names: Vec<_> = pillar.tools().iter().map(|t| t.name.as_str()).collect();
//! assert_eq!(names, ["delete_member", "search_orders"]);
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
//! ```
//!
//! # Defining tools
//!
//! - With the macro: [`#[pillar::tool]`](macro@tool), parameters typed with anything that
//!   implements `Deserialize` and [`JsonSchema`] (derive both; `pillar::JsonSchema` is
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

/// What `#[pillar::tool]` and `pillar::skill!` expand to; not a public API.
#[doc(hidden)]
pub mod __private;

pub use crate::answer::{Answer, WebhookResponse};
pub use crate::call::{Pillar, PillarBuilder, ToolCallError, ToolCallErrorKind};
pub use crate::config::{
    ServerLimits, Settings, DEFAULT_ADDR, DEFAULT_API_URL, DEFAULT_BODY_LIMIT,
};
pub use crate::error::{Error, Location, MissingStateOf};
pub use crate::skill::Skill;
pub use crate::tool::context::{
    CallerInfo, Channel, KnownChannel, ToolContext, ToolContextBuilder,
};
pub use crate::tool::reply::{Action, Confirmation, DisplayResult, Reply};
pub use crate::tool::state::State;
pub use crate::tool::{Tool, ToolBuilder, ToolInfo, CHANNELS, DEFAULT_TIMEOUT_MS, NAME_PATTERN};
#[cfg(feature = "serve")]
pub use crate::transport::{TransportError, TransportErrorKind};

/// The `JsonSchema` trait (schemars'), in the type namespace. The derive of the same
/// name, in the macro namespace, is ours: explicit imports shadow glob imports.
pub use self::schema_trait::*;

/// `#[derive(pillar::JsonSchema)]`: schemars' derive reached through this crate, so a
/// crate that depends only on `pillar` can derive schemas for its parameter types.
pub use pillar_macros::JsonSchema;

mod schema_trait {
    pub use schemars::JsonSchema;
}

/// The `http` crate, whose `StatusCode` and `HeaderMap` [`Pillar::handle`] uses.
pub use http;

#[doc = include_str!("../docs/tool.md")]
pub use pillar_macros::tool;

#[cfg(feature = "serve")]
pub use crate::serve::serve;
