//! WeChat API error codes (`errcode`) and the `{errcode, errmsg}` envelope.
//!
//! Errors come back as HTTP 200 with a JSON body; the code is the only stable part: `errmsg` carries
//! a request id (`rid: …` or `hints: [ req_id: … ]`) and must never be matched on.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A WeChat `errcode`. Known codes have named constants and a meaning; any other code is kept as
/// its number.
///
/// ```
/// use wechat_types::ErrCode;
///
/// let code = ErrCode::from(40163);
/// assert_eq!(code, ErrCode::CODE_BEEN_USED);
/// assert_eq!(code.description(), Some("code been used"));
/// assert!(ErrCode::ACCESS_TOKEN_EXPIRED.is_token_invalid());
/// assert_eq!(ErrCode::from(99999).description(), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrCode(i64);

macro_rules! codes {
    ($($(#[$meta:meta])* $name:ident = $code:expr, $text:expr;)*) => {
        impl ErrCode {
            $(
                $(#[$meta])*
                #[doc = concat!("`", stringify!($code), "`: ", $text, ".")]
                pub const $name: ErrCode = ErrCode($code);
            )*

            /// What the code means, for the codes this crate knows.
            pub fn description(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some($text),)*
                    _ => None,
                }
            }

            /// The name of the constant for a known code (`"CODE_BEEN_USED"`).
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// Every code this crate knows, in ascending order.
            pub const KNOWN: &'static [ErrCode] = &[$(ErrCode($code),)*];
        }
    };
}

codes! {
    SYSTEM_BUSY = -1, "system error, busy; retry later";
    OK = 0, "ok";
    INVALID_CREDENTIAL = 40001, "invalid credential, access_token is invalid or not latest";
    INVALID_GRANT_TYPE = 40002, "invalid grant_type";
    INVALID_OPENID = 40003, "invalid openid";
    INVALID_MEDIA_TYPE = 40004, "invalid media type";
    INVALID_FILE_TYPE = 40005, "invalid file type";
    INVALID_FILE_SIZE = 40006, "invalid file size";
    INVALID_MEDIA_ID = 40007, "invalid media_id";
    INVALID_MESSAGE_TYPE = 40008, "invalid message type";
    INVALID_IMAGE_SIZE = 40009, "invalid image size";
    INVALID_APPID = 40013, "invalid appid";
    INVALID_ACCESS_TOKEN = 40014, "invalid access_token";
    INVALID_MENU_TYPE = 40015, "invalid button type";
    INVALID_BUTTON_COUNT = 40016, "invalid button size";
    INVALID_SUB_BUTTON_COUNT = 40017, "invalid sub button size";
    INVALID_BUTTON_NAME_SIZE = 40018, "invalid button name size";
    INVALID_BUTTON_KEY_SIZE = 40019, "invalid button key size";
    INVALID_BUTTON_URL_SIZE = 40020, "invalid button url size";
    INVALID_SUB_BUTTON_TYPE = 40024, "invalid sub button type";
    INVALID_SUB_BUTTON_NAME_SIZE = 40025, "invalid sub button name size";
    INVALID_SUB_BUTTON_KEY_SIZE = 40026, "invalid sub button key size";
    INVALID_SUB_BUTTON_URL_SIZE = 40027, "invalid sub button url size";
    INVALID_CODE = 40029, "invalid code";
    INVALID_REFRESH_TOKEN = 40030, "invalid refresh_token";
    INVALID_CHARSET = 40033, "invalid charset; send literal UTF-8, not \\uxxxx escapes";
    INVALID_TEMPLATE_ID = 40037, "invalid template_id";
    INVALID_SUB_BUTTON_URL_DOMAIN = 40054, "invalid sub button url domain";
    INVALID_BUTTON_URL_DOMAIN = 40055, "invalid button url domain";
    INVALID_APPSECRET = 40125, "invalid appsecret";
    CODE_BEEN_USED = 40163, "code been used";
    IP_NOT_WHITELISTED = 40164, "invalid ip, not in whitelist";
    APPSECRET_FROZEN = 40243, "AppSecret is frozen";
    ACCESS_TOKEN_MISSING = 41001, "access_token missing";
    APPID_MISSING = 41002, "appid missing";
    REFRESH_TOKEN_MISSING = 41003, "refresh_token missing";
    SECRET_MISSING = 41004, "appsecret missing";
    MEDIA_DATA_MISSING = 41005, "media data missing";
    CODE_MISSING = 41008, "missing code";
    OPENID_MISSING = 41009, "missing openid";
    ACCESS_TOKEN_EXPIRED = 42001, "access_token expired";
    REFRESH_TOKEN_EXPIRED = 42002, "refresh_token expired";
    CODE_EXPIRED = 42003, "code expired";
    AUTHORIZATION_REVOKED = 42007, "user authorization revoked; authorize again";
    REQUIRE_SUBSCRIBE = 43004, "require subscribe";
    USER_REFUSED = 43101, "user refused to accept the message";
    DAILY_QUOTA = 45009, "reach max api daily quota limit";
    MINUTE_QUOTA = 45011, "api minute-quota reach limit";
    RESPONSE_OUT_OF_TIME = 45015, "response out of time limit or subscription is canceled";
    RESPONSE_COUNT_LIMIT = 45047, "out of response count limit";
    UNLINKED_MINIPROGRAM = 45064, "no permission to use this mini program in the menu";
    MENU_NOT_EXIST = 46003, "menu no exist";
    DATA_FORMAT_ERROR = 47001, "data format error";
    ARGUMENT_INVALID = 47003, "argument invalid";
    API_UNAUTHORIZED = 48001, "api unauthorized";
    INVALID_JSSDK_SIGNATURE = 63002, "invalid signature";
    CONDITIONAL_MENU_NOT_EXIST = 65301, "conditional menu does not exist";
    CONDITIONAL_MENU_NO_USER = 65302, "no such user";
    NO_DEFAULT_MENU = 65303, "there is no default menu; create it first";
    MATCHRULE_EMPTY = 65304, "matchrule is empty";
    CONDITIONAL_MENU_LIMIT = 65305, "too many conditional menus";
    TOO_MANY_OUTBOUND_DOMAINS = 65316, "more than 3 outbound domains in the menu";
    INVALID_MENU_URL = 65317, "invalid url in the menu";
}

impl ErrCode {
    /// The code as a number.
    pub const fn code(self) -> i64 {
        self.0
    }

    /// True for `0`.
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// True for the codes that mean "this access_token is stale": 40001, 40014 and 42001.
    /// A client that sees one should invalidate the token it used (only that one) and retry once.
    pub const fn is_token_invalid(self) -> bool {
        matches!(self.0, 40001 | 40014 | 42001)
    }

    /// True for the codes where the same request may succeed if sent again later: `-1` (busy).
    pub const fn is_retryable(self) -> bool {
        matches!(self.0, -1)
    }
}

impl From<i64> for ErrCode {
    fn from(code: i64) -> Self {
        Self(code)
    }
}

impl From<ErrCode> for i64 {
    fn from(code: ErrCode) -> Self {
        code.0
    }
}

impl fmt::Debug for ErrCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "ErrCode({} {name})", self.0),
            None => write!(f, "ErrCode({})", self.0),
        }
    }
}

