//! The decryptor: any `Encrypt` text, any ciphertext and any plaintext give a message or a typed
//! error, never a panic; and for any plaintext the result is exactly what a straightforward
//! reading of the format (PROTOCOL.md 4.10) says.
//!
//! The first byte picks the input space:
//! - 0: the `Encrypt` text as it arrives (any UTF-8);
//! - 1: any ciphertext bytes, base64-encoded;
//! - 2: any plaintext, encrypted under the test key first, so the fuzzer reaches the unpadding,
//!   the length field and the AppID check directly; compared with a reference reading;
//! - 3: a whole push body through `decrypt_push`, with a `msg_signature` that holds.

#![no_main]

use aes::Aes256;
use aes::cipher::{BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use wechat_crypto::{CryptoError, EncryptedEnvelope, MessageCrypto, msg_signature};
use wechat_types::{AppId, EncodingAesKey, ServerToken};

const KEY_TEXT: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wx0123456789abcdef";

fn crypto() -> MessageCrypto {
    MessageCrypto::new(EncodingAesKey::parse(KEY_TEXT).unwrap(), AppId::new(APPID))
}

/// AES-256-CBC with WeChat's key and IV, no padding: `plain` must be whole blocks.
fn seal_raw(plain: &[u8]) -> String {
    let key = EncodingAesKey::parse(KEY_TEXT).unwrap();
    let key = key.aes_key();
    let mut buf = plain.to_vec();
    let mut cbc = cbc::Encryptor::<Aes256>::new(key.into(), key[..16].into());
    for block in buf.chunks_exact_mut(16) {
        cbc.encrypt_block_mut(block.into());
    }
    STANDARD.encode(&buf)
}

/// What the format says `plain` decrypts to: the message, or why not.
fn reference(plain: &[u8]) -> Result<&[u8], &'static str> {
    let pad = usize::from(*plain.last().ok_or("empty")?);
    if !(1..=32).contains(&pad) || pad > plain.len() {
        return Err("padding");
    }
    if plain[plain.len() - pad..]
        .iter()
        .any(|&b| usize::from(b) != pad)
    {
        return Err("padding");
    }
    let content = &plain[..plain.len() - pad];
    if content.len() < 20 {
        return Err("length");
    }
    let len = u32::from_be_bytes(content[16..20].try_into().unwrap()) as usize;
    let rest = &content[20..];
    if len > rest.len() {
        return Err("length");
    }
    let (msg, appid) = rest.split_at(len);
    if appid != APPID.as_bytes() {
        return Err("appid");
    }
    Ok(msg)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let crypto = crypto();
    match mode % 4 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                let _ = crypto.decrypt(text);
                let _ = crypto.decrypt_unchecked(text);
            }
        }
        1 => {
            let _ = crypto.decrypt(&STANDARD.encode(rest));
        }
        2 => {
            // Whole blocks, at least two (the smallest ciphertext the format allows).
            let mut plain = rest.to_vec();
            let blocks = plain.len().div_ceil(16).max(2);
            plain.resize(blocks * 16, 0);
            let got = crypto.decrypt(&seal_raw(&plain));
            match (reference(&plain), &got) {
                (Ok(expected), Ok(msg)) => assert_eq!(msg.as_slice(), expected),
                (Err("padding"), Err(CryptoError::InvalidPadding)) => {}
                (Err("length"), Err(CryptoError::InvalidLengthField)) => {}
                (Err("appid"), Err(CryptoError::AppIdMismatch { .. })) => {}
                (expected, got) => panic!("reference says {expected:?}, decrypt says {got:?}"),
            }
        }
        _ => {
            let token = ServerToken::new("fuzz-token");
            let (timestamp, nonce) = ("1700000000", "nonce");
            let signature = match EncryptedEnvelope::parse(rest) {
                Ok(envelope) => msg_signature(&token, timestamp, nonce, &envelope.encrypt),
                Err(_) => "0".repeat(40),
            };
            let _ = crypto.decrypt_push(&token, timestamp, nonce, &signature, rest);
        }
    }
});
