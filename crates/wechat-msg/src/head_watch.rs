//! The header read timeout of [`Server`](crate::Server), at a cost of one clock read a request.
//!
//! hyper's own header read timeout arms a timer for every request head (an allocation, and a
//! registration in Tokio's timer wheel and back out of it). Here each connection has one timer
//! that ticks four times per timeout, and the service marks when the connection starts and stops
//! waiting for a head: when a request's head has been read, and when its answer is ready. (The
//! wait counts from the answer being ready rather than written: answers are small enough for
//! the socket's buffer, so the two are the same moment.)

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use tokio::time::Instant;

use crate::CallbackService;
use crate::service::ResponseFuture;

/// Answering a request: not waiting for a head.
const ANSWERING: u64 = u64::MAX;

/// How long one connection has been waiting for a request head.
#[derive(Debug)]
pub(crate) struct HeadWatch {
    opened: Instant,
    /// Milliseconds from `opened` to when the wait began, or [`ANSWERING`].
    waiting_since: AtomicU64,
}

impl HeadWatch {
    /// A watch for a connection that has just opened (and so waits for its first head), and
    /// `service` reporting to it.
    pub(crate) fn wrap(service: CallbackService) -> (Arc<HeadWatch>, WatchedService) {
        let watch = Arc::new(HeadWatch {
            opened: Instant::now(),
            waiting_since: AtomicU64::new(0),
        });
        let service = WatchedService {
            service,
            watch: Arc::clone(&watch),
        };
        (watch, service)
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// A head was read: the request is being answered.
    fn head_read(&self) {
        self.waiting_since.store(ANSWERING, Ordering::Relaxed);
    }

    /// The answer is ready: the connection waits for its next head.
    fn answered(&self) {
        self.waiting_since.store(self.millis(), Ordering::Relaxed);
    }

    /// Completes once the connection has waited `timeout` for a head; checked every quarter of
    /// `timeout`.
    pub(crate) async fn overdue(&self, timeout: Duration) {
        let tick = (timeout / 4).max(Duration::from_millis(1));
        let timeout = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let mut ticks = tokio::time::interval(tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let since = self.waiting_since.load(Ordering::Relaxed);
            if since != ANSWERING && self.millis().saturating_sub(since) >= timeout {
                return;
            }
        }
    }
}

/// [`CallbackService`] for one connection, reporting to its [`HeadWatch`].
#[derive(Debug, Clone)]
pub(crate) struct WatchedService {
    service: CallbackService,
    watch: Arc<HeadWatch>,
}

impl<B> hyper::service::Service<Request<B>> for WatchedService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = WatchedFuture;

    fn call(&self, request: Request<B>) -> Self::Future {
        self.watch.head_read();
        WatchedFuture {
            inner: hyper::service::Service::call(&self.service, request),
            watch: Arc::clone(&self.watch),
        }
    }
}

/// The answer to one request; the connection waits for a head again once it is ready.
pub(crate) struct WatchedFuture {
    inner: ResponseFuture,
    watch: Arc<HeadWatch>,
}

impl Future for WatchedFuture {
    type Output = Result<Response<Full<Bytes>>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let answer = std::task::ready!(self.inner.as_mut().poll(cx));
        self.watch.answered();
        Poll::Ready(answer)
    }
}
