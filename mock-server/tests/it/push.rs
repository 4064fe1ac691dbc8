//! Pushing messages to a callback as WeChat does: the handshake, each mode, the three tries, and
//! every diagnosis of a wrong answer.

use std::time::Duration;

use wechat_crypto::MessageCrypto;
use wechat_mock::{
    CallbackMode, EntryKind, MockApp, MockServer, PushError, PushOutcome, SERVICE_UNAVAILABLE,
    UserAction,
};
use wechat_types::api::CustomMessage;
use wechat_types::xml::{Event, Message, MessageBody, PassiveReply, Reply, ReplyMessage};
use wechat_types::{OpenId, ServerToken};

use crate::callback::{Answer, Callback, reply_xml};
use crate::support::START;

const MODES: [CallbackMode; 3] = [
    CallbackMode::Plaintext,
    CallbackMode::Compat,
    CallbackMode::Safe,
];

/// A mock with a short push timeout, so slow-callback tests take a second, not fifteen.
async fn mock() -> MockServer {
    MockServer::builder()
        .frozen_clock(START)
        .push_timeout(Duration::from_millis(300))
        .start()
        .await
}

fn echo(_: usize, message: &Message) -> Answer {
    match &message.body {
        MessageBody::Text { content, .. } => Answer::Reply(Reply::text(format!("echo: {content}"))),
        MessageBody::Event(event) => Answer::Reply(Reply::text(format!(
            "event: {} {:?}",
            event.name(),
            event.key()
        ))),
        _ => Answer::Raw(200, "success".into()),
    }
}

fn reply_text(outcome: &PushOutcome) -> String {
    assert_eq!(outcome.problem, None, "{outcome:?}");
    match &outcome.reply {
        Some(PassiveReply::Message(message)) => match &message.reply {
            Reply::Text { content } => content.clone(),
            other => panic!("not a text reply: {other:?}"),
        },
        other => panic!("no reply message: {other:?}"),
    }
}

fn user(mock: &MockServer) -> OpenId {
    mock.users()[0].openid.clone()
}

/// A mock whose callback answers with `on_push`, in `mode`.
async fn wired(
    mode: CallbackMode,
    on_push: impl Fn(usize, &Message) -> Answer + Send + Sync + 'static,
) -> (MockServer, Callback) {
    let mock = mock().await;
    let callback = Callback::start(&mock.app(), on_push).await;
    mock.set_callback(&callback.url, mode).await.unwrap();
    (mock, callback)
}

