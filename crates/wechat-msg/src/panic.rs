//! Turns a panicking handler into an error value instead of a torn-down connection.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls `F`, catching a panic from any poll, or from dropping `F` once it is done, as
/// `Err(payload)`. Not polled again after it is ready.
pub(crate) struct CatchPanic<F>(Option<F>);

impl<F> CatchPanic<F> {
    pub(crate) fn new(future: F) -> Self {
        Self(Some(future))
    }
}

impl<F: Future + Unpin> Future for CatchPanic<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(inner) = self.0.as_mut() else {
            panic!("CatchPanic polled after it finished");
        };
        // Unwind safety: after a panic the future is dropped unpolled, so no broken invariant
        // inside it is observed again.
        let polled = catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx)));
        let output = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(value)) => Ok(value),
            Err(payload) => Err(payload),
        };
        // Done: the future is dropped here, where a panic in its `Drop` is caught too.
        match catch_unwind(AssertUnwindSafe(|| self.0 = None)) {
            Ok(()) => Poll::Ready(output),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

impl<F> Drop for CatchPanic<F> {
    fn drop(&mut self) {
        // Dropped before it finished (a runtime shutting down): its `Drop` may panic as well.
        let future = self.0.take();
        if catch_unwind(AssertUnwindSafe(move || drop(future))).is_err() {
            tracing::error!("a handler's future panicked while it was dropped");
        }
    }
}

/// The message of a panic payload, when it has one.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_an_error_with_its_message() {
        let fut: Pin<Box<dyn Future<Output = u8> + Send>> = Box::pin(async {
            tokio::task::yield_now().await;
            panic!("handler blew up");
        });
        let err = CatchPanic::new(fut).await.unwrap_err();
        assert_eq!(panic_message(&*err), "handler blew up");
        let ok: Pin<Box<dyn Future<Output = u8> + Send>> = Box::pin(async { 7 });
        assert_eq!(CatchPanic::new(ok).await.unwrap(), 7);
    }

    /// A future that is ready at once and panics when dropped.
    struct PanicsOnDrop;

    impl Future for PanicsOnDrop {
        type Output = u8;

        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u8> {
            Poll::Ready(1)
        }
    }

    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("drop blew up");
        }
    }

    #[tokio::test]
    async fn a_panic_while_the_future_is_dropped_is_caught_too() {
        let err = CatchPanic::new(PanicsOnDrop).await.unwrap_err();
        assert_eq!(panic_message(&*err), "drop blew up");
        // Dropped unpolled, it does not take the caller down either.
        drop(CatchPanic::new(PanicsOnDrop));
    }
}
