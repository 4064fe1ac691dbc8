//! [`MockServer`]: the fake on a loopback socket, its builder, and the in-process
//! [`MockService`].

use std::collections::HashSet;
use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use wechat_types::api::Scope;
use wechat_types::{AccessToken, AuthCode, OpenId};

use crate::bounded::Ring;
use crate::clock::MockClock;
use crate::config::{ConfigError, FileSpec, MAX_USERS_PER_APP, MockApp, MockUser};
use crate::control::DEFAULT_FAKE_USERS;
use crate::fault::{Fault, Faults};
use crate::log::{RecordedRequest, SentMessage};
use crate::router::{Body, MAX_BODY, Shared, dispatch, lock};
use crate::state::limits::CODE_TTL;
use crate::state::{MockStats, Setup, State};

/// Requests kept in the log by default.
const DEFAULT_LOG_CAPACITY: usize = 10_000;
/// How long a connection may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Callback exchanges kept for the console.
const DELIVERY_LOG_CAPACITY: usize = 1_000;
/// How long shutdown waits for in-flight requests before cutting connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is inconsistent (duplicate apps or users, too many of them).
    #[error("invalid wechat-mock configuration")]
    Config(#[from] ConfigError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// One app of the plan: the app, its listed users, and how many to generate.
#[derive(Debug, Clone)]
struct AppPlan {
    app: MockApp,
    users: Vec<MockUser>,
    /// `None`: the builder's `fake_users`.
    generated: Option<usize>,
}

/// Configures a [`MockServer`] before it starts.
///
/// ```
/// use wechat_mock::{MockApp, MockServer, MockUser};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mock = MockServer::builder()
///     .app(MockApp::new("wx0123456789abcdef", "0123456789abcdef0123456789abcdef")
///         .with_oauth_domain("app.example.com"))
///     .fake_users(2)
///     .user(MockUser::new("测试员"))
///     .frozen_clock(1_700_000_000)
///     .start()
///     .await;
/// assert_eq!(mock.users().len(), 3);
/// assert_eq!(mock.users()[0].nickname, "测试员");
/// assert_eq!(mock.now(), 1_700_000_000);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    apps: Vec<AppPlan>,
    /// True once `.app()` chose the default app (a config file then only adds apps).
    default_chosen: bool,
    fake_users: usize,
    addr: SocketAddr,
    frozen_at: Option<i64>,
    log_capacity: usize,
    push_timeout: Duration,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        Self {
            apps: vec![AppPlan {
                app: MockApp::demo(),
                users: Vec::new(),
                generated: None,
            }],
            default_chosen: false,
            fake_users: DEFAULT_FAKE_USERS,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            frozen_at: None,
            log_capacity: DEFAULT_LOG_CAPACITY,
            push_timeout: crate::push::DEFAULT_PUSH_TIMEOUT,
        }
    }
}

impl MockServerBuilder {
    /// Sets the default app (the one [`MockServer::app`] returns), replacing the demo app.
    pub fn app(mut self, app: MockApp) -> Self {
        self.apps[0].app = app;
        self.default_chosen = true;
        self
    }

    /// Adds another app, with generated users.
    pub fn add_app(mut self, app: MockApp) -> Self {
        self.apps.push(AppPlan {
            app,
            users: Vec::new(),
            generated: None,
        });
        self
    }

    /// Adds another app with exactly these users.
    pub fn add_app_with_users(mut self, app: MockApp, users: Vec<MockUser>) -> Self {
        self.apps.push(AppPlan {
            app,
            users,
            generated: Some(0),
        });
        self
    }

    /// Adds a user to the default app. Listed users come before generated ones, so the first
    /// one listed is the default user of the OAuth pages.
    pub fn user(mut self, user: MockUser) -> Self {
        self.apps[0].users.push(user);
        self
    }

    /// How many fake users to generate per app (default 5); they are the same on every run.
    pub fn fake_users(mut self, count: usize) -> Self {
        self.fake_users = count.min(MAX_USERS_PER_APP);
        self
    }

    /// The address to listen on (default `127.0.0.1:0`: a free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Stops the mock clock at this unix time: it then moves only by
    /// [`MockServer::advance_clock`], so tests can check exact expiry boundaries.
    pub fn frozen_clock(mut self, unix_secs: i64) -> Self {
        self.frozen_at = Some(unix_secs);
        self
    }

    /// How many requests the log keeps (default 10 000); older ones are dropped.
    pub fn request_log_capacity(mut self, capacity: usize) -> Self {
        self.log_capacity = capacity;
        self
    }

    /// How long a callback has to answer one try of a push or the verification request
    /// (default 5 seconds, as on WeChat). Tests of slow callbacks set a shorter one.
    pub fn push_timeout(mut self, timeout: Duration) -> Self {
        self.push_timeout = timeout;
        self
    }

