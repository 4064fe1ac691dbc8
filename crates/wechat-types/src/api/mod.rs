//! JSON models of the HTTP APIs (PROTOCOL.md 4.2). Requests serialize to the exact bodies WeChat
//! expects (Chinese stays literal UTF-8: WeChat answers 40033 to `\u` escapes, and `serde_json`
//! never writes them); responses deserialize from WeChat's answers.
//!
//! Serialize a request with [`to_json`] so the body is always right.

mod custom;
mod menu;
mod oauth;
mod qrcode;
mod token;
mod user;

pub use custom::{
    ArticleIdContent, CardContent, CustomArticle, CustomMessage, CustomMessageBody, KfAccount,
    MediaContent, MenuOption, MiniprogramContent, MsgMenuContent, MusicContent, NewsContent,
    TextContent, VideoContent,
};
pub use menu::{
    Button, ButtonType, ConditionalMenu, CurrentMenu, MatchRule, Menu, MenuError, MenuIdResponse,
    MenuInfo, TryMatchRequest,
};
pub use oauth::{Lang, Scope, Sex, SnsToken, SnsUserInfo};
pub use qrcode::{QrAction, QrCodeRequest, QrCodeResponse};
pub use token::{AccessTokenResponse, StableTokenRequest, TicketResponse, TicketType};
pub use user::UserInfo;

/// Serializes a request body as WeChat wants it: compact UTF-8 JSON with literal non-ASCII text.
///
/// ```
/// use wechat_types::api::{to_json, CustomMessage};
///
/// let body = to_json(&CustomMessage::text("oUser".into(), "你好")).unwrap();
/// assert_eq!(body, r#"{"touser":"oUser","msgtype":"text","text":{"content":"你好"}}"#);
/// ```
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string(value)
}
