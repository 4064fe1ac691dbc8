//! What [`Server`](crate::Server) keeps for its connections: the header read timeout and
//! graceful shutdown, at the cost of a flag read each time a connection is polled.
//!
//! hyper's own header read timeout arms a timer for every request head (an allocation, and a
//! registration in Tokio's timer wheel and back out of it), and hyper-util's graceful shutdown
//! polls a `Notified`, which takes a lock, each time a connection is polled; a timer per
//! connection would be polled as often. Here one task per server ticks four times per timeout:
//! it looks at every open connection, and tells the ones that waited a whole timeout for a
//! request head to close (each looks again on its own task first, where heads are read, so a
//! head that came just as the watch looked is answered). The service marks when a connection
//! starts and stops waiting for a head: when a request's head has been read, and when its answer
//! is ready. (The wait counts from the answer being ready rather than written: answers are small
//! enough for the socket's buffer, so the two are the same moment.) Shutting down tells every
//! connection to finish the request it is answering and close.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
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
use crate::lock::lock;
use crate::service::ResponseFuture;

/// `waiting_since` while a request is being answered: not waiting for a head.
const ANSWERING: u64 = u64::MAX;
/// Ticks of the watch per header read timeout, when a tick is within its bounds.
const TICKS_PER_TIMEOUT: u32 = 4;
/// The shortest tick: a shorter timeout is counted in milliseconds.
const MIN_TICK: Duration = Duration::from_millis(1);
/// The longest tick, so that the registry of connections is pruned at least this often.
const MAX_TICK: Duration = Duration::from_secs(3600);

/// `Shared::orders` bit: finish the request being answered, then close.
const SHUT_DOWN: u8 = 1;
/// `Shared::orders` bit: no request head seemed to come within the timeout. The connection
/// looks again on its own task before it closes: a head may have come since the watch looked.
const CHECK_OVERDUE: u8 = 2;

/// Every connection of one server.
#[derive(Debug)]
pub(crate) struct Connections {
    /// How often the watch looks: a quarter of the header read timeout, within
    /// [`MIN_TICK`]..=[`MAX_TICK`].
    tick: Duration,
    /// Whole ticks a connection may wait for a request head: the timeout in ticks, rounded up.
    /// A connection is closed at the first tick after that many have passed since its wait
    /// began: between the timeout and one tick later (a quarter more, usually).
    timeout_ticks: u64,
    /// Ticks of the watch so far: the clock connections note the start of their wait in.
    ticks: AtomicU64,
    /// Connections opened and not yet closed.
    open: AtomicUsize,
    /// Told when the last open connection closes.
    drained: Notify,
    /// Every connection's shared state.
    registry: Mutex<Registry>,
}

/// Every connection's shared state. Closed connections are dropped from it at each tick, and
/// when it has doubled since it was last pruned, so a flood of short connections between two
/// ticks cannot grow it without bound.
#[derive(Debug, Default)]
struct Registry {
    conns: Vec<Weak<Shared>>,
    /// Its length when it was last pruned.
    pruned_len: usize,
}

impl Registry {
    fn add(&mut self, conn: &Arc<Shared>) {
        if self.conns.len() >= (2 * self.pruned_len).max(64) {
            self.prune(|_| true);
        }
        self.conns.push(Arc::downgrade(conn));
    }

    fn prune(&mut self, mut keep: impl FnMut(&Shared) -> bool) {
        self.conns
            .retain(|conn| conn.upgrade().is_some_and(|conn| keep(&conn)));
        self.pruned_len = self.conns.len();
    }
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

    /// True when the connection has waited the whole timeout for a request head, as of tick
    /// `now`. A wait noted at tick `since` began before tick `since + 1`, so it is
    /// `timeout_ticks` old for sure only at `since + timeout_ticks + 1`.
    fn overdue(&self, now: u64) -> bool {
        let since = self.waiting_since.load(Ordering::Relaxed);
        since != ANSWERING && now.saturating_sub(since) > self.server.timeout_ticks
    }
}

impl Connections {
    /// The connections of a server whose header read timeout is `timeout`.
    pub(crate) fn new(timeout: Duration) -> Self {
        let tick = (timeout / TICKS_PER_TIMEOUT).clamp(MIN_TICK, MAX_TICK);
        let timeout_ticks =
            u64::try_from(timeout.as_nanos().div_ceil(tick.as_nanos())).unwrap_or(u64::MAX);
        Self {
            tick,
            timeout_ticks,
            ticks: AtomicU64::new(0),
            open: AtomicUsize::new(0),
            drained: Notify::new(),
            registry: Mutex::new(Registry::default()),
        }
    }

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
        lock(&self.registry).add(&shared);
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

