// Types named like those that need a crate feature (`Arc`, `Uuid`, `DateTime`) are only
// checked with a different note, never refused by name: these are the crate's own, and
// they work.
use pillar::JsonSchema;
use serde::Deserialize;

/// A shared pointer of this crate.
#[derive(Deserialize, JsonSchema)]
struct Arc<T>(T);

/// An id of this crate.
#[derive(Deserialize, JsonSchema)]
struct Uuid(String);

mod chrono {
    /// A date of this crate.
    #[derive(serde::Deserialize, pillar::JsonSchema)]
    pub(crate) struct DateTime {
        pub(crate) iso: String,
    }
}

/// Takes them all.
#[pillar::tool]
async fn lookalikes(id: Uuid, at: Option<chrono::DateTime>, shared: Vec<Arc<u8>>) -> String {
    let _ = (at, shared);
    id.0
}

fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let schema = &pillar.tool("lookalikes").unwrap().info().input_schema;
    assert_eq!(schema["properties"]["id"]["type"], "string", "{schema}");
    assert_eq!(
        schema["properties"]["shared"]["items"]["type"],
        "integer",
        "{schema}"
    );
}
