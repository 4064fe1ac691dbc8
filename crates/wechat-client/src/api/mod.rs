//! Pure builders and readers of each server-side API call: no I/O, so tests (and other crates)
//! reach the exact request and the parsing of every answer without a transport. The
//! [`Client`](crate::Client) methods are these functions plus a token, a transport and the retry
//! policy.
//!
//! ```
//! use bytes::Bytes;
//! use wechat_client::{api, Endpoints};
//! use wechat_types::{AccessToken, OpenId, api::Lang};
//!
//! let endpoints = Endpoints::single("http://127.0.0.1:8787");
//! let req = api::user::info_request(&endpoints, &AccessToken::new("T"), &OpenId::new("o1"), Lang::En)?;
//! assert_eq!(req.uri().query(), Some("access_token=T&openid=o1&lang=en"));
//!
//! let answer = http::Response::new(Bytes::from_static(br#"{"subscribe":0,"openid":"o1"}"#));
//! let info = api::user::parse_info(&answer)?;
//! assert_eq!(info.subscribe, 0);
//! # Ok::<(), wechat_client::Error>(())
//! ```

pub mod custom;
pub mod jssdk;
pub mod menu;
pub mod token;
pub mod user;
