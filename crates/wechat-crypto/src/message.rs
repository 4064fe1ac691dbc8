//! WXBizMsgCrypt: the AES-256-CBC message encryption of compat and safe mode.
//!
//! Plaintext layout: `random(16) ‖ u32 big-endian len(msg) ‖ msg ‖ appid`, PKCS#7-padded to a
//! multiple of **32** bytes (pad values 1..=32), encrypted with AES-256-CBC under the 32-byte key
//! of the EncodingAESKey with IV = key[..16], then base64 (standard alphabet, padded).

use std::fmt;

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use base64_simd::STANDARD;
use rand::RngCore as _;
use subtle::ConstantTimeEq;
use wechat_types::{AppId, EncodingAesKey, ServerToken};

use crate::envelope::{
    EncryptedEnvelope, ReplyEnvelope, push_reply_envelope, read_encrypt, reply_envelope_len,
};
use crate::signature::msg_signature_digest;
use crate::{CryptoError, msg_signature, verify_msg_signature};

/// WeChat pads to 32-byte blocks, not to the AES block size.
const PAD_BLOCK: usize = 32;
/// random(16) ‖ length(4).
const HEADER: usize = 20;
/// The longest appid kept in an [`CryptoError::AppIdMismatch`] (bytes).
const MAX_REPORTED_APPID: usize = 128;

/// Encrypts and decrypts message bodies for one official account (WXBizMsgCrypt).
///
/// Holds the expanded AES key, so build it once and share it (it is `Clone`, `Send` and `Sync`).
/// `Debug` shows the AppID only.
///
/// ```
/// use wechat_crypto::MessageCrypto;
/// use wechat_types::{AppId, EncodingAesKey};
///
/// let key = EncodingAesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")?;
/// let crypto = MessageCrypto::new(key, AppId::new("wxb11529c136998cb6"));
/// let sealed = crypto.encrypt("我是中文abcd123".as_bytes());
/// assert_eq!(crypto.decrypt(&sealed)?, "我是中文abcd123".as_bytes());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct MessageCrypto {
    cipher: Aes256,
    iv: [u8; 16],
    appid: AppId,
}

impl fmt::Debug for MessageCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageCrypto")
            .field("appid", &self.appid)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// A push body sealed by [`MessageCrypto::encrypt_push`]: what WeChat would POST in safe mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPush {
    /// The safe-mode body: `<xml><ToUserName>…</ToUserName><Encrypt>…</Encrypt></xml>`.
    pub body: String,
    /// The `msg_signature` query parameter that goes with it.
    pub msg_signature: String,
}

