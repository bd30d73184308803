//! In-process cost of one webhook call: `Pillar::handle` on a signed `tool_call`, split
//! into its pieces with the public API (verify, parse, dispatch, serialise), for a small
//! (~200 B), a 64 KiB and a 1 MiB body; and a `ping`.
//!
//! ```text
//! cargo bench -p pillar-ai-server --bench handle            # everything, a few minutes
//! cargo bench -p pillar-ai-server --bench handle -- small/  # one group
//! ```
//!
//! `unavoidable` is the floor the issue sets: HMAC-SHA256 over `"<t>." + body` with the
//! keyed state precomputed, a typed serde parse of the envelope and the arguments, and
//! serialising the answer, written directly with `hmac`, `sha2` and `serde_json`.
//! See BENCHMARKS.md for the results and the profile.

// Bench-only code: a broken fixture should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::borrow::Cow;
use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use pillar::http::{HeaderMap, HeaderValue};
use pillar::signature::{Verifier, SIGNATURE_HEADER};
use pillar::{Pillar, ToolContext};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "plr_bench_secret";

#[derive(Serialize)]
struct Customer {
    email: String,
    plan: &'static str,
}

/// Look up a customer by email.
#[pillar::tool]
async fn lookup_customer(
    /// Email of the customer
    email: String,
) -> Result<Customer, Infallible> {
    Ok(Customer { email, plan: "pro" })
}

/// Look up a customer by email, its format checked: a constrained call (the schema's
/// `"format": "email"` is enforced by the validator before the tool runs).
#[pillar::tool]
async fn lookup_customer_checked(
    /// Email of the customer
    #[schemars(email)]
    email: String,
) -> Result<Customer, Infallible> {
    Ok(Customer { email, plan: "pro" })
}

#[derive(Serialize)]
struct Stored {
    bytes: usize,
}