    /// Ticks four times per header read timeout, asking the connections that waited that long
    /// for a request head to close. Runs until dropped.
    pub(crate) async fn watch(self: Arc<Self>) {
        let mut ticks = tokio::time::interval(self.tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = self.ticks.fetch_add(1, Ordering::Relaxed) + 1;
            lock(&self.registry).prune(|conn| {
                if conn.overdue(now) {
                    conn.give(CHECK_OVERDUE);
                }
                true
            });
        }
    }

    /// Tells every connection to finish the request it is answering and close.
    pub(crate) fn shut_down(&self) {
        for conn in lock(&self.registry).conns.iter().filter_map(Weak::upgrade) {
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
        if orders & SHUT_DOWN != 0 && !*this.shutting_down {
            *this.shutting_down = true;
            this.conn.as_mut().graceful_shutdown();
        }
        if let Poll::Ready(ended) = this.conn.as_mut().poll(cx) {
            return Poll::Ready(match ended {
                Ok(()) => Ended::Closed,
                Err(err) => Ended::Failed(err),
            });
        }
        if orders & CHECK_OVERDUE != 0 {
            // Looked at again here, after the connection has read what came in: the watch may
            // have looked just before a head arrived. Cleared first, so an order given again
            // meanwhile is not lost.
            let shared = &this.shared;
            shared.orders.fetch_and(!CHECK_OVERDUE, Ordering::Relaxed);
            if shared.overdue(shared.server.ticks.load(Ordering::Relaxed)) {
                return Poll::Ready(Ended::Overdue);
            }
        }
        Poll::Pending
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
            server: Arc::new(Connections::new(Duration::from_secs(4))),
        }
    }

    #[test]
    fn ticks_are_a_quarter_of_the_timeout_within_bounds() {
        let ticks = |timeout| {
            let conns = Connections::new(timeout);
            (conns.tick, conns.timeout_ticks)
        };
        assert_eq!(
            ticks(Duration::from_secs(10)),
            (Duration::from_millis(2500), 4)
        );
        assert_eq!(ticks(Duration::from_micros(2500)), (MIN_TICK, 3));
        assert_eq!(ticks(Duration::ZERO), (MIN_TICK, 0));
        assert_eq!(ticks(Duration::from_secs(86_400)), (MAX_TICK, 24));
        assert_eq!(ticks(Duration::from_secs(5 * 3600 + 1)), (MAX_TICK, 6));
        // No overflow computing it, and as good as never: billions of years of hourly ticks.
        let (tick, timeout_ticks) = ticks(Duration::MAX);
        assert_eq!(tick, MAX_TICK);
        assert!(timeout_ticks > 1_000_000_000_000_000);
    }

    #[test]
    fn the_registry_is_pruned_when_it_doubles() {
        let mut registry = Registry::default();
        let open: Vec<_> = (0..100).map(|_| Arc::new(shared(0))).collect();
        for conn in &open {
            registry.add(conn);
        }
        for _ in 0..10_000 {
            // A connection that closed at once: only its `Weak` is left.
            registry.add(&Arc::new(shared(0)));
        }
        assert!(
            registry.conns.len() <= 2 * 100 + 1,
            "{} kept",
            registry.conns.len()
        );
        // The open ones are all still there.
        let live = registry.conns.iter().filter(|conn| conn.strong_count() > 0);
        assert_eq!(live.count(), 100);
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

    /// The watch judged a connection idle for too long just as a request head came in: the
    /// connection reads the head before it looks again, and answers it.
    #[tokio::test]
    async fn a_head_that_came_as_the_watch_looked_is_answered() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let callback = crate::Callback::new(
            crate::CallbackConfig::new(wechat_types::ServerToken::new("t")),
            crate::handler_fn(|_msg| async { None }),
        )
        .unwrap();
        let conns = Arc::new(Connections::new(Duration::from_secs(4)));
        let mut builder = http1::Builder::new();
        builder.header_read_timeout(None);
        let conn = conns.serve(&builder, stream, callback.into_service());
        client
            .write_all(b"PUT / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        conns.ticks.store(100, Ordering::Relaxed);
        assert!(conn.shared.overdue(100), "waiting since tick 0");
        conn.shared.give(CHECK_OVERDUE);
        let serving = tokio::spawn(conn);
        let mut answer = [0u8; 12];
        client.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"HTTP/1.1 405");
        drop(client);
        assert!(matches!(serving.await.unwrap(), Ended::Closed));
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
