//! Building the HTTP request of a push as WeChat does: the signed query and the body in the
//! app's mode.

use wechat_crypto::{MessageCrypto, msg_signature, signature};
use wechat_types::xml::{Message, push_cdata_element};

use super::CallbackMode;
use crate::config::MockApp;

/// The query string and body of one push (the same for every try).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SealedPush {
    /// `url` plus the signed query.
    pub(crate) url: String,
    pub(crate) body: String,
}

/// Seals `message` for the app's callback `url` in `mode`, signed with `timestamp` and `nonce`.
pub(crate) fn seal(
    app: &MockApp,
    url: &str,
    mode: CallbackMode,
    message: &Message,
    nonce: &str,
) -> SealedPush {
    let timestamp = message.create_time.to_string();
    let plain = message.to_xml();
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("signature", &signature(&app.token, &timestamp, nonce))
        .append_pair("timestamp", &timestamp)
        .append_pair("nonce", nonce)
        .append_pair("openid", message.from.as_str());
    let body = match mode {
        CallbackMode::Plaintext => plain,
        CallbackMode::Safe => {
            let sealed = crypto(app).encrypt_push(
                &app.token,
                app.account_id.as_str(),
                &plain,
                &timestamp,
                nonce,
            );
            query
                .append_pair("encrypt_type", "aes")
                .append_pair("msg_signature", &sealed.msg_signature);
            sealed.body
        }
        CallbackMode::Compat => {
            let encrypt = crypto(app).encrypt(plain.as_bytes());
            query.append_pair("encrypt_type", "aes").append_pair(
                "msg_signature",
                &msg_signature(&app.token, &timestamp, nonce, &encrypt),
            );
            compat_body(plain, &encrypt)
        }
    };
    let separator = match url.contains('?') {
        true if url.ends_with('?') || url.ends_with('&') => "",
        true => "&",
        false => "?",
    };
    SealedPush {
        url: format!("{url}{separator}{}", query.finish()),
        body,
    }
}

pub(crate) fn crypto(app: &MockApp) -> MessageCrypto {
    MessageCrypto::new(app.aes_key.clone(), app.appid.clone())
}

/// Compat mode: every plaintext field, then `<Encrypt>` before the closing `</xml>`.
fn compat_body(mut plain: String, encrypt: &str) -> String {
    if plain.ends_with("</xml>") {
        plain.truncate(plain.len() - "</xml>".len());
    }
    push_cdata_element(&mut plain, "Encrypt", encrypt);
    plain.push_str("</xml>");
    plain
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::UserAction;
    use wechat_crypto::{EncryptedEnvelope, verify_msg_signature, verify_signature};

    fn param(url: &str, name: &str) -> Option<String> {
        let query = url.split_once('?')?.1;
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    fn message() -> Message {
        Message {
            to: "gh_0c0ffee5eed1".into(),
            from: "oUser".into(),
            create_time: 1_700_000_000,
            body: UserAction::text("你好"),
        }
    }

    #[test]
    fn each_mode_is_signed_and_sealed() {
        let app = MockApp::demo();
        let message = message();
        for mode in [
            CallbackMode::Plaintext,
            CallbackMode::Compat,
            CallbackMode::Safe,
        ] {
            let sealed = seal(&app, "http://127.0.0.1:1/cb?x=1", mode, &message, "12345");
            assert!(
                sealed
                    .url
                    .starts_with("http://127.0.0.1:1/cb?x=1&signature=")
            );
            let get = |name| param(&sealed.url, name).unwrap_or_default();
            verify_signature(
                &app.token,
                &get("timestamp"),
                &get("nonce"),
                &get("signature"),
            )
            .unwrap();
            assert_eq!(get("timestamp"), "1700000000");
            assert_eq!(get("openid"), "oUser");
            match mode {
                CallbackMode::Plaintext => {
                    assert_eq!(sealed.body, message.to_xml());
                    assert_eq!(param(&sealed.url, "encrypt_type"), None);
                }
                _ => {
                    assert_eq!(get("encrypt_type"), "aes");
                    let envelope = EncryptedEnvelope::parse(sealed.body.as_bytes()).unwrap();
                    verify_msg_signature(
                        &app.token,
                        "1700000000",
                        "12345",
                        &envelope.encrypt,
                        &get("msg_signature"),
                    )
                    .unwrap();
                    let inner = crypto(&app).decrypt(&envelope.encrypt).unwrap();
                    assert_eq!(Message::parse(&inner).unwrap(), message);
                    let outer = wechat_types::xml::Element::parse(sealed.body.as_bytes()).unwrap();
                    let has_plain_fields = outer.child("Content").is_some();
                    assert_eq!(has_plain_fields, mode == CallbackMode::Compat, "{mode}");
                }
            }
        }
    }

    #[test]
    fn query_separator() {
        let app = MockApp::demo();
        for (url, prefix) in [
            ("http://h/cb", "http://h/cb?signature="),
            ("http://h/cb?", "http://h/cb?signature="),
            ("http://h/cb?a=1&", "http://h/cb?a=1&signature="),
        ] {
            let sealed = seal(&app, url, CallbackMode::Plaintext, &message(), "1");
            assert!(sealed.url.starts_with(prefix), "{}", sealed.url);
        }
    }
}