/// Store a document (the large-body case).
#[pillar::tool]
async fn store_document(
    /// The document's text
    text: String,
) -> Result<Stored, Infallible> {
    Ok(Stored { bytes: text.len() })
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A ~200-byte `tool_call`, shaped like Pillar Cloud's.
fn small_body() -> Vec<u8> {
    json!({
        "action": "tool_call",
        "tool_name": "lookup_customer",
        "call_id": "tc_01HZX3K9Q4M2",
        "arguments": {"email": "sarah@acme.com"},
        "conversation_id": "conv_8f2c1a7d",
        "caller": {"channel": "web", "external_user_id": "u_42"},
    })
    .to_string()
    .into_bytes()
}

/// A `tool_call` of about `size` bytes: one long string argument.
fn large_body(size: usize) -> Vec<u8> {
    let mut body = json!({
        "action": "tool_call",
        "tool_name": "store_document",
        "call_id": "tc_01HZX3K9Q4M2",
        "arguments": {"text": ""},
        "conversation_id": "conv_8f2c1a7d",
        "caller": {"channel": "web", "external_user_id": "u_42"},
    })
    .to_string();
    let pad = size.saturating_sub(body.len());
    let text: String = "lorem ipsum dolor sit amet "
        .chars()
        .cycle()
        .take(pad)
        .collect();
    body = body.replace(r#""text":"""#, &format!(r#""text":"{text}""#));
    body.into_bytes()
}

fn headers_for(header: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(SIGNATURE_HEADER, HeaderValue::from_str(header).unwrap());
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The defaults of `serve()`: at-most-once execution per call id on (an in-memory record
/// of calls), unless `idempotency` is false.
fn pillar_with(idempotency: bool) -> Pillar {
    Pillar::builder()
        .secret(SECRET)
        .body_limit(4 * 1024 * 1024)
        .auto_register(false)
        .idempotency(idempotency)
        .build()
        .unwrap()
}

fn pillar() -> Pillar {
    pillar_with(true)
}

/// `handle` as in production: every call a first delivery (a fresh call id, so the record
/// of calls claims, runs and records). Before each call, untimed, the call id is written
/// into the body (`tc_<n>` in place of `tc_01HZX3K9Q4M2`, same length) and the body is
/// signed, so that, as in a server, the body and its headers were just written and are
/// in the CPU's cache. Each call is timed alone (two clock reads, ~25 ns, included). One
/// `Pillar` takes every call of the bench, as a long-running server does: its record of
/// calls fills up (100,000 records) and then evicts the oldest, its steady state.
fn bench_fresh_calls(
    b: &mut criterion::Bencher<'_>,
    rt: &tokio::runtime::Runtime,
    body: &[u8],
    ts: i64,
    idempotency: bool,
) {
    let text = std::str::from_utf8(body).unwrap();
    let at = text.find("tc_01HZX3K9Q4M2").unwrap() + "tc_".len();
    let mut body = body.to_vec();
    let mut headers = headers_for(&pillar::signature::sign(SECRET, &body, ts));
    let mut next = 0u64;
    let pillar = pillar_with(idempotency);
    b.iter_custom(|iters| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            next += 1;
            body[at..at + 11].copy_from_slice(format!("{next:011}").as_bytes());
            let signature = pillar::signature::sign(SECRET, &body, ts);
            headers.insert(SIGNATURE_HEADER, HeaderValue::from_str(&signature).unwrap());
            let start = Instant::now();
            let response = rt.block_on(pillar.handle(black_box(&body), black_box(&headers)));
            total += start.elapsed();
            debug_assert_eq!(response.status(), 200);
        }
        total
    });
}

/// The SDK's envelope, as a typed borrowed parse (the `parse` piece).
#[derive(Deserialize)]
#[allow(dead_code)]
struct Envelope<'a> {
    #[serde(borrow)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    tool_name: Cow<'a, str>,
    #[serde(borrow)]
    call_id: Cow<'a, str>,
    #[serde(borrow)]
    arguments: &'a RawValue,
    #[serde(borrow, default)]
    conversation_id: Option<Cow<'a, str>>,
    #[serde(default)]
    caller: Option<Value>,
}

/// The floor: what any server of this protocol must do, written directly.
struct Unavoidable {
    key: Hmac<Sha256>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TypedCall<T> {
    action: String,
    tool_name: String,
    call_id: String,
    arguments: T,
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    caller: Option<Caller>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Caller {
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    external_user_id: Option<String>,
}

#[derive(Deserialize)]
struct EmailArgs {
    email: String,
}

#[derive(Deserialize)]
struct TextArgs {
    text: String,
}

#[derive(Serialize)]
struct Reply<'a, R> {
    call_id: &'a str,
    success: bool,
    result: R,
}

impl Unavoidable {
    fn new() -> Self {
        Self {
            key: Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap(),
        }
    }

    fn verify(&self, header: &str, body: &[u8], now: i64) -> bool {
        let Some((t, v1)) = header
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",v1="))
        else {
            return false;
        };
        let mut expected = [0u8; 32];
        if v1.len() != 64 {
            return false;
        }
        for (i, byte) in expected.iter_mut().enumerate() {
            let Ok(b) = u8::from_str_radix(&v1[2 * i..2 * i + 2], 16) else {
                return false;
            };
            *byte = b;
        }
        let Ok(ts) = t.parse::<i64>() else {
            return false;
        };
        let mut mac = self.key.clone();
        mac.update(t.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected).is_ok() && (now - ts).abs() <= 300
    }

    fn small(&self, header: &str, body: &[u8], now: i64) -> Vec<u8> {
        assert!(self.verify(header, body, now));
        let call: TypedCall<EmailArgs> = serde_json::from_slice(body).unwrap();
        serde_json::to_vec(&Reply {
            call_id: &call.call_id,
            success: true,
            result: Customer {
                email: call.arguments.email,
                plan: "pro",
            },
        })
        .unwrap()
    }

    fn large(&self, header: &str, body: &[u8], now: i64) -> Vec<u8> {
        assert!(self.verify(header, body, now));
        let call: TypedCall<TextArgs> = serde_json::from_slice(body).unwrap();
        serde_json::to_vec(&Reply {
            call_id: &call.call_id,
            success: true,
            result: Stored {
                bytes: call.arguments.text.len(),
            },
        })
        .unwrap()
    }
}

