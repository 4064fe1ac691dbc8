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

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a server answers, reading it gives a value or a typed error, never a panic.
        #[test]
        fn readers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300), status in 100u16..600) {
            let response = http::Response::builder()
                .status(status)
                .body(Bytes::from(body))
                .unwrap();
            let _ = super::token::parse_token(super::token::TOKEN_PATH, &response);
            let _ = super::token::parse_ticket(&response);
            let _ = super::menu::parse_get(&response);
            let _ = super::menu::parse_ok(super::menu::CREATE_PATH, &response);
            let _ = super::menu::parse_add_conditional(&response);
            let _ = super::menu::parse_try_match(&response);
            let _ = super::custom::parse_send(&response);
            let _ = super::user::parse_info(&response);
        }

        #[test]
        fn url_checks_never_panic(url in ".*") {
            let _ = super::jssdk::check_url(&url);
        }
    }
}
