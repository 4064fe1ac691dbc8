//! Every message type and event, every reply type, in each mode, through the server.

use std::sync::Arc;

use http::Method;
use wechat_msg::{Callback, Handler, Mode, Router, Server, State, handler_fn};
use wechat_types::xml::{
    Article, Event, Message, MessageBody, PicInfo, Reply, ReplyMessage, ScanCodeInfo, Scene,
    SelectedLocation,
};
use wechat_types::{MediaId, MsgId};

use crate::support::{NOW, Recorder, Seal, config, open_answer, post, push, start, text_xml};

fn message(create_time: i64, body: MessageBody) -> Message {
    Message {
        to: "gh_test".into(),
        from: "oUser".into(),
        create_time,
        body,
    }
}

/// One of every message type and event this crate types, plus unknown ones.
fn every_message() -> Vec<Message> {
    let media = |s: &str| MediaId::new(s);
    let bodies = vec![
        MessageBody::Text {
            content: "你好 ]]> <b>".into(),
            msg_id: MsgId(1),
            msg_data_id: Some("7".into()),
            idx: Some("1".into()),
        },
        MessageBody::Image {
            pic_url: "http://mmbiz/pic".into(),
            media_id: media("m-img"),
            msg_id: MsgId(2),
        },
        MessageBody::Voice {
            media_id: media("m-voice"),
            format: "amr".into(),
            recognition: Some("识别".into()),
            msg_id: MsgId(3),
        },
        MessageBody::Video {
            media_id: media("m-video"),
            thumb_media_id: media("m-thumb"),
            msg_id: MsgId(4),
        },
        MessageBody::ShortVideo {
            media_id: media("m-short"),
            thumb_media_id: media("m-thumb"),
            msg_id: MsgId(5),
        },
        MessageBody::Location {
            latitude: 23.134521,
            longitude: 113.358803,
            scale: 20.0,
            label: "广州".into(),
            msg_id: MsgId(6),
        },
        MessageBody::Link {
            title: "t".into(),
            description: "d".into(),
            url: "https://example.com/a".into(),
            msg_id: MsgId(7),
        },
        MessageBody::Event(Event::Subscribe {
            scene: None,
            ticket: None,
        }),
        MessageBody::Event(Event::Subscribe {
            scene: Some(Scene("42".into())),
            ticket: Some("TICKET".into()),
        }),
        MessageBody::Event(Event::Unsubscribe),
        MessageBody::Event(Event::Scan {
            scene: Scene("99".into()),
            ticket: Some("TICKET".into()),
        }),
        MessageBody::Event(Event::Location {
            latitude: 23.1,
            longitude: 113.3,
            precision: 119.385,
        }),
        MessageBody::Event(Event::Click { key: "K1".into() }),
        MessageBody::Event(Event::View {
            url: "https://example.com".into(),
            menu_id: Some("5".into()),
        }),
        MessageBody::Event(Event::ScancodePush {
            key: "scan".into(),
            scan: ScanCodeInfo {
                scan_type: "qrcode".into(),
                scan_result: "r".into(),
            },
        }),
        MessageBody::Event(Event::ScancodeWaitmsg {
            key: "scan2".into(),
            scan: ScanCodeInfo {
                scan_type: "barcode".into(),
                scan_result: "1234".into(),
            },
        }),
        MessageBody::Event(Event::PicSysphoto {
            key: "p1".into(),
            pics: PicInfo {
                count: 1,
                md5_sums: vec!["abc".into()],
            },
        }),
        MessageBody::Event(Event::PicPhotoOrAlbum {
            key: "p2".into(),
            pics: PicInfo {
                count: 2,
                md5_sums: vec!["a".into(), "b".into()],
            },
        }),
        MessageBody::Event(Event::PicWeixin {
            key: "p3".into(),
            pics: PicInfo::default(),
        }),
        MessageBody::Event(Event::LocationSelect {
            key: "loc".into(),
            location: SelectedLocation {
                latitude: 23.0,
                longitude: 113.0,
                scale: 15.0,
                label: "somewhere".into(),
                poiname: Some("poi".into()),
            },
        }),
        MessageBody::Event(Event::ViewMiniprogram {
            page_path: "pages/index".into(),
            menu_id: None,
        }),
        MessageBody::Event(Event::TemplateSendJobFinish {
            msg_id: MsgId(200163836),
            status: "success".into(),
        }),
        MessageBody::Event(Event::MassSendJobFinish {
            msg_id: MsgId(1988),
            status: "sendsuccess".into(),
            total_count: 100,
            filter_count: 80,
            sent_count: 75,
            error_count: 5,
        }),
    ];
    let mut all: Vec<Message> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| message(NOW - 100 + i as i64, body))
        .collect();
    // Types and events this crate does not know are kept with their raw fields.
    for xml in [
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>\
         <CreateTime>1699999000</CreateTime><MsgType><![CDATA[miniprogrampage]]></MsgType>\
         <Title><![CDATA[t]]></Title><MsgId>77</MsgId></xml>",
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>\
         <CreateTime>1699999001</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[user_get_card]]></Event><CardId><![CDATA[c1]]></CardId></xml>",
    ] {
        all.push(Message::parse(xml.as_bytes()).unwrap());
    }
    all
}