#[tokio::test]
async fn the_handshake_stores_url_and_mode_only_when_the_echo_matches() {
    let mock = mock().await;
    let app = mock.app();
    let callback = Callback::start(&app, echo).await;
    mock.set_callback(&callback.url, CallbackMode::Safe)
        .await
        .unwrap();
    assert_eq!(
        mock.app().callback_url.as_deref(),
        Some(callback.url.as_str())
    );
    assert_eq!(mock.app().callback_mode, CallbackMode::Safe);
    let hit = &callback.hits()[0];
    assert_eq!(hit.method, http::Method::GET);
    for name in ["signature", "timestamp", "nonce", "echostr"] {
        assert!(hit.query.contains_key(name), "{name} in {:?}", hit.query);
    }
    assert_eq!(hit.query["timestamp"], START.to_string());

    // A server with another Token answers its error text instead of the echo.
    let other = MockApp::demo().with_token(ServerToken::new("not-the-token"));
    let wrong_token = Callback::start(&other, echo).await;
    let err = mock
        .set_callback(&wrong_token.url, CallbackMode::Plaintext)
        .await
        .unwrap_err();
    assert!(matches!(err, PushError::EchoMismatch { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("token verification failed: callback answered \"invalid signature\""),
        "{text}"
    );
    assert!(text.contains("Token"), "{text}");
    // Nothing changed.
    assert_eq!(
        mock.app().callback_url.as_deref(),
        Some(callback.url.as_str())
    );
    assert_eq!(mock.app().callback_mode, CallbackMode::Safe);

    // An echo with a trailing newline is not the echo.
    let newline = Callback::start_with(&app, echo, |e| (200, format!("{e}\n"))).await;
    let err = mock
        .set_callback(&newline.url, CallbackMode::Plaintext)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no quotes, spaces or newline"),
        "{err}"
    );

    let failing = Callback::start_with(&app, echo, |_| (500, "oops".into())).await;
    let err = mock
        .set_callback(&failing.url, CallbackMode::Plaintext)
        .await
        .unwrap_err();
    assert!(matches!(err, PushError::Status { status: 500 }), "{err:?}");

    let slow = Callback::start_with(&app, echo, |e| {
        std::thread::sleep(Duration::from_millis(600));
        (200, e.to_owned())
    })
    .await;
    let err = mock
        .set_callback(&slow.url, CallbackMode::Plaintext)
        .await
        .unwrap_err();
    assert!(matches!(err, PushError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("within 300 ms"), "{err}");

    let gone = format!("http://{}/wechat", free_address().await);
    let err = mock
        .set_callback(&gone, CallbackMode::Plaintext)
        .await
        .unwrap_err();
    assert!(matches!(err, PushError::Unreachable { .. }), "{err:?}");

    for (url, check) in [
        ("https://example.com/wechat", "not plain http"),
        ("/wechat", "not an absolute http URL"),
    ] {
        let err = mock
            .set_callback(url, CallbackMode::Plaintext)
            .await
            .unwrap_err();
        assert!(err.to_string().contains(check), "{err}");
    }
    assert_eq!(
        mock.app().callback_url.as_deref(),
        Some(callback.url.as_str())
    );
}

/// An address nothing listens on.
async fn free_address() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn text_round_trips_in_every_mode() {
    for mode in MODES {
        let (mock, callback) = wired(mode, echo).await;
        let openid = user(&mock);
        let outcome = mock.push(&openid, UserAction::text("你好 ]]> <b>")).await;
        assert_eq!(reply_text(&outcome), "echo: 你好 ]]> <b>", "{mode}");
        assert_eq!(outcome.attempts, 1);
        assert!(outcome.msg_id.is_some());

        let push = &callback.pushes()[0];
        let message = push.message.as_ref().unwrap();
        assert_eq!(message.to, mock.app().account_id);
        assert_eq!(message.from, openid);
        assert_eq!(message.create_time, START);
        assert_eq!(message.body.msg_id(), outcome.msg_id);
        assert_eq!(push.query["openid"], openid.as_str());
        assert_eq!(push.query["timestamp"], START.to_string());
        // What goes over the wire in each mode.
        match mode {
            CallbackMode::Plaintext => {
                assert!(!push.query.contains_key("encrypt_type"));
                assert!(push.body.contains("<Content>") && !push.body.contains("<Encrypt>"));
            }
            CallbackMode::Compat => {
                assert_eq!(push.query["encrypt_type"], "aes");
                assert!(push.body.contains("<Content>") && push.body.contains("<Encrypt>"));
            }
            _ => {
                assert_eq!(push.query["encrypt_type"], "aes");
                assert!(!push.body.contains("<Content>") && push.body.contains("<Encrypt>"));
                assert!(push.body.contains(mock.app().account_id.as_str()));
            }
        }
        let conversation = mock.conversation(&openid);
        assert_eq!(conversation.len(), 2, "{conversation:?}");
        assert!(
            matches!(&conversation[0].kind, EntryKind::UserSent(MessageBody::Text { content, .. }) if content == "你好 ]]> <b>")
        );
        assert_eq!(
            conversation[1].kind,
            EntryKind::PassiveReply(Reply::text("echo: 你好 ]]> <b>"))
        );
        assert!(conversation[0].seq < conversation[1].seq);
    }
}

#[tokio::test]
async fn events_round_trip_in_every_mode_and_follow_state_follows() {
    for mode in MODES {
        let (mock, callback) = wired(mode, echo).await;
        let openid = user(&mock);
        let text = reply_text(&mock.push(&openid, UserAction::click("V1001_HELLO")).await);
        assert_eq!(text, "event: CLICK Some(\"V1001_HELLO\")", "{mode}");

        let text = reply_text(&mock.push(&openid, UserAction::unsubscribe()).await);
        assert_eq!(text, "event: unsubscribe None");
        assert!(!mock.users()[0].subscribed, "unsubscribe unfollows");

        let text = reply_text(
            &mock
                .push(&openid, UserAction::subscribe(Some("poster42")))
                .await,
        );
        assert_eq!(text, "event: subscribe Some(\"qrscene_poster42\")");
        assert!(mock.users()[0].subscribed, "subscribe follows");

        let outcome = mock
            .push(&openid, UserAction::location(23.1, 113.3, "广州塔"))
            .await;
        assert_eq!(outcome.reply, Some(PassiveReply::Success));
        assert_eq!(outcome.problem, None);

        let pushed: Vec<Message> = callback
            .pushes()
            .into_iter()
            .map(|h| h.message.unwrap())
            .collect();
        assert!(matches!(
            &pushed[2].body,
            MessageBody::Event(Event::Subscribe { scene: Some(s), ticket: Some(_) }) if s.0 == "poster42"
        ));
        assert!(
            matches!(&pushed[3].body, MessageBody::Location { label, .. } if label == "广州塔")
        );
    }
}

#[tokio::test]
async fn a_slow_callback_gets_three_tries_with_the_same_message() {
    let slow = |_: usize, _: &Message| {
        Answer::Sleep(
            Duration::from_secs(2),
            Box::new(Answer::Raw(200, "success".into())),
        )
    };
    let (mock, callback) = wired(CallbackMode::Safe, slow).await;
    let openid = user(&mock);
    let outcome = mock.push(&openid, UserAction::text("hello?")).await;
    assert_eq!(outcome.attempts, 3);
    assert_eq!(outcome.reply, None);
    assert_eq!(
        outcome.problem.as_deref(),
        Some("callback timed out after 300 ms (3 tries)")
    );
    assert_eq!(outcome.notice.as_deref(), Some(SERVICE_UNAVAILABLE));
    let pushes = callback.pushes();
    assert_eq!(pushes.len(), 3);
    let messages: Vec<Message> = pushes.iter().map(|h| h.message.clone().unwrap()).collect();
    assert!(
        messages.iter().all(|m| m == &messages[0]),
        "same MsgId and CreateTime: {messages:?}"
    );

    let kinds: Vec<EntryKind> = mock
        .conversation(&openid)
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(matches!(kinds[0], EntryKind::UserSent(_)));
    assert_eq!(
        kinds[1..],
        [
            EntryKind::Problem("callback timed out after 300 ms (3 tries)".into()),
            EntryKind::Notice(SERVICE_UNAVAILABLE.into()),
        ]
    );
}

#[tokio::test]
async fn a_retry_that_succeeds_is_accepted() {
    let first_slow = |index: usize, message: &Message| {
        let reply = Answer::Reply(Reply::text(format!("try {}", index + 1)));
        if index == 0 {
            Answer::Sleep(Duration::from_secs(1), Box::new(reply))
        } else {
            let _ = message;
            reply
        }
    };
    let (mock, callback) = wired(CallbackMode::Compat, first_slow).await;
    let outcome = mock.push(&user(&mock), UserAction::text("x")).await;
    assert_eq!(outcome.attempts, 2);
    assert_eq!(reply_text(&outcome), "try 2");
    assert_eq!(callback.pushes().len(), 2);
}

#[tokio::test]
async fn server_errors_are_retried_and_client_errors_are_not() {
    let (mock, callback) = wired(CallbackMode::Plaintext, |_, _| {
        Answer::Raw(500, "boom".into())
    })
    .await;
    let outcome = mock.push(&user(&mock), UserAction::text("x")).await;
    assert_eq!(outcome.attempts, 3);
    assert_eq!(
        outcome.problem.as_deref(),
        Some("callback answered HTTP 500 (3 tries)")
    );
    assert_eq!(callback.pushes().len(), 3);

    let (mock, callback) = wired(CallbackMode::Plaintext, |_, _| Answer::Raw(404, "".into())).await;
    let outcome = mock.push(&user(&mock), UserAction::text("x")).await;
    assert_eq!(outcome.attempts, 1);
    assert_eq!(
        outcome.problem.as_deref(),
        Some("callback answered HTTP 404")
    );
    assert_eq!(callback.pushes().len(), 1);
}

#[tokio::test]
async fn an_unreachable_callback_is_tried_three_times() {
    let gone = format!("http://{}/wechat", free_address().await);
    // Configured without a handshake, as a config file or the binary's flag does.
    let mock = MockServer::builder()
        .app(MockApp::demo().with_callback_url(gone.as_str()))
        .push_timeout(Duration::from_millis(300))
        .start()
        .await;
    let outcome = mock.push(&user(&mock), UserAction::text("x")).await;
    assert_eq!(outcome.attempts, 3);
    let problem = outcome.problem.unwrap();
    assert!(
        problem.starts_with(&format!("cannot reach the callback {gone}: "))
            && problem.ends_with("(3 tries)"),
        "{problem}"
    );
}

/// Each way a reply can be wrong, and the diagnosis WeChat's behaviour deserves.
#[tokio::test]
async fn every_wrong_reply_gets_its_diagnosis() {
    let app = MockApp::demo();
    let crypto = MessageCrypto::new(app.aes_key.clone(), app.appid.clone());
    let other_appid = MessageCrypto::new(app.aes_key.clone(), "wx0000000000000000".into());
    let token = app.token.clone();
    let gh = app.account_id.clone();
    type Build = Box<dyn Fn(&Message) -> String + Send + Sync>;
    let cases: Vec<(CallbackMode, &str, Build)> = vec![
        (
            CallbackMode::Safe,
            "reply is not encrypted but the account is in safe mode",
            Box::new(|m| reply_xml(m, Reply::text("plain"))),
        ),
        (
            CallbackMode::Safe,
            "reply MsgSignature does not match",
            Box::new({
                let crypto = crypto.clone();
                move |m| {
                    crypto.encrypt_reply(
                        &ServerToken::new("wrong"),
                        &reply_xml(m, Reply::text("x")),
                        1,
                        "n",
                    )
                }
            }),
        ),
        (
            CallbackMode::Compat,
            "reply is encrypted for appid \"wx0000000000000000\", expected wx4d0c0ffee5eed001",
            Box::new({
                let token = token.clone();
                move |m| other_appid.encrypt_reply(&token, &reply_xml(m, Reply::text("x")), 1, "n")
            }),
        ),
        (
            CallbackMode::Plaintext,
            "reply ToUserName is \"oSomeoneElse\", expected the user's openid",
            Box::new(|m| {
                ReplyMessage {
                    to: "oSomeoneElse".into(),
                    from: m.to.clone(),
                    create_time: 1,
                    reply: Reply::text("x"),
                }
                .to_xml()
            }),
        ),
        (
            CallbackMode::Safe,
            "reply FromUserName is \"gh_x\", expected the account's original ID gh_0c0ffee5eed1",
            Box::new({
                let crypto = crypto.clone();
                let token = token.clone();
                move |m| {
                    let xml = ReplyMessage {
                        to: m.from.clone(),
                        from: "gh_x".into(),
                        create_time: 1,
                        reply: Reply::text("x"),
                    }
                    .to_xml();
                    crypto.encrypt_reply(&token, &xml, 1, "n")
                }
            }),
        ),
        (
            CallbackMode::Plaintext,
            "reply is not well-formed XML",
            Box::new(|_| "<xml><ToUserName>oops</xml>".into()),
        ),
        (
            CallbackMode::Compat,
            "reply is JSON",
            Box::new(|_| r#"{"errcode":0,"reply":"hi"}"#.into()),
        ),
        (
            CallbackMode::Plaintext,
            "reply has no <MsgType>",
            Box::new(move |m| {
                format!(
                    "<xml><ToUserName>{}</ToUserName><FromUserName>{gh}</FromUserName><CreateTime>1</CreateTime></xml>",
                    m.from
                )
            }),
        ),
    ];
    for (mode, expected, build) in cases {
        let build = std::sync::Arc::new(build);
        let (mock, callback) = wired(mode, {
            let build = std::sync::Arc::clone(&build);
            move |_, m| Answer::Raw(200, build(m))
        })
        .await;
        let openid = user(&mock);
        let outcome = mock.push(&openid, UserAction::text("hi")).await;
        let problem = outcome.problem.clone().unwrap_or_default();
        assert!(
            problem.starts_with(expected),
            "{mode}: expected {expected:?}, got {problem:?}"
        );
        assert!(!problem.contains('\n'), "one line: {problem:?}");
        assert_eq!(outcome.attempts, 1, "a wrong reply is not retried");
        assert_eq!(outcome.reply, None);
        assert_eq!(outcome.notice.as_deref(), Some(SERVICE_UNAVAILABLE));
        assert_eq!(callback.pushes().len(), 1);
        let last_two: Vec<EntryKind> = mock
            .conversation(&openid)
            .into_iter()
            .rev()
            .take(2)
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            last_two,
            [
                EntryKind::Notice(SERVICE_UNAVAILABLE.into()),
                EntryKind::Problem(problem),
            ]
        );
    }
}

#[tokio::test]
async fn success_empty_and_plain_replies_in_compat_mode_are_accepted() {
    let answers = |index: usize, m: &Message| match index {
        0 => Answer::Raw(200, "success".into()),
        1 => Answer::Raw(200, String::new()),
        2 => Answer::PlainReply(Reply::text("plain in compat")),
        _ => Answer::Reply(Reply::text(format!("encrypted for {}", m.from))),
    };
    let (mock, _callback) = wired(CallbackMode::Compat, answers).await;
    let openid = user(&mock);
    let outcomes = [
        mock.push(&openid, UserAction::text("1")).await,
        mock.push(&openid, UserAction::text("2")).await,
        mock.push(&openid, UserAction::text("3")).await,
        mock.push(&openid, UserAction::text("4")).await,
    ];
    assert_eq!(outcomes[0].reply, Some(PassiveReply::Success));
    assert_eq!(outcomes[1].reply, Some(PassiveReply::Empty));
    assert_eq!(reply_text(&outcomes[2]), "plain in compat");
    assert_eq!(reply_text(&outcomes[3]), format!("encrypted for {openid}"));
}

#[tokio::test]
async fn the_conversation_keeps_custom_service_messages_in_order() {
    let mock = mock().await;
    let service = mock.service();
    let token = mock.issue_access_token();
    let openid = user(&mock);
    // The callback sends the real answer through the custom-service API while the push is still
    // in flight, then answers `success`, as a slow handler's fallback does.
    let callback = Callback::start(&mock.app(), move |_, m: &Message| {
        let service = service.clone();
        let body = serde_json::to_vec(&CustomMessage::text(
            m.from.clone(),
            "later, via custom/send",
        ))
        .unwrap();
        let uri = format!(
            "/cgi-bin/message/custom/send?access_token={}",
            token.expose_secret()
        );
        let send = async move {
            let request = http::Request::post(uri)
                .body(bytes::Bytes::from(body))
                .unwrap();
            let answer = service.handle(request).await;
            assert_eq!(&answer.body()[..], br#"{"errcode":0,"errmsg":"ok"}"#);
        };
        Answer::After(Box::pin(send), Box::new(Answer::Raw(200, "success".into())))
    })
    .await;
    mock.set_callback(&callback.url, CallbackMode::Safe)
        .await
        .unwrap();

    let outcome = mock.push(&openid, UserAction::text("slow please")).await;
    assert_eq!(outcome.reply, Some(PassiveReply::Success));
    let conversation = mock.conversation(&openid);
    let kinds: Vec<&EntryKind> = conversation.iter().map(|e| &e.kind).collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(matches!(kinds[0], EntryKind::UserSent(_)));
    assert_eq!(
        kinds[1],
        &EntryKind::CustomService(CustomMessage::text(
            openid.clone(),
            "later, via custom/send"
        ))
    );
    assert_eq!(mock.custom_messages_to(&openid).len(), 1);
    let seqs: Vec<u64> = conversation.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn pushes_without_a_callback_or_user_say_so() {
    let mock = mock().await;
    let openid = user(&mock);
    let outcome = mock.push(&openid, UserAction::text("anyone?")).await;
    assert_eq!(outcome.attempts, 0);
    assert!(
        outcome
            .problem
            .unwrap()
            .starts_with("the account has no callback URL")
    );
    assert_eq!(
        outcome.notice, None,
        "WeChat shows nothing: the message just has no developer"
    );
    assert_eq!(mock.conversation(&openid).len(), 2);

    let outcome = mock.push(&"oNobody".into(), UserAction::text("x")).await;
    assert_eq!(outcome.attempts, 0);
    assert_eq!(
        outcome.problem.as_deref(),
        Some("there is no fake user oNobody")
    );
    assert!(mock.conversation(&"oNobody".into()).is_empty());
}

/// Sends a custom-service text through the API, with a fresh token: the errcode.
async fn custom_send(mock: &MockServer, openid: &OpenId) -> i64 {
    let body = serde_json::to_vec(&CustomMessage::text(openid.clone(), "hi")).unwrap();
    let request = http::Request::post(format!(
        "/cgi-bin/message/custom/send?access_token={}",
        mock.issue_access_token().expose_secret()
    ))
    .body(bytes::Bytes::from(body))
    .unwrap();
    let answer: serde_json::Value =
        serde_json::from_slice(mock.handle(request).await.body()).unwrap();
    answer["errcode"].as_i64().unwrap()
}

#[tokio::test]
async fn a_push_opens_the_custom_service_window() {
    let (mock, _callback) = wired(CallbackMode::Plaintext, echo).await;
    let openid = user(&mock);
    // Two days later the window every fake user starts with has closed.
    mock.advance_clock(49 * 3600);
    assert_eq!(custom_send(&mock, &openid).await, 45015);
    mock.push(&openid, UserAction::text("back again")).await;
    assert_eq!(custom_send(&mock, &openid).await, 0);
    // Unfollowing closes it for good.
    mock.push(&openid, UserAction::unsubscribe()).await;
    assert_eq!(custom_send(&mock, &openid).await, 45015);
}
