//! The errors of web authorization, typed by what the caller does next.

use wechat_client::ApiError;
use wechat_crypto::StateError;
use wechat_types::ErrCode;
use wechat_types::api::Scope;

/// Anything that can go wrong in web authorization.
///
/// WeChat's OAuth errcodes get their own variants, because each asks for a different reaction:
/// a used code usually means the callback ran twice (show the result of the first run), an
/// invalid or expired code or refresh token means sending the user through authorization again
/// ([`OAuthError::needs_reauthorization`]). The [`ApiError`] inside keeps WeChat's `errmsg` and
/// its request id for support tickets; every other failure is [`OAuthError::Client`].
///
/// ```
/// use wechat_oauth::{OAuthClient, OAuthError};
/// use wechat_types::api::Scope;
///
/// # let client = OAuthClient::new(
/// #     "wx1".into(),
/// #     "secret".into(),
/// #     wechat_client::ClientConfig::with_default_transport().unwrap(),
/// # );
/// let err = client.authorize_url("https://example.com/cb", Scope::Login, "s1").unwrap_err();
/// assert!(matches!(err, OAuthError::UnsupportedScope { scope: Scope::Login }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// `40163`: the code was already exchanged. Codes are single use; this is most often a
    /// callback that ran twice (a reload, a double redirect).
    #[error("the authorization code was already used (40163)")]
    CodeAlreadyUsed(#[source] ApiError),
    /// `40029`: WeChat does not know the code (mistyped, for another app, or expired: some
    /// WeChat versions report expiry this way).
    #[error("the authorization code is invalid (40029)")]
    CodeInvalid(#[source] ApiError),
    /// `42003`: the code was not exchanged within its lifetime (5 minutes, 10 for QR login).
    #[error("the authorization code expired (42003)")]
    CodeExpired(#[source] ApiError),
    /// `42002`: the refresh token is older than its 30 days; authorize again.
    #[error("the refresh token expired (42002)")]
    RefreshTokenExpired(#[source] ApiError),
    /// `40030`: WeChat does not know the refresh token; authorize again.
    #[error("the refresh token is invalid (40030)")]
    InvalidRefreshToken(#[source] ApiError),
    /// `42007`: the user revoked the authorization; authorize again.
    #[error("the user revoked the authorization (42007)")]
    AuthorizationRevoked(#[source] ApiError),
    /// `48001`: the token's scope does not allow the call (`sns/userinfo` with a `snsapi_base`
    /// token).
    #[error("the granted scope does not allow this call (48001)")]
    ScopeNotGranted(#[source] ApiError),
    /// The scope cannot be used with this URL: `authorize_url` takes `snsapi_base` or
    /// `snsapi_userinfo`; `snsapi_login` belongs to `qrconnect_url`.
    #[error("scope {scope} cannot be used here")]
    UnsupportedScope {
        /// The scope passed.
        scope: Scope,
    },
    /// The state is not 1 to 128 characters of `a-zA-Z0-9`, which WeChat requires.
    #[error("invalid OAuth state: {reason}")]
    InvalidState {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The redirect URI is not an absolute `http` or `https` URL.
    #[error("invalid redirect_uri: {reason}")]
    InvalidRedirectUri {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The callback's query string is not one WeChat sends (no state, a repeated parameter…).
    #[error("invalid OAuth callback: {reason}")]
    InvalidCallback {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The state that came back was not issued for this session, was altered, or expired.
    #[error("the OAuth state was refused")]
    State(#[from] StateError),
    /// Any other failure of the call: transport, HTTP status, decoding, another errcode.
    #[error(transparent)]
    Client(wechat_client::Error),
}

impl OAuthError {
    /// The errcode, when WeChat answered with one.
    pub fn api_code(&self) -> Option<ErrCode> {
        match self {
            OAuthError::CodeAlreadyUsed(api)
            | OAuthError::CodeInvalid(api)
            | OAuthError::CodeExpired(api)
            | OAuthError::RefreshTokenExpired(api)
            | OAuthError::InvalidRefreshToken(api)
            | OAuthError::AuthorizationRevoked(api)
            | OAuthError::ScopeNotGranted(api) => Some(api.code),
            OAuthError::Client(client) => client.api_code(),
            _ => None,
        }
    }

    /// True when the way forward is to send the user through authorization again: the code or
    /// refresh token can no longer be used, or the user revoked the authorization.
    ///
    /// A used code (40163) is not included: the first exchange of that code succeeded, so the
    /// usual fix is to serve that result rather than start over.
    pub fn needs_reauthorization(&self) -> bool {
        matches!(
            self,
            OAuthError::CodeInvalid(_)
                | OAuthError::CodeExpired(_)
                | OAuthError::RefreshTokenExpired(_)
                | OAuthError::InvalidRefreshToken(_)
                | OAuthError::AuthorizationRevoked(_)
        )
    }

    /// True when sending the same request again later may succeed (WeChat busy, a timeout, a
    /// proxy's 5xx).
    pub fn is_retryable(&self) -> bool {
        matches!(self, OAuthError::Client(client) if client.is_retryable())
    }
}

impl From<wechat_client::Error> for OAuthError {
    /// Gives WeChat's OAuth errcodes their own variants; everything else stays a client error.
    fn from(error: wechat_client::Error) -> Self {
        let wechat_client::Error::Api(api) = error else {
            return OAuthError::Client(error);
        };
        match api.code {
            ErrCode::CODE_BEEN_USED => OAuthError::CodeAlreadyUsed(api),
            ErrCode::INVALID_CODE => OAuthError::CodeInvalid(api),
            ErrCode::CODE_EXPIRED => OAuthError::CodeExpired(api),
            ErrCode::REFRESH_TOKEN_EXPIRED => OAuthError::RefreshTokenExpired(api),
            ErrCode::INVALID_REFRESH_TOKEN => OAuthError::InvalidRefreshToken(api),
            ErrCode::AUTHORIZATION_REVOKED => OAuthError::AuthorizationRevoked(api),
            ErrCode::API_UNAUTHORIZED => OAuthError::ScopeNotGranted(api),
            _ => OAuthError::Client(wechat_client::Error::Api(api)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn api(code: i64) -> wechat_client::Error {
        wechat_client::Error::Api(ApiError {
            code: ErrCode::from(code),
            errmsg: format!("e{code} rid: 1-2-3"),
            status: http::StatusCode::OK,
            endpoint: "/sns/oauth2/access_token".to_owned(),
        })
    }

    #[test]
    fn oauth_errcodes_get_their_variants_and_keep_the_answer() {
        fn variant(e: &OAuthError) -> &'static str {
            match e {
                OAuthError::CodeAlreadyUsed(_) => "CodeAlreadyUsed",
                OAuthError::CodeInvalid(_) => "CodeInvalid",
                OAuthError::CodeExpired(_) => "CodeExpired",
                OAuthError::RefreshTokenExpired(_) => "RefreshTokenExpired",
                OAuthError::InvalidRefreshToken(_) => "InvalidRefreshToken",
                OAuthError::AuthorizationRevoked(_) => "AuthorizationRevoked",
                OAuthError::ScopeNotGranted(_) => "ScopeNotGranted",
                _ => "other",
            }
        }
        for (code, expected) in [
            (40163, "CodeAlreadyUsed"),
            (40029, "CodeInvalid"),
            (42003, "CodeExpired"),
            (42002, "RefreshTokenExpired"),
            (40030, "InvalidRefreshToken"),
            (42007, "AuthorizationRevoked"),
            (48001, "ScopeNotGranted"),
        ] {
            let e = OAuthError::from(api(code));
            assert_eq!(variant(&e), expected, "{code}");
            assert_eq!(e.api_code(), Some(ErrCode::from(code)));
            let source = e.source().expect("the API answer is the source");
            assert!(source.to_string().contains("rid: 1-2-3"), "{source}");
        }
    }

    #[test]
    fn other_errors_stay_client_errors() {
        let e = OAuthError::from(api(-1));
        assert!(matches!(e, OAuthError::Client(_)));
        assert!(e.is_retryable());
        assert_eq!(e.api_code(), Some(ErrCode::SYSTEM_BUSY));
        assert!(!e.needs_reauthorization());
        let e = OAuthError::from(wechat_client::Error::invalid_input("x"));
        assert_eq!(e.api_code(), None);
    }

    #[test]
    fn reauthorization_is_for_dead_codes_and_refresh_tokens() {
        for code in [40029, 42003, 42002, 40030, 42007] {
            assert!(
                OAuthError::from(api(code)).needs_reauthorization(),
                "{code}"
            );
        }
        for code in [40163, 48001, 40001] {
            assert!(
                !OAuthError::from(api(code)).needs_reauthorization(),
                "{code}"
            );
        }
    }
}
