//! What the binaries of the load test share: the tools' names, the webhook path, a small
//! command-line reader and latency quantiles. See `loadtest/README.md`.

use std::error::Error;
use std::str::FromStr;

/// The tool the load is sent to: it does a little work and counts its runs per call_id.
pub const WORK_TOOL: &str = "work";

/// The tool that reports the counts: `{"runs", "distinct", "max_per_call", ...}`.
pub const STATS_TOOL: &str = "stats";

/// The tool answering a large string (`{"bytes": N}`, 1 MiB by default): answers that
/// fill a client's receive buffer (the connection-hold attack).
pub const BIG_TOOL: &str = "big";

/// The webhook path the client posts to (the server's default `Settings::path`).
pub const WEBHOOK_PATH: &str = "/pillar";

/// The error type of both binaries' `main`.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// Command-line options as `--name value` pairs and `--flag`s, read in order.
#[derive(Debug)]
pub struct Args {
    args: Vec<String>,
}

impl Args {
    /// The process's arguments, without the program name.
    pub fn from_env() -> Self {
        Self {
            args: std::env::args().skip(1).collect(),
        }
    }

    /// Whether `--help` or `-h` was given.
    pub fn wants_help(&self) -> bool {
        self.args.iter().any(|a| a == "--help" || a == "-h")
    }

    /// Removes `--name` and reports whether it was there.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.args.len();
        self.args.retain(|a| a != name);
        self.args.len() != before
    }

    /// Removes `--name value` (or `--name=value`) and parses the value.
    ///
    /// # Errors
    /// When the value is missing or does not parse.
    pub fn value<T>(&mut self, name: &str) -> Result<Option<T>, BoxError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let prefix = format!("{name}=");
        let Some(at) = self
            .args
            .iter()
            .position(|a| a == name || a.starts_with(&prefix))
        else {
            return Ok(None);
        };
        let arg = self.args.remove(at);
        let raw = match arg.strip_prefix(&prefix) {
            Some(value) => value.to_owned(),
            None if at < self.args.len() => self.args.remove(at),
            None => return Err(format!("{name} needs a value").into()),
        };
        // Thousands separators are accepted: `--calls 100_000`, `--calls 100,000`.
        let cleaned = raw.replace(['_', ','], "");
        let text = if cleaned.chars().all(|c| c.is_ascii_digit()) && !cleaned.is_empty() {
            cleaned
        } else {
            raw.clone()
        };
        text.parse::<T>()
            .map(Some)
            .map_err(|e| format!("{name} {raw}: {e}").into())
    }

    /// Fails when an argument was not recognised.
    ///
    /// # Errors
    /// Naming the first unknown argument.
    pub fn finish(self) -> Result<(), BoxError> {
        match self.args.first() {
            Some(unknown) => Err(format!("unknown argument `{unknown}` (see --help)").into()),
            None => Ok(()),
        }
    }
}

/// The webhook secret: `PILLAR_SECRET`, or the testing secret.
pub fn secret_from_env() -> String {
    std::env::var("PILLAR_SECRET")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| pillar::testing::TEST_SECRET.to_owned())
}

/// The `q`-quantile of sorted latencies in microseconds, in milliseconds (0 when empty).
pub fn quantile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64) * q).ceil() as usize;
    let at = rank.clamp(1, sorted.len()) - 1;
    f64::from(sorted[at]) / 1000.0
}
