// A type of the user's own named `State`, without type arguments, stays a JSON argument.
#[derive(serde::Deserialize, pillar::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum State {
    Open,
    Closed,
}

/// Count the tickets in a state.
#[pillar::tool]
async fn count_tickets(state: State) -> u32 {
    match state {
        State::Open => 3,
        State::Closed => 7,
    }
}

fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let schema = &pillar.tools()[0].input_schema;
    assert_eq!(schema["required"], serde_json::json!(["state"]));
    assert_eq!(schema["properties"]["state"]["enum"], serde_json::json!(["open", "closed"]));
}
