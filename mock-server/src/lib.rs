//! A faithful offline fake of the WeChat Official Account servers (微信公众号), for tests, CI and
//! frontend work: the OAuth pages, the `sns` and `cgi-bin` APIs with WeChat's errcodes and
//! lifetimes, generated users with avatars, pushes from fake users to your callback URL, a web
//! console to chat as those users, a controllable clock, injectable faults and a request log. A
//! library first (port 0, shut down on drop, in-process calls), plus the `wechat-mock` binary.
//!
//! ```
//! use wechat_mock::MockServer;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let mock = MockServer::start().await; // 127.0.0.1:<free port>, demo app, 5 fake users
//! let app = mock.app();
//! let user = &mock.users()[0];
//!
//! // The OAuth flow: the authorize page redirects at once to a client that does not ask for HTML.
//! let authorize = format!(
//!     "/connect/oauth2/authorize?appid={}&redirect_uri=https%3A%2F%2Fexample.com%2Fcb\
//!      &response_type=code&scope=snsapi_userinfo&state=xyz",
//!     app.appid
//! );
//! let get = |uri: String| http::Request::get(uri).body(bytes::Bytes::new()).unwrap();
//! let redirect = mock.handle(get(authorize)).await;
//! assert_eq!(redirect.status(), 302);
//! let location = redirect.headers()["location"].to_str().unwrap();
//! let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap();
//!
//! let exchange = format!(
//!     "/sns/oauth2/access_token?appid={}&secret={}&code={code}&grant_type=authorization_code",
//!     app.appid,
//!     app.secret.expose_secret()
//! );
//! let token: wechat_types::api::SnsToken =
//!     serde_json::from_slice(mock.handle(get(exchange.clone())).await.body()).unwrap();
//! assert_eq!(token.openid, user.openid);
//!
//! // Codes are single use, like on WeChat.
//! let again: wechat_types::ApiStatus =
//!     serde_json::from_slice(mock.handle(get(exchange)).await.body()).unwrap();
//! assert_eq!(again.errcode, wechat_types::ErrCode::CODE_BEEN_USED);
//! # }
//! ```
//!
//! # Pushing to your callback
//!
//! [`MockServer::set_callback`] runs WeChat's verification handshake against your callback URL;
//! [`MockServer::push`] then sends what a fake user does ([`UserAction`]: text, menu taps,
//! follows, scans, locations…) signed and, per [`CallbackMode`], encrypted exactly as WeChat
//! does, with a 5-second timeout and 3 tries, and checks the answer as WeChat does. What is
//! wrong comes back as a one-line diagnosis in [`PushOutcome::problem`], and everything lands
//! in the user's [`conversation`](MockServer::conversation):
//!
//! ```no_run
//! use wechat_mock::{CallbackMode, MockServer, UserAction};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), wechat_mock::PushError> {
//! let mock = MockServer::start().await;
//! mock.set_callback("http://127.0.0.1:8080/wechat", CallbackMode::Safe).await?;
//! let user = mock.users()[0].openid.clone();
//! let outcome = mock.push(&user, UserAction::text("你好")).await;
//! match (&outcome.reply, &outcome.problem) {
//!     (_, Some(problem)) => eprintln!("WeChat would refuse that: {problem}"),
//!     (reply, None) => println!("answered {reply:?} in {} tries", outcome.attempts),
//! }
//! # Ok(()) }
//! ```
//!
//! # The console
//!
//! `GET /` in a browser is a console: a phone-like chat as any fake user (the account's custom
//! menu at the bottom, follow and unfollow, location, scans), replies rendered as WeChat shows
//! them, and beside it the app's credentials, a form to set the callback URL and mode, and the
//! live logs of pushes and API calls. Plain HTML, CSS and JavaScript from the binary; nothing is
//! fetched from outside. Pages can load a stand-in for WeChat's JS-SDK from
//! `/open/js/jweixin-1.6.0.js`, whose `wx.config` checks the signature against the app's current
//! `jsapi_ticket` (63002 on a mismatch).
//!
//! # Faithful to WeChat
//!
//! Errors are HTTP 200 with `{"errcode":N,"errmsg":"<WeChat's text> rid: <id>"}`; unknown paths
//! answer 48001 the same way (WeChat has no JSON 404); malformed JSON bodies answer 47001, `\u`
//! escaped non-ASCII 40033, oversized bodies (over 1 MiB) 47001; nothing answers a 5xx unless a
//! fault asks for one. Every `cgi-bin` API answers 41001 without `access_token`, 40014 for a
//! string that is not a token, 40001 for an unknown or replaced token and 42001 for an expired
//! one. The lifetimes (PROTOCOL.md 4.3) run on a mock clock that
//! [`MockServer::advance_clock`] moves. Each endpoint module documents its state machine.
//!
//! # Endpoints
//!
//! | Path | What |
//! |---|---|
//! | `GET /connect/oauth2/authorize`, `GET /connect/qrconnect` | OAuth pages: 302, consent or QR page, error pages |
//! | `GET /sns/oauth2/access_token`, `/sns/oauth2/refresh_token`, `/sns/userinfo`, `/sns/auth` | web authorization |
//! | `GET /cgi-bin/token`, `POST /cgi-bin/stable_token` | the base access_token |
//! | `/cgi-bin/menu/create`, `get`, `delete`, `addconditional`, `delconditional`, `trymatch` | the custom menu |
//! | `GET /cgi-bin/ticket/getticket`, `GET /cgi-bin/user/info`, `POST /cgi-bin/message/custom/send` | tickets, followers, customer-service messages |
//! | `GET /` | the console (HTML; JSON for `Accept: application/json`) |
//! | `GET /favicon.ico` | the pages' icon (SVG); not recorded in the request log |
//! | `GET /open/js/jweixin-1.6.0.js` | a stand-in for the JS-SDK |
//! | `/mock/…` | the fake's own admin API (apps, users, clock, faults, log, messages, reset, callback, push, conversations, menu view), avatars and placeholder media |
//!
//! # The binary
//!
//! `wechat-mock [--addr 127.0.0.1:8787] [--appid ID] [--secret S] [--token T] [--aes-key K]
//! [--callback-url URL [--mode plaintext|compat|safe]] [--oauth-domain HOST] [--users N]
//! [--config FILE]`: every flag has a default (the demo app with 5 fake users). The first stdout
//! line is the base URL alone; then the credentials, and the outcome of the handshake with
//! `--callback-url` (a failure is diagnosed, and the fake keeps running). One log line per request goes to stderr (`RUST_LOG` filters it); queries, which
//! carry secrets, are never logged. Ctrl-C or SIGTERM stops it cleanly.
//!
//! # Memory
//!
//! Expired codes and tokens are swept as requests arrive, at most every 10 mock seconds, and at
//! once when the clock is moved; every store has a hard cap (past it, dead entries go first, then
//! the oldest), and the request and message logs keep their last entries, so a long run stays
//! bounded ([`MockServer::stats`]).

mod api;
mod bounded;
mod clock;
mod config;
mod console;
mod control;
mod fake;
mod fault;
mod html;
mod log;
mod push;
mod reply;
mod router;
mod server;
mod state;

pub use config::{ConfigError, MockApp, MockUser};
pub use fault::Fault;
pub use log::{RecordedRequest, SentMessage};
pub use push::{
    CallbackMode, ConversationEntry, EntryKind, PushError, PushOutcome, SERVICE_UNAVAILABLE,
    UserAction,
};
pub use server::{MockServer, MockServerBuilder, MockService, StartError};
pub use state::MockStats;

/// An error and its causes on one line (`outer: inner: root`), for messages meant for people:
/// how the mock words its own diagnoses, and what its binary and the demo print.
///
/// ```
/// let err = std::io::Error::other("disk full");
/// assert_eq!(wechat_mock::error_chain(&err), "disk full");
/// ```
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
