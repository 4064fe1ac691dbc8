//! Writing XML text that stays well-formed for any input.

use std::fmt::Write as _;

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

/// Appends `<name>value</name>` for a value with no markup characters, such as a number.
pub fn push_text_element(out: &mut String, name: &str, value: impl std::fmt::Display) {
    // `write!` to a String cannot fail.
    let _ = write!(out, "<{name}>{value}</{name}>");
}

fn push_cdata_body(out: &mut String, value: &str) {
    // Drop forbidden characters first: removing one can join `]]` and `>` into a terminator.
    let filtered;
    let value = if value.chars().all(is_xml_char) {
        value
    } else {
        filtered = value
            .chars()
            .filter(|&c| is_xml_char(c))
            .collect::<String>();
        &filtered
    };
    let mut rest = value;
    while let Some(at) = rest.find("]]>") {
        out.push_str(&rest[..at]);
        out.push_str("]]]]><![CDATA[>");
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

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
