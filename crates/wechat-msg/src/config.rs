//! How the callback checks, decrypts and answers: [`CallbackConfig`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use wechat_client::{Clock, SystemClock};
use wechat_crypto::MessageCrypto;
use wechat_types::{AppId, EncodingAesKey, ServerToken};

use crate::dedupe::{Dedupe, DedupeStore, MemoryDedupeStore};
use crate::fallback::CustomServiceSender;

/// The message encryption mode set on the WeChat console (消息加解密方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Follow each request: an encrypted push (`encrypt_type=aes`) is decrypted and answered
    /// encrypted, a plaintext one is answered in plaintext. Needs the EncodingAESKey only if
    /// encrypted pushes come. The default.
    #[default]
    Auto,
    /// 明文模式: bodies are read as plaintext and replies are not encrypted.
    Plaintext,
    /// 兼容模式: pushes carry plaintext fields and `<Encrypt>`; the message is read from the
    /// authenticated ciphertext and the reply is encrypted (a plaintext push is answered in
    /// plaintext). Needs the EncodingAESKey.
    Compat,
    /// 安全模式: every push must be encrypted, and every reply is. Needs the EncodingAESKey.
    Safe,
}

/// Why a [`CallbackConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Compat and safe mode need the EncodingAESKey and AppID ([`CallbackConfig::crypto`]).
    #[error("{0:?} mode needs the EncodingAESKey and AppID")]
    CryptoRequired(Mode),
}

