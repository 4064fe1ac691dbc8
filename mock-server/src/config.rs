//! The fake's configuration: official accounts ([`MockApp`]) and their users ([`MockUser`]), plus
//! the JSON forms used by `--config` files and the `/mock/apps` and `/mock/users` admin routes.

use std::net::IpAddr;

use serde::Deserialize;
use wechat_types::api::Sex;
use wechat_types::{
    AccountId, AppId, AppSecret, EncodingAesKey, InvalidAesKey, OpenId, ServerToken, UnionId,
};

use crate::fake;
use crate::push::CallbackMode;

/// At most this many apps; adding more is refused.
pub(crate) const MAX_APPS: usize = 1_000;
/// At most this many users per app; adding more is refused.
pub(crate) const MAX_USERS_PER_APP: usize = 10_000;

/// The demo app's EncodingAESKey: the key of the official WXBizMsgCrypt samples.
const DEMO_AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

/// An official account the fake knows: its credentials and how it is configured on the (fake)
/// WeChat console.
///
/// Build one with [`MockApp::new`] and the `with_*` methods; [`MockApp::demo`] is the ready app
/// every server starts with unless told otherwise. Secrets print `[redacted]` under `Debug`.
///
/// ```
/// use wechat_mock::MockApp;
///
/// let app = MockApp::new("wx1234567890abcdef", "0123456789abcdef0123456789abcdef")
///     .with_oauth_domain("app.example.com")
///     .with_unionid(true)
///     .with_daily_quota(2000);
/// assert_eq!(app.appid, "wx1234567890abcdef");
/// assert_eq!(app.oauth_domain.as_deref(), Some("app.example.com"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MockApp {
    /// The AppID (`wx…`).
    pub appid: AppId,
    /// The AppSecret the token endpoints check.
    pub secret: AppSecret,
    /// The server Token of the callback URL (push signatures).
    pub token: ServerToken,
    /// The EncodingAESKey of the callback URL (encrypted pushes).
    pub aes_key: EncodingAesKey,
    /// The account's original ID (`gh_…`), the `ToUserName` of pushes.
    pub account_id: AccountId,
    /// The account's display name, shown on the consent and QR pages.
    pub name: String,
    /// The developer's callback URL (where pushes go): set it with
    /// [`MockServer::set_callback`](crate::MockServer::set_callback), which runs WeChat's
    /// verification handshake, or here without one.
    pub callback_url: Option<String>,
    /// The message encryption mode of the callback (plaintext by default, as on WeChat).
    pub callback_mode: CallbackMode,
    /// The web-authorization domain (网页授权域名). When set, `redirect_uri` must be on exactly
    /// this host (or `host:port` when the value carries a port), as on WeChat: error page 10003
    /// otherwise. When `None` any http(s) redirect is accepted, which is what local development
    /// wants.
    pub oauth_domain: Option<String>,
    /// True when the account is bound to an open-platform account: answers then carry `unionid`.
    pub unionid: bool,
    /// The API IP whitelist. Empty means no whitelist; otherwise `cgi-bin/token` and
    /// `cgi-bin/stable_token` answer 40164 to any other caller. In-process calls come from
    /// `127.0.0.1`.
    pub ip_whitelist: Vec<IpAddr>,
    /// Calls allowed per API per (Beijing) day; `None` is unlimited. Past it: 45009.
    pub daily_quota: Option<u32>,
}

impl MockApp {
    /// The demo app: fixed, well-known fake credentials so `wechat-mock` alone is usable and
    /// restarts keep the same configuration.
    pub fn demo() -> MockApp {
        MockApp {
            appid: AppId::new("wx4d0c0ffee5eed001"),
            secret: AppSecret::new("00112233445566778899aabbccddeeff"),
            token: ServerToken::new("wechatmock"),
            aes_key: demo_aes_key(),
            account_id: AccountId::new("gh_0c0ffee5eed1"),
            name: "wechat-mock 演示号".to_owned(),
            callback_url: None,
            callback_mode: CallbackMode::Plaintext,
            oauth_domain: None,
            unionid: false,
            ip_whitelist: Vec::new(),
            daily_quota: None,
        }
    }

    /// An app with these credentials. The server token and EncodingAESKey are generated at
    /// random, the `gh_` id is derived from the appid; change them with the `with_*` methods.
    pub fn new(appid: impl Into<AppId>, secret: impl Into<AppSecret>) -> MockApp {
        let appid = appid.into();
        let mut seeded = fake::Seeded::new(appid.as_str(), u64::MAX);
        let account_id = format!("gh_{:012x}", seeded.next_u64() & 0xffff_ffff_ffff);
        // 43 alphanumeric characters are always a valid (lenient) EncodingAESKey.
        let aes_key =
            EncodingAesKey::parse(&fake::random_alnum(43)).unwrap_or_else(|_| demo_aes_key());
        MockApp {
            appid,
            secret: secret.into(),
            token: ServerToken::new(fake::random_alnum(16)),
            aes_key,
            account_id: AccountId::new(account_id),
            name: "wechat-mock 公众号".to_owned(),
            callback_url: None,
            callback_mode: CallbackMode::Plaintext,
            oauth_domain: None,
            unionid: false,
            ip_whitelist: Vec::new(),
            daily_quota: None,
        }
    }

