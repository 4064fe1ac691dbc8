//! Helpers shared by the fuzz targets.

use wechat_types::xml::Element;

/// True when every name and text in the tree is made of characters XML 1.0 allows. The writers
/// drop the others (the reader lets them through inside CDATA and as character references), so
/// exact round trips are asked only of documents without them.
pub fn only_xml_chars(root: &Element) -> bool {
    let ok = |s: &str| {
        s.chars().all(|c| {
            matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        })
    };
    ok(&root.name) && ok(&root.text) && root.children.iter().all(only_xml_chars)
}
