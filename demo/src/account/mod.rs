//! The demo official account (公众号), built only on the SDK crates: `wechat-msg` answers its
//! callback URL, `wechat-client` creates its menu, sends late replies and signs the JS-SDK
//! config, and `wechat-oauth` signs users in on its profile page. Nothing here knows about
//! wechat-mock: point [`AccountConfig::endpoints`] at WeChat's hosts and it runs for real.
//!
//! Its web server answers:
//!
//! | Path | What |
//! |---|---|
//! | `GET/POST /wechat` | the callback URL (verification, messages and events, every mode) |
//! | `GET /` | what the account is |
//! | `GET /profile` | the profile of the signed-in user, or off to WeChat's consent page |
//! | `GET /profile/callback` | where WeChat sends the user back with a code |
//! | `GET /logout` | forgets the session |

mod bot;
pub mod menu;
mod pages;
mod session;

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::SET_COOKIE;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use wechat_client::{Client, ClientConfig, Endpoints};
use wechat_crypto::StateKey;
use wechat_msg::{Callback, CallbackConfig, CallbackService};
use wechat_oauth::{OAuthClient, OAuthError, Profile, SignIn, StateGuard};
use wechat_types::api::{Lang, Scope};
use wechat_types::{AppId, AppSecret, EncodingAesKey, ServerToken};

use crate::error_chain;
use pages::JsSdk;
use session::Sessions;

/// How long a sign-in may take, from the redirect to WeChat to the callback.
const STATE_TTL: Duration = Duration::from_secs(600);
/// How long a connection may take to send its request head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for in-flight requests before cutting connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// What the account is: its credentials from the WeChat console, where it is reachable, and
/// where WeChat is.
#[derive(Clone)]
#[non_exhaustive]
pub struct AccountConfig {
    /// The AppID.
    pub appid: AppId,
    /// The AppSecret.
    pub secret: AppSecret,
    /// The server Token of the callback URL.
    pub token: ServerToken,
    /// The EncodingAESKey of the callback URL (compat and safe mode).
    pub aes_key: EncodingAesKey,
    /// `scheme://host[:port]` where browsers and WeChat reach this account, no trailing slash.
    pub public_url: String,
    /// WeChat's hosts ([`Endpoints::wechat`]) or a fake's.
    pub endpoints: Endpoints,
    /// Where the profile page loads the JS-SDK (`jweixin.js`) from; `None` shows the signed
    /// `wx.config` values without calling it.
    pub jssdk_script: Option<String>,
    /// How long the slow command takes (default 6 s: past WeChat's 5-second window).
    pub slow_answer_delay: Duration,
}

impl fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secrets' own Debug prints `[redacted]`.
        f.debug_struct("AccountConfig")
            .field("appid", &self.appid)
            .field("secret", &self.secret)
            .field("token", &self.token)
            .field("aes_key", &self.aes_key)
            .field("public_url", &self.public_url)
            .field("endpoints", &self.endpoints)
            .field("jssdk_script", &self.jssdk_script)
            .field("slow_answer_delay", &self.slow_answer_delay)
            .finish()
    }
}

impl AccountConfig {
    /// An account with these credentials, reachable at `public_url`, talking to WeChat's hosts.
    pub fn new(
        appid: AppId,
        secret: AppSecret,
        token: ServerToken,
        aes_key: EncodingAesKey,
        public_url: impl Into<String>,
    ) -> Self {
        Self {
            appid,
            secret,
            token,
            aes_key,
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            endpoints: Endpoints::wechat(),
            jssdk_script: None,
            slow_answer_delay: Duration::from_secs(6),
        }
    }

    /// Talks to these hosts instead (`Endpoints::single(mock_url)` for wechat-mock).
    pub fn with_endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Loads the JS-SDK from this URL on the profile page.
    pub fn with_jssdk_script(mut self, url: impl Into<String>) -> Self {
        self.jssdk_script = Some(url.into());
        self
    }