    /// Adds the apps of a JSON configuration (the binary's `--config` file):
    ///
    /// ```json
    /// {"apps": [{"appid": "wx…", "secret": "…", "token": "…", "aes_key": "…43 chars…",
    ///            "account_id": "gh_…", "name": "…", "callback_url": "…", "callback_mode": "safe",
    ///            "oauth_domain": "…",
    ///            "unionid": true, "ip_whitelist": ["127.0.0.1"], "daily_quota": 2000,
    ///            "users": 3}]}
    /// ```
    ///
    /// Only `appid` is required; `users` is a count of generated users or a list of
    /// `{"nickname", "openid", "unionid", "sex", "country", "province", "city", "language",
    /// "subscribed", "tags", "remark"}` (only `nickname` required). Unless [`app`](Self::app)
    /// chose the default app, the file's first app replaces the demo app; an app whose appid is
    /// already planned replaces it.
    pub fn config_json(mut self, json: &str) -> Result<Self, ConfigError> {
        let file: FileSpec = serde_json::from_str(json).map_err(ConfigError::Json)?;
        for (i, spec) in file.apps.into_iter().enumerate() {
            let crate::config::AppParts { app, users, count } = spec.into_app()?;
            let plan = AppPlan {
                app,
                generated: match (&users, count) {
                    (Some(_), _) => Some(0),
                    (None, count) => count,
                },
                users: users.unwrap_or_default(),
            };
            if i == 0 && !self.default_chosen {
                self.apps[0] = plan;
                self.default_chosen = true;
            } else if let Some(existing) =
                self.apps.iter_mut().find(|p| p.app.appid == plan.app.appid)
            {
                *existing = plan;
            } else {
                self.apps.push(plan);
            }
        }
        Ok(self)
    }

    fn setup(&self) -> Result<Setup, ConfigError> {
        let mut appids = HashSet::new();
        let mut apps = Vec::with_capacity(self.apps.len());
        for plan in &self.apps {
            if !appids.insert(plan.app.appid.as_str()) {
                return Err(ConfigError::DuplicateApp(plan.app.appid.to_string()));
            }
            let mut users = plan.users.clone();
            let generated = plan.generated.unwrap_or(self.fake_users);
            users.extend((0..generated).map(|i| MockUser::generated(&plan.app.appid, i)));
            if users.len() > MAX_USERS_PER_APP {
                return Err(ConfigError::TooMany(format!(
                    "at most {MAX_USERS_PER_APP} users per app"
                )));
            }
            let mut openids = HashSet::new();
            for user in &users {
                if !openids.insert(user.openid.as_str()) {
                    return Err(ConfigError::DuplicateUser(user.openid.to_string()));
                }
            }
            apps.push((plan.app.clone(), users));
        }
        if apps.len() > crate::config::MAX_APPS {
            return Err(ConfigError::TooMany(format!(
                "at most {} apps",
                crate::config::MAX_APPS
            )));
        }
        Ok(Setup { apps })
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// When the configuration is inconsistent or the address cannot be bound: this is the test
    /// entry point, where failing loudly is right. Use [`try_start`](Self::try_start) to handle
    /// the error.
    pub async fn start(self) -> MockServer {
        match self.try_start().await {
            Ok(server) => server,
            Err(e) => panic!("wechat-mock failed to start: {}", crate::error_chain(&e)),
        }
    }

    /// Starts the server, or says why it cannot.
    pub async fn try_start(self) -> Result<MockServer, StartError> {
        let setup = self.setup()?;
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: self.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: self.addr,
            source,
        })?;
        // A wildcard address is not something a client can connect to; loopback is.
        let reachable = match addr.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => {
                SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()))
            }
            ip if ip.is_unspecified() => {
                SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port()))
            }
            _ => addr,
        };
        let clock = MockClock::new(self.frozen_at);
        let state = State::new(&setup, clock.now());
        let shared = Arc::new(Shared {
            clock,
            state: Mutex::new(state),
            log: Mutex::new(Ring::new(self.log_capacity)),
            faults: Mutex::new(Faults::default()),
            base_url: format!("http://{reachable}"),
            setup,
            client: crate::push::client(),
            push_timeout: self.push_timeout,
            deliveries: Mutex::new(Ring::new(DELIVERY_LOG_CAPACITY)),
        });
        let (shutdown, signal) = watch::channel(false);
        let task = tokio::spawn(serve(listener, Arc::clone(&shared), signal));
        Ok(MockServer {
            service: MockService { shared },
            addr,
            shutdown,
            task: Some(task),
        })
    }
}

