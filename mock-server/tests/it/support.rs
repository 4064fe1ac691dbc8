//! A started mock plus a way to reach it: a plain hyper client over 127.0.0.1, or in process.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use wechat_mock::{MockApp, MockServer, MockServerBuilder, MockUser};

/// The frozen start of the mock clock in most tests: exact expiry boundaries are checkable.
pub(crate) const START: i64 = 1_700_000_000;
pub(crate) const REDIRECT: &str = "https://app.example.com/oauth/cb";
pub(crate) const REDIRECT_ENC: &str = "https%3A%2F%2Fapp.example.com%2Foauth%2Fcb";

/// How a test reaches the mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Loopback,
    InProcess,
}

pub(crate) const VIAS: [Via; 2] = [Via::Loopback, Via::InProcess];

/// An answer, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The errcode; 0 when the body has none (a success).
    pub(crate) fn errcode(&self) -> i64 {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        self.json()["errcode"].as_i64().unwrap_or(0)
    }

    pub(crate) fn errmsg(&self) -> String {
        self.json()["errmsg"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn location(&self) -> String {
        assert_eq!(self.status, StatusCode::FOUND, "{}", self.text());
        self.headers["location"].to_str().unwrap().to_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

/// A query parameter of a URL.
pub(crate) fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub(crate) struct Mock {
    pub(crate) server: MockServer,
    pub(crate) via: Via,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Mock {
    /// The default mock with a frozen clock.
    pub(crate) async fn start(via: Via) -> Mock {
        Mock::with(via, MockServer::builder().frozen_clock(START)).await
    }

    pub(crate) async fn with(via: Via, builder: MockServerBuilder) -> Mock {
        Mock {
            server: builder.start().await,
            via,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub(crate) fn app(&self) -> MockApp {
        self.server.app()
    }

    pub(crate) fn user(&self, index: usize) -> MockUser {
        self.server.users()[index].clone()
    }

    pub(crate) async fn send(&self, request: Request<Bytes>) -> Answer {
        match self.via {
            Via::InProcess => {
                let response = self.server.handle(request).await;
                let (parts, body) = response.into_parts();
                Answer {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                }
            }
            Via::Loopback => {
                let (mut parts, body) = request.into_parts();
                let path = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default();
                parts.uri = format!("{}{path}", self.server.base_url()).parse().unwrap();
                let request = Request::from_parts(parts, Full::new(body));
                let response = self
                    .client
                    .request(request)
                    .await
                    .expect("loopback request");
                let (parts, body) = response.into_parts();
                Answer {
                    status: parts.status,
                    headers: parts.headers,
                    body: body.collect().await.unwrap().to_bytes(),
                }
            }
        }
    }

    pub(crate) async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(builder.body(body.into()).unwrap()).await
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.request(Method::GET, path, &[], Bytes::new()).await
    }

    pub(crate) async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.request(Method::GET, path, headers, Bytes::new()).await
    }

    pub(crate) async fn post(&self, path: &str, body: impl Into<Bytes>) -> Answer {
        self.request(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            body,
        )
        .await
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.post(path, serde_json::to_vec(body).unwrap()).await
    }

    /// A base access_token from `cgi-bin/token`.
    pub(crate) async fn token(&self) -> String {
        let app = self.app();
        let answer = self
            .get(&format!(
                "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
                app.appid,
                app.secret.expose_secret()
            ))
            .await;
        answer.json()["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {}", answer.text()))
            .to_owned()
    }

    /// The authorize URL of the default app.
    pub(crate) fn authorize_url(&self, scope: &str, state: &str) -> String {
        format!(
            "/connect/oauth2/authorize?appid={}&redirect_uri={REDIRECT_ENC}&response_type=code&scope={scope}&state={state}",
            self.app().appid
        )
    }

    /// A code from the authorize page, as an API client (no HTML) gets it.
    pub(crate) async fn code(&self, scope: &str) -> String {
        let location = self.get(&self.authorize_url(scope, "s1")).await.location();
        param(&location, "code").expect("a code")
    }

    pub(crate) fn exchange_url(&self, code: &str) -> String {
        let app = self.app();
        format!(
            "/sns/oauth2/access_token?appid={}&secret={}&code={code}&grant_type=authorization_code",
            app.appid,
            app.secret.expose_secret()
        )
    }

    /// Code exchange answer.
    pub(crate) async fn exchange(&self, code: &str) -> Answer {
        self.get(&self.exchange_url(code)).await
    }

    /// An sns token answer for the default user.
    pub(crate) async fn sns_token(&self, scope: &str) -> Value {
        let code = self.code(scope).await;
        let answer = self.exchange(&code).await;
        assert_eq!(answer.errcode(), 0, "{}", answer.text());
        answer.json()
    }
}
