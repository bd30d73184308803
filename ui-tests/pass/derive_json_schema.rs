// `#[derive(pillar::JsonSchema)]` needs no `schemars` dependency and gives the schema
// schemars' derive gives: docs, serde attributes, generics, defaults, recursion.
use std::collections::BTreeMap;

use pillar::JsonSchema;
use serde::Deserialize;

/// A filter on orders.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Filter {
    /// Only orders whose reference starts with this.
    prefix: String,
    #[serde(rename = "max")]
    #[schemars(range(max = 100))]
    limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
enum Shape {
    /// A circle.
    Circle {
        radius: f64,
    },
    Square {
        side: f64,
    },
}

/// A page of items.
#[derive(Deserialize, JsonSchema)]
struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
}

#[derive(Default, Deserialize, JsonSchema)]
#[serde(default)]
struct Settings {
    verbose: bool,
    retries: u8,
}

/// A tree of categories.
#[derive(Deserialize, JsonSchema)]
struct Category {
    name: String,
    children: Vec<Category>,
}

#[derive(Deserialize, JsonSchema)]
struct Meters(f64);

#[derive(Deserialize, JsonSchema)]
#[serde(rename = "Colour")]
enum Color {
    Red,
    Green,
}

/// Takes every kind of derived type.
#[pillar::tool]
async fn everything(
    filter: Filter,
    shape: Shape,
    page: Page<u8>,
    pages: Page<String>,
    settings: Settings,
    tree: Category,
    distance: Meters,
    color: Color,
    extra: BTreeMap<String, Filter>,
) {
    let _ = (
        filter, shape, page, pages, settings, tree, distance, color, extra,
    );
}

fn main() {
    assert_eq!(<Filter as JsonSchema>::schema_name(), "Filter");
    assert_eq!(<Color as JsonSchema>::schema_name(), "Colour");
    assert_eq!(<Page<u8> as JsonSchema>::schema_name(), "Page");
    assert_ne!(
        <Page<u8> as JsonSchema>::schema_id(),
        <Page<String> as JsonSchema>::schema_id()
    );
    assert!(<Filter as JsonSchema>::schema_id().ends_with("::Filter"));

    let pillar = pillar::testing::pillar().build().unwrap();
    let schema = &pillar.tools()[0].input_schema;
    let text = schema.to_string();
    assert!(!text.contains("$ref"), "{text}");
    assert!(!text.contains("__PillarSchema"), "{text}");
    let properties = &schema["properties"];

    let filter = &properties["filter"];
    assert_eq!(filter["description"], "A filter on orders.");
    assert_eq!(filter["additionalProperties"], false);
    assert_eq!(
        filter["properties"]["prefix"]["description"],
        "Only orders whose reference starts with this."
    );
    assert_eq!(filter["properties"]["max"]["maximum"], 100);
    assert_eq!(filter["required"], serde_json::json!(["prefix"]));

    assert!(
        properties["shape"]["oneOf"].is_array(),
        "{}",
        properties["shape"]
    );
    assert_eq!(
        properties["page"]["properties"]["items"]["items"]["type"],
        "integer"
    );
    assert_eq!(
        properties["pages"]["properties"]["items"]["items"]["type"],
        "string"
    );
    assert!(properties["settings"].get("required").is_none());
    assert_eq!(
        properties["settings"]["properties"]["retries"]["default"],
        0
    );
    assert_eq!(properties["tree"]["properties"]["name"]["type"], "string");
    assert_eq!(properties["distance"]["type"], "number");
    assert_eq!(
        properties["color"]["enum"],
        serde_json::json!(["Red", "Green"])
    );
}
