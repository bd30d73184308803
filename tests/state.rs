//! `State<T>`: application values given to the builder and received by the tools that ask
//! for them; and `Tool::builder`'s typed handler. A test binary of its own: every
//! `Pillar` built here must give the states its registered tools take.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;

use pillar::protocol;
use pillar::testing::{self, TEST_SECRET};
use pillar::{State, Tool, ToolCallErrorKind, ToolContext};
use serde_json::{json, Value};

/// A database handle: not `Clone`, shared behind the state's `Arc`.
struct Db {
    name: &'static str,
    customers: Vec<(&'static str, &'static str)>,
}

/// A second state type, written to by a tool.
#[derive(Default)]
struct AuditLog(Mutex<Vec<String>>);

/// Look up a customer by email.
#[pillar::tool]
async fn lookup_customer(
    /// Email of the customer
    email: String,
    db: State<Db>,
    ctx: &ToolContext,
) -> Result<Value, String> {
    let name = db
        .customers
        .iter()
        .find(|(e, _)| *e == email)
        .map(|(_, name)| *name)
        .ok_or_else(|| format!("no customer {email} in {}", db.name))?;
    Ok(json!({"name": name, "db": db.name, "call_id": ctx.call_id()}))
}

/// Record who looked, with two states on either side of a JSON argument.
#[pillar::tool]
async fn audit(log: State<AuditLog>, who: String, db: State<Db>) -> usize {
    let mut entries = log.0.lock().unwrap();
    entries.push(format!("{who}@{}", db.name));
    entries.len()
}

fn db(name: &'static str) -> Db {
    Db {
        name,
        customers: vec![("sarah@acme.com", "Sarah"), ("li@globex.com", "Li")],
    }
}

fn builder(name: &'static str) -> pillar::PillarBuilder {
    testing::pillar().state(db(name)).state(AuditLog::default())
}

#[tokio::test]
async fn a_tool_receives_its_state_through_testing_call_and_a_signed_webhook() {
    let pillar = builder("primary").build().unwrap();
    let found = testing::call(
        &pillar,
        "lookup_customer",
        json!({"email": "li@globex.com"}),
    )
    .await
    .unwrap();
    assert_eq!(found["name"], "Li");
    assert_eq!(found["db"], "primary");

    let body = testing::tool_call_body(
        "lookup_customer",
        "tc_9",
        json!({"email": "sarah@acme.com"}),
    );
    let (status, answer) = pillar
        .handle(&body, &protocol::signed_headers(TEST_SECRET, &body))
        .await
        .into_parts();
    assert_eq!(status, 200);
    assert_eq!(
        answer.to_value(),
        json!({"call_id": "tc_9", "success": true, "result": {"name": "Sarah", "db": "primary", "call_id": "tc_9"}})
    );
}

#[tokio::test]
async fn states_are_never_in_the_schema() {
    let pillar = builder("primary").build().unwrap();
    let lookup = &pillar.tool("lookup_customer").unwrap().info().input_schema;
    assert_eq!(lookup["required"], json!(["email"]));
    assert_eq!(lookup["properties"].as_object().unwrap().len(), 1);
    let audit = &pillar.tool("audit").unwrap().info().input_schema;
    assert_eq!(audit["required"], json!(["who"]));
}

#[tokio::test]
async fn several_states_in_one_tool_and_shared_between_calls() {
    let pillar = builder("primary").build().unwrap();
    for expected in 1..=3 {
        let count = testing::call(&pillar, "audit", json!({"who": "ops"}))
            .await
            .unwrap();
        assert_eq!(count, expected);
    }
}

#[tokio::test]
async fn each_pillar_sees_its_own_state() {
    let eu = builder("eu").build().unwrap();
    let us = builder("us").build().unwrap();
    let args = json!({"email": "sarah@acme.com"});
    let from_eu = testing::call(&eu, "lookup_customer", args.clone())
        .await
        .unwrap();
    let from_us = testing::call(&us, "lookup_customer", args).await.unwrap();
    assert_eq!(from_eu["db"], "eu");
    assert_eq!(from_us["db"], "us");
    // Separate audit logs too.
    testing::call(&eu, "audit", json!({"who": "a"}))
        .await
        .unwrap();
    let us_count = testing::call(&us, "audit", json!({"who": "b"}))
        .await
        .unwrap();
    assert_eq!(us_count, 1);
}

#[test]
fn a_missing_state_fails_the_build_naming_the_tool_its_place_and_the_type() {
    let err = testing::pillar().state(db("x")).build().unwrap_err();
    let line = include_str!("state.rs")
        .lines()
        .position(|l| l.starts_with("async fn audit("))
        .unwrap()
        + 1;
    assert_eq!(
        err.to_string(),
        format!(
            "tool `audit` (at tests/state.rs:{line}) takes `State<state::AuditLog>`, but no \
             state of type `state::AuditLog` was given: add `.state(...)` with a \
             `state::AuditLog` to the builder (`pillar::serve()` gives no state: serve with \
             `pillar::PillarBuilder::from_env()?.state(value).build()?.serve().await` instead)"
        )
    );
    assert!(
        matches!(err, pillar::Error::MissingState { .. }),
        "{err:#?}"
    );
}

