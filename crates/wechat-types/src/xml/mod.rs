//! The XML side of the protocol: a small, safe document reader, the CDATA writer, and the typed
//! messages, events and passive replies built on them.
//!
//! There is one XML reader in the workspace, [`Element::parse`]; the envelope reader in
//! `wechat-crypto` and the mock's reply checker use it too. It refuses a DOCTYPE (so no external or
//! recursive entities can exist), limits nesting and element count, and never panics.

mod element;
mod message;
mod reply;
mod simple;
mod write;

pub use element::{Element, ElementRef, XmlError, expect_xml_root};
pub use message::{Event, Message, MessageBody, PicInfo, ScanCodeInfo, Scene, SelectedLocation};
pub use reply::{Article, PassiveReply, Reply, ReplyMessage};
pub use write::{push_cdata_element, push_text_element};

/// Offset of the first `]]>` (the end of a CDATA section) in `bytes`.
///
/// A search for `]` and a look at the two bytes after it: the values of a push are short and
/// rarely hold a `]`, and base64 never does, so this is one vectorized `memchr` pass. (memchr's
/// `memmem` set up its searcher on every call, which cost more than the scan on short values.)
fn find_cdata_end(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = memchr::memchr(b']', &bytes[from..]) {
        let at = from + found;
        if bytes[at..].starts_with(b"]]>") {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::find_cdata_end;

    #[test]
    fn finds_the_first_cdata_terminator() {
        for (text, expected) in [
            ("", None),
            ("abc", None),
            ("]]>", Some(0)),
            ("a]]>b]]>", Some(1)),
            ("]]]>", Some(1)),
            ("]]]]]>", Some(3)),
            ("] ]> ]]", None),
            ("[微笑]]]>", Some(8)),
        ] {
            assert_eq!(find_cdata_end(text.as_bytes()), expected, "{text:?}");
            assert_eq!(
                find_cdata_end(text.as_bytes()),
                text.find("]]>"),
                "{text:?}"
            );
        }
    }
}
