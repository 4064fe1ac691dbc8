//! Fake users message the demo account through wechat-mock, which delivers each push to the
//! demo's callback URL exactly as WeChat would and checks the answer.

use std::time::Duration;

use serde_json::Value;
use wechat_demo::DemoConfig;
use wechat_demo::account::menu::{KEY_HELLO, PROFILE_BUTTON};
use wechat_mock::{CallbackMode, EntryKind, PushOutcome, UserAction};
use wechat_types::api::CustomMessageBody;
use wechat_types::xml::{PassiveReply, Reply};

use crate::support::{start, start_with};

/// The text of a passive text reply, after checking the push went through cleanly.
fn reply_text(outcome: &PushOutcome) -> String {
    assert_eq!(outcome.problem, None, "{outcome:?}");
    assert_eq!(outcome.attempts, 1, "{outcome:?}");
    match &outcome.reply {
        Some(PassiveReply::Message(message)) => match &message.reply {
            Reply::Text { content } => content.clone(),
            other => panic!("expected a text reply, got {other:?}"),
        },
        other => panic!("expected a passive reply, got {other:?}"),
    }
}

#[tokio::test]
async fn text_is_echoed_in_every_mode() {
    for mode in [
        CallbackMode::Plaintext,
        CallbackMode::Compat,
        CallbackMode::Safe,
    ] {
        let demo = start_with(DemoConfig::ephemeral().with_mode(mode)).await;
        let user = demo.mock().users()[0].openid.clone();
        let outcome = demo
            .mock()
            .push(&user, UserAction::text("你好, demo"))
            .await;
        assert_eq!(
            reply_text(&outcome),
            "You said: 你好, demo",
            "{mode:?} mode"
        );
    }
}

#[tokio::test]
async fn followers_are_greeted_with_their_scene() {
    let demo = start().await;
    let user = demo.mock().users()[2].openid.clone();

    let plain = reply_text(&demo.mock().push(&user, UserAction::subscribe(None)).await);
    assert!(plain.starts_with("Thanks for following"), "{plain}");

    let from_poster = demo
        .mock()
        .push(&user, UserAction::subscribe(Some("poster42")))
        .await;
    let text = reply_text(&from_poster);
    assert!(text.contains("scene \"poster42\""), "{text}");
}

#[tokio::test]
async fn the_menu_was_created_through_the_api_with_the_profile_button() {
    let demo = start().await;
    let token = demo.mock().issue_access_token();
    let request = http::Request::get(format!(
        "/cgi-bin/menu/get?access_token={}",
        token.expose_secret()
    ))
    .body(bytes::Bytes::new())
    .unwrap();
    let answer = demo.mock().handle(request).await;
    let menu: Value = serde_json::from_slice(answer.body()).unwrap();
    let buttons = menu["menu"]["button"].as_array().expect("a menu");
    let profile = &buttons[0];
    assert_eq!(profile["name"], PROFILE_BUTTON);
    assert_eq!(profile["type"], "view");
    assert_eq!(profile["url"], demo.profile_url().as_str());
    assert!(
        buttons
            .iter()
            .any(|b| b["type"] == "click" && b["key"] == KEY_HELLO),
        "{menu}"
    );
    let group: Vec<&str> = buttons
        .iter()
        .flat_map(|b| b["sub_button"].as_array().into_iter().flatten())
        .filter_map(|b| b["type"].as_str())
        .collect();
    assert!(group.contains(&"scancode_waitmsg"), "{group:?}");
    assert!(group.contains(&"location_select"), "{group:?}");

    // Tapping "Hello" is answered.
    let user = demo.mock().users()[0].openid.clone();
    let hello = reply_text(&demo.mock().push(&user, UserAction::click(KEY_HELLO)).await);
    assert!(hello.starts_with("Hello"), "{hello}");
}

#[tokio::test]
async fn a_slow_answer_arrives_through_the_custom_service_api() {
    let demo = start().await;
    let user = demo.mock().users()[0].openid.clone();

    // The handler takes 6 s; the callback answers `success` within WeChat's 5 s, so WeChat
    // neither retries nor tells the user the account is down.
    let outcome = demo.mock().push(&user, UserAction::text("slow")).await;
    assert_eq!(outcome.problem, None, "{outcome:?}");
    assert_eq!(outcome.attempts, 1, "{outcome:?}");
    assert!(
        matches!(
            outcome.reply,
            Some(PassiveReply::Success | PassiveReply::Empty) | None
        ),
        "{outcome:?}"
    );

    // The real answer follows through message/custom/send, into the user's conversation.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let answer = loop {
        let late = demo
            .mock()
            .conversation(&user)
            .into_iter()
            .find_map(|entry| match entry.kind {
                EntryKind::CustomService(message) => Some(message),
                _ => None,
            });
        if let Some(message) = late {
            break message;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no custom-service message within 20 s: {:?}",
            demo.mock().conversation(&user)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(answer.touser, user);
    match answer.body {
        CustomMessageBody::Text { text } => {
            assert!(text.content.starts_with("Sorry for the wait"), "{text:?}")
        }
        other => panic!("expected a text message, got {other:?}"),
    }
    assert_eq!(demo.mock().custom_messages_to(&user).len(), 1);
}
