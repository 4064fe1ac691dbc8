//! The XML envelopes around `Encrypt`: the incoming push body and the outgoing reply.
//!
//! Reading goes through the workspace's one XML reader (`ElementRef::parse`, and for a push's
//! `Encrypt` its one-pass `ElementRef::parse_root_child`), which refuses a DOCTYPE and bounds
//! depth and size; writing goes through its CDATA writer.

use std::borrow::Cow;

use wechat_types::xml::{
    ElementRef, XmlError, expect_xml_root, push_cdata_element, push_text_element,
};

use crate::{CryptoError, hex};

/// The encrypted body of a push, in safe mode (`ToUserName` + `Encrypt`) or compat mode (every
/// plaintext field + `Encrypt`).
///
/// In compat mode the plaintext fields are not authenticated by `msg_signature`; read the message
/// from the decrypted `Encrypt` only.
///
/// ```
/// use wechat_crypto::EncryptedEnvelope;
///
/// let body = b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[abc=]]></Encrypt></xml>";
/// let envelope = EncryptedEnvelope::parse(body)?;
/// assert_eq!(envelope.to_user_name.as_deref(), Some("gh_1"));
/// assert_eq!(envelope.encrypt, "abc=");
/// # Ok::<(), wechat_crypto::CryptoError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedEnvelope {
    /// The account's original id (`gh_…`), if the body has one.
    pub to_user_name: Option<String>,
    /// The base64 ciphertext.
    pub encrypt: String,
}

impl EncryptedEnvelope {
    /// Reads an encrypted push body. The root must be `<xml>` and `<Encrypt>` must be present
    /// and non-empty.
    pub fn parse(body: &[u8]) -> Result<Self, CryptoError> {
        let root = parse_root(body)?;
        Ok(Self {
            encrypt: encrypt_text(&root)?.to_owned(),
            to_user_name: take_child(&root, "ToUserName"),
        })
    }

    /// Writes the envelope as a safe-mode body (`ToUserName` is left out when absent).
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(self.encrypt.len() + 96);
        out.push_str("<xml>");
        if let Some(to) = &self.to_user_name {
            push_cdata_element(&mut out, "ToUserName", to);
        }
        push_cdata_element(&mut out, "Encrypt", &self.encrypt);
        out.push_str("</xml>");
        out
    }
}

/// An encrypted passive reply, as read back by [`ReplyEnvelope::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyEnvelope {
    /// The base64 ciphertext of the reply.
    pub encrypt: String,
    /// The reply's `msg_signature` over token, `timestamp`, `nonce` and `encrypt`.
    pub msg_signature: String,
    /// The `TimeStamp` text, exactly as written (it is signed as text).
    pub timestamp: String,
    /// The `Nonce`.
    pub nonce: String,
}

impl ReplyEnvelope {
    /// Reads an encrypted reply body; every one of `Encrypt`, `MsgSignature`, `TimeStamp` and
    /// `Nonce` must be present.
    pub fn parse(body: &[u8]) -> Result<Self, CryptoError> {
        let root = parse_root(body)?;
        let field = |name: &'static str| {
            take_child(&root, name).ok_or(CryptoError::InvalidXml(XmlError::MissingField(name)))
        };
        let msg_signature = field("MsgSignature")?;
        let timestamp = field("TimeStamp")?;
        let nonce = field("Nonce")?;
        Ok(Self {
            encrypt: encrypt_text(&root)?.to_owned(),
            msg_signature,
            timestamp,
            nonce,
        })
    }
}

/// Renders the encrypted reply body:
/// `<xml><Encrypt><![CDATA[…]]></Encrypt><MsgSignature><![CDATA[…]]></MsgSignature><TimeStamp>…</TimeStamp><Nonce><![CDATA[…]]></Nonce></xml>`.
///
/// The timestamp is a number, so the document is well-formed whatever the other values hold.
///
/// ```
/// let xml = wechat_crypto::render_reply_envelope("E==", "5ig", 1713424427, "415670741");
/// assert_eq!(
///     xml,
///     "<xml><Encrypt><![CDATA[E==]]></Encrypt><MsgSignature><![CDATA[5ig]]></MsgSignature>\
///      <TimeStamp>1713424427</TimeStamp><Nonce><![CDATA[415670741]]></Nonce></xml>"
/// );
/// ```
pub fn render_reply_envelope(
    encrypt: &str,
    msg_signature: &str,
    timestamp: i64,
    nonce: &str,
) -> String {
    let mut out = String::with_capacity(encrypt.len() + msg_signature.len() + nonce.len() + 160);
    out.push_str("<xml>");
    push_cdata_element(&mut out, "Encrypt", encrypt);
    push_cdata_element(&mut out, "MsgSignature", msg_signature);
    push_text_element(&mut out, "TimeStamp", timestamp);
    push_cdata_element(&mut out, "Nonce", nonce);
    out.push_str("</xml>");
    out
}

