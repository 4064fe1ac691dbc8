//! The client of one official account: credentials plus every server-side API.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use wechat_types::api::{ConditionalMenu, CustomMessage, Lang, Menu, MenuInfo, UserInfo};
use wechat_types::{AccessToken, AppId, AppSecret, JsapiTicket, OpenId};

use crate::api::jssdk::{self, JsSdkConfig};
use crate::api::{custom, menu, user};
use crate::call::{Idempotency, authorized};
use crate::config::ClientConfig;
use crate::endpoints::Endpoints;
use crate::error::Error;
use crate::provider::{AccessTokenProvider, BusyRetry, JsapiTicketProvider, Policy, TokenSource};
use crate::store::{MemoryStore, TokenStore};

/// The client of one official account. Cheap to clone (an `Arc` inside): build it once and share
/// it. See the [crate docs](crate) for an example.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    tokens: AccessTokenProvider,
    tickets: JsapiTicketProvider,
    busy: BusyRetry,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("appid", self.appid())
            .field("tokens", &self.inner.tokens)
            .field("tickets", &self.inner.tickets)
            .field("busy_retry", &self.inner.busy)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]. Every setting has a default except the app's credentials.
#[derive(Debug)]
pub struct ClientBuilder {
    appid: AppId,
    secret: AppSecret,
    config: Option<ClientConfig>,
    source: TokenSource,
    store: Option<Arc<dyn TokenStore>>,
    margin: Duration,
    lease: Duration,
    busy: BusyRetry,
}

impl ClientBuilder {
    /// The transport, endpoints and clock. Default: [`ClientConfig::with_default_transport`]
    /// (feature `hyper-transport`); without that feature a config is required.
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Where the access_token comes from. Default: [`TokenSource::Stable`].
    pub fn token_source(mut self, source: TokenSource) -> Self {
        self.source = source;
        self
    }

    /// Where credentials are cached and locked. Default: a new [`MemoryStore`]. Give every
    /// client of one app the same store (a `RedisStore` across processes).
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Refresh a credential this long before it expires (capped at half its lifetime).
    /// Default: 5 minutes.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The lease of the cross-process refresh lock: a holder that dies blocks the others this
    /// long at most. Keep it above the transport's total timeout. Default: 20 seconds.
    pub fn lock_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How idempotent calls are retried after `-1` (busy). Default: [`BusyRetry::default`].
    pub fn busy_retry(mut self, busy: BusyRetry) -> Self {
        self.busy = busy;
        self
    }

    /// Builds the client. Fails on an empty AppID or AppSecret, a zero lock lease, or when the
    /// default transport cannot be made.
    pub fn build(self) -> Result<Client, Error> {
        if self.appid.as_str().is_empty() {
            return Err(Error::invalid_input("the AppID is empty"));
        }
        if self.secret.expose_secret().is_empty() {
            return Err(Error::invalid_input("the AppSecret is empty"));
        }
        if self.lease.is_zero() {
            return Err(Error::invalid_input(
                "the lock lease must be longer than zero",
            ));
        }
        let config = match self.config {
            Some(config) => config,
            None => default_config()?,
        };
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::new()) as Arc<dyn TokenStore>);
        let policy = Policy {
            margin: self.margin,
            lease: self.lease,
        };
        let tokens = AccessTokenProvider::new(
            self.appid,
            self.secret,
            self.source,
            config,
            Arc::clone(&store),
            policy,
            self.busy,
        );
        let tickets = JsapiTicketProvider::new(tokens.clone(), store, policy, self.busy);
        Ok(Client {
            inner: Arc::new(Inner {
                tokens,
                tickets,
                busy: self.busy,
            }),
        })
    }
}

#[cfg(feature = "hyper-transport")]
fn default_config() -> Result<ClientConfig, Error> {
    ClientConfig::with_default_transport().map_err(|e| Error::InvalidInput {
        message: "cannot build the default transport".to_owned(),
        source: Some(Box::new(e)),
    })
}

#[cfg(not(feature = "hyper-transport"))]
fn default_config() -> Result<ClientConfig, Error> {
    Err(Error::invalid_input(
        "no ClientConfig given and the hyper-transport feature is off",
    ))
}

impl Client {
    /// A builder for the app `appid` with its AppSecret.
    pub fn builder(appid: AppId, secret: AppSecret) -> ClientBuilder {
        ClientBuilder {
            appid,
            secret,
            config: None,
            source: TokenSource::default(),
            store: None,
            margin: Duration::from_secs(300),
            lease: Duration::from_secs(20),
            busy: BusyRetry::default(),
        }
    }

    /// The app.
    pub fn appid(&self) -> &AppId {
        self.inner.tokens.appid()
    }

    /// The transport, endpoints and clock.
    pub fn config(&self) -> &ClientConfig {
        self.inner.tokens.config()
    }

    /// The access_token provider (for compare-and-invalidate, or to share with other code).
    pub fn access_token_provider(&self) -> &AccessTokenProvider {
        &self.inner.tokens
    }

    /// The jsapi_ticket provider.
    pub fn jsapi_ticket_provider(&self) -> &JsapiTicketProvider {
        &self.inner.tickets
    }

