//! Pushing messages to the developer's callback URL, as WeChat does.
//!
//! - [`MockServer::set_callback`] is the WeChat console's "submit" button: a `GET` with
//!   `signature`, `timestamp`, `nonce` and `echostr`, which must be echoed exactly; only then are
//!   the URL and the [`CallbackMode`] stored on the app.
//! - [`MockServer::push`] is a fake user sending something: the message is built (`ToUserName` the
//!   account, `FromUserName` the user, `CreateTime` the mock clock, a fresh `MsgId`), signed
//!   (`signature`, `timestamp`, `nonce`, `openid` in the query; `encrypt_type=aes` and
//!   `msg_signature` too when encrypted), encrypted per mode (compat: the plaintext fields and
//!   `<Encrypt>` in one body; safe: `<ToUserName>` and `<Encrypt>` only) and POSTed. Each try
//!   has 5 seconds (configurable with
//!   [`MockServerBuilder::push_timeout`](crate::MockServerBuilder::push_timeout)); a timeout, a
//!   connection failure or a 5xx is tried again, 3 tries in total, with the same message.
//! - The answer is checked as WeChat checks it: `success` or an empty body is accepted; anything
//!   else must be a passive reply, encrypted in safe mode (and may be in compat mode), with a
//!   matching `MsgSignature`, the account's AppID inside, `ToUserName` the user and
//!   `FromUserName` the account. Every failure gets a one-line diagnosis in
//!   [`PushOutcome::problem`], and the user sees [`SERVICE_UNAVAILABLE`], as on a phone.
//! - Everything lands in the user's conversation ([`MockServer::conversation`]), with the
//!   customer-service messages the account sends through `cgi-bin/message/custom/send`, in order.

mod action;
pub(crate) mod admin;
mod check;
mod conversation;
mod deliver;
mod handshake;
mod seal;
pub(crate) mod view;

use std::fmt;
use std::time::Duration;

use wechat_types::xml::{Event, Message, MessageBody, PassiveReply};
use wechat_types::{MsgId, OpenId};

pub use action::UserAction;
pub(crate) use conversation::Conversation;
pub use conversation::{ConversationEntry, EntryKind};
pub(crate) use deliver::{Delivery, HttpClient, client};
pub use handshake::PushError;

use crate::router::{Shared, lock};
use crate::server::MockServer;
use crate::state::Interaction;

/// What WeChat shows the user when the account's server failed them (no answer in time, or a
/// reply it cannot read).
pub const SERVICE_UNAVAILABLE: &str = "该公众号暂时无法提供服务，请稍后再试";

/// WeChat's tries per push: the first and two retries.
pub(crate) const TRIES: u32 = 3;

/// The default time a callback has to answer one try.
pub(crate) const DEFAULT_PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// The message encryption mode chosen on the WeChat console (消息加解密方式).
///
/// ```
/// use wechat_mock::CallbackMode;
///
/// assert_eq!(CallbackMode::parse("safe"), Some(CallbackMode::Safe));
/// assert_eq!(CallbackMode::Compat.as_str(), "compat");
/// assert!(!CallbackMode::default().is_encrypted());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CallbackMode {
    /// 明文模式: plaintext bodies and replies (WeChat's default).
    #[default]
    Plaintext,
    /// 兼容模式: the plaintext fields and `<Encrypt>` in one body; the reply may be either.
    Compat,
    /// 安全模式: `<ToUserName>` and `<Encrypt>` only; the reply must be encrypted.
    Safe,
}

impl CallbackMode {
    /// `plaintext`, `compat` or `safe`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackMode::Plaintext => "plaintext",
            CallbackMode::Compat => "compat",
            CallbackMode::Safe => "safe",
        }
    }

    /// Reads `plaintext` (or `plain`), `compat` (or `compatible`) and `safe` (or `aes`), in any
    /// case.
    pub fn parse(value: &str) -> Option<CallbackMode> {
        match value.trim().to_ascii_lowercase().as_str() {
            "plaintext" | "plain" => Some(CallbackMode::Plaintext),
            "compat" | "compatible" => Some(CallbackMode::Compat),
            "safe" | "aes" => Some(CallbackMode::Safe),
            _ => None,
        }
    }

    /// True for compat and safe mode: pushes carry `<Encrypt>` and `msg_signature`.
    pub fn is_encrypted(self) -> bool {
        !matches!(self, CallbackMode::Plaintext)
    }
}

