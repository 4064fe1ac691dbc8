//! Reading the callback's answer as WeChat reads it, with a one-line diagnosis for each way it
//! can be wrong.

use wechat_crypto::{CryptoError, ReplyEnvelope, verify_msg_signature};
use wechat_types::OpenId;
use wechat_types::xml::{Element, PassiveReply, Reply, ReplyMessage, XmlError};

use super::CallbackMode;
use super::seal::crypto;
use crate::config::MockApp;
use crate::error_chain;

/// Most articles a news reply may carry (WeChat shows one when answering a user's message).
const MAX_ARTICLES: usize = 8;

/// The accepted answer, or what is wrong with it.
pub(crate) fn check_reply(
    app: &MockApp,
    mode: CallbackMode,
    openid: &OpenId,
    body: &[u8],
) -> Result<PassiveReply, String> {
    let trimmed = body.trim_ascii();
    // `success` and an empty body need no encryption in any mode.
    if trimmed.is_empty() {
        return Ok(PassiveReply::Empty);
    }
    if trimmed == PassiveReply::SUCCESS.as_bytes() {
        return Ok(PassiveReply::Success);
    }
    if matches!(trimmed.first(), Some(b'{' | b'[')) {
        return Err(format!(
            "reply is JSON ({}), but WeChat reads only an XML reply, `success` or an empty body",
            excerpt(trimmed)
        ));
    }
    let root = Element::parse(body).map_err(|e| {
        format!(
            "reply is not well-formed XML ({}): {}",
            error_chain(&e),
            excerpt(trimmed)
        )
    })?;
    if root.name != "xml" {
        return Err(format!(
            "reply's root element is <{}>, expected <xml>",
            root.name
        ));
    }
    let encrypted = root.child("Encrypt").is_some();
    let inner = match (mode, encrypted) {
        (CallbackMode::Plaintext, true) => {
            return Err(
                "reply is encrypted but the account is in plaintext mode: answer plain XML".into(),
            );
        }
        (CallbackMode::Safe, false) => {
            return Err(
                "reply is not encrypted but the account is in safe mode: encrypt it into \
                 <Encrypt> with <MsgSignature>, <TimeStamp> and <Nonce>"
                    .into(),
            );
        }
        (_, true) => decrypt(app, body)?,
        (_, false) => body.to_vec(),
    };
    let reply = ReplyMessage::parse(&inner).map_err(|e| describe_reply_error(&e, encrypted))?;
    if reply.to != *openid {
        return Err(format!(
            "reply ToUserName is {}, expected the user's openid {openid}",
            quoted(reply.to.as_str())
        ));
    }
    if reply.from != app.account_id {
        return Err(format!(
            "reply FromUserName is {}, expected the account's original ID {}",
            quoted(reply.from.as_str()),
            app.account_id
        ));
    }
    if let Reply::News { articles } = &reply.reply
        && (articles.is_empty() || articles.len() > MAX_ARTICLES)
    {
        return Err(format!(
            "news reply has {} articles; WeChat takes 1 to {MAX_ARTICLES}",
            articles.len()
        ));
    }
    Ok(PassiveReply::Message(reply))
}

/// Checks the reply envelope's `MsgSignature`, decrypts it and checks the AppID inside.
fn decrypt(app: &MockApp, body: &[u8]) -> Result<Vec<u8>, String> {
    let envelope = ReplyEnvelope::parse(body).map_err(|e| match e {
        CryptoError::InvalidXml(XmlError::MissingField(field)) => {
            format!("encrypted reply has no <{field}>: it needs <Encrypt>, <MsgSignature>, <TimeStamp> and <Nonce>")
        }
        other => format!("encrypted reply is malformed: {}", error_chain(&other)),
    })?;
    verify_msg_signature(
        &app.token,
        &envelope.timestamp,
        &envelope.nonce,
        &envelope.encrypt,
        &envelope.msg_signature,
    )
    .map_err(|_| {
        "reply MsgSignature does not match sha1(sort(token, TimeStamp, Nonce, Encrypt)): check \
         the Token"
            .to_owned()
    })?;
    crypto(app).decrypt(&envelope.encrypt).map_err(|e| match e {
        CryptoError::AppIdMismatch { expected, found } => format!(
            "reply is encrypted for appid {}, expected {expected}",
            quoted(&found)
        ),
        other => format!(
            "reply Encrypt does not decrypt with the account's EncodingAESKey: {}",
            error_chain(&other)
        ),
    })
}

fn describe_reply_error(error: &XmlError, encrypted: bool) -> String {
    let what = if encrypted {
        "decrypted reply"
    } else {
        "reply"
    };
    match error {
        XmlError::MissingField(field) => format!("{what} has no <{field}>"),
        XmlError::InvalidField { field: "MsgType" } => {
            format!("{what} has an unknown MsgType")
        }
        XmlError::InvalidField { field } => format!("{what} has an invalid <{field}>"),
        other => format!("{what} is not well-formed XML: {}", error_chain(other)),
    }
}

