use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::id::{OpenId, UnionId};
use crate::secret::{AccessToken, RefreshToken};

/// An OAuth scope. Unknown scopes are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `snsapi_base`: silent, OpenID only.
    Base,
    /// `snsapi_userinfo`: asks consent, gives the profile.
    UserInfo,
    /// `snsapi_login`: website QR login.
    Login,
    /// Any other scope string.
    Unknown(String),
}

impl Scope {
    /// The wire value (`snsapi_base`…).
    pub fn as_str(&self) -> &str {
        match self {
            Scope::Base => "snsapi_base",
            Scope::UserInfo => "snsapi_userinfo",
            Scope::Login => "snsapi_login",
            Scope::Unknown(s) => s,
        }
    }

    /// Parses one scope value.
    pub fn parse(value: &str) -> Scope {
        match value {
            "snsapi_base" => Scope::Base,
            "snsapi_userinfo" => Scope::UserInfo,
            "snsapi_login" => Scope::Login,
            other => Scope::Unknown(other.to_owned()),
        }
    }

    /// Parses the comma-separated `scope` of a token answer (`"snsapi_base,snsapi_userinfo"`).
    pub fn parse_list(value: &str) -> Vec<Scope> {
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Scope::parse)
            .collect()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Scope::parse(&s))
    }
}

/// The answer of `sns/oauth2/access_token` and `sns/oauth2/refresh_token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnsToken {
    /// The web-authorization access token (not the base one).
    pub access_token: AccessToken,
    /// Seconds it stays valid (7200).
    pub expires_in: u64,
    /// The refresh token (30 days).
    pub refresh_token: RefreshToken,
    /// The user.
    pub openid: OpenId,
    /// Granted scopes, comma separated; see [`Scope::parse_list`].
    pub scope: String,
    /// The UnionID, when the account is bound to an open-platform account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<UnionId>,
    /// `1` when the user is in snapshot (virtual) mode, browsing a shared page without an account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_snapshotuser: Option<u8>,
}

/// `sex` in profiles: WeChat returns 0 since late 2021.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sex {
    /// `0`.
    #[default]
    Unknown,
    /// `1`.
    Male,
    /// `2`.
    Female,
}

impl Sex {
    /// The wire number.
    pub fn code(self) -> u8 {
        match self {
            Sex::Unknown => 0,
            Sex::Male => 1,
            Sex::Female => 2,
        }
    }
}

impl Serialize for Sex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for Sex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match i64::deserialize(d)? {
            1 => Sex::Male,
            2 => Sex::Female,
            _ => Sex::Unknown,
        })
    }
}

/// The `lang` of profile APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// `zh_CN`.
    #[default]
    ZhCn,
    /// `zh_TW`.
    ZhTw,
    /// `en`.
    En,
}

impl Lang {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh_CN",
            Lang::ZhTw => "zh_TW",
            Lang::En => "en",
        }
    }

    /// Parses a query value; `None` for anything else.
    pub fn parse(value: &str) -> Option<Lang> {
        match value {
            "zh_CN" => Some(Lang::ZhCn),
            "zh_TW" => Some(Lang::ZhTw),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// The answer of `sns/userinfo`. Region and sex are empty for most users since late 2021.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnsUserInfo {
    /// The user.
    pub openid: OpenId,
    /// Nickname.
    #[serde(default)]
    pub nickname: String,
    /// Sex.
    #[serde(default)]
    pub sex: Sex,
    /// Province.
    #[serde(default)]
    pub province: String,
    /// City.
    #[serde(default)]
    pub city: String,
    /// Country.
    #[serde(default)]
    pub country: String,
    /// Avatar URL.
    #[serde(default)]
    pub headimgurl: String,
    /// Privileges (e.g. `chinaunicom`).
    #[serde(default)]
    pub privilege: Vec<String>,
    /// UnionID, when bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<UnionId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answer_parses_with_and_without_optionals() {
        let t: SnsToken = serde_json::from_str(
            r#"{"access_token":"A","expires_in":7200,"refresh_token":"R","openid":"o1","scope":"snsapi_userinfo","unionid":"u1","is_snapshotuser":1}"#,
        )
        .unwrap();
        assert_eq!(t.unionid.unwrap(), "u1");
        assert_eq!(t.is_snapshotuser, Some(1));
        assert_eq!(Scope::parse_list(&t.scope), vec![Scope::UserInfo]);
        let t: SnsToken = serde_json::from_str(
            r#"{"access_token":"A","expires_in":7200,"refresh_token":"R","openid":"o1","scope":"snsapi_base"}"#,
        )
        .unwrap();
        assert!(t.unionid.is_none());
    }

    #[test]
    fn userinfo_keeps_chinese_literal() {
        let info = SnsUserInfo {
            openid: "o1".into(),
            nickname: "小明".into(),
            sex: Sex::Male,
            province: "广东".into(),
            city: "广州".into(),
            country: "中国".into(),
            headimgurl: String::new(),
            privilege: vec![],
            unionid: None,
        };
        let json = serde_json::to_string(&info).unwrap();
        assert!(json.contains("小明") && !json.contains("\\u"));
        assert_eq!(serde_json::from_str::<SnsUserInfo>(&json).unwrap(), info);
    }

    #[test]
    fn unknown_scope_is_kept() {
        assert_eq!(Scope::parse("x"), Scope::Unknown("x".into()));
        assert_eq!(
            Scope::parse_list("snsapi_base, snsapi_login,"),
            vec![Scope::Base, Scope::Login]
        );
    }
}
