// Plain returns: a `Serialize` struct, and `()` (no return type at all).
use serde::Serialize;

#[derive(Serialize)]
struct Weather {
    city: String,
    celsius: f64,
}

/// The weather in a city.
#[pillar::tool]
async fn weather(city: String) -> Weather {
    Weather {
        city,
        celsius: 21.5,
    }
}

/// Does nothing, and says so.
#[pillar::tool]
async fn noop() {}

/// Returns unit explicitly.
#[pillar::tool]
async fn unit() -> () {}

#[tokio::main]
async fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    assert_eq!(pillar.tools().len(), 3);
    let value = pillar::testing::call(&pillar, "weather", serde_json::json!({"city": "Oslo"}));
    assert_eq!(
        value.await.unwrap(),
        serde_json::json!({"city": "Oslo", "celsius": 21.5})
    );
    let value = pillar::testing::call(&pillar, "noop", serde_json::json!({}));
    assert_eq!(value.await.unwrap(), serde_json::Value::Null);
}
