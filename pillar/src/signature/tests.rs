#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use http::{HeaderMap, HeaderName, HeaderValue};

const SECRET: &str = "plr_test_secret";
const BODY: &[u8] =
    br#"{"action":"tool_call","tool_name":"lookup_customer","call_id":"tc_1","arguments":{"email":"sarah@acme.com"}}"#;
const T: i64 = 1_710_000_000;
const HEX: &str = "8f52f6519cdf9bcc9e94db03b303e795ef7a046d40a3829984311967ef19508e";

fn verifier() -> Verifier {
    Verifier::new(SECRET).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::new();
    push_hex(&mut s, bytes);
    s
}

fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    let mut mac = keyed_mac(key);
    mac.update(data);
    hex(&mac.finalize().into_bytes())
}

/// The lowercase hex `v1` for `t_raw + "." + body`, whatever `t_raw` is.
fn v1(secret: &str, t_raw: &str, body: &[u8]) -> String {
    let mut data = t_raw.as_bytes().to_vec();
    data.push(b'.');
    data.extend_from_slice(body);
    hmac_hex(secret.as_bytes(), &data)
}

fn malformed_reason(result: Result<(), SignatureError>) -> String {
    match result {
        Err(SignatureError::Malformed { reason }) => reason,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

// --- test vectors -------------------------------------------------------------

#[test]
fn protocol_vectors_sign_and_verify() {
    let vectors: [(&str, i64, &[u8], &str); 3] = [
        (SECRET, T, BODY, HEX),
        (
            "whsec_rotate_me",
            1_700_000_000,
            b"",
            "76ad68e4d3d034f4f212c9b61c4bd0e46d62346ccff67da3065eaf3103f35e20",
        ),
        (
            "plr_éè_unicode",
            1_767_225_600,
            br#"{"action":"ping"}"#,
            "80e955e97241a4c71dcbd6f0c3f6dd500f3d73eea4ca266fe7c6b6005f69740e",
        ),
    ];
    for (secret, t, body, expected) in vectors {
        let header = sign(secret, body, t);
        assert_eq!(header, format!("t={t},v1={expected}"));
        let v = Verifier::new(secret).unwrap();
        assert_eq!(v.verify_at(&header, body, t), Ok(()));
        assert_eq!(v.verify_ignoring_time(&header, body), Ok(()));
    }
}

#[test]
fn rfc4231_case_1() {
    assert_eq!(
        hmac_hex(&[0x0b; 20], b"Hi There"),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
}

#[test]
fn rfc4231_case_6_key_longer_than_a_block() {
    assert_eq!(
        hmac_hex(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        ),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn github_example() {
    assert_eq!(
        hmac_hex(b"It's a Secret to Everybody", b"Hello, World!"),
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

#[test]
fn hex_decoding_agrees_with_from_str_radix_for_every_byte() {
    let valid = "0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789abcdef0123";
    let expected: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&valid[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert_eq!(decode_hex32(valid).map(|d| d.to_vec()), Some(expected));
    for byte in 0..=255_u8 {
        for at in [0, 33, 63] {
            let mut text = valid.as_bytes().to_vec();
            text[at] = byte;
            let Ok(text) = String::from_utf8(text) else {
                continue;
            };
            let reference: Option<Vec<u8>> = (0..32)
                .map(|i| {
                    let pair = &text[2 * i..2 * i + 2];
                    // from_str_radix also takes a sign; a signature does not.
                    let digits = pair.bytes().all(|b| b.is_ascii_hexdigit());
                    digits.then(|| u8::from_str_radix(pair, 16).unwrap())
                })
                .collect();
            assert_eq!(
                decode_hex32(&text).map(|d| d.to_vec()),
                reference,
                "{byte} at {at}"
            );
        }
    }
    assert_eq!(decode_hex32(&valid[..62]), None);
}

#[test]
fn keyed_mac_matches_new_from_slice_for_every_key_length() {
    for len in 0..=200_usize {
        let key: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        let mut ours = keyed_mac(&key);
        let mut reference = <HmacSha256 as Mac>::new_from_slice(&key).unwrap();
        ours.update(b"some data");
        reference.update(b"some data");
        assert_eq!(
            ours.finalize().into_bytes(),
            reference.finalize().into_bytes(),
            "key length {len}"
        );
    }
}

// --- 1, 2: missing, empty, duplicate ------------------------------------------

#[test]
fn missing_or_empty_header_is_rejected() {
    let v = verifier();
    assert_eq!(v.verify_at("", BODY, T), Err(SignatureError::Missing));
    assert_eq!(v.verify_at(" \t ", BODY, T), Err(SignatureError::Missing));
    assert_eq!(
        v.verify_headers(&HeaderMap::new(), BODY, T),
        Err(SignatureError::Missing)
    );
    let mut headers = HeaderMap::new();
    headers.insert(SIGNATURE_HEADER, HeaderValue::from_static(""));
    assert_eq!(
        v.verify_headers(&headers, BODY, T),
        Err(SignatureError::Missing)
    );
}

#[test]
fn header_map_lookup_is_case_insensitive() {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_bytes(b"X-Pillar-Signature").unwrap(),
        HeaderValue::from_str(&sign(SECRET, BODY, T)).unwrap(),
    );
    assert_eq!(verifier().verify_headers(&headers, BODY, T), Ok(()));
}

#[test]
fn duplicate_header_is_rejected_even_if_both_are_valid() {
    let good = HeaderValue::from_str(&sign(SECRET, BODY, T)).unwrap();
    let mut headers = HeaderMap::new();
    headers.append(SIGNATURE_HEADER, good.clone());
    headers.append(SIGNATURE_HEADER, good);
    assert_eq!(
        verifier().verify_headers(&headers, BODY, T),
        Err(SignatureError::Duplicate)
    );
}

#[test]
fn non_visible_ascii_header_value_is_malformed() {
    let mut headers = HeaderMap::new();
    let mut bytes = sign(SECRET, BODY, T).into_bytes();
    bytes.push(0xff);
    headers.insert(SIGNATURE_HEADER, HeaderValue::from_bytes(&bytes).unwrap());
    let reason = malformed_reason(verifier().verify_headers(&headers, BODY, T));
    assert!(reason.contains("visible ASCII"), "{reason}");
}

// --- 3: splitting ---------------------------------------------------------------

#[test]
fn spaces_and_tabs_around_items_are_trimmed() {
    let header = format!(" \tt={T} ,\t v1={HEX}\t ");
    assert_eq!(verifier().verify_at(&header, BODY, T), Ok(()));
    let parsed = SignatureHeader::parse(&header).unwrap();
    assert_eq!(parsed.timestamp_raw, T.to_string());
}

#[test]
fn item_without_equals_is_malformed() {
    let v = verifier();
    let reason = malformed_reason(v.verify_at(&format!("t={T},v1={HEX},abc"), BODY, T));
    assert_eq!(reason, "item `abc` has no `=`");
    let reason = malformed_reason(v.verify_at(&format!("t={T},,v1={HEX}"), BODY, T));
    assert!(reason.contains("empty item"), "{reason}");
    malformed_reason(v.verify_at(&format!("t={T},v1={HEX},"), BODY, T));
}

#[test]
fn header_longer_than_4096_bytes_is_rejected() {
    let good = sign(SECRET, BODY, T);
    // Padded with an unknown item to exactly the limit: accepted.
    let pad = MAX_HEADER_LEN - good.len() - ",x=".len();
    let at_limit = format!("{good},x={}", "a".repeat(pad));
    assert_eq!(at_limit.len(), MAX_HEADER_LEN);
    assert_eq!(verifier().verify_at(&at_limit, BODY, T), Ok(()));
    let over = format!("{at_limit}a");
    assert_eq!(
        SignatureHeader::parse(&over).unwrap_err().to_string(),
        "the X-Pillar-Signature header is 4097 bytes long, more than the 4096 allowed"
    );
    assert_eq!(
        verifier().verify_at(&over, BODY, T),
        Err(SignatureError::TooLong {
            len: MAX_HEADER_LEN + 1
        })
    );
}

// --- 4, 5: the timestamp --------------------------------------------------------

#[test]
fn timestamp_must_be_1_to_18_ascii_digits_even_when_signed() {
    let v = verifier();
    for t_raw in [
        format!("+{T}"),
        format!("{T}abc"),
        String::new(),
        "-9223372036854775808".to_owned(),
        "1_700_000_000".to_owned(),
        "1234567890123456789".to_owned(), // 19 digits
        "99999999999999999999999".to_owned(),
        "1710 000000".to_owned(),
        format!("{T}.5"),
        "١٧١٠".to_owned(), // non-ASCII digits
    ] {
        // Signed correctly over exactly these bytes, so only the parser can refuse it.
        let header = format!("t={t_raw},v1={}", v1(SECRET, &t_raw, BODY));
        let reason = malformed_reason(v.verify_at(&header, BODY, T));
        assert!(reason.contains("is not 1 to 18 ASCII digits"), "{reason}");
    }
    assert_eq!(
        malformed_reason(v.verify_at(&format!("t=+5,v1={HEX}"), BODY, T)),
        "timestamp `+5` is not 1 to 18 ASCII digits"
    );
}

#[test]
fn eighteen_digits_and_leading_zeros_parse() {
    let header = format!("t=999999999999999999,v1={HEX}");
    let parsed = SignatureHeader::parse(&header).unwrap();
    assert_eq!(parsed.timestamp, 999_999_999_999_999_999);
    let header = format!("t=0001,v1={HEX}");
    let parsed = SignatureHeader::parse(&header).unwrap();
    assert_eq!((parsed.timestamp_raw, parsed.timestamp), ("0001", 1));
    // The MAC is over the raw digits, leading zeros included.
    let header = format!("t=0{T},v1={}", v1(SECRET, &format!("0{T}"), BODY));
    assert_eq!(verifier().verify_at(&header, BODY, T), Ok(()));
    assert_eq!(
        verifier().verify_at(&format!("t=0{T},v1={HEX}"), BODY, T),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn splice_attack_moving_a_body_prefix_into_t_fails() {
    let body = br#"{"v":1.5}"#;
    let header = sign(SECRET, body, T);
    let signature = header.split_once(",v1=").unwrap().1;
    // Move `{"v":1` from the body into `t`: the MAC input is the same bytes...
    let spliced_t = format!(r#"{T}.{{"v":1"#);
    let spliced_body = b"5}";
    assert_eq!(v1(SECRET, &spliced_t, spliced_body), signature);
    // ...but such a `t` is refused.
    let spliced = format!("t={spliced_t},v1={signature}");
    malformed_reason(verifier().verify_at(&spliced, spliced_body, T));
    // Same with a purely numeric body (valid JSON) whose dot is moved into `t`.
    let header = sign(SECRET, b"1.5", T);
    let signature = header.split_once(",v1=").unwrap().1;
    let spliced = format!("t={T}.1,v1={signature}");
    assert_eq!(v1(SECRET, &format!("{T}.1"), b"5"), signature);
    malformed_reason(verifier().verify_at(&spliced, b"5", T));
}

#[test]
fn two_t_items_are_rejected() {
    let v = verifier();
    for header in [
        format!("t={T},t={T},v1={HEX}"),
        format!("t={T},v1={HEX},t={}", T + 1),
        format!("t={},t={T},v1={HEX}", T + 1),
    ] {
        assert_eq!(
            malformed_reason(v.verify_at(&header, BODY, T)),
            "two `t` items"
        );
    }
}

#[test]
fn no_t_item() {
    assert_eq!(
        verifier().verify_at(&format!("v1={HEX}"), BODY, T),
        Err(SignatureError::NoTimestamp)
    );
    // Keys are case-sensitive.
    assert_eq!(
        verifier().verify_at(&format!("T={T},v1={HEX}"), BODY, T),
        Err(SignatureError::NoTimestamp)
    );
}

// --- 6, 7, 8, 12: the v1 list -----------------------------------------------------

#[test]
fn every_v1_is_tried_in_either_order() {
    let v = verifier();
    let bad = v1("wrong_secret", &T.to_string(), BODY);
    assert_eq!(
        v.verify_at(&format!("t={T},v1={bad},v1={HEX}"), BODY, T),
        Ok(())
    );
    assert_eq!(
        v.verify_at(&format!("t={T},v1={HEX},v1={bad}"), BODY, T),
        Ok(())
    );
    assert_eq!(
        v.verify_at(&format!("t={T},v1={bad},v1={bad}"), BODY, T),
        Err(SignatureError::Mismatch)
    );
    let header = format!("t={T},v1={bad},v1=zz,v1={HEX}");
    let parsed = SignatureHeader::parse(&header).unwrap();
    assert_eq!(parsed.signatures.len(), 2);
    assert_eq!(hex(&parsed.signatures[0]), bad);
    assert_eq!(hex(&parsed.signatures[1]), HEX);
}

#[test]
fn v0_and_unknown_schemes_are_never_used() {
    let v = verifier();
    for header in [
        format!("t={T},v0={HEX}"),
        format!("t={T},v2={HEX}"),
        format!("t={T},V1={HEX}"),
        format!("t={T},v1 ={HEX}"),
    ] {
        assert_eq!(
            v.verify_at(&header, BODY, T),
            Err(SignatureError::NoSignature),
            "{header}"
        );
    }
    let bad = v1("wrong_secret", &T.to_string(), BODY);
    assert_eq!(
        v.verify_at(&format!("t={T},v0={HEX},v1={bad}"), BODY, T),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn uppercase_and_mixed_case_hex_decode() {
    let v = verifier();
    let upper = HEX.to_ascii_uppercase();
    assert_eq!(v.verify_at(&format!("t={T},v1={upper}"), BODY, T), Ok(()));
    let mixed: String = HEX
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    assert_eq!(v.verify_at(&format!("t={T},v1={mixed}"), BODY, T), Ok(()));
}

#[test]
fn v1_of_the_wrong_length_or_not_hex_is_skipped() {
    let v = verifier();
    for sig in [
        String::new(),
        HEX[..8].to_owned(),
        HEX[..63].to_owned(),
        format!("{HEX}00"),
        format!("{HEX}0"),
        format!("{}g", &HEX[..63]),
        format!(" {HEX}x"),
        format!("0x{}", &HEX[..62]),
    ] {
        let header = format!("t={T},v1={sig}");
        assert_eq!(
            v.verify_at(&header, BODY, T),
            Err(SignatureError::NoSignature),
            "{header}"
        );
        // Skipped, not an error: a good v1 beside it still verifies.
        assert_eq!(v.verify_at(&format!("{header},v1={HEX}"), BODY, T), Ok(()));
    }
}

#[test]
fn signature_differing_in_any_one_byte_fails() {
    let v = verifier();
    for position in [0, 1, 31, 32, 62, 63] {
        let mut sig = HEX.as_bytes().to_vec();
        sig[position] = if sig[position] == b'0' { b'1' } else { b'0' };
        let sig = String::from_utf8(sig).unwrap();
        assert_eq!(
            v.verify_at(&format!("t={T},v1={sig}"), BODY, T),
            Err(SignatureError::Mismatch),
            "hex digit {position} changed"
        );
    }
}

// --- 14, 15, 16: time -------------------------------------------------------------

#[test]
fn window_boundaries_are_inclusive_in_both_directions() {
    let v = verifier();
    let header = sign(SECRET, BODY, T);
    assert_eq!(v.verify_at(&header, BODY, T + 300), Ok(()));
    assert_eq!(v.verify_at(&header, BODY, T - 300), Ok(()));
    assert_eq!(
        v.verify_at(&header, BODY, T + 301),
        Err(SignatureError::Expired {
            timestamp: T,
            now: T + 301
        })
    );
    assert_eq!(
        v.verify_at(&header, BODY, T - 301),
        Err(SignatureError::Expired {
            timestamp: T,
            now: T - 301
        })
    );
}

#[test]
fn expired_message_says_how_far_and_which_way() {
    let v = verifier();
    let header = sign(SECRET, BODY, T);
    let past = v.verify_at(&header, BODY, T + 301).unwrap_err().to_string();
    assert!(past.contains("301 s in the past"), "{past}");
    let future = v
        .verify_at(&header, BODY, T - 1000)
        .unwrap_err()
        .to_string();
    assert!(future.contains("1000 s in the future"), "{future}");
}

#[test]
fn extreme_timestamps_and_clocks_do_not_panic() {
    let v = verifier();
    let max_t = 999_999_999_999_999_999_i64;
    for t in [0, 1, max_t] {
        let header = sign(SECRET, BODY, t);
        for now in [i64::MIN, -1, 0, 1, i64::MAX] {
            let result = v.verify_at(&header, BODY, now);
            if t.abs_diff(now) <= 300 {
                assert_eq!(result, Ok(()), "t={t} now={now}");
            } else {
                assert_eq!(
                    result,
                    Err(SignatureError::Expired { timestamp: t, now }),
                    "t={t} now={now}"
                );
                // The message's arithmetic must not overflow either.
                assert!(!result.unwrap_err().to_string().is_empty());
            }
        }
    }
}

#[test]
fn mac_is_checked_before_time() {
    let v = verifier();
    // Unsigned requests with absurd timestamps fail as Mismatch, not Expired.
    for t in ["999999999999999999", "0"] {
        assert_eq!(
            v.verify_at(&format!("t={t},v1={HEX}"), BODY, i64::MIN),
            Err(SignatureError::Mismatch)
        );
    }
}

#[test]
fn verify_uses_the_system_clock() {
    let v = verifier();
    let now = unix_now();
    assert!(now > 1_700_000_000);
    assert_eq!(v.verify(&sign(SECRET, BODY, now), BODY), Ok(()));
    assert!(matches!(
        v.verify(&sign(SECRET, BODY, now - 3600), BODY),
        Err(SignatureError::Expired { .. })
    ));
}

#[test]
fn verify_ignoring_time_still_checks_the_mac() {
    let v = verifier();
    let old = sign(SECRET, BODY, 1_000_000_000);
    assert_eq!(v.verify_ignoring_time(&old, BODY), Ok(()));
    assert_eq!(
        v.verify_ignoring_time(&old, b"tampered"),
        Err(SignatureError::Mismatch)
    );
    let wrong = sign("other_secret", BODY, 1_000_000_000);
    assert_eq!(
        v.verify_ignoring_time(&wrong, BODY),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        v.verify_ignoring_time("t=+1,v1=00", BODY),
        Err(SignatureError::Malformed {
            reason: "timestamp `+1` is not 1 to 18 ASCII digits".to_owned()
        })
    );
}

#[test]
fn zero_tolerance_means_exactly_now_not_off() {
    let v = verifier().tolerance(Duration::ZERO);
    let header = sign(SECRET, BODY, T);
    assert_eq!(v.verify_at(&header, BODY, T), Ok(()));
    assert!(v.verify_at(&header, BODY, T + 1).is_err());
    assert!(v.verify_at(&header, BODY, T - 1).is_err());
    // Fractions of a second are dropped: 1.9 s is a 1 s window.
    let v = verifier().tolerance(Duration::from_millis(1900));
    assert_eq!(v.verify_at(&header, BODY, T + 1), Ok(()));
    assert!(v.verify_at(&header, BODY, T + 2).is_err());
}

// --- 17, 18, 19, 20: secrets ------------------------------------------------------

#[test]
fn several_secrets_all_verify() {
    let v = Verifier::with_secrets(["plr_new", "plr_old"]).unwrap();
    assert_eq!(v.secret_count(), 2);
    assert_eq!(v.verify_at(&sign("plr_new", BODY, T), BODY, T), Ok(()));
    assert_eq!(v.verify_at(&sign("plr_old", BODY, T), BODY, T), Ok(()));
    assert_eq!(
        v.verify_at(&sign("plr_other", BODY, T), BODY, T),
        Err(SignatureError::Mismatch)
    );
    let owned = Verifier::with_secrets(vec![String::from("a")]).unwrap();
    assert_eq!(owned.secret_count(), 1);
}

#[test]
fn empty_secrets_are_refused() {
    assert!(matches!(Secret::new(""), Err(SignatureError::EmptySecret)));
    assert!(matches!(
        Verifier::new(""),
        Err(SignatureError::EmptySecret)
    ));
    assert!(matches!(
        Verifier::with_secrets(["plr_ok", ""]),
        Err(SignatureError::EmptySecret)
    ));
    assert!(matches!(
        Verifier::with_secrets(Vec::<String>::new()),
        Err(SignatureError::EmptySecret)
    ));
    assert_eq!(
        SignatureError::EmptySecret.to_string(),
        "webhook secret is empty"
    );
}

#[test]
fn whitespace_secret_is_accepted_and_used_as_is() {
    let secret = " plr_spaced\n";
    assert_eq!(Secret::new(secret).unwrap().expose(), secret);
    let v = Verifier::new(secret).unwrap();
    assert_eq!(v.verify_at(&sign(secret, BODY, T), BODY, T), Ok(()));
    assert_eq!(
        v.verify_at(&sign(secret.trim(), BODY, T), BODY, T),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn debug_output_never_contains_the_secret() {
    let secret = Secret::new("plr_super_secret_value").unwrap();
    let shown = format!("{secret:?} {secret:#?}");
    assert!(!shown.contains("super_secret"), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
    let v = Verifier::with_secrets(["plr_super_secret_value", "plr_other_value"]).unwrap();
    let shown = format!("{v:?} {v:#?}");
    assert!(!shown.contains("super_secret"), "{shown}");
    assert!(!shown.contains("other_value"), "{shown}");
    assert!(shown.contains("secrets: 2"), "{shown}");
}

// --- 21: the body -----------------------------------------------------------------

#[test]
fn pretty_json_signed_as_compact_fails() {
    let compact = br#"{"action":"ping","n":1}"#;
    let pretty = b"{\n  \"action\": \"ping\",\n  \"n\": 1\n}";
    let header = sign(SECRET, compact, T);
    assert_eq!(verifier().verify_at(&header, compact, T), Ok(()));
    assert_eq!(
        verifier().verify_at(&header, pretty, T),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn non_ascii_utf8_body_passes() {
    let body = r#"{"name":"Zoë 日本 🎉"}"#.as_bytes();
    assert_eq!(
        verifier().verify_at(&sign(SECRET, body, T), body, T),
        Ok(())
    );
}

#[test]
fn invalid_utf8_body_passes_the_mac() {
    let body = b"{\"a\":\"\xff\xfe\xc3\x28\"}";
    assert!(String::from_utf8(body.to_vec()).is_err());
    assert_eq!(
        verifier().verify_at(&sign(SECRET, body, T), body, T),
        Ok(())
    );
}

#[test]
fn sign_with_a_negative_timestamp_never_verifies() {
    let header = sign(SECRET, BODY, -5);
    assert!(header.starts_with("t=-5,v1="));
    assert!(matches!(
        verifier().verify_at(&header, BODY, -5),
        Err(SignatureError::Malformed { .. })
    ));
}

#[test]
fn snippet_truncates_and_escapes() {
    let long = format!("{}\n", "x".repeat(100));
    let reason = malformed_reason(verifier().verify_at(&format!("t={long}"), BODY, T));
    assert!(reason.chars().count() < 90, "{reason}");
    assert!(reason.contains('…'));
    let reason = malformed_reason(verifier().verify_at("t=1\u{7},v1=x", BODY, T));
    assert!(reason.contains("\\u{7}"), "{reason}");
}
