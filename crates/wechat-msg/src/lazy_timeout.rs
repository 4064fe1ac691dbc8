//! A timeout that costs nothing when it is not needed.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;
use tokio::time::error::Elapsed;

/// Awaits `future` until `budget` after `started`, like [`tokio::time::timeout_at`], but arms
/// the timer only if the first poll leaves the future pending.
///
/// Most of what the callback waits for is ready at once (a body already buffered, a handler
/// that answers without waiting), and registering a timer costs more than such a future. The
/// caller reads the clock: for the handler, before its future is even made, so work done
/// making it counts against the budget.
pub(crate) async fn lazy_timeout<F>(
    started: Instant,
    budget: Duration,
    future: &mut F,
) -> Result<F::Output, Elapsed>
where
    F: Future + Unpin,
{
    match std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => match started.checked_add(budget) {
            Some(deadline) => tokio::time::timeout_at(deadline, future).await,
            // A budget past the end of time (`Duration::MAX`, say) never runs out.
            None => Ok(future.await),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ready_futures_pass_and_pending_ones_time_out() {
        let mut ready = std::future::ready(7);
        assert_eq!(
            lazy_timeout(Instant::now(), Duration::from_secs(1), &mut ready).await,
            Ok(7)
        );

        // Pending at the first poll, ready before the budget: the timer is armed and not hit.
        let mut in_time = Box::pin(async {
            tokio::task::yield_now().await;
            "done"
        });
        assert_eq!(
            lazy_timeout(Instant::now(), Duration::from_secs(60), &mut in_time).await,
            Ok("done")
        );

        // Pending at first, under a budget too large to add to an instant: no timer, no panic.
        let mut endless = Box::pin(async {
            tokio::task::yield_now().await;
            "waited"
        });
        assert_eq!(
            lazy_timeout(Instant::now(), Duration::MAX, &mut endless).await,
            Ok("waited")
        );

        // Never ready: the budget ends it, counted from before the first poll.
        let mut never = std::future::pending::<()>();
        let start = Instant::now();
        let budget = Duration::from_millis(20);
        assert!(lazy_timeout(start, budget, &mut never).await.is_err());
        assert!(start.elapsed() >= budget);
    }
}
