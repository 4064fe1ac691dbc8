//! The callback step of web authorization in one call: read WeChat's redirect, check its state,
//! spend the code, fetch the profile.

use wechat_types::api::Lang;

use crate::{Callback, OAuthClient, OAuthError, Profile, StateGuard};

/// What WeChat's redirect back to the app brought, once [`OAuthClient::sign_in`] checked it:
/// the two answers a user can give, as in [`Callback`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// The user agreed: who they are, and their profile when the scope allows it.
    Authorized(Profile),
    /// The user declined (the redirect carried a state and no code).
    Denied,
}

impl OAuthClient {
    /// The whole callback step: reads WeChat's redirect (`query`, the callback URL's query
    /// string), checks its state against `session_id` with `guard`, then spends the code once
    /// and fetches what the scope allows ([`OAuthClient::userinfo_by_code`]).
    ///
    /// The state is checked before the code is spent: a callback forged for another session
    /// (login CSRF) fails with [`OAuthError::State`] and leaves the code unused. A reload of the
    /// callback page spends the code a second time and fails with
    /// [`OAuthError::CodeAlreadyUsed`]; a session that signed in on the first try can take that
    /// as success.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wechat_client::{ClientConfig, Endpoints};
    /// use wechat_crypto::StateKey;
    /// use wechat_oauth::{OAuthClient, OAuthError, SignIn};
    /// use wechat_types::api::{Lang, Scope};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mock = wechat_mock::MockServer::start().await;
    /// # let (appid, secret) = (mock.app().appid, mock.app().secret);
    /// let config = ClientConfig::with_default_transport()?
    ///     .with_endpoints(Endpoints::single(mock.base_url()));
    /// let client = OAuthClient::new(appid, secret, config);
    /// let guard = client.state_guard(StateKey::generate(), Duration::from_secs(600));
    /// let session_id = "value-of-the-session-cookie";
    /// let url = client.authorize_url(
    ///     "https://example.com/callback",
    ///     Scope::UserInfo,
    ///     &guard.issue(session_id),
    /// )?;
    /// # let location = {
    /// #     let page = url.split('#').next().unwrap();
    /// #     let answer = client.config().send(wechat_client::request::get(page, &[])?).await?;
    /// #     answer.headers()["location"].to_str()?.to_owned()
    /// # };
    /// # let query = location.split_once('?').unwrap().1;
    /// // GET /callback?code=…&state=…
    /// match client.sign_in(&guard, session_id, query, Lang::ZhCn).await? {
    ///     SignIn::Authorized(profile) => println!("signed in: {}", profile.openid()),
    ///     SignIn::Denied => println!("the user said no"),
    /// }
    /// // The same callback again (a reload): the code is spent.
    /// let again = client.sign_in(&guard, session_id, query, Lang::ZhCn).await;
    /// assert!(matches!(again, Err(OAuthError::CodeAlreadyUsed(_))));
    /// // The same callback in another browser session: refused before the code is touched.
    /// let forged = client.sign_in(&guard, "someone-else", query, Lang::ZhCn).await;
    /// assert!(matches!(forged, Err(OAuthError::State(_))));
    /// # Ok(()) }
    /// ```
    pub async fn sign_in(
        &self,
        guard: &StateGuard,
        session_id: &str,
        query: &str,
        lang: Lang,
    ) -> Result<SignIn, OAuthError> {
        let callback = Callback::from_query(query)?;
        guard.verify(callback.state(), session_id)?;
        match callback {
            Callback::Authorized { code, .. } => self
                .userinfo_by_code(&code, lang)
                .await
                .map(SignIn::Authorized),
            Callback::Denied { .. } => Ok(SignIn::Denied),
        }
    }
}
