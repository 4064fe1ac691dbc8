//! The layer every outgoing call to WeChat goes through: a [`Client`] per official account with
//! its credentials (the base access_token and the jsapi_ticket, cached in a
//! [`TokenStore`] shared by every instance, refreshed by one fetcher at a
//! time) and the server-side APIs (menu, customer-service messages, user info, JS-SDK config),
//! over a pluggable [`HttpTransport`] (hyper + rustls by default).
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use bytes::Bytes;
//! use wechat_client::{Client, ClientConfig, HttpTransport, TransportError};
//! use wechat_types::{OpenId, api::Lang};
//!
//! /// Answers like WeChat would, in process (wechat-mock does this for real).
//! #[derive(Debug)]
//! struct FakeWeChat;
//!
//! #[async_trait]
//! impl HttpTransport for FakeWeChat {
//!     async fn send(&self, req: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
//!         let body: &'static [u8] = match req.uri().path() {
//!             "/cgi-bin/stable_token" => br#"{"access_token":"TOKEN","expires_in":7200}"#,
//!             "/cgi-bin/user/info" => br#"{"subscribe":1,"openid":"oUser","language":"zh_CN"}"#,
//!             _ => br#"{"errcode":48001,"errmsg":"api unauthorized"}"#,
//!         };
//!         Ok(http::Response::new(Bytes::from_static(body)))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), wechat_client::Error> {
//! let client = Client::builder("wx1".into(), "app-secret".into())
//!     .config(ClientConfig::new(Arc::new(FakeWeChat)))
//!     .build()?;
//!
//! let user = client.user_info(&OpenId::new("oUser"), Lang::ZhCn).await?;
//! assert_eq!(user.subscribe, 1);
//! // The token fetched for that call is cached for the next ones.
//! assert_eq!(client.access_token().await?.expose_secret(), "TOKEN");
//! // Secrets never reach Debug output.
//! assert!(!format!("{client:?}").contains("app-secret"));
//! # Ok(()) }
//! ```
//!
//! - Credentials: [`provider`] explains the refresh policy; [`store`] has [`MemoryStore`]
//!   (default) and `RedisStore` (feature `redis`) for several instances of one app.
//! - Every API call goes through [`Client::call`]: one replay after a stale-token errcode
//!   (40001/40014/42001, invalidating the token only if the store still holds it), bounded
//!   retries after `-1` for idempotent calls. Nothing retries forever.
//! - Every request is built and every answer read by pure functions in [`api`] and
//!   [`request`], which tests reach without a transport.
//! - [`Endpoints::single`] points all three WeChat hosts at wechat-mock; [`ManualClock`] moves
//!   time without sleeping; feature `test-util` adds transports from a closure and a replay queue.

pub mod api;
mod call;
mod client;
mod clock;
mod config;
mod endpoints;
mod error;
pub mod provider;
#[cfg(all(feature = "test-util", feature = "redis"))]
mod redis_server;
pub mod request;
pub mod store;
mod transport;

pub use api::jssdk::JsSdkConfig;
pub use call::Idempotency;
pub use client::{Client, ClientBuilder, MenuApi};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::ClientConfig;
pub use endpoints::Endpoints;
pub use error::{ApiError, Error};
pub use provider::{AccessTokenProvider, BusyRetry, JsapiTicketProvider, TokenSource};
pub use store::{MemoryStore, TokenStore};
#[cfg(feature = "test-util")]
pub use transport::test_util;
pub use transport::{HttpTransport, TransportError, TransportErrorKind};
#[cfg(feature = "hyper-transport")]
pub use transport::{HyperTransport, HyperTransportBuilder};
