//! The web-authorization client: URLs out, codes and tokens in.

use std::time::Duration;

use wechat_client::ClientConfig;
use wechat_client::request::{self, Sensitivity};
use wechat_crypto::StateKey;
use wechat_types::api::{Lang, Scope, SnsToken, SnsUserInfo};
use wechat_types::{AccessToken, AppId, AppSecret, AuthCode, ErrCode, OpenId, RefreshToken};

use crate::authorize;
use crate::error::OAuthError;
use crate::state::StateGuard;
use crate::token::{OAuthToken, Profile};

const ACCESS_TOKEN_PATH: &str = "/sns/oauth2/access_token";
const REFRESH_TOKEN_PATH: &str = "/sns/oauth2/refresh_token";
const USERINFO_PATH: &str = "/sns/userinfo";
const AUTH_PATH: &str = "/sns/auth";

/// Web authorization (网页授权) for an official account, or website QR login for a website app
/// (use that app's AppID and AppSecret).
///
/// Cheap to clone; `Debug` does not show the secret.
///
/// ```no_run
/// use wechat_client::ClientConfig;
/// use wechat_oauth::{Callback, OAuthClient};
/// use wechat_types::api::{Lang, Scope};
///
/// # async fn run(callback_query: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let client = OAuthClient::new(
///     "wx520c15f417810387".into(),
///     "app-secret".into(),
///     ClientConfig::with_default_transport()?,
/// );
/// // 1. Send the user to WeChat…
/// let url = client.authorize_url("https://example.com/callback", Scope::UserInfo, "s1")?;
/// # let _ = url;
/// // 2. …who sends them back to /callback?code=…&state=s1.
/// if let Callback::Authorized { code, .. } = Callback::from_query(callback_query)? {
///     let token = client.exchange_code(&code).await?;
///     let user = client.userinfo(&token.access_token, &token.openid, Lang::ZhCn).await?;
///     println!("hello, {}", user.nickname);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OAuthClient {
    appid: AppId,
    secret: AppSecret,
    config: ClientConfig,
}

impl OAuthClient {
    /// A client for the app `appid` with its `secret`, calling WeChat through `config` (transport,
    /// hosts, clock).
    pub fn new(appid: AppId, secret: AppSecret, config: ClientConfig) -> Self {
        Self {
            appid,
            secret,
            config,
        }
    }

    /// The AppID.
    pub fn appid(&self) -> &AppId {
        &self.appid
    }