    /// Sets the display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the server Token.
    pub fn with_token(mut self, token: ServerToken) -> Self {
        self.token = token;
        self
    }

    /// Sets the EncodingAESKey.
    pub fn with_aes_key(mut self, key: EncodingAesKey) -> Self {
        self.aes_key = key;
        self
    }

    /// Sets the original ID (`gh_…`).
    pub fn with_account_id(mut self, id: impl Into<AccountId>) -> Self {
        self.account_id = id.into();
        self
    }

    /// Sets the developer's callback URL.
    pub fn with_callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// Sets the message encryption mode of the callback.
    pub fn with_callback_mode(mut self, mode: CallbackMode) -> Self {
        self.callback_mode = mode;
        self
    }

    /// Sets the web-authorization domain that `redirect_uri` must match.
    pub fn with_oauth_domain(mut self, domain: impl Into<String>) -> Self {
        self.oauth_domain = Some(domain.into());
        self
    }

    /// Binds the app to an open-platform account (answers carry `unionid`) or not.
    pub fn with_unionid(mut self, bound: bool) -> Self {
        self.unionid = bound;
        self
    }

    /// Sets the API IP whitelist (empty: none).
    pub fn with_ip_whitelist(mut self, ips: Vec<IpAddr>) -> Self {
        self.ip_whitelist = ips;
        self
    }

    /// Sets the daily quota per API.
    pub fn with_daily_quota(mut self, calls_per_day: u32) -> Self {
        self.daily_quota = Some(calls_per_day);
        self
    }
}

fn demo_aes_key() -> EncodingAesKey {
    // A constant; the unit test `demo_app_is_valid` proves it parses.
    EncodingAesKey::parse(DEMO_AES_KEY).expect("the demo EncodingAESKey constant is valid")
}

/// A fake WeChat user of one app: the profile the OAuth and user APIs answer, and whether they
/// follow the account.
///
/// ```
/// use wechat_mock::MockUser;
/// use wechat_types::api::Sex;
///
/// let user = MockUser::new("测试用户").with_sex(Sex::Female).with_region("中国", "浙江", "杭州");
/// assert!(user.openid.as_str().starts_with('o'));
/// assert!(user.subscribed);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MockUser {
    /// The OpenID (per app).
    pub openid: OpenId,
    /// The UnionID; generated when the user joins an app bound to an open platform.
    pub unionid: Option<UnionId>,
    /// Nickname.
    pub nickname: String,
    /// Sex.
    pub sex: Sex,
    /// Country, in Chinese (answered localized for `lang=en|zh_TW` when the fake knows the name).
    pub country: String,
    /// Province.
    pub province: String,
    /// City.
    pub city: String,
    /// WeChat language (`zh_CN`…).
    pub language: String,
    /// True when the user follows the account (`cgi-bin/user/info` `subscribe`).
    pub subscribed: bool,
    /// When they followed (unix seconds); `0` means "when the server started".
    pub subscribe_time: i64,
    /// Tag ids (for conditional menus).
    pub tags: Vec<i64>,
    /// The account's remark.
    pub remark: String,
}

impl MockUser {
    /// A following user in Guangzhou with a random OpenID.
    pub fn new(nickname: impl Into<String>) -> MockUser {
        MockUser {
            openid: OpenId::new(fake::random_openid()),
            unionid: None,
            nickname: nickname.into(),
            sex: Sex::Unknown,
            country: "中国".to_owned(),
            province: "广东".to_owned(),
            city: "广州".to_owned(),
            language: "zh_CN".to_owned(),
            subscribed: true,
            subscribe_time: 0,
            tags: Vec::new(),
            remark: String::new(),
        }
    }

    /// The `index`-th generated user of `appid`: the same on every run.
    pub(crate) fn generated(appid: &AppId, index: usize) -> MockUser {
        let person = fake::person(appid.as_str(), index);
        MockUser {
            openid: OpenId::new(person.openid),
            unionid: Some(UnionId::new(person.unionid)),
            nickname: person.nickname,
            sex: person.sex,
            country: fake::COUNTRY_CN[0].to_owned(),
            province: person.place.province[0].to_owned(),
            city: person.place.city[0].to_owned(),
            language: "zh_CN".to_owned(),
            subscribed: true,
            subscribe_time: 0,
            tags: Vec::new(),
            remark: String::new(),
        }
    }

