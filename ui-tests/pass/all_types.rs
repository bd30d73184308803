// Every kind of parameter type the input schema supports.
use std::collections::{BTreeMap, HashMap};

use pillar::JsonSchema;
use serde::Deserialize;

/// A point on the map.
#[derive(Deserialize, JsonSchema)]
struct Point {
    /// Latitude.
    lat: f64,
    /// Longitude.
    lon: f64,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Role {
    Admin,
    ReadOnly,
}

/// Takes one of everything.
#[pillar::tool]
async fn everything(
    text: String,
    flag: bool,
    signed: i64,
    unsigned: u32,
    float: f64,
    list: Vec<String>,
    maybe: Option<u8>,
    map: HashMap<String, i32>,
    sorted: BTreeMap<String, Vec<bool>>,
    any: serde_json::Value,
    point: Point,
    role: Role,
    nested: Option<Vec<Point>>,
) -> usize {
    let _ = (
        text, flag, signed, unsigned, float, list, maybe, map, sorted, any, point, role,
    );
    nested.map_or(0, |points| points.len())
}

fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let schema = &pillar.tools()[0].input_schema;
    let properties = schema["properties"].as_object().unwrap();
    let expected = [
        "text", "flag", "signed", "unsigned", "float", "list", "maybe", "map", "sorted", "any",
        "point", "role", "nested",
    ];
    assert_eq!(properties.len(), expected.len());
    for name in expected {
        assert!(properties.contains_key(name), "{name}");
    }
    let required = schema["required"].as_array().unwrap();
    assert!(!required
        .iter()
        .any(|name| name == "maybe" || name == "nested"));
    assert!(!schema.to_string().contains("$ref"));
}