/// Appends the reply envelope of [`render_reply_envelope`] to `out`, for the Encrypt text that
/// `push_encrypt` appends (base64, so it needs no escaping) and signed by `sign` as it lies in
/// `out`: the encrypted reply never exists as a String of its own.
pub(crate) fn push_reply_envelope(
    out: &mut String,
    push_encrypt: impl FnOnce(&mut String),
    sign: impl FnOnce(&str) -> [u8; 20],
    timestamp: &str,
    nonce: &str,
) {
    out.push_str(OPEN_ENCRYPT);
    let start = out.len();
    push_encrypt(out);
    let digest = sign(&out[start..]);
    out.push_str(ENCRYPT_TO_SIGNATURE);
    hex::push(out, &digest);
    out.push_str(SIGNATURE_TO_TIMESTAMP);
    out.push_str(timestamp);
    out.push_str(CLOSE_TIMESTAMP);
    push_cdata_element(out, "Nonce", nonce);
    out.push_str(CLOSE_ENVELOPE);
}

// The fixed markup of a reply envelope, written by `push_reply_envelope` and counted by
// `reply_envelope_len`.
const OPEN_ENCRYPT: &str = "<xml><Encrypt><![CDATA[";
const ENCRYPT_TO_SIGNATURE: &str = "]]></Encrypt><MsgSignature><![CDATA[";
const SIGNATURE_TO_TIMESTAMP: &str = "]]></MsgSignature><TimeStamp>";
const CLOSE_TIMESTAMP: &str = "</TimeStamp>";
/// What `push_cdata_element` writes around a nonce that needs no escaping.
const NONCE_MARKUP: &str = "<Nonce><![CDATA[]]></Nonce>";
const CLOSE_ENVELOPE: &str = "</xml>";

/// The length of [`push_reply_envelope`]'s output for an Encrypt text of `encrypt_len` bytes (and
/// a 40-character signature), when the nonce needs no escaping. Sizing the buffer exactly lets
/// the HTTP layer take it over without another allocation.
pub(crate) fn reply_envelope_len(encrypt_len: usize, timestamp: &str, nonce: &str) -> usize {
    /// A SHA-1 digest in hex.
    const SIGNATURE_LEN: usize = 40;
    const MARKUP: usize = OPEN_ENCRYPT.len()
        + ENCRYPT_TO_SIGNATURE.len()
        + SIGNATURE_LEN
        + SIGNATURE_TO_TIMESTAMP.len()
        + CLOSE_TIMESTAMP.len()
        + NONCE_MARKUP.len()
        + CLOSE_ENVELOPE.len();
    MARKUP + encrypt_len + timestamp.len() + nonce.len()
}

fn parse_root(body: &[u8]) -> Result<ElementRef<'_>, CryptoError> {
    let root = ElementRef::parse(body)?;
    check_root(root.name())?;
    Ok(root)
}

fn check_root(name: &str) -> Result<(), CryptoError> {
    expect_xml_root(name).map_err(CryptoError::InvalidXml)
}

/// The non-empty `Encrypt` text of an encrypted body, as [`EncryptedEnvelope::parse`] reads it
/// (same checks, same errors), borrowed from the body when it needs no decoding. The envelope
/// of every push goes through here, so it is read without building its tree.
pub(crate) fn read_encrypt(body: &[u8]) -> Result<Cow<'_, str>, CryptoError> {
    let (root, encrypt) = ElementRef::parse_root_child(body, "Encrypt")?;
    check_root(&root)?;
    present(encrypt)
}

/// An `Encrypt` text that is there and not empty.
fn present<T: AsRef<str>>(encrypt: Option<T>) -> Result<T, CryptoError> {
    encrypt
        .filter(|text| !text.as_ref().is_empty())
        .ok_or(CryptoError::MissingEncrypt)
}

/// The text of the first child `name`. The tree borrows from the body, so this is the only copy.
fn take_child(root: &ElementRef<'_>, name: &str) -> Option<String> {
    root.child_text(name).map(str::to_owned)
}

