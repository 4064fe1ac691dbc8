//! Secret newtypes: values that must never reach a log.
//!
//! Every type here prints `[redacted]` under `Debug`, has no `Display`, and hands out its value only
//! through an explicit `expose_secret()` call, so a secret in a log line is always a visible choice.
//! They serialize as plain strings because WeChat's APIs need them on the wire.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself. Call this only where the value goes on the wire.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self)
            }
        }
    };
}

secret_string!(
    /// The AppSecret of an official account (开发者密码), used to obtain access tokens.
    AppSecret
);
secret_string!(
    /// A base `access_token` (from `cgi-bin/token` or `cgi-bin/stable_token`) or an OAuth (sns) one.
    AccessToken
);
secret_string!(
    /// An OAuth `refresh_token`, valid for 30 days.
    RefreshToken
);
secret_string!(
    /// The server Token configured on the callback URL page, used in every push signature.
    ServerToken
);
secret_string!(
    /// A JS-SDK `jsapi_ticket`.
    JsapiTicket
);
secret_string!(
    /// An OAuth authorization `code` (single use, five minutes).
    AuthCode
);

/// The 43-character EncodingAESKey, parsed into the 32-byte AES key it stands for.
///
/// Official keys are often *non-canonical* base64 (their last character carries non-zero trailing
/// bits), so the key is decoded leniently, as WeChat itself does.
///
/// ```
/// use wechat_types::EncodingAesKey;
///
/// let key = EncodingAesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
/// assert_eq!(key.aes_key().len(), 32);
/// assert_eq!(format!("{key:?}"), "EncodingAesKey([redacted])");
/// assert!(EncodingAesKey::parse("too-short").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct EncodingAesKey {
    text: String,
    key: [u8; 32],
}

/// Why a string is not an EncodingAESKey.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidAesKey {
    /// The key is not 43 characters long.
    #[error("EncodingAESKey must be 43 characters, got {0}")]
    Length(usize),
    /// The key has a character outside the base64 alphabet.
    #[error("EncodingAESKey is not base64")]
    NotBase64,
}

impl EncodingAesKey {
    /// Parses the 43-character key shown on the WeChat console.
    pub fn parse(text: &str) -> Result<Self, InvalidAesKey> {
        if text.len() != 43 {
            return Err(InvalidAesKey::Length(text.chars().count()));
        }
        // WHATWG's forgiving base64: padding optional, trailing bits ignored, as WeChat reads it.
        let bytes = base64_simd::forgiving_decode_to_vec(text.as_bytes())
            .map_err(|_| InvalidAesKey::NotBase64)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| InvalidAesKey::NotBase64)?;
        Ok(Self {
            text: text.to_owned(),
            key,
        })
    }

    /// The 32-byte AES-256 key.
    pub fn aes_key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The 43-character text form, as configured on the console.
    pub fn expose_secret(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for EncodingAesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncodingAesKey([redacted])")
    }
}

impl std::str::FromStr for EncodingAesKey {
    type Err = InvalidAesKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = AppSecret::new("s3cr3t-value");
        let token = AccessToken::new("tok-value");
        assert_eq!(format!("{secret:?}"), "AppSecret([redacted])");
        assert!(!format!("{token:?} {:#?}", token).contains("tok-value"));
    }

    #[test]
    fn secrets_serialize_as_plain_strings() {
        let token = AccessToken::new("abc");
        assert_eq!(serde_json::to_string(&token).unwrap(), "\"abc\"");
        let back: AccessToken = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(back, token);
    }

    #[test]
    fn official_non_canonical_keys_parse() {
        for key in [
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
            "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(EncodingAesKey::parse(key).is_ok(), "{key}");
        }
        assert_eq!(
            EncodingAesKey::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
                .unwrap()
                .aes_key(),
            &[0u8; 32]
        );
    }

    #[test]
    fn bad_keys_are_typed_errors() {
        assert_eq!(EncodingAesKey::parse(""), Err(InvalidAesKey::Length(0)));
        assert_eq!(
            EncodingAesKey::parse("!bcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
            Err(InvalidAesKey::NotBase64)
        );
        // The key is 43 base64 characters; padding is WeChat's to add, never part of the key.
        assert_eq!(
            EncodingAesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF="),
            Err(InvalidAesKey::NotBase64)
        );
    }
}
