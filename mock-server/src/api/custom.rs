//! `POST /cgi-bin/message/custom/send`: customer-service messages (客服消息).
//!
//! A user's message (or [`MockServer::record_interaction`](crate::MockServer::record_interaction))
//! opens a 48-hour window for 5 messages; a menu click, a follow or a QR scan opens a 1-minute
//! window for 3. A message is charged to the event window first while it lasts: 45015 when no
//! window is open or the user does not follow, 45047 when the open ones are used up. Every fake user starts with an open window, so demos work at once. Sent messages are
//! kept (the last 10 000) for [`MockServer::custom_messages`](crate::MockServer::custom_messages)
//! and appended to the user's [conversation](crate::MockServer::conversation).

use serde_json::Value;
use wechat_types::ErrCode;
use wechat_types::api::CustomMessage;

use super::api_caller;
use crate::log::SentMessage;
use crate::push::EntryKind;
use crate::reply::{self, ApiError, ApiResult};
use crate::router::Ctx;

/// The `msgtype`s `CustomMessageBody` models.
const MSG_TYPES: &[&str] = &[
    "text",
    "image",
    "voice",
    "video",
    "music",
    "news",
    "mpnews",
    "mpnewsarticle",
    "msgmenu",
    "wxcard",
    "miniprogrampage",
];

pub(crate) fn send(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = api_caller(ctx, &mut state, "/cgi-bin/message/custom/send")?;
    ctx.require_post()?;
    let body = ctx.json_body()?;
    match body.get("msgtype").and_then(Value::as_str) {
        Some(kind) if MSG_TYPES.contains(&kind) => {}
        _ => {
            return Err(ApiError::new(ErrCode::INVALID_MESSAGE_TYPE));
        }
    }
    let message: CustomMessage = serde_json::from_value(body).map_err(|e| {
        ApiError::new(ErrCode::DATA_FORMAT_ERROR).with_hint(format!("unexpected JSON shape: {e}"))
    })?;
    let now = ctx.now;
    let user = state
        .user_mut(app, message.touser.as_str())
        .ok_or(ApiError::new(ErrCode::INVALID_OPENID))?;
    let window = user.window_for_send(now).map_err(ApiError::new)?;
    user.charge(window);
    let touser = message.touser.clone();
    // The phone shows it too: the user's conversation gets it after what came before.
    state.record_entry(app, &touser, now, EntryKind::CustomService(message.clone()));
    let sent = SentMessage {
        appid: state.apps[app].app.appid.clone(),
        touser,
        message,
        sent_at: now,
    };
    state.messages.push(sent);
    Ok(reply::ok())
}
