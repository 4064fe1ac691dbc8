//! What the account answers: a [`wechat_msg::Router`] of small handlers.

use std::time::Duration;

use wechat_msg::{Router, State};
use wechat_types::xml::{Article, Event, Message, MessageBody, Reply};

use super::menu::{KEY_HELLO, KEY_LOCATION, KEY_SCAN_PUSH, KEY_SCAN_WAIT, KEY_SLOW};

/// What the handlers need to know.
#[derive(Debug)]
pub(crate) struct Bot {
    /// `http://host:port` of the account's web pages.
    pub(crate) public_url: String,
    /// How long the slow command takes: longer than WeChat's 5 seconds, so that the answer goes
    /// out through the custom-service API.
    pub(crate) slow_delay: Duration,
}

/// The text of the help message; also the tail of the subscribe greeting.
const HELP: &str = "Send any text and I echo it. Try \"slow\" (an answer that misses WeChat's \
                    5-second window and comes back as a custom-service message), \"news\" (a \
                    card), or the menu below: \"My profile\" signs you in with WeChat.";

/// The account's routes, first match wins.
pub(crate) fn router(bot: Bot) -> Router<Bot> {
    Router::with_state(bot)
        .when(is_slow_command, slow)
        .when(
            |msg| text_is(msg, "help"),
            |_msg: Message| async { Some(Reply::text(HELP)) },
        )
        .when(|msg| text_is(msg, "news"), news)
        .event("subscribe", greet)
        // Nothing to say to someone who left (and WeChat would not deliver it).
        .event("unsubscribe", |_msg: Message| async { None })
        .event("SCAN", scanned_qr)
        // Opening the profile page and the periodic location report need no answer.
        .event("VIEW", |_msg: Message| async { None })
        .event("LOCATION", |_msg: Message| async { None })
        .menu(KEY_HELLO, |_msg: Message| async {
            Some(Reply::text("Hello from the wechat-rs demo account! 👋"))
        })
        .menu(KEY_SLOW, slow)
        .menu(KEY_SCAN_WAIT, scanned_code)
        .menu(KEY_SCAN_PUSH, scanned_code)
        .menu(KEY_LOCATION, picked_location)
        .msg_type("text", echo)
        .msg_type("location", sent_location)
        .msg_type("image", |_msg: Message| async {
            Some(Reply::text("Nice picture! (The demo only echoes text.)"))
        })
        .fallback(|msg: Message| async move {
            Some(Reply::text(format!(
                "Got a {} message. {HELP}",
                msg.body.msg_type()
            )))
        })
}

fn text_of(msg: &Message) -> Option<&str> {
    match &msg.body {
        MessageBody::Text { content, .. } => Some(content.trim()),
        _ => None,
    }
}

fn text_is(msg: &Message, command: &str) -> bool {
    text_of(msg).is_some_and(|text| text.eq_ignore_ascii_case(command))
}

fn is_slow_command(msg: &Message) -> bool {
    text_is(msg, "slow")
}

/// The seed behaviour: say back what the user said.
async fn echo(msg: Message) -> Option<Reply> {
    let text = text_of(&msg)?;
    Some(Reply::text(format!("You said: {text}")))
}

/// Takes longer than WeChat waits. wechat-msg answers the push with `success` once the reply
/// budget is spent and sends this reply later through the custom-service API.
async fn slow(bot: State<Bot>, _msg: Message) -> Option<Reply> {
    tokio::time::sleep(bot.slow_delay).await;
    Some(Reply::text(format!(
        "Sorry for the wait: this answer took {} s, longer than the 5 s WeChat waits for a \
         passive reply, so it came through the custom-service API.",
        bot.slow_delay.as_secs()
    )))
}

async fn greet(msg: Message) -> Option<Reply> {
    let scene = match &msg.body {
        MessageBody::Event(Event::Subscribe { scene, .. }) => scene.clone(),
        _ => None,
    };
    let welcome = match scene {
        Some(scene) => format!(
            "Thanks for following the wechat-rs demo! You came through the QR code of scene \
             \"{}\".",
            scene.as_str()
        ),
        None => "Thanks for following the wechat-rs demo!".to_owned(),
    };
    Some(Reply::text(format!("{welcome} {HELP}")))
}

async fn scanned_qr(msg: Message) -> Option<Reply> {
    let MessageBody::Event(Event::Scan { scene, .. }) = &msg.body else {
        return None;
    };
    Some(Reply::text(format!(
        "Welcome back! You scanned the QR code of scene \"{}\".",
        scene.as_str()
    )))
}

