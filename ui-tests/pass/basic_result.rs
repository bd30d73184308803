// The contract example: typed parameters with doc comments, a `Result` return.
use pillar::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Status {
    Pending,
    Shipped,
    Delivered,
}

#[derive(Serialize)]
struct Order {
    id: u64,
    status: &'static str,
}

#[derive(Debug)]
struct OrderError;

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the order store is down")
    }
}

/// Search orders by status and date range.
#[pillar::tool]
async fn search_orders(
    /// Order status
    status: Status,
    /// ISO date string
    since: Option<String>,
    limit: Option<u32>,
) -> Result<Vec<Order>, OrderError> {
    let _ = (since, limit);
    match status {
        Status::Pending => Ok(vec![Order {
            id: 1,
            status: "pending",
        }]),
        Status::Shipped => Ok(Vec::new()),
        Status::Delivered => Err(OrderError),
    }
}

#[tokio::main]
async fn main() {
    let pillar = pillar::testing::pillar().build().unwrap();
    let info = &pillar.tools()[0];
    assert_eq!(info.name, "search_orders");
    assert_eq!(info.description, "Search orders by status and date range.");
    assert_eq!(info.timeout_ms, 30_000);
    assert_eq!(info.channel_compatibility, ["*"]);
    assert_eq!(info.input_schema["required"], serde_json::json!(["status"]));

    let ok = pillar::testing::call(
        &pillar,
        "search_orders",
        serde_json::json!({"status": "pending"}),
    );
    assert_eq!(
        ok.await.unwrap(),
        serde_json::json!([{"id": 1, "status": "pending"}])
    );
    let err = pillar::testing::call(
        &pillar,
        "search_orders",
        serde_json::json!({"status": "delivered"}),
    );
    assert_eq!(err.await.unwrap_err().message(), "the order store is down");
}
