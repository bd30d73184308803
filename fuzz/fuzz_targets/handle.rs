//! Fuzzes `Pillar::handle` with arbitrary bodies and signature headers.
//!
//! Input layout: the first byte picks how the request is signed (`selector % 6`), the
//! rest is the body, or a header line then the body:
//!
//! | selector | header | body |
//! |---|---|---|
//! | 0 | none | `rest` |
//! | 1 | `rest` up to the first `\n`, as sent | after the `\n` |
//! | 2 | a valid signature of the body, made now | `rest` |
//! | 3 | a valid signature made `3 * (rest[0] as i8)` s away from now | `rest[1..]` |
//! | 4 | `rest` up to the first `\n`, then `,` and a valid signature | after the `\n` |
//! | 5 | a valid signature, sent twice | `rest` |
//!
//! Modes 2 to 4 get the fuzzer past the signature into JSON parsing and dispatch. Each
//! answer is checked: status 200, 400, 401 or 404; a body that serialises to a JSON
//! object of the documented shape; no tool runs, and nothing but `Invalid JSON` or
//! `Invalid signature` is answered, unless the signature verifies; a verified request is
//! never 401; the secret never appears in an error unless the request carried it; the
//! echo tool gets exactly the arguments sent. Correctly signed requests (mode 2) are
//! also delivered twice to a fresh `Pillar` with idempotency on: the repeat gets the same
//! answer and does not run the tool again (keyed on the call id, or on the body's SHA-256
//! digest without one).
#![no_main]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use pillar::http::{HeaderMap, HeaderValue, StatusCode};
use pillar::signature::{sign, SIGNATURE_HEADER};
use pillar::testing::TEST_SECRET;
use pillar::{Answer, Pillar, Tool};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Value};

/// The fixed clock of every `Pillar` here.
const NOW: i64 = 1_700_000_000;

/// The payload of the `panics` tool's deliberate panic; the panic hook lets it unwind
/// (to pillar's guard) instead of aborting the fuzzer.
const PANIC_MARKER: &str = "pillar-fuzz: deliberate panic in the `panics` tool";

/// Tool bodies entered, across the whole run.
static RUNS: AtomicUsize = AtomicUsize::new(0);

const TOOL_NAMES: [&str; 7] = [
    "echo",
    "fail",
    "leak",
    "panics",
    "slow",
    "slack_only",
    "whoami",
];

fn ran() {
    RUNS.fetch_add(1, Ordering::SeqCst);
}

fn built(builder: pillar::ToolBuilder) -> Tool {
    match builder.build() {
        Ok(tool) => tool,
        Err(e) => panic!("fuzz tool definition: {e}"),
    }
}

fn tools() -> Vec<Tool> {
    vec![
        built(
            Tool::builder("echo")
                .description("Returns its arguments")
                .handler(|args: Value, _ctx| async move {
                    ran();
                    Ok::<_, String>(args)
                }),
        ),
        built(
            Tool::builder("fail")
                .description("Fails, quoting its arguments")
                .handler(|args: Value, _ctx| async move {
                    ran();
                    Err::<Value, _>(format!("refused: {args}"))
                }),
        ),
        built(
            Tool::builder("leak")
                .description("Fails with the secret in its error text")
                .handler(|_args: Value, _ctx| async move {
                    ran();
                    Err::<Value, _>(format!("connect postgres://app:{TEST_SECRET}@db: refused"))
                }),
        ),
        built(Tool::builder("panics").description("Panics").handler(
            |_args: Value, _ctx| async move {
                ran();
                std::panic::panic_any(PANIC_MARKER);
                #[allow(unreachable_code)]
                Ok::<Value, String>(Value::Null)
            },
        )),
        built(
            Tool::builder("slow")
                .description("Runs past its timeout")
                .timeout_ms(50)
                .handler(|_args: Value, _ctx| async move {
                    ran();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    Ok::<_, String>(json!("too late"))
                }),
        ),
        built(
            Tool::builder("slack_only")
                .description("Only on Slack")
                .channels(["slack"])
                .handler(|_args: Value, _ctx| async move {
                    ran();
                    Ok::<_, String>(json!({"ok": true}))
                }),
        ),
        built(
            Tool::builder("whoami")
                .description("Returns its context")
                .handler(|_args: Value, ctx: pillar::ToolContext| async move {
                    ran();
                    Ok::<_, String>(json!({
                        "call_id": ctx.call_id(),
                        "tool_name": ctx.tool_name(),
                        "conversation_id": ctx.conversation_id(),
                        "product_id": ctx.product_id(),
                        "confirmed": ctx.confirmed(),
                        "identified": ctx.is_identified(),
                        "caller": ctx.caller(),
                    }))
                }),
        ),
    ]
}

