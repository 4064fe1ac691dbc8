//! The URLs that send a user to WeChat's authorization pages, and the checks WeChat applies to
//! their parameters, done before the user ever leaves the site.

use std::borrow::Cow;

use percent_encoding::{CONTROLS, utf8_percent_encode};
use wechat_client::request::url_with_query;
use wechat_types::AppId;
use wechat_types::api::Scope;

use crate::error::OAuthError;

/// The longest `state` WeChat accepts, in bytes.
pub const MAX_STATE_LEN: usize = 128;

/// The fragment WeChat requires on authorization URLs; it never reaches a server, but without it
/// the WeChat client shows an error page.
const WECHAT_REDIRECT: &str = "#wechat_redirect";

/// Checks a `state` against WeChat's rule: 1 to 128 characters of `a-zA-Z0-9`.
///
/// ```
/// use wechat_oauth::validate_state;
///
/// assert!(validate_state("abc123XYZ").is_ok());
/// assert!(validate_state("").is_err());
/// assert!(validate_state("a-b").is_err());
/// assert!(validate_state(&"a".repeat(129)).is_err());
/// ```
pub fn validate_state(state: &str) -> Result<(), OAuthError> {
    let reason = if state.is_empty() {
        "it is empty"
    } else if state.len() > MAX_STATE_LEN {
        "it is longer than 128 bytes"
    } else if !state.bytes().all(|b| b.is_ascii_alphanumeric()) {
        "it has a character outside a-zA-Z0-9"
    } else {
        return Ok(());
    };
    Err(OAuthError::InvalidState { reason })
}

/// Checks that `redirect_uri` is an absolute `http`/`https` URL with a host, and nothing a URL
/// cannot hold (whitespace, control characters). Non-ASCII characters are fine: they are
/// percent-encoded with the rest. A fragment is allowed: WeChat puts `?code=…&state=…` before it,
/// which single-page apps with hash routing rely on.
pub(crate) fn validate_redirect_uri(uri: &str) -> Result<(), OAuthError> {
    let invalid = |reason| Err(OAuthError::InvalidRedirectUri { reason });
    let Some((scheme, rest)) = uri.split_once("://") else {
        return invalid("it is not an absolute URL");
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return invalid("its scheme is not http or https");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() || host.starts_with(':') {
        return invalid("it has no host");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("it has whitespace or a control character");
    }
    Ok(())
}

/// `redirect_uri` as a URI: non-ASCII characters (an IRI's) percent-encoded as UTF-8, the rest
/// untouched, so existing `%XX` escapes are not encoded twice. WeChat decodes the parameter once
/// and redirects to the result, which must be a valid `Location`; a raw non-ASCII `Location` is
/// read differently by different clients.
fn as_uri(redirect_uri: &str) -> Cow<'_, str> {
    // Controls were refused by `validate_redirect_uri`; CONTROLS only adds them to the non-ASCII
    // bytes that are always encoded.
    utf8_percent_encode(redirect_uri, CONTROLS).into()
}

/// `{open}/connect/oauth2/authorize?appid=…&redirect_uri=…&response_type=code&scope=…&state=…&connect_redirect=1#wechat_redirect`.
pub(crate) fn authorize_url(
    open_base: &str,
    appid: &AppId,
    redirect_uri: &str,
    scope: &Scope,
    state: &str,
) -> Result<String, OAuthError> {
    if !matches!(scope, Scope::Base | Scope::UserInfo) {
        return Err(OAuthError::UnsupportedScope {
            scope: scope.clone(),
        });
    }
    validate_redirect_uri(redirect_uri)?;
    validate_state(state)?;
    // WeChat checks the parameters in this order, and `connect_redirect=1` stops the double
    // redirects behind most "code been used" (40163) reports.
    let mut url = url_with_query(
        &format!("{open_base}/connect/oauth2/authorize"),
        &[
            ("appid", appid.as_str()),
            ("redirect_uri", &as_uri(redirect_uri)),
            ("response_type", "code"),
            ("scope", scope.as_str()),
            ("state", state),
            ("connect_redirect", "1"),
        ],
    );
    url.push_str(WECHAT_REDIRECT);
    Ok(url)
}

