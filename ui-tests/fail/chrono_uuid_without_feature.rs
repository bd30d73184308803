// chrono's and uuid's types implement `Deserialize` here (their `serde` feature is on),
// but `JsonSchema` only with schemars' `chrono04` and `uuid1` features, which this crate
// does not enable: the error names the feature.
use chrono::{DateTime, NaiveDate, Utc};

/// Book a meeting.
#[pillar::tool]
async fn book(at: DateTime<Utc>, day: Option<NaiveDate>, room: uuid::Uuid) -> String {
    let _ = (at, day);
    room.to_string()
}

fn main() {}