fn build(idempotency: bool) -> Pillar {
    let result = pillar::testing::pillar()
        .registered_tools(false)
        .tools(tools())
        .clock(|| NOW)
        .idempotency(idempotency)
        .build();
    match result {
        Ok(pillar) => pillar,
        Err(e) => panic!("building the fuzzed Pillar: {e}"),
    }
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    /// Built once; idempotency off so that answers do not depend on earlier inputs.
    pillar: Pillar,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build();
        let runtime = match runtime {
            Ok(rt) => rt,
            Err(e) => panic!("tokio runtime: {e}"),
        };
        Harness {
            runtime,
            pillar: build(false),
        }
    })
}

fn header(value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(value).ok()
}

/// Splits `rest` at its first `\n`: (header line, body).
fn split_line(rest: &[u8]) -> (&[u8], &[u8]) {
    match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[]),
    }
}

struct Request<'a> {
    mode: u8,
    body: &'a [u8],
    headers: HeaderMap,
    /// For mode 3: the signature's distance from now.
    skew: i64,
}

fn decode(data: &[u8]) -> Option<Request<'_>> {
    let (&selector, rest) = data.split_first()?;
    let mode = selector % 6;
    let mut headers = HeaderMap::new();
    let mut skew = 0;
    let body = match mode {
        0 => rest,
        1 => {
            let (line, body) = split_line(rest);
            if let Ok(value) = HeaderValue::from_bytes(line) {
                headers.insert(SIGNATURE_HEADER, value);
            }
            body
        }
        2 | 5 => {
            let value = header(&sign(TEST_SECRET, rest, NOW))?;
            if mode == 5 {
                headers.append(SIGNATURE_HEADER, value.clone());
            }
            headers.append(SIGNATURE_HEADER, value);
            rest
        }
        3 => {
            let (&s, body) = rest.split_first()?;
            skew = 3 * i64::from(s as i8);
            headers.insert(
                SIGNATURE_HEADER,
                header(&sign(TEST_SECRET, body, NOW + skew))?,
            );
            body
        }
        _ => {
            let (line, body) = split_line(rest);
            let mut value = String::from_utf8_lossy(line).into_owned();
            value.push(',');
            value.push_str(&sign(TEST_SECRET, body, NOW));
            if let Some(value) = header(&value) {
                headers.insert(SIGNATURE_HEADER, value);
            }
            body
        }
    };
    Some(Request {
        mode,
        body,
        headers,
        skew,
    })
}

/// Whether any JSON string of `body` (keys included, and every copy of a duplicate key,
/// which a `Value` would drop) contains `needle`; `true` when the body cannot be walked
/// (it is not valid JSON, say), so that the caller does not conclude anything.
fn mentions(body: &[u8], needle: &str) -> bool {
    let mut de = serde_json::Deserializer::from_slice(body);
    Mentions(needle).deserialize(&mut de).unwrap_or(true)
}

#[derive(Clone, Copy)]
struct Mentions<'n>(&'n str);

impl<'de> DeserializeSeed<'de> for Mentions<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Mentions<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(v.contains(self.0))
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(hit) = seq.next_element_seed(self)? {
            found |= hit;
        }
        Ok(found)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(hit) = map.next_key_seed(self)? {
            found |= hit | map.next_value_seed(self)?;
        }
        Ok(found)
    }
}

