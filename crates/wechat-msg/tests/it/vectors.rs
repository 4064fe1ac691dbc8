//! The official vectors of PROTOCOL.md §5, end to end through a loopback server.

use std::sync::Arc;

use wechat_client::ManualClock;
use wechat_crypto::MessageCrypto;
use wechat_msg::{Callback, CallbackConfig, Mode, Server, handler_fn};
use wechat_types::xml::{Event, Message, MessageBody, Reply, ReplyMessage};
use wechat_types::{AppId, EncodingAesKey, MsgId, ServerToken};

use crate::support::{Recorder, open_answer_with, send, start};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn echo_text(msg: &Message) -> Option<Reply> {
    match &msg.body {
        MessageBody::Text { content, .. } => Some(Reply::text(format!("echo: {content}"))),
        MessageBody::Event(event) => Some(Reply::text(format!("event: {}", event.name()))),
        _ => None,
    }
}

/// The V-C / V-D account: token `spamtest`, appid `wx2c2769f8efd9abc2`.
fn sample_account(now: i64, mode: Mode) -> (CallbackConfig, ServerToken, MessageCrypto) {
    let token = ServerToken::new("spamtest");
    let key = EncodingAesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
    let appid = AppId::new("wx2c2769f8efd9abc2");
    let config = CallbackConfig::new(token.clone())
        .crypto(key.clone(), appid.clone())
        .mode(mode)
        .clock(Arc::new(ManualClock::new(now)));
    (config, token, MessageCrypto::new(key, appid))
}

#[tokio::test]
async fn v_s_url_verification_echoes_iff_the_signature_holds() {
    let cases = [
        (
            "test",
            "1410685589",
            "test",
            "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff",
        ),
        (
            "AAAAA",
            "1714037059",
            "486452656",
            "899cf89e464efb63f54ddac96b0a0a235f53aa78",
        ),
    ];
    for (token, timestamp, nonce, signature) in cases {
        let config = CallbackConfig::new(ServerToken::new(token))
            .clock(Arc::new(ManualClock::new(timestamp.parse().unwrap())));
        let callback = Callback::new(config, handler_fn(|_| async { None })).unwrap();
        let server = start(
            Server::bind("127.0.0.1:0", callback)
                .await
                .unwrap()
                .path("/wechat"),
        )
        .await;

        let target = format!(
            "/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}&echostr=5927782489442352469"
        );
        let ok = send(server.addr, "GET", &target, b"").await;
        assert_eq!(ok.status, 200, "{}", ok.text());
        assert_eq!(ok.text(), "5927782489442352469");

        // One hex digit off (…fe for wechatpy's vector) must fail.
        let mut bad_signature = signature.to_owned();
        bad_signature.replace_range(39.., if signature.ends_with('f') { "e" } else { "f" });
        let target = format!(
            "/wechat?signature={bad_signature}&timestamp={timestamp}&nonce={nonce}&echostr=5927782489442352469"
        );
        let refused = send(server.addr, "GET", &target, b"").await;
        assert_eq!(refused.status, 403);
        assert!(!refused.text().contains("5927782489442352469"));
    }
}

