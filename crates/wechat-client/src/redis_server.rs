//! A throwaway `redis-server` for tests (features `test-util` and `redis`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A Redis server on a free loopback port, with nothing saved to disk, killed on drop.
///
/// [`RedisServer::start`] returns `None` with a notice on stderr when `redis-server` is not on
/// `PATH`, so a developer without Redis can still run the rest of a suite; when the environment
/// variable `CI` is set it panics instead, so CI can never skip the Redis tests silently.
///
/// ```no_run
/// # async fn run() {
/// use wechat_client::test_util::RedisServer;
///
/// let Some(redis) = RedisServer::start().await else { return };
/// let store = wechat_client::store::RedisStore::connect(redis.url()).await.unwrap();
/// # drop(store);
/// # }
/// ```
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
    url: String,
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
    /// Starts a server and waits until it answers `PING`. See the type's docs for `None`.
    ///
    /// # Panics
    ///
    /// When `redis-server` is missing under `CI`, cannot be started, or does not answer within
    /// five seconds: this is a test fixture, and a test should stop there.
    pub async fn start() -> Option<RedisServer> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("a free loopback port");
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

    /// The `redis://` URL of the server.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Kills the server; it is gone until [`RedisServer::restart`].
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A new, empty server on the same port.
    pub async fn restart(&mut self) {
        self.stop();
        self.child = spawn(self.port).expect("redis-server starts again");
        self.wait_until_up().await;
    }

    async fn wait_until_up(&self) {
        let client = redis::Client::open(self.url.as_str()).expect("a valid redis URL");
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
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .expect("a valid redis URL")
            .get_multiplexed_async_connection()
            .await
            .expect("redis-server answers")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