/// `{open}/connect/qrconnect?appid=…&redirect_uri=…&response_type=code&scope=snsapi_login&state=…#wechat_redirect`.
pub(crate) fn qrconnect_url(
    open_base: &str,
    appid: &AppId,
    redirect_uri: &str,
    state: &str,
) -> Result<String, OAuthError> {
    validate_redirect_uri(redirect_uri)?;
    validate_state(state)?;
    let mut url = url_with_query(
        &format!("{open_base}/connect/qrconnect"),
        &[
            ("appid", appid.as_str()),
            ("redirect_uri", &as_uri(redirect_uri)),
            ("response_type", "code"),
            ("scope", Scope::Login.as_str()),
            ("state", state),
        ],
    );
    url.push_str(WECHAT_REDIRECT);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: &str = "https://open.weixin.qq.com";

    #[test]
    fn authorize_url_matches_the_documented_shape() {
        let url = authorize_url(
            OPEN,
            &AppId::new("wx520c15f417810387"),
            "https://chong.qq.com/php/index.php?d=&c=wxAdapter&m=mobileDeal",
            &Scope::Base,
            "123",
        )
        .unwrap();
        assert_eq!(
            url,
            "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx520c15f417810387\
             &redirect_uri=https%3A%2F%2Fchong.qq.com%2Fphp%2Findex.php%3Fd%3D%26c%3DwxAdapter%26m%3DmobileDeal\
             &response_type=code&scope=snsapi_base&state=123&connect_redirect=1#wechat_redirect"
        );
    }

    #[test]
    fn non_ascii_is_encoded_once_as_utf8_and_existing_escapes_stay() {
        let url = authorize_url(
            OPEN,
            &AppId::new("wx1"),
            "https://example.com/回调?名=值&x=%20#/p",
            &Scope::UserInfo,
            "s",
        )
        .unwrap();
        // What WeChat decodes (once) and redirects to is an ASCII URI meaning the same thing.
        assert!(url.contains(
            "&redirect_uri=https%3A%2F%2Fexample.com%2F%25E5%259B%259E%25E8%25B0%2583\
             %3F%25E5%2590%258D%3D%25E5%2580%25BC%26x%3D%2520%23%2Fp&response_type=code"
        ));
        assert!(url.ends_with("&state=s&connect_redirect=1#wechat_redirect"));
    }

    #[test]
    fn only_web_scopes_are_accepted() {
        for scope in [Scope::Login, Scope::Unknown("snsapi_privateinfo".into())] {
            let e = authorize_url(OPEN, &"wx1".into(), "https://a.b/", &scope, "s").unwrap_err();
            assert!(matches!(e, OAuthError::UnsupportedScope { scope: s } if s == scope));
        }
    }

    #[test]
    fn states_follow_wechats_rule() {
        assert!(validate_state(&"Az09".repeat(32)).is_ok());
        for bad in ["", "a b", "a_b", "状态", "a=b", "a&b"] {
            assert!(
                matches!(validate_state(bad), Err(OAuthError::InvalidState { .. })),
                "{bad:?}"
            );
        }
        assert!(validate_state(&"x".repeat(129)).is_err());
    }

    #[test]
    fn redirect_uris_must_be_absolute_web_urls() {
        for good in [
            "https://example.com",
            "http://127.0.0.1:8080/callback?next=/a&b=中文",
            "HTTPS://Example.com/#/spa/route",
            "https://user@example.com/cb",
        ] {
            assert!(validate_redirect_uri(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/callback",
            "example.com/cb",
            "ftp://example.com/",
            "javascript://alert(1)//",
            "https:///path",
            "https://:443/path",
            "https://example.com/a b",
            "https://example.com/\r\nX: y",
        ] {
            assert!(
                matches!(
                    validate_redirect_uri(bad),
                    Err(OAuthError::InvalidRedirectUri { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            validate_redirect_uri("javascript://alert(1)//"),
            Err(OAuthError::InvalidRedirectUri {
                reason: "its scheme is not http or https"
            })
        ));
    }

    #[test]
    fn qrconnect_uses_snsapi_login_and_no_connect_redirect() {
        let url = qrconnect_url(OPEN, &"wxweb".into(), "https://a.b/cb", "s1").unwrap();
        assert_eq!(
            url,
            "https://open.weixin.qq.com/connect/qrconnect?appid=wxweb&redirect_uri=https%3A%2F%2Fa.b%2Fcb\
             &response_type=code&scope=snsapi_login&state=s1#wechat_redirect"
        );
        assert!(qrconnect_url(OPEN, &"wxweb".into(), "https://a.b/cb", "").is_err());
    }
}