impl fmt::Display for ErrCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.description() {
            Some(text) => write!(f, "{} ({text})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The `{"errcode": N, "errmsg": "…"}` part of every API answer. Absent fields mean success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ApiStatus {
    /// The code; `0` when the body had none.
    #[serde(default = "ok_code")]
    pub errcode: ErrCode,
    /// The message, with WeChat's request-id suffix. For people, not for matching.
    #[serde(default)]
    pub errmsg: String,
}

fn ok_code() -> ErrCode {
    ErrCode::OK
}

impl Default for ErrCode {
    fn default() -> Self {
        ErrCode::OK
    }
}

impl ApiStatus {
    /// A status for `code` with WeChat's usual message text.
    pub fn new(code: ErrCode, errmsg: impl Into<String>) -> Self {
        Self {
            errcode: code,
            errmsg: errmsg.into(),
        }
    }

    /// `{"errcode":0,"errmsg":"ok"}`.
    pub fn ok() -> Self {
        Self::new(ErrCode::OK, "ok")
    }

    /// Reads the status from any API answer body; `None` when the body is not a JSON object.
    pub fn from_json(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_defaults_to_ok_when_absent() {
        let status = ApiStatus::from_json(br#"{"access_token":"x","expires_in":7200}"#).unwrap();
        assert!(status.errcode.is_ok());
        let status =
            ApiStatus::from_json(br#"{"errcode":40001,"errmsg":"invalid credential rid: 1-2-3"}"#)
                .unwrap();
        assert_eq!(status.errcode, ErrCode::INVALID_CREDENTIAL);
        assert!(status.errcode.is_token_invalid());
        assert!(ApiStatus::from_json(b"not json").is_none());
    }

    #[test]
    fn unknown_codes_are_kept() {
        let code = ErrCode::from(12345);
        assert_eq!(code.code(), 12345);
        assert_eq!(format!("{code:?}"), "ErrCode(12345)");
        assert_eq!(
            format!("{:?}", ErrCode::SYSTEM_BUSY),
            "ErrCode(-1 SYSTEM_BUSY)"
        );
        assert!(ErrCode::SYSTEM_BUSY.is_retryable());
        assert!(!ErrCode::CODE_BEEN_USED.is_retryable());
    }

    #[test]
    fn known_codes_are_sorted_and_unique() {
        let mut sorted = ErrCode::KNOWN.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, ErrCode::KNOWN);
    }
}
