use wechat_types::xml::{Event, Message, MessageBody, Scene, XmlError};
use wechat_types::{MediaId, MsgId};

use crate::fixture;

const ALL: &[&str] = &[
    "text",
    "text_from_article",
    "image",
    "voice",
    "video",
    "shortvideo",
    "location",
    "link",
    "event_subscribe",
    "event_subscribe_scene",
    "event_unsubscribe",
    "event_scan",
    "event_location",
    "event_click",
    "event_view",
    "event_scancode_push",
    "event_scancode_waitmsg",
    "event_pic_sysphoto",
    "event_pic_photo_or_album",
    "event_pic_weixin",
    "event_location_select",
    "event_view_miniprogram",
    "event_templatesendjobfinish",
    "event_masssendjobfinish",
    "event_unknown",
    "unknown_type",
];

fn parse(name: &str) -> Message {
    Message::parse(fixture(name).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn event(name: &str) -> Event {
    match parse(name).body {
        MessageBody::Event(event) => event,
        other => panic!("{name}: not an event: {other:?}"),
    }
}

#[test]
fn every_fixture_file_is_covered_here() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".xml")
                .map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = ALL.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "a fixture is missing from ALL (or ALL names a missing file)"
    );
}

#[test]
fn every_fixture_round_trips_through_xml() {
    for name in ALL {
        let msg = parse(name);
        assert_eq!(msg.to.as_str(), "gh_10f6c3c3ac5a", "{name}");
        assert_eq!(msg.from.as_str(), "oyORnuP8q7ou2gfYjqLzSIWZf0rs", "{name}");
        assert_eq!(msg.create_time, 1409735668, "{name}");
        let again = Message::parse(msg.to_xml().as_bytes()).unwrap();
        assert_eq!(again, msg, "{name} did not round trip");
    }
}

#[test]
fn official_text_sample_is_typed() {
    let msg = parse("text");
    assert_eq!(
        msg.body,
        MessageBody::Text {
            content: "abcdteT".into(),
            msg_id: MsgId(6054768590064713728),
            msg_data_id: None,
            idx: None,
        }
    );
    let MessageBody::Text {
        msg_data_id, idx, ..
    } = parse("text_from_article").body
    else {
        panic!("text")
    };
    assert_eq!(
        (msg_data_id.as_deref(), idx.as_deref()),
        (Some("2247483650"), Some("1"))
    );
}

#[test]
fn media_and_location_messages_are_typed() {
    assert!(matches!(parse("image").body,
        MessageBody::Image { ref pic_url, ref media_id, msg_id }
            if pic_url == "http://mmbiz.qpic.cn/x.jpg" && media_id == &MediaId::from("media_id_1") && msg_id == MsgId(1234567890123456)));
    assert!(matches!(parse("voice").body,
        MessageBody::Voice { ref format, ref recognition, .. } if format == "amr" && recognition.as_deref() == Some("腾讯微信团队")));
    assert!(
        matches!(parse("video").body, MessageBody::Video { ref thumb_media_id, .. } if thumb_media_id == "thumb_1")
    );
    assert!(
        matches!(parse("shortvideo").body, MessageBody::ShortVideo { ref media_id, .. } if media_id == "media_id_4")
    );
    assert!(matches!(parse("location").body,
        MessageBody::Location { latitude, longitude, scale, ref label, .. }
            if latitude == 23.134521 && longitude == 113.358803 && scale == 20.0 && label == "位置信息"));
    assert!(
        matches!(parse("link").body, MessageBody::Link { ref url, .. } if url == "https://mp.weixin.qq.com/")
    );
}

#[test]
fn subscribe_scan_and_menu_events_are_typed() {
    assert_eq!(
        event("event_subscribe"),
        Event::Subscribe {
            scene: None,
            ticket: None
        }
    );
    let Event::Subscribe {
        scene: Some(scene),
        ticket,
    } = event("event_subscribe_scene")
    else {
        panic!("scan-to-follow")
    };
    assert_eq!(scene.as_id(), Some(123123));
    assert_eq!(ticket.as_deref(), Some("TICKET"));
    assert_eq!(event("event_unsubscribe"), Event::Unsubscribe);
    assert_eq!(
        event("event_scan"),
        Event::Scan {
            scene: Scene("SCENE_VALUE".into()),
            ticket: Some("TICKET".into())
        }
    );
    assert_eq!(
        event("event_location"),
        Event::Location {
            latitude: 23.137466,
            longitude: 113.352425,
            precision: 119.38504
        }
    );
    assert_eq!(
        event("event_click"),
        Event::Click {
            key: "V1001_TODAY_MUSIC".into()
        }
    );
    assert_eq!(
        event("event_view"),
        Event::View {
            url: "http://www.qq.com/".into(),
            menu_id: Some("208379533".into())
        }
    );
    assert_eq!(
        event("event_view_miniprogram"),
        Event::ViewMiniprogram {
            page_path: "pages/index/index".into(),
            menu_id: Some("MENUID".into())
        }
    );
}

