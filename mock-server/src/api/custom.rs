//! `POST /cgi-bin/message/custom/send`: customer-service messages (客服消息).
//!
//! A user's message (or any interaction recorded with
//! [`MockServer::record_interaction`](crate::MockServer::record_interaction)) opens a 48-hour
//! window for 5 messages: 45015 outside the window or to a user who does not follow, 45047 past
//! the count. Every fake user starts with an open window, so demos work at once. Sent messages are
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
use crate::state::limits::{SERVICE_WINDOW, SERVICE_WINDOW_MESSAGES};

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
    let window_open = user.user.subscribed
        && user
            .last_interaction
            .is_some_and(|at| now - at < SERVICE_WINDOW);
    if !window_open {
        return Err(ApiError::new(ErrCode::RESPONSE_OUT_OF_TIME));
    }
    if user.sent_since_interaction >= SERVICE_WINDOW_MESSAGES {
        return Err(ApiError::new(ErrCode::RESPONSE_COUNT_LIMIT));
    }
    user.sent_since_interaction += 1;
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
