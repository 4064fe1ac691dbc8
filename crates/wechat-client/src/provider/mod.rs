//! Credential providers: the base access_token and the jsapi_ticket, cached in a
//! [`TokenStore`] and refreshed by one fetcher at a time.
//!
//! The policy, shared by both providers:
//! - a cached credential is used until `margin` before its expiry (capped at half its lifetime),
//!   then refreshed;
//! - within a process, one refresh per credential is in flight: every concurrent caller awaits
//!   the same fetch (it runs in its own task, so a caller that gives up cancels nothing);
//! - across processes, the fetcher first takes the store's lock with a lease (`SET NX PX`). A
//!   caller that finds the lock taken uses the current credential if it is still valid, otherwise
//!   polls the store with bounded backoff and takes the lock over once the lease of a dead
//!   holder passes. After taking the lock it reads the store again, so a credential stored in the
//!   meantime is never fetched twice;
//! - a failed refresh falls back to the current credential while it is still valid;
//! - `invalidate_if_current` removes a credential only if the store still holds that value.

mod access_token;
mod ticket;

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use wechat_types::ErrCode;

use crate::clock::Clock;
use crate::error::Error;
use crate::store::{CredentialKey, StoreError, StoreErrorKind, StoredCredential, TokenStore};

pub use access_token::{AccessTokenProvider, TokenSource};
pub use ticket::JsapiTicketProvider;

/// How often a call that WeChat answered `-1` (system busy) is sent again: at most
/// `max_retries` more times, waiting `base_delay`, then twice that, and so on (capped at 2 s).
/// Only idempotent calls are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyRetry {
    max_retries: u32,
    base_delay: Duration,
}

impl Default for BusyRetry {
    /// Two retries, after 100 ms and 200 ms.
    fn default() -> Self {
        Self::new(2, Duration::from_millis(100))
    }
}

impl BusyRetry {
    const MAX_DELAY: Duration = Duration::from_secs(2);

    /// At most `max_retries` retries, the first after `base_delay`.
    pub fn new(max_retries: u32, base_delay: Duration) -> Self {
        Self {
            max_retries,
            base_delay,
        }
    }

    /// No retry at all.
    pub fn never() -> Self {
        Self::new(0, Duration::ZERO)
    }

    /// The retry budget.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The wait before retry number `retry` (0-based).
    pub fn delay(&self, retry: u32) -> Duration {
        self.base_delay
            .saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
            .min(Self::MAX_DELAY)
    }

    /// Runs `attempt` until it does not end in `-1`, or the budget is spent.
    pub(crate) async fn run<T, Fut>(&self, mut attempt: impl FnMut() -> Fut) -> Result<T, Error>
    where
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut retry = 0;
        loop {
            match attempt().await {
                Err(Error::Api(api))
                    if api.code == ErrCode::SYSTEM_BUSY && retry < self.max_retries =>
                {
                    tracing::debug!(endpoint = %api.endpoint, retry, "WeChat busy; retrying");
                    tokio::time::sleep(self.delay(retry)).await;
                    retry += 1;
                }
                other => return other,
            }
        }
    }
}

/// The refresh timing of a provider.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// Refresh this long before expiry.
    pub(crate) margin: Duration,
    /// The lease of the cross-process refresh lock.
    pub(crate) lease: Duration,
}

impl Policy {
    /// How long a caller waits for another instance's refresh before giving up.
    fn max_wait(&self) -> Duration {
        self.lease.saturating_mul(3)
    }
}

/// A credential as the upstream answered it.
pub(crate) struct Fetched {
    pub(crate) secret: String,
    pub(crate) expires_in: u64,
}

/// Gets a new credential from WeChat.
#[async_trait]
pub(crate) trait Fetch: Send + Sync + 'static {
    async fn fetch(&self) -> Result<Fetched, Error>;
}

type FlightOutcome = Option<Result<StoredCredential, Arc<Error>>>;

/// The shared machinery of both providers.
pub(crate) struct Refresher<F> {
    key: CredentialKey,
    store: Arc<dyn TokenStore>,
    clock: Arc<dyn Clock>,
    policy: Policy,
    /// The refresh in flight, if any: every caller waits on the same channel.
    flight: Mutex<Option<watch::Receiver<FlightOutcome>>>,
    fetcher: F,
}

/// Polling a store while another instance refreshes: from 20 ms, doubling up to 500 ms.
const POLL_FIRST: Duration = Duration::from_millis(20);
const POLL_MAX: Duration = Duration::from_millis(500);

impl<F: Fetch> Refresher<F> {
    pub(crate) fn new(
        key: CredentialKey,
        store: Arc<dyn TokenStore>,
        clock: Arc<dyn Clock>,
        policy: Policy,
        fetcher: F,
    ) -> Self {
        Self {
            key,
            store,
            clock,
            policy,
            flight: Mutex::new(None),
            fetcher,
        }
    }

    pub(crate) fn key(&self) -> &CredentialKey {
        &self.key
    }

    pub(crate) fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    pub(crate) fn policy(&self) -> Policy {
        self.policy
    }

    pub(crate) fn fetcher(&self) -> &F {
        &self.fetcher
    }

    /// The cached credential if it is fresh, else the result of the (shared) refresh.
    pub(crate) async fn get(self: &Arc<Self>) -> Result<StoredCredential, Error> {
        if let Some(credential) = self.store.get(&self.key).await?
            && credential.is_fresh_at(self.clock.now(), self.policy.margin)
        {
            return Ok(credential);
        }
        self.join_flight().await
    }