/// Everything the callback needs besides the handler.
///
/// ```
/// use std::time::Duration;
/// use wechat_msg::{CallbackConfig, Mode};
/// use wechat_types::{AppId, EncodingAesKey, ServerToken};
///
/// let config = CallbackConfig::new(ServerToken::new("token"))
///     .crypto(
///         EncodingAesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")?,
///         AppId::new("wx2c2769f8efd9abc2"),
///     )
///     .mode(Mode::Safe)
///     .reply_budget(Duration::from_millis(4000));
/// # let _ = config;
/// # Ok::<(), wechat_types::InvalidAesKey>(())
/// ```
#[derive(Clone)]
pub struct CallbackConfig {
    pub(crate) token: ServerToken,
    pub(crate) mode: Mode,
    pub(crate) crypto: Option<MessageCrypto>,
    pub(crate) timestamp_window: Option<Duration>,
    pub(crate) replay_protection: bool,
    pub(crate) body_limit: usize,
    pub(crate) reply_budget: Duration,
    pub(crate) dedupe: Option<Dedupe>,
    pub(crate) dedupe_ttl: Duration,
    pub(crate) custom_service: Option<Arc<dyn CustomServiceSender>>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl CallbackConfig {
    /// Default accepted distance between a request's `timestamp` and the server clock.
    pub const DEFAULT_TIMESTAMP_WINDOW: Duration = Duration::from_secs(300);
    /// Default largest body: WeChat's pushes are a few KiB at most.
    pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
    /// Default time the handler gets before the callback answers `success` instead: WeChat gives
    /// up after 5 seconds.
    pub const DEFAULT_REPLY_BUDGET: Duration = Duration::from_millis(4500);
    /// Default lifetime of a dedupe key: WeChat's three tries span about 15 seconds.
    pub const DEFAULT_DEDUPE_TTL: Duration = Duration::from_secs(60);

    /// A configuration for the server `token`, in [`Mode::Auto`], with every default: a ±300 s
    /// timestamp window, no nonce replay cache, a 64 KiB body limit, a 4.5 s reply budget, an
    /// in-memory dedupe store with a 60 s TTL, no custom-service sender, the system clock.
    pub fn new(token: ServerToken) -> Self {
        Self {
            token,
            mode: Mode::Auto,
            crypto: None,
            timestamp_window: Some(Self::DEFAULT_TIMESTAMP_WINDOW),
            replay_protection: false,
            body_limit: Self::DEFAULT_BODY_LIMIT,
            reply_budget: Self::DEFAULT_REPLY_BUDGET,
            dedupe: Some(Dedupe::Memory(Arc::new(MemoryDedupeStore::default()))),
            dedupe_ttl: Self::DEFAULT_DEDUPE_TTL,
            custom_service: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The EncodingAESKey and AppID, for encrypted pushes (compat and safe mode).
    pub fn crypto(mut self, key: EncodingAesKey, appid: AppId) -> Self {
        self.crypto = Some(MessageCrypto::new(key, appid));
        self
    }

    /// Like [`CallbackConfig::crypto`], with a [`MessageCrypto`] already built.
    pub fn message_crypto(mut self, crypto: MessageCrypto) -> Self {
        self.crypto = Some(crypto);
        self
    }

    /// The encryption mode. Compat and safe mode need [`CallbackConfig::crypto`].
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// How far a request's `timestamp` may be from the server clock; `None` turns the check off.
    pub fn timestamp_window(mut self, window: Option<Duration>) -> Self {
        self.timestamp_window = window;
        self
    }

    /// Refuses a request whose `timestamp` and `nonce` were seen before (kept in the dedupe
    /// store for twice the timestamp window). Off by default: retry dedupe already makes a
    /// replayed push harmless, and whether WeChat's own retries reuse a nonce is not documented.
    pub fn replay_protection(mut self, on: bool) -> Self {
        self.replay_protection = on;
        self
    }

    /// The largest body accepted, in bytes.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How long the handler may take before the callback answers `success`; a reply made later
    /// goes out through [`CallbackConfig::custom_service`].
    ///
    /// It counts from the request's arrival (the start of [`Callback::respond`](crate::Callback::respond),
    /// or of the service's handling, body read included), as WeChat's five seconds do. A reply
    /// made after it is spent goes the custom-service way even when the handler never waited
    /// (after a body that trickled in, say), so a zero budget sends every reply that way; one
    /// that cannot (no sender is set, or a `transfer_customer_service` reply) goes back passively,
    /// late rather than never.
    pub fn reply_budget(mut self, budget: Duration) -> Self {
        self.reply_budget = budget;
        self
    }

    /// Where dedupe keys live (default: a [`MemoryDedupeStore`] for this callback alone).
    pub fn dedupe_store(mut self, store: Arc<dyn DedupeStore>) -> Self {
        self.dedupe = Some(Dedupe::Shared(store));
        self
    }

    /// Turns retry dedupe off: every delivery runs the handler.
    pub fn without_dedupe(mut self) -> Self {
        self.dedupe = None;
        self
    }

    /// How long a dedupe key lives.
    pub fn dedupe_ttl(mut self, ttl: Duration) -> Self {
        self.dedupe_ttl = ttl;
        self
    }

    /// What delivers a reply that missed the reply budget (`wechat_client::Client`, say). Without
    /// one such a reply is logged and dropped.
    pub fn custom_service(mut self, sender: Arc<dyn CustomServiceSender>) -> Self {
        self.custom_service = Some(sender);
        self
    }

    /// The clock for the timestamp window and the replies' `CreateTime`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        match self.mode {
            Mode::Compat | Mode::Safe if self.crypto.is_none() => {
                Err(ConfigError::CryptoRequired(self.mode))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for CallbackConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackConfig")
            .field("token", &self.token)
            .field("mode", &self.mode)
            .field("crypto", &self.crypto)
            .field("timestamp_window", &self.timestamp_window)
            .field("replay_protection", &self.replay_protection)
            .field("body_limit", &self.body_limit)
            .field("reply_budget", &self.reply_budget)
            .field("dedupe", &self.dedupe)
            .field("dedupe_ttl", &self.dedupe_ttl)
            .field("custom_service", &self.custom_service)
            .field("clock", &self.clock)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compat_and_safe_need_the_key() {
        let config = CallbackConfig::new(ServerToken::new("t"));
        assert!(config.clone().validate().is_ok());
        assert_eq!(
            config.clone().mode(Mode::Safe).validate(),
            Err(ConfigError::CryptoRequired(Mode::Safe))
        );
        assert!(config.clone().mode(Mode::Compat).validate().is_err());
        let key = EncodingAesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
        assert!(
            config
                .crypto(key, AppId::new("wx1"))
                .mode(Mode::Safe)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn debug_hides_the_secrets() {
        let key = EncodingAesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
        let config =
            CallbackConfig::new(ServerToken::new("s3cret-token")).crypto(key, AppId::new("wx1"));
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cret-token"), "{debug}");
        assert!(!debug.contains("abcdefghijklmnop"), "{debug}");
    }
}
