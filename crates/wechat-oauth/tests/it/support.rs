//! A wechat-mock and an `OAuthClient` pointed at it, in process or over loopback, plus what a
//! browser does with the authorization URL.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use wechat_client::test_util::FnTransport;
use wechat_client::{ClientConfig, Endpoints, HttpTransport, HyperTransport, ManualClock, request};
use wechat_crypto::StateKey;
use wechat_mock::{MockServer, MockServerBuilder};
use wechat_oauth::{Callback, OAuthClient, StateGuard};
use wechat_types::AuthCode;
use wechat_types::api::Scope;

/// The mock clock is frozen here, and the client's clock starts at the same second.
pub(crate) const START: i64 = 1_700_000_000;
/// The browser session the states are bound to.
pub(crate) const SESSION: &str = "session-cookie-0123";
/// Where the app wants users back.
pub(crate) const REDIRECT: &str = "https://app.example.com/oauth/callback";

/// How the client reaches the mock.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Via {
    /// `FnTransport` calling `MockService::handle`: no socket.
    InProcess,
    /// The default hyper transport over 127.0.0.1.
    Loopback,
}

pub(crate) struct Harness {
    pub(crate) mock: MockServer,
    pub(crate) client: OAuthClient,
    pub(crate) clock: ManualClock,
    pub(crate) guard: StateGuard,
}

impl Harness {
    pub(crate) async fn start(via: Via) -> Harness {
        Harness::with(via, MockServer::builder()).await
    }

    pub(crate) async fn with(via: Via, builder: MockServerBuilder) -> Harness {
        let mock = builder.frozen_clock(START).start().await;
        let transport: Arc<dyn HttpTransport> = match via {
            Via::InProcess => {
                let service = mock.service();
                Arc::new(FnTransport::new(move |request| {
                    let service = service.clone();
                    async move { Ok(service.handle(request).await) }
                }))
            }
            Via::Loopback => Arc::new(HyperTransport::new().expect("hyper transport")),
        };
        let clock = ManualClock::new(START);
        let config = ClientConfig::new(transport)
            .with_endpoints(Endpoints::single(mock.base_url()))
            .with_clock(Arc::new(clock.clone()));
        let app = mock.app();
        let client = OAuthClient::new(app.appid, app.secret, config);
        let guard = client.state_guard(StateKey::new([42; 32]), Duration::from_secs(600));
        Harness {
            mock,
            client,
            clock,
            guard,
        }
    }

    /// Moves the mock's clock and the client's together.
    pub(crate) fn advance(&self, secs: u64) {
        self.mock.advance_clock(secs);
        self.clock.advance(i64::try_from(secs).unwrap());
    }

    /// The client's clock.
    pub(crate) fn clock_now(&self) -> i64 {
        wechat_client::Clock::now(&self.clock)
    }

    /// What a client that does not ask for HTML gets from an authorization URL: the fragment
    /// stays in the browser, the page answers 302 at once. Returns the `Location`.
    pub(crate) async fn follow(&self, url: &str) -> String {
        let without_fragment = url.split_once('#').map_or(url, |(u, _)| u);
        let response = self
            .send(request::get(without_fragment, &[]).unwrap())
            .await;
        assert_eq!(response.status(), 302, "{:?}", response.body());
        location(&response)
    }

    pub(crate) async fn send(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        self.client.config().send(request).await.unwrap()
    }

    /// The whole front channel: a state for [`SESSION`], the authorization URL, WeChat's
    /// redirect, the callback parsed and its state verified. Returns the code.
    pub(crate) async fn authorize(&self, scope: Scope) -> AuthCode {
        let state = self.guard.issue(SESSION);
        let url = self.client.authorize_url(REDIRECT, scope, &state).unwrap();
        let callback = Callback::from_query(callback_query(&self.follow(&url).await)).unwrap();
        assert_eq!(callback.state(), state);
        self.guard.verify(callback.state(), SESSION).unwrap();
        match callback {
            Callback::Authorized { code, .. } => code,
            other => panic!("expected a code: {other:?}"),
        }
    }
}

impl Harness {
    /// The consent page's "deny" button for an authorization with `state`: a GET form with the
    /// request's fields and `decision=deny`. Returns where WeChat redirects.
    pub(crate) async fn deny(&self, state: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("flow", "authorize")
            .append_pair("appid", self.client.appid().as_str())
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("response_type", "code")
            .append_pair("scope", "snsapi_userinfo")
            .append_pair("state", state)
            .append_pair("decision", "deny")
            .finish();
        let request = http::Request::get(format!(
            "{}/mock/oauth/confirm?{query}",
            self.mock.base_url()
        ))
        .body(Bytes::new())
        .unwrap();
        let response = self.send(request).await;
        assert_eq!(response.status(), 302);
        location(&response)
    }

    /// The query of WeChat's redirect back after the user agreed to an authorization started
    /// in `session`.
    pub(crate) async fn redirect_query(&self, session: &str, scope: Scope) -> String {
        let state = self.guard.issue(session);
        let url = self.client.authorize_url(REDIRECT, scope, &state).unwrap();
        callback_query(&self.follow(&url).await).to_owned()
    }
}

pub(crate) fn location(response: &http::Response<Bytes>) -> String {
    response.headers()[http::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

/// The query of a callback URL, as the app's server sees it (no fragment).
pub(crate) fn callback_query(location: &str) -> &str {
    let without_fragment = location.split_once('#').map_or(location, |(u, _)| u);
    without_fragment.split_once('?').map_or("", |(_, q)| q)
}

/// Runs each named `async fn(Via)` as two tests: in process and over loopback.
macro_rules! both_ways {
    ($($name:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::support::Via::InProcess).await
                }
            )*
        }
        mod loopback {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::support::Via::Loopback).await
                }
            )*
        }
    };
}
pub(crate) use both_ways;
