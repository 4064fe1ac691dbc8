//! The query string WeChat puts on every request to the callback URL (PROTOCOL.md 4.6).

use std::borrow::Cow;

use crate::CallbackError;

/// The parameters the callback reads; others (such as `openid`) are ignored. Values borrow from
/// the query string unless they were percent-encoded.
#[derive(Debug, Default)]
pub(crate) struct PushQuery<'a> {
    pub(crate) signature: Option<Cow<'a, str>>,
    pub(crate) timestamp: Option<Cow<'a, str>>,
    pub(crate) nonce: Option<Cow<'a, str>>,
    pub(crate) echostr: Option<Cow<'a, str>>,
    pub(crate) encrypt_type: Option<Cow<'a, str>>,
    pub(crate) msg_signature: Option<Cow<'a, str>>,
}

/// How the push body is sealed, from `encrypt_type` and `msg_signature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sealing {
    Plain,
    Aes,
}

impl<'a> PushQuery<'a> {
    pub(crate) fn parse(query: &'a str) -> Self {
        let mut out = PushQuery::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "signature" => &mut out.signature,
                "timestamp" => &mut out.timestamp,
                "nonce" => &mut out.nonce,
                "echostr" => &mut out.echostr,
                "encrypt_type" => &mut out.encrypt_type,
                "msg_signature" => &mut out.msg_signature,
                _ => continue,
            };
            // The first occurrence wins, as in most frameworks.
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        out
    }

    pub(crate) fn require(
        field: &'a Option<Cow<'a, str>>,
        name: &'static str,
    ) -> Result<&'a str, CallbackError> {
        field
            .as_deref()
            .ok_or(CallbackError::MissingParameter(name))
    }

    /// `encrypt_type=aes` (or a `msg_signature` alone) means an encrypted body; `raw` or nothing
    /// means plaintext.
    pub(crate) fn sealing(&self) -> Result<Sealing, CallbackError> {
        match self.encrypt_type.as_deref() {
            Some(kind) if kind.eq_ignore_ascii_case("aes") => Ok(Sealing::Aes),
            Some(kind) if kind.eq_ignore_ascii_case("raw") || kind.is_empty() => Ok(Sealing::Plain),
            Some(other) => Err(CallbackError::UnsupportedEncryptType(
                other.chars().take(32).collect(),
            )),
            None if self.msg_signature.is_some() => Ok(Sealing::Aes),
            None => Ok(Sealing::Plain),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_safe_mode_query_of_the_official_example() {
        let q = PushQuery::parse(
            "signature=cc0c594499c1634947d5b502f158ee518947db27&timestamp=1715943329&nonce=1590219412\
             &openid=o9AgO5Kd5ggOC-bXrbNODIiE3bGY&encrypt_type=aes&msg_signature=6c12a4205838198b8fa631b3220723bb07f1015c",
        );
        assert_eq!(q.timestamp.as_deref(), Some("1715943329"));
        assert_eq!(q.sealing().unwrap(), Sealing::Aes);
        assert_eq!(
            q.msg_signature.as_deref(),
            Some("6c12a4205838198b8fa631b3220723bb07f1015c")
        );
    }

    #[test]
    fn decodes_percent_encoding_and_keeps_the_first_value() {
        let q = PushQuery::parse("echostr=a%2Bb+c&echostr=second&nonce=");
        assert_eq!(q.echostr.as_deref(), Some("a+b c"));
        assert_eq!(q.nonce.as_deref(), Some(""));
        assert_eq!(q.sealing().unwrap(), Sealing::Plain);
    }

    #[test]
    fn sealing_rules() {
        assert_eq!(
            PushQuery::parse("encrypt_type=raw").sealing().unwrap(),
            Sealing::Plain
        );
        assert_eq!(
            PushQuery::parse("msg_signature=x").sealing().unwrap(),
            Sealing::Aes
        );
        assert!(matches!(
            PushQuery::parse("encrypt_type=des").sealing(),
            Err(CallbackError::UnsupportedEncryptType(_))
        ));
    }
}
