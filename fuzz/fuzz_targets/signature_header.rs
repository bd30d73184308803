//! Fuzzes the `X-Pillar-Signature` parser and verifier.
//!
//! The input is the header value (bytes; invalid UTF-8 is replaced for the `&str` API and
//! kept as is for the `HeaderMap` API). Besides "never panics", every result is checked
//! against a small reference model of the rules in RECEIVER.md items 3 to 15 and an HMAC
//! computed independently of pillar (`Hmac::new_from_slice`, not pillar's pre-keyed
//! state), so the fuzzer also finds wrong answers, not only crashes. The seeds include
//! the PROTOCOL.md test vectors, whose bodies and times are the ones checked below, so
//! mutations of a valid header reach the MAC and time checks.
#![no_main]

use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use pillar::http::{HeaderMap, HeaderValue};
use pillar::signature::{SignatureError, SignatureHeader, Verifier, SIGNATURE_HEADER};
use sha2::Sha256;

/// The three PROTOCOL.md vectors: secret, body, and the time they were signed at.
const VECTORS: [(&str, &[u8], i64); 3] = [
    (
        "plr_test_secret",
        br#"{"action":"tool_call","tool_name":"lookup_customer","call_id":"tc_1","arguments":{"email":"sarah@acme.com"}}"#,
        1_710_000_000,
    ),
    ("whsec_rotate_me", b"", 1_700_000_000),
    ("plr_\u{e9}\u{e8}_unicode", br#"{"action":"ping"}"#, 1_767_225_600),
];

/// Clocks that stress the window arithmetic (RECEIVER.md item 15).
const EXTREME_CLOCKS: [i64; 3] = [i64::MIN, 0, i64::MAX];

const TOLERANCE: u64 = 300;

/// What the reference model expects: the error's kind, or the parsed header.
#[derive(Debug, PartialEq, Eq)]
enum Expected {
    TooLong,
    Missing,
    Malformed,
    NoTimestamp,
    NoSignature,
    Parsed {
        timestamp_raw: String,
        timestamp: i64,
        signatures: Vec<[u8; 32]>,
    },
}

/// RECEIVER.md items 3 to 8, written as plainly as possible.
fn model(header: &str) -> Expected {
    let is_blank = |c: char| c == ' ' || c == '\t';
    if header.len() > 4096 {
        return Expected::TooLong;
    }
    if header.chars().all(is_blank) {
        return Expected::Missing;
    }
    let mut timestamp: Option<(String, i64)> = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let item = item.trim_matches(is_blank);
        let Some(eq) = item.find('=') else {
            return Expected::Malformed;
        };
        let (key, value) = (&item[..eq], &item[eq + 1..]);
        if key == "t" {
            if timestamp.is_some() {
                return Expected::Malformed;
            }
            let digits_only = value.bytes().all(|b| b.is_ascii_digit());
            if value.is_empty() || value.len() > 18 || !digits_only {
                return Expected::Malformed;
            }
            let Ok(seconds) = value.parse::<i64>() else {
                panic!("18 digits must fit in an i64: {value:?}");
            };
            timestamp = Some((value.to_owned(), seconds));
        } else if key == "v1" && value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut decoded = [0_u8; 32];
            for (i, byte) in decoded.iter_mut().enumerate() {
                let Ok(b) = u8::from_str_radix(&value[2 * i..2 * i + 2], 16) else {
                    panic!("hex digits must decode: {value:?}");
                };
                *byte = b;
            }
            signatures.push(decoded);
        }
    }
    let Some((timestamp_raw, timestamp)) = timestamp else {
        return Expected::NoTimestamp;
    };
    if signatures.is_empty() {
        return Expected::NoSignature;
    }
    Expected::Parsed {
        timestamp_raw,
        timestamp,
        signatures,
    }
}

fn kind(error: &SignatureError) -> Expected {
    match error {
        SignatureError::TooLong { .. } => Expected::TooLong,
        SignatureError::Missing => Expected::Missing,
        SignatureError::Malformed { .. } => Expected::Malformed,
        SignatureError::NoTimestamp => Expected::NoTimestamp,
        SignatureError::NoSignature => Expected::NoSignature,
        other => panic!("the parser returned a verification error: {other:?}"),
    }
}

