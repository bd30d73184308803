//! Tools without the macro: a name, a description, a plain JSON Schema and an async
//! closure, built at run time (here, one tool per entry of a configuration list, sharing
//! state with the rest of the program).
//!
//! ```sh
//! PILLAR_SECRET=plr_local cargo run --example dynamic_tools
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pillar::{PillarBuilder, Tool, ToolContext};
use serde_json::{json, Value};

/// A feature flag store shared by the tools and the rest of the app.
#[derive(Default)]
struct Flags(Mutex<HashMap<String, bool>>);

fn flag_tool(flags: &Arc<Flags>, flag: &str) -> Result<Tool, pillar::Error> {
    let flags = Arc::clone(flags);
    let name = flag.to_owned();
    Tool::builder(format!("toggle_{flag}"))
        .description(format!("Turn the `{flag}` feature on or off"))
        .input_schema(json!({
            "type": "object",
            "properties": {"enabled": {"type": "boolean", "description": "The new state"}},
            "required": ["enabled"]
        }))
        .channels(["web"])
        .handler(move |args: Value, ctx: ToolContext| {
            let flags = Arc::clone(&flags);
            let name = name.clone();
            async move {
                let enabled = args["enabled"]
                    .as_bool()
                    .ok_or("arguments.enabled: expected a boolean")?;
                if let Ok(mut map) = flags.0.lock() {
                    map.insert(name.clone(), enabled);
                }
                Ok::<_, &str>(json!({"flag": name, "enabled": enabled, "by": ctx.caller().email}))
            }
        })
        .build()
}

#[tokio::main]
async fn main() -> Result<(), pillar::Error> {
    let flags = Arc::new(Flags::default());
    let mut builder = PillarBuilder::from_env()?;
    for flag in ["dark_mode", "beta_search", "new_billing"] {
        builder = builder.tool(flag_tool(&flags, flag)?);
    }
    builder.build()?.serve().await
}
