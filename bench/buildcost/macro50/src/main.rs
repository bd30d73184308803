//! 50 tools written with `#[pillar::tool]`. The same tools, parameters and results
//! in `macro50` and `builder50`. `bench/build_cost.sh` edits the marked line of `search_00`.

use std::convert::Infallible;

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

/// Search customers by email, with an optional filter (variant 00).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_00(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10); // EDIT-MARK
    Ok(Found {
        tool: "search_00",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 01).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_01(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_01",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 02).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_02(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_02",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 03).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_03(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_03",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 04).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_04(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_04",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 05).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_05(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_05",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 06).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_06(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_06",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 07).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_07(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_07",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 08).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_08(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_08",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 09).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_09(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_09",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 10).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_10(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_10",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 11).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_11(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_11",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 12).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_12(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_12",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 13).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_13(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_13",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 14).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_14(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_14",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 15).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_15(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_15",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 16).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_16(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_16",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 17).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_17(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_17",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 18).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_18(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_18",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 19).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_19(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_19",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 20).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_20(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_20",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 21).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_21(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_21",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 22).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_22(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_22",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 23).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_23(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_23",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 24).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_24(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_24",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 25).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_25(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_25",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 26).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_26(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_26",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 27).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_27(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_27",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 28).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_28(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_28",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 29).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_29(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_29",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 30).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_30(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_30",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 31).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_31(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_31",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 32).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_32(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_32",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 33).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_33(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_33",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 34).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_34(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_34",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 35).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_35(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_35",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 36).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_36(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_36",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 37).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_37(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_37",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 38).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_38(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_38",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 39).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_39(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_39",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 40).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_40(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_40",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 41).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_41(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_41",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 42).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_42(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_42",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 43).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_43(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_43",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 44).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_44(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_44",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 45).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_45(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_45",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 46).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_46(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_46",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 47).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_47(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_47",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 48).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_48(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_48",
        email,
        active_only,
        count,
    })
}

/// Search customers by email, with an optional filter (variant 49).
#[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
async fn search_49(
    /// Email (or part of it)
    email: String,
    /// The filter
    filter: Option<Filter>,
    /// Most results
    limit: Option<u32>,
) -> Result<Found, Infallible> {
    let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
    let count = limit.unwrap_or(10);
    Ok(Found {
        tool: "search_49",
        email,
        active_only,
        count,
    })
}

#[tokio::main]
async fn main() -> Result<(), pillar::Error> {
    let pillar = pillar::Pillar::builder().secret("plr_build").build()?;
    println!("{} tools", pillar.tools().len());
    Ok(())
}
