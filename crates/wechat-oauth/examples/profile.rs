//! A small web app that signs the user in with WeChat web authorization (`snsapi_userinfo`) and
//! shows their profile page, against wechat-mock by default.
//!
//! ```text
//! cargo run -p wechat-oauth --example profile
//! cargo run -p wechat-oauth --example profile -- --mock-url http://127.0.0.1:8787
//! cargo run -p wechat-oauth --example profile -- --listen 127.0.0.1:3000
//! ```
//!
//! With no `--mock-url` it starts a wechat-mock in the same process. Open the printed URL in a
//! browser: `/` sends you to the (fake) consent page, where you pick a fake user and allow or
//! deny; `/callback` checks the state against your session cookie, exchanges the code, fetches
//! the profile, and redirects to `/`, which shows it.
//!
//! What it shows beyond the happy path:
//! - the state is signed and bound to the session cookie, so a callback started in another
//!   browser (login CSRF) or more than ten minutes ago is refused;
//! - the callback redirects to `/` once it is done (post/redirect/get), so a reload does not
//!   spend the single-use code twice; a second callback with a used code (40163) for a session
//!   that is already signed in is answered with the profile instead of an error.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rand::RngCore as _;
use tokio::net::TcpListener;
use wechat_client::{ClientConfig, Endpoints};
use wechat_crypto::StateKey;
use wechat_mock::{MockApp, MockServer};
use wechat_oauth::{OAuthClient, OAuthError, Profile, SignIn, StateGuard};
use wechat_types::api::{Lang, Scope, Sex, SnsUserInfo};
use wechat_types::{AppId, AppSecret};

const USAGE: &str = "\
usage: profile [--mock-url URL] [--appid APPID --secret SECRET] [--listen ADDR]

  --mock-url URL   use a running wechat-mock (default: start one in this process)
  --appid APPID    the app to sign in with (default: wechat-mock's demo app)
  --secret SECRET  its AppSecret (default: wechat-mock's demo app's)
  --listen ADDR    where this app listens (default: 127.0.0.1:0, a free port)";

/// The session cookie.
const SESSION_COOKIE: &str = "profile_sid";
/// How long a sign-in may take, from the redirect to WeChat to the callback.
const STATE_TTL: Duration = Duration::from_secs(600);
/// Sessions kept in memory; past it the oldest half is forgotten (an example has no database).
const MAX_SESSIONS: usize = 10_000;

struct Args {
    mock_url: Option<String>,
    appid: Option<String>,
    secret: Option<String>,
    listen: SocketAddr,
}

impl Args {
    /// The arguments, or `None` after printing the usage for `--help`.
    fn parse() -> Result<Option<Args>, String> {
        let mut args = Args {
            mock_url: None,
            appid: None,
            secret: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            if flag == "-h" || flag == "--help" {
                println!("{USAGE}");
                return Ok(None);
            }
            let value = it
                .next()
                .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))?;
            match flag.as_str() {
                "--mock-url" => args.mock_url = Some(value),
                "--appid" => args.appid = Some(value),
                "--secret" => args.secret = Some(value),
                "--listen" => {
                    args.listen = value
                        .parse()
                        .map_err(|e| format!("--listen {value}: {e}"))?;
                }
                _ => return Err(format!("unknown option {flag}\n\n{USAGE}")),
            }
        }
        Ok(Some(args))
    }
}

/// What the app remembers about a browser.
#[derive(Default)]
struct Session {
    /// The signed-in user's profile.
    user: Option<SnsUserInfo>,
    /// When the session was made, to forget the oldest first.
    created: u64,
}

struct App {
    client: OAuthClient,
    guard: StateGuard,
    /// `http://host:port/callback`, registered as the redirect URI.
    callback_url: String,
    sessions: Mutex<HashMap<String, Session>>,
    next_session: std::sync::atomic::AtomicU64,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let Some(args) = Args::parse()? else {
        return Ok(());
    };
    // Keep the in-process mock alive for as long as the app runs.
    let (mock_url, _mock) = match &args.mock_url {
        Some(url) => (url.trim_end_matches('/').to_owned(), None),
        None => {
            let mock = MockServer::start().await;
            (mock.base_url(), Some(mock))
        }
    };
    let demo = MockApp::demo();
    let appid = args.appid.map_or(demo.appid, AppId::new);
    let secret = args.secret.map_or(demo.secret, AppSecret::new);

    let config = ClientConfig::with_default_transport()
        .map_err(|e| format!("cannot build the HTTP transport: {e}"))?
        .with_endpoints(Endpoints::single(&mock_url));
    let client = OAuthClient::new(appid, secret, config);
    // A real deployment loads the key from configuration, so that every instance (and a
    // restart) accepts the states the others issued.
    let guard = client.state_guard(StateKey::generate(), STATE_TTL);

    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let app = Arc::new(App {
        client,
        guard,
        callback_url: format!("http://{addr}/callback"),
        sessions: Mutex::new(HashMap::new()),
        next_session: Default::default(),
    });

