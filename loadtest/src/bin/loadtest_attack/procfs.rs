//! What the server process holds, read from `/proc` (the server runs on this machine:
//! `stats` gives its pid): its resident memory, sampled while an attack runs, and which
//! of a client's connections it still has a socket for.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

/// `VmRSS` of process `pid`, in KiB (`None` when `/proc` cannot be read).
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// The TCP connections to local port `port` that process `pid` still has a socket for,
/// by peer port, with the bytes queued in each socket's send queue (written by the
/// server, not yet taken by the client). A connection the server has dropped (its socket
/// closed, even if the kernel still holds it to send what is queued) is not among them.
/// `None` when `/proc` cannot be read.
pub(crate) fn server_sockets(pid: u32, port: u16) -> Option<HashMap<u16, u64>> {
    let mut inodes = HashSet::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).ok()? {
        let Ok(entry) = entry else { continue };
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        let target = target.to_string_lossy();
        if let Some(inode) = target
            .strip_prefix("socket:[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse::<u64>().ok())
        {
            inodes.insert(inode);
        }
    }
    let mut sockets = HashMap::new();
    let mut readable = false;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        readable = true;
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(remote), Some(queues), Some(inode)) =
                (fields.get(1), fields.get(2), fields.get(4), fields.get(9))
            else {
                continue;
            };
            let port_of = |addr: &str| {
                addr.rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
            };
            if port_of(local) == Some(port)
                && inode.parse::<u64>().is_ok_and(|i| inodes.contains(&i))
            {
                let tx = queues
                    .split(':')
                    .next()
                    .and_then(|q| u64::from_str_radix(q, 16).ok())
                    .unwrap_or(0);
                if let Some(peer) = port_of(remote) {
                    sockets.insert(peer, tx);
                }
            }
        }
    }
    readable.then_some(sockets)
}

/// The server's RSS sampled every `every` until stopped.
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Vec<(Duration, u64)>>,
}

impl Sampler {
    pub(crate) fn start(pid: u32, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let task = {
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let started = Instant::now();
                let mut samples = Vec::new();
                // At most 10 minutes of samples, whatever happens.
                for _ in 0..(600_000 / every.as_millis().max(1)) {
                    if let Some(kib) = rss_kib(pid) {
                        samples.push((started.elapsed(), kib));
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    tokio::time::sleep(every).await;
                }
                samples
            })
        };
        Self { stop, task }
    }

    /// The samples: `(time since start, RSS in KiB)`.
    pub(crate) async fn finish(self) -> Vec<(Duration, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

/// The highest sample and when it was taken.
pub(crate) fn peak(samples: &[(Duration, u64)]) -> (Duration, u64) {
    samples
        .iter()
        .copied()
        .max_by_key(|(_, kib)| *kib)
        .unwrap_or((Duration::ZERO, 0))
}

/// KiB in MiB.
pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