#[test]
fn scancode_pic_and_location_select_events_are_typed() {
    let Event::ScancodePush { key, scan } = event("event_scancode_push") else {
        panic!()
    };
    assert_eq!(
        (
            key.as_str(),
            scan.scan_type.as_str(),
            scan.scan_result.as_str()
        ),
        ("6", "qrcode", "1")
    );
    assert!(
        matches!(event("event_scancode_waitmsg"), Event::ScancodeWaitmsg { scan, .. } if scan.scan_result == "2")
    );
    let Event::PicPhotoOrAlbum { pics, .. } = event("event_pic_photo_or_album") else {
        panic!()
    };
    assert_eq!(pics.count, 2);
    assert_eq!(
        pics.md5_sums,
        [
            "5a75aaca956d97be686719218f275c6b",
            "1b5f7c23b5bf75682a53e7b6d163e185"
        ]
    );
    assert!(
        matches!(event("event_pic_sysphoto"), Event::PicSysphoto { pics, .. } if pics.count == 1)
    );
    assert!(
        matches!(event("event_pic_weixin"), Event::PicWeixin { pics, .. } if pics.md5_sums.len() == 1)
    );
    let Event::LocationSelect { location, .. } = event("event_location_select") else {
        panic!()
    };
    assert_eq!(
        (location.latitude, location.longitude, location.scale),
        (23.0, 113.0, 15.0)
    );
    assert_eq!(location.label, " 广州市海珠区客村艺苑路 106号");
    assert_eq!(location.poiname.as_deref(), Some(""));
}

#[test]
fn job_finish_events_read_msg_id_with_capital_d() {
    assert_eq!(
        event("event_templatesendjobfinish"),
        Event::TemplateSendJobFinish {
            msg_id: MsgId(200163836),
            status: "success".into()
        }
    );
    assert_eq!(
        event("event_masssendjobfinish"),
        Event::MassSendJobFinish {
            msg_id: MsgId(1988),
            status: "sendsuccess".into(),
            total_count: 100,
            filter_count: 80,
            sent_count: 75,
            error_count: 5,
        }
    );
}

#[test]
fn unknown_types_and_events_keep_their_fields() {
    let Event::Unknown { event, raw } = event("event_unknown") else {
        panic!()
    };
    assert_eq!(event, "debug_demo");
    assert_eq!(raw.child_text("debug_str"), Some("hello world"));
    let msg = parse("unknown_type");
    assert_eq!(msg.body.msg_type(), "miniprogrampage");
    assert_eq!(msg.body.msg_id(), Some(MsgId(99)));
    let MessageBody::Unknown { raw, .. } = msg.body else {
        panic!()
    };
    assert_eq!(raw.child_text("Title"), Some("card"));
}

#[test]
fn event_names_match_regardless_of_case() {
    let xml = fixture("event_click").replace("CLICK", "click");
    assert!(matches!(
        Message::parse(xml.as_bytes()).unwrap().body,
        MessageBody::Event(Event::Click { .. })
    ));
}

#[test]
fn dedupe_keys_follow_the_documented_rule() {
    assert_eq!(parse("text").dedupe_key(), "msg:6054768590064713728");
    assert_eq!(
        parse("event_click").dedupe_key(),
        "evt:oyORnuP8q7ou2gfYjqLzSIWZf0rs:1409735668:CLICK:V1001_TODAY_MUSIC"
    );
    assert_ne!(
        parse("event_subscribe").dedupe_key(),
        parse("event_unsubscribe").dedupe_key()
    );
}

#[test]
fn malformed_pushes_are_typed_errors() {
    let missing = fixture("text").replace("<MsgType><![CDATA[text]]></MsgType>", "");
    assert!(matches!(
        Message::parse(missing.as_bytes()),
        Err(XmlError::MissingField("MsgType"))
    ));
    let bad_time = fixture("text").replace("1409735668", "soon");
    assert!(matches!(
        Message::parse(bad_time.as_bytes()),
        Err(XmlError::InvalidField {
            field: "CreateTime"
        })
    ));
    let bad_id = fixture("text").replace("6054768590064713728", "x");
    assert!(matches!(
        Message::parse(bad_id.as_bytes()),
        Err(XmlError::InvalidField { field: "MsgId" })
    ));
    assert!(matches!(
        Message::parse(b"<root><A>1</A></root>"),
        Err(XmlError::UnexpectedRoot { .. })
    ));
    let doctype = format!(
        "<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}",
        fixture("text")
    );
    assert!(matches!(
        Message::parse(doctype.as_bytes()),
        Err(XmlError::Doctype)
    ));
}
