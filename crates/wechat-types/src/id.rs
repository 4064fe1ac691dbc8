//! Identifier newtypes: an `OpenId` is not a `String`, and an `AppId` is not an `OpenId`.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an identifier.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier as an owned `String`.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
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

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

string_id!(
    /// An official account's AppID (`wx…`).
    AppId
);
string_id!(
    /// A user's OpenID: unique per user *and* per official account.
    OpenId
);
string_id!(
    /// A user's UnionID: the same across the apps bound to one open-platform account.
    UnionId
);
string_id!(
    /// The account's original ID (`gh_…`), the `ToUserName` of every push.
    AccountId
);
string_id!(
    /// A media file's ID (`MediaId`, `ThumbMediaId`).
    MediaId
);
string_id!(
    /// A template's ID for template messages.
    TemplateId
);

/// A message's ID (`MsgId`, or `MsgID` in job-finish events): a 64-bit number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct MsgId(pub u64);

impl fmt::Debug for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MsgId({})", self.0)
    }
}

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_transparent_in_json_and_display() {
        let id = OpenId::new("oUser1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"oUser1\"");
        assert_eq!(id.to_string(), "oUser1");
        assert_eq!(format!("{id:?}"), "OpenId(\"oUser1\")");
        assert_eq!(id, "oUser1");
        assert_eq!(serde_json::to_string(&MsgId(7)).unwrap(), "7");
    }
}