/// The same group of pieces for one body.
fn pieces(c: &mut Criterion, group_name: &str, body: &[u8], tool: &str, large: bool) {
    let rt = runtime();
    let pillar = pillar();
    let pillar_off = pillar_with(false);
    let verifier = Verifier::new(SECRET).unwrap();
    let floor = Unavoidable::new();
    let ts = now();
    let header = pillar::signature::sign(SECRET, body, ts);
    let headers = headers_for(&header);

    // Sanity: a failing call must not look fast.
    let (status, answer) = rt.block_on(pillar.handle(body, &headers)).into_parts();
    assert_eq!(
        status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.to_bytes())
    );
    assert!(answer.is_success(), "{answer:?}");
    let arguments: Value = serde_json::from_slice::<Value>(body).unwrap()["arguments"].clone();

    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Bytes(body.len() as u64));
    if large {
        group.sample_size(20);
    }

    group.bench_function("handle", |b| bench_fresh_calls(b, &rt, body, ts, true));
    if tool == "lookup_customer" {
        // The same call to a tool whose schema has a constraint serde does not check.
        let constrained = String::from_utf8(body.to_vec())
            .unwrap()
            .replace("\"lookup_customer\"", "\"lookup_customer_checked\"")
            .into_bytes();
        let signed = headers_for(&pillar::signature::sign(SECRET, &constrained, ts));
        // (Without the record: its call id was taken by the sanity call above.)
        let (status, answer) = rt
            .block_on(pillar_off.handle(&constrained, &signed))
            .into_parts();
        assert!(status == 200 && answer.is_success(), "{answer:?}");
        group.bench_function("handle_constrained", |b| {
            bench_fresh_calls(b, &rt, &constrained, ts, true);
        });
    }
    // The same fresh (cache-cold) bodies, without the record of calls: the store's cost
    // is the difference with `handle`.
    group.bench_function("handle_fresh_idempotency_off", |b| {
        bench_fresh_calls(b, &rt, body, ts, false);
    });
    group.bench_function("handle_idempotency_off", |b| {
        b.iter(|| rt.block_on(pillar_off.handle(black_box(body), black_box(&headers))));
    });
    group.bench_function("handle_replay", |b| {
        b.iter(|| rt.block_on(pillar.handle(black_box(body), black_box(&headers))));
    });
    group.bench_function("handle_idempotency_off+to_bytes", |b| {
        b.iter(|| {
            let response = rt.block_on(pillar_off.handle(black_box(body), &headers));
            (response.status(), response.into_body())
        });
    });
    group.bench_function("verify", |b| {
        b.iter(|| verifier.verify_at(black_box(&header), black_box(body), ts));
    });
    group.bench_function("parse", |b| {
        b.iter(|| serde_json::from_slice::<Envelope<'_>>(black_box(body)).map(|e| e.call_id.len()));
    });
    group.bench_function("parse_value", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(body)));
    });
    group.bench_function("dispatch_call_tool", |b| {
        b.iter(|| {
            let ctx = ToolContext::builder()
                .call_id("tc_01HZX3K9Q4M2")
                .conversation_id("conv_8f2c1a7d")
                .build();
            rt.block_on(pillar_off.run_tool(tool, black_box(&arguments), ctx))
        });
    });
    group.bench_function("serialise", |b| {
        b.iter(|| black_box(&answer).to_bytes());
    });
    group.bench_function("unavoidable", |b| {
        if large {
            b.iter(|| floor.large(black_box(&header), black_box(body), ts));
        } else {
            b.iter(|| floor.small(black_box(&header), black_box(body), ts));
        }
    });
    group.finish();
}

fn small(c: &mut Criterion) {
    let body = small_body();
    pieces(c, "small", &body, "lookup_customer", false);
}

fn large(c: &mut Criterion) {
    for (name, size) in [("64KiB", 64 * 1024), ("1MiB", 1024 * 1024)] {
        let body = large_body(size);
        pieces(c, &format!("body_{name}"), &body, "store_document", true);
    }
}

fn ping(c: &mut Criterion) {
    let rt = runtime();
    let pillar = pillar();
    let body = br#"{"action":"ping"}"#;
    let headers = HeaderMap::new();
    let (status, answer) = rt.block_on(pillar.handle(body, &headers)).into_parts();
    assert!(status == 200 && answer.is_pong());
    let mut group = c.benchmark_group("ping");
    group.bench_function(BenchmarkId::new("handle", body.len()), |b| {
        b.iter(|| rt.block_on(pillar.handle(black_box(body), &headers)));
    });
    group.bench_function("handle+to_bytes", |b| {
        b.iter(|| {
            rt.block_on(pillar.handle(black_box(body), &headers))
                .into_body()
        });
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = small, ping, large
}
criterion_main!(benches);