fn reference_mac(secret: &str, timestamp_raw: &str, body: &[u8]) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        panic!("HMAC takes keys of any length");
    };
    mac.update(timestamp_raw.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// What `verify_at(header, body, now)` must answer, given whether one of the header's
/// `v1` is the reference MAC under one of the verifier's secrets (`now = None`:
/// `verify_ignoring_time`).
fn expected_verdict(
    expected: &Expected,
    mac_matches: bool,
    now: Option<i64>,
) -> Result<(), SignatureError> {
    let Expected::Parsed { timestamp, .. } = expected else {
        return Err(SignatureError::Missing); // Only the error's kind is compared.
    };
    if !mac_matches {
        return Err(SignatureError::Mismatch);
    }
    match now {
        Some(now) if timestamp.abs_diff(now) > TOLERANCE => Err(SignatureError::Expired {
            timestamp: *timestamp,
            now,
        }),
        _ => Ok(()),
    }
}

/// `matches[s][b]`: whether a `v1` of the header is the reference MAC of body `b` under
/// secret `s` (both indexes into `VECTORS`).
fn reference_matches(expected: &Expected) -> [[bool; 3]; 3] {
    let mut matches = [[false; 3]; 3];
    if let Expected::Parsed {
        timestamp_raw,
        signatures,
        ..
    } = expected
    {
        for (s, (secret, _, _)) in VECTORS.iter().enumerate() {
            for (b, (_, body, _)) in VECTORS.iter().enumerate() {
                let mac = reference_mac(secret, timestamp_raw, body);
                matches[s][b] = signatures.contains(&mac);
            }
        }
    }
    matches
}

fn same_verdict(
    got: &Result<(), SignatureError>,
    want: &Result<(), SignatureError>,
    expected: &Expected,
) -> bool {
    match (got, want) {
        // Parse errors: compare kinds (the Malformed reason is free text).
        (Err(g), Err(_)) if !matches!(expected, Expected::Parsed { .. }) => kind(g) == *expected,
        _ => got == want,
    }
}

fn check_str(header: &str, verifiers: &Verifiers) {
    let expected = model(header);
    let parsed = SignatureHeader::parse(header);
    match (&parsed, &expected) {
        (
            Ok(p),
            Expected::Parsed {
                timestamp_raw,
                timestamp,
                signatures,
            },
        ) => {
            assert_eq!(p.timestamp_raw, timestamp_raw, "header {header:?}");
            assert_eq!(p.timestamp, *timestamp, "header {header:?}");
            assert_eq!(&p.signatures, signatures, "header {header:?}");
        }
        (Err(e), want) => assert_eq!(kind(e), *want, "header {header:?}: {e}"),
        (Ok(p), want) => panic!("header {header:?} parsed as {p:?}, expected {want:?}"),
    }
    // Error messages are built from untrusted text: they must be bounded.
    if let Err(e) = &parsed {
        assert!(
            e.to_string().len() < 400,
            "long message for {header:?}: {e}"
        );
    }

    let matches = reference_matches(&expected);
    for (i, ((secret, body, signed_at), verifier)) in
        VECTORS.iter().zip(&verifiers.single).enumerate()
    {
        // The window's inclusive edge, one second past its other edge, and (for one
        // vector) clocks at the ends of the i64 range.
        let extremes = if i == 0 { &EXTREME_CLOCKS[..] } else { &[] };
        for now in [signed_at + 300, signed_at - 301]
            .into_iter()
            .chain(extremes.iter().copied())
        {
            let got = verifier.verify_at(header, body, now);
            let want = expected_verdict(&expected, matches[i][i], Some(now));
            assert!(
                same_verdict(&got, &want, &expected),
                "header {header:?}, secret {secret:?}, now {now}: got {got:?}, want {want:?}"
            );
            if let Err(e) = &got {
                let text = e.to_string();
                assert!(!text.contains(secret), "the secret leaked: {text}");
            }
        }
        let got = verifier.verify_ignoring_time(header, body);
        let want = expected_verdict(&expected, matches[i][i], None);
        assert!(
            same_verdict(&got, &want, &expected),
            "header {header:?} ignoring time: got {got:?}, want {want:?}"
        );
    }

    // Rotation: a verifier holding all three secrets accepts a header signed by any.
    for (b, (_, body, signed_at)) in VECTORS.iter().enumerate() {
        let any_secret = matches.iter().any(|row| row[b]);
        let got = verifiers.rotating.verify_at(header, body, *signed_at);
        let want = expected_verdict(&expected, any_secret, Some(*signed_at));
        assert!(
            same_verdict(&got, &want, &expected),
            "header {header:?}, rotating verifier: got {got:?}, want {want:?}"
        );
    }
}

/// The header as raw bytes, through `verify_headers` (one copy, then two copies).
fn check_header_map(data: &[u8], verifiers: &Verifiers) {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let (_, body, signed_at) = VECTORS[0];
    let verifier = &verifiers.single[0];
    let mut headers = HeaderMap::new();
    headers.insert(SIGNATURE_HEADER, value.clone());
    let got = verifier.verify_headers(&headers, body, signed_at);
    match value.to_str() {
        Ok(text) => assert_eq!(got, verifier.verify_at(text, body, signed_at)),
        Err(_) => assert!(
            matches!(got, Err(SignatureError::Malformed { .. })),
            "non-visible-ASCII header {data:?}: {got:?}"
        ),
    }
    headers.append(SIGNATURE_HEADER, value);
    assert_eq!(
        verifier.verify_headers(&headers, body, signed_at),
        Err(SignatureError::Duplicate),
        "header sent twice: {data:?}"
    );
}

struct Verifiers {
    single: Vec<Verifier>,
    rotating: Verifier,
}

fn verifiers() -> &'static Verifiers {
    static VERIFIERS: std::sync::OnceLock<Verifiers> = std::sync::OnceLock::new();
    VERIFIERS.get_or_init(|| {
        let single = VECTORS
            .iter()
            .map(|(secret, _, _)| match Verifier::new(*secret) {
                Ok(v) => v,
                Err(e) => panic!("{e}"),
            })
            .collect();
        let rotating = match Verifier::with_secrets(VECTORS.iter().map(|(s, _, _)| *s)) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        Verifiers { single, rotating }
    })
}

fuzz_target!(|data: &[u8]| {
    let verifiers = verifiers();
    check_str(&String::from_utf8_lossy(data), verifiers);
    check_header_map(data, verifiers);
});
