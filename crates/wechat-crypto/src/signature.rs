//! SHA-1 signatures: the server `signature`, the `msg_signature` of encrypted bodies, and the
//! JS-SDK `signature`. All are lowercase hex; every check compares in constant time.

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use wechat_types::{JsapiTicket, ServerToken};

use crate::{CryptoError, hex};

/// The SHA-1 of the lexicographically sorted parts, concatenated.
fn sorted_sha1<const N: usize>(mut parts: [&str; N]) -> [u8; 20] {
    parts.sort_unstable();
    let mut sha = Sha1::new();
    for part in parts {
        sha.update(part.as_bytes());
    }
    sha.finalize().into()
}

/// Compares a computed digest with a signature from outside, in constant time. A signature of
/// the wrong length or with a non-hex character is a mismatch, not a separate error.
fn check(expected: &[u8; 20], given: &str) -> Result<(), CryptoError> {
    let given = hex::decode_upper_or_lower::<20>(given).ok_or(CryptoError::InvalidSignature)?;
    if bool::from(expected.ct_eq(&given)) {
        Ok(())
    } else {
        Err(CryptoError::InvalidSignature)
    }
}

/// The server `signature`: lowercase hex SHA-1 of the sorted `token`, `timestamp` and `nonce`.
///
/// WeChat sends it on the URL verification (`echostr`) and on every push, in every mode.
///
/// ```
/// use wechat_types::ServerToken;
/// let token = ServerToken::new("test");
/// assert_eq!(
///     wechat_crypto::signature(&token, "1410685589", "test"),
///     "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
/// );
/// ```
pub fn signature(token: &ServerToken, timestamp: &str, nonce: &str) -> String {
    hex::encode(&sorted_sha1([token.expose_secret(), timestamp, nonce]))
}

/// The `msg_signature` of an encrypted body: lowercase hex SHA-1 of the sorted `token`,
/// `timestamp`, `nonce` and the `Encrypt` text.
///
/// ```
/// use wechat_types::ServerToken;
/// let token = ServerToken::new("a");
/// assert_eq!(wechat_crypto::msg_signature(&token, "b", "c", "d").len(), 40);
/// ```
pub fn msg_signature(token: &ServerToken, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    hex::encode(&msg_signature_digest(token, timestamp, nonce, encrypt))
}

/// The SHA-1 behind [`msg_signature`], before hex.
pub(crate) fn msg_signature_digest(
    token: &ServerToken,
    timestamp: &str,
    nonce: &str,
    encrypt: &str,
) -> [u8; 20] {
    sorted_sha1([token.expose_secret(), timestamp, nonce, encrypt])
}

/// Checks a server `signature` in constant time. Hex of either case is accepted.
///
/// ```
/// use wechat_crypto::CryptoError;
/// use wechat_types::ServerToken;
/// let token = ServerToken::new("test");
/// let good = "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff";
/// assert!(wechat_crypto::verify_signature(&token, "1410685589", "test", good).is_ok());
/// assert!(matches!(
///     wechat_crypto::verify_signature(&token, "1410685589", "test", "not hex"),
///     Err(CryptoError::InvalidSignature)
/// ));
/// ```
pub fn verify_signature(
    token: &ServerToken,
    timestamp: &str,
    nonce: &str,
    signature: &str,
) -> Result<(), CryptoError> {
    check(
        &sorted_sha1([token.expose_secret(), timestamp, nonce]),
        signature,
    )
}

/// Checks the `msg_signature` of an encrypted body in constant time. Hex of either case is
/// accepted.
pub fn verify_msg_signature(
    token: &ServerToken,
    timestamp: &str,
    nonce: &str,
    encrypt: &str,
    msg_signature: &str,
) -> Result<(), CryptoError> {
    check(
        &msg_signature_digest(token, timestamp, nonce, encrypt),
        msg_signature,
    )
}

/// The JS-SDK `signature` for `wx.config`: lowercase hex SHA-1 of
/// `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` (keys in ASCII order, values raw, not escaped).
///
/// `url` is the full page URL; everything from the first `#` on is dropped, as the JS-SDK
/// requires. `noncestr` and `timestamp` must be the ones handed to `wx.config`.
///
/// ```
/// use wechat_types::JsapiTicket;
/// let ticket = JsapiTicket::new("ticket");
/// assert_eq!(
///     wechat_crypto::jssdk_signature(&ticket, "n", 1, "https://a.example/p#x"),
///     wechat_crypto::jssdk_signature(&ticket, "n", 1, "https://a.example/p"),
/// );
/// ```
pub fn jssdk_signature(ticket: &JsapiTicket, noncestr: &str, timestamp: i64, url: &str) -> String {
    let url = url.split_once('#').map_or(url, |(page, _fragment)| page);
    let mut digits = [0u8; 20];
    let mut sha = Sha1::new();
    sha.update(b"jsapi_ticket=");
    sha.update(ticket.expose_secret().as_bytes());
    sha.update(b"&noncestr=");
    sha.update(noncestr.as_bytes());
    sha.update(b"&timestamp=");
    sha.update(format_i64(timestamp, &mut digits));
    sha.update(b"&url=");
    sha.update(url.as_bytes());
    hex::encode(&sha.finalize())
}

/// Writes `value` in decimal into `buf` (20 bytes hold any i64) without allocating.
fn format_i64(value: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = value.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        // `n % 10` is below 10, so the cast cannot truncate.
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if value < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

/// Compares two byte strings in constant time (for equal lengths; the length itself is not
/// secret). `false` when the lengths differ.
///
/// ```
/// assert!(wechat_crypto::constant_time_eq(b"abc", b"abc"));
/// assert!(!wechat_crypto::constant_time_eq(b"abc", b"abd"));
/// assert!(!wechat_crypto::constant_time_eq(b"abc", b"ab"));
/// ```
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_every_i64() {
        let mut buf = [0u8; 20];
        for value in [0, 7, -7, 1414587457, i64::MAX, i64::MIN] {
            assert_eq!(
                format_i64(value, &mut buf),
                value.to_string().as_bytes(),
                "{value}"
            );
        }
    }

    #[test]
    fn the_sort_is_plain_byte_order() {
        // Byte order puts "10" < "B" < "a"; a case-insensitive sort would give "10aB".
        let token = ServerToken::new("a");
        assert_eq!(
            signature(&token, "B", "10"),
            hex::encode(&Sha1::digest(b"10Ba"))
        );
        assert_eq!(
            msg_signature(&token, "B", "10", "A"),
            hex::encode(&Sha1::digest(b"10ABa"))
        );
    }

    #[test]
    fn uppercase_signature_is_accepted_and_a_flipped_digit_is_not() {
        let token = ServerToken::new("test");
        let good = signature(&token, "1", "2");
        assert!(verify_signature(&token, "1", "2", &good.to_uppercase()).is_ok());
        let mut bad = good.into_bytes();
        bad[0] = if bad[0] == b'0' { b'1' } else { b'0' };
        let bad = String::from_utf8(bad).unwrap();
        assert!(matches!(
            verify_signature(&token, "1", "2", &bad),
            Err(CryptoError::InvalidSignature)
        ));
    }

    #[test]
    fn wrong_length_or_non_hex_is_a_mismatch() {
        let token = ServerToken::new("t");
        for given in [
            "",
            "ab",
            &"z".repeat(40),
            &"a".repeat(41),
            "é".repeat(20).as_str(),
        ] {
            assert!(matches!(
                verify_msg_signature(&token, "1", "2", "3", given),
                Err(CryptoError::InvalidSignature)
            ));
        }
    }

    #[test]
    fn constant_time_eq_handles_lengths() {
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
