//! What [`Server`](crate::Server) keeps for its connections: the header read timeout and
//! graceful shutdown, at the cost of a flag read each time a connection is polled.
//!
//! hyper's own header read timeout arms a timer for every request head (an allocation, and a
//! registration in Tokio's timer wheel and back out of it), and hyper-util's graceful shutdown
//! polls a `Notified`, which takes a lock, each time a connection is polled; a timer per
//! connection would be polled as often. Here one task per server ticks four times per timeout:
//! it looks at every open connection, and tells the ones that waited a whole timeout for a
//! request head to close (each looks again on its own task first, where heads are read, so a
//! head that came just as the watch looked is answered). The service marks when a connection starts and stops waiting for a
//! head: when a request's head has been read, and when its answer is ready. (The wait counts
//! from the answer being ready rather than written: answers are small enough for the socket's
//! buffer, so the two are the same moment.) Shutting down tells every connection to finish
//! the request it is answering and close.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::CallbackService;
use crate::service::ResponseFuture;

/// `waiting_since` while a request is being answered: not waiting for a head.
const ANSWERING: u64 = u64::MAX;
/// Ticks of the watch per header read timeout.
const TICKS_PER_TIMEOUT: u64 = 4;

/// `Shared::orders` bit: finish the request being answered, then close.
const SHUT_DOWN: u8 = 1;
/// `Shared::orders` bit: no request head seemed to come within the timeout. The connection
/// looks again on its own task before it closes: a head may have come since the watch looked.
const CHECK_OVERDUE: u8 = 2;

/// Every connection of one server.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    /// Ticks of the watch so far: the clock connections note the start of their wait in. A
    /// tick is a quarter of the timeout, so a connection is closed between one and one and a
    /// quarter timeouts after its wait began.
    ticks: AtomicU64,
    /// Connections opened and not yet closed.
    open: AtomicUsize,
    /// Told when the last open connection closes.
    drained: Notify,
    /// Every connection's shared state; closed connections are dropped from it at each tick.
    registry: Mutex<Vec<Weak<Shared>>>,
}

/// What a connection and the server share.
#[derive(Debug)]
struct Shared {
    /// The tick since which the connection waits for a request head, or [`ANSWERING`].
    waiting_since: AtomicU64,
    /// [`SHUT_DOWN`] and [`CHECK_OVERDUE`], as bits.
    orders: AtomicU8,
    /// The connection's task, woken when it is given an order.
    waker: Mutex<Option<Waker>>,
    /// The server's connections, for the tick count.
    server: Arc<Connections>,
}

impl Shared {
    fn give(&self, order: u8) {
        self.orders.fetch_or(order, Ordering::Release);
        // Left in place: the connection stores its waker again only when it changes.
        if let Some(waker) = lock(&self.waker).as_ref() {
            waker.wake_by_ref();
        }
    }

    /// True when the connection has waited longer than the timeout for a request head, as of
    /// tick `now`. A wait that began within the first tick counted is a whole timeout old only
    /// at the fifth.
    fn overdue(&self, now: u64) -> bool {
        let since = self.waiting_since.load(Ordering::Relaxed);
        since != ANSWERING && now.saturating_sub(since) > TICKS_PER_TIMEOUT
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held; a poisoned one is as good as any.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Connections {
    /// Serves `stream` with `service` on `builder`'s settings, watched by this server.
    pub(crate) fn serve(
        self: &Arc<Self>,
        builder: &http1::Builder,
        stream: TcpStream,
        service: CallbackService,
    ) -> WatchedConnection {
        let shared = Arc::new(Shared {
            waiting_since: AtomicU64::new(self.ticks.load(Ordering::Relaxed)),
            orders: AtomicU8::new(0),
            waker: Mutex::new(None),
            server: Arc::clone(self),
        });
        lock(&self.registry).push(Arc::downgrade(&shared));
        self.open.fetch_add(1, Ordering::Relaxed);
        let service = WatchedService {
            service,
            shared: Arc::clone(&shared),
        };
        WatchedConnection {
            conn: builder.serve_connection(TokioIo::new(stream), service),
            shared,
            waker: None,
            shutting_down: false,
            _open: OpenGuard(Arc::clone(self)),
        }
    }

    /// Ticks four times per `timeout`, closing the connections that waited that long for a
    /// request head. Runs until dropped.
    pub(crate) async fn watch(self: Arc<Self>, timeout: Duration) {
        let tick = (timeout / TICKS_PER_TIMEOUT as u32).max(Duration::from_millis(1));
        let mut ticks = tokio::time::interval(tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = self.ticks.fetch_add(1, Ordering::Relaxed) + 1;
            lock(&self.registry).retain(|conn| {
                let Some(conn) = conn.upgrade() else {
                    return false;
                };
                if conn.overdue(now) {
                    conn.give(CHECK_OVERDUE);
                }
                true
            });
        }
    }

    /// Tells every connection to finish the request it is answering and close.
    pub(crate) fn shut_down(&self) {
        for conn in lock(&self.registry).iter().filter_map(Weak::upgrade) {
            conn.give(SHUT_DOWN);
        }
    }

    /// Ready once no connection is open.
    pub(crate) async fn drained(&self) {
        // `notify_one` keeps a permit when nobody waits, so a close between the count and the
        // wait is not missed; a stale permit only costs one more look at the count.
        while self.open.load(Ordering::Acquire) > 0 {
            self.drained.notified().await;
        }
    }
}

/// Counts a connection as open until it is dropped.
#[derive(Debug)]
struct OpenGuard(Arc<Connections>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.drained.notify_one();
        }
    }
}