/// The input the tool must have been given: `confirm_payload` for a `tool_confirm` that
/// has one, else `arguments`, else `{}` (`null` reads as absent).
fn expected_input(body: &Value) -> Value {
    let field = |name: &str| body.get(name).filter(|v| !v.is_null()).cloned();
    let confirm = body.get("action") == Some(&json!("tool_confirm"));
    let confirm_payload = if confirm {
        field("confirm_payload")
    } else {
        None
    };
    confirm_payload
        .or_else(|| field("arguments"))
        .unwrap_or_else(|| json!({}))
}

fn check(request: &Request<'_>, status: StatusCode, answer: &Answer, runs: usize, verified: bool) {
    let body = request.body;
    let context = || {
        format!(
            "mode {} body {:?} headers {:?}: {status} {}",
            request.mode,
            String::from_utf8_lossy(body),
            request.headers,
            String::from_utf8_lossy(&answer.to_bytes())
        )
    };
    assert!(
        matches!(status.as_u16(), 200 | 400 | 401 | 404),
        "unexpected status: {}",
        context()
    );
    let bytes = answer.to_bytes();
    let Ok(wire) = serde_json::from_slice::<Value>(&bytes) else {
        panic!("the answer is not JSON: {}", context());
    };
    assert!(
        wire.is_object(),
        "the answer is not an object: {}",
        context()
    );
    assert_eq!(
        wire,
        answer.to_value(),
        "to_bytes and to_value differ: {}",
        context()
    );
    assert!(
        runs <= 1,
        "a tool ran {runs} times for one request: {}",
        context()
    );

    let json_ok = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
    // `None` also when the body is JSON that a `Value` cannot hold (a number such as 1e400).
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let error = answer.error();

    if !json_ok {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}", context());
        assert_eq!(error, Some("Invalid JSON"), "{}", context());
    }
    if answer.is_pong() {
        assert_eq!(status, StatusCode::OK, "{}", context());
        assert_eq!(bytes, br#"{"status":"ok"}"#, "{}", context());
        if let Some(parsed) = &parsed {
            assert_eq!(parsed.get("action"), Some(&json!("ping")), "{}", context());
        }
    } else if let Some(parsed) = &parsed {
        if status != StatusCode::BAD_REQUEST {
            assert_ne!(
                parsed.get("action"),
                Some(&json!("ping")),
                "ping not answered: {}",
                context()
            );
        }
    }

    if !verified && !answer.is_pong() {
        // Verify before parsing: nothing but these two answers without a valid signature.
        let allowed = (status == StatusCode::BAD_REQUEST && error == Some("Invalid JSON"))
            || (status == StatusCode::UNAUTHORIZED && error == Some("Invalid signature"));
        assert!(allowed, "answered past an invalid signature: {}", context());
        assert_eq!(
            runs,
            0,
            "a tool ran without a valid signature: {}",
            context()
        );
    }
    if verified {
        assert_ne!(
            status,
            StatusCode::UNAUTHORIZED,
            "valid signature refused: {}",
            context()
        );
    }
    match status.as_u16() {
        401 => {
            assert_eq!(error, Some("Invalid signature"), "{}", context());
            assert_eq!(answer.call_id(), None, "{}", context());
        }
        400 => {
            assert_eq!(answer.call_id(), None, "{}", context());
            let Some(error) = error else {
                panic!("400 without an error: {}", context());
            };
            assert!(
                error == "Invalid JSON"
                    || error.starts_with("Unknown action: ")
                    || error.starts_with("Invalid payload: "),
                "{}",
                context()
            );
        }
        404 => {
            assert!(answer.call_id().is_some(), "{}", context());
            let name = error
                .and_then(|e| e.strip_prefix("Tool '"))
                .and_then(|e| e.strip_suffix("' not found"));
            let Some(name) = name else {
                panic!("404 without the not-found error: {}", context());
            };
            assert!(
                !TOOL_NAMES.contains(&name),
                "a known tool not found: {}",
                context()
            );
            assert_eq!(runs, 0, "{}", context());
        }
        _ if !answer.is_pong() => {
            assert!(
                answer.call_id().is_some(),
                "200 without a call_id: {}",
                context()
            );
            if answer.is_success() {
                assert_eq!(runs, 1, "success without a run: {}", context());
            }
        }
        _ => {}
    }

    if let Some(error) = error {
        assert!(
            !error.contains(TEST_SECRET) || mentions(body, TEST_SECRET),
            "the secret leaked into an answer: {}",
            context()
        );
    }
    if let (true, Some(parsed)) = (answer.is_success(), &parsed) {
        match parsed.get("tool_name").and_then(Value::as_str) {
            Some("echo") => {
                let Some(result) = answer.result() else {
                    panic!("success without a result: {}", context());
                };
                // Compared as text: serde_json's default float parsing is not correctly
                // rounded, so re-parsing the answer could move a float by one ULP
                // (`9.999e+32` reads back as `9.998999999999999e+32`).
                let expected = match serde_json::to_string(&expected_input(parsed)) {
                    Ok(text) => text,
                    Err(e) => panic!("serialising the expected input: {e}"),
                };
                assert_eq!(
                    result.get(),
                    expected,
                    "echo changed its input: {}",
                    context()
                );
            }
            Some("whoami") => {
                let Some(result) = answer.result() else {
                    panic!("success without a result: {}", context());
                };
                let result: Value = serde_json::from_str(result.get()).unwrap_or_default();
                assert_eq!(
                    result.get("call_id").and_then(Value::as_str),
                    answer.call_id(),
                    "{}",
                    context()
                );
            }
            _ => {}
        }
    }
}

