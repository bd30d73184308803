//! The same 50 tools written by hand against `Tool::builder`, each with its own arguments
//! struct deriving `Deserialize` and `JsonSchema` and a `typed_handler` (the schema derived,
//! as the macro does). The same tools, parameters and results in `macro50`, `builder50`
//! and `derive50`. `bench/build_cost.sh` edits the marked line of `search_00`.

use pillar::Tool;
use serde::{Deserialize, Serialize};

/// Customer status.
#[derive(Deserialize, pillar::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Paying
    Active,
    /// On a trial
    Trial,
    /// Gone
    Churned,
}

/// A search filter.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Filter {
    /// Status to match
    pub status: Status,
    /// Only customers created since this ISO date
    pub since: Option<String>,
}

/// A result.
#[derive(Serialize)]
pub struct Found {
    tool: &'static str,
    email: String,
    active_only: bool,
    count: u32,
}

/// The parameters of `search_00`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args00 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_00() -> Result<Tool, pillar::Error> {
    Tool::builder("search_00")
        .description("Search customers by email, with an optional filter (variant 00).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args00, _ctx| async move {
            let Args00 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10); // EDIT-MARK
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_00",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_01`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args01 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_01() -> Result<Tool, pillar::Error> {
    Tool::builder("search_01")
        .description("Search customers by email, with an optional filter (variant 01).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args01, _ctx| async move {
            let Args01 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_01",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_02`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args02 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_02() -> Result<Tool, pillar::Error> {
    Tool::builder("search_02")
        .description("Search customers by email, with an optional filter (variant 02).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args02, _ctx| async move {
            let Args02 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_02",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_03`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args03 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_03() -> Result<Tool, pillar::Error> {
    Tool::builder("search_03")
        .description("Search customers by email, with an optional filter (variant 03).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args03, _ctx| async move {
            let Args03 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_03",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_04`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args04 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_04() -> Result<Tool, pillar::Error> {
    Tool::builder("search_04")
        .description("Search customers by email, with an optional filter (variant 04).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args04, _ctx| async move {
            let Args04 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_04",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_05`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args05 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_05() -> Result<Tool, pillar::Error> {
    Tool::builder("search_05")
        .description("Search customers by email, with an optional filter (variant 05).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args05, _ctx| async move {
            let Args05 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_05",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_06`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args06 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_06() -> Result<Tool, pillar::Error> {
    Tool::builder("search_06")
        .description("Search customers by email, with an optional filter (variant 06).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args06, _ctx| async move {
            let Args06 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_06",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_07`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args07 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_07() -> Result<Tool, pillar::Error> {
    Tool::builder("search_07")
        .description("Search customers by email, with an optional filter (variant 07).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args07, _ctx| async move {
            let Args07 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_07",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_08`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args08 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_08() -> Result<Tool, pillar::Error> {
    Tool::builder("search_08")
        .description("Search customers by email, with an optional filter (variant 08).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args08, _ctx| async move {
            let Args08 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_08",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_09`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args09 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_09() -> Result<Tool, pillar::Error> {
    Tool::builder("search_09")
        .description("Search customers by email, with an optional filter (variant 09).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args09, _ctx| async move {
            let Args09 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_09",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_10`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args10 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_10() -> Result<Tool, pillar::Error> {
    Tool::builder("search_10")
        .description("Search customers by email, with an optional filter (variant 10).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args10, _ctx| async move {
            let Args10 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_10",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_11`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args11 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_11() -> Result<Tool, pillar::Error> {
    Tool::builder("search_11")
        .description("Search customers by email, with an optional filter (variant 11).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args11, _ctx| async move {
            let Args11 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_11",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_12`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args12 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_12() -> Result<Tool, pillar::Error> {
    Tool::builder("search_12")
        .description("Search customers by email, with an optional filter (variant 12).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args12, _ctx| async move {
            let Args12 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_12",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_13`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args13 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_13() -> Result<Tool, pillar::Error> {
    Tool::builder("search_13")
        .description("Search customers by email, with an optional filter (variant 13).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args13, _ctx| async move {
            let Args13 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_13",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_14`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args14 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_14() -> Result<Tool, pillar::Error> {
    Tool::builder("search_14")
        .description("Search customers by email, with an optional filter (variant 14).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args14, _ctx| async move {
            let Args14 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_14",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_15`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args15 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_15() -> Result<Tool, pillar::Error> {
    Tool::builder("search_15")
        .description("Search customers by email, with an optional filter (variant 15).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args15, _ctx| async move {
            let Args15 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_15",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_16`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args16 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_16() -> Result<Tool, pillar::Error> {
    Tool::builder("search_16")
        .description("Search customers by email, with an optional filter (variant 16).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args16, _ctx| async move {
            let Args16 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_16",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_17`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args17 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_17() -> Result<Tool, pillar::Error> {
    Tool::builder("search_17")
        .description("Search customers by email, with an optional filter (variant 17).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args17, _ctx| async move {
            let Args17 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_17",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_18`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args18 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_18() -> Result<Tool, pillar::Error> {
    Tool::builder("search_18")
        .description("Search customers by email, with an optional filter (variant 18).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args18, _ctx| async move {
            let Args18 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_18",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_19`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args19 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_19() -> Result<Tool, pillar::Error> {
    Tool::builder("search_19")
        .description("Search customers by email, with an optional filter (variant 19).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args19, _ctx| async move {
            let Args19 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_19",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_20`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args20 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_20() -> Result<Tool, pillar::Error> {
    Tool::builder("search_20")
        .description("Search customers by email, with an optional filter (variant 20).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args20, _ctx| async move {
            let Args20 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_20",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_21`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args21 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_21() -> Result<Tool, pillar::Error> {
    Tool::builder("search_21")
        .description("Search customers by email, with an optional filter (variant 21).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args21, _ctx| async move {
            let Args21 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_21",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_22`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args22 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_22() -> Result<Tool, pillar::Error> {
    Tool::builder("search_22")
        .description("Search customers by email, with an optional filter (variant 22).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args22, _ctx| async move {
            let Args22 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_22",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_23`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args23 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_23() -> Result<Tool, pillar::Error> {
    Tool::builder("search_23")
        .description("Search customers by email, with an optional filter (variant 23).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args23, _ctx| async move {
            let Args23 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_23",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_24`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args24 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_24() -> Result<Tool, pillar::Error> {
    Tool::builder("search_24")
        .description("Search customers by email, with an optional filter (variant 24).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args24, _ctx| async move {
            let Args24 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_24",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_25`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args25 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_25() -> Result<Tool, pillar::Error> {
    Tool::builder("search_25")
        .description("Search customers by email, with an optional filter (variant 25).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args25, _ctx| async move {
            let Args25 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_25",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_26`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args26 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_26() -> Result<Tool, pillar::Error> {
    Tool::builder("search_26")
        .description("Search customers by email, with an optional filter (variant 26).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args26, _ctx| async move {
            let Args26 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_26",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_27`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args27 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_27() -> Result<Tool, pillar::Error> {
    Tool::builder("search_27")
        .description("Search customers by email, with an optional filter (variant 27).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args27, _ctx| async move {
            let Args27 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_27",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_28`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args28 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_28() -> Result<Tool, pillar::Error> {
    Tool::builder("search_28")
        .description("Search customers by email, with an optional filter (variant 28).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args28, _ctx| async move {
            let Args28 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_28",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_29`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args29 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_29() -> Result<Tool, pillar::Error> {
    Tool::builder("search_29")
        .description("Search customers by email, with an optional filter (variant 29).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args29, _ctx| async move {
            let Args29 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_29",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_30`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args30 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_30() -> Result<Tool, pillar::Error> {
    Tool::builder("search_30")
        .description("Search customers by email, with an optional filter (variant 30).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args30, _ctx| async move {
            let Args30 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_30",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_31`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args31 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_31() -> Result<Tool, pillar::Error> {
    Tool::builder("search_31")
        .description("Search customers by email, with an optional filter (variant 31).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args31, _ctx| async move {
            let Args31 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_31",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_32`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args32 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_32() -> Result<Tool, pillar::Error> {
    Tool::builder("search_32")
        .description("Search customers by email, with an optional filter (variant 32).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args32, _ctx| async move {
            let Args32 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_32",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_33`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args33 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_33() -> Result<Tool, pillar::Error> {
    Tool::builder("search_33")
        .description("Search customers by email, with an optional filter (variant 33).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args33, _ctx| async move {
            let Args33 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_33",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_34`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args34 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_34() -> Result<Tool, pillar::Error> {
    Tool::builder("search_34")
        .description("Search customers by email, with an optional filter (variant 34).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args34, _ctx| async move {
            let Args34 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_34",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_35`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args35 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_35() -> Result<Tool, pillar::Error> {
    Tool::builder("search_35")
        .description("Search customers by email, with an optional filter (variant 35).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args35, _ctx| async move {
            let Args35 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_35",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_36`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args36 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_36() -> Result<Tool, pillar::Error> {
    Tool::builder("search_36")
        .description("Search customers by email, with an optional filter (variant 36).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args36, _ctx| async move {
            let Args36 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_36",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_37`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args37 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_37() -> Result<Tool, pillar::Error> {
    Tool::builder("search_37")
        .description("Search customers by email, with an optional filter (variant 37).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args37, _ctx| async move {
            let Args37 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_37",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_38`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args38 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_38() -> Result<Tool, pillar::Error> {
    Tool::builder("search_38")
        .description("Search customers by email, with an optional filter (variant 38).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args38, _ctx| async move {
            let Args38 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_38",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_39`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args39 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_39() -> Result<Tool, pillar::Error> {
    Tool::builder("search_39")
        .description("Search customers by email, with an optional filter (variant 39).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args39, _ctx| async move {
            let Args39 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_39",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_40`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args40 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_40() -> Result<Tool, pillar::Error> {
    Tool::builder("search_40")
        .description("Search customers by email, with an optional filter (variant 40).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args40, _ctx| async move {
            let Args40 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_40",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_41`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args41 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_41() -> Result<Tool, pillar::Error> {
    Tool::builder("search_41")
        .description("Search customers by email, with an optional filter (variant 41).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args41, _ctx| async move {
            let Args41 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_41",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_42`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args42 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_42() -> Result<Tool, pillar::Error> {
    Tool::builder("search_42")
        .description("Search customers by email, with an optional filter (variant 42).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args42, _ctx| async move {
            let Args42 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_42",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_43`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args43 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_43() -> Result<Tool, pillar::Error> {
    Tool::builder("search_43")
        .description("Search customers by email, with an optional filter (variant 43).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args43, _ctx| async move {
            let Args43 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_43",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_44`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args44 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_44() -> Result<Tool, pillar::Error> {
    Tool::builder("search_44")
        .description("Search customers by email, with an optional filter (variant 44).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args44, _ctx| async move {
            let Args44 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_44",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_45`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args45 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_45() -> Result<Tool, pillar::Error> {
    Tool::builder("search_45")
        .description("Search customers by email, with an optional filter (variant 45).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args45, _ctx| async move {
            let Args45 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_45",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_46`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args46 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_46() -> Result<Tool, pillar::Error> {
    Tool::builder("search_46")
        .description("Search customers by email, with an optional filter (variant 46).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args46, _ctx| async move {
            let Args46 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_46",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_47`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args47 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_47() -> Result<Tool, pillar::Error> {
    Tool::builder("search_47")
        .description("Search customers by email, with an optional filter (variant 47).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args47, _ctx| async move {
            let Args47 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_47",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_48`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args48 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_48() -> Result<Tool, pillar::Error> {
    Tool::builder("search_48")
        .description("Search customers by email, with an optional filter (variant 48).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args48, _ctx| async move {
            let Args48 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_48",
                email,
                active_only,
                count,
            })
        })
        .build()
}

/// The parameters of `search_49`.
#[derive(Deserialize, pillar::JsonSchema)]
pub struct Args49 {
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
}

fn search_49() -> Result<Tool, pillar::Error> {
    Tool::builder("search_49")
        .description("Search customers by email, with an optional filter (variant 49).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .typed_handler(|args: Args49, _ctx| async move {
            let Args49 {
                email,
                filter,
                limit,
            } = args;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, std::convert::Infallible>(Found {
                tool: "search_49",
                email,
                active_only,
                count,
            })
        })
        .build()
}

#[tokio::main]
async fn main() -> Result<(), pillar::Error> {
    let tools = [
        search_00()?,
        search_01()?,
        search_02()?,
        search_03()?,
        search_04()?,
        search_05()?,
        search_06()?,
        search_07()?,
        search_08()?,
        search_09()?,
        search_10()?,
        search_11()?,
        search_12()?,
        search_13()?,
        search_14()?,
        search_15()?,
        search_16()?,
        search_17()?,
        search_18()?,
        search_19()?,
        search_20()?,
        search_21()?,
        search_22()?,
        search_23()?,
        search_24()?,
        search_25()?,
        search_26()?,
        search_27()?,
        search_28()?,
        search_29()?,
        search_30()?,
        search_31()?,
        search_32()?,
        search_33()?,
        search_34()?,
        search_35()?,
        search_36()?,
        search_37()?,
        search_38()?,
        search_39()?,
        search_40()?,
        search_41()?,
        search_42()?,
        search_43()?,
        search_44()?,
        search_45()?,
        search_46()?,
        search_47()?,
        search_48()?,
        search_49()?,
    ];
    let pillar = pillar::Pillar::builder()
        .secret("plr_build")
        .registered_tools(false)
        .tools(tools)
        .build()?;
    println!("{} tools", pillar.tools().len());
    Ok(())
}
