//! The decryptor against a plain reading of the format (PROTOCOL.md 4.10), on plaintexts built
//! to hit every branch: right and wrong padding, length fields that fit, overrun or undershoot,
//! the right AppID, another one, a prefix of it. The quick, CI-sized run of what the
//! `fuzz/decrypt` target checks for minutes at a time.

use aes::Aes256;
use aes::cipher::{BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use wechat_crypto::{CryptoError, MessageCrypto};
use wechat_types::{AppId, EncodingAesKey};

const KEY_TEXT: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wx0123456789abcdef";

/// AES-256-CBC under WeChat's key and IV, no padding: `plain` is whole blocks.
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

/// Why the reference refuses a plaintext.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Padding,
    Length,
    AppId,
}

/// What the format says `plain` (whole blocks, at least two) decrypts to.
fn reference(plain: &[u8]) -> Result<&[u8], Refusal> {
    let pad = usize::from(*plain.last().unwrap());
    if !(1..=32).contains(&pad)
        || plain[plain.len() - pad..]
            .iter()
            .any(|&b| usize::from(b) != pad)
    {
        return Err(Refusal::Padding);
    }
    let content = &plain[..plain.len() - pad];
    if content.len() < 20 {
        return Err(Refusal::Length);
    }
    let len = u32::from_be_bytes(content[16..20].try_into().unwrap()) as usize;
    let rest = &content[20..];
    if len > rest.len() {
        return Err(Refusal::Length);
    }
    let (msg, appid) = rest.split_at(len);
    if appid != APPID.as_bytes() {
        return Err(Refusal::AppId);
    }
    Ok(msg)
}

/// A plaintext: random ‖ length ‖ message ‖ appid ‖ padding, each part right or wrong.
fn plaintext() -> impl Strategy<Value = Vec<u8>> {
    let appid = prop_oneof![
        4 => Just(APPID.as_bytes().to_vec()),
        1 => Just(APPID.as_bytes()[..APPID.len() - 1].to_vec()),
        1 => Just(Vec::new()),
        1 => prop::collection::vec(any::<u8>(), 0..24),
    ];
    (
        any::<[u8; 16]>(),
        prop::collection::vec(any::<u8>(), 0..80),
        appid,
        // How the length field relates to the message: exact, off by a little, anything.
        prop_oneof![4 => Just(0i64), 2 => -3i64..=3, 1 => any::<u32>().prop_map(i64::from)],
        // How the padding goes wrong, if it does.
        prop_oneof![4 => Just(None), 1 => any::<(u8, prop::sample::Index)>().prop_map(Some)],
        any::<bool>(),
    )
        .prop_map(|(random, msg, appid, skew, broken_pad, absolute)| {
            let len = if absolute && skew > 3 {
                skew as u32
            } else {
                (msg.len() as i64 + skew).clamp(0, u32::MAX as i64) as u32
            };
            let mut plain = random.to_vec();
            plain.extend_from_slice(&len.to_be_bytes());
            plain.extend_from_slice(&msg);
            plain.extend_from_slice(&appid);
            let pad = 32 - plain.len() % 32;
            plain.resize(plain.len() + pad, pad as u8);
            if let Some((byte, at)) = broken_pad {
                let at = plain.len() - 1 - at.index(pad);
                plain[at] = byte;
            }
            plain
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn decrypt_agrees_with_a_plain_reading_of_the_format(plain in plaintext()) {
        let key = EncodingAesKey::parse(KEY_TEXT).unwrap();
        let crypto = MessageCrypto::new(key, AppId::new(APPID));
        let got = crypto.decrypt(&seal_raw(&plain));
        match (reference(&plain), &got) {
            (Ok(expected), Ok(msg)) => prop_assert_eq!(msg.as_slice(), expected),
            (Err(Refusal::Padding), Err(CryptoError::InvalidPadding))
            | (Err(Refusal::Length), Err(CryptoError::InvalidLengthField))
            | (Err(Refusal::AppId), Err(CryptoError::AppIdMismatch { .. })) => {}
            (expected, got) => {
                return Err(TestCaseError::fail(format!("reference {expected:?}, decrypt {got:?}")));
            }
        }
    }
}