/// `PILLAR_FUZZ_TRACE=1`: print each request's outcome (to see what seeds reach).
fn trace() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("PILLAR_FUZZ_TRACE").is_some())
}

fn run(data: &[u8]) {
    let Some(request) = decode(data) else {
        return;
    };
    let h = harness();
    let verified = h
        .pillar
        .verifier()
        .verify_headers(&request.headers, request.body, NOW)
        .is_ok();
    match request.mode {
        0 | 5 => assert!(!verified, "mode {} verified", request.mode),
        2 => assert!(verified, "a fresh signature did not verify"),
        3 => assert_eq!(verified, request.skew.abs() <= 300, "skew {}", request.skew),
        _ => {}
    }

    let before = RUNS.load(Ordering::SeqCst);
    let (status, answer) = h
        .runtime
        .block_on(h.pillar.handle(request.body, &request.headers))
        .into_parts();
    let runs = RUNS.load(Ordering::SeqCst) - before;
    if trace() {
        eprintln!(
            "mode {} verified {verified} runs {runs}: {status} {}",
            request.mode,
            String::from_utf8_lossy(&answer.to_bytes())
        );
    }
    check(&request, status, &answer, runs, verified);

    if request.mode == 2 {
        // At most once: a fresh Pillar with idempotency on, the same delivery twice.
        let fresh = build(true);
        let before = RUNS.load(Ordering::SeqCst);
        let first = h
            .runtime
            .block_on(fresh.handle(request.body, &request.headers))
            .into_parts();
        let first_runs = RUNS.load(Ordering::SeqCst) - before;
        assert_eq!(first.0, status, "idempotency changed the status");
        assert_eq!(
            first.1.to_bytes(),
            answer.to_bytes(),
            "idempotency changed the answer"
        );
        assert_eq!(first_runs, runs);

        let before = RUNS.load(Ordering::SeqCst);
        let second = h
            .runtime
            .block_on(fresh.handle(request.body, &request.headers))
            .into_parts();
        let second_runs = RUNS.load(Ordering::SeqCst) - before;
        assert_eq!(second.0, status, "a repeat delivery got another status");
        assert_eq!(
            second.1.to_bytes(),
            answer.to_bytes(),
            "a repeat delivery got another answer"
        );
        // With or without a call id: without one, the exact body is the key.
        assert_eq!(second_runs, 0, "a repeat delivery ran the tool again");
    }
}

fuzz_target!(
    init: {
        // libfuzzer-sys aborts on any panic; let the deliberate one unwind to pillar's
        // guard, and keep aborting on every other.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() == Some(&PANIC_MARKER) {
                return;
            }
            previous(info);
        }));
        let _ = harness();
    },
    |data: &[u8]| run(data)
);
