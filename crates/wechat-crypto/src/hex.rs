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
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

/// Decodes exactly `N` bytes of hex (either case). `None` for any other length or a non-hex digit.
pub(crate) fn decode_upper_or_lower<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode_with::<N>(text, |c| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    })
}

/// Decodes exactly `N` bytes of lowercase hex. Uppercase is refused, so every value has exactly
/// one accepted spelling.
pub(crate) fn decode_lower<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode_with::<N>(text, |c| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    })
}

fn decode_with<const N: usize>(text: &str, digit: impl Fn(u8) -> Option<u8>) -> Option<[u8; N]> {
    let text = text.as_bytes();
    if text.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
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