/// The fake WeChat servers on a loopback port: `api.weixin.qq.com`, `open.weixin.qq.com` and
/// `mp.weixin.qq.com` paths all on [`base_url`](Self::base_url). Dropping it shuts the server
/// down.
///
/// ```
/// use wechat_mock::{Fault, MockServer};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mock = MockServer::start().await;
/// let app = mock.app();
/// let uri = format!(
///     "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
///     app.appid, app.secret.expose_secret()
/// );
/// let request = http::Request::get(uri.as_str()).body(bytes::Bytes::new()).unwrap();
/// let response = mock.handle(request).await;
/// let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
/// assert_eq!(body["expires_in"], 7200);
/// assert_eq!(mock.request_count("/cgi-bin/token"), 1);
///
/// mock.inject_fault("/cgi-bin/token", Fault::Busy, 1);
/// let request = http::Request::get(uri.as_str()).body(bytes::Bytes::new()).unwrap();
/// let body: serde_json::Value = serde_json::from_slice(mock.handle(request).await.body()).unwrap();
/// assert_eq!(body["errcode"], -1);
/// # }
/// ```
pub struct MockServer {
    service: MockService,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.service.shared.base_url)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts a server on `127.0.0.1:0` with the demo app and 5 fake users.
    pub async fn start() -> MockServer {
        MockServerBuilder::default().start().await
    }

    /// A builder for other apps, users, address or clock.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.service.shared
    }

    /// `http://127.0.0.1:PORT`, no trailing slash: the base of the api, open and mp URLs alike.
    pub fn base_url(&self) -> String {
        self.shared().base_url.clone()
    }

    /// The bound socket address.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// A cloneable in-process handle: answers requests without a socket, and keeps the fake's
    /// state alive (but not the listener) while it exists.
    pub fn service(&self) -> MockService {
        self.service.clone()
    }

    /// Answers a request in process, exactly as over the socket (the caller's IP is
    /// `127.0.0.1`). The URI may be a path (`/cgi-bin/token?…`) or an absolute URL.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.service.handle(request).await
    }

    /// The default app.
    pub fn app(&self) -> MockApp {
        let state = lock(&self.shared().state);
        state
            .apps
            .first()
            .map(|a| a.app.clone())
            .unwrap_or_else(MockApp::demo)
    }

    /// Every app, the default one first.
    pub fn apps(&self) -> Vec<MockApp> {
        self.shared().apps()
    }

    /// Adds an app with these users.
    pub fn add_app(&self, app: MockApp, users: Vec<MockUser>) -> Result<MockApp, ConfigError> {
        self.shared().add_app(app, users)
    }

    /// The default app's users, the default user first.
    pub fn users(&self) -> Vec<MockUser> {
        self.users_of_app(None)
    }

    /// The users of the app `appid` (empty when there is no such app).
    pub fn users_of(&self, appid: &wechat_types::AppId) -> Vec<MockUser> {
        self.users_of_app(Some(appid.as_str()))
    }

    fn users_of_app(&self, appid: Option<&str>) -> Vec<MockUser> {
        self.shared()
            .user_states(appid)
            .map(|users| users.into_iter().map(|u| u.user).collect())
            .unwrap_or_default()
    }

    /// Adds a user to the default app. Their customer-service window starts open.
    pub fn add_user(&self, user: MockUser) -> Result<MockUser, ConfigError> {
        self.shared().add_user(None, user)
    }

    /// Adds a user to the app `appid`.
    pub fn add_user_to(
        &self,
        appid: &wechat_types::AppId,
        user: MockUser,
    ) -> Result<MockUser, ConfigError> {
        self.shared().add_user(Some(appid.as_str()), user)
    }

    /// Follows or unfollows the account as this user (any app). False when there is no such
    /// user.
    pub fn set_subscribed(&self, openid: &OpenId, subscribed: bool) -> bool {
        let now = self.now();
        let mut state = lock(&self.shared().state);
        let Some((app, _)) = state.find_user_anywhere(openid.as_str()) else {
            return false;
        };
        match state.user_mut(app, openid.as_str()) {
            Some(user) => {
                if subscribed && !user.user.subscribed {
                    user.user.subscribe_time = now;
                }
                user.user.subscribed = subscribed;
                true
            }
            None => false,
        }
    }

    /// Records that the user sent the account a message now: opens their 48-hour
    /// customer-service window for 5 messages. (A pushed menu click, follow or QR scan opens the
    /// 1-minute window for 3.) False when there is no such user.
    pub fn record_interaction(&self, openid: &OpenId) -> bool {
        self.shared().record_interaction(None, openid)
    }

    /// Moves the mock clock forward: codes, tokens and windows expire without waiting.
    pub fn advance_clock(&self, secs: u64) {
        self.shared().advance_clock(secs);
    }

    /// The mock clock, unix seconds.
    pub fn now(&self) -> i64 {
        self.shared().clock.now()
    }

    /// The request log, oldest first (the last 10 000 by default). The console's own polls and
    /// the browser's `/favicon.ico` are left out.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared().log).iter().cloned().collect()
    }

    /// How many logged requests had this path (`"/cgi-bin/token"`).
    pub fn request_count(&self, path: &str) -> usize {
        lock(&self.shared().log)
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared().log).clear();
    }

    /// The next `times` calls of `path` (or of every API path for `"*"`) answer with `fault`.
    /// Faults queue: several on one path apply in the order injected. `/mock/` routes are never
    /// faulted.
    pub fn inject_fault(&self, path: &str, fault: Fault, times: usize) {
        lock(&self.shared().faults).inject(path, fault, times);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        lock(&self.shared().faults).clear();
    }

    /// Custom-service messages the accounts sent, oldest first (the last 10 000).
    pub fn custom_messages(&self) -> Vec<SentMessage> {
        lock(&self.shared().state)
            .messages
            .iter()
            .cloned()
            .collect()
    }

    /// Custom-service messages sent to one user.
    pub fn custom_messages_to(&self, openid: &OpenId) -> Vec<SentMessage> {
        lock(&self.shared().state)
            .messages
            .iter()
            .filter(|m| m.touser == *openid)
            .cloned()
            .collect()
    }

    /// An OAuth code of the default app for this user, as if they had just authorized with
    /// `scope` on the authorize page (5 minutes, single use). `None` for an unknown user.
    pub fn oauth_code(&self, openid: &OpenId, scope: Scope) -> Option<AuthCode> {
        let now = self.now();
        let mut state = lock(&self.shared().state);
        state.user(0, openid.as_str())?;
        Some(AuthCode::new(state.issue_code(
            0,
            openid.clone(),
            scope,
            CODE_TTL,
            now,
        )))
    }

    /// A fresh base access_token of the default app, as `cgi-bin/token` would issue (the
    /// previous one stays valid 5 minutes). Not logged as a request.
    pub fn issue_access_token(&self) -> AccessToken {
        let now = self.now();
        let mut state = lock(&self.shared().state);
        AccessToken::new(state.issue_cgi_token(0, now).0)
    }

    /// The generated avatar URL of a user.
    pub fn avatar_url(&self, openid: &OpenId) -> String {
        format!("{}/mock/avatar/{openid}.svg", self.shared().base_url)
    }

    /// What the fake holds in memory (it stays bounded: expired codes and tokens are swept).
    pub fn stats(&self) -> MockStats {
        let mut stats = lock(&self.shared().state).stats();
        stats.requests = lock(&self.shared().log).iter().len();
        stats
    }

    /// Back to the start: the configured apps and users, nothing issued, no menus, messages,
    /// faults or log, the clock without offset.
    pub fn reset(&self) {
        self.shared().reset();
    }

    /// Stops accepting, lets in-flight requests finish (up to a second), and waits for the
    /// server task. Dropping the server does the same without waiting.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        // The serve task stops accepting at once and cuts connections after the grace period;
        // if the runtime is already gone, the task is gone with it.
        let _ = self.shutdown.send(true);
    }
}