    /// Sets the OpenID.
    pub fn with_openid(mut self, openid: impl Into<OpenId>) -> Self {
        self.openid = openid.into();
        self
    }

    /// Sets the UnionID.
    pub fn with_unionid(mut self, unionid: impl Into<UnionId>) -> Self {
        self.unionid = Some(unionid.into());
        self
    }

    /// Sets the sex.
    pub fn with_sex(mut self, sex: Sex) -> Self {
        self.sex = sex;
        self
    }

    /// Sets country, province and city.
    pub fn with_region(
        mut self,
        country: impl Into<String>,
        province: impl Into<String>,
        city: impl Into<String>,
    ) -> Self {
        self.country = country.into();
        self.province = province.into();
        self.city = city.into();
        self
    }

    /// Sets the language.
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }

    /// Sets the tag ids.
    pub fn with_tags(mut self, tags: Vec<i64>) -> Self {
        self.tags = tags;
        self
    }

    /// A user who does not follow the account: `user/info` answers `subscribe: 0` and
    /// custom-service messages to them fail with 45015.
    pub fn unsubscribed(mut self) -> Self {
        self.subscribed = false;
        self
    }
}

/// Why a configuration (a `--config` file or an admin request) was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not the expected JSON.
    #[error("invalid configuration JSON")]
    Json(#[source] serde_json::Error),
    /// An app's `aes_key` is not a valid EncodingAESKey.
    #[error("app {appid}: invalid aes_key")]
    AesKey {
        /// The app.
        appid: String,
        /// Why.
        #[source]
        source: InvalidAesKey,
    },
    /// A field is empty or out of range.
    #[error("{0}")]
    Invalid(String),
    /// Two apps share an appid.
    #[error("app {0} is configured twice")]
    DuplicateApp(String),
    /// Two users of one app share an openid.
    #[error("user {0} is configured twice in one app")]
    DuplicateUser(String),
    /// No app has this appid.
    #[error("no app {0}")]
    UnknownApp(String),
    /// More apps or users than the fake holds.
    #[error("{0}")]
    TooMany(String),
}

/// `{"apps": [...]}`: the `--config` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSpec {
    #[serde(default)]
    pub(crate) apps: Vec<AppSpec>,
}

/// One app in JSON. Every field but `appid` has a default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppSpec {
    pub(crate) appid: String,
    pub(crate) secret: Option<String>,
    pub(crate) token: Option<String>,
    pub(crate) aes_key: Option<String>,
    pub(crate) account_id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) callback_url: Option<String>,
    /// `plaintext`, `compat` or `safe`.
    pub(crate) callback_mode: Option<String>,
    pub(crate) oauth_domain: Option<String>,
    #[serde(default)]
    pub(crate) unionid: bool,
    #[serde(default)]
    pub(crate) ip_whitelist: Vec<IpAddr>,
    pub(crate) daily_quota: Option<u32>,
    /// A number of generated users, or the users themselves.
    pub(crate) users: Option<UsersSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum UsersSpec {
    Count(usize),
    List(Vec<UserSpec>),
}

/// One user in JSON. Only `nickname` is required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserSpec {
    /// Which app, for `POST /mock/users` (default: the default app).
    #[serde(default)]
    pub(crate) appid: Option<String>,
    pub(crate) openid: Option<String>,
    pub(crate) unionid: Option<String>,
    pub(crate) nickname: String,
    pub(crate) sex: Option<u8>,
    pub(crate) country: Option<String>,
    pub(crate) province: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) language: Option<String>,
    pub(crate) subscribed: Option<bool>,
    #[serde(default)]
    pub(crate) tags: Vec<i64>,
    pub(crate) remark: Option<String>,
}

/// An app spec, converted: the app, its listed users, and how many users to generate.
pub(crate) struct AppParts {
    pub(crate) app: MockApp,
    pub(crate) users: Option<Vec<MockUser>>,
    pub(crate) count: Option<usize>,
}

