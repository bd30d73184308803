//! The same 50 tools written by hand against `Tool::builder`. The same tools, parameters and results
//! in `macro50` and `builder50`. `bench/build_cost.sh` edits the marked line of `search_00`.

use pillar::Tool;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Customer status.
#[derive(Deserialize)]
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
#[derive(Deserialize)]
pub struct Filter {
    /// Status to match
    pub status: Status,
    /// Only customers created since this ISO date
    pub since: Option<String>,
}

/// The parameters every tool takes.
#[derive(Deserialize)]
pub struct Args {
    email: String,
    filter: Option<Filter>,
    limit: Option<u32>,
}

/// A result.
#[derive(Serialize)]
pub struct Found {
    tool: &'static str,
    email: String,
    active_only: bool,
    count: u32,
}

/// The input schema every tool shares (what the macro derives).
fn schema(_tool: &str) -> Value {
    json!({
        "type": "object",
        "properties": {
            "email": {"type": "string", "description": "Email (or part of it)"},
            "filter": {
                "type": "object",
                "description": "The filter",
                "properties": {
                    "status": {"type": "string", "enum": ["active", "trial", "churned"], "description": "Status to match"},
                    "since": {"type": "string", "description": "Only customers created since this ISO date"}
                },
                "required": ["status"]
            },
            "limit": {"type": "integer", "format": "uint32", "minimum": 0, "description": "Most results"}
        },
        "required": ["email"]
    })
}

