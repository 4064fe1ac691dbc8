//! A minimal W3C WebDriver client over hyper + serde_json: just what the browser test needs
//! (sessions, navigation, CSS lookup, clicks, keys, text, scripts, screenshots, bounded waits),
//! driving a chromedriver process it starts and stops.

use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// The key of an element reference in WebDriver answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a single WebDriver command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a wait polls.
const POLL: Duration = Duration::from_millis(100);

/// What went wrong, in words (this is test tooling: the message is the product).
#[derive(Debug)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub(crate) type Result<T> = std::result::Result<T, Error>;

/// An error with this message.
pub(crate) fn err(message: impl Into<String>) -> Error {
    Error(message.into())
}

/// A chromedriver process on a free loopback port. Dropping it kills the process.
pub(crate) struct Driver {
    child: Child,
    base: String,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl Driver {
    /// Starts `chromedriver` and waits (up to 10 s) until it says it is ready.
    pub(crate) async fn start(chromedriver: &Path) -> Result<Driver> {
        let port = free_port()?;
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| err(format!("cannot start {}: {e}", chromedriver.display())))?;
        let driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: Client::builder(TokioExecutor::new()).build_http(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(status) = driver.command(Method::GET, "/status", None).await
                && status["ready"] == true
            {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                return Err(err("chromedriver did not become ready within 10 s"));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// A new headless Chromium session with a fresh profile in `profile_dir`.
    pub(crate) async fn session(
        &self,
        chromium: &Path,
        profile_dir: &Path,
        window: (u32, u32),
    ) -> Result<Session<'_>> {
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={},{}", window.0, window.1),
            format!("--user-data-dir={}", profile_dir.display()),
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium.display().to_string(),
                        "args": args,
                    },
                },
            },
        });
        let value = self
            .command(Method::POST, "/session", Some(capabilities))
            .await?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| err(format!("no sessionId in {value}")))?
            .to_owned();
        Ok(Session { driver: self, id })
    }

    /// Sends one command; answers its `value`, or the WebDriver error as text.
    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let uri = format!("{}{path}", self.base);
        let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
        let request = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header("content-type", "application/json; charset=utf-8")
            .body(Full::new(body))
            .map_err(|e| err(format!("bad request {uri}: {e}")))?;
        let response = tokio::time::timeout(COMMAND_TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| err(format!("{method} {path} timed out")))?
            .map_err(|e| err(format!("{method} {path} failed: {e}")))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| err(format!("{method} {path}: reading the answer: {e}")))?
            .to_bytes();
        let mut answer: Value = serde_json::from_slice(&bytes).map_err(|e| {
            err(format!(
                "{method} {path}: not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            ))
        })?;
        let value = answer["value"].take();
        if !status.is_success() {
            return Err(err(format!(
                "{method} {path}: {} ({})",
                value["error"].as_str().unwrap_or("error"),
                value["message"]
                    .as_str()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
            )));
        }
        Ok(value)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Our own child, by its handle; the browser it started goes with its session.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| err(format!("cannot find a free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| err(format!("cannot find a free port: {e}")))
}

/// A browser session. [`Session::quit`] closes the browser; the driver's drop kills what is
/// left if a test fails first.
pub(crate) struct Session<'d> {
    driver: &'d Driver,
    id: String,
}

/// A found element.
#[derive(Debug, Clone)]
pub(crate) struct Element {
    id: String,
    /// The selector that found it, for error messages.
    css: String,
}

impl Session<'_> {
    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let path = format!("/session/{}{path}", self.id);
        self.driver.command(method, &path, body).await
    }

    /// Opens `url` and waits for the page to load.
    pub(crate) async fn goto(&self, url: &str) -> Result<()> {
        self.command(Method::POST, "/url", Some(json!({ "url": url })))
            .await
            .map(drop)
    }

    /// The current page's URL.
    pub(crate) async fn url(&self) -> Result<String> {
        let value = self.command(Method::GET, "/url", None).await?;
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| err(format!("the URL is not a string: {value}")))
    }

    /// The current page's HTML.
    pub(crate) async fn source(&self) -> Result<String> {
        let value = self.command(Method::GET, "/source", None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The first element matching `css`, now.
    pub(crate) async fn find(&self, css: &str) -> Result<Element> {
        let value = self
            .command(
                Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await?;
        element(&value, css)
    }

    /// Every element matching `css`, now.
    pub(crate) async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let value = self
            .command(
                Method::POST,
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await?;
        value
            .as_array()
            .ok_or_else(|| err(format!("no element list for {css}: {value}")))?
            .iter()
            .map(|v| element(v, css))
            .collect()
    }

    /// Clicks the element.
    pub(crate) async fn click(&self, element: &Element) -> Result<()> {
        self.command(
            Method::POST,
            &format!("/element/{}/click", element.id),
            Some(json!({})),
        )
        .await
        .map(drop)
        .map_err(|e| err(format!("click {}: {e}", element.css)))
    }

    /// Types `text` into the element.
    pub(crate) async fn send_keys(&self, element: &Element, text: &str) -> Result<()> {
        self.command(
            Method::POST,
            &format!("/element/{}/value", element.id),
            Some(json!({ "text": text })),
        )
        .await
        .map(drop)
        .map_err(|e| err(format!("type into {}: {e}", element.css)))
    }

    /// The element's rendered text.
    pub(crate) async fn text(&self, element: &Element) -> Result<String> {
        let value = self
            .command(Method::GET, &format!("/element/{}/text", element.id), None)
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and answers what it returns.
    pub(crate) async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.command(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Resizes the window.
    pub(crate) async fn resize(&self, width: u32, height: u32) -> Result<()> {
        self.command(
            Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await
        .map(drop)
    }

    /// A PNG of the viewport.
    pub(crate) async fn screenshot(&self) -> Result<Vec<u8>> {
        let value = self.command(Method::GET, "/screenshot", None).await?;
        let encoded = value
            .as_str()
            .ok_or_else(|| err("the screenshot is not a string"))?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| err(format!("the screenshot is not base64: {e}")))
    }

    /// Polls `check` until it answers `Some`, for at most `timeout`; the error says what was
    /// awaited and the last failure seen.
    pub(crate) async fn wait_until<T, F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("not yet");
        loop {
            match check().await {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => {}
                Err(e) => last = e.to_string(),
            }
            if Instant::now() > deadline {
                return Err(err(format!(
                    "waited {:.0} s for {what}; last: {last}",
                    timeout.as_secs_f64()
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for an element matching `css`.
    pub(crate) async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        self.wait_until(&format!("an element {css}"), timeout, || async {
            Ok(Some(self.find(css).await?))
        })
        .await
    }

    /// Closes the browser.
    pub(crate) async fn quit(self) -> Result<()> {
        self.driver
            .command(Method::DELETE, &format!("/session/{}", self.id), None)
            .await
            .map(drop)
    }
}

fn element(value: &Value, css: &str) -> Result<Element> {
    let id = value[ELEMENT_KEY]
        .as_str()
        .ok_or_else(|| err(format!("not an element for {css}: {value}")))?;
    Ok(Element {
        id: id.to_owned(),
        css: css.to_owned(),
    })
}
