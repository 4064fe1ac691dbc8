//! What answers a message: the [`Handler`] trait, and async closures turned into handlers.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use wechat_types::xml::{Message, Reply};

/// Answers one message or event: `Some(reply)` for a passive reply, `None` for `success`.
///
/// Implement it for a type (with [`macro@async_trait`]) or turn an async closure into one with
/// [`handler_fn`]; a [`Router`](crate::Router) is a handler too.
///
/// ```
/// use wechat_msg::{async_trait, Handler};
/// use wechat_types::xml::{Message, MessageBody, Reply};
///
/// struct Shout;
///
/// #[async_trait]
/// impl Handler for Shout {
///     async fn handle(&self, msg: &Message) -> Option<Reply> {
///         match &msg.body {
///             MessageBody::Text { content, .. } => Some(Reply::text(content.to_uppercase())),
///             _ => None,
///         }
///     }
/// }
/// ```
///
/// A handler that runs past the callback's reply budget keeps running; its answer then goes out
/// through the customer-service API (see [`CallbackConfig::reply_budget`](crate::CallbackConfig)).
/// A handler that panics is answered with `success` and logged.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// The answer to `msg`.
    async fn handle(&self, msg: &Message) -> Option<Reply>;

    /// Like [`Handler::handle`], with the message by value, so a handler that wants the message
    /// owned (an async closure, say) gets it without a copy. The default lends the message to
    /// [`Handler::handle`].
    async fn handle_owned(&self, msg: Message) -> Option<Reply> {
        self.handle(&msg).await
    }

    /// The method the callback calls: the answer to `msg` as a future that borrows nothing, so
    /// the callback can move it to a task of its own when it runs past the reply budget.
    ///
    /// The default boxes a future that holds `self` and awaits [`Handler::handle_owned`]; the
    /// closure handlers, [`Router`](crate::Router) and `Arc<H>` override it to hand back the
    /// closure's own future, one allocation a push fewer. An override must answer as
    /// [`Handler::handle_owned`] would. Its own code runs before the future exists: it counts
    /// against the reply budget, and a panic in it is answered `success` like one in the future.
    fn handle_shared(self: Arc<Self>, msg: Message) -> ReplyFuture<'static> {
        Box::pin(async move { self.handle_owned(msg).await })
    }
}

/// The future every handler method returns (what [`macro@async_trait`] generates).
pub type ReplyFuture<'a> = Pin<Box<dyn Future<Output = Option<Reply>> + Send + 'a>>;

/// Implements [`Handler`] for a pointer to a handler by forwarding to the handler's own future:
/// written out rather than with `async_trait`, which would box a second future around it and
/// move the message into that one too.
macro_rules! forward_handler {
    ($pointer:ident $(, $extra:item)*) => {
        impl<H: Handler + ?Sized> Handler for $pointer<H> {
            fn handle<'s, 'm, 'f>(&'s self, msg: &'m Message) -> ReplyFuture<'f>
            where
                's: 'f,
                'm: 'f,
                Self: 'f,
            {
                (**self).handle(msg)
            }

            fn handle_owned<'s, 'f>(&'s self, msg: Message) -> ReplyFuture<'f>
            where
                's: 'f,
                Self: 'f,
            {
                (**self).handle_owned(msg)
            }

            $($extra)*
        }
    };
}

forward_handler!(Box);
// An `Arc` hands over the handler it holds, so its future owns no second `Arc`.
forward_handler!(
    Arc,
    fn handle_shared(self: Arc<Self>, msg: Message) -> ReplyFuture<'static> {
        Arc::clone(&*self).handle_shared(msg)
    }
);

/// Turns an async closure that takes the message by value into a [`Handler`].
///
/// ```
/// use wechat_msg::handler_fn;
/// use wechat_types::xml::{Message, Reply};
///
/// let handler = handler_fn(|msg: Message| async move {
///     Some(Reply::text(format!("got a {}", msg.body.msg_type())))
/// });
/// # let _ = handler;
/// ```
pub fn handler_fn<F, Fut>(f: F) -> HandlerFn<F>
where
    F: Fn(Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Reply>> + Send + 'static,
{
    HandlerFn(f)
}

/// A [`Handler`] made from a closure by [`handler_fn`].
#[derive(Clone)]
pub struct HandlerFn<F>(F);

impl<F> fmt::Debug for HandlerFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HandlerFn")
    }
}

