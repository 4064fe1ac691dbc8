//! The callback URL of a WeChat Official Account (公众号): verify, decrypt, route, reply, retry
//! dedupe and the 5-second rule, as a pure core ([`Callback`]) and a server shell (a hyper and
//! tower [`CallbackService`], and a ready [`Server`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use http::Method;
//! use wechat_msg::{Callback, CallbackConfig, Router};
//! use wechat_types::xml::{Message, MessageBody, Reply};
//! use wechat_types::ServerToken;
//!
//! let router = Router::new()
//!     .event("subscribe", |_msg: Message| async { Some(Reply::text("Welcome!")) })
//!     .msg_type("text", |msg: Message| async move {
//!         let MessageBody::Text { content, .. } = msg.body else { return None };
//!         Some(Reply::text(format!("You said: {content}")))
//!     });
//! let token = ServerToken::new("my-token");
//! let callback = Callback::new(CallbackConfig::new(token.clone()), router)?;
//!
//! // What WeChat sends: a signed query string and the push.
//! let timestamp = std::time::SystemTime::now()
//!     .duration_since(std::time::UNIX_EPOCH)?
//!     .as_secs()
//!     .to_string();
//! let signature = wechat_crypto::signature(&token, &timestamp, "nonce42");
//! let query = format!("signature={signature}&timestamp={timestamp}&nonce=nonce42&openid=oUser");
//! let push = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>\
//!             <CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>\
//!             <Content><![CDATA[hi]]></Content><MsgId>1</MsgId></xml>";
//!
//! let response = callback.respond(&Method::POST, Some(&query), push.as_bytes()).await;
//! assert_eq!(response.status(), 200);
//! let body = std::str::from_utf8(response.body())?;
//! assert!(body.contains("<Content><![CDATA[You said: hi]]></Content>"));
//! assert!(body.contains("<ToUserName><![CDATA[oUser]]></ToUserName>"));
//!
//! // The same push with a bad signature: a 403 with a one-line reason, the handler never runs.
//! let forged = query.replace(&signature, &"0".repeat(40));
//! let response = callback.respond(&Method::POST, Some(&forged), push.as_bytes()).await;
//! assert_eq!(response.status(), 403);
//! assert_eq!(response.body().as_ref(), b"signature does not match");
//! # Ok(()) }
//! ```
//!
//! To serve it: `wechat_msg::serve("0.0.0.0:8080", callback).await`, or
//! `Server::bind(addr, callback).await?.path("/wechat").run_until(shutdown)`, or mount
//! [`Callback::into_service`] on a path of an axum or tower app.
//!
//! # What it does with each request
//!
//! - `GET` (URL verification): answers `echostr` iff `signature` holds and the timestamp is
//!   within the window (and, with replay protection on, the nonce is new).
//! - `POST`: checks `signature` and the timestamp window (±300 s by default); for an encrypted
//!   push (compat or safe mode) checks `msg_signature`, decrypts and checks the AppID; parses the
//!   typed [`Message`](wechat_types::xml::Message); dedupes WeChat's retries; calls the handler;
//!   renders the reply, encrypted and signed when the push was; answers `success` when the
//!   handler has nothing to say.
//! - Every bad input (wrong signature, stale timestamp, DOCTYPE, malformed XML, bad ciphertext,
//!   wrong AppID, oversized body, wrong method…) is a typed [`CallbackError`] answered with a 4xx
//!   and a one-line reason: never a 5xx, a panic or a hang.
//!
//! # The 5-second rule and retries
//!
//! WeChat waits 5 seconds for an answer, then retries (three tries in all), then tells the user
//! the account is unavailable. So:
//!
//! - Each push is deduped by [`Message::dedupe_key`](wechat_types::xml::Message::dedupe_key) in a
//!   [`DedupeStore`](dedupe::DedupeStore) (in memory by default, Redis with feature `redis`): the
//!   handler runs once, and a retry gets the first answer (or `success` while it is being made).
//! - A handler that is not done within the reply budget (4.5 s by default, counted from the
//!   request's arrival) is answered `success` and keeps running; its reply then goes out as a
//!   custom-service message through a [`CustomServiceSender`] (such as `wechat_client::Client`),
//!   or is logged if none is set.
//! - A handler that panics is answered `success`, and the panic is logged.

mod callback;
mod config;
mod connections;
pub mod dedupe;
mod error;
mod fallback;
mod handler;
mod lazy_timeout;
mod lock;
mod panic;
mod query;
mod router;
mod server;
mod service;

pub use async_trait::async_trait;
pub use callback::{Callback, Outcome};
pub use config::{CallbackConfig, ConfigError, Mode};
pub use error::CallbackError;
pub use fallback::{CustomServiceSender, SendError};
pub use handler::{
    Handler, HandlerFn, IntoHandler, ReplyFuture, State, ViaHandler, ViaMessage, ViaState,
    handler_fn,
};
pub use router::Router;
pub use server::{Server, serve};
pub use service::{CallbackService, ResponseFuture};