/// The non-empty `Encrypt` text of an envelope, borrowed from the body.
fn encrypt_text<'r>(root: &'r ElementRef<'_>) -> Result<&'r str, CryptoError> {
    present(root.child_text("Encrypt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_compat_body() {
        let body = b"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\
            <FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\
            <CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType>\
            <Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId>\
            <Encrypt><![CDATA[xyz=]]></Encrypt></xml>";
        let envelope = EncryptedEnvelope::parse(body).unwrap();
        assert_eq!(envelope.to_user_name.as_deref(), Some("gh_10f6c3c3ac5a"));
        assert_eq!(envelope.encrypt, "xyz=");
    }

    #[test]
    fn the_push_path_reads_encrypt_as_the_envelope_does() {
        for body in [
            &b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\n<Encrypt><![CDATA[abc=]]></Encrypt>\n</xml>"[..],
            b"<xml><ToUserName>gh</ToUserName><MsgType><![CDATA[text]]></MsgType><Encrypt>xyz=</Encrypt></xml>",
            b"<xml><A><B>nested</B></A><Encrypt>a&#43;b=</Encrypt></xml>",
            b"<xml><ToUserName>gh</ToUserName></xml>",
            b"<xml><Encrypt></Encrypt></xml>",
            b"<root><Encrypt>a</Encrypt></root>",
            b"<!DOCTYPE x><xml><Encrypt>a</Encrypt></xml>",
            b"<xml><Encrypt>a</Encrypt>",
            b"not xml",
        ] {
            let expected = EncryptedEnvelope::parse(body).map(|envelope| envelope.encrypt);
            let read = read_encrypt(body).map(Cow::into_owned);
            match (read, expected) {
                (Ok(read), Ok(expected)) => assert_eq!(read, expected),
                (Err(read), Err(expected)) => {
                    assert_eq!(read.to_string(), expected.to_string());
                    assert_eq!(read.official_code(), expected.official_code());
                }
                (read, expected) => panic!("{body:?}: {read:?} against {expected:?}"),
            }
        }
    }

    #[test]
    fn missing_or_empty_encrypt_is_typed() {
        for body in [
            &b"<xml><ToUserName>gh</ToUserName></xml>"[..],
            b"<xml><Encrypt></Encrypt></xml>",
            b"<xml><Encrypt/></xml>",
        ] {
            let err = EncryptedEnvelope::parse(body).unwrap_err();
            assert!(matches!(err, CryptoError::MissingEncrypt), "{err:?}");
            assert_eq!(err.official_code(), -40002);
        }
    }

    #[test]
    fn refuses_doctype_other_roots_and_garbage() {
        let doctype = b"<!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><Encrypt>&e;</Encrypt></xml>";
        assert!(matches!(
            EncryptedEnvelope::parse(doctype),
            Err(CryptoError::InvalidXml(XmlError::Doctype))
        ));
        assert!(matches!(
            EncryptedEnvelope::parse(b"<root><Encrypt>a</Encrypt></root>"),
            Err(CryptoError::InvalidXml(XmlError::UnexpectedRoot { .. }))
        ));
        assert!(matches!(
            EncryptedEnvelope::parse(b"{\"Encrypt\":\"a\"}"),
            Err(CryptoError::InvalidXml(_))
        ));
    }

    #[test]
    fn safe_body_round_trips() {
        let envelope = EncryptedEnvelope {
            to_user_name: Some("gh_1".into()),
            encrypt: "a+b/c==".into(),
        };
        assert_eq!(
            EncryptedEnvelope::parse(envelope.to_xml().as_bytes()).unwrap(),
            envelope
        );
    }

    #[test]
    fn reply_envelope_round_trips_and_requires_every_field() {
        let xml = render_reply_envelope("E==", "sig", -5, "n]]>once");
        let reply = ReplyEnvelope::parse(xml.as_bytes()).unwrap();
        assert_eq!(
            reply,
            ReplyEnvelope {
                encrypt: "E==".into(),
                msg_signature: "sig".into(),
                timestamp: "-5".into(),
                nonce: "n]]>once".into(),
            }
        );
        let err =
            ReplyEnvelope::parse(b"<xml><Encrypt>E</Encrypt><Nonce>n</Nonce></xml>").unwrap_err();
        assert!(matches!(
            err,
            CryptoError::InvalidXml(XmlError::MissingField("MsgSignature"))
        ));
    }
}
