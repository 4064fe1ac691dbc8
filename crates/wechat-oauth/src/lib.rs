//! WeChat web authorization (网页授权) for pages opened inside WeChat, and website QR login
//! (扫码登录), with an OAuth `state` that actually stops CSRF.
//!
//! ```
//! use std::time::Duration;
//! use wechat_client::ClientConfig;
//! use wechat_crypto::StateKey;
//! use wechat_oauth::{Callback, OAuthClient};
//! use wechat_types::api::Scope;
//!
//! let client = OAuthClient::new(
//!     "wx520c15f417810387".into(),
//!     "app-secret".into(),
//!     ClientConfig::with_default_transport()?,
//! );
//! // The state binds the browser session (its cookie) and expires in ten minutes.
//! let guard = client.state_guard(StateKey::generate(), Duration::from_secs(600));
//! let state = guard.issue("session-cookie-value");
//! let url = client.authorize_url("https://example.com/callback", Scope::UserInfo, &state)?;
//! assert!(url.ends_with("&connect_redirect=1#wechat_redirect"));
//!
//! // WeChat sends the user back to /callback?code=…&state=…
//! let callback = Callback::from_query(&format!("code=061AbC&state={state}"))?;
//! guard.verify(callback.state(), "session-cookie-value")?;
//! assert!(matches!(callback, Callback::Authorized { .. }));
//! // …then `client.exchange_code(code).await?` and `client.userinfo(…).await?`.
//! # Ok::<(), Box<dyn std::error::Error>>(())
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
//!   authorization with the OpenID instead of failing with 48001.
//!
//! Calls go through [`wechat_client`]'s transport, hosts and clock, so pointing the client at
//! `wechat-mock` runs the whole flow offline.

mod authorize;
mod callback;
mod client;
mod error;
mod state;
mod token;

pub use authorize::{MAX_STATE_LEN, validate_state};
pub use callback::Callback;
pub use client::OAuthClient;
pub use error::OAuthError;
pub use state::StateGuard;
pub use token::{OAuthToken, Profile};