/// A value in quotes, cut short: it came from outside.
fn quoted(value: &str) -> String {
    let cut: String = value.chars().take(64).collect();
    if cut.len() < value.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// The start of a body, on one line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(80)]);
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.len() > 80 {
        format!("{line:?}…")
    } else {
        format!("{line:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechat_crypto::render_reply_envelope;
    use wechat_types::ServerToken;

    fn app() -> MockApp {
        MockApp::demo()
    }

    fn openid() -> OpenId {
        OpenId::new("oUser")
    }

    fn reply_xml(to: &str, from: &str) -> String {
        ReplyMessage {
            to: to.into(),
            from: from.into(),
            create_time: 1,
            reply: Reply::text("hi"),
        }
        .to_xml()
    }

    fn good() -> String {
        reply_xml("oUser", app().account_id.as_str())
    }

    fn check(mode: CallbackMode, body: &str) -> Result<PassiveReply, String> {
        check_reply(&app(), mode, &openid(), body.as_bytes())
    }

    #[test]
    fn success_and_empty_need_no_encryption() {
        for mode in [CallbackMode::Plaintext, CallbackMode::Safe] {
            assert_eq!(check(mode, "success\n"), Ok(PassiveReply::Success));
            assert_eq!(check(mode, ""), Ok(PassiveReply::Empty));
        }
    }

    #[test]
    fn plain_replies_in_plaintext_and_compat_mode() {
        for mode in [CallbackMode::Plaintext, CallbackMode::Compat] {
            let Ok(PassiveReply::Message(m)) = check(mode, &good()) else {
                panic!()
            };
            assert_eq!(m.reply, Reply::text("hi"));
        }
        let problem = check(CallbackMode::Safe, &good()).unwrap_err();
        assert!(problem.starts_with("reply is not encrypted but the account is in safe mode"));
    }

    #[test]
    fn encrypted_replies_are_verified_and_decrypted() {
        let app = app();
        let sealed = crypto(&app).encrypt_reply(&app.token, &good(), 1, "n");
        for mode in [CallbackMode::Compat, CallbackMode::Safe] {
            assert!(matches!(check(mode, &sealed), Ok(PassiveReply::Message(_))));
        }
        let problem = check(CallbackMode::Plaintext, &sealed).unwrap_err();
        assert!(problem.contains("plaintext mode"), "{problem}");

        let wrong_token = crypto(&app).encrypt_reply(&ServerToken::new("other"), &good(), 1, "n");
        let problem = check(CallbackMode::Safe, &wrong_token).unwrap_err();
        assert!(
            problem.starts_with("reply MsgSignature does not match"),
            "{problem}"
        );

        let other_app = MockApp::new("wxother", "s").with_aes_key(app.aes_key.clone());
        let foreign = crypto(&other_app).encrypt_reply(&app.token, &good(), 1, "n");
        let problem = check(CallbackMode::Safe, &foreign).unwrap_err();
        assert_eq!(
            problem,
            format!(
                "reply is encrypted for appid \"wxother\", expected {}",
                app.appid
            )
        );

        let missing =
            render_reply_envelope("abc", "sig", 1, "n").replace("<Nonce><![CDATA[n]]></Nonce>", "");
        let problem = check(CallbackMode::Safe, &missing).unwrap_err();
        assert!(
            problem.starts_with("encrypted reply has no <Nonce>"),
            "{problem}"
        );
    }

    #[test]
    fn addressing_is_checked() {
        let problem = check(
            CallbackMode::Plaintext,
            &reply_xml("oOther", "gh_0c0ffee5eed1"),
        )
        .unwrap_err();
        assert_eq!(
            problem,
            "reply ToUserName is \"oOther\", expected the user's openid oUser"
        );
        let problem = check(CallbackMode::Plaintext, &reply_xml("oUser", "gh_x")).unwrap_err();
        assert_eq!(
            problem,
            "reply FromUserName is \"gh_x\", expected the account's original ID gh_0c0ffee5eed1"
        );
    }

    #[test]
    fn json_and_garbage_are_refused() {
        let problem = check(CallbackMode::Plaintext, r#"{"reply":"hi"}"#).unwrap_err();
        assert!(problem.starts_with("reply is JSON"), "{problem}");
        let problem = check(CallbackMode::Plaintext, "<xml><Content>hi</xml>").unwrap_err();
        assert!(
            problem.starts_with("reply is not well-formed XML"),
            "{problem}"
        );
        let problem = check(CallbackMode::Plaintext, "hello").unwrap_err();
        assert!(
            problem.starts_with("reply is not well-formed XML"),
            "{problem}"
        );
        let problem = check(CallbackMode::Plaintext, "<reply/>").unwrap_err();
        assert_eq!(problem, "reply's root element is <reply>, expected <xml>");
        let problem = check(
            CallbackMode::Plaintext,
            "<xml><ToUserName>oUser</ToUserName><FromUserName>gh_0c0ffee5eed1</FromUserName>\
             <CreateTime>1</CreateTime></xml>",
        )
        .unwrap_err();
        assert_eq!(problem, "reply has no <MsgType>");
        let doctype = "<!DOCTYPE x [<!ENTITY a 'b'>]><xml/>";
        assert!(check(CallbackMode::Plaintext, doctype).is_err());
    }
}