    /// Sets how long the slow command takes.
    pub fn with_slow_answer_delay(mut self, delay: Duration) -> Self {
        self.slow_answer_delay = delay;
        self
    }
}

/// Why the account could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// The HTTP transport could not be built (no TLS roots…).
    #[error("cannot build the HTTP transport")]
    Transport(#[source] wechat_client::TransportError),
    /// The API client could not be built (an empty AppID or AppSecret…).
    #[error("cannot build the API client")]
    Client(#[source] wechat_client::Error),
    /// The callback configuration is inconsistent.
    #[error("cannot configure the callback")]
    Callback(#[source] wechat_msg::ConfigError),
    /// WeChat refused the menu.
    #[error("cannot create the menu")]
    Menu(#[source] wechat_client::Error),
}

/// The demo account: its callback, its menu and its web pages. Serve it with [`serve`].
pub struct Account {
    client: Client,
    oauth: OAuthClient,
    guard: StateGuard,
    callback: CallbackService,
    sessions: Sessions,
    public_url: String,
    jssdk_script: Option<String>,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("appid", self.client.appid())
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// Sets the account up: the API client (base access_token cached in memory), the OAuth
    /// client with a fresh state key, and the callback with retry dedupe and the 5-second
    /// fallback to the custom-service API. Makes no request.
    pub fn new(config: AccountConfig) -> Result<Account, AccountError> {
        let http = ClientConfig::with_default_transport()
            .map_err(AccountError::Transport)?
            .with_endpoints(config.endpoints.clone());
        let client = Client::builder(config.appid.clone(), config.secret.clone())
            .config(http.clone())
            .build()
            .map_err(AccountError::Client)?;
        let oauth = OAuthClient::new(config.appid.clone(), config.secret, http);
        // One instance: a key made at start is enough. Several instances would share one from
        // their configuration, so that each accepts the states the others issued.
        let guard = oauth.state_guard(StateKey::generate(), STATE_TTL);

        let router = bot::router(bot::Bot {
            public_url: config.public_url.clone(),
            slow_delay: config.slow_answer_delay,
        });
        // Mode::Auto: answer each push in the mode it came in, so switching the console between
        // plaintext, compat and safe needs no restart.
        let callback_config = CallbackConfig::new(config.token)
            .crypto(config.aes_key, config.appid)
            .custom_service(Arc::new(client.clone()));
        let callback = Callback::new(callback_config, router).map_err(AccountError::Callback)?;

        Ok(Account {
            client,
            oauth,
            guard,
            callback: CallbackService::new(callback),
            sessions: Sessions::default(),
            public_url: config.public_url,
            jssdk_script: config.jssdk_script,
        })
    }

    /// The API client (shared access_token).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `public_url` + `/wechat`: the URL to enter as the callback URL on the WeChat console.
    pub fn callback_url(&self) -> String {
        format!("{}/wechat", self.public_url)
    }

    /// `public_url` + `/profile`: the page the "My profile" menu button opens.
    pub fn profile_url(&self) -> String {
        format!("{}/profile", self.public_url)
    }

    /// Creates the account's menu ([`menu::menu`]) through `menu/create`.
    pub async fn create_menu(&self) -> Result<(), AccountError> {
        self.client
            .menu()
            .create(&menu::menu(&self.profile_url()))
            .await
            .map_err(AccountError::Menu)
    }

    /// Answers one request.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        if request.uri().path() == "/wechat" {
            return self.callback.handle(request).await;
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            let mut response = pages::not_found();
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            return response;
        }
        let (parts, _body) = request.into_parts();
        let query = parts.uri.query().unwrap_or("");
        match parts.uri.path() {
            "/" => pages::home(&self.public_url),
            "/profile" => self.profile(&parts.headers).await,
            "/profile/callback" => self.oauth_callback(&parts.headers, query).await,
            "/logout" => {
                if let Some(sid) = self.sessions.find(&parts.headers) {
                    self.sessions.remove(&sid);
                }
                pages::message(StatusCode::OK, "Signed out", "You are signed out.")
            }
            "/static/cover.svg" => pages::cover_svg(),
            _ => pages::not_found(),
        }
    }

    /// The profile of a signed-in session; otherwise off to WeChat with a state bound to the
    /// session.
    async fn profile(&self, headers: &http::HeaderMap) -> Response<Full<Bytes>> {
        let session = self.sessions.find(headers);
        if let Some(user) = session.as_deref().and_then(|sid| self.sessions.user(sid)) {
            let page_url = self.profile_url();
            return match self.client.jssdk_config(&page_url).await {
                Ok(config) => pages::profile(
                    &user,
                    &JsSdk::Config {
                        config: &config,
                        script: self.jssdk_script.as_deref(),
                    },
                ),
                Err(e) => pages::profile(&user, &JsSdk::Unavailable(error_chain(&e))),
            };
        }
        let (sid, new_session) = match session {
            Some(sid) => (sid, false),
            None => (self.sessions.create(), true),
        };
        let state = self.guard.issue(&sid);
        let redirect_uri = format!("{}/profile/callback", self.public_url);
        let url = match self
            .oauth
            .authorize_url(&redirect_uri, Scope::UserInfo, &state)
        {
            Ok(url) => url,
            Err(e) => return oauth_failure(&e),
        };
        let mut response = pages::redirect(StatusCode::FOUND, &url);
        if new_session && let Ok(cookie) = HeaderValue::from_str(&session::set_cookie(&sid)) {
            response.headers_mut().insert(SET_COOKIE, cookie);
        }
        response
    }

    /// WeChat's redirect back: check the state against the session, spend the code once, fetch
    /// the profile, and redirect to the profile page (post/redirect/get, so a reload does not
    /// spend the code again).
    async fn oauth_callback(
        &self,
        headers: &http::HeaderMap,
        query: &str,
    ) -> Response<Full<Bytes>> {
        let Some(sid) = self.sessions.find(headers) else {
            return pages::message(
                StatusCode::BAD_REQUEST,
                "Session missing",
                "This browser has no session here: cookies may be off, or the sign-in was \
                 started elsewhere.",
            );
        };
        // One call checks the state against this session, spends the code and fetches the
        // profile.
        match self
            .oauth
            .sign_in(&self.guard, &sid, query, Lang::ZhCn)
            .await
        {
            Ok(SignIn::Authorized(Profile::Full(user))) => {
                self.sessions.sign_in(&sid, user);
                pages::redirect(StatusCode::SEE_OTHER, "/profile")
            }
            Ok(SignIn::Denied) => pages::message(
                StatusCode::OK,
                "Not signed in",
                "You declined to share your profile.",
            ),
            Ok(_) => pages::message(
                StatusCode::OK,
                "Not signed in",
                "WeChat gave no profile for this sign-in.",
            ),
            // The same callback twice: the first one signed the session in.
            Err(OAuthError::CodeAlreadyUsed(_)) if self.sessions.user(&sid).is_some() => {
                pages::redirect(StatusCode::SEE_OTHER, "/profile")
            }
            Err(OAuthError::State(e)) => pages::message(
                StatusCode::FORBIDDEN,
                "Sign-in refused",
                &format!(
                    "This sign-in was not started in this browser, or is more than ten minutes \
                     old ({e})."
                ),
            ),
            Err(e) => oauth_failure(&e),
        }
    }
}

fn oauth_failure(error: &OAuthError) -> Response<Full<Bytes>> {
    pages::message(
        StatusCode::BAD_GATEWAY,
        "Sign-in failed",
        &error_chain(error),
    )
}

/// Serves `account` on `listener` until `shutdown` turns true, then lets in-flight requests
/// finish (up to a second).
pub async fn serve(
    listener: TcpListener,
    account: Arc<Account>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection(stream, Arc::clone(&account), shutdown.clone()));
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        connections.abort_all();
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    account: Arc<Account>,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = service_fn(move |request: Request<Incoming>| {
        let account = Arc::clone(&account);
        async move { Ok::<_, Infallible>(account.handle(request).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
