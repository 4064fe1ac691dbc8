//! What the readers accept holds together (the quick, CI-sized run of the properties the
//! `fuzz/xml` target checks for minutes at a time): the owned and the borrowing reader agree on
//! every input, `Message::parse`'s flat path agrees with the tree, and a document that parses
//! renders to XML that parses back to the same value.

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
    // `Message::parse` reads a flat push without building its tree: it must give what the tree
    // gives, message or error (compared as text: a float field may hold NaN).
    let via_tree = match &borrowed {
        Ok(root) => format!("{:?}", Message::from_element_ref(root)),
        Err(err) => format!("{:?}", Err::<Message, _>(err)),
    };
    prop_assert_eq!(format!("{:?}", Message::parse(input)), via_tree);
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

/// The leaves of a flat push: every field a message type or a common event reads, in any
/// order, some of them twice with different values (the first one counts), as CDATA or text.
fn flat_push() -> impl Strategy<Value = String> {
    const NAMES: &[&str] = &[
        "ToUserName",
        "FromUserName",
        "CreateTime",
        "MsgType",
        "Content",
        "MsgId",
        "MsgDataId",
        "Idx",
        "PicUrl",
        "MediaId",
        "Format",
        "Recognition",
        "ThumbMediaId",
        "Location_X",
        "Location_Y",
        "Scale",
        "Label",
        "Title",
        "Description",
        "Url",
        "Event",
        "EventKey",
        "Ticket",
        "Latitude",
        "Longitude",
        "Precision",
        "MenuId",
    ];
    const VALUES: &[&str] = &[
        "",
        "1",
        "2.5",
        "x",
        "text",
        "image",
        "voice",
        "video",
        "shortvideo",
        "location",
        "link",
        "event",
        "subscribe",
        "CLICK",
        "VIEW",
        "LOCATION",
        "qrscene_7",
        "nonsense",
    ];
    let leaf = (
        prop::sample::select(NAMES),
        prop::sample::select(VALUES),
        any::<bool>(),
    );
    let required = (
        prop::sample::select(VALUES),
        prop::sample::select(VALUES),
        prop::sample::select(&["1", "x"][..]),
        prop::sample::select(VALUES),
    );
    (required, prop::collection::vec(leaf, 0..12))
        .prop_flat_map(|((to, from, time, msg_type), extra)| {
            let mut leaves = vec![
                ("ToUserName", to, true),
                ("FromUserName", from, true),
                ("CreateTime", time, false),
                ("MsgType", msg_type, true),
            ];
            leaves.extend(extra);
            Just(leaves).prop_shuffle()
        })
        .prop_map(|leaves| {
            let body: String = leaves
                .into_iter()
                .map(|(name, value, cdata)| match cdata {
                    true => format!("<{name}><![CDATA[{value}]]></{name}>\n"),
                    false => format!("<{name}>{value}</{name}>\n"),
                })
                .collect();
            format!("<xml>{body}</xml>")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Flat pushes of every type, the shape `Message::parse` reads without a tree.
    #[test]
    fn flat_pushes_hold_together(input in flat_push()) {
        holds_together(input.as_bytes())?;
    }

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
