//! Property tests: encrypt/decrypt round trips, never a panic on hostile input, and the OAuth
//! state MAC.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use wechat_crypto::{
    EncryptedEnvelope, MessageCrypto, ReplyEnvelope, StateError, StateKey, msg_signature,
    signature, verify_msg_signature, verify_signature,
};
use wechat_types::{AppId, EncodingAesKey, ServerToken};

fn crypto_for(key: [u8; 32], appid: &str) -> MessageCrypto {
    // Any 32 bytes are a key: its 43-character text is the base64 without the final `=`.
    let text = STANDARD.encode(key);
    let key = EncodingAesKey::parse(text.trim_end_matches('=')).unwrap();
    MessageCrypto::new(key, AppId::new(appid))
}

fn fixed_crypto() -> MessageCrypto {
    crypto_for([0x5a; 32], "wx0123456789abcdef")
}

proptest! {
    // Messages up to 64 KiB are slow to generate; a few dozen cover the size range.
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn round_trip_up_to_64_kib(
        key in any::<[u8; 32]>(),
        random in any::<[u8; 16]>(),
        appid in "wx[0-9a-f]{16}",
        msg in prop::collection::vec(any::<u8>(), 0..=64 * 1024),
    ) {
        let crypto = crypto_for(key, &appid);
        let sealed = crypto.encrypt_with_random(random, &msg);
        prop_assert_eq!(STANDARD.decode(&sealed).unwrap().len() % 32, 0);
        prop_assert_eq!(crypto.decrypt(&sealed).unwrap(), msg.clone());
        let fresh = crypto.encrypt(&msg);
        prop_assert_eq!(crypto.decrypt(&fresh).unwrap(), msg);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Short messages hit every pad length 1..=32 many times over.
    #[test]
    fn round_trip_short_messages_every_pad(
        random in any::<[u8; 16]>(),
        appid in "[a-zA-Z0-9_]{0,40}",
        msg in prop::collection::vec(any::<u8>(), 0..=300),
    ) {
        let crypto = crypto_for([7; 32], &appid);
        let sealed = crypto.encrypt_with_random(random, &msg);
        prop_assert_eq!(crypto.decrypt(&sealed).unwrap(), msg);
    }

    #[test]
    fn push_and_reply_round_trip(
        msg in "\\PC{0,200}",
        timestamp in any::<i64>(),
        nonce in "[0-9a-zA-Z]{1,16}",
        token in "[0-9a-zA-Z]{3,32}",
    ) {
        let crypto = fixed_crypto();
        let token = ServerToken::new(token);
        let ts = timestamp.to_string();
        let sealed = crypto.encrypt_push(&token, "gh_1", &msg, &ts, &nonce);
        let opened = crypto
            .decrypt_push(&token, &ts, &nonce, &sealed.msg_signature, sealed.body.as_bytes())
            .unwrap();
        prop_assert_eq!(opened, msg.as_bytes());

        let reply = crypto.encrypt_reply(&token, &msg, timestamp, &nonce);
        prop_assert_eq!(crypto.decrypt_reply(&token, reply.as_bytes()).unwrap(), msg.as_bytes());
        let envelope = ReplyEnvelope::parse(reply.as_bytes()).unwrap();
        prop_assert_eq!(envelope.timestamp, ts);
    }

    #[test]
    fn decrypt_never_panics_on_any_text(input in "\\PC{0,400}") {
        let crypto = fixed_crypto();
        let _ = crypto.decrypt(&input);
        let _ = crypto.decrypt_unchecked(&input);
    }

    #[test]
    fn decrypt_never_panics_on_any_ciphertext(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        // Valid base64 of arbitrary bytes reaches the cipher, the unpadding and the length field.
        let crypto = fixed_crypto();
        let input = STANDARD.encode(&bytes);
        let _ = crypto.decrypt(&input);
        let _ = crypto.decrypt_unchecked(&input);
    }

    #[test]
    fn tampered_ciphertext_never_panics_and_a_tampered_tail_is_refused(
        msg in prop::collection::vec(any::<u8>(), 0..200),
        at in any::<prop::sample::Index>(),
        flip in 1..=255u8,
    ) {
        let crypto = fixed_crypto();
        let mut raw = STANDARD.decode(crypto.encrypt(&msg)).unwrap();
        let at = at.index(raw.len());
        raw[at] ^= flip;
        let result = crypto.decrypt(&STANDARD.encode(&raw));
        // CBC alone does not authenticate (that is msg_signature's job): a flip early on may
        // still decrypt. A flip in the last block garbles the padding and appid, which are
        // checked, so it must be refused.
        if at >= raw.len() - 16 {
            prop_assert!(result.is_err(), "tampered tail decrypted");
        }
    }

    #[test]
    fn envelopes_never_panic(body in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = EncryptedEnvelope::parse(&body);
        let _ = ReplyEnvelope::parse(&body);
        let crypto = fixed_crypto();
        let token = ServerToken::new("t");
        let _ = crypto.decrypt_push(&token, "1", "2", "sig", &body);
        let _ = crypto.decrypt_reply(&token, &body);
    }

    #[test]
    fn envelopes_never_panic_on_xml_like_input(encrypt in "\\PC{0,200}", extra in "[<>/a-zA-Z!\\[\\]]{0,40}") {
        let body = format!("<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>{extra}</xml>");
        let _ = EncryptedEnvelope::parse(body.as_bytes());
        let crypto = fixed_crypto();
        let _ = crypto.decrypt_push(&ServerToken::new("t"), "1", "2", "0", body.as_bytes());
    }

    #[test]
    fn verify_never_panics_and_accepts_only_the_signature(
        given in "\\PC{0,60}",
        timestamp in "\\PC{0,20}",
        nonce in "\\PC{0,20}",
    ) {
        let token = ServerToken::new("token");
        let good = signature(&token, &timestamp, &nonce);
        let ok = verify_signature(&token, &timestamp, &nonce, &given).is_ok();
        prop_assert_eq!(ok, given.eq_ignore_ascii_case(&good));
        let good = msg_signature(&token, &timestamp, &nonce, "E");
        let ok = verify_msg_signature(&token, &timestamp, &nonce, "E", &given).is_ok();
        prop_assert_eq!(ok, given.eq_ignore_ascii_case(&good));
        prop_assert!(verify_signature(&token, &timestamp, &nonce, &signature(&token, &timestamp, &nonce)).is_ok());
    }

    #[test]
    fn state_round_trips_within_its_lifetime(
        key in any::<[u8; 32]>(),
        session in "\\PC{0,64}",
        expires_at in any::<i64>(),
        nonce in any::<[u8; 8]>(),
        before in 1..=1_000_000i64,
    ) {
        let key = StateKey::new(key);
        let state = key.issue(&session, expires_at, nonce);
        prop_assert!(state.len() <= 128);
        prop_assert!(state.bytes().all(|b| b.is_ascii_alphanumeric()));
        if let Some(now) = expires_at.checked_sub(before) {
            prop_assert_eq!(key.verify(&state, &session, now), Ok(()));
        }
        prop_assert_eq!(key.verify(&state, &session, expires_at), Err(StateError::Expired { expires_at }));
    }

    #[test]
    fn state_with_any_single_byte_changed_fails(
        session in "[a-z0-9]{1,32}",
        nonce in any::<[u8; 8]>(),
        at in any::<prop::sample::Index>(),
        replacement in any::<u8>().prop_filter("ASCII", u8::is_ascii),
    ) {
        let key = StateKey::new([9; 32]);
        let state = key.issue(&session, i64::MAX, nonce);
        let mut bytes = state.clone().into_bytes();
        let at = at.index(bytes.len());
        prop_assume!(bytes[at] != replacement);
        bytes[at] = replacement;
        let tampered = String::from_utf8(bytes).unwrap();
        let err = key.verify(&tampered, &session, 0).unwrap_err();
        prop_assert!(matches!(err, StateError::Malformed | StateError::BadMac), "{err:?}");
    }

    #[test]
    fn state_for_another_session_or_key_is_bad_mac(
        session in "\\PC{0,32}",
        other in "\\PC{0,32}",
        nonce in any::<[u8; 8]>(),
    ) {
        prop_assume!(session != other);
        let key = StateKey::new([1; 32]);
        let state = key.issue(&session, i64::MAX, nonce);
        prop_assert_eq!(key.verify(&state, &other, 0), Err(StateError::BadMac));
        prop_assert_eq!(StateKey::new([2; 32]).verify(&state, &session, 0), Err(StateError::BadMac));
    }

    #[test]
    fn state_verify_never_panics(state in "\\PC{0,200}", session in "\\PC{0,32}", now in any::<i64>()) {
        let _ = StateKey::new([1; 32]).verify(&state, &session, now);
    }
}
