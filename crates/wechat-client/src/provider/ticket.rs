use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use wechat_types::api::TicketType;
use wechat_types::{AppId, JsapiTicket};

use super::{AccessTokenProvider, BusyRetry, Fetch, Fetched, Policy, Refresher};
use crate::api::token;
use crate::call::{Idempotency, authorized};
use crate::error::Error;
use crate::store::{CredentialKey, CredentialKind, TokenStore};

/// The JS-SDK jsapi_ticket of one app (`cgi-bin/ticket/getticket?type=jsapi`), cached like the
/// access_token: WeChat limits how often it may be fetched. Cheap to clone; get one from
/// [`Client::jsapi_ticket_provider`](crate::Client::jsapi_ticket_provider).
#[derive(Clone)]
pub struct JsapiTicketProvider {
    inner: Arc<Refresher<TicketFetcher>>,
}

pub(crate) struct TicketFetcher {
    tokens: AccessTokenProvider,
    busy: BusyRetry,
}

#[async_trait]
impl Fetch for TicketFetcher {
    async fn fetch(&self) -> Result<Fetched, Error> {
        // Through the authorized call: a stale access_token is invalidated and replaced once.
        let answer = authorized(
            &self.tokens,
            &self.busy,
            Idempotency::Idempotent,
            |endpoints, access_token| {
                token::ticket_request(endpoints, access_token, TicketType::Jsapi)
            },
            token::parse_ticket,
        )
        .await?;
        Ok(Fetched {
            secret: answer.ticket.expose_secret().to_owned(),
            expires_in: answer.expires_in,
        })
    }
}

impl JsapiTicketProvider {
    pub(crate) fn new(
        tokens: AccessTokenProvider,
        store: Arc<dyn TokenStore>,
        policy: Policy,
        busy: BusyRetry,
    ) -> Self {
        let key = CredentialKey::new(tokens.appid().clone(), CredentialKind::JsapiTicket);
        let clock = Arc::clone(tokens.config().clock());
        Self {
            inner: Arc::new(Refresher::new(
                key,
                store,
                clock,
                policy,
                TicketFetcher { tokens, busy },
            )),
        }
    }

    /// The current jsapi_ticket: cached while fresh, else from the one refresh in flight.
    pub async fn get(&self) -> Result<JsapiTicket, Error> {
        let credential = self.inner.get().await?;
        Ok(JsapiTicket::new(credential.into_secret()))
    }

    /// Compare-and-invalidate: removes the cached ticket only if it is still `ticket`.
    pub async fn invalidate_if_current(&self, ticket: &JsapiTicket) -> Result<bool, Error> {
        self.inner
            .invalidate_if_current(ticket.expose_secret())
            .await
    }

    /// The app.
    pub fn appid(&self) -> &AppId {
        self.inner.key().appid()
    }
}

impl fmt::Debug for JsapiTicketProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let policy = self.inner.policy();
        f.debug_struct("JsapiTicketProvider")
            .field("appid", self.appid())
            .field("refresh_margin", &policy.margin)
            .field("lock_lease", &policy.lease)
            .field("store", self.inner.store())
            .finish_non_exhaustive()
    }
}
