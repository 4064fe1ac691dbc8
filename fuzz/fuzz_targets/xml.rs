//! The XML reader and the typed documents built on it: any bytes give a value or a typed error,
//! never a panic, and what they accept holds together.
//!
//! - `Element::parse` and the borrowing `ElementRef::parse` agree on every input, and so does
//!   `ElementRef::parse_root_child` with `child_text` of the tree.
//! - The reader's hand-scanned fast path (WeChat's usual subset) and the general reader agree:
//!   the same document behind an XML declaration, which the fast path leaves to the general
//!   reader, reads the same.
//! - What parses as a `Message`, a `ReplyMessage` or a `PassiveReply` renders to a document that
//!   parses back to the same value, whenever the document holds only characters XML 1.0 allows
//!   (the writers drop the others, such as NUL, which the reader lets through inside CDATA).

#![no_main]

use libfuzzer_sys::fuzz_target;
use wechat_fuzz::only_xml_chars;
use wechat_types::xml::{Element, ElementRef, Message, PassiveReply, ReplyMessage};

fuzz_target!(|data: &[u8]| {
    let owned = Element::parse(data);
    let borrowed = ElementRef::parse(data);
    // The one-pass reading of a root's child agrees with the tree, flat document or not.
    for name in ["Encrypt", "ToUserName", "MsgType"] {
        match (ElementRef::parse_root_child(data, name), &borrowed) {
            (Ok((root, found)), Ok(tree)) => {
                assert_eq!(root, tree.name(), "root name");
                assert_eq!(found.as_deref(), tree.child_text(name), "child {name}");
            }
            (Err(one_pass), Err(tree)) => assert_eq!(one_pass.to_string(), tree.to_string()),
            (one_pass, tree) => panic!("the readers disagree: {one_pass:?} vs {tree:?}"),
        }
    }
    let root = match (owned, &borrowed) {
        (Ok(owned), Ok(borrowed)) => {
            assert_eq!(owned, borrowed.to_element(), "the two readers disagree");
            owned
        }
        (Err(_), Err(_)) => {
            // Every typed reader refuses what the element reader refuses.
            assert!(Message::parse(data).is_err());
            assert!(ReplyMessage::parse(data).is_err());
            return;
        }
        (owned, borrowed) => panic!("the two readers disagree: {owned:?} vs {borrowed:?}"),
    };
    let exact = only_xml_chars(&root);

    // Skipped when the input brings its own declaration, BOM or processing instruction.
    if !data.trim_ascii_start().starts_with(b"<?") && !data.starts_with(b"\xEF\xBB\xBF") {
        let declared = [
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>".as_slice(),
            data,
        ]
        .concat();
        match ElementRef::parse(&declared) {
            Ok(general) => assert_eq!(
                general.to_element(),
                root,
                "fast path and general reader disagree"
            ),
            Err(e) => panic!("the general reader refuses what the fast path read: {e:?}"),
        }
    }

    if let Ok(msg) = Message::parse(data) {
        let _ = msg.dedupe_key();
        let xml = msg.to_xml();
        let again = Message::parse(xml.as_bytes());
        if exact {
            // Compared as rendered text: a float field may hold NaN, which is not equal to itself.
            let again = again.unwrap_or_else(|e| panic!("{e:?} reading back\n{xml}"));
            assert_eq!(again.to_xml(), xml, "message round trip");
        }
    }

    if let Ok(reply) = ReplyMessage::parse(data) {
        let xml = reply.to_xml();
        let again = ReplyMessage::parse(xml.as_bytes());
        if exact {
            let again = again.unwrap_or_else(|e| panic!("{e:?} reading back\n{xml}"));
            assert_eq!(again, reply, "reply round trip");
        }
    }

    if let Ok(passive) = PassiveReply::parse(data) {
        let body = passive.to_body();
        let again = PassiveReply::parse(body.as_bytes());
        if exact {
            let again = again.unwrap_or_else(|e| panic!("{e:?} reading back\n{body}"));
            assert_eq!(again, passive, "passive reply round trip");
        }
    }
});