    /// The transport, hosts and clock.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The URL that asks the user, inside WeChat, to authorize `scope` and then redirects to
    /// `redirect_uri` with `?code=…&state=…`:
    ///
    /// `{open}/connect/oauth2/authorize?appid=…&redirect_uri=…&response_type=code&scope=…&state=…&connect_redirect=1#wechat_redirect`
    ///
    /// `redirect_uri` must be an absolute `http(s)` URL on a domain configured for the account
    /// (it is percent-encoded here; pass it plain). `scope` is [`Scope::Base`] (silent, OpenID
    /// only) or [`Scope::UserInfo`] (consent page, profile); `state` is 1 to 128 characters of
    /// `a-zA-Z0-9`, best from [`StateGuard::issue`].
    ///
    /// ```
    /// # let client = wechat_oauth::OAuthClient::new("wx1".into(), "s".into(),
    /// #     wechat_client::ClientConfig::with_default_transport().unwrap());
    /// use wechat_types::api::Scope;
    ///
    /// let url = client.authorize_url("https://example.com/cb?from=menu", Scope::Base, "s1")?;
    /// assert_eq!(
    ///     url,
    ///     "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx1\
    ///      &redirect_uri=https%3A%2F%2Fexample.com%2Fcb%3Ffrom%3Dmenu&response_type=code\
    ///      &scope=snsapi_base&state=s1&connect_redirect=1#wechat_redirect"
    /// );
    /// # Ok::<(), wechat_oauth::OAuthError>(())
    /// ```
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scope: Scope,
        state: &str,
    ) -> Result<String, OAuthError> {
        authorize::authorize_url(
            self.config.endpoints().open(),
            &self.appid,
            redirect_uri,
            &scope,
            state,
        )
    }

    /// The website-app QR login URL (`snsapi_login`), opened in an ordinary browser:
    ///
    /// `{open}/connect/qrconnect?appid=…&redirect_uri=…&response_type=code&scope=snsapi_login&state=…#wechat_redirect`
    ///
    /// The same rules as [`OAuthClient::authorize_url`] apply; the code it yields lives 10 minutes.
    pub fn qrconnect_url(&self, redirect_uri: &str, state: &str) -> Result<String, OAuthError> {
        authorize::qrconnect_url(
            self.config.endpoints().open(),
            &self.appid,
            redirect_uri,
            state,
        )
    }

    /// A [`StateGuard`] on this client's clock.
    pub fn state_guard(&self, key: StateKey, ttl: Duration) -> StateGuard {
        StateGuard::new(key, ttl).with_clock(self.config.clock().clone())
    }

    /// Exchanges the callback's code for a token (`sns/oauth2/access_token`). A code works once,
    /// within 5 minutes (10 for QR login).
    ///
    /// Errors: [`OAuthError::CodeAlreadyUsed`], [`OAuthError::CodeInvalid`],
    /// [`OAuthError::CodeExpired`], or [`OAuthError::Client`].
    pub async fn exchange_code(&self, code: &AuthCode) -> Result<OAuthToken, OAuthError> {
        let url = self.config.endpoints().url_api(ACCESS_TOKEN_PATH);
        let request = request::get(
            &url,
            &[
                ("appid", self.appid.as_str()),
                ("secret", self.secret.expose_secret()),
                ("code", code.expose_secret()),
                ("grant_type", "authorization_code"),
            ],
        )?;
        self.fetch_token(ACCESS_TOKEN_PATH, request).await
    }

    /// Renews the access token (`sns/oauth2/refresh_token`). The refresh token itself is not
    /// renewed: 30 days after the authorization the user must authorize again.
    ///
    /// Errors: [`OAuthError::RefreshTokenExpired`], [`OAuthError::InvalidRefreshToken`],
    /// [`OAuthError::AuthorizationRevoked`], or [`OAuthError::Client`].
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<OAuthToken, OAuthError> {
        let url = self.config.endpoints().url_api(REFRESH_TOKEN_PATH);
        let request = request::get(
            &url,
            &[
                ("appid", self.appid.as_str()),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ],
        )?;
        self.fetch_token(REFRESH_TOKEN_PATH, request).await
    }

    async fn fetch_token(
        &self,
        endpoint: &str,
        request: http::Request<bytes::Bytes>,
    ) -> Result<OAuthToken, OAuthError> {
        // Read the clock before sending, so expires_at errs early rather than late.
        let requested_at = self.config.clock().now();
        let response = self.config.send(request).await?;
        let answer: SnsToken = request::decode_json(endpoint, &response, Sensitivity::Secret)?;
        Ok(OAuthToken::from_answer(answer, requested_at))
    }

    /// The user's profile (`sns/userinfo`), with a token granted `snsapi_userinfo` (or
    /// `snsapi_login`).
    ///
    /// Errors: [`OAuthError::ScopeNotGranted`] for a `snsapi_base` token, or
    /// [`OAuthError::Client`] (a stale token is errcode 42001 / 40001 there).
    pub async fn userinfo(
        &self,
        access_token: &AccessToken,
        openid: &OpenId,
        lang: Lang,
    ) -> Result<SnsUserInfo, OAuthError> {
        let url = self.config.endpoints().url_api(USERINFO_PATH);
        let request = request::get(
            &url,
            &[
                ("access_token", access_token.expose_secret()),
                ("openid", openid.as_str()),
                ("lang", lang.as_str()),
            ],
        )?;
        let response = self.config.send(request).await?;
        Ok(request::decode_json(
            USERINFO_PATH,
            &response,
            Sensitivity::Public,
        )?)
    }

    /// Whether `access_token` is still valid for `openid` (`sns/auth`).
    ///
    /// `Ok(false)` when WeChat says the token is expired or invalid, or does not belong to the
    /// user (40001, 40003, 40014, 42001); any other failure is an error, so a network problem is
    /// never mistaken for a logged-out user.
    pub async fn check(
        &self,
        access_token: &AccessToken,
        openid: &OpenId,
    ) -> Result<bool, OAuthError> {
        let url = self.config.endpoints().url_api(AUTH_PATH);
        let request = request::get(
            &url,
            &[
                ("access_token", access_token.expose_secret()),
                ("openid", openid.as_str()),
            ],
        )?;
        let response = self.config.send(request).await?;
        match request::decode_ok(AUTH_PATH, &response) {
            Ok(()) => Ok(true),
            Err(e) if e.api_code().is_some_and(token_not_valid_for_user) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The one-step flow: exchanges `code` and, when the token allows it, fetches the profile.
    ///
    /// A `snsapi_base` authorization gives [`Profile::OpenIdOnly`] without calling
    /// `sns/userinfo` (which would fail with 48001); `snsapi_userinfo` gives [`Profile::Full`].
    /// Use [`OAuthClient::exchange_code`] instead to keep the token.
    pub async fn userinfo_by_code(
        &self,
        code: &AuthCode,
        lang: Lang,
    ) -> Result<Profile, OAuthError> {
        let token = self.exchange_code(code).await?;
        let base_only = || Profile::OpenIdOnly {
            openid: token.openid.clone(),
            unionid: token.unionid.clone(),
        };
        if !token.allows_userinfo() {
            return Ok(base_only());
        }
        match self
            .userinfo(&token.access_token, &token.openid, lang)
            .await
        {
            Ok(info) => Ok(Profile::Full(info)),
            // The scope list said userinfo, WeChat says no: still a signed-in user.
            Err(OAuthError::ScopeNotGranted(_)) => Ok(base_only()),
            Err(e) => Err(e),
        }
    }
}

/// The `sns/auth` answers that mean "this token is not (or no longer) good for this user".
fn token_not_valid_for_user(code: ErrCode) -> bool {
    code.is_token_invalid() || code == ErrCode::INVALID_OPENID
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use wechat_client::test_util::ReplayTransport;
    use wechat_client::{Endpoints, ManualClock};

    use super::*;

    fn client(transport: &ReplayTransport) -> OAuthClient {
        let config = ClientConfig::new(Arc::new(transport.clone()))
            .with_endpoints(Endpoints::single("http://wechat.test"))
            .with_clock(Arc::new(ManualClock::new(1_000)));
        OAuthClient::new("wxA".into(), "SEC".into(), config)
    }

    const TOKEN: &str = r#"{"access_token":"AT","expires_in":7200,"refresh_token":"RT","openid":"o1","scope":"snsapi_base"}"#;

    #[tokio::test]
    async fn exchange_sends_the_documented_request() {
        let transport = ReplayTransport::new();
        transport.push_json(TOKEN);
        let token = client(&transport)
            .exchange_code(&AuthCode::new("C&D"))
            .await
            .unwrap();
        assert_eq!(token.expires_at, 8_200);
        let sent = &transport.requests()[0];
        assert_eq!(sent.method, http::Method::GET);
        assert_eq!(
            sent.uri.to_string(),
            "http://wechat.test/sns/oauth2/access_token?appid=wxA&secret=SEC&code=C%26D&grant_type=authorization_code"
        );
    }

    #[tokio::test]
    async fn refresh_userinfo_and_auth_requests() {
        let transport = ReplayTransport::new();
        transport
            .push_json(TOKEN)
            .push_json(r#"{"openid":"o1","nickname":"小明","sex":1}"#)
            .push_json(r#"{"errcode":0,"errmsg":"ok"}"#);
        let client = client(&transport);
        client.refresh(&RefreshToken::new("RT")).await.unwrap();
        let info = client
            .userinfo(&AccessToken::new("AT"), &"o1".into(), Lang::En)
            .await
            .unwrap();
        assert_eq!(info.nickname, "小明");
        assert!(
            client
                .check(&AccessToken::new("AT"), &"o1".into())
                .await
                .unwrap()
        );
        let uris: Vec<String> = transport
            .requests()
            .iter()
            .map(|r| r.uri.to_string())
            .collect();
        assert_eq!(
            uris,
            [
                "http://wechat.test/sns/oauth2/refresh_token?appid=wxA&grant_type=refresh_token&refresh_token=RT",
                "http://wechat.test/sns/userinfo?access_token=AT&openid=o1&lang=en",
                "http://wechat.test/sns/auth?access_token=AT&openid=o1",
            ]
        );
    }

    #[tokio::test]
    async fn auth_says_false_only_for_token_answers() {
        for (code, expected) in [
            (40003, Some(false)),
            (42001, Some(false)),
            (40001, Some(false)),
            (40014, Some(false)),
            (-1, None),
            (40013, None),
        ] {
            let transport = ReplayTransport::new();
            transport.push_json(format!(r#"{{"errcode":{code},"errmsg":"x rid: 1"}}"#));
            let answer = client(&transport)
                .check(&AccessToken::new("AT"), &"o1".into())
                .await;
            match expected {
                Some(valid) => assert_eq!(answer.unwrap(), valid, "{code}"),
                None => assert!(matches!(answer, Err(OAuthError::Client(_))), "{code}"),
            }
        }
        let transport = ReplayTransport::new();
        transport.push_error(wechat_client::TransportErrorKind::Timeout);
        let e = client(&transport)
            .check(&AccessToken::new("AT"), &"o1".into())
            .await
            .unwrap_err();
        assert!(e.is_retryable());
    }

    #[tokio::test]
    async fn token_errors_never_show_the_body() {
        let transport = ReplayTransport::new();
        transport.push_json(r#"{"access_token":"LEAKED","expires_in":"soon"}"#);
        let e = client(&transport)
            .exchange_code(&AuthCode::new("C"))
            .await
            .unwrap_err();
        assert!(matches!(
            &e,
            OAuthError::Client(wechat_client::Error::Decode { .. })
        ));
        assert!(!format!("{e} {e:?}").contains("LEAKED"));
    }

    #[tokio::test]
    async fn one_step_flow_skips_userinfo_for_base_and_falls_back_on_48001() {
        let transport = ReplayTransport::new();
        transport.push_json(TOKEN);
        let profile = client(&transport)
            .userinfo_by_code(&AuthCode::new("C"), Lang::ZhCn)
            .await
            .unwrap();
        assert_eq!(
            profile,
            Profile::OpenIdOnly {
                openid: "o1".into(),
                unionid: None
            }
        );
        assert_eq!(transport.requests().len(), 1);

        let transport = ReplayTransport::new();
        transport
            .push_json(TOKEN.replace("snsapi_base", "snsapi_userinfo"))
            .push_json(r#"{"errcode":48001,"errmsg":"api unauthorized rid: 1"}"#);
        let profile = client(&transport)
            .userinfo_by_code(&AuthCode::new("C"), Lang::ZhCn)
            .await
            .unwrap();
        assert!(profile.userinfo().is_none());
        assert_eq!(transport.requests().len(), 2);
    }
}
