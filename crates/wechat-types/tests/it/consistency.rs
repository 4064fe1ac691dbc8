//! What the readers accept holds together (the quick, CI-sized run of the properties the
//! `fuzz/xml` target checks for minutes at a time): the owned and the borrowing reader agree on
//! every input, and a document that parses renders to XML that parses back to the same value.

use proptest::prelude::*;
use wechat_types::xml::{Element, ElementRef, Message, PassiveReply, ReplyMessage};

use crate::fixture;

/// Every push and event fixture.
const FIXTURES: &[&str] = &[
    "event_click",
    "event_location",
    "event_location_select",
    "event_masssendjobfinish",
    "event_pic_photo_or_album",
    "event_pic_sysphoto",
    "event_pic_weixin",
    "event_scan",
    "event_scancode_push",
    "event_scancode_waitmsg",
    "event_subscribe",
    "event_subscribe_scene",
    "event_templatesendjobfinish",
    "event_unknown",
    "event_unsubscribe",
    "event_view",
    "event_view_miniprogram",
    "image",
    "link",
    "location",
    "shortvideo",
    "text",
    "text_from_article",
    "unknown_type",
    "video",
    "voice",
];

/// True when every name and text of the tree is made of characters XML 1.0 allows: the writers
/// drop the others (which the reader lets through inside CDATA), so only such documents
/// round-trip exactly.
fn only_xml_chars(root: &Element) -> bool {
    let ok = |s: &str| {
        s.chars().all(|c| {
            matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}'
                | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        })
    };
    ok(&root.name) && ok(&root.text) && root.children.iter().all(only_xml_chars)
}

fn holds_together(input: &[u8]) -> Result<(), TestCaseError> {
    let owned = Element::parse(input);
    let borrowed = ElementRef::parse(input);
    let root = match (owned, borrowed) {
        (Ok(owned), Ok(borrowed)) => {
            prop_assert_eq!(&owned, &borrowed.to_element());
            owned
        }
        (Err(_), Err(_)) => {
            prop_assert!(Message::parse(input).is_err());
            prop_assert!(ReplyMessage::parse(input).is_err());
            return Ok(());
        }
        (owned, borrowed) => {
            return Err(TestCaseError::fail(format!(
                "the readers disagree: {owned:?} vs {borrowed:?}"
            )));
        }
    };
    if !only_xml_chars(&root) {
        return Ok(());
    }
    if let Ok(msg) = Message::parse(input) {
        // Compared as text: a float field may hold NaN, which is not equal to itself.
        let xml = msg.to_xml();
        let again = Message::parse(xml.as_bytes());
        prop_assert!(again.is_ok(), "{:?} reading back {}", again, xml);
        prop_assert_eq!(again.unwrap().to_xml(), xml);
    }
    if let Ok(reply) = ReplyMessage::parse(input) {
        let again = ReplyMessage::parse(reply.to_xml().as_bytes());
        prop_assert_eq!(again.ok(), Some(reply));
    }
    if let Ok(passive) = PassiveReply::parse(input) {
        let again = PassiveReply::parse(passive.to_body().as_bytes());
        prop_assert_eq!(again.ok(), Some(passive));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Real pushes with a few bytes changed, cut short, or with a fragment spliced in.
    #[test]
    fn mutated_fixtures_hold_together(
        name in prop::sample::select(FIXTURES),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        cut in any::<prop::sample::Index>(),
        splice in prop::option::of((any::<prop::sample::Index>(), "(<A>|</A>|<![CDATA[|]]>|&amp;|&#38;|\\n|\\PC){0,4}")),
    ) {
        let mut input = fixture(name).into_bytes();
        for (at, byte) in edits {
            let at = at.index(input.len());
            input[at] = byte;
        }
        if let Some((at, fragment)) = splice {
            let at = at.index(input.len());
            input.splice(at..at, fragment.into_bytes());
        }
        if cut.index(8) == 0 {
            input.truncate(cut.index(input.len() + 1));
        }
        holds_together(&input)?;
    }

    /// Documents made of WeChat's tags and tricky text.
    #[test]
    fn xmlish_documents_hold_together(
        body in "(<ToUserName>x</ToUserName>|<FromUserName><!\\[CDATA\\[o]\\]></FromUserName>|<CreateTime>1</CreateTime>|<MsgType>text</MsgType>|<MsgType>event</MsgType>|<Event>CLICK</Event>|<EventKey>k</EventKey>|<Content>\\PC{0,8}</Content>|<Content><!\\[CDATA\\[\\PC{0,8}]\\]></Content>|<MsgId>7</MsgId>|<A><B>x</B></A>|&amp;|&lt;| |\\n)*"
    ) {
        holds_together(format!("<xml>{body}</xml>").as_bytes())?;
    }
}