#[tokio::test]
async fn v_c_compat_body_is_read_from_the_ciphertext_and_answered_encrypted() {
    let (config, token, crypto) = sample_account(1409735669, Mode::Compat);
    let (recorder, seen) = Recorder::new(echo_text);
    let callback = Callback::new(config, recorder).unwrap();
    let server = start(Server::bind("127.0.0.1:0", callback).await.unwrap()).await;

    let query = "signature=16120ec1b8dbb870f510d87ce6bc2463eae6ca1a&timestamp=1409735669&nonce=1320562132\
                 &openid=oyORnuP8q7ou2gfYjqLzSIWZf0rs&encrypt_type=aes&msg_signature=5d197aaffba7e9b25a30732f161a50dee96bd5fa";
    let answer = send(
        server.addr,
        "POST",
        &format!("/?{query}"),
        &fixture("v_c_compat_body.xml"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().starts_with("<xml><Encrypt><![CDATA["));

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].from, "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
    assert_eq!(seen[0].create_time, 1409735668);
    assert!(matches!(
        &seen[0].body,
        MessageBody::Text { content, msg_id: MsgId(6054768590064713728), .. } if content == "abcdteT"
    ));

    let reply =
        ReplyMessage::parse(open_answer_with(&token, &crypto, &answer.body).as_bytes()).unwrap();
    assert_eq!(reply.reply, Reply::text("echo: abcdteT"));
    assert_eq!(reply.to, "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
    assert_eq!(reply.from, "gh_10f6c3c3ac5a");
    assert_eq!(reply.create_time, 1409735669);
}

#[tokio::test]
async fn v_d_safe_body_decrypts_to_the_documented_message() {
    let (config, token, crypto) = sample_account(1410349438, Mode::Safe);
    let (recorder, seen) = Recorder::new(echo_text);
    let callback = Callback::new(config, recorder).unwrap();
    let server = start(Server::bind("127.0.0.1:0", callback).await.unwrap()).await;

    let signature = wechat_crypto::signature(&token, "1410349438", "298025754");
    let query = format!(
        "signature={signature}&timestamp=1410349438&nonce=298025754&encrypt_type=aes\
         &msg_signature=003fee52ecc56afb46c00b5c7721be87860ce785"
    );
    let answer = send(
        server.addr,
        "POST",
        &format!("/?{query}"),
        &fixture("v_d_safe_body.xml"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].from, "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
    assert_eq!(seen[0].create_time, 1410349438);
    assert!(matches!(
        &seen[0].body,
        MessageBody::Text { content, msg_id: MsgId(6057404712141979648), .. } if content == "abcdteT"
    ));
    let reply =
        ReplyMessage::parse(open_answer_with(&token, &crypto, &answer.body).as_bytes()).unwrap();
    assert_eq!(reply.reply, Reply::text("echo: abcdteT"));

    // The wrong appid for the same key: refused after a good msg_signature.
    let other = CallbackConfig::new(token.clone())
        .crypto(
            EncodingAesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap(),
            AppId::new("wxSomeoneElse"),
        )
        .mode(Mode::Safe)
        .clock(Arc::new(ManualClock::new(1410349438)));
    let callback = Callback::new(other, handler_fn(|_| async { panic!("must not run") })).unwrap();
    let server = start(Server::bind("127.0.0.1:0", callback).await.unwrap()).await;
    let refused = send(
        server.addr,
        "POST",
        &format!("/?{query}"),
        &fixture("v_d_safe_body.xml"),
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.text().starts_with("message is for another appid"),
        "{}",
        refused.text()
    );
}

#[tokio::test]
async fn v_e_official_example_with_its_exact_query() {
    let token = ServerToken::new("AAAAA");
    let key = EncodingAesKey::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
    let appid = AppId::new("wx134c8103faa5a59e");
    let crypto = MessageCrypto::new(key.clone(), appid.clone());
    let config = CallbackConfig::new(token.clone())
        .crypto(key, appid)
        .mode(Mode::Safe)
        .clock(Arc::new(ManualClock::new(1715943329)));
    let (recorder, seen) = Recorder::new(echo_text);
    let callback = Callback::new(config, recorder).unwrap();
    let server = start(
        Server::bind("127.0.0.1:0", callback)
            .await
            .unwrap()
            .path("/wechat"),
    )
    .await;

    let query = String::from_utf8(fixture("v_e_query.txt")).unwrap();
    let answer = send(
        server.addr,
        "POST",
        &format!("/wechat?{}", query.trim()),
        &fixture("v_e_safe_body.xml"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].to, "gh_97417a04a28d");
    assert_eq!(seen[0].from, "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
    let MessageBody::Event(Event::Unknown { event, raw }) = &seen[0].body else {
        panic!(
            "debug_demo is an event this crate does not know: {:?}",
            seen[0].body
        );
    };
    assert_eq!(event, "debug_demo");
    assert_eq!(raw.child_text("debug_str"), Some("hello world"));

    let reply =
        ReplyMessage::parse(open_answer_with(&token, &crypto, &answer.body).as_bytes()).unwrap();
    assert_eq!(reply.reply, Reply::text("event: debug_demo"));
    assert_eq!(reply.to, "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
    assert_eq!(reply.from, "gh_97417a04a28d");

    // The same request an hour later is stale.
    let late = CallbackConfig::new(token)
        .crypto(
            EncodingAesKey::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap(),
            AppId::new("wx134c8103faa5a59e"),
        )
        .clock(Arc::new(ManualClock::new(1715943329 + 3600)));
    let callback = Callback::new(late, handler_fn(|_| async { panic!("must not run") })).unwrap();
    let server = start(Server::bind("127.0.0.1:0", callback).await.unwrap()).await;
    let refused = send(
        server.addr,
        "POST",
        &format!("/?{}", query.trim()),
        &fixture("v_e_safe_body.xml"),
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(
        refused
            .text()
            .starts_with("timestamp 1715943329 is outside"),
        "{}",
        refused.text()
    );
}
