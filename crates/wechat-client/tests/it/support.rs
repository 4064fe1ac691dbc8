//! Shared harness: clients wired to wechat-mock over loopback or in process, and a throwaway
//! Redis server.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
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

/// A Redis server on a free loopback port, killed on drop.
pub(crate) struct RedisServer {
    child: Child,
    port: u16,
    pub(crate) url: String,
}

fn spawn(port: u16) -> std::io::Result<Child> {
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

impl RedisServer {
    /// Starts one, or returns `None` (with a notice) when `redis-server` is not on PATH. Under
    /// CI (`CI` set) a missing Redis fails the test instead.
    pub(crate) async fn start() -> Option<RedisServer> {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = match spawn(port) {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "redis-server is not on PATH, and CI needs it"
                );
                eprintln!("notice: redis-server is not on PATH; skipping a Redis test");
                return None;
            }
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        let server = RedisServer {
            child,
            port,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        server.wait_until_up().await;
        Some(server)
    }

    /// Kills the server (it is gone until [`RedisServer::restart`]).
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A new, empty server on the same port.
    pub(crate) async fn restart(&mut self) {
        self.stop();
        self.child = spawn(self.port).expect("redis-server starts again");
        self.wait_until_up().await;
    }

    async fn wait_until_up(&self) {
        let client = redis::Client::open(self.url.as_str()).unwrap();
        for _ in 0..200 {
            if let Ok(mut connection) = client.get_multiplexed_async_connection().await {
                let pong: Result<String, _> = redis::cmd("PING").query_async(&mut connection).await;
                if pong.is_ok() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server did not answer on port {}", self.port);
    }

    /// A raw connection, to look at keys.
    pub(crate) async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