#[async_trait]
impl<F, Fut> Handler for HandlerFn<F>
where
    F: Fn(Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Reply>> + Send + 'static,
{
    async fn handle(&self, msg: &Message) -> Option<Reply> {
        (self.0)(msg.clone()).await
    }

    async fn handle_owned(&self, msg: Message) -> Option<Reply> {
        (self.0)(msg).await
    }

    fn handle_shared(self: Arc<Self>, msg: Message) -> ReplyFuture<'static> {
        // The closure's future owns what it needs: no handler to keep alive around it.
        Box::pin((self.0)(msg))
    }
}

/// The shared state of a [`Router::with_state`](crate::Router::with_state), handed to handlers
/// that ask for it as their first argument. Dereferences to `S`.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use wechat_msg::{Router, State};
/// use wechat_types::xml::{Message, Reply};
///
/// struct Counter {
///     hits: AtomicU64,
/// }
///
/// let router = Router::with_state(Counter { hits: AtomicU64::new(0) }).text(
///     "count",
///     |counter: State<Counter>, _msg: Message| async move {
///         let n = counter.hits.fetch_add(1, Ordering::Relaxed) + 1;
///         Some(Reply::text(n.to_string()))
///     },
/// );
/// # let _ = router;
/// ```
pub struct State<S>(pub Arc<S>);

impl<S> Clone for State<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S> Deref for State<S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.0
    }
}

impl<S: fmt::Debug> fmt::Debug for State<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&self.0).finish()
    }
}

/// Something a [`Router`](crate::Router) route can call: an async closure taking the
/// [`Message`], an async closure taking [`State<S>`] and the `Message`, or any [`Handler`].
///
/// `M` only tells the implementations apart; you never name it.
pub trait IntoHandler<S, M>: Send + Sync + 'static {
    /// The handler, with the router's state at hand.
    fn into_handler(self, state: &Arc<S>) -> Arc<dyn Handler>;
}

/// Marks closures taking only the message, for [`IntoHandler`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ViaMessage;

/// Marks closures taking the state and the message, for [`IntoHandler`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ViaState;

/// Marks [`Handler`] implementations, for [`IntoHandler`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ViaHandler;

impl<S, F, Fut> IntoHandler<S, ViaMessage> for F
where
    F: Fn(Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Reply>> + Send + 'static,
{
    fn into_handler(self, _state: &Arc<S>) -> Arc<dyn Handler> {
        Arc::new(HandlerFn(self))
    }
}

impl<S, F, Fut> IntoHandler<S, ViaState> for F
where
    S: Send + Sync + 'static,
    F: Fn(State<S>, Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Reply>> + Send + 'static,
{
    fn into_handler(self, state: &Arc<S>) -> Arc<dyn Handler> {
        Arc::new(StateFn {
            state: Arc::clone(state),
            f: self,
        })
    }
}

impl<S, H: Handler> IntoHandler<S, ViaHandler> for H {
    fn into_handler(self, _state: &Arc<S>) -> Arc<dyn Handler> {
        Arc::new(self)
    }
}

struct StateFn<S, F> {
    state: Arc<S>,
    f: F,
}

#[async_trait]
impl<S, F, Fut> Handler for StateFn<S, F>
where
    S: Send + Sync + 'static,
    F: Fn(State<S>, Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Reply>> + Send + 'static,
{
    async fn handle(&self, msg: &Message) -> Option<Reply> {
        (self.f)(State(Arc::clone(&self.state)), msg.clone()).await
    }

    async fn handle_owned(&self, msg: Message) -> Option<Reply> {
        (self.f)(State(Arc::clone(&self.state)), msg).await
    }

    fn handle_shared(self: Arc<Self>, msg: Message) -> ReplyFuture<'static> {
        Box::pin((self.f)(State(Arc::clone(&self.state)), msg))
    }
}
