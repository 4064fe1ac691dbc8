//! The readers of the encrypted envelopes: any bytes give an envelope or a typed error, never a
//! panic; what they accept renders to a document that reads back to the same envelope, whenever
//! it holds only characters XML 1.0 allows (the writers drop the others).

#![no_main]

use libfuzzer_sys::fuzz_target;
use wechat_crypto::{EncryptedEnvelope, ReplyEnvelope, render_reply_envelope};
use wechat_fuzz::only_xml_chars;
use wechat_types::xml::Element;

fuzz_target!(|data: &[u8]| {
    let envelope = EncryptedEnvelope::parse(data);
    let reply = ReplyEnvelope::parse(data);
    let Ok(root) = Element::parse(data) else {
        // The envelope readers use the same XML reader: they refuse what it refuses.
        assert!(envelope.is_err() && reply.is_err());
        return;
    };
    let exact = only_xml_chars(&root);

    if let Ok(envelope) = envelope {
        assert!(
            !envelope.encrypt.is_empty(),
            "an envelope always has Encrypt"
        );
        if exact {
            let again = EncryptedEnvelope::parse(envelope.to_xml().as_bytes())
                .expect("a written envelope reads back");
            assert_eq!(again, envelope);
        }
    }
    if let Ok(reply) = reply {
        // The writer takes a numeric timestamp; only those round-trip exactly.
        if let Ok(timestamp) = reply.timestamp.parse::<i64>()
            && timestamp.to_string() == reply.timestamp
            && exact
        {
            let xml = render_reply_envelope(
                &reply.encrypt,
                &reply.msg_signature,
                timestamp,
                &reply.nonce,
            );
            let again =
                ReplyEnvelope::parse(xml.as_bytes()).expect("a written reply envelope reads back");
            assert_eq!(again, reply);
        }
    }
});
