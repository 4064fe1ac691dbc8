//! Shared harness: clients wired to wechat-mock over loopback or in process, and a throwaway
//! Redis server.

use std::sync::Arc;
use std::time::Duration;

use wechat_client::store::TokenStore;
use wechat_client::test_util::FnTransport;
use wechat_client::{
    Client, ClientBuilder, ClientConfig, Endpoints, HyperTransport, ManualClock, TokenSource,
};
use wechat_mock::MockServer;

/// How a client reaches the mock.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Via {
    /// `HyperTransport` over 127.0.0.1.
    Loopback,
    /// `FnTransport` calling `MockService::handle`, no socket.
    InProcess,
}

pub(crate) const BOTH: [Via; 2] = [Via::Loopback, Via::InProcess];

/// A client config for `mock` with a manual clock in step with the mock's.
pub(crate) fn config(mock: &MockServer, via: Via, clock: &ManualClock) -> ClientConfig {
    let config = match via {
        Via::Loopback => ClientConfig::new(Arc::new(
            HyperTransport::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        )),
        Via::InProcess => {
            let service = mock.service();
            ClientConfig::new(Arc::new(FnTransport::new(move |request| {
                let service = service.clone();
                async move { Ok(service.handle(request).await) }
            })))
        }
    };
    config
        .with_endpoints(Endpoints::single(mock.base_url()))
        .with_clock(Arc::new(clock.clone()))
}

/// A clock set to the mock's time.
pub(crate) fn clock_of(mock: &MockServer) -> ManualClock {
    ManualClock::new(mock.now())
}

/// Moves the mock and the client's clock together.
pub(crate) fn advance(mock: &MockServer, clock: &ManualClock, secs: u64) {
    mock.advance_clock(secs);
    clock.advance(secs as i64);
}

/// A builder for the mock's default app.
pub(crate) fn builder(mock: &MockServer, via: Via, clock: &ManualClock) -> ClientBuilder {
    let app = mock.app();
    Client::builder(app.appid, app.secret).config(config(mock, via, clock))
}

/// A client of the mock's default app.
pub(crate) fn client(mock: &MockServer, via: Via, clock: &ManualClock) -> Client {
    builder(mock, via, clock).build().unwrap()
}

/// A client of the mock's default app with a chosen token source and store.
pub(crate) fn client_with(
    mock: &MockServer,
    via: Via,
    clock: &ManualClock,
    source: TokenSource,
    store: Arc<dyn TokenStore>,
) -> Client {
    builder(mock, via, clock)
        .token_source(source)
        .store(store)
        .build()
        .unwrap()
}

pub(crate) use wechat_client::test_util::RedisServer;
