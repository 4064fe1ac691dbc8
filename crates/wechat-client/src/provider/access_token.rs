use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use wechat_types::{AccessToken, AppId, AppSecret};

use super::{BusyRetry, Fetch, Fetched, Policy, Refresher};
use crate::api::token;
use crate::config::ClientConfig;
use crate::error::Error;
use crate::store::{CredentialKey, CredentialKind, TokenStore};

/// Where the base access_token comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenSource {
    /// `POST cgi-bin/stable_token` (normal mode): idempotent, answers the same token with its
    /// remaining lifetime, and is isolated from `cgi-bin/token`. The default.
    #[default]
    Stable,
    /// `GET cgi-bin/token`: every call issues a new token (the previous one stays valid five
    /// minutes), so independent fetchers invalidate each other's tokens.
    Classic,
}

/// The base access_token of one app, cached in a [`TokenStore`] and refreshed ahead of expiry
/// by one fetcher at a time (see [the module policy](crate::provider)). Cheap to clone; get one
/// from [`Client::access_token_provider`](crate::Client::access_token_provider).
#[derive(Clone)]
pub struct AccessTokenProvider {
    inner: Arc<Refresher<TokenFetcher>>,
}

pub(crate) struct TokenFetcher {
    appid: AppId,
    secret: AppSecret,
    source: TokenSource,
    config: ClientConfig,
    busy: BusyRetry,
}

#[async_trait]
impl Fetch for TokenFetcher {
    async fn fetch(&self) -> Result<Fetched, Error> {
        let endpoints = self.config.endpoints();
        let answer = self
            .busy
            .run(|| async {
                let (path, request) = match self.source {
                    TokenSource::Stable => (
                        token::STABLE_TOKEN_PATH,
                        token::stable_request(endpoints, &self.appid, &self.secret, false)?,
                    ),
                    TokenSource::Classic => (
                        token::TOKEN_PATH,
                        token::classic_request(endpoints, &self.appid, &self.secret)?,
                    ),
                };
                let response = self.config.send(request).await?;
                token::parse_token(path, &response)
            })
            .await?;
        Ok(Fetched {
            secret: answer.access_token.expose_secret().to_owned(),
            expires_in: answer.expires_in,
        })
    }
}

impl AccessTokenProvider {
    pub(crate) fn new(
        appid: AppId,
        secret: AppSecret,
        source: TokenSource,
        config: ClientConfig,
        store: Arc<dyn TokenStore>,
        policy: Policy,
        busy: BusyRetry,
    ) -> Self {
        let key = CredentialKey::new(appid.clone(), CredentialKind::AccessToken);
        let clock = Arc::clone(config.clock());
        let fetcher = TokenFetcher {
            appid,
            secret,
            source,
            config,
            busy,
        };
        Self {
            inner: Arc::new(Refresher::new(key, store, clock, policy, fetcher)),
        }
    }

    /// The current access_token: from the store while it is fresh, else from the one refresh in
    /// flight. A failed fetch is [`Error::Credential`] with the cause as source.
    pub async fn get(&self) -> Result<AccessToken, Error> {
        let credential = self.inner.get().await?;
        Ok(AccessToken::new(credential.into_secret()))
    }

    /// Compare-and-invalidate: removes the cached token only if it is still `token` (the one an
    /// API just refused), never a fresher one another caller stored meanwhile. Returns true when
    /// it removed it.
    pub async fn invalidate_if_current(&self, token: &AccessToken) -> Result<bool, Error> {
        self.inner
            .invalidate_if_current(token.expose_secret())
            .await
    }

    /// The app.
    pub fn appid(&self) -> &AppId {
        self.inner.key().appid()
    }

    /// Where tokens come from.
    pub fn source(&self) -> TokenSource {
        self.inner.fetcher().source
    }

    /// The store the tokens live in.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        self.inner.store()
    }

    pub(crate) fn config(&self) -> &ClientConfig {
        &self.inner.fetcher().config
    }
}

impl fmt::Debug for AccessTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let policy = self.inner.policy();
        f.debug_struct("AccessTokenProvider")
            .field("appid", self.appid())
            .field("source", &self.source())
            .field("refresh_margin", &policy.margin)
            .field("lock_lease", &policy.lease)
            .field("store", self.inner.store())
            .finish_non_exhaustive()
    }
}