    println!("wechat-mock:  {mock_url}");
    println!("open this in a browser:  http://{addr}/");
    println!("(Ctrl-C to stop)");

    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(connection) => connection,
                    Err(e) => {
                        eprintln!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let app = Arc::clone(&app);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let app = Arc::clone(&app);
                        async move { Ok::<_, Infallible>(app.handle(request).await) }
                    });
                    let served = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    if let Err(e) = served
                        && !e.is_incomplete_message()
                    {
                        eprintln!("connection error: {e}");
                    }
                });
            }
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

impl App {
    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        if request.method() != Method::GET {
            return page(
                StatusCode::METHOD_NOT_ALLOWED,
                "Not allowed",
                "<p>GET only.</p>",
            );
        }
        let session = session_cookie(&request);
        let query = request.uri().query().unwrap_or("");
        match request.uri().path() {
            "/" => self.home(session),
            "/callback" => self.callback(session, query).await,
            "/logout" => self.logout(session),
            _ => page(StatusCode::NOT_FOUND, "Not found", "<p>No such page.</p>"),
        }
    }

    /// The profile of a signed-in session; otherwise off to WeChat.
    fn home(&self, session: Option<String>) -> Response<Full<Bytes>> {
        if let Some(user) = session.as_deref().and_then(|sid| self.user_of(sid)) {
            return page(StatusCode::OK, &user.nickname, &profile_html(&user));
        }
        let (sid, new_cookie) = match session.filter(|sid| self.has_session(sid)) {
            Some(sid) => (sid, false),
            None => (self.new_session(), true),
        };
        let state = self.guard.issue(&sid);
        let url = match self
            .client
            .authorize_url(&self.callback_url, Scope::UserInfo, &state)
        {
            Ok(url) => url,
            Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &e),
        };
        let mut response = redirect(StatusCode::FOUND, &url);
        if new_cookie {
            set_session_cookie(&mut response, &sid);
        }
        response
    }

    async fn callback(&self, session: Option<String>, query: &str) -> Response<Full<Bytes>> {
        let Some(sid) = session.filter(|sid| self.has_session(sid)) else {
            return page(
                StatusCode::BAD_REQUEST,
                "Session missing",
                "<p>This browser has no session here: cookies may be off, or the sign-in was \
                 started elsewhere.</p><p><a class=\"btn\" href=\"/\">Sign in</a></p>",
            );
        };
        // One call checks the state against this session, spends the code and fetches the
        // profile.
        let user = match self
            .client
            .sign_in(&self.guard, &sid, query, Lang::ZhCn)
            .await
        {
            Ok(SignIn::Authorized(Profile::Full(user))) => user,
            Ok(SignIn::Denied) => {
                return page(
                    StatusCode::OK,
                    "Not signed in",
                    "<p>You declined to share your profile.</p>\
                     <p><a class=\"btn\" href=\"/\">Try again</a></p>",
                );
            }
            Ok(_) => {
                return page(
                    StatusCode::OK,
                    "Not signed in",
                    "<p>WeChat gave no profile for this sign-in.</p>\
                     <p><a class=\"btn\" href=\"/\">Try again</a></p>",
                );
            }
            // The same callback twice (a reload, a double redirect): the first one signed the
            // session in, so show that instead of an error.
            Err(OAuthError::CodeAlreadyUsed(_)) if self.user_of(&sid).is_some() => {
                return redirect(StatusCode::SEE_OTHER, "/");
            }
            Err(OAuthError::State(e)) => {
                return page(
                    StatusCode::FORBIDDEN,
                    "Sign-in refused",
                    &format!(
                        "<p>This sign-in was not started in this browser, or is more than ten \
                         minutes old ({}).</p><p><a class=\"btn\" href=\"/\">Start again</a></p>",
                        escape(&e.to_string())
                    ),
                );
            }
            Err(e @ OAuthError::InvalidCallback { .. }) => {
                return error_page(StatusCode::BAD_REQUEST, &e);
            }
            Err(e) => return error_page(StatusCode::BAD_GATEWAY, &e),
        };
        if let Some(session) = self.sessions().get_mut(&sid) {
            session.user = Some(user);
        }
        redirect(StatusCode::SEE_OTHER, "/")
    }

    fn logout(&self, session: Option<String>) -> Response<Full<Bytes>> {
        if let Some(sid) = session {
            self.sessions().remove(&sid);
        }
        page(
            StatusCode::OK,
            "Signed out",
            "<p>You are signed out.</p><p><a class=\"btn\" href=\"/\">Sign in again</a></p>",
        )
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn has_session(&self, sid: &str) -> bool {
        self.sessions().contains_key(sid)
    }

    fn user_of(&self, sid: &str) -> Option<SnsUserInfo> {
        self.sessions().get(sid).and_then(|s| s.user.clone())
    }

    /// A new session with an unguessable id: the state is only as strong as this secret.
    fn new_session(&self) -> String {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let sid = bytes.iter().fold(String::with_capacity(32), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        let created = self
            .next_session
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut sessions = self.sessions();
        if sessions.len() >= MAX_SESSIONS {
            let mut ages: Vec<u64> = sessions.values().map(|s| s.created).collect();
            ages.sort_unstable();
            let cutoff = ages[ages.len() / 2];
            sessions.retain(|_, s| s.created > cutoff);
        }
        sessions.insert(
            sid.clone(),
            Session {
                user: None,
                created,
            },
        );
        sid
    }
}

fn session_cookie(request: &Request<Incoming>) -> Option<String> {
    request
        .headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn set_session_cookie(response: &mut Response<Full<Bytes>>, sid: &str) {
    // SameSite=Lax: the cookie comes back on WeChat's top-level redirect to /callback. Over
    // HTTPS add `Secure`.
    let cookie = format!("{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax");
    if let Ok(value) = cookie.parse() {
        response.headers_mut().insert(SET_COOKIE, value);
    }
}

fn redirect(status: StatusCode, to: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    if let Ok(value) = to.parse() {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

fn error_page(status: StatusCode, error: &OAuthError) -> Response<Full<Bytes>> {
    // The whole chain of causes, for the developer running the example.
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    page(
        status,
        "Sign-in failed",
        &format!(
            "<p>{}</p><p><a class=\"btn\" href=\"/\">Try again</a></p>",
            escape(&text)
        ),
    )
}

fn profile_html(user: &SnsUserInfo) -> String {
    let sex = match user.sex {
        Sex::Male => "Male",
        Sex::Female => "Female",
        Sex::Unknown => "Not shared",
    };
    let or_dash = |s: &str| {
        if s.is_empty() {
            "—".to_owned()
        } else {
            escape(s)
        }
    };
    // Only web URLs become an image source.
    let avatar =
        if user.headimgurl.starts_with("https://") || user.headimgurl.starts_with("http://") {
            format!(
                "<img class=\"avatar\" src=\"{}\" alt=\"\">",
                escape(&user.headimgurl)
            )
        } else {
            "<div class=\"avatar\"></div>".to_owned()
        };
    let mut rows = String::new();
    let mut row = |label: &str, value: String| {
        let _ = write!(rows, "<tr><th>{label}</th><td>{value}</td></tr>");
    };
    row(
        "OpenID",
        format!("<code>{}</code>", escape(user.openid.as_str())),
    );
    if let Some(unionid) = &user.unionid {
        row(
            "UnionID",
            format!("<code>{}</code>", escape(unionid.as_str())),
        );
    }
    row("Sex", sex.to_owned());
    row("Country", or_dash(&user.country));
    row("Province", or_dash(&user.province));
    row("City", or_dash(&user.city));
    format!(
        "<header>{avatar}<div><h1>{nickname}</h1><p class=\"muted\">Signed in with WeChat</p>\
         </div></header><table>{rows}</table>\
         <p><a class=\"btn secondary\" href=\"/logout\">Sign out</a></p>",
        nickname = or_dash(&user.nickname),
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response<Full<Bytes>> {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main class=\"card\">{body}</main></body></html>",
        title = escape(title),
    );
    let mut response = Response::new(Full::new(Bytes::from(html)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, "text/html; charset=utf-8".parse().unwrap());
    // Profiles are personal: no shared caches, no back-button copies after sign-out.
    headers.insert(CACHE_CONTROL, "no-store".parse().unwrap());
    response
}

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1f2328;--muted:#6e7781;--bg:#f4f5f7;--card:#fff;--line:#e5e7eb;--green:#07c160}\
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#8b949e;--bg:#0d1117;--card:#161b22;--line:#30363d}}\
*{box-sizing:border-box}\
body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--fg);\
font:16px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif}\
.card{width:min(92vw,440px);background:var(--card);border:1px solid var(--line);border-radius:16px;padding:28px}\
header{display:flex;gap:18px;align-items:center;margin-bottom:20px}\
h1{font-size:1.4rem;margin:0}\
.muted{color:var(--muted);margin:2px 0 0}\
.avatar{width:72px;height:72px;border-radius:50%;background:var(--line);object-fit:cover;flex:none}\
table{width:100%;border-collapse:collapse}\
th,td{text-align:left;padding:10px 0;border-top:1px solid var(--line);vertical-align:top}\
th{color:var(--muted);font-weight:500;width:34%}\
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}\
.btn{display:inline-block;margin-top:18px;padding:9px 18px;border-radius:8px;background:var(--green);\
color:#fff;text-decoration:none;font-weight:600}\
.btn.secondary{background:transparent;color:var(--fg);border:1px solid var(--line)}";

/// Escapes text for HTML content and quoted attributes.
fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}
