// `State<T>` parameters: anywhere in the list, several, beside `&ToolContext` and
// `#[pillar(input)]`, by path or imported, with any binding; never in the schema. `T`
// needs `Send + Sync + 'static`, not `Clone`.
use pillar::{State, ToolContext};

struct Db {
    name: String,
}

struct Mailer;

#[derive(serde::Deserialize, pillar::JsonSchema)]
struct Query {
    text: String,
}

/// State first, then JSON, then context.
#[pillar::tool]
async fn first(db: State<Db>, email: String, ctx: &ToolContext) -> String {
    format!("{}{email}{}", db.name, ctx.call_id())
}

/// Two states around a JSON parameter, one by its full path.
#[pillar::tool]
async fn two(db: State<Db>, limit: u32, _mailer: pillar::State<Mailer>) -> u32 {
    limit + db.name.len() as u32
}

/// The whole input beside a state and the context.
#[pillar::tool]
async fn whole(#[pillar(input)] query: Query, ctx: &ToolContext, db: State<Db>) -> String {
    let _ = ctx;
    format!("{}{}", query.text, db.name)
}

/// Only a state, bound to `_`, with a doc comment for the code's readers.
#[pillar::tool]
async fn only(
    /// The database.
    _: State<Db>,
) -> Result<String, String> {
    Ok(String::new())
}

fn main() {
    let pillar = pillar::testing::pillar()
        .state(Db { name: "crm".into() })
        .state(Mailer)
        .build()
        .unwrap();
    for tool in pillar.tools() {
        let properties = &tool.input_schema["properties"];
        assert!(properties.get("db").is_none(), "{}", tool.name);
        assert!(properties.get("_mailer").is_none(), "{}", tool.name);
    }
}