impl MessageCrypto {
    /// A crypto for the account `appid` with its EncodingAESKey.
    pub fn new(key: EncodingAesKey, appid: AppId) -> Self {
        let key = key.aes_key();
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&key[..16]);
        Self {
            cipher: Aes256::new(key.into()),
            iv,
            appid,
        }
    }

    /// Like [`MessageCrypto::new`], from the 43-character key text of the console.
    ///
    /// ```
    /// use wechat_crypto::{CryptoError, MessageCrypto};
    /// use wechat_types::AppId;
    ///
    /// let err = MessageCrypto::from_key_text("short", AppId::new("wx1")).unwrap_err();
    /// assert!(matches!(err, CryptoError::InvalidAesKey(_)));
    /// assert_eq!(err.official_code(), -40004);
    /// ```
    pub fn from_key_text(encoding_aes_key: &str, appid: AppId) -> Result<Self, CryptoError> {
        Ok(Self::new(EncodingAesKey::parse(encoding_aes_key)?, appid))
    }

    /// The AppID (receiveid) this crypto writes into and expects in every message.
    pub fn appid(&self) -> &AppId {
        &self.appid
    }

    /// Encrypts `msg` with 16 fresh random characters from a cryptographically secure generator
    /// seeded by the OS. Returns the base64 `Encrypt` text.
    ///
    /// # Panics
    ///
    /// If `msg` is longer than `u32::MAX` bytes (the format cannot express it), or if the OS
    /// random source is unavailable.
    pub fn encrypt(&self, msg: &[u8]) -> String {
        self.encrypt_with_random(fresh_random(), msg)
    }

    /// Encrypts `msg` with the given 16 random bytes (known-answer tests, reproducible fixtures).
    /// Never reuse `random` in production: use [`MessageCrypto::encrypt`].
    ///
    /// ```
    /// use wechat_crypto::MessageCrypto;
    /// use wechat_types::AppId;
    ///
    /// let crypto = MessageCrypto::from_key_text(
    ///     "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    ///     AppId::new("wxb11529c136998cb6"),
    /// )?;
    /// assert_eq!(
    ///     crypto.encrypt_with_random(*b"aaaabbbbccccdddd", "我是中文abcd123".as_bytes()),
    ///     "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    /// );
    /// # Ok::<(), wechat_crypto::CryptoError>(())
    /// ```
    ///
    /// # Panics
    ///
    /// If `msg` is longer than `u32::MAX` bytes.
    pub fn encrypt_with_random(&self, random: [u8; 16], msg: &[u8]) -> String {
        STANDARD.encode_to_string(self.seal(random, msg))
    }

    /// The ciphertext of `random ‖ len ‖ msg ‖ appid ‖ padding`, before base64.
    fn seal(&self, random: [u8; 16], msg: &[u8]) -> Vec<u8> {
        let msg_len = u32::try_from(msg.len()).expect("WeChat messages are shorter than 4 GiB");
        let appid = self.appid.as_str().as_bytes();
        let content = HEADER + msg.len() + appid.len();
        let pad = PAD_BLOCK - content % PAD_BLOCK;
        let mut buf = Vec::with_capacity(content + pad);
        buf.extend_from_slice(&random);
        buf.extend_from_slice(&msg_len.to_be_bytes());
        buf.extend_from_slice(msg);
        buf.extend_from_slice(appid);
        // `pad` is 1..=32, so the cast cannot truncate.
        buf.resize(content + pad, pad as u8);

        // Over a reference: the key schedules (both directions, half a kilobyte) are not copied.
        let mut cbc = cbc::Encryptor::<&Aes256>::inner_iv_init(&self.cipher, &self.iv.into());
        for block in buf.chunks_exact_mut(16) {
            cbc.encrypt_block_mut(block.into());
        }
        buf
    }

    /// Decrypts a base64 `Encrypt` text and checks that the message is addressed to this AppID.
    ///
    /// The base64 is read leniently, as WeChat's peers write it: padding optional, non-zero
    /// trailing bits ignored, ASCII whitespace skipped (WHATWG's forgiving base64). The message comes back byte for
    /// byte, never trimmed (WeChat's XML keeps a `\n` between elements). Authenticate the text first with [`verify_msg_signature`]:
    /// [`MessageCrypto::decrypt_push`] does both.
    pub fn decrypt(&self, encrypt: &str) -> Result<Vec<u8>, CryptoError> {
        let plain = self.open(encrypt)?;
        let found = &plain.buf[plain.appid_at..plain.content_len];
        if found != self.appid.as_str().as_bytes() {
            return Err(CryptoError::AppIdMismatch {
                expected: self.appid.clone(),
                found: lossy_prefix(found, MAX_REPORTED_APPID),
            });
        }
        Ok(plain.into_message())
    }

    /// Decrypts without checking the AppID and returns the message with the AppID found in it
    /// (lossy UTF-8), for diagnostics such as "this push is for another account".
    pub fn decrypt_unchecked(&self, encrypt: &str) -> Result<(Vec<u8>, String), CryptoError> {
        let plain = self.open(encrypt)?;
        let appid =
            String::from_utf8_lossy(&plain.buf[plain.appid_at..plain.content_len]).into_owned();
        Ok((plain.into_message(), appid))
    }

    /// Reads an encrypted push body (safe or compat mode), checks its `msg_signature` from the
    /// query string and decrypts it: the plaintext push XML.
    pub fn decrypt_push(
        &self,
        token: &ServerToken,
        timestamp: &str,
        nonce: &str,
        msg_signature: &str,
        body: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        // The Encrypt text is read where it lies in the body, never copied out, and without a
        // tree of the envelope.
        let encrypt = read_encrypt(body)?;
        verify_msg_signature(token, timestamp, nonce, &encrypt, msg_signature)?;
        self.decrypt(&encrypt)
    }

    /// Encrypts a passive reply and wraps it in the reply envelope, signed with `token`,
    /// `timestamp` and `nonce`: the whole response body.
    pub fn encrypt_reply(
        &self,
        token: &ServerToken,
        reply_xml: &str,
        timestamp: i64,
        nonce: &str,
    ) -> String {
        let sealed = self.seal(fresh_random(), reply_xml.as_bytes());
        // Rendered in one buffer: the base64 goes straight into the envelope and is signed where
        // it lies, instead of living in a String of its own first.
        let mut digits = itoa::Buffer::new();
        let timestamp_text = digits.format(timestamp);
        let encrypt_len = sealed.len().div_ceil(3) * 4;
        let mut out = String::with_capacity(reply_envelope_len(encrypt_len, timestamp_text, nonce));
        push_reply_envelope(
            &mut out,
            |out| STANDARD.encode_append(&sealed, out),
            |encrypt| msg_signature_digest(token, timestamp_text, nonce, encrypt),
            timestamp_text,
            nonce,
        );
        out
    }

    /// The other side of [`MessageCrypto::encrypt_reply`]: reads a reply envelope, checks its
    /// `MsgSignature` and decrypts it. This is what WeChat does with a reply (and what a fake
    /// WeChat server needs).
    pub fn decrypt_reply(&self, token: &ServerToken, body: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let reply = ReplyEnvelope::parse(body)?;
        verify_msg_signature(
            token,
            &reply.timestamp,
            &reply.nonce,
            &reply.encrypt,
            &reply.msg_signature,
        )?;
        self.decrypt(&reply.encrypt)
    }

    /// The other side of [`MessageCrypto::decrypt_push`]: encrypts a plaintext push as WeChat
    /// does in safe mode, for the account `to_user_name` (its `gh_…` id).
    pub fn encrypt_push(
        &self,
        token: &ServerToken,
        to_user_name: &str,
        push_xml: &str,
        timestamp: &str,
        nonce: &str,
    ) -> SealedPush {
        let envelope = EncryptedEnvelope {
            to_user_name: Some(to_user_name.to_owned()),
            encrypt: self.encrypt(push_xml.as_bytes()),
        };
        SealedPush {
            msg_signature: msg_signature(token, timestamp, nonce, &envelope.encrypt),
            body: envelope.to_xml(),
        }
    }

    /// Base64-decodes, decrypts and unpads; finds the message and the AppID.
    fn open(&self, encrypt: &str) -> Result<Plaintext, CryptoError> {
        let mut buf = decode_base64(encrypt)
            .ok_or_else(|| CryptoError::InvalidBase64(crate::error::Base64Error::new()))?;
        if buf.len() < PAD_BLOCK || buf.len() % 16 != 0 {
            return Err(CryptoError::InvalidLength(buf.len()));
        }
        let total = buf.len();
        let cbc = cbc::Decryptor::<&Aes256>::inner_iv_init(&self.cipher, &self.iv.into());
        // Blocks are whole (checked above), so unpadding with `NoPadding` cannot fail; the
        // real, 32-byte padding is checked by hand below.
        let len = cbc
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| CryptoError::InvalidLength(total))?
            .len();
        let content_len = unpad(&buf[..len]).ok_or(CryptoError::InvalidPadding)?;
        if content_len < HEADER {
            return Err(CryptoError::InvalidLengthField);
        }
        let mut length = [0u8; 4];
        length.copy_from_slice(&buf[16..HEADER]);
        let msg_len = usize::try_from(u32::from_be_bytes(length))
            .map_err(|_| CryptoError::InvalidLengthField)?;
        if msg_len > content_len - HEADER {
            return Err(CryptoError::InvalidLengthField);
        }
        Ok(Plaintext {
            buf,
            appid_at: HEADER + msg_len,
            content_len,
        })
    }
}

