//! Wire models of the WeChat Official Account platform (微信公众号): the XML messages, events and
//! passive replies of the callback URL, the JSON of the HTTP APIs, error codes, ID newtypes and
//! secret newtypes. No I/O, no async: the other `wechat-*` crates and `wechat-mock` build on it.
//!
//! ```
//! use wechat_types::xml::{Event, Message, MessageBody, Reply, ReplyMessage};
//!
//! let push = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\
//!             <FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1700000000</CreateTime>\
//!             <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>\
//!             <EventKey><![CDATA[qrscene_42]]></EventKey><Ticket><![CDATA[T]]></Ticket></xml>";
//! let msg = Message::parse(push.as_bytes())?;
//! let MessageBody::Event(Event::Subscribe { scene: Some(scene), .. }) = &msg.body else {
//!     panic!("a scan-to-follow");
//! };
//! assert_eq!(scene.as_id(), Some(42));
//!
//! let reply = ReplyMessage::answering(&msg, Reply::text("欢迎"), 1700000001);
//! assert!(reply.to_xml().contains("<Content><![CDATA[欢迎]]></Content>"));
//! # Ok::<(), wechat_types::xml::XmlError>(())
//! ```
//!
//! Parsing follows the house rules: a DOCTYPE is refused, malformed input is a typed
//! [`xml::XmlError`], never a panic; unknown message types and events are kept with their raw
//! fields. Secrets ([`AppSecret`], [`AccessToken`], [`EncodingAesKey`]…) print `[redacted]`.

pub mod api;
mod errcode;
mod id;
mod secret;
pub mod xml;

pub use errcode::{ApiStatus, ErrCode};
pub use id::{AccountId, AppId, MediaId, MsgId, OpenId, TemplateId, UnionId};
pub use secret::{
    AccessToken, AppSecret, AuthCode, EncodingAesKey, InvalidAesKey, JsapiTicket, RefreshToken,
    ServerToken,
};
