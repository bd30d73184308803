//! The console's calls, in memory: the last [`MAX_ENTRIES`], each with the exact body
//! sent (for "Send again") and the answer.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};

/// How many calls are kept; the oldest goes first.
pub(crate) const MAX_ENTRIES: usize = 200;

/// One webhook the console sent, and how the server answered.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Its number in this run, from 1.
    pub(crate) id: u64,
    /// When it was sent, in milliseconds since the Unix epoch.
    pub(crate) at_ms: u64,
    /// The server's webhook URL.
    pub(crate) endpoint_url: String,
    /// The tool's name.
    pub(crate) tool_name: String,
    /// The exact body sent, signed afresh when sent again.
    pub(crate) body: String,
    /// The `X-Pillar-Signature` header it was sent with (`t=...,v1=...`): not the secret,
    /// and a server accepts it for this body only, within 300 s of its time.
    pub(crate) signature: String,
    /// The HTTP status; `None` when the server could not be reached.
    pub(crate) status: Option<u16>,
    /// The server's answer (`null` without one).
    pub(crate) answer: Value,
    /// Why there is no answer: a transport error, in words.
    pub(crate) error: Option<String>,
    /// From sending to the whole answer, in milliseconds.
    pub(crate) latency_ms: f64,
    /// The entry this one sent again.
    pub(crate) resent_of: Option<u64>,
    /// For a `tool_confirm`: the call whose answer asked for the confirmation.
    pub(crate) of: Option<u64>,
}

impl Entry {
    /// The entry as the console's API shows it.
    pub(crate) fn to_json(&self) -> Value {
        let sent: Value = serde_json::from_str(&self.body).unwrap_or(Value::Null);
        json!({
            "id": self.id,
            "at_ms": self.at_ms,
            "action": sent["action"],
            "endpoint_url": self.endpoint_url,
            "tool_name": self.tool_name,
            "call_id": sent["call_id"],
            "sent": sent,
            "signature": self.signature,
            "status": self.status,
            "answer": self.answer,
            "error": self.error,
            "latency_ms": self.latency_ms,
            "resent_of": self.resent_of,
            "of": self.of,
        })
    }
}

/// The entries, oldest first, and the next id.
#[derive(Debug, Default)]
pub(crate) struct History {
    inner: Mutex<(VecDeque<Entry>, u64)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl History {
    /// Records `entry` under the next id, which it returns with the entry.
    pub(crate) fn push(&self, mut entry: Entry) -> Entry {
        let mut inner = lock(&self.inner);
        inner.1 += 1;
        entry.id = inner.1;
        if inner.0.len() >= MAX_ENTRIES {
            inner.0.pop_front();
        }
        inner.0.push_back(entry.clone());
        entry
    }

    /// The entry numbered `id`, while it is kept.
    pub(crate) fn get(&self, id: u64) -> Option<Entry> {
        lock(&self.inner).0.iter().find(|e| e.id == id).cloned()
    }

    /// Every entry, newest first, as the API shows them.
    pub(crate) fn to_json(&self) -> Vec<Value> {
        lock(&self.inner)
            .0
            .iter()
            .rev()
            .map(Entry::to_json)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::{Entry, History, MAX_ENTRIES};

    fn entry(tool: &str) -> Entry {
        Entry {
            id: 0,
            at_ms: 0,
            endpoint_url: "http://127.0.0.1:1/".to_owned(),
            tool_name: tool.to_owned(),
            body: format!(r#"{{"action":"tool_call","call_id":"tc_{tool}"}}"#),
            signature: String::new(),
            status: Some(200),
            answer: Value::Null,
            error: None,
            latency_ms: 1.0,
            resent_of: None,
            of: None,
        }
    }

    #[test]
    fn entries_are_numbered_newest_first_and_bounded() {
        let history = History::default();
        for n in 0..MAX_ENTRIES + 5 {
            history.push(entry(&n.to_string()));
        }
        let all = history.to_json();
        assert_eq!(all.len(), MAX_ENTRIES);
        assert_eq!(all[0]["id"], MAX_ENTRIES as u64 + 5);
        assert_eq!(all[0]["call_id"], format!("tc_{}", MAX_ENTRIES + 4));
        assert!(history.get(1).is_none(), "the oldest went first");
        assert_eq!(history.get(6).map(|e| e.tool_name), Some("5".to_owned()));
    }
}
