//! Lowercase hex, the form every WeChat signature travels in.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push(&mut out, bytes);
    out
}

/// Appends the lowercase hex of `bytes` to `out`.
pub(crate) fn push(out: &mut String, bytes: &[u8]) {
    // Up to a SHA-256 digest at a time through a buffer on the stack, appended as one piece:
    // pushed a char at a time, each digit paid a capacity check and a UTF-8 encoding.
    let mut digits = [0u8; 64];
    for chunk in bytes.chunks(digits.len() / 2) {
        let written = &mut digits[..chunk.len() * 2];
        for (pair, &b) in written.chunks_exact_mut(2).zip(chunk) {
            pair.copy_from_slice(&PAIRS[usize::from(b)]);
        }
        // Every byte written is an ASCII digit.
        out.push_str(std::str::from_utf8(written).unwrap_or_default());
    }
}

/// The two lowercase hex digits of each byte value.
const PAIRS: [[u8; 2]; 256] = {
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 0x0f]];
        i += 1;
    }
    table
};

/// Decodes exactly `N` bytes of hex (either case). `None` for any other length or a non-hex digit.
pub(crate) fn decode_upper_or_lower<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode_with::<N>(text, &EITHER_CASE)
}

/// Decodes exactly `N` bytes of lowercase hex. Uppercase is refused, so every value has exactly
/// one accepted spelling.
pub(crate) fn decode_lower<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode_with::<N>(text, &LOWER_CASE)
}

/// Not a hex digit, in the tables below.
const INVALID: u8 = 0xFF;

/// The value of each byte as a hex digit of either case, or [`INVALID`]: one load a digit, where
/// a chain of range tests cost a third of checking a signature.
const EITHER_CASE: [u8; 256] = digit_table(true);
/// The same, lowercase only.
const LOWER_CASE: [u8; 256] = digit_table(false);

const fn digit_table(upper_too: bool) -> [u8; 256] {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 16 {
        table[DIGITS[i] as usize] = i as u8;
        if upper_too {
            table[DIGITS[i].to_ascii_uppercase() as usize] = i as u8;
        }
        i += 1;
    }
    table
}

fn decode_with<const N: usize>(text: &str, table: &[u8; 256]) -> Option<[u8; N]> {
    let text = text.as_bytes();
    if text.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    // Invalid digits are collected with OR and checked once at the end.
    let mut invalid = 0u8;
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let (high, low) = (table[usize::from(pair[0])], table[usize::from(pair[1])]);
        invalid |= (high | low) & 0xF0;
        *byte = (high << 4) | (low & 0x0F);
    }
    (invalid == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes() {
        assert_eq!(encode(&[0x00, 0x9f, 0xff]), "009fff");
        assert_eq!(decode_lower::<3>("009fff"), Some([0x00, 0x9f, 0xff]));
        assert_eq!(
            decode_upper_or_lower::<3>("009FfF"),
            Some([0x00, 0x9f, 0xff])
        );
    }

    #[test]
    fn refuses_wrong_length_and_digits() {
        assert_eq!(decode_lower::<2>("abc"), None);
        assert_eq!(decode_lower::<2>("abcdef"), None);
        assert_eq!(decode_lower::<2>("ABCD"), None);
        assert_eq!(decode_upper_or_lower::<2>("abcg"), None);
        assert_eq!(decode_upper_or_lower::<2>("ab\u{e9}"), None);
        assert_eq!(decode_upper_or_lower::<1>("+f"), None);
    }
}
