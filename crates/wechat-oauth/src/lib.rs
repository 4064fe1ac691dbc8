//! WeChat web authorization (网页授权) for pages opened inside WeChat, and website QR login
//! (扫码登录), with an OAuth `state` that actually stops CSRF.
//!
//! ```
//! use std::time::Duration;
//! use wechat_client::{ClientConfig, Endpoints};
//! use wechat_crypto::StateKey;
//! use wechat_oauth::{Callback, OAuthClient};
//! use wechat_types::api::{Lang, Scope};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = wechat_mock::MockServer::start().await;
//! # let (appid, secret) = (mock.app().appid, mock.app().secret);
//! // WeChat's hosts by default; here a local wechat-mock.
//! let config = ClientConfig::with_default_transport()?
//!     .with_endpoints(Endpoints::single(mock.base_url()));
//! let client = OAuthClient::new(appid, secret, config);
//! // Every instance shares this key; states live ten minutes.
//! let guard = client.state_guard(StateKey::generate(), Duration::from_secs(600));
//! let session_id = "value-of-the-session-cookie";
//!
//! // GET /login: send the browser to WeChat with a state bound to its session.
//! let state = guard.issue(session_id);
//! let url = client.authorize_url("https://example.com/callback", Scope::UserInfo, &state)?;
//!
//! // The user agrees; WeChat redirects to /callback?code=…&state=…
//! # let location = {
//! #     let page = url.split('#').next().unwrap();
//! #     let answer = client.config().send(wechat_client::request::get(page, &[])?).await?;
//! #     answer.headers()["location"].to_str()?.to_owned()
//! # };
//! # let callback_query = location.split_once('?').unwrap().1;
//! // GET /callback: check the state first, then spend the code (once).
//! let callback = Callback::from_query(callback_query)?;
//! guard.verify(callback.state(), session_id)?;
//! match callback {
//!     Callback::Authorized { code, .. } => {
//!         let token = client.exchange_code(&code).await?;
//!         let user = client.userinfo(&token.access_token, &token.openid, Lang::ZhCn).await?;
//!         println!("signed in: {} ({})", user.nickname, user.openid);
//! #       assert_eq!(user.openid, mock.users()[0].openid);
//!     }
//!     Callback::Denied { .. } => println!("the user said no"),
//! }
//! # Ok(()) }
//! ```
//!
//! What this crate does that WeChat's documentation leaves to each developer:
//! - **State**: [`StateGuard`] issues states that are an HMAC of the session id and an expiry,
//!   and refuses on the callback a state that was altered, expired, or started by another
//!   session ([`StateError`](wechat_crypto::StateError)). Nothing is stored server-side.
//! - **Checked URLs**: the parameters in the order WeChat checks them, the redirect URI
//!   percent-encoded (its own query string and non-ASCII characters included),
//!   `connect_redirect=1` against double redirects, `#wechat_redirect`; a bad scope, state or
//!   redirect URI is an error before the user leaves the site.
//! - **Typed errors** a caller can act on ([`OAuthError`]): code used (40163), invalid (40029)
//!   or expired (42003), refresh token expired (42002), scope not granted (48001).
//! - **Typed tokens** ([`OAuthToken`]): secrets that never reach `Debug`, scopes as values,
//!   `expires_at` from the client's clock.
//! - **The one-step flow** ([`OAuthClient::userinfo_by_code`]) that answers a `snsapi_base`
//!   authorization with the OpenID instead of failing with 48001, and the whole callback step in
//!   one call ([`OAuthClient::sign_in`]): the state checked before the code is spent.
//!
//! Calls go through [`wechat_client`]'s transport, hosts and clock, so pointing the client at
//! `wechat-mock` runs the whole flow offline, as above. `examples/profile.rs` is a small web app
//! built this way: `cargo run -p wechat-oauth --example profile`.

mod authorize;
mod callback;
mod client;
mod error;
mod sign_in;
mod state;
mod token;

pub use authorize::{MAX_STATE_LEN, validate_state};
pub use callback::Callback;
pub use client::OAuthClient;
pub use error::OAuthError;
pub use sign_in::SignIn;
pub use state::StateGuard;
pub use token::{OAuthToken, Profile};