    /// Removes the credential if the store still holds `secret`.
    pub(crate) async fn invalidate_if_current(&self, secret: &str) -> Result<bool, Error> {
        let removed = self.store.invalidate_if_current(&self.key, secret).await?;
        tracing::debug!(appid = %self.key.appid(), kind = %self.key.kind(), removed, "invalidate if current");
        Ok(removed)
    }

    async fn join_flight(self: &Arc<Self>) -> Result<StoredCredential, Error> {
        // A refresh task only stops without an answer if it panicked; try once more, then fail.
        for _ in 0..2 {
            let mut receiver = self.flight_receiver();
            let outcome = receiver
                .wait_for(Option::is_some)
                .await
                .map(|outcome| outcome.clone());
            if let Ok(Some(result)) = outcome {
                return result.map_err(|source| Error::Credential {
                    kind: self.key.kind(),
                    source,
                });
            }
        }
        Err(Error::Credential {
            kind: self.key.kind(),
            source: Arc::new(
                StoreError::new(
                    StoreErrorKind::Interrupted,
                    "the refresh task stopped without an answer",
                )
                .into(),
            ),
        })
    }

    /// Joins the refresh in flight, or starts one.
    fn flight_receiver(self: &Arc<Self>) -> watch::Receiver<FlightOutcome> {
        let mut flight = self.flight.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(receiver) = flight.as_ref() {
            return receiver.clone();
        }
        let (sender, receiver) = watch::channel(None);
        *flight = Some(receiver.clone());
        let this = Arc::clone(self);
        let mine = receiver.clone();
        tokio::spawn(async move {
            let done = FlightDone {
                refresher: &this,
                mine: &mine,
            };
            let result = this.refresh().await.map_err(Arc::new);
            // Clear first: a caller arriving now reads the store, which already holds the result.
            drop(done);
            let _ = sender.send(Some(result));
        });
        receiver
    }

    /// The refresh itself: read, lock, read again, fetch, store, unlock.
    async fn refresh(&self) -> Result<StoredCredential, Error> {
        let started = tokio::time::Instant::now();
        let mut pause = POLL_FIRST;
        loop {
            let current = self.store.get(&self.key).await?;
            let now = self.clock.now();
            if let Some(credential) = &current
                && credential.is_fresh_at(now, self.policy.margin)
            {
                return Ok(credential.clone());
            }
            if let Some(owner) = self
                .store
                .acquire_lock(&self.key, self.policy.lease)
                .await?
            {
                let result = self.fetch_holding_lock().await;
                if let Err(e) = self.store.release_lock(&self.key, &owner).await {
                    // The lease frees it anyway.
                    tracing::warn!(appid = %self.key.appid(), kind = %self.key.kind(), error = %e, "could not release the refresh lock");
                }
                return match result {
                    Ok(credential) => Ok(credential),
                    Err(e) => match current.filter(|c| c.is_valid_at(self.clock.now())) {
                        Some(still_valid) => {
                            tracing::warn!(appid = %self.key.appid(), kind = %self.key.kind(), error = %e, "refresh failed; using the current credential until it expires");
                            Ok(still_valid)
                        }
                        None => Err(e),
                    },
                };
            }
            // Another instance is refreshing. Its predecessor still works meanwhile.
            if let Some(still_valid) = current.filter(|c| c.is_valid_at(now)) {
                return Ok(still_valid);
            }
            if started.elapsed() >= self.policy.max_wait() {
                return Err(StoreError::new(
                    StoreErrorKind::LockTimeout,
                    format!(
                        "another instance held the {} refresh lock for more than {:?}",
                        self.key.kind(),
                        self.policy.max_wait()
                    ),
                )
                .into());
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX);
        }
    }

    async fn fetch_holding_lock(&self) -> Result<StoredCredential, Error> {
        // Someone may have stored a fresh one between our read and our lock.
        if let Some(credential) = self.store.get(&self.key).await?
            && credential.is_fresh_at(self.clock.now(), self.policy.margin)
        {
            return Ok(credential);
        }
        let obtained_at = self.clock.now();
        let fetched = self.fetcher.fetch().await?;
        let expires_in = i64::try_from(fetched.expires_in).unwrap_or(i64::MAX);
        let credential = StoredCredential::new(
            fetched.secret,
            obtained_at,
            obtained_at.saturating_add(expires_in),
        );
        tracing::debug!(appid = %self.key.appid(), kind = %self.key.kind(), expires_in, "fetched a new credential");
        if let Err(e) = self.store.put(&self.key, &credential).await {
            // The credential works; other instances will fetch their own.
            tracing::warn!(appid = %self.key.appid(), kind = %self.key.kind(), error = %e, "could not store the new credential");
        }
        Ok(credential)
    }
}

/// Clears the flight slot when the refresh task ends, even by a panic.
struct FlightDone<'a, F> {
    refresher: &'a Refresher<F>,
    mine: &'a watch::Receiver<FlightOutcome>,
}

impl<F> Drop for FlightDone<'_, F> {
    fn drop(&mut self) {
        let mut flight = self
            .refresher
            .flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if flight.as_ref().is_some_and(|r| r.same_channel(self.mine)) {
            *flight = None;
        }
    }
}
