//! The endpoints, one module per API family. Each handler validates in the order WeChat does and
//! answers the errcode it would; the state machines sit beside their endpoints.

pub(crate) mod admin;
pub(crate) mod avatar;
pub(crate) mod custom;
pub(crate) mod jssdk;
pub(crate) mod menu;
pub(crate) mod oauth_pages;
pub(crate) mod pages;
pub(crate) mod sns;
pub(crate) mod ticket;
pub(crate) mod token;
pub(crate) mod user;

use wechat_types::ErrCode;

use crate::reply::ApiError;
use crate::router::Ctx;
use crate::state::State;

/// Tokens the fake issues are 16 to 1024 characters of `A-Za-z0-9-_`; anything else is not a
/// token at all (40014) rather than an unknown one (40001).
pub(crate) fn looks_like_token(token: &str) -> bool {
    (16..=1024).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The app a base `access_token` belongs to, for every `cgi-bin` API: 41001 without one, 40014
/// when malformed, 40001 when unknown or replaced by a newer one, 42001 when expired. Then counts
/// the call against the app's daily quota (45009).
pub(crate) fn api_caller(
    ctx: &Ctx<'_>,
    state: &mut State,
    path: &'static str,
) -> Result<usize, ApiError> {
    let token = ctx
        .query
        .get("access_token")
        .ok_or(ApiError::new(ErrCode::ACCESS_TOKEN_MISSING))?;
    if !looks_like_token(token) {
        return Err(ApiError::new(ErrCode::INVALID_ACCESS_TOKEN));
    }
    let Some(record) = state.base_tokens.get(token) else {
        let hint = if state.sns_access.get(token).is_some() {
            "this is a web-authorization (sns) access_token, not the base one"
        } else {
            "unknown access_token"
        };
        return Err(ApiError::new(ErrCode::INVALID_CREDENTIAL).with_hint(hint));
    };
    if record.expires_at <= ctx.now {
        return Err(if record.superseded {
            ApiError::new(ErrCode::INVALID_CREDENTIAL)
                .with_hint("a newer access_token replaced this one")
        } else {
            ApiError::new(ErrCode::ACCESS_TOKEN_EXPIRED)
        });
    }
    let app = state
        .app_index(record.appid.as_str())
        .ok_or_else(|| ApiError::new(ErrCode::INVALID_CREDENTIAL))?;
    state.charge_quota(app, path, ctx.now)?;
    Ok(app)
}

/// Compares secrets without an early exit, so response timing does not reveal a prefix.
pub(crate) fn secrets_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Escapes text for HTML and SVG.
pub(crate) fn escape_html(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shapes() {
        assert!(looks_like_token(&"a".repeat(16)));
        assert!(!looks_like_token("short"));
        assert!(!looks_like_token(&"a b".repeat(10)));
        assert!(!looks_like_token(&"a".repeat(1025)));
    }

    #[test]
    fn helpers() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "ab"));
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
        );
    }
}