/// The fake without a socket: a cloneable handle that answers `http::Request<Bytes>` in process.
/// Get one from [`MockServer::service`]; SDK tests wrap it in their transport trait to skip the
/// network.
#[derive(Clone)]
pub struct MockService {
    shared: Arc<Shared>,
}

impl fmt::Debug for MockService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockService")
            .field("base_url", &self.shared.base_url)
            .finish_non_exhaustive()
    }
}

impl MockService {
    /// Answers a request in process (the caller's IP is `127.0.0.1`).
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let (parts, body) = request.into_parts();
        let body = if body.len() > MAX_BODY {
            Body::TooLarge
        } else {
            Body::Read(body)
        };
        dispatch(&self.shared, parts, body, IpAddr::from(Ipv4Addr::LOCALHOST)).await
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }
}

/// Accepts connections until the shutdown signal, then drains them.
async fn serve(listener: TcpListener, shared: Arc<Shared>, mut signal: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = signal.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection(stream, peer.ip(), Arc::clone(&shared), signal.clone()));
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(target: "wechat_mock", "accept failed: {error}");
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
    peer: IpAddr,
    shared: Arc<Shared>,
    mut signal: watch::Receiver<bool>,
) {
    let service = service_fn(move |request: Request<Incoming>| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(answer(&shared, request, peer).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = signal.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

async fn answer(
    shared: &Arc<Shared>,
    request: Request<Incoming>,
    peer: IpAddr,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Body::Read(collected.to_bytes()),
        Err(_) => Body::TooLarge,
    };
    dispatch(shared, parts, body, peer).await.map(Full::new)
}