async fn scanned_code(msg: Message) -> Option<Reply> {
    let scan = match &msg.body {
        MessageBody::Event(Event::ScancodeWaitmsg { scan, .. })
        | MessageBody::Event(Event::ScancodePush { scan, .. }) => scan,
        // The button's CLICK-like tap without a result: nothing scanned yet.
        _ => return None,
    };
    Some(Reply::text(format!(
        "You scanned a {}: {}",
        if scan.scan_type.is_empty() {
            "code"
        } else {
            &scan.scan_type
        },
        scan.scan_result
    )))
}

async fn picked_location(msg: Message) -> Option<Reply> {
    let MessageBody::Event(Event::LocationSelect { location, .. }) = &msg.body else {
        return None;
    };
    let place = location.poiname.as_deref().unwrap_or(&location.label);
    Some(Reply::text(format!(
        "You picked {place} ({:.4}, {:.4}).",
        location.latitude, location.longitude
    )))
}

async fn sent_location(msg: Message) -> Option<Reply> {
    let MessageBody::Location {
        latitude,
        longitude,
        label,
        ..
    } = &msg.body
    else {
        return None;
    };
    Some(Reply::text(format!(
        "You are at {label} ({latitude:.4}, {longitude:.4})."
    )))
}

/// A news card that opens the profile page.
async fn news(bot: State<Bot>, _msg: Message) -> Option<Reply> {
    Some(Reply::news(vec![Article {
        title: "Your WeChat profile".to_owned(),
        description: "Sign in with WeChat web authorization and see what the account learns."
            .to_owned(),
        pic_url: format!("{}/static/cover.svg", bot.public_url),
        url: format!("{}/profile", bot.public_url),
    }]))
}

#[cfg(test)]
mod tests {
    use wechat_msg::Handler as _;
    use wechat_types::xml::{ScanCodeInfo, Scene};
    use wechat_types::{AccountId, MsgId, OpenId};

    use super::*;

    fn bot() -> Router<Bot> {
        router(Bot {
            public_url: "http://demo.test".to_owned(),
            slow_delay: Duration::from_millis(10),
        })
    }

    fn message(body: MessageBody) -> Message {
        Message {
            to: AccountId::new("gh_demo"),
            from: OpenId::new("oUser"),
            create_time: 1_700_000_000,
            body,
        }
    }

    fn text(content: &str) -> Message {
        message(MessageBody::Text {
            content: content.to_owned(),
            msg_id: MsgId(1),
            msg_data_id: None,
            idx: None,
        })
    }

    fn text_reply(reply: Option<Reply>) -> String {
        match reply {
            Some(Reply::Text { content }) => content,
            other => panic!("expected a text reply, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn echoes_text_and_answers_commands() {
        let bot = bot();
        assert_eq!(
            text_reply(bot.handle(&text("你好 there")).await),
            "You said: 你好 there"
        );
        assert!(text_reply(bot.handle(&text(" HELP ")).await).contains("slow"));
        assert!(text_reply(bot.handle(&text("slow")).await).starts_with("Sorry for the wait"));
        match bot.handle(&text("news")).await {
            Some(Reply::News { articles }) => {
                assert_eq!(articles.len(), 1);
                assert_eq!(articles[0].url, "http://demo.test/profile");
            }
            other => panic!("expected a news card, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn greets_with_the_scene_and_answers_menu_events() {
        let bot = bot();
        let follow = |scene: Option<&str>| {
            message(MessageBody::Event(Event::Subscribe {
                scene: scene.map(|s| Scene(s.to_owned())),
                ticket: None,
            }))
        };
        let plain = text_reply(bot.handle(&follow(None)).await);
        assert!(plain.starts_with("Thanks for following"), "{plain}");
        assert!(!plain.contains("scene"), "{plain}");
        let from_qr = text_reply(bot.handle(&follow(Some("poster42"))).await);
        assert!(from_qr.contains("scene \"poster42\""), "{from_qr}");

        let click = |key: &str| {
            message(MessageBody::Event(Event::Click {
                key: key.to_owned(),
            }))
        };
        assert!(text_reply(bot.handle(&click(KEY_HELLO)).await).starts_with("Hello"));
        let scan = message(MessageBody::Event(Event::ScancodeWaitmsg {
            key: KEY_SCAN_WAIT.to_owned(),
            scan: ScanCodeInfo {
                scan_type: "qrcode".to_owned(),
                scan_result: "https://example.com".to_owned(),
            },
        }));
        assert_eq!(
            text_reply(bot.handle(&scan).await),
            "You scanned a qrcode: https://example.com"
        );
        let unfollow = message(MessageBody::Event(Event::Unsubscribe));
        assert_eq!(bot.handle(&unfollow).await, None);
    }
}
