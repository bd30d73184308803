//! Start-up and registry cost with 1,000 tools (issue item 6).
//!
//! `startup` (no arguments) measures, and prints a table:
//!
//! - in process: building a [`Pillar`] with the 1,000 `#[pillar::tool]` functions
//!   below (registry walk, schema generation, validation, sorting, index), the schema
//!   generation alone, the same with 1,000 tools made with [`Tool::builder`] and a
//!   `json!` schema, and serialising the registration payload;
//! - process level: time from spawning `startup --serve <mode>` to the first successful
//!   TCP connection to its port, for `macro` (`pillar::serve()` with the 1,000 macro
//!   tools), `builder` (1,000 builder tools) and `none` (no tools: the floor of a
//!   process start, runtime and bind).
//!
//! ```text
//! cargo build --release -p pillar-bench && target/release/startup [--runs 20]
//! ```

use std::convert::Infallible;
use std::error::Error;
use std::hint::black_box;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pillar::{Pillar, PillarBuilder, Tool, ToolContext};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

type BoxError = Box<dyn Error>;

/// How the 1,000 tools filter results.
#[derive(Deserialize, pillar::JsonSchema)]
#[allow(dead_code)] // Only parsed: the tools are never called.
#[serde(rename_all = "lowercase")]
enum Status {
    Active,
    Trial,
    Churned,
}

/// A search filter, inlined in every tool's schema.
#[derive(Deserialize, pillar::JsonSchema)]
#[allow(dead_code)] // Only parsed: the tools are never called.
struct Filter {
    /// Status to match
    status: Status,
    /// Only customers created since this ISO date
    since: Option<String>,
}

#[derive(Serialize)]
struct Found {
    tool: &'static str,
    count: u32,
}

/// One tool; `$a $b $c` are its three digits.
macro_rules! tool {
    ($a:tt $b:tt $c:tt) => {
        paste::paste! {
            /// Search customers by email, with an optional filter.
            #[pillar::tool(guidance = "Use when the user asks for customers.", channels = ["web", "slack"])]
            async fn [<search_ $a $b $c>](
                /// Email (or part of it)
                email: String,
                /// The filter
                filter: Option<Filter>,
                /// Most results
                limit: Option<u32>,
                ctx: &ToolContext,
            ) -> Result<Found, Infallible> {
                let _ = (email, filter, ctx);
                Ok(Found { tool: concat!("search_", $a, $b, $c), count: limit.unwrap_or(10) })
            }
        }
    };
}
macro_rules! tools_c {
    ($a:tt $b:tt; $($c:tt)*) => { $( tool!($a $b $c); )* };
}
macro_rules! tools_b {
    ($a:tt; $($b:tt)*) => { $( tools_c!($a $b; 0 1 2 3 4 5 6 7 8 9); )* };
}
macro_rules! tools_a {
    ($($a:tt)*) => { $( tools_b!($a; 0 1 2 3 4 5 6 7 8 9); )* };
}
tools_a!(0 1 2 3 4 5 6 7 8 9);

const TOOLS: usize = 1000;

/// The same 1,000 tools without the macro: a `json!` schema and a closure.
fn builder_tools() -> Result<Vec<Tool>, pillar::Error> {
    (0..TOOLS)
        .map(|i| {
            Tool::builder(format!("search_{i:03}"))
                .description("Search customers by email, with an optional filter.")
                .guidance("Use when the user asks for customers.")
                .channels(["web", "slack"])
                .input_schema(json!({
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
                }))
                .handler(|args: Value, _ctx| async move {
                    Ok::<_, Infallible>(json!({"count": args["limit"].as_u64().unwrap_or(10)}))
                })
                .build()
        })
        .collect()
}

fn base() -> PillarBuilder {
    Pillar::builder().secret("plr_bench").auto_register(false)
}

/// Median, min and max of `runs` timings of `f`, in ms.
fn time<T>(runs: usize, mut f: impl FnMut() -> Result<T, BoxError>) -> Result<[f64; 3], BoxError> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        black_box(f()?);
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok([times[times.len() / 2], times[0], times[times.len() - 1]])
}

fn row(what: &str, [median, min, max]: [f64; 3]) {
    println!("| {what} | {median:.2} | {min:.2} | {max:.2} |");
}