#[test]
fn every_missing_state_is_named_at_once_with_the_builder_form() {
    // What `pillar::serve()` builds: no state at all.
    let err = testing::pillar().build().unwrap_err();
    let pillar::Error::MissingStates(missing) = &err else {
        panic!("{err:#?}");
    };
    let named: Vec<(&str, &str)> = missing
        .iter()
        .map(|m| (m.tool.as_str(), m.type_name))
        .collect();
    assert_eq!(
        named,
        [
            ("audit", "state::AuditLog"),
            ("audit", "state::Db"),
            ("lookup_customer", "state::Db"),
        ]
    );
    let text = err.to_string();
    assert!(
        text.starts_with("3 states the tools take were not given to the builder: tool `audit`"),
        "{text}"
    );
    assert!(
        text.contains("add a `.state(...)` for each of `state::AuditLog`, `state::Db`"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "(`pillar::serve()` gives no state: serve with \
             `pillar::PillarBuilder::from_env()?.state(value).build()?.serve().await` instead)"
        ),
        "{text}"
    );
}

#[test]
fn the_same_type_given_twice_is_refused() {
    let err = builder("a").state(db("b")).build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "two states of type `state::Db` were given to the builder; give each type once (wrap \
         values that share a type in types of their own)"
    );
}

#[tokio::test]
async fn a_tool_function_is_callable_directly_with_a_state_made_by_hand() {
    let ctx = ToolContext::builder().call_id("tc_direct").build();
    let found = lookup_customer("sarah@acme.com".into(), State::new(db("by hand")), &ctx)
        .await
        .unwrap();
    assert_eq!(
        found,
        json!({"name": "Sarah", "db": "by hand", "call_id": "tc_direct"})
    );
    let shared = std::sync::Arc::new(AuditLog::default());
    let count = audit(State::from(shared.clone()), "me".into(), db("d").into()).await;
    assert_eq!((count, shared.0.lock().unwrap().len()), (1, 1));
}

#[derive(serde::Deserialize, pillar::JsonSchema)]
struct Search {
    /// Words to look for
    query: String,
    /// At most this many results
    limit: Option<u8>,
}

fn search_tool(catalog: std::sync::Arc<Vec<&'static str>>) -> Tool {
    Tool::builder("search_catalog")
        .description("Search the catalog")
        .typed_handler(move |args: Search, _ctx| {
            let catalog = catalog.clone();
            async move {
                let found: Vec<&str> = catalog
                    .iter()
                    .copied()
                    .filter(|item| item.contains(args.query.as_str()))
                    .take(usize::from(args.limit.unwrap_or(10)))
                    .collect();
                Ok::<_, String>(found)
            }
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_typed_handler_derives_its_schema_and_refuses_bad_arguments_with_their_path() {
    let catalog = std::sync::Arc::new(vec!["red shoes", "blue shoes", "red hat"]);
    let pillar = builder("p").tool(search_tool(catalog)).build().unwrap();
    let schema = &pillar.tool("search_catalog").unwrap().info().input_schema;
    assert_eq!(schema["required"], json!(["query"]));
    assert_eq!(
        schema["properties"]["query"]["description"],
        "Words to look for"
    );
    assert!(!schema.to_string().contains("$ref"), "{schema}");

    let found = testing::call(
        &pillar,
        "search_catalog",
        json!({"query": "red", "limit": 1}),
    )
    .await
    .unwrap();
    assert_eq!(found, json!(["red shoes"]));
    let err = testing::call(
        &pillar,
        "search_catalog",
        json!({"query": "red", "limit": 300}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ToolCallErrorKind::InvalidArguments);
    assert_eq!(
        err.message(),
        "arguments.limit: 300 is above the maximum of 255"
    );
    let err = testing::call(&pillar, "search_catalog", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "missing: query");
}

#[test]
fn a_typed_handler_and_a_hand_written_schema_together_are_refused() {
    let err = Tool::builder("t")
        .description("d")
        .input_schema(json!({"type": "object"}))
        .typed_handler(|_: Search, _ctx| async { Ok::<_, String>(()) })
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("both an input_schema and a typed_handler"),
        "{err}"
    );
    // A plain handler after a typed one replaces it, schema included.
    let tool = Tool::builder("t")
        .description("d")
        .typed_handler(|_: Search, _ctx| async { Ok::<_, String>(()) })
        .handler(|_: Value, _ctx| async { Ok::<_, String>(()) })
        .build()
        .unwrap();
    assert_eq!(
        tool.info().input_schema,
        json!({"type": "object", "properties": {}})
    );
}
