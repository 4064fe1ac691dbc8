//! WeChat Official Account crypto, with no I/O: the server `signature`, the `msg_signature` of
//! encrypted bodies, AES-256-CBC message crypto (WXBizMsgCrypt, compat and safe mode), the JS-SDK
//! signature, and a MAC for the OAuth `state`.
//!
//! Decrypting a push and encrypting the reply (the official example of PROTOCOL.md §5 V-E):
//!
//! ```
//! use wechat_crypto::{MessageCrypto, ReplyEnvelope};
//! use wechat_types::{AppId, EncodingAesKey, ServerToken};
//!
//! let token = ServerToken::new("AAAAA");
//! let key = EncodingAesKey::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")?;
//! let crypto = MessageCrypto::new(key, AppId::new("wx134c8103faa5a59e"));
//!
//! // The query string and body of an encrypted (safe mode) push.
//! let (timestamp, nonce) = ("1715943329", "1590219412");
//! let msg_signature = "6c12a4205838198b8fa631b3220723bb07f1015c";
//! let body = "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[\
//!     D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp\
//!     +ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1r\
//!     hHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywm\
//!     a6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpa\
//!     gSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==]]></Encrypt></xml>";
//!
//! // Checks msg_signature, then decrypts and checks the AppID.
//! let push = crypto.decrypt_push(&token, timestamp, nonce, msg_signature, body.as_bytes())?;
//! let push = String::from_utf8(push)?;
//! assert!(push.contains("<Event><![CDATA[debug_demo]]></Event>"));
//!
//! // The passive reply goes back encrypted, in the reply envelope.
//! let reply = "<xml><demo_resp>good luck</demo_resp></xml>";
//! let response = crypto.encrypt_reply(&token, reply, 1713424427, "415670741");
//! assert!(response.starts_with("<xml><Encrypt><![CDATA["));
//!
//! // What WeChat does with it: check MsgSignature and decrypt.
//! let envelope = ReplyEnvelope::parse(response.as_bytes())?;
//! assert_eq!(envelope.timestamp, "1713424427");
//! assert_eq!(crypto.decrypt_reply(&token, response.as_bytes())?, reply.as_bytes());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every check compares in constant time; a malformed input of any kind is a typed
//! [`CryptoError`] (with the official sample's error code from [`CryptoError::official_code`]),
//! never a panic. Keys print `[redacted]`.
//!
//! What the official samples leave for each SDK to get right, and this crate does:
//! EncodingAESKeys are often non-canonical base64 (decoded leniently); padding is PKCS#7 to
//! **32-byte** blocks, so pads of 17..=32 are valid and are checked by hand; the decrypted message
//! keeps WeChat's `\n` between elements (never trimmed); and the AppID after the message is
//! checked ([`CryptoError::AppIdMismatch`]).

mod envelope;
mod error;
mod hex;
mod message;
mod signature;
mod state;

pub use envelope::{EncryptedEnvelope, ReplyEnvelope, render_reply_envelope};
pub use error::{Base64Error, CryptoError, StateError};
pub use message::{MessageCrypto, SealedPush};
pub use signature::{
    constant_time_eq, jssdk_signature, msg_signature, signature, verify_msg_signature,
    verify_signature,
};
pub use state::StateKey;
