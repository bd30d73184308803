//! Hex for signatures, by table: on the hot path (every signed call decodes one header),
//! where `u8::from_str_radix` per digit pair costs a branch and a range check per byte.
//! The unit tests in `tests.rs` check the table against `from_str_radix` for every byte.

/// Exactly 64 hex digits (either case) as 32 bytes.
pub(super) fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let bytes = s.as_bytes();
    if bytes.len() != super::SIGNATURE_HEX_LEN {
        return None;
    }
    let mut out = [0_u8; 32];
    // Without a branch per digit: a non-digit reads as 0xff, whose high bits are checked
    // once at the end.
    let mut seen = 0_u8;
    for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let (hi, lo) = (
            HEX_VALUES[usize::from(pair[0])],
            HEX_VALUES[usize::from(pair[1])],
        );
        seen |= hi | lo;
        *byte = (hi << 4) | (lo & 0x0f);
    }
    (seen & 0xf0 == 0).then_some(out)
}

/// The value of each byte as a hex digit (either case), 0xff for any other byte.
const HEX_VALUES: [u8; 256] = {
    let mut table = [0xff_u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

pub(super) fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}
