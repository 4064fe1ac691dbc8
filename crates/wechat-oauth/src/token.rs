//! What a code exchange gives: a typed web-authorization token, and the profile of the one-step
//! flow.

use serde::{Deserialize, Serialize};
use wechat_types::api::{Scope, SnsToken, SnsUserInfo};
use wechat_types::{AccessToken, OpenId, RefreshToken, UnionId};

/// A web-authorization (sns) token: an access token for `sns/userinfo` and `sns/auth`, and the
/// refresh token that renews it.
///
/// `Debug` shows no secret. It serializes (secrets as plain strings) so it can be kept in a
/// session store; treat that store as holding credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OAuthToken {
    /// The sns access token (not the account's base token), valid 7200 s.
    pub access_token: AccessToken,
    /// Renews the access token for 30 days after the authorization.
    pub refresh_token: RefreshToken,
    /// The user, as seen by this app.
    pub openid: OpenId,
    /// The granted scopes, without duplicates, in WeChat's order.
    pub scopes: Vec<Scope>,
    /// When the access token expires (unix seconds), measured from just before the request on the
    /// client's clock, so it errs early.
    pub expires_at: i64,
    /// The user's UnionID, when the app is bound to an open-platform account.
    #[serde(default)]
    pub unionid: Option<UnionId>,
    /// True when the user is in snapshot mode: browsing a shared page in WeChat's single-page
    /// preview, without having authorized. Such a user has no real profile; ask them to open
    /// the page fully.
    #[serde(default)]
    pub is_snapshot_user: bool,
}

impl OAuthToken {
    /// The token of a `sns/oauth2/*` answer received at `requested_at`.
    pub(crate) fn from_answer(answer: SnsToken, requested_at: i64) -> Self {
        let mut scopes = Vec::with_capacity(1);
        for scope in Scope::parse_list(&answer.scope) {
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        let lifetime = i64::try_from(answer.expires_in).unwrap_or(i64::MAX);
        Self {
            access_token: answer.access_token,
            refresh_token: answer.refresh_token,
            openid: answer.openid,
            scopes,
            expires_at: requested_at.saturating_add(lifetime),
            unionid: answer.unionid,
            is_snapshot_user: answer.is_snapshotuser == Some(1),
        }
    }

    /// True when `scope` was granted.
    pub fn has_scope(&self, scope: &Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// True when the token allows `sns/userinfo`: it was granted with `snsapi_userinfo` (or
    /// `snsapi_login`, for website apps).
    pub fn allows_userinfo(&self) -> bool {
        self.has_scope(&Scope::UserInfo) || self.has_scope(&Scope::Login)
    }

    /// True when the access token has expired at `now` (unix seconds).
    pub fn is_expired_at(&self, now: i64) -> bool {
        now >= self.expires_at
    }
}

/// What the one-step flow ([`OAuthClient::userinfo_by_code`](crate::OAuthClient::userinfo_by_code))
/// learns about the user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// A `snsapi_base` authorization: who the user is, but no profile.
    OpenIdOnly {
        /// The user.
        openid: OpenId,
        /// The UnionID, when the app is bound to an open-platform account.
        unionid: Option<UnionId>,
    },
    /// A `snsapi_userinfo` (or QR login) authorization: the whole profile.
    Full(SnsUserInfo),
}

impl Profile {
    /// The user's OpenID.
    pub fn openid(&self) -> &OpenId {
        match self {
            Profile::OpenIdOnly { openid, .. } => openid,
            Profile::Full(info) => &info.openid,
        }
    }

    /// The user's UnionID, when known.
    pub fn unionid(&self) -> Option<&UnionId> {
        match self {
            Profile::OpenIdOnly { unionid, .. } => unionid.as_ref(),
            Profile::Full(info) => info.unionid.as_ref(),
        }
    }

    /// The profile, for a `snsapi_userinfo` authorization.
    pub fn userinfo(&self) -> Option<&SnsUserInfo> {
        match self {
            Profile::OpenIdOnly { .. } => None,
            Profile::Full(info) => Some(info),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> SnsToken {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_full_answer_becomes_a_typed_token() {
        let token = OAuthToken::from_answer(
            answer(
                r#"{"access_token":"ACCESS-SECRET","expires_in":7200,"refresh_token":"REFRESH-SECRET",
                    "openid":"o1","scope":"snsapi_userinfo,snsapi_base,snsapi_userinfo",
                    "unionid":"u1","is_snapshotuser":1}"#,
            ),
            1_700_000_000,
        );
        assert_eq!(token.scopes, vec![Scope::UserInfo, Scope::Base]);
        assert!(token.allows_userinfo());
        assert_eq!(token.expires_at, 1_700_007_200);
        assert!(!token.is_expired_at(1_700_007_199));
        assert!(token.is_expired_at(1_700_007_200));
        assert_eq!(token.unionid.as_ref().unwrap(), "u1");
        assert!(token.is_snapshot_user);
        let debug = format!("{token:?}");
        assert!(!debug.contains("ACCESS-SECRET") && !debug.contains("REFRESH-SECRET"));
        assert!(debug.contains("o1"));
    }

    #[test]
    fn optional_fields_default_and_base_scope_has_no_userinfo() {
        let token = OAuthToken::from_answer(
            answer(
                r#"{"access_token":"A","expires_in":7200,"refresh_token":"R","openid":"o1","scope":"snsapi_base"}"#,
            ),
            0,
        );
        assert_eq!(token.scopes, vec![Scope::Base]);
        assert!(!token.allows_userinfo());
        assert!(token.unionid.is_none());
        assert!(!token.is_snapshot_user);
    }

    #[test]
    fn a_token_survives_a_session_store() {
        let token = OAuthToken::from_answer(
            answer(
                r#"{"access_token":"A","expires_in":7200,"refresh_token":"R","openid":"o1","scope":"snsapi_login"}"#,
            ),
            5,
        );
        let stored = serde_json::to_string(&token).unwrap();
        assert_eq!(serde_json::from_str::<OAuthToken>(&stored).unwrap(), token);
        // The optional fields may be missing from what was stored.
        let minimal = r#"{"access_token":"A","refresh_token":"R","openid":"o1","scopes":["snsapi_login"],"expires_at":7205}"#;
        assert_eq!(serde_json::from_str::<OAuthToken>(minimal).unwrap(), token);
    }
}