fn free_port() -> Result<u16, BoxError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Kills the child on every exit path.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `startup --serve <mode>` and times it to the first accepted connection.
fn to_listening(mode: &str) -> Result<f64, BoxError> {
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let exe = std::env::current_exe()?;
    let start = Instant::now();
    let mut child = Guard(
        Command::new(exe)
            .args(["--serve", mode])
            .env("PILLAR_SECRET", "plr_bench")
            .env("PILLAR_ADDR", addr.to_string())
            .env("PILLAR_AUTO_REGISTER", "false")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return Ok(start.elapsed().as_secs_f64() * 1e3);
        }
        if let Some(status) = child.0.try_wait()? {
            return Err(format!("the `{mode}` server exited: {status}").into());
        }
        if start.elapsed() > Duration::from_secs(10) {
            return Err(format!("the `{mode}` server did not listen within 10 s").into());
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

async fn serve(mode: &str) -> Result<(), BoxError> {
    match mode {
        "macro" => pillar::serve().await?,
        "builder" => {
            PillarBuilder::from_env()?
                .registered_tools(false)
                .tools(builder_tools()?)
                .build()?
                .serve()
                .await?;
        }
        "none" => {
            PillarBuilder::from_env()?
                .registered_tools(false)
                .build()?
                .serve()
                .await?;
        }
        other => return Err(format!("unknown mode `{other}`").into()),
    }
    Ok(())
}

fn measure(runs: usize) -> Result<(), BoxError> {
    let macro_count = base().build()?.tools().len();
    if macro_count != TOOLS {
        return Err(format!("expected {TOOLS} macro tools, found {macro_count}").into());
    }
    println!("In process, {TOOLS} tools, {runs} runs (ms):\n");
    println!("| step | median | min | max |");
    println!("|---|---:|---:|---:|");
    row(
        "schemas only: the macro's `input_schema()` x1000 (schemars)",
        time(runs, || {
            Ok(
                pillar::__private::inventory::iter::<pillar::__private::StaticTool>
                    .into_iter()
                    .map(|t| (t.input_schema)())
                    .collect::<Vec<_>>(),
            )
        })?,
    );
    row(
        "`Pillar::build()` with 1000 macro tools",
        time(runs, || Ok(base().build()?))?,
    );
    row(
        "1000 `Tool::builder(..).input_schema(json!(..))...build()`",
        time(runs, || Ok(builder_tools()?))?,
    );
    row(
        "`Pillar::build()` with 1000 builder tools (made beforehand)",
        time_split(runs)?,
    );
    let pillar = base().build()?;
    let payload_len = serde_json::to_vec(pillar.tools())?.len();
    row(
        &format!("serialise the 1000 tools' registration form ({payload_len} B)"),
        time(runs, || Ok(serde_json::to_vec(pillar.tools())?))?,
    );
    println!("\nProcess start to listening, {runs} runs (ms):\n");
    println!("| server | median | min | max |");
    println!("|---|---:|---:|---:|");
    for (mode, label) in [
        ("none", "no tools (process, runtime, bind)"),
        ("macro", "`pillar::serve()`, 1000 `#[pillar::tool]`"),
        (
            "builder",
            "`Pillar::builder()...serve()`, 1000 `Tool::builder`",
        ),
    ] {
        let mut times = (0..runs)
            .map(|_| to_listening(mode))
            .collect::<Result<Vec<_>, _>>()?;
        times.sort_by(f64::total_cmp);
        row(label, [times[runs / 2], times[0], times[runs - 1]]);
    }
    Ok(())
}

/// `Pillar::build()` alone, the builder tools made beforehand.
fn time_split(runs: usize) -> Result<[f64; 3], BoxError> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let tools = builder_tools()?;
        let start = Instant::now();
        black_box(base().registered_tools(false).tools(tools).build()?);
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok([times[runs / 2], times[0], times[runs - 1]])
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, mode] if flag == "--serve" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(serve(mode)),
        [flag, runs] if flag == "--runs" => measure(runs.parse()?),
        [] => measure(20),
        _ => Err("usage: startup [--runs N] | startup --serve macro|builder|none".into()),
    }
}
