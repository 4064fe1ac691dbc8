//! The wechat-rs demo: [wechat-mock](wechat_mock) and a demo official account built on the SDK
//! ([`account`]), wired together on loopback. `cargo run --release -p wechat-demo` starts both
//! and prints the console URL; this library does the same on free ports for tests.
//!
//! ```
//! use wechat_demo::{Demo, DemoConfig};
//! use wechat_mock::UserAction;
//! use wechat_types::xml::{PassiveReply, Reply};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let demo = Demo::start(DemoConfig::ephemeral()).await?;
//! println!("console: {}", demo.console_url());
//!
//! // A fake user sends a text; the mock delivers it to the demo's callback URL, encrypted
//! // (safe mode), and checks the answer as WeChat would.
//! let user = demo.mock().users()[0].openid.clone();
//! let outcome = demo.mock().push(&user, UserAction::text("hello")).await;
//! assert_eq!(outcome.problem, None);
//! match outcome.reply {
//!     Some(PassiveReply::Message(message)) => {
//!         assert_eq!(message.reply, Reply::text("You said: hello"));
//!     }
//!     other => panic!("expected a passive reply, got {other:?}"),
//! }
//! demo.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The wiring ([`Demo::start`]):
//! 1. binds the demo account's port, so its URL is known;
//! 2. starts wechat-mock with the demo app, whose OAuth domain is the account's `host:port`
//!    (so the mock checks `redirect_uri` as WeChat checks it);
//! 3. sets the account up with the app's credentials and the mock as WeChat's hosts, and
//!    creates its menu through the API;
//! 4. serves the account, then configures the app's callback URL on the mock, which runs
//!    WeChat's verification handshake against it.

pub mod account;

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wechat_client::{Client, Endpoints};
use wechat_mock::{CallbackMode, MockApp, MockServer};

use account::{Account, AccountConfig, AccountError};

/// The path of the JS-SDK script on WeChat's resource host (`res.wx.qq.com`), which wechat-mock
/// serves too.
const JSSDK_PATH: &str = "/open/js/jweixin-1.6.0.js";

/// Where the demo listens, and the callback mode it configures.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DemoConfig {
    /// wechat-mock's address (default `127.0.0.1:8787`).
    pub mock_addr: SocketAddr,
    /// The demo account's address (default `127.0.0.1:8788`).
    pub addr: SocketAddr,
    /// The message encryption mode set on the (fake) WeChat console (default safe mode).
    pub mode: CallbackMode,
    /// How long the slow command takes (default 6 s: past WeChat's 5-second window).
    pub slow_answer_delay: Duration,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            mock_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 8787)),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 8788)),
            mode: CallbackMode::Safe,
            slow_answer_delay: Duration::from_secs(6),
        }
    }
}

impl DemoConfig {
    /// Both servers on free loopback ports, safe mode: for tests.
    pub fn ephemeral() -> Self {
        Self {
            mock_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            ..Self::default()
        }
    }

    /// Sets the callback mode.
    pub fn with_mode(mut self, mode: CallbackMode) -> Self {
        self.mode = mode;
        self
    }
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The demo account's address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// wechat-mock did not start (its port is taken, say).
    #[error("wechat-mock did not start")]
    Mock(#[source] wechat_mock::StartError),
    /// The account could not be set up.
    #[error("the demo account could not be set up")]
    Account(#[source] AccountError),
    /// The mock refused the callback URL (the verification handshake failed).
    #[error("wechat-mock refused the callback URL {url}")]
    Callback {
        /// The callback URL.
        url: String,
        /// Why.
        #[source]
        source: wechat_mock::PushError,
    },
}

/// wechat-mock and the demo account, running. Dropping it stops both (use
/// [`shutdown`](Self::shutdown) to wait until they have stopped).
pub struct Demo {
    mock: MockServer,
    account: Arc<Account>,
    url: String,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Demo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Demo")
            .field("console_url", &self.console_url())
            .field("demo_url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Demo {
    /// Starts wechat-mock and the demo account, and wires them together (see the
    /// [crate docs](crate)).
    pub async fn start(config: DemoConfig) -> Result<Demo, DemoError> {
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| DemoError::Bind {
                addr: config.addr,
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| DemoError::Bind {
            addr: config.addr,
            source,
        })?;
        let reachable = reachable(bound);
        let url = format!("http://{reachable}");

        let app = MockApp::demo().with_oauth_domain(reachable.to_string());
        let mock = MockServer::builder()
            .bind(config.mock_addr)
            .app(app.clone())
            .try_start()
            .await
            .map_err(DemoError::Mock)?;

        // What a developer copies from the WeChat console into their configuration.
        let account_config =
            AccountConfig::new(app.appid, app.secret, app.token, app.aes_key, url.clone())
                .with_endpoints(Endpoints::single(mock.base_url()))
                // The JS-SDK from its real path on WeChat's host, here the mock's stand-in.
                .with_jssdk_script(format!("{}{JSSDK_PATH}", mock.base_url()))
                .with_slow_answer_delay(config.slow_answer_delay);
        let account = Arc::new(Account::new(account_config).map_err(DemoError::Account)?);
        account.create_menu().await.map_err(DemoError::Account)?;

        let (shutdown, signal) = watch::channel(false);
        let task = tokio::spawn(account::serve(listener, Arc::clone(&account), signal));
        let demo = Demo {
            mock,
            account,
            url,
            shutdown,
            task: Some(task),
        };

        let callback_url = demo.account.callback_url();
        demo.mock
            .set_callback(&callback_url, config.mode)
            .await
            .map_err(|source| DemoError::Callback {
                url: callback_url,
                source,
            })?;
        Ok(demo)
    }

    /// The console: wechat-mock's base URL and `/`.
    pub fn console_url(&self) -> String {
        format!("{}/", self.mock.base_url())
    }

    /// The demo account's base URL (`http://127.0.0.1:PORT`, no trailing slash).
    pub fn demo_url(&self) -> &str {
        &self.url
    }

    /// The page the "My profile" menu button opens; `GET` starts the OAuth flow.
    pub fn profile_url(&self) -> String {
        self.account.profile_url()
    }

    /// The account's callback URL, as configured on the mock.
    pub fn callback_url(&self) -> String {
        self.account.callback_url()
    }

    /// The running wechat-mock: push messages as fake users, read conversations, move the clock.
    pub fn mock(&self) -> &MockServer {
        &self.mock
    }

    /// The demo account's API client.
    pub fn client(&self) -> &Client {
        self.account.client()
    }

    /// Stops the demo account and waits for it (in-flight requests get up to a second);
    /// wechat-mock stops as it is dropped, right after.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// A wildcard address is not something a browser can open; loopback is.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => {
            SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()))
        }
        ip if ip.is_unspecified() => SocketAddr::from((Ipv6Addr::LOCALHOST, addr.port())),
        _ => addr,
    }
}

/// An error and its causes on one line, as wechat-mock words its own diagnoses.
pub use wechat_mock::error_chain;
