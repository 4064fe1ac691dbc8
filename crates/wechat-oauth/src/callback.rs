//! Reading the redirect WeChat sends the user back with.

use wechat_types::AuthCode;

use crate::authorize::validate_state;
use crate::error::OAuthError;

/// The longest code accepted. WeChat's codes are 32 characters; the bound only keeps a hostile
/// query from being carried further.
const MAX_CODE_LEN: usize = 512;

/// What WeChat's redirect to `redirect_uri` says: the user authorized (a code and the state) or
/// declined (the state alone; only `snsapi_userinfo` and QR login ask).
///
/// The redirect keeps the `redirect_uri`'s own query parameters; they are ignored here.
///
/// ```
/// use wechat_oauth::Callback;
///
/// let callback = Callback::from_query("from=menu&code=061AbcDef&state=s1")?;
/// assert_eq!(callback.state(), "s1");
/// let Callback::Authorized { code, .. } = &callback else { panic!("authorized") };
/// assert_eq!(code.expose_secret(), "061AbcDef");
///
/// assert!(matches!(Callback::from_query("state=s1")?, Callback::Denied { .. }));
/// # Ok::<(), wechat_oauth::OAuthError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// The user authorized: exchange the code (once) after checking the state.
    Authorized {
        /// The single-use authorization code.
        code: AuthCode,
        /// The state passed to the authorization URL.
        state: String,
    },
    /// The user declined.
    Denied {
        /// The state passed to the authorization URL.
        state: String,
    },
}

impl Callback {
    /// Parses the query string of the callback request (with or without its leading `?`).
    ///
    /// The state must satisfy WeChat's rule (see [`validate_state`](crate::validate_state)); an
    /// empty `code` is read as no code, that is a denial. A repeated `code` or `state` is
    /// refused rather than guessed at: an attacker who can add parameters to the URL must not
    /// choose which one counts.
    pub fn from_query(query: &str) -> Result<Callback, OAuthError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let invalid = |reason| OAuthError::InvalidCallback { reason };
        let mut code = None;
        let mut state = None;
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut code,
                "state" => &mut state,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(invalid("a code or state parameter is repeated"));
            }
        }
        let state = state.ok_or_else(|| invalid("it has no state parameter"))?;
        validate_state(&state)?;
        let state = state.into_owned();
        match code.filter(|c| !c.is_empty()) {
            None => Ok(Callback::Denied { state }),
            Some(code) if code.len() > MAX_CODE_LEN => Err(invalid("its code is too long")),
            Some(code) => Ok(Callback::Authorized {
                code: AuthCode::new(code.into_owned()),
                state,
            }),
        }
    }

    /// The state, whichever the outcome: verify it before acting on either.
    pub fn state(&self) -> &str {
        match self {
            Callback::Authorized { state, .. } | Callback::Denied { state } => state,
        }
    }

    /// The code, if the user authorized.
    pub fn code(&self) -> Option<&AuthCode> {
        match self {
            Callback::Authorized { code, .. } => Some(code),
            Callback::Denied { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorized_and_denied() {
        let c = Callback::from_query("?code=0a1B&state=xyz").unwrap();
        assert_eq!(c.code().unwrap().expose_secret(), "0a1B");
        assert_eq!(c.state(), "xyz");
        assert_eq!(
            Callback::from_query("state=xyz&code=").unwrap(),
            Callback::Denied {
                state: "xyz".into()
            }
        );
    }

    #[test]
    fn the_redirect_uris_own_parameters_are_ignored() {
        let c = Callback::from_query("next=%2Fme%3Fa%3D1&lang=中文&code=C&state=S").unwrap();
        assert_eq!(c.code().unwrap().expose_secret(), "C");
    }

    #[test]
    fn malformed_callbacks_are_typed_errors() {
        for (query, reason) in [
            ("", "it has no state parameter"),
            ("code=C", "it has no state parameter"),
            (
                "code=C&code=D&state=S",
                "a code or state parameter is repeated",
            ),
            (
                "code=C&state=S&state=T",
                "a code or state parameter is repeated",
            ),
        ] {
            match Callback::from_query(query) {
                Err(OAuthError::InvalidCallback { reason: r }) => assert_eq!(r, reason, "{query}"),
                other => panic!("{query}: {other:?}"),
            }
        }
        let long_code = format!("code={}&state=S", "c".repeat(513));
        assert!(matches!(
            Callback::from_query(&long_code),
            Err(OAuthError::InvalidCallback { .. })
        ));
        for query in ["code=C&state=", "code=C&state=a%20b", "state=%FF"] {
            assert!(
                matches!(
                    Callback::from_query(query),
                    Err(OAuthError::InvalidState { .. })
                ),
                "{query}"
            );
        }
    }

    #[test]
    fn debug_does_not_show_the_code() {
        let c = Callback::from_query("code=SECRETCODE&state=S").unwrap();
        assert!(!format!("{c:?}").contains("SECRETCODE"));
    }
}