/// How a watched connection ended.
#[derive(Debug)]
pub(crate) enum Ended {
    /// It closed (the peer closed it, or it shut down) without error.
    Closed,
    /// It failed.
    Failed(hyper::Error),
    /// No request head came within the header read timeout.
    Overdue,
}

pin_project_lite::pin_project! {
    /// A connection as the server runs it: hyper's, with the server's orders looked at each
    /// time it is polled.
    pub(crate) struct WatchedConnection {
        #[pin]
        conn: http1::Connection<TokioIo<TcpStream>, WatchedService>,
        shared: Arc<Shared>,
        // The waker last handed to `shared`: a task's waker rarely changes, so it is cloned
        // and stored (under the lock) only when it does.
        waker: Option<Waker>,
        shutting_down: bool,
        _open: OpenGuard,
    }
}

impl Future for WatchedConnection {
    type Output = Ended;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Ended> {
        let mut this = self.project();
        if !this.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *this.waker = Some(cx.waker().clone());
            *lock(&this.shared.waker) = Some(cx.waker().clone());
        }
        // Read after the waker is stored: an order given since is seen here, or wakes the task.
        let orders = this.shared.orders.load(Ordering::Acquire);
        if orders & CHECK_OVERDUE != 0 {
            // Looked at again here, where requests are read: the watch may have looked just
            // before a head came in.
            if this
                .shared
                .overdue(this.shared.server.ticks.load(Ordering::Relaxed))
            {
                return Poll::Ready(Ended::Overdue);
            }
            this.shared
                .orders
                .fetch_and(!CHECK_OVERDUE, Ordering::Relaxed);
        }
        if orders & SHUT_DOWN != 0 && !*this.shutting_down {
            *this.shutting_down = true;
            this.conn.as_mut().graceful_shutdown();
        }
        this.conn.poll(cx).map(|ended| match ended {
            Ok(()) => Ended::Closed,
            Err(err) => Ended::Failed(err),
        })
    }
}

/// The callback's service, marking when its connection waits for a request head.
#[derive(Debug, Clone)]
pub(crate) struct WatchedService {
    service: CallbackService,
    shared: Arc<Shared>,
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
        self.shared
            .waiting_since
            .store(ANSWERING, Ordering::Relaxed);
        WatchedFuture {
            inner: hyper::service::Service::call(&self.service, request),
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The answer to one request; the connection waits for a head again once it is ready.
pub(crate) struct WatchedFuture {
    inner: ResponseFuture,
    shared: Arc<Shared>,
}

impl Future for WatchedFuture {
    type Output = Result<Response<Full<Bytes>>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let answer = std::task::ready!(self.inner.as_mut().poll(cx));
        let now = self.shared.server.ticks.load(Ordering::Relaxed);
        self.shared.waiting_since.store(now, Ordering::Relaxed);
        Poll::Ready(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(waiting_since: u64) -> Shared {
        Shared {
            waiting_since: AtomicU64::new(waiting_since),
            orders: AtomicU8::new(0),
            waker: Mutex::new(None),
            server: Arc::new(Connections::default()),
        }
    }

    #[test]
    fn a_wait_is_overdue_after_a_whole_timeout_and_never_while_answering() {
        // Noted at tick 3: between 4 and 5 ticks old at tick 8, so a whole timeout (4 ticks)
        // is certain only then.
        let conn = shared(3);
        assert!(!conn.overdue(3));
        assert!(!conn.overdue(7));
        assert!(conn.overdue(8));
        // A head came in since the watch looked: the connection is answering, not waiting.
        conn.waiting_since.store(ANSWERING, Ordering::Relaxed);
        assert!(!conn.overdue(u64::MAX));
    }

    #[test]
    fn every_order_wakes_the_connection_and_orders_add_up() {
        struct Count(AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let conn = shared(0);
        *lock(&conn.waker) = Some(Waker::from(Arc::clone(&count)));
        conn.give(CHECK_OVERDUE);
        conn.give(SHUT_DOWN);
        // The connection does not hand its waker over again after a wake-up (it has not
        // changed), so the second order must find it still there.
        assert_eq!(count.0.load(Ordering::Relaxed), 2);
        assert_eq!(
            conn.orders.load(Ordering::Relaxed),
            CHECK_OVERDUE | SHUT_DOWN
        );
    }
}
