//! Why a request to the callback URL was refused.

use std::error::Error as StdError;
use std::fmt::Write as _;

use http::{Method, StatusCode};
use wechat_crypto::CryptoError;
use wechat_types::xml::XmlError;

/// Why a request to the callback URL was refused. Every variant answers a 4xx status
/// ([`CallbackError::status`]) with a one-line reason ([`CallbackError::reason`]); none is a
/// server fault, so none is a 5xx.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// Only `GET` (URL verification) and `POST` (pushes) are served.
    #[error("method {0} is not allowed; use GET or POST")]
    MethodNotAllowed(Method),
    /// The body is longer than the configured limit.
    #[error("body exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read from the connection.
    #[error("body could not be read")]
    BodyRead(#[source] Box<dyn StdError + Send + Sync>),
    /// The body did not arrive in time.
    #[error("body did not arrive within the read timeout")]
    BodyTimeout,
    /// A query parameter the request needs is absent.
    #[error("query parameter `{0}` is missing")]
    MissingParameter(&'static str),
    /// `timestamp` is not a whole number of seconds.
    #[error("query parameter `timestamp` is not a number")]
    InvalidTimestamp,
    /// `timestamp` lies outside the accepted window around the server's clock.
    #[error(
        "timestamp {timestamp} is outside the accepted window of {window_secs} s (server time {now})"
    )]
    StaleTimestamp {
        /// The request's timestamp.
        timestamp: i64,
        /// The server's time.
        now: i64,
        /// The accepted distance, in seconds.
        window_secs: u64,
    },
    /// `signature` does not match the server token.
    #[error("signature does not match")]
    Signature(#[source] CryptoError),
    /// `msg_signature` does not match the encrypted body.
    #[error("msg_signature does not match")]
    MsgSignature(#[source] CryptoError),
    /// The same `timestamp` and `nonce` were already seen (replay protection is on).
    #[error("nonce was already used")]
    NonceReplayed,
    /// `encrypt_type` has a value other than `aes` or `raw`.
    #[error("encrypt_type `{0}` is not supported")]
    UnsupportedEncryptType(String),
    /// A plaintext push reached a callback configured for safe mode.
    #[error("push is not encrypted, but the callback requires safe mode")]
    EncryptionRequired,
    /// An encrypted push reached a callback with no EncodingAESKey configured.
    #[error("push is encrypted, but no EncodingAESKey is configured")]
    EncryptionNotConfigured,
    /// The encrypted envelope is not well-formed (no `<Encrypt>`, bad XML, a DOCTYPE…).
    #[error("encrypted envelope is invalid")]
    Envelope(#[source] CryptoError),
    /// The ciphertext is not valid: bad base64, truncated, bad padding or length.
    #[error("ciphertext is invalid")]
    Decrypt(#[source] CryptoError),
    /// The message decrypted, but it was sealed for another AppID.
    #[error("message is for another appid")]
    WrongAppId(#[source] CryptoError),
    /// The message is not a valid push: not UTF-8, malformed XML, a DOCTYPE, a missing field…
    #[error("message is invalid")]
    Message(#[source] XmlError),
}

impl CallbackError {
    /// The HTTP status this error answers: always a 4xx.
    ///
    /// ```
    /// use wechat_msg::CallbackError;
    /// assert_eq!(CallbackError::NonceReplayed.status(), http::StatusCode::FORBIDDEN);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Signature(_)
            | Self::MsgSignature(_)
            | Self::StaleTimestamp { .. }
            | Self::NonceReplayed
            | Self::WrongAppId(_) => StatusCode::FORBIDDEN,
            Self::BodyRead(_)
            | Self::MissingParameter(_)
            | Self::InvalidTimestamp
            | Self::UnsupportedEncryptType(_)
            | Self::EncryptionRequired
            | Self::EncryptionNotConfigured
            | Self::Envelope(_)
            | Self::Decrypt(_)
            | Self::Message(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The error and its causes on one line, for the response body and logs. Holds no secret.
    ///
    /// ```
    /// use wechat_msg::CallbackError;
    /// use wechat_types::xml::XmlError;
    /// assert_eq!(
    ///     CallbackError::Message(XmlError::Doctype).reason(),
    ///     "message is invalid: XML with a DOCTYPE is refused"
    /// );
    /// ```
    pub fn reason(&self) -> String {
        let mut line = self.to_string();
        let mut cause = self.source();
        while let Some(err) = cause {
            let text = err.to_string();
            // Some errors repeat their cause in their own message: say each thing once.
            if !line.ends_with(&text) {
                let _ = write!(line, ": {text}");
            }
            cause = err.source();
        }
        // One line, whatever a cause's message holds.
        line.retain(|c| c != '\n' && c != '\r');
        line
    }

    /// Sorts a failure of [`MessageCrypto::decrypt_push`](wechat_crypto::MessageCrypto::decrypt_push)
    /// into the step that refused: envelope, msg_signature, ciphertext or AppID.
    pub(crate) fn from_decrypt(err: CryptoError) -> Self {
        match err {
            CryptoError::AppIdMismatch { .. } => Self::WrongAppId(err),
            CryptoError::InvalidXml(_) | CryptoError::MissingEncrypt => Self::Envelope(err),
            CryptoError::InvalidSignature => Self::MsgSignature(err),
            _ => Self::Decrypt(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_is_a_4xx_with_one_line() {
        let errors = [
            CallbackError::MethodNotAllowed(Method::PUT),
            CallbackError::BodyTooLarge { limit: 10 },
            CallbackError::BodyRead("x\ny".into()),
            CallbackError::BodyTimeout,
            CallbackError::MissingParameter("nonce"),
            CallbackError::InvalidTimestamp,
            CallbackError::StaleTimestamp {
                timestamp: 1,
                now: 1000,
                window_secs: 300,
            },
            CallbackError::Signature(CryptoError::InvalidSignature),
            CallbackError::MsgSignature(CryptoError::InvalidSignature),
            CallbackError::NonceReplayed,
            CallbackError::UnsupportedEncryptType("des".into()),
            CallbackError::EncryptionRequired,
            CallbackError::EncryptionNotConfigured,
            CallbackError::Envelope(CryptoError::MissingEncrypt),
            CallbackError::Decrypt(CryptoError::InvalidPadding),
            CallbackError::from_decrypt(CryptoError::AppIdMismatch {
                expected: "wx1".into(),
                found: "wx2".into(),
            }),
            CallbackError::Message(XmlError::NotUtf8),
        ];
        for err in errors {
            assert!(err.status().is_client_error(), "{err:?}");
            assert!(!err.reason().contains('\n'), "{err:?}");
        }
    }

    #[test]
    fn reason_says_a_repeated_cause_once() {
        let err = CallbackError::Signature(CryptoError::InvalidSignature);
        assert_eq!(err.reason(), "signature does not match");
        // quick-xml's error repeats its own cause.
        let malformed = wechat_types::xml::Message::parse(b"<xml><A></B></xml>").unwrap_err();
        let reason = CallbackError::Message(malformed).reason();
        assert_eq!(reason.matches("was found").count(), 1, "{reason}");
        assert!(
            reason.starts_with("message is invalid: malformed XML: "),
            "{reason}"
        );
    }

    #[test]
    fn reason_carries_the_cause() {
        let err = CallbackError::from_decrypt(CryptoError::InvalidPadding);
        assert_eq!(
            err.reason(),
            "ciphertext is invalid: decrypted data has invalid padding"
        );
    }
}
