//! A timeout that costs nothing when it is not needed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::task::coop::{Unconstrained, unconstrained};
use tokio::time::{Instant, Sleep};

/// Awaits `future` until `budget` after `started`, like [`tokio::time::timeout_at`], but arms
/// the timer only if the first poll leaves the future pending.
///
/// Most of what the callback waits for is ready at once (a body already buffered, a handler
/// that answers without waiting), and registering a timer costs more than such a future. The
/// caller reads the clock: for the handler, before its future is even made, so work done
/// making it counts against the budget.
///
/// A hand-written future rather than an `async fn`: it sits inside every request's future,
/// and an `async fn` would hold its arguments twice and a second timer's worth of state.
pub(crate) fn lazy_timeout<F>(
    started: Instant,
    budget: Duration,
    future: &mut F,
) -> LazyTimeout<'_, F>
where
    F: Future + Unpin,
{
    LazyTimeout {
        future,
        // A budget past the end of time (`Duration::MAX`, say) never runs out.
        deadline: started.checked_add(budget),
        timer: None,
    }
}

/// `lazy_timeout`'s answer when the budget ran out first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elapsed;

pin_project_lite::pin_project! {
    /// The future of [`lazy_timeout`].
    pub(crate) struct LazyTimeout<'f, F> {
        future: &'f mut F,
        deadline: Option<Instant>,
        // Armed at the first poll that leaves `future` pending, when there is a deadline.
        // Unconstrained: a future that spends its task's cooperative budget (a handler reading
        // an always-ready source, say) would otherwise keep a plain `Sleep` from ever firing.
        // `tokio::time::Timeout` makes the same exception.
        #[pin]
        timer: Option<Unconstrained<Sleep>>,
    }
}

impl<F: Future + Unpin> Future for LazyTimeout<'_, F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(output) = Pin::new(&mut **this.future).poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let Some(deadline) = *this.deadline else {
            return Poll::Pending;
        };
        if this.timer.is_none() {
            this.timer
                .set(Some(unconstrained(tokio::time::sleep_until(deadline))));
        }
        match this.timer.as_pin_mut().map(|timer| timer.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(Elapsed)),
            _ => Poll::Pending,
        }
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

        // Spends its task's cooperative budget at every poll and never ends: the budget ends
        // it all the same (a timer polled within the budget would never fire).
        let mut greedy = Box::pin(async {
            loop {
                tokio::task::consume_budget().await;
            }
        });
        let cut = tokio::time::timeout(
            Duration::from_secs(10),
            lazy_timeout(Instant::now(), Duration::from_millis(20), &mut greedy),
        );
        assert_eq!(cut.await, Ok(Err(Elapsed)));

        // Never ready: the budget ends it, counted from before the first poll.
        let mut never = std::future::pending::<()>();
        let start = Instant::now();
        let budget = Duration::from_millis(20);
        assert!(lazy_timeout(start, budget, &mut never).await.is_err());
        assert!(start.elapsed() >= budget);
    }
}
