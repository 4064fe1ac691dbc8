//! Starting the demo on free ports, and a plain HTTP/1.1 client that follows nothing by itself.

use std::time::Duration;

use bytes::Bytes;
use http::header::{COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use wechat_demo::{Demo, DemoConfig};

pub(crate) async fn start() -> Demo {
    start_with(DemoConfig::ephemeral()).await
}

pub(crate) async fn start_with(config: DemoConfig) -> Demo {
    match Demo::start(config).await {
        Ok(demo) => demo,
        Err(e) => panic!("the demo did not start: {}", wechat_demo::error_chain(&e)),
    }
}

/// An answer, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no Location in {self:?}"))
    }

    /// `name=value` of the first `Set-Cookie`, attributes dropped.
    pub(crate) fn cookie(&self) -> Option<String> {
        let value = self.headers.get(SET_COOKIE)?.to_str().ok()?;
        Some(value.split(';').next()?.to_owned())
    }
}

/// A client without redirects or cookies, so each hop of a flow is visible.
pub(crate) struct Browser {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Browser {
    pub(crate) fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub(crate) async fn get(&self, url: &str, cookie: Option<&str>) -> Answer {
        // The fragment never leaves a browser.
        let url = url.split('#').next().unwrap_or(url);
        let mut request = Request::get(url);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let request = request.body(Full::new(Bytes::new())).unwrap();
        let response = tokio::time::timeout(Duration::from_secs(20), self.client.request(request))
            .await
            .unwrap_or_else(|_| panic!("GET {url} timed out"))
            .unwrap_or_else(|e| panic!("GET {url} failed: {e}"));
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}
