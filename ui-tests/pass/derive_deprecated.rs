// `#[derive(pillar::JsonSchema)]` keeps `#[deprecated]` as schemars' own derive does: a
// deprecated type, variant or field is `"deprecated": true` in its schema. The derive adds
// no warning of its own (the crate denies them); the uses of deprecated items below are
// this file's, and allowed where they are.
#![deny(warnings)]

use pillar::__private::schemars::{self, schema_for};
// schemars' own derive (the schemars `pillar` uses is built without its `derive` feature).
use pillar::__private::schemars_derive;
use pillar::JsonSchema;
use serde::Deserialize;

/// A filter on orders.
#[derive(Deserialize, JsonSchema)]
struct Filter {
    prefix: String,
    /// Ignored since version 2.
    #[deprecated(note = "the server picks the page size")]
    #[serde(default)]
    limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
enum Speed {
    Fast,
    #[deprecated]
    Slow,
}

/// The old filter.
#[deprecated(note = "use Filter")]
#[derive(Deserialize, JsonSchema)]
struct OldFilter {
    prefix: String,
}

/// The same types with schemars' own derive: the schemas must be equal. (schemars' derive
/// warns about a deprecated type where pillar's does not, hence `deprecated` here.)
#[allow(dead_code, deprecated)]
mod by_schemars {
    use super::{schemars, schemars_derive};

    /// A filter on orders.
    #[derive(schemars_derive::JsonSchema)]
    #[schemars(crate = "schemars")]
    pub(crate) struct Filter {
        prefix: String,
        /// Ignored since version 2.
        #[deprecated(note = "the server picks the page size")]
        #[serde(default)]
        limit: Option<u32>,
    }

    #[derive(schemars_derive::JsonSchema)]
    #[schemars(crate = "schemars")]
    pub(crate) enum Speed {
        Fast,
        #[deprecated]
        Slow,
    }

    /// The old filter.
    #[deprecated(note = "use Filter")]
    #[derive(schemars_derive::JsonSchema)]
    #[schemars(crate = "schemars")]
    pub(crate) struct OldFilter {
        prefix: String,
    }
}

/// Search with a filter whose `limit` is deprecated.
#[pillar::tool]
async fn search(filter: Filter, speed: Option<Speed>) -> String {
    let _ = speed;
    filter.prefix
}

#[allow(deprecated)]
fn main() {
    let value = |schema: schemars::Schema| serde_json::to_value(schema).unwrap();
    let filter = value(schema_for!(Filter));
    assert_eq!(filter, value(schema_for!(by_schemars::Filter)));
    assert_eq!(filter["properties"]["limit"]["deprecated"], true, "{filter}");
    assert!(filter["properties"]["prefix"].get("deprecated").is_none());
    assert!(filter.get("deprecated").is_none());

    let speed = value(schema_for!(Speed));
    assert_eq!(speed, value(schema_for!(by_schemars::Speed)));
    assert!(speed.to_string().contains("\"deprecated\":true"), "{speed}");

    let old = value(schema_for!(OldFilter));
    assert_eq!(old, value(schema_for!(by_schemars::OldFilter)));
    assert_eq!(old["deprecated"], true, "{old}");

    // And in a tool's input schema, as the agent sees it.
    let pillar = pillar::testing::pillar().build().unwrap();
    let schema = &pillar.tool("search").unwrap().info().input_schema;
    assert_eq!(
        schema["properties"]["filter"]["properties"]["limit"]["deprecated"],
        true,
        "{schema}"
    );
}
