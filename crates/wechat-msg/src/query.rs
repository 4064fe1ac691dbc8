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
        // Only the six names the callback reads are decoded, and only when they need it: most
        // values (hex, digits, base64 in `echostr`) come through borrowed. One vectorized pass
        // finds every `&` and every byte that needs decoding (`%`, `+`): a search per pair for
        // `&`, then `=`, then `%` or `+` cost more in set-up than the scan of a query this short.
        let bytes = query.as_bytes();
        let mut pair_start = 0;
        let mut needs_decoding = false;
        let found = memchr::memchr3_iter(b'&', b'%', b'+', bytes);
        for at in found.chain(std::iter::once(bytes.len())) {
            if bytes.get(at).is_some_and(|&b| b != b'&') {
                needs_decoding = true;
                continue;
            }
            out.read_pair(&query[pair_start..at], std::mem::take(&mut needs_decoding));
            pair_start = at + 1;
        }
        out
    }

    /// Keeps `pair`'s value when its name is one the callback reads and it is the first of
    /// that name (as in most frameworks).
    fn read_pair(&mut self, pair: &'a str, needs_decoding: bool) {
        let Some((name, value)) = split_pair(pair) else {
            return;
        };
        let slot = match name {
            "signature" => &mut self.signature,
            "timestamp" => &mut self.timestamp,
            "nonce" => &mut self.nonce,
            "echostr" => &mut self.echostr,
            "encrypt_type" => &mut self.encrypt_type,
            "msg_signature" => &mut self.msg_signature,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(match needs_decoding {
                true => decode(value),
                false => Cow::Borrowed(value),
            });
        }
    }

    pub(crate) fn require(
        field: &'a Option<Cow<'a, str>>,
        name: &'static str,
    ) -> Result<&'a str, CallbackError> {
        // A `match`, not `ok_or`: the unused error is not built and dropped for every field.
        match field.as_deref() {
            Some(value) => Ok(value),
            None => Err(CallbackError::MissingParameter(name)),
        }
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

/// The longest name the callback reads (`msg_signature`).
const LONGEST_NAME: usize = 13;

/// A pair's name and value (empty without `=`); `None` when the name is longer than any the
/// callback reads, which is known after looking at that many bytes for the `=`.
fn split_pair(pair: &str) -> Option<(&str, &str)> {
    let head = &pair.as_bytes()[..pair.len().min(LONGEST_NAME + 1)];
    match head.iter().position(|&b| b == b'=') {
        Some(at) => Some((&pair[..at], &pair[at + 1..])),
        None if pair.len() <= LONGEST_NAME => Some((pair, "")),
        None => None,
    }
}

/// Percent-decodes a query value (`+` is a space), borrowing when there is nothing to decode.
fn decode(value: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'%', b'+', value.as_bytes()).is_none() {
        return Cow::Borrowed(value);
    }
    form_urlencoded::parse(value.as_bytes())
        .next()
        .map(|(key, rest)| {
            // `parse` reads `value` as one `key[=rest]` pair; put a literal `=` back.
            if rest.is_empty() && !value.contains('=') {
                key
            } else {
                Cow::Owned(format!("{key}={rest}"))
            }
        })
        .unwrap_or(Cow::Borrowed(""))
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
    fn decodes_like_a_form_parser() {
        for (query, expected) in [
            ("echostr=abc", "abc"),
            ("echostr=a%3Db%3D%3D", "a=b=="),
            ("echostr=a=b==", "a=b=="),
            ("echostr=%E4%BD%A0+%E5%A5%BD", "你 好"),
            ("echostr=%zz", "%zz"),
            ("echostr=%FF", "\u{FFFD}"),
            ("echostr", ""),
            ("echostr=", ""),
        ] {
            let q = PushQuery::parse(query);
            assert_eq!(q.echostr.as_deref(), Some(expected), "{query}");
        }
        assert!(matches!(
            PushQuery::parse("echostr=plain").echostr,
            Some(Cow::Borrowed(_))
        ));
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

    proptest::proptest! {
        /// Every parameter reads as a form parser reads the first pair of that name.
        #[test]
        fn agrees_with_a_form_parser(
            pairs in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "signature", "timestamp", "nonce", "echostr", "encrypt_type",
                        "msg_signature", "openid", "", "msg_signature_v2", "nonce2",
                        "a_name_longer_than_any_read",
                    ]),
                    proptest::option::of("[a-z0-9%+=&中]{0,8}"),
                ),
                0..10,
            )
        ) {
            let query = pairs
                .iter()
                .map(|(name, value)| match value {
                    Some(value) => format!("{name}={value}"),
                    None => (*name).to_owned(),
                })
                .collect::<Vec<_>>()
                .join("&");
            let parsed = PushQuery::parse(&query);
            let first = |wanted: &str| {
                form_urlencoded::parse(query.as_bytes())
                    .find(|(name, _)| name == wanted)
                    .map(|(_, value)| value.into_owned())
            };
            proptest::prop_assert_eq!(parsed.signature.map(Cow::into_owned), first("signature"));
            proptest::prop_assert_eq!(parsed.timestamp.map(Cow::into_owned), first("timestamp"));
            proptest::prop_assert_eq!(parsed.nonce.map(Cow::into_owned), first("nonce"));
            proptest::prop_assert_eq!(parsed.echostr.map(Cow::into_owned), first("echostr"));
            proptest::prop_assert_eq!(parsed.encrypt_type.map(Cow::into_owned), first("encrypt_type"));
            proptest::prop_assert_eq!(parsed.msg_signature.map(Cow::into_owned), first("msg_signature"));
        }
    }
}