impl fmt::Display for CallbackMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What became of one push: how many tries it took, what the callback answered, and what was
/// wrong, if anything.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PushOutcome {
    /// HTTP tries made (0 when nothing was sent: unknown user, no callback URL).
    pub attempts: u32,
    /// The accepted answer: `success`, empty, or a passive reply. `None` when there was a
    /// problem.
    pub reply: Option<PassiveReply>,
    /// A one-line diagnosis when the callback failed, timed out or answered something WeChat
    /// refuses; `None` when all was right.
    pub problem: Option<String>,
    /// What the user's phone shows because of the problem ([`SERVICE_UNAVAILABLE`]), if
    /// anything.
    pub notice: Option<String>,
    /// The `MsgId` of the push (messages only; events have none).
    pub msg_id: Option<MsgId>,
}

impl PushOutcome {
    fn failed(attempts: u32, problem: String, notice: bool, msg_id: Option<MsgId>) -> Self {
        Self {
            attempts,
            reply: None,
            problem: Some(problem),
            notice: notice.then(|| SERVICE_UNAVAILABLE.to_owned()),
            msg_id,
        }
    }

    /// True when the callback answered in time with something WeChat accepts.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// A message a caller gave with `MsgId` 0 gets a fresh id, as WeChat assigns one to every
/// message.
fn with_msg_id(mut body: MessageBody) -> MessageBody {
    if let Some(msg_id) = body.msg_id_mut().filter(|id| id.0 == 0) {
        *msg_id = action::fresh_msg_id();
    }
    body
}

/// What a push does to the user's state before it is delivered: following, unfollowing, or
/// opening a customer-service window (PROTOCOL.md 4.4: a message opens 48 hours for 5 messages;
/// a menu click, a follow or a QR scan, 1 minute for 3). Reports the user's client sends on its
/// own (location, template and mass-send results) and link-opening menu events open nothing.
enum Effect {
    Subscribe,
    Unsubscribe,
    Opens(Interaction),
    Nothing,
}

fn effect(body: &MessageBody) -> Effect {
    match body {
        MessageBody::Event(Event::Subscribe { .. }) => Effect::Subscribe,
        MessageBody::Event(Event::Unsubscribe) => Effect::Unsubscribe,
        // A QR scan, or a menu button the user pressed (not one that only opens a link).
        MessageBody::Event(event)
            if matches!(event, Event::Scan { .. }) || event.menu_key().is_some() =>
        {
            Effect::Opens(Interaction::Event)
        }
        MessageBody::Event(_) | MessageBody::Unknown { .. } => Effect::Nothing,
        _ => Effect::Opens(Interaction::Message),
    }
}

impl Shared {
    /// Runs the handshake against `url` with the app's token, and stores url and mode on success.
    pub(crate) async fn set_callback(
        &self,
        appid: Option<&str>,
        url: &str,
        mode: CallbackMode,
    ) -> Result<(), PushError> {
        let target = handshake::parse_url(url)?;
        let app = {
            let state = lock(&self.state);
            let index = match appid {
                Some(appid) => state
                    .app_index(appid)
                    .ok_or_else(|| PushError::UnknownApp(appid.to_owned()))?,
                None if state.apps.is_empty() => {
                    return Err(PushError::UnknownApp(String::new()));
                }
                None => 0,
            };
            state.apps[index].app.clone()
        };
        handshake::verify(self, &target, &app).await?;
        let mut state = lock(&self.state);
        if let Some(index) = state.app_index(app.appid.as_str()) {
            let app = &mut state.apps[index].app;
            app.callback_url = Some(url.to_owned());
            app.callback_mode = mode;
        }
        Ok(())
    }

    /// One push from a fake user, delivered, checked and recorded.
    pub(crate) async fn push(&self, openid: &OpenId, body: MessageBody) -> PushOutcome {
        let now = self.clock.now();
        let body = with_msg_id(body);
        let msg_id = body.msg_id();
        let app = {
            let mut state = lock(&self.state);
            let Some((index, _)) = state.find_user_anywhere(openid.as_str()) else {
                return PushOutcome::failed(
                    0,
                    format!("there is no fake user {openid}"),
                    false,
                    msg_id,
                );
            };
            match effect(&body) {
                Effect::Subscribe => {
                    if let Some(user) = state.user_mut(index, openid.as_str()) {
                        if !user.user.subscribed {
                            user.user.subscribe_time = now;
                        }
                        user.user.subscribed = true;
                    }
                    state.record_interaction(index, openid.as_str(), Interaction::Event, now);
                }
                Effect::Unsubscribe => {
                    if let Some(user) = state.user_mut(index, openid.as_str()) {
                        user.user.subscribed = false;
                    }
                }
                Effect::Opens(interaction) => {
                    state.record_interaction(index, openid.as_str(), interaction, now);
                }
                Effect::Nothing => {}
            }
            state.record_entry(index, openid, now, EntryKind::UserSent(body.clone()));
            state.apps[index].app.clone()
        };
        let Some(url) = app.callback_url.clone() else {
            let problem = "the account has no callback URL: set one on the console (POST \
                           /mock/callback) or with MockServer::set_callback"
                .to_owned();
            self.record(openid, EntryKind::Problem(problem.clone()));
            return PushOutcome::failed(0, problem, false, msg_id);
        };
        let message = Message {
            to: app.account_id.clone(),
            from: openid.clone(),
            create_time: now,
            body,
        };
        let outcome = deliver::deliver(self, &app, &url, &message).await;
        let outcome = PushOutcome { msg_id, ..outcome };
        match (&outcome.reply, &outcome.problem) {
            (Some(PassiveReply::Message(reply)), _) => {
                self.record(openid, EntryKind::PassiveReply(reply.reply.clone()));
            }
            (_, Some(problem)) => {
                self.record(openid, EntryKind::Problem(problem.clone()));
                if let Some(notice) = &outcome.notice {
                    self.record(openid, EntryKind::Notice(notice.clone()));
                }
            }
            _ => {}
        }
        outcome
    }