/// 16 fresh random characters for the head of a plaintext, from a cryptographically secure
/// generator seeded by the OS.
///
/// Alphanumeric, as every official sample writes them: peers that slice the plaintext as text
/// (some SDKs do) then never meet a broken UTF-8 sequence. 16 of 62 symbols is 95 bits, far more
/// than a per-message randomizer needs.
///
/// Each 64-bit draw gives ten 6-bit indices, and an index past the 62 symbols is drawn again:
/// every symbol is equally likely, as with `rand`'s `Alphanumeric`, for two or three draws
/// instead of sixteen.
fn fresh_random() -> [u8; 16] {
    const SYMBOLS: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut random = [0u8; 16];
    let mut rng = rand::thread_rng();
    let mut filled = 0;
    while filled < random.len() {
        let mut bits = rng.next_u64();
        for _ in 0..10 {
            if let Some(&symbol) = SYMBOLS.get((bits & 63) as usize) {
                random[filled] = symbol;
                filled += 1;
                if filled == random.len() {
                    break;
                }
            }
            bits >>= 6;
        }
    }
    random
}

/// A decrypted, unpadded buffer: `random ‖ len ‖ msg ‖ appid ‖ (padding)`.
struct Plaintext {
    buf: Vec<u8>,
    /// Where the appid starts (= where the message ends).
    appid_at: usize,
    /// Where the padding starts.
    content_len: usize,
}