    /// The current access_token (cached; refreshed ahead of expiry by one fetcher).
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        self.inner.tokens.get().await
    }

    /// The current jsapi_ticket (cached like the access_token).
    pub async fn jsapi_ticket(&self) -> Result<JsapiTicket, Error> {
        self.inner.tickets.get().await
    }

    /// Sends an API call that needs the access_token, with the client's policy: the request is
    /// built by `build` for a token; on 40001/40014/42001 the token is invalidated (only if the
    /// store still holds it), another one obtained and the call replayed once; on `-1` an
    /// [`Idempotency::Idempotent`] call is retried with bounded backoff. Use it to add an API
    /// this crate does not wrap.
    ///
    /// ```no_run
    /// # async fn run(client: wechat_client::Client) -> Result<(), wechat_client::Error> {
    /// use wechat_client::{api::user, Idempotency};
    /// use wechat_types::{OpenId, api::Lang};
    ///
    /// let openid = OpenId::new("oUser");
    /// let info = client
    ///     .call(
    ///         Idempotency::Idempotent,
    ///         |endpoints, token| user::info_request(endpoints, token, &openid, Lang::En),
    ///         user::parse_info,
    ///     )
    ///     .await?;
    /// # drop(info); Ok(()) }
    /// ```
    pub async fn call<T, B, P>(
        &self,
        idempotency: Idempotency,
        build: B,
        parse: P,
    ) -> Result<T, Error>
    where
        B: Fn(&Endpoints, &AccessToken) -> Result<Request<Bytes>, Error>,
        P: Fn(&Response<Bytes>) -> Result<T, Error>,
    {
        authorized(
            &self.inner.tokens,
            &self.inner.busy,
            idempotency,
            build,
            parse,
        )
        .await
    }

    /// The custom menu APIs.
    pub fn menu(&self) -> MenuApi<'_> {
        MenuApi { client: self }
    }

    /// Sends a customer-service message (`message/custom/send`). Never retried after `-1`: a
    /// busy answer reaches the caller, who knows whether sending twice is acceptable.
    pub async fn send_custom(&self, message: &CustomMessage) -> Result<(), Error> {
        self.call(
            Idempotency::NotIdempotent,
            |endpoints, token| custom::send_request(endpoints, token, message),
            custom::parse_send,
        )
        .await
    }

    /// What the account knows about a user (`cgi-bin/user/info`).
    pub async fn user_info(&self, openid: &OpenId, lang: Lang) -> Result<UserInfo, Error> {
        self.call(
            Idempotency::Idempotent,
            |endpoints, token| user::info_request(endpoints, token, openid, lang),
            user::parse_info,
        )
        .await
    }

    /// The `wx.config` parameters for the page at `url` (its `#fragment` is not signed): the
    /// cached jsapi_ticket, the clock's time and a fresh nonce.
    pub async fn jssdk_config(&self, url: &str) -> Result<JsSdkConfig, Error> {
        jssdk::check_url(url)?;
        let ticket = self.jsapi_ticket().await?;
        let timestamp = self.config().clock().now();
        jssdk::config(self.appid(), &ticket, url, timestamp, jssdk::nonce())
    }
}

/// The custom menu APIs of a [`Client`], from [`Client::menu`].
#[derive(Debug, Clone, Copy)]
pub struct MenuApi<'a> {
    client: &'a Client,
}

impl MenuApi<'_> {
    /// Sets the default menu (`menu/create`). The menu is checked first with
    /// [`Menu::validate`]: a refused menu is [`Error::InvalidInput`] with the
    /// [`MenuError`](wechat_types::api::MenuError) as source, and nothing is sent.
    pub async fn create(&self, menu: &Menu) -> Result<(), Error> {
        // Before any network, the token fetch included.
        menu::validate(menu)?;
        self.client
            .call(
                Idempotency::Idempotent,
                |endpoints, token| menu::create_request(endpoints, token, menu),
                |response| menu::parse_ok(menu::CREATE_PATH, response),
            )
            .await
    }

    /// The current menus (`menu/get`); `None` when there is none (46003).
    pub async fn get(&self) -> Result<Option<MenuInfo>, Error> {
        self.client
            .call(Idempotency::Idempotent, menu::get_request, menu::parse_get)
            .await
    }

    /// Deletes the default menu and every conditional menu (`menu/delete`).
    pub async fn delete(&self) -> Result<(), Error> {
        self.client
            .call(Idempotency::Idempotent, menu::delete_request, |response| {
                menu::parse_ok(menu::DELETE_PATH, response)
            })
            .await
    }

    /// Adds a conditional menu (`menu/addconditional`), checked first; returns its menuid.
    pub async fn add_conditional(&self, conditional: &ConditionalMenu) -> Result<String, Error> {
        menu::validate_conditional(conditional)?;
        self.client
            .call(
                Idempotency::NotIdempotent,
                |endpoints, token| menu::add_conditional_request(endpoints, token, conditional),
                menu::parse_add_conditional,
            )
            .await
    }

    /// Deletes a conditional menu (`menu/delconditional`).
    pub async fn delete_conditional(&self, menuid: &str) -> Result<(), Error> {
        self.client
            .call(
                Idempotency::NotIdempotent,
                |endpoints, token| menu::delete_conditional_request(endpoints, token, menuid),
                |response| menu::parse_ok(menu::DELETE_CONDITIONAL_PATH, response),
            )
            .await
    }

    /// The menu `user_id` (an OpenID or WeChat ID) would see (`menu/trymatch`).
    pub async fn try_match(&self, user_id: &str) -> Result<Menu, Error> {
        self.client
            .call(
                Idempotency::Idempotent,
                |endpoints, token| menu::try_match_request(endpoints, token, user_id),
                menu::parse_try_match,
            )
            .await
    }
}