    /// Appends to a user's conversation, stamped with the mock clock.
    fn record(&self, openid: &OpenId, kind: EntryKind) {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        if let Some((index, _)) = state.find_user_anywhere(openid.as_str()) {
            state.record_entry(index, openid, now, kind);
        }
    }

    /// The user's conversation, oldest first.
    pub(crate) fn conversation(&self, openid: &OpenId) -> Vec<ConversationEntry> {
        let state = lock(&self.state);
        state
            .find_user_anywhere(openid.as_str())
            .and_then(|(index, _)| state.apps[index].conversations.get(openid.as_str()))
            .map(|c| c.entries().cloned().collect())
            .unwrap_or_default()
    }
}

impl MockServer {
    /// Configures the default app's callback URL as the WeChat console's "submit" button does:
    /// a `GET` with `signature`, `timestamp`, `nonce` and `echostr` that must answer the
    /// `echostr` exactly. On success the URL and mode are stored and pushes go there; on
    /// failure nothing changes and the error says why.
    ///
    /// Only plain `http://` URLs are supported (the fake has no TLS client).
    ///
    /// ```no_run
    /// use wechat_mock::{CallbackMode, MockServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let mock = MockServer::start().await;
    /// match mock.set_callback("http://127.0.0.1:8080/wechat", CallbackMode::Safe).await {
    ///     Ok(()) => println!("callback configured"),
    ///     Err(e) => println!("WeChat would refuse it: {e}"),
    /// }
    /// # }
    /// ```
    pub async fn set_callback(&self, url: &str, mode: CallbackMode) -> Result<(), PushError> {
        self.shared().set_callback(None, url, mode).await
    }

    /// Like [`set_callback`](Self::set_callback), for the app `appid`.
    pub async fn set_callback_for(
        &self,
        appid: &wechat_types::AppId,
        url: &str,
        mode: CallbackMode,
    ) -> Result<(), PushError> {
        self.shared()
            .set_callback(Some(appid.as_str()), url, mode)
            .await
    }

    /// A fake user sends `message` (build one with [`UserAction`]) to their account's callback
    /// URL, exactly as WeChat would: built, signed, encrypted per the app's [`CallbackMode`],
    /// POSTed with a 5-second timeout and 3 tries, and the answer checked. Everything is
    /// recorded in the user's [`conversation`](Self::conversation).
    ///
    /// A subscribe or unsubscribe event sets the user's follow state first. What the user does
    /// opens a customer-service window: a message 48 hours for 5 messages, a menu click, a
    /// follow or a QR scan 1 minute for 3; reports the client sends on its own (location,
    /// template and mass-send results) and link-opening menus open none.
    ///
    /// ```no_run
    /// use wechat_mock::{MockServer, UserAction};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let mock = MockServer::start().await;
    /// let user = mock.users()[0].openid.clone();
    /// let outcome = mock.push(&user, UserAction::text("你好")).await;
    /// if let Some(problem) = &outcome.problem {
    ///     println!("the account failed the user: {problem}");
    /// }
    /// # }
    /// ```
    pub async fn push(&self, openid: &OpenId, message: MessageBody) -> PushOutcome {
        self.shared().push(openid, message).await
    }

    /// The user's conversation, oldest first: what they sent, the passive replies, the
    /// custom-service messages the account sent them, and the problems (the last 200 entries).
    pub fn conversation(&self, openid: &OpenId) -> Vec<ConversationEntry> {
        self.shared().conversation(openid)
    }
}