impl AppSpec {
    /// The app, and its users when listed (`None`: generate the default number).
    pub(crate) fn into_app(self) -> Result<AppParts, ConfigError> {
        let appid = non_empty("appid", &self.appid)?;
        let mut app = MockApp::new(
            appid,
            self.secret
                .unwrap_or_else(|| "00112233445566778899aabbccddeeff".to_owned()),
        );
        if let Some(token) = self.token {
            app.token = ServerToken::new(non_empty("token", &token)?);
        }
        if let Some(key) = self.aes_key {
            app.aes_key = EncodingAesKey::parse(&key).map_err(|source| ConfigError::AesKey {
                appid: self.appid.clone(),
                source,
            })?;
        }
        if let Some(id) = self.account_id {
            app.account_id = AccountId::new(non_empty("account_id", &id)?);
        }
        if let Some(name) = self.name {
            app.name = name;
        }
        app.callback_url = self.callback_url.filter(|s| !s.is_empty());
        if let Some(mode) = self.callback_mode {
            app.callback_mode = CallbackMode::parse(&mode).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "callback_mode must be plaintext, compat or safe, not {mode:?}"
                ))
            })?;
        }
        app.oauth_domain = self.oauth_domain.filter(|s| !s.is_empty());
        app.unionid = self.unionid;
        app.ip_whitelist = self.ip_whitelist;
        app.daily_quota = self.daily_quota;
        let (users, count) = match self.users {
            None => (None, None),
            Some(UsersSpec::Count(n)) => (None, Some(n)),
            Some(UsersSpec::List(list)) => (
                Some(
                    list.into_iter()
                        .map(UserSpec::into_user)
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                None,
            ),
        };
        Ok(AppParts { app, users, count })
    }
}

impl UserSpec {
    pub(crate) fn into_user(self) -> Result<MockUser, ConfigError> {
        let mut user = MockUser::new(non_empty("nickname", &self.nickname)?);
        if let Some(openid) = self.openid {
            user.openid = OpenId::new(valid_openid(&openid)?);
        }
        user.unionid = self.unionid.filter(|s| !s.is_empty()).map(UnionId::new);
        if let Some(sex) = self.sex {
            user.sex = match sex {
                0 => Sex::Unknown,
                1 => Sex::Male,
                2 => Sex::Female,
                other => {
                    return Err(ConfigError::Invalid(format!(
                        "sex must be 0, 1 or 2, not {other}"
                    )));
                }
            };
        }
        if let Some(v) = self.country {
            user.country = v;
        }
        if let Some(v) = self.province {
            user.province = v;
        }
        if let Some(v) = self.city {
            user.city = v;
        }
        if let Some(v) = self.language {
            user.language = v;
        }
        if let Some(v) = self.subscribed {
            user.subscribed = v;
        }
        user.tags = self.tags;
        if let Some(v) = self.remark {
            user.remark = v;
        }
        Ok(user)
    }
}

fn non_empty<'a>(field: &str, value: &'a str) -> Result<&'a str, ConfigError> {
    if value.trim().is_empty() {
        return Err(ConfigError::Invalid(format!("{field} must not be empty")));
    }
    Ok(value)
}

/// An openid must be usable in a URL path (the avatar route) and a query: `A-Za-z0-9-_`.
fn valid_openid(value: &str) -> Result<&str, ConfigError> {
    if value.is_empty()
        || value.len() > 64
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ConfigError::Invalid(format!(
            "openid must be 1 to 64 characters of A-Za-z0-9-_, not {value:?}"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_app_is_valid() {
        let app = MockApp::demo();
        assert_eq!(app.aes_key.expose_secret(), DEMO_AES_KEY);
        assert!(app.appid.as_str().starts_with("wx"));
        assert!(!format!("{app:?}").contains("00112233445566778899aabbccddeeff"));
    }

    #[test]
    fn new_app_derives_a_gh_id() {
        let a = MockApp::new("wxA", "s");
        let b = MockApp::new("wxA", "s");
        assert_eq!(a.account_id, b.account_id);
        assert!(a.account_id.as_str().starts_with("gh_"));
        assert_eq!(a.account_id.as_str().len(), 15);
    }

    #[test]
    fn specs_convert_with_typed_errors() {
        let spec: AppSpec = serde_json::from_str(
            r#"{"appid":"wxB","aes_key":"short","users":[{"nickname":"甲"}]}"#,
        )
        .unwrap();
        assert!(matches!(spec.into_app(), Err(ConfigError::AesKey { .. })));
        let spec: AppSpec = serde_json::from_str(
            r#"{"appid":"wxB","users":[{"nickname":"甲","sex":1,"openid":"oA_1"}]}"#,
        )
        .unwrap();
        let AppParts { app, users, .. } = spec.into_app().unwrap();
        assert_eq!(app.appid, "wxB");
        let users = users.unwrap();
        assert_eq!(users[0].openid, "oA_1");
        assert_eq!(users[0].sex, Sex::Male);
        let spec: AppSpec =
            serde_json::from_str(r#"{"appid":"wxB","users":[{"nickname":"甲","openid":"a/b"}]}"#)
                .unwrap();
        assert!(matches!(spec.into_app(), Err(ConfigError::Invalid(_))));
        assert!(serde_json::from_str::<AppSpec>(r#"{"appid":"x","bogus":1}"#).is_err());
    }
}
