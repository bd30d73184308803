//! Golden files of the schemas `#[pillar::tool]` derives, for a representative set of
//! tools: every tool defined in this file. A change of any derived schema shows as a diff
//! of `tests/golden/*.json`.
//!
//! Update them after an intended change with
//! `UPDATE_GOLDEN=1 cargo test -p pillar-integration-tests --test protocol schemas::`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(missing_docs, unreachable_pub)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A postal address.
#[derive(Debug, Deserialize, Serialize, pillar::JsonSchema)]
pub struct Address {
    /// Street and number
    pub street: String,
    pub city: String,
    /// Two-letter country code
    #[serde(default = "default_country")]
    pub country: String,
    pub unit: Option<String>,
}

fn default_country() -> String {
    "US".into()
}

/// How a customer pays.
#[derive(Debug, Deserialize, Serialize, pillar::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payment {
    /// A card on file.
    Card {
        /// Last four digits
        last4: String,
    },
    /// An invoice, paid within `net_days`.
    Invoice { net_days: u8 },
}

#[derive(Debug, Deserialize, Serialize, pillar::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Priority {
    Low,
    High,
}

/// A category tree node (recursive).
#[derive(Debug, Deserialize, Serialize, pillar::JsonSchema)]
pub struct Category {
    pub name: String,
    pub children: Vec<Category>,
}

/// Every scalar and container type.
#[allow(clippy::too_many_arguments)]
#[pillar::tool]
async fn scalars(
    text: String,
    flag: bool,
    small: u8,
    count: u32,
    signed: i64,
    ratio: f64,
    tags: Vec<String>,
    maybe: Option<i32>,
    labels: HashMap<String, String>,
    ordered: BTreeMap<String, u16>,
    anything: Value,
) -> Result<(), String> {
    let _ = (
        text, flag, small, count, signed, ratio, tags, maybe, labels, ordered, anything,
    );
    Ok(())
}

/// Create a customer.
#[pillar::tool(output_schema)]
async fn create_customer(
    /// Full name
    name: String,
    /// Billing address
    address: Address,
    shipping: Option<Address>,
    payment: Payment,
    priority: Option<Priority>,
    categories: Vec<Category>,
) -> Result<Address, String> {
    let _ = (name, shipping, payment, priority, categories);
    Ok(address)
}

/// Input of `update_address`.
#[derive(Debug, Deserialize, pillar::JsonSchema)]
pub struct UpdateAddress {
    /// Customer id
    pub customer_id: String,
    /// The new address
    pub address: Address,
    #[serde(default)]
    pub notify: bool,
}

/// Update a customer's address; the whole input is one struct.
#[pillar::tool(channels = ["web", "api"])]
async fn update_address(
    #[pillar(input)] input: UpdateAddress,
    ctx: &pillar::ToolContext,
) -> Result<String, String> {
    let _ = (ctx, input.address, input.notify);
    Ok(input.customer_id)
}

fn has_refs(value: &Value) -> bool {
    match value {
        Value::Object(obj) => {
            obj.keys()
                .any(|k| k == "$ref" || k == "$defs" || k == "definitions")
                || obj.values().any(has_refs)
        }
        Value::Array(items) => items.iter().any(has_refs),
        _ => false,
    }
}

#[test]
fn golden_schemas() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    // The binary registers the tools of its other modules too: the golden files are of
    // the tools defined here.
    let here: Vec<_> = pillar
        .tools()
        .iter()
        .filter(|tool| pillar.tool(&tool.name).unwrap().location().file == file!())
        .collect();
    for &tool in &here {
        let actual = serde_json::to_value(tool).unwrap();
        assert!(!has_refs(&actual), "{} has a $ref: {actual:#}", tool.name);
        let path = dir.join(format!("{}.json", tool.name));
        let text = format!("{}\n", serde_json::to_string_pretty(&actual).unwrap());
        if update {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == text => {}
            Ok(_) => mismatches.push(format!(
                "{} differs from {}:\n{text}",
                tool.name,
                path.display()
            )),
            Err(_) => mismatches.push(format!(
                "{} is missing; run with UPDATE_GOLDEN=1",
                path.display()
            )),
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // One golden file per tool defined here, and no other.
    let mut golden: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    golden.sort();
    let names: Vec<&str> = here.iter().map(|tool| tool.name.as_str()).collect();
    assert_eq!(
        names, golden,
        "the golden files are not those of this file's tools"
    );
}

#[tokio::test]
async fn the_schemas_describe_what_the_tools_accept() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let out = pillar::testing::call(
        &pillar,
        "update_address",
        serde_json::json!({"customer_id": "c_1", "address": {"street": "1 Main", "city": "Oslo"}}),
    )
    .await
    .unwrap();
    assert_eq!(out, "c_1");
    let err = pillar::testing::call(
        &pillar,
        "update_address",
        serde_json::json!({"customer_id": "c_1", "address": {"street": "1 Main"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.message(), "missing: address.city");
}
