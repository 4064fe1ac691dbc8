use proptest::prelude::*;
use wechat_types::xml::{Article, Message, PassiveReply, Reply, ReplyMessage, XmlError};

use crate::fixture;

fn all_replies() -> Vec<Reply> {
    vec![
        Reply::text("你好 ]]> <b>&amp;</b> 😀"),
        Reply::image("media_1"),
        Reply::Voice {
            media_id: "media_2".into(),
        },
        Reply::Video {
            media_id: "media_3".into(),
            title: Some("标题".into()),
            description: None,
        },
        Reply::Music {
            title: Some("歌".into()),
            description: Some("d".into()),
            music_url: Some("http://m/1.mp3".into()),
            hq_music_url: Some("http://m/1hq.mp3".into()),
            thumb_media_id: Some("thumb".into()),
        },
        Reply::news(vec![Article {
            title: "t".into(),
            description: "d".into(),
            pic_url: "http://p".into(),
            url: "http://u".into(),
        }]),
        Reply::TransferCustomerService { kf_account: None },
        Reply::TransferCustomerService {
            kf_account: Some("kf1@gh".into()),
        },
    ]
}

#[test]
fn every_reply_renders_and_parses_back() {
    let msg = Message::parse(fixture("text").as_bytes()).unwrap();
    for reply in all_replies() {
        let rendered = ReplyMessage::answering(&msg, reply.clone(), 1_700_000_000);
        assert_eq!(rendered.to.as_str(), "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
        assert_eq!(rendered.from.as_str(), "gh_10f6c3c3ac5a");
        let xml = rendered.to_xml();
        assert_eq!(
            ReplyMessage::parse(xml.as_bytes()).unwrap(),
            rendered,
            "{xml}"
        );
        assert_eq!(
            PassiveReply::parse(xml.as_bytes()).unwrap(),
            PassiveReply::Message(rendered)
        );
    }
}

#[test]
fn text_reply_matches_the_documented_shape() {
    let reply = ReplyMessage {
        to: "toUser".into(),
        from: "fromUser".into(),
        create_time: 12345678,
        reply: Reply::text("你好"),
    };
    assert_eq!(
        reply.to_xml(),
        "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>12345678</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content></xml>"
    );
}

#[test]
fn success_and_empty_answers_are_recognised() {
    assert_eq!(
        PassiveReply::parse(b"success").unwrap(),
        PassiveReply::Success
    );
    assert_eq!(
        PassiveReply::parse(b" success\n").unwrap(),
        PassiveReply::Success
    );
    assert_eq!(PassiveReply::parse(b"").unwrap(), PassiveReply::Empty);
    assert_eq!(PassiveReply::Success.to_body(), "success");
    assert!(PassiveReply::parse(br#"{"msgtype":"text"}"#).is_err());
    assert!(matches!(
        PassiveReply::parse(b"<xml><ToUserName>a</ToUserName></xml>"),
        Err(XmlError::MissingField(_))
    ));
}

#[test]
fn news_count_must_match_items() {
    let reply = ReplyMessage {
        to: "o".into(),
        from: "gh".into(),
        create_time: 1,
        reply: Reply::news(vec![Article::default(), Article::default()]),
    };
    let lying = reply.to_xml().replace(
        "<ArticleCount>2</ArticleCount>",
        "<ArticleCount>3</ArticleCount>",
    );
    assert!(matches!(
        ReplyMessage::parse(lying.as_bytes()),
        Err(XmlError::InvalidField {
            field: "ArticleCount"
        })
    ));
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any text, including `]]>`, control characters and emoji, renders to well-formed XML that
    /// reads back as the same text less the characters XML cannot carry.
    #[test]
    fn any_text_reply_stays_well_formed(content in any::<String>(), extra in "[\\]>\u{0}-\u{1f}😀中]{0,12}") {
        let content = format!("{content}{extra}");
        let reply = ReplyMessage {
            to: "o".into(),
            from: "gh".into(),
            create_time: 1,
            reply: Reply::text(content.clone()),
        };
        let parsed = ReplyMessage::parse(reply.to_xml().as_bytes()).unwrap();
        let expected: String = content.chars().filter(|&c| is_xml_char(c)).collect();
        prop_assert_eq!(parsed.reply, Reply::text(expected));
    }

    /// Any text message round trips.
    #[test]
    fn any_text_message_round_trips(content in "[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{fffe}\u{ffff}]*", id in any::<u64>(), t in any::<i64>()) {
        let xml = fixture("text")
            .replace("abcdteT", &content.replace("]]>", "]]]]><![CDATA[>"))
            .replace("6054768590064713728", &id.to_string())
            .replace("1409735668", &t.to_string());
        let msg = Message::parse(xml.as_bytes()).unwrap();
        prop_assert_eq!(Message::parse(msg.to_xml().as_bytes()).unwrap(), msg);
    }
}
