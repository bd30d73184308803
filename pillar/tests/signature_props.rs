//! Property tests for the webhook signature verifier.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pillar::http::{HeaderMap, HeaderValue};
use pillar::signature::{sign, SignatureError, SignatureHeader, Verifier, SIGNATURE_HEADER};
use proptest::prelude::*;

/// Largest timestamp the verifier accepts (18 digits).
const MAX_T: i64 = 999_999_999_999_999_999;

fn hex_digit(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not a lowercase hex digit: {c}"),
    }
}

/// Header-like strings, to reach deeper into the parser than random text does.
fn header_like() -> impl Strategy<Value = String> {
    let item = prop_oneof![
        "t=[0-9+\\-_. ]{0,20}",
        "v1=[0-9a-fA-Fg ]{0,70}",
        "v0=[0-9a-f]{0,64}",
        "[a-z0-9]{0,3}=?[^,]{0,10}",
        "[ \t]{0,2}",
    ];
    prop::collection::vec(item, 0..8).prop_map(|items| items.join(","))
}

proptest! {
    #[test]
    fn parser_never_panics_on_arbitrary_text(header in any::<String>(), now in any::<i64>()) {
        let _ = SignatureHeader::parse(&header);
        let verifier = Verifier::new("plr_test_secret").unwrap();
        let _ = verifier.verify_at(&header, b"{}", now);
        let _ = verifier.verify_ignoring_time(&header, b"{}");
    }

    #[test]
    fn parser_never_panics_on_header_like_text(header in header_like(), now in any::<i64>()) {
        if let Ok(parsed) = SignatureHeader::parse(&header) {
            prop_assert!(!parsed.signatures.is_empty());
            prop_assert!((1..=18).contains(&parsed.timestamp_raw.len()));
            prop_assert!(parsed.timestamp >= 0);
        }
        let verifier = Verifier::new("plr_test_secret").unwrap();
        let _ = verifier.verify_at(&header, b"{}", now);
    }

    #[test]
    fn sign_then_verify_round_trips(
        body in prop::collection::vec(any::<u8>(), 0..512),
        secret in any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        t in 0..=MAX_T,
        skew in -300_i64..=300,
    ) {
        let verifier = Verifier::new(secret.clone()).unwrap();
        let header = sign(&secret, &body, t);
        prop_assert_eq!(verifier.verify_at(&header, &body, t + skew), Ok(()));
        prop_assert_eq!(verifier.verify_ignoring_time(&header, &body), Ok(()));
    }

    #[test]
    fn any_body_bit_flip_is_rejected(
        body in prop::collection::vec(any::<u8>(), 1..512),
        index in any::<prop::sample::Index>(),
        bit in 0_u8..8,
        t in 0..=MAX_T,
    ) {
        let verifier = Verifier::new("plr_test_secret").unwrap();
        let header = sign("plr_test_secret", &body, t);
        let mut tampered = body.clone();
        tampered[index.index(body.len())] ^= 1 << bit;
        prop_assert_eq!(
            verifier.verify_at(&header, &tampered, t),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn any_timestamp_digit_change_is_rejected(
        body in prop::collection::vec(any::<u8>(), 0..128),
        t in 0..=MAX_T,
        index in any::<prop::sample::Index>(),
        offset in 1_u8..10,
    ) {
        let verifier = Verifier::new("plr_test_secret").unwrap();
        let header = sign("plr_test_secret", &body, t);
        let digits = t.to_string();
        let mut bytes = header.into_bytes();
        // The digits start after "t=".
        let position = 2 + index.index(digits.len());
        bytes[position] = b'0' + (bytes[position] - b'0' + offset) % 10;
        let tampered = String::from_utf8(bytes).unwrap();
        // Inside the window of the original time or not, the MAC no longer matches.
        prop_assert_eq!(
            verifier.verify_ignoring_time(&tampered, &body),
            Err(SignatureError::Mismatch)
        );
        prop_assert_eq!(
            verifier.verify_at(&tampered, &body, t),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn any_timestamp_bit_flip_is_rejected(
        body in prop::collection::vec(any::<u8>(), 0..128),
        t in 0..=MAX_T,
        index in any::<prop::sample::Index>(),
        bit in 0_u8..8,
    ) {
        let verifier = Verifier::new("plr_test_secret").unwrap();
        let header = sign("plr_test_secret", &body, t);
        let digits = t.to_string().len();
        let mut bytes = header.into_bytes();
        // The digits start after "t=".
        bytes[2 + index.index(digits)] ^= 1 << bit;
        // The flipped byte is another digit (another MAC input), a space (trimmed at the
        // end of the item, so a shorter `t`), another ASCII character (a malformed `t`), a
        // control character, or a byte >= 0x80 (not visible ASCII): all are rejected.
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            headers.insert(SIGNATURE_HEADER, value);
        }
        prop_assert!(verifier.verify_headers(&headers, &body, t).is_err());
        if let Ok(text) = std::str::from_utf8(&bytes) {
            prop_assert!(verifier.verify_at(text, &body, t).is_err());
            prop_assert!(verifier.verify_ignoring_time(text, &body).is_err());
        }
    }

    #[test]
    fn any_signature_bit_flip_is_rejected(
        body in prop::collection::vec(any::<u8>(), 0..128),
        t in 0..=MAX_T,
        index in 0_usize..32,
        bit in 0_u8..8,
    ) {
        let verifier = Verifier::new("plr_test_secret").unwrap();
        let header = sign("plr_test_secret", &body, t);
        let (prefix, hex) = header.split_once(",v1=").unwrap();
        let mut bytes: Vec<u8> = hex
            .as_bytes()
            .chunks_exact(2)
            .map(|pair| hex_digit(pair[0]) << 4 | hex_digit(pair[1]))
            .collect();
        bytes[index] ^= 1 << bit;
        let flipped: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let tampered = format!("{prefix},v1={flipped}");
        prop_assert_eq!(
            verifier.verify_at(&tampered, &body, t),
            Err(SignatureError::Mismatch)
        );
    }
}
