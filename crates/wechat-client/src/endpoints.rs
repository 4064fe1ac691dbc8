//! The three WeChat hosts, each overridable so the SDK can point at wechat-mock.

/// Base URLs of the API (`api.weixin.qq.com`), OAuth pages (`open.weixin.qq.com`) and mp
/// (`mp.weixin.qq.com`) hosts.
///
/// ```
/// use wechat_client::Endpoints;
///
/// let real = Endpoints::wechat();
/// assert_eq!(real.api(), "https://api.weixin.qq.com");
/// let mock = Endpoints::single("http://127.0.0.1:8787/");
/// assert_eq!(mock.url_api("/cgi-bin/token"), "http://127.0.0.1:8787/cgi-bin/token");
/// assert_eq!(mock.open(), "http://127.0.0.1:8787");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    api: String,
    open: String,
    mp: String,
}

impl Endpoints {
    /// WeChat's real hosts.
    pub fn wechat() -> Self {
        Self::new(
            "https://api.weixin.qq.com",
            "https://open.weixin.qq.com",
            "https://mp.weixin.qq.com",
        )
    }

    /// All three hosts at one base URL, as wechat-mock serves them.
    pub fn single(base: impl AsRef<str>) -> Self {
        let base = base.as_ref();
        Self::new(base, base, base)
    }

    /// Three explicit base URLs (scheme and host, optionally a path prefix).
    pub fn new(api: impl AsRef<str>, open: impl AsRef<str>, mp: impl AsRef<str>) -> Self {
        let trim = |s: &str| s.trim_end_matches('/').to_owned();
        Self {
            api: trim(api.as_ref()),
            open: trim(open.as_ref()),
            mp: trim(mp.as_ref()),
        }
    }

    /// The API host's base URL.
    pub fn api(&self) -> &str {
        &self.api
    }

    /// The OAuth pages host's base URL.
    pub fn open(&self) -> &str {
        &self.open
    }

    /// The mp host's base URL.
    pub fn mp(&self) -> &str {
        &self.mp
    }

    /// `path` on the API host.
    pub fn url_api(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// `path` on the OAuth pages host.
    pub fn url_open(&self, path: &str) -> String {
        format!("{}{path}", self.open)
    }

    /// `path` on the mp host.
    pub fn url_mp(&self, path: &str) -> String {
        format!("{}{path}", self.mp)
    }
}

impl Default for Endpoints {
    fn default() -> Self {
        Self::wechat()
    }
}