/// What the handler answers: a text naming what it got.
fn name_it(msg: &Message) -> Option<Reply> {
    Some(Reply::text(match &msg.body {
        MessageBody::Event(event) => format!("event {}", event.name()),
        other => format!("message {}", other.msg_type()),
    }))
}

#[tokio::test]
async fn every_message_and_event_in_every_mode() {
    let cases = [
        (Mode::Plaintext, Seal::Plain, false),
        (Mode::Auto, Seal::Plain, false),
        (Mode::Auto, Seal::Safe, true),
        (Mode::Compat, Seal::Compat, true),
        (Mode::Compat, Seal::Plain, false),
        (Mode::Safe, Seal::Safe, true),
    ];
    for (mode, seal, encrypted_answer) in cases {
        let (recorder, seen) = Recorder::new(name_it);
        let callback = Callback::new(config(mode), recorder).unwrap();
        let server = start(
            Server::bind("127.0.0.1:0", callback)
                .await
                .unwrap()
                .path("/cb"),
        )
        .await;
        let messages = every_message();
        for (i, msg) in messages.iter().enumerate() {
            let request = push(seal, &msg.to_xml(), &format!("n{i}"));
            let answer = post(server.addr, "/cb", &request).await;
            assert_eq!(
                answer.status,
                200,
                "{mode:?} {seal:?} {msg:?}: {}",
                answer.text()
            );
            assert_eq!(
                answer.text().starts_with("<xml><Encrypt>"),
                encrypted_answer,
                "{mode:?} {seal:?}"
            );
            assert_eq!(
                answer.header("content-type"),
                Some("text/xml; charset=utf-8")
            );
            let reply = ReplyMessage::parse(open_answer(&answer.body).as_bytes()).unwrap();
            assert_eq!(Some(reply.reply), name_it(msg), "{mode:?} {seal:?}");
            assert_eq!(reply.to, msg.from);
            assert_eq!(reply.from, msg.to);
            assert_eq!(reply.create_time, NOW);
        }
        assert_eq!(*seen.lock().unwrap(), messages, "{mode:?} {seal:?}");
    }
}

fn every_reply() -> Vec<Reply> {
    vec![
        Reply::text("文本 ]]> & <tag>"),
        Reply::image("media-1"),
        Reply::Voice {
            media_id: "media-2".into(),
        },
        Reply::Video {
            media_id: "media-3".into(),
            title: Some("title".into()),
            description: Some("description".into()),
        },
        Reply::Video {
            media_id: "media-4".into(),
            title: None,
            description: None,
        },
        Reply::Music {
            title: Some("song".into()),
            description: None,
            music_url: Some("http://m/1.mp3".into()),
            hq_music_url: Some("http://m/1hq.mp3".into()),
            thumb_media_id: Some("thumb".into()),
        },
        Reply::news(vec![Article {
            title: "one".into(),
            description: "d".into(),
            pic_url: "http://p/1.jpg".into(),
            url: "http://u/1".into(),
        }]),
        Reply::news(vec![Article::default(), Article::default()]),
        Reply::TransferCustomerService { kf_account: None },
        Reply::TransferCustomerService {
            kf_account: Some("kf2001@gh_test".into()),
        },
    ]
}