fn search_00() -> Result<Tool, pillar::Error> {
    Tool::builder("search_00")
        .description("Search customers by email, with an optional filter (variant 00).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_00"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10); // EDIT-MARK
            Ok::<_, String>(Found {
                tool: "search_00",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_01() -> Result<Tool, pillar::Error> {
    Tool::builder("search_01")
        .description("Search customers by email, with an optional filter (variant 01).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_01"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_01",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_02() -> Result<Tool, pillar::Error> {
    Tool::builder("search_02")
        .description("Search customers by email, with an optional filter (variant 02).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_02"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_02",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_03() -> Result<Tool, pillar::Error> {
    Tool::builder("search_03")
        .description("Search customers by email, with an optional filter (variant 03).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_03"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_03",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_04() -> Result<Tool, pillar::Error> {
    Tool::builder("search_04")
        .description("Search customers by email, with an optional filter (variant 04).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_04"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_04",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_05() -> Result<Tool, pillar::Error> {
    Tool::builder("search_05")
        .description("Search customers by email, with an optional filter (variant 05).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_05"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_05",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_06() -> Result<Tool, pillar::Error> {
    Tool::builder("search_06")
        .description("Search customers by email, with an optional filter (variant 06).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_06"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_06",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_07() -> Result<Tool, pillar::Error> {
    Tool::builder("search_07")
        .description("Search customers by email, with an optional filter (variant 07).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_07"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_07",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_08() -> Result<Tool, pillar::Error> {
    Tool::builder("search_08")
        .description("Search customers by email, with an optional filter (variant 08).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_08"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_08",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_09() -> Result<Tool, pillar::Error> {
    Tool::builder("search_09")
        .description("Search customers by email, with an optional filter (variant 09).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_09"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_09",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_10() -> Result<Tool, pillar::Error> {
    Tool::builder("search_10")
        .description("Search customers by email, with an optional filter (variant 10).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_10"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_10",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_11() -> Result<Tool, pillar::Error> {
    Tool::builder("search_11")
        .description("Search customers by email, with an optional filter (variant 11).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_11"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_11",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_12() -> Result<Tool, pillar::Error> {
    Tool::builder("search_12")
        .description("Search customers by email, with an optional filter (variant 12).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_12"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_12",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_13() -> Result<Tool, pillar::Error> {
    Tool::builder("search_13")
        .description("Search customers by email, with an optional filter (variant 13).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_13"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_13",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_14() -> Result<Tool, pillar::Error> {
    Tool::builder("search_14")
        .description("Search customers by email, with an optional filter (variant 14).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_14"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_14",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_15() -> Result<Tool, pillar::Error> {
    Tool::builder("search_15")
        .description("Search customers by email, with an optional filter (variant 15).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_15"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_15",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_16() -> Result<Tool, pillar::Error> {
    Tool::builder("search_16")
        .description("Search customers by email, with an optional filter (variant 16).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_16"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_16",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_17() -> Result<Tool, pillar::Error> {
    Tool::builder("search_17")
        .description("Search customers by email, with an optional filter (variant 17).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_17"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_17",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_18() -> Result<Tool, pillar::Error> {
    Tool::builder("search_18")
        .description("Search customers by email, with an optional filter (variant 18).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_18"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_18",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_19() -> Result<Tool, pillar::Error> {
    Tool::builder("search_19")
        .description("Search customers by email, with an optional filter (variant 19).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_19"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_19",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_20() -> Result<Tool, pillar::Error> {
    Tool::builder("search_20")
        .description("Search customers by email, with an optional filter (variant 20).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_20"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_20",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_21() -> Result<Tool, pillar::Error> {
    Tool::builder("search_21")
        .description("Search customers by email, with an optional filter (variant 21).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_21"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_21",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_22() -> Result<Tool, pillar::Error> {
    Tool::builder("search_22")
        .description("Search customers by email, with an optional filter (variant 22).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_22"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_22",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_23() -> Result<Tool, pillar::Error> {
    Tool::builder("search_23")
        .description("Search customers by email, with an optional filter (variant 23).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_23"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_23",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_24() -> Result<Tool, pillar::Error> {
    Tool::builder("search_24")
        .description("Search customers by email, with an optional filter (variant 24).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_24"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_24",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_25() -> Result<Tool, pillar::Error> {
    Tool::builder("search_25")
        .description("Search customers by email, with an optional filter (variant 25).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_25"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_25",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_26() -> Result<Tool, pillar::Error> {
    Tool::builder("search_26")
        .description("Search customers by email, with an optional filter (variant 26).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_26"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_26",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_27() -> Result<Tool, pillar::Error> {
    Tool::builder("search_27")
        .description("Search customers by email, with an optional filter (variant 27).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_27"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_27",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_28() -> Result<Tool, pillar::Error> {
    Tool::builder("search_28")
        .description("Search customers by email, with an optional filter (variant 28).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_28"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_28",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_29() -> Result<Tool, pillar::Error> {
    Tool::builder("search_29")
        .description("Search customers by email, with an optional filter (variant 29).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_29"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_29",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_30() -> Result<Tool, pillar::Error> {
    Tool::builder("search_30")
        .description("Search customers by email, with an optional filter (variant 30).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_30"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_30",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_31() -> Result<Tool, pillar::Error> {
    Tool::builder("search_31")
        .description("Search customers by email, with an optional filter (variant 31).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_31"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_31",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_32() -> Result<Tool, pillar::Error> {
    Tool::builder("search_32")
        .description("Search customers by email, with an optional filter (variant 32).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_32"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_32",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_33() -> Result<Tool, pillar::Error> {
    Tool::builder("search_33")
        .description("Search customers by email, with an optional filter (variant 33).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_33"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_33",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_34() -> Result<Tool, pillar::Error> {
    Tool::builder("search_34")
        .description("Search customers by email, with an optional filter (variant 34).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_34"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_34",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_35() -> Result<Tool, pillar::Error> {
    Tool::builder("search_35")
        .description("Search customers by email, with an optional filter (variant 35).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_35"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_35",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_36() -> Result<Tool, pillar::Error> {
    Tool::builder("search_36")
        .description("Search customers by email, with an optional filter (variant 36).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_36"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_36",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_37() -> Result<Tool, pillar::Error> {
    Tool::builder("search_37")
        .description("Search customers by email, with an optional filter (variant 37).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_37"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_37",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_38() -> Result<Tool, pillar::Error> {
    Tool::builder("search_38")
        .description("Search customers by email, with an optional filter (variant 38).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_38"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_38",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_39() -> Result<Tool, pillar::Error> {
    Tool::builder("search_39")
        .description("Search customers by email, with an optional filter (variant 39).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_39"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_39",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_40() -> Result<Tool, pillar::Error> {
    Tool::builder("search_40")
        .description("Search customers by email, with an optional filter (variant 40).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_40"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_40",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_41() -> Result<Tool, pillar::Error> {
    Tool::builder("search_41")
        .description("Search customers by email, with an optional filter (variant 41).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_41"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_41",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_42() -> Result<Tool, pillar::Error> {
    Tool::builder("search_42")
        .description("Search customers by email, with an optional filter (variant 42).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_42"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_42",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_43() -> Result<Tool, pillar::Error> {
    Tool::builder("search_43")
        .description("Search customers by email, with an optional filter (variant 43).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_43"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_43",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_44() -> Result<Tool, pillar::Error> {
    Tool::builder("search_44")
        .description("Search customers by email, with an optional filter (variant 44).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_44"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_44",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_45() -> Result<Tool, pillar::Error> {
    Tool::builder("search_45")
        .description("Search customers by email, with an optional filter (variant 45).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_45"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_45",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_46() -> Result<Tool, pillar::Error> {
    Tool::builder("search_46")
        .description("Search customers by email, with an optional filter (variant 46).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_46"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_46",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_47() -> Result<Tool, pillar::Error> {
    Tool::builder("search_47")
        .description("Search customers by email, with an optional filter (variant 47).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_47"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_47",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_48() -> Result<Tool, pillar::Error> {
    Tool::builder("search_48")
        .description("Search customers by email, with an optional filter (variant 48).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_48"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
                tool: "search_48",
                email,
                active_only,
                count,
            })
        })
        .build()
}

fn search_49() -> Result<Tool, pillar::Error> {
    Tool::builder("search_49")
        .description("Search customers by email, with an optional filter (variant 49).")
        .guidance("Use when the user asks for customers.")
        .channels(["web", "slack"])
        .input_schema(schema("search_49"))
        .handler(|args: Value, _ctx| async move {
            let Args {
                email,
                filter,
                limit,
            } = serde_json::from_value(args).map_err(|e| e.to_string())?;
            let active_only = matches!(filter.map(|f| f.status), Some(Status::Active));
            let count = limit.unwrap_or(10);
            Ok::<_, String>(Found {
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
