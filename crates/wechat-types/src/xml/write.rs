//! Writing XML text that stays well-formed for any input.

use std::fmt::Write as _;

use super::find_cdata_end;

/// Appends `<name><![CDATA[value]]></name>`.
///
/// `]]>` inside `value` is split across two CDATA sections, and characters XML 1.0 forbids
/// (control characters other than tab, newline and carriage return, and U+FFFE/U+FFFF) are dropped,
/// so the result is well-formed whatever `value` holds.
///
/// ```
/// let mut out = String::new();
/// wechat_types::xml::push_cdata_element(&mut out, "Content", "a]]>b");
/// assert_eq!(out, "<Content><![CDATA[a]]]]><![CDATA[>b]]></Content>");
/// ```
pub fn push_cdata_element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push_str("><![CDATA[");
    push_cdata_body(out, value);
    out.push_str("]]></");
    out.push_str(name);
    out.push('>');
}

/// [`push_cdata_element`] for a name written in the source: each tag's markup is one constant
/// piece, so an element costs three appends instead of seven (a reply writes four or more).
macro_rules! cdata_element {
    ($out:expr, $name:literal, $value:expr) => {
        $crate::xml::write::push_cdata_between(
            $out,
            concat!("<", $name, "><![CDATA["),
            $value,
            concat!("]]></", $name, ">"),
        )
    };
}
pub(crate) use cdata_element;

/// `open`, `value` as CDATA content, then `close`.
pub(crate) fn push_cdata_between(out: &mut String, open: &str, value: &str, close: &str) {
    out.push_str(open);
    push_cdata_body(out, value);
    out.push_str(close);
}

/// Appends `<name>value</name>` for a value with no markup characters, such as a number.
pub fn push_text_element(out: &mut String, name: &str, value: impl std::fmt::Display) {
    // `write!` to a String cannot fail.
    let _ = write!(out, "<{name}>{value}</{name}>");
}

/// [`push_text_element`] for an integer, without the formatting machinery (every reply has a
/// `CreateTime`).
pub(super) fn push_number_element(out: &mut String, name: &str, value: i64) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(itoa::Buffer::new().format(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

pub(super) fn push_cdata_body(out: &mut String, value: &str) {
    // Most values (ids, names, short text) hold nothing to take care of: one look at each byte
    // answers that for a short one, where the two vectorized scans below cost more in set-up.
    if value.len() <= SHORT_VALUE && !value.bytes().any(|b| NEEDS_CARE[usize::from(b)]) {
        out.push_str(value);
    } else {
        push_cdata_careful(out, value);
    }
}

/// [`push_cdata_body`] for any value: forbidden characters dropped, `]]>` split.
fn push_cdata_careful(out: &mut String, value: &str) {
    // Drop forbidden characters first: removing one can join `]]` and `>` into a terminator.
    let filtered;
    let value = if has_forbidden_chars(value) {
        filtered = value
            .chars()
            .filter(|&c| is_xml_char(c))
            .collect::<String>();
        &filtered
    } else {
        value
    };
    let mut rest = value;
    while let Some(at) = find_cdata_end(rest.as_bytes()) {
        out.push_str(&rest[..at]);
        out.push_str("]]]]><![CDATA[>");
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
}

/// A byte scan for what [`is_xml_char`] refuses: C0 controls other than tab, LF and CR, and
/// U+FFFE/U+FFFF (UTF-8 `EF BF BE`/`EF BF BF`). Every other UTF-8 sequence is an XML char, so
/// this is exact, and far cheaper than a `chars()` walk on the long base64 values of encrypted
/// replies (on a 2.8 KB Encrypt the walk cost more than the AES).
fn has_forbidden_chars(value: &str) -> bool {
    let bytes = value.as_bytes();
    // First pass branch-free within each chunk, so the compiler vectorizes it: it only asks
    // whether a control byte or an 0xEF lead byte occurs at all.
    let suspicious = bytes.chunks(64).any(|chunk| {
        chunk.iter().fold(false, |seen, &b| {
            seen | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0xEF)
        })
    });
    suspicious
        && bytes.iter().enumerate().any(|(i, &b)| match b {
            b'\t' | b'\n' | b'\r' => false,
            0..0x20 => true,
            0xEF => matches!(bytes.get(i + 1..i + 3), Some([0xBF, 0xBE | 0xBF])),
            _ => false,
        })
}

/// Longest value [`push_cdata_body`] looks at byte by byte before its vectorized scans.
const SHORT_VALUE: usize = 128;

/// The bytes after which a value needs the careful path: C0 controls other than tab, LF and CR
/// (forbidden), `]` (which may start `]]>`) and 0xEF (which may start U+FFFE or U+FFFF).
const NEEDS_CARE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = !matches!(b as u8, b'\t' | b'\n' | b'\r');
        b += 1;
    }
    table[b']' as usize] = true;
    table[0xEF] = true;
    table
};

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_short_value_path_writes_what_the_careful_path_writes(
            value in "(\\PC|[\\]>\u{0}\u{1f}\t\n\u{FFFE}\u{FFFF}\u{FFFD}]){0,140}"
        ) {
            let (mut fast, mut careful) = (String::new(), String::new());
            push_cdata_body(&mut fast, &value);
            push_cdata_careful(&mut careful, &value);
            proptest::prop_assert_eq!(fast, careful);
        }

        #[test]
        fn byte_scan_agrees_with_the_char_walk(value in proptest::prelude::any::<String>()) {
            proptest::prop_assert_eq!(has_forbidden_chars(&value), !value.chars().all(is_xml_char));
        }
    }

    #[test]
    fn byte_scan_agrees_with_the_char_rule() {
        for c in [
            '\u{0}', '\u{8}', '\t', '\n', '\r', '\u{1f}', ' ', 'é', '\u{FFFD}', '\u{FFFE}',
            '\u{FFFF}', '😀',
        ] {
            let text = format!("a{c}b");
            assert_eq!(has_forbidden_chars(&text), !is_xml_char(c), "{c:?}");
        }
    }

    #[test]
    fn numbers_render_like_display() {
        for value in [0, -1, 1_713_424_427, i64::MIN, i64::MAX] {
            let (mut fast, mut general) = (String::new(), String::new());
            push_number_element(&mut fast, "CreateTime", value);
            push_text_element(&mut general, "CreateTime", value);
            assert_eq!(fast, general);
        }
    }

    #[test]
    fn splits_every_cdata_terminator() {
        let mut out = String::new();
        push_cdata_element(&mut out, "C", "]]>]]>");
        assert_eq!(out, "<C><![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]></C>");
    }

    #[test]
    fn a_dropped_character_cannot_form_a_terminator() {
        let mut out = String::new();
        push_cdata_element(&mut out, "C", "]\u{0}]>");
        assert_eq!(out, "<C><![CDATA[]]]]><![CDATA[>]]></C>");
    }

    #[test]
    fn drops_characters_xml_forbids() {
        let mut out = String::new();
        push_cdata_element(&mut out, "C", "a\u{0}b\u{1b}c\td\u{FFFF}");
        assert_eq!(out, "<C><![CDATA[abc\td]]></C>");
    }
}
