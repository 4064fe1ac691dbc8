//! A ready HTTP/1.1 server for the callback, for when there is no web framework around it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::connections::{Connections, Ended};
use crate::{Callback, CallbackService};

/// An HTTP/1.1 server for one [`Callback`], with a header read timeout, a body timeout, a body
/// limit and graceful shutdown.
///
/// ```no_run
/// # async fn run(callback: wechat_msg::Callback) -> std::io::Result<()> {
/// use wechat_msg::Server;
///
/// let server = Server::bind("127.0.0.1:8080", callback).await?.path("/wechat");
/// println!("listening on {}", server.local_addr()?);
/// server.run_until(async { tokio::signal::ctrl_c().await.ok(); }).await
/// # }
/// ```
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    service: CallbackService,
    header_read_timeout: Duration,
    shutdown_timeout: Duration,
}

impl Server {
    /// Default time a client has to send the request head.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default time open requests get to finish after shutdown is asked for.
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

    /// Listens on `addr` (port 0 for any free port).
    pub async fn bind(addr: impl ToSocketAddrs, callback: Callback) -> io::Result<Self> {
        Ok(Self::from_listener(
            TcpListener::bind(addr).await?,
            callback,
        ))
    }

    /// Serves on a listener bound already.
    pub fn from_listener(listener: TcpListener, callback: Callback) -> Self {
        Self {
            listener,
            service: CallbackService::new(callback),
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            shutdown_timeout: Self::DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Answers only requests to `path` (others get 404). By default every path is the callback.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.service = self.service.only_path(path);
        self
    }

    /// How long a connection may wait for a request head (from when it opens, or from the
    /// previous answer, to the end of the next head) before it is closed. Checked four times per
    /// timeout (at most every millisecond, at least every hour), so a connection goes between
    /// the timeout and one check after it: a quarter more, usually. `Duration::MAX` never closes
    /// a connection for waiting.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a client may take to send the body before it is answered 408.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.service = self.service.body_timeout(timeout);
        self
    }

    /// How long open requests get to finish once shutdown is asked for.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Serves until the process ends.
    pub async fn run(self) -> io::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `signal` completes, then stops accepting, lets open requests finish (up to
    /// the shutdown timeout) and returns.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> io::Result<()> {
        let connections = Arc::new(Connections::new(self.header_read_timeout));
        // No hyper timer: its header read timeout arms a timer for every request (about 2 100
        // instructions a request under callgrind). One watch for all connections does the
        // same job (see `connections`). It stops with this future, however that ends.
        let _watch = AbortOnDrop(tokio::spawn(Arc::clone(&connections).watch()));
        let mut builder = http1::Builder::new();
        // Said outright, so hyper does not look for the timer it would need for its own.
        builder.header_read_timeout(None);
        let mut signal = std::pin::pin!(signal);
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = &mut signal => break,
            };
            let (stream, peer) = match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            // A reply is one small write that WeChat waits for: never hold it back for Nagle.
            let _ = stream.set_nodelay(true);
            let conn = connections.serve(&builder, stream, self.service.clone());
            tokio::spawn(async move {
                match conn.await {
                    Ended::Closed => {}
                    Ended::Failed(err) => {
                        tracing::debug!(%peer, error = %err, "connection ended with an error")
                    }
                    Ended::Overdue => tracing::debug!(
                        %peer,
                        "no request head within the header read timeout; connection closed"
                    ),
                }
            });
        }
        drop(self.listener);
        connections.shut_down();
        if tokio::time::timeout(self.shutdown_timeout, connections.drained())
            .await
            .is_err()
        {
            tracing::warn!("shutdown timeout reached with connections still open");
        }
        Ok(())
    }
}

/// A spawned task that ends when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves `callback` on `addr` at every path until Ctrl-C, then shuts down gracefully.
///
/// ```no_run
/// # async fn run(callback: wechat_msg::Callback) -> std::io::Result<()> {
/// wechat_msg::serve("0.0.0.0:8080", callback).await
/// # }
/// ```
pub async fn serve(addr: impl ToSocketAddrs, callback: Callback) -> io::Result<()> {
    let server = Server::bind(addr, callback).await?;
    tracing::info!(addr = %server.local_addr()?, "wechat callback listening");
    server
        .run_until(async {
            if let Err(err) = tokio::signal::ctrl_c().await {
                tracing::warn!(error = %err, "cannot listen for Ctrl-C; serving until killed");
                std::future::pending::<()>().await;
            }
        })
        .await
}