impl Plaintext {
    /// The message, reusing the buffer rather than copying into a new one.
    fn into_message(mut self) -> Vec<u8> {
        self.buf.truncate(self.appid_at);
        self.buf.drain(..HEADER);
        self.buf
    }
}

/// The length of `data` without its PKCS#7 padding to 32-byte blocks, or `None` if the padding is
/// invalid. `data` is at least 32 bytes.
///
/// The check runs without data-dependent branches (masks from sign bits, one constant-time test at
/// the end), so its timing says nothing about where a forged padding went wrong. It avoids
/// `subtle`'s per-operation optimization barrier, which would cost more than the AES itself on a
/// short message.
fn unpad(data: &[u8]) -> Option<usize> {
    let tail = &data[data.len() - PAD_BLOCK..];
    let pad = tail[PAD_BLOCK - 1];
    let pad_wide = i16::from(pad);
    // 0xFF when pad == 0 or pad > 32 (the sign bit of the difference, spread to a byte).
    let mut bad = sign_mask(pad_wide - 1) | sign_mask(PAD_BLOCK as i16 - pad_wide);
    for (i, &byte) in tail.iter().enumerate() {
        // Distance from the end: 32 for the first byte of the tail, 1 for the last.
        let from_end = (PAD_BLOCK - i) as i16;
        let in_pad = !sign_mask(pad_wide - from_end);
        bad |= in_pad & (byte ^ pad);
    }
    bool::from(bad.ct_eq(&0)).then(|| data.len() - usize::from(pad))
}

/// 0xFF if `value` is negative, 0 otherwise, without a branch.
fn sign_mask(value: i16) -> u8 {
    // The arithmetic shift leaves 0 or -1; the cast keeps its low byte.
    (value >> 15) as u8
}

/// At most `max` bytes of `bytes` as lossy UTF-8.
fn lossy_prefix(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned()
}

/// WHATWG's forgiving base64, as WeChat's peers write it: padding optional, trailing bits
/// ignored, ASCII whitespace skipped. Strict base64 is tried first: it is what WeChat sends, it
/// decodes to the same bytes, and it spares the forgiving decoder's pass over the text for
/// whitespace.
fn decode_base64(encrypt: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode_to_vec(encrypt.as_bytes())
        .or_else(|_| base64_simd::forgiving_decode_to_vec(encrypt.as_bytes()))
        .ok()
}

#[cfg(test)]
mod tests {
    // The base64 crate, not base64-simd: an independent reference for what goes over the wire.
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    fn crypto(appid: &str) -> MessageCrypto {
        MessageCrypto::from_key_text(
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            AppId::new(appid),
        )
        .unwrap()
    }

    /// Encrypts raw plaintext bytes (already padded) with the crypto's key, so tests can build
    /// ciphertexts that `encrypt` never would.
    fn seal_raw(crypto: &MessageCrypto, plain: &[u8]) -> String {
        let mut buf = plain.to_vec();
        let mut cbc =
            cbc::Encryptor::<Aes256>::inner_iv_init(crypto.cipher.clone(), &crypto.iv.into());
        for block in buf.chunks_exact_mut(16) {
            cbc.encrypt_block_mut(block.into());
        }
        STANDARD.encode(&buf)
    }

    #[test]
    fn unpad_accepts_1_to_32_and_nothing_else() {
        for pad in 1..=32u8 {
            let mut data = vec![0xAAu8; 64];
            let len = data.len();
            data[len - usize::from(pad)..].fill(pad);
            assert_eq!(unpad(&data), Some(64 - usize::from(pad)), "pad {pad}");
            // One wrong byte anywhere inside the pad breaks it.
            for wrong in len - usize::from(pad)..len - 1 {
                let mut broken = data.clone();
                broken[wrong] ^= 1;
                assert_eq!(unpad(&broken), None, "pad {pad}, byte {wrong}");
            }
        }
        for last in [0u8, 33, 0xff] {
            let mut data = vec![last; 64];
            data[63] = last;
            assert_eq!(unpad(&data), None, "pad {last}");
        }
    }

