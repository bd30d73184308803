//! Reading a server's log file (what `loadtest-server` prints, `serve()`'s format): its
//! size, the lines written since an offset, the connection limits it logged, and its
//! rate-limited summaries of refusals.

use std::path::{Path, PathBuf};

/// A server's log file.
#[derive(Debug, Clone)]
pub(crate) struct ServerLog {
    path: PathBuf,
}

impl ServerLog {
    pub(crate) fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The file's size now, in bytes (0 when it cannot be read).
    pub(crate) fn len(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// The lines written from byte `from` on.
    pub(crate) fn since(&self, from: u64) -> Vec<String> {
        let bytes = std::fs::read(&self.path).unwrap_or_default();
        let start = usize::try_from(from).unwrap_or(usize::MAX).min(bytes.len());
        String::from_utf8_lossy(&bytes[start..])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The connection cap the server logged at start (`max_connections=N`) and the
    /// open-files limit it had then (`open_files=N`), from its `connection limits` line or
    /// its warning that the open-files limit lowers the cap.
    pub(crate) fn connection_limits(&self) -> Option<(usize, Option<u64>)> {
        self.since(0).iter().find_map(|line| {
            let cap = field(line, "max_connections=")?;
            let files = field(line, "open_files=");
            Some((usize::try_from(cap).ok()?, files))
        })
    }
}

/// The number after `name` in `line` (`max_connections=4096` → 4096).
pub(crate) fn field(line: &str, name: &str) -> Option<u64> {
    let at = line.find(name)? + name.len();
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// How the refusal log accounts for refusals of one reason, over some lines: the ones
/// logged in full (the first of a window) and the ones counted in the summaries.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Accounted {
    pub(crate) in_full: u64,
    pub(crate) summarised: u64,
    pub(crate) summary_lines: u64,
}

/// Adds up what `lines` say of refusals for `reason` (`invalid_signature`,
/// `connection_limit`, ...): a full line carries `reason=...` (quoted or not), a summary
/// line `N more requests refused over the last S s: reason=N ...`.
pub(crate) fn accounted(lines: &[String], reason: &str) -> Accounted {
    let mut acc = Accounted::default();
    let counted = format!("{reason}=");
    for line in lines {
        if line.contains("more requests refused over the last") {
            acc.summary_lines += 1;
            // The counts are in the message, before the fields.
            let message = line.split(" refused=").next().unwrap_or(line);
            acc.summarised += field(message, &counted).unwrap_or(0);
        } else if line.contains(&format!("reason=\"{reason}\""))
            || line.contains(&format!("reason={reason} "))
            || line.ends_with(&format!("reason={reason}"))
        {
            acc.in_full += 1;
        }
    }
    acc
}