#[tokio::test]
async fn every_reply_type_in_every_mode() {
    for (mode, seal) in [
        (Mode::Plaintext, Seal::Plain),
        (Mode::Compat, Seal::Compat),
        (Mode::Safe, Seal::Safe),
    ] {
        let (recorder, _) = Recorder::new(|msg: &Message| {
            let MessageBody::Text { content, .. } = &msg.body else {
                return None;
            };
            every_reply().into_iter().nth(content.parse().ok()?)
        });
        let callback = Callback::new(config(mode), recorder).unwrap();
        let server = start(Server::bind("127.0.0.1:0", callback).await.unwrap()).await;
        for (i, expected) in every_reply().into_iter().enumerate() {
            let request = push(seal, &text_xml(&i.to_string(), 1000 + i as u64), "nonce");
            let answer = post(server.addr, "/", &request).await;
            assert_eq!(answer.status, 200, "{}", answer.text());
            let reply = ReplyMessage::parse(open_answer(&answer.body).as_bytes()).unwrap();
            assert_eq!(reply.reply, expected, "{mode:?}");
        }
        // No reply: `success`, never encrypted.
        let request = push(seal, &text_xml("none", 999), "nonce");
        let answer = post(server.addr, "/", &request).await;
        assert_eq!((answer.status, answer.text()), (200, "success"));
        assert_eq!(
            answer.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }
}

/// Echoes a text message's content.
async fn echo(msg: Message) -> Option<Reply> {
    match msg.body {
        MessageBody::Text { content, .. } => Some(Reply::text(content)),
        _ => None,
    }
}

#[tokio::test]
async fn every_form_of_handler_answers_through_the_callback() {
    // Each form reaches the handler by its own way (a closure's own future, an `Arc` handing
    // over what it holds, the state, the router picking, a box using the trait's default).
    let forms: Vec<(&str, Callback)> = vec![
        (
            "handler_fn",
            Callback::new(config(Mode::Safe), handler_fn(echo)).unwrap(),
        ),
        (
            "Box<dyn Handler>",
            Callback::new(
                config(Mode::Safe),
                Box::new(handler_fn(echo)) as Box<dyn Handler>,
            )
            .unwrap(),
        ),
        (
            "Arc<H>",
            Callback::new(config(Mode::Safe), Arc::new(handler_fn(echo))).unwrap(),
        ),
        (
            "shared",
            Callback::with_shared_handler(config(Mode::Safe), Arc::new(handler_fn(echo))).unwrap(),
        ),
        (
            "state",
            Callback::new(
                config(Mode::Safe),
                Router::with_state(3usize).fallback(
                    |State(n): State<usize>, msg: Message| async move {
                        echo(msg).await.map(|_| Reply::text("x".repeat(*n)))
                    },
                ),
            )
            .unwrap(),
        ),
        (
            "nested routers",
            Callback::new(
                config(Mode::Safe),
                Router::new().fallback(Router::new().msg_type("text", echo)),
            )
            .unwrap(),
        ),
    ];
    for (form, callback) in forms {
        let p = push(Seal::Safe, &text_xml("xxx", 1), "n");
        let answer = callback
            .respond(&Method::POST, Some(&p.query), &p.body)
            .await;
        assert_eq!(answer.status(), 200, "{form}");
        let reply = ReplyMessage::parse(open_answer(answer.body()).as_bytes()).unwrap();
        assert_eq!(reply.reply, Reply::text("xxx"), "{form}");
    }
}