    #[test]
    fn padding_fills_to_32_byte_blocks() {
        let crypto = crypto("wx1");
        for len in 0..=70usize {
            let msg = vec![b'x'; len];
            let sealed = crypto.encrypt_with_random([7; 16], &msg);
            let raw = STANDARD.decode(&sealed).unwrap();
            let content = HEADER + len + 3;
            assert_eq!(raw.len(), content + (32 - content % 32), "len {len}");
            assert_eq!(crypto.decrypt(&sealed).unwrap(), msg);
        }
    }

    #[test]
    fn encrypt_uses_fresh_alphanumeric_random() {
        let crypto = crypto("wx1");
        let a = crypto.encrypt(b"same");
        let b = crypto.encrypt(b"same");
        assert_ne!(a, b);
        let (msg, _) = crypto.decrypt_unchecked(&a).unwrap();
        assert_eq!(msg, b"same");
    }

    #[test]
    fn appid_mismatch_is_typed_and_reports_the_found_appid() {
        let sealed = crypto("wxOTHER").encrypt(b"hi");
        let err = crypto("wx1").decrypt(&sealed).unwrap_err();
        match &err {
            CryptoError::AppIdMismatch { expected, found } => {
                assert_eq!(expected.as_str(), "wx1");
                assert_eq!(found, "wxOTHER");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(err.official_code(), -40005);
        let (msg, appid) = crypto("wx1").decrypt_unchecked(&sealed).unwrap();
        assert_eq!((msg.as_slice(), appid.as_str()), (&b"hi"[..], "wxOTHER"));
        // A prefix of the right appid is not the right appid.
        assert!(matches!(
            crypto("wx").decrypt(&crypto("wx1").encrypt(b"hi")),
            Err(CryptoError::AppIdMismatch { .. })
        ));
    }

    #[test]
    fn malformed_ciphertexts_get_their_own_errors() {
        let crypto = crypto("wx1");
        let cases: &[(&str, i32)] = &[
            ("@@@@", -40010),
            ("", -40007),
            (&STANDARD.encode([0u8; 16]), -40007),
            (&STANDARD.encode([0u8; 40]), -40007),
        ];
        for (input, code) in cases {
            let err = crypto.decrypt(input).unwrap_err();
            assert_eq!(err.official_code(), *code, "{input:?}: {err:?}");
        }
        // A bad pad byte.
        let mut plain = [0u8; 32];
        plain[31] = 0;
        assert!(matches!(
            crypto.decrypt(&seal_raw(&crypto, &plain)),
            Err(CryptoError::InvalidPadding)
        ));
        // Valid padding but too short for random + length.
        let plain = [16u8; 32];
        assert!(matches!(
            crypto.decrypt(&seal_raw(&crypto, &plain)),
            Err(CryptoError::InvalidLengthField)
        ));
        // A length field pointing past the end.
        let mut plain = [0u8; 32];
        plain[16..20].copy_from_slice(&9u32.to_be_bytes());
        plain[20..].fill(12);
        assert!(matches!(
            crypto.decrypt(&seal_raw(&crypto, &plain)),
            Err(CryptoError::InvalidLengthField)
        ));
        // The largest length field must not overflow anything.
        plain[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            crypto.decrypt(&seal_raw(&crypto, &plain)),
            Err(CryptoError::InvalidLengthField)
        ));
    }

    #[test]
    fn lenient_base64_without_padding_or_with_surrounding_whitespace() {
        let crypto = crypto("wx1");
        let sealed = crypto.encrypt_with_random([1; 16], b"hello");
        let unpadded = sealed.trim_end_matches('=');
        assert_eq!(crypto.decrypt(unpadded).unwrap(), b"hello");
        assert_eq!(crypto.decrypt(&format!("\n {sealed}\n")).unwrap(), b"hello");
        // 32 bytes of ciphertext end in a 2-byte group: its last character carries 2 unused
        // bits, which non-canonical encoders leave set.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let last = unpadded.as_bytes()[unpadded.len() - 1];
        let index = ALPHABET.iter().position(|&c| c == last).unwrap();
        let dirty = format!(
            "{}{}=",
            &unpadded[..unpadded.len() - 1],
            char::from(ALPHABET[index | 0b11])
        );
        assert_ne!(dirty, sealed);
        assert_eq!(crypto.decrypt(&dirty).unwrap(), b"hello");
    }

    proptest::proptest! {
        /// Trying strict base64 first changes no answer: whatever the text (padded or not,
        /// with stray bits, whitespace or junk), the result is the forgiving decoder's.
        #[test]
        fn strict_first_decodes_as_the_forgiving_decoder(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
            strip_padding in proptest::prelude::any::<bool>(),
            stray_bits in 0u8..4,
            insert in proptest::option::of((0usize..200, proptest::sample::select(
                vec![' ', '\n', '\t', '=', '*', 'A', '\u{e9}'],
            ))),
        ) {
            let mut text = base64_simd::STANDARD.encode_to_string(&bytes);
            if strip_padding {
                text = text.trim_end_matches('=').to_owned();
            }
            // Set unused bits in the last character, as non-canonical encoders do.
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let data = text.trim_end_matches('=').len();
            if data > 0 && stray_bits > 0 {
                let last = ALPHABET.iter().position(|&c| c == text.as_bytes()[data - 1]);
                if let Some(index) = last {
                    let dirty = char::from(ALPHABET[index | usize::from(stray_bits)]);
                    text.replace_range(data - 1..data, &dirty.to_string());
                }
            }
            if let Some((at, c)) = insert {
                let at = at % (text.len() + 1);
                text.insert(at, c);
            }
            proptest::prop_assert_eq!(
                decode_base64(&text),
                base64_simd::forgiving_decode_to_vec(text.as_bytes()).ok(),
                "{:?}", text
            );
        }
    }

    #[test]
    fn fresh_randoms_are_alphanumeric_and_evenly_spread() {
        let mut counts = [0u32; 256];
        let mut previous = [0u8; 16];
        for _ in 0..10_000 {
            let random = fresh_random();
            assert_ne!(random, previous);
            for &byte in &random {
                assert!(byte.is_ascii_alphanumeric(), "{byte}");
                counts[usize::from(byte)] += 1;
            }
            previous = random;
        }
        // 160 000 symbols over 62: about 2 581 each, give or take 51. ±10 % (five standard
        // deviations) never fails by chance, and catches a missing, doubled or skewed symbol.
        for symbol in (b'0'..=b'9').chain(b'A'..=b'Z').chain(b'a'..=b'z') {
            let count = counts[usize::from(symbol)];
            assert!(
                (2_323..=2_839).contains(&count),
                "{}: {count}",
                char::from(symbol)
            );
        }
    }

    #[test]
    fn encrypt_reply_sizes_its_buffer_exactly() {
        // An exact buffer is handed to the HTTP layer as it is (`Bytes::from` of a full Vec
        // allocates nothing more).
        let crypto = crypto("wx1");
        let token = ServerToken::new("t");
        for (reply, timestamp, nonce) in [
            ("<xml>hi</xml>", 1713424427, "415670741"),
            ("<xml>a longer reply, 中文 too</xml>", -5, ""),
            (&*"x".repeat(1000), 0, "n"),
        ] {
            let body = crypto.encrypt_reply(&token, reply, timestamp, nonce);
            assert_eq!(body.len(), body.capacity(), "{reply:?}");
        }
        // A nonce that must be escaped only makes the buffer grow.
        let body = crypto.encrypt_reply(&token, "<xml>hi</xml>", 1, "a]]>b");
        assert!(ReplyEnvelope::parse(body.as_bytes()).is_ok());
    }

    #[test]
    fn encrypt_reply_renders_the_public_envelope_layout() {
        let crypto = crypto("wx1");
        let token = ServerToken::new("t");
        for nonce in ["415670741", "a]]>b\u{0}"] {
            let body = crypto.encrypt_reply(&token, "<xml>hi</xml>", 1713424427, nonce);
            let envelope = ReplyEnvelope::parse(body.as_bytes()).unwrap();
            assert_eq!(
                body,
                crate::render_reply_envelope(
                    &envelope.encrypt,
                    &envelope.msg_signature,
                    1713424427,
                    nonce
                )
            );
            assert_eq!(
                envelope.msg_signature,
                msg_signature(&token, "1713424427", nonce, &envelope.encrypt)
            );
        }
        let body = crypto.encrypt_reply(&token, "<xml>hi</xml>", 1713424427, "415670741");
        assert_eq!(
            crypto.decrypt_reply(&token, body.as_bytes()).unwrap(),
            b"<xml>hi</xml>"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let text = format!("{:?}", crypto("wx1"));
        assert_eq!(
            text,
            r#"MessageCrypto { appid: AppId("wx1"), key: "[redacted]" }"#
        );
    }
}
