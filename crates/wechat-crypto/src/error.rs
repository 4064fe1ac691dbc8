//! The crate's typed errors.

use wechat_types::xml::XmlError;
use wechat_types::{AppId, InvalidAesKey};

/// Why a signature check, a decryption or an envelope failed.
///
/// Every variant maps to the error code of the official WXBizMsgCrypt samples through
/// [`CryptoError::official_code`], for logs that people compare with other SDKs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The signature or msg_signature does not match (including one of the wrong length or not
    /// hex at all).
    #[error("signature does not match")]
    InvalidSignature,
    /// `Encrypt` is not base64.
    #[error("Encrypt is not valid base64")]
    InvalidBase64(#[source] Base64Error),
    /// The ciphertext is not a whole number of AES blocks, or shorter than the smallest message
    /// (32 bytes).
    #[error("ciphertext of {0} bytes is not a multiple of 16 of at least 32")]
    InvalidLength(usize),
    /// The PKCS#7 padding (1..=32 bytes, each equal to the pad length) is wrong: the key is wrong
    /// or the ciphertext was altered.
    #[error("decrypted data has invalid padding")]
    InvalidPadding,
    /// The 4-byte message length inside the plaintext points past its end.
    #[error("message length field exceeds the decrypted data")]
    InvalidLengthField,
    /// The message decrypted, but it is addressed to another AppID (receiveid).
    #[error("message is for appid {found:?}, expected {expected}")]
    AppIdMismatch {
        /// The AppID this [`MessageCrypto`](crate::MessageCrypto) serves.
        expected: AppId,
        /// The AppID found in the message (lossy UTF-8, cut to 128 bytes).
        found: String,
    },
    /// The envelope is not well-formed XML, or a field of it has the wrong shape.
    #[error("encrypted envelope is not valid XML")]
    InvalidXml(#[source] XmlError),
    /// The envelope has no (or an empty) `<Encrypt>` element.
    #[error("envelope has no <Encrypt> element")]
    MissingEncrypt,
    /// The EncodingAESKey text is not a valid key.
    #[error("invalid EncodingAESKey")]
    InvalidAesKey(#[source] InvalidAesKey),
}

impl CryptoError {
    /// The error code the official WXBizMsgCrypt samples give for this failure (these are local
    /// codes of the samples, not API errcodes): −40001 ValidateSignature, −40002 ParseXml,
    /// −40004 IllegalAesKey, −40005 ValidateAppid, −40007 DecryptAES, −40008 IllegalBuffer,
    /// −40010 DecodeBase64.
    ///
    /// ```
    /// use wechat_crypto::CryptoError;
    /// assert_eq!(CryptoError::InvalidSignature.official_code(), -40001);
    /// assert_eq!(CryptoError::InvalidPadding.official_code(), -40008);
    /// ```
    pub fn official_code(&self) -> i32 {
        match self {
            Self::InvalidSignature => -40001,
            Self::InvalidXml(_) | Self::MissingEncrypt => -40002,
            Self::InvalidAesKey(_) => -40004,
            Self::AppIdMismatch { .. } => -40005,
            Self::InvalidLength(_) => -40007,
            Self::InvalidPadding | Self::InvalidLengthField => -40008,
            Self::InvalidBase64(_) => -40010,
        }
    }
}

impl From<XmlError> for CryptoError {
    fn from(err: XmlError) -> Self {
        Self::InvalidXml(err)
    }
}

impl From<InvalidAesKey> for CryptoError {
    fn from(err: InvalidAesKey) -> Self {
        Self::InvalidAesKey(err)
    }
}

/// Why a string is not base64: a character outside the standard alphabet, or a length no
/// padding explains. Opaque, so the base64 library stays out of this crate's API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a character outside the base64 alphabet, or a length no padding explains")]
pub struct Base64Error(());

impl Base64Error {
    pub(crate) fn new() -> Self {
        Self(())
    }
}

/// Why an OAuth `state` was refused by [`StateKey::verify`](crate::StateKey::verify).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The state is not one this crate issues (wrong length or characters).
    #[error("OAuth state is malformed")]
    Malformed,
    /// The MAC does not match: the state was altered, issued under another key, or issued for
    /// another session.
    #[error("OAuth state does not belong to this session")]
    BadMac,
    /// The state is authentic but its lifetime is over.
    #[error("OAuth state expired at {expires_at}")]
    Expired {
        /// When the state expired (unix seconds).
        expires_at: i64,
    },
}
