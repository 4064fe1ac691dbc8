//! The official known-answer vectors (PROTOCOL.md §5), one test each.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use wechat_crypto::{
    CryptoError, MessageCrypto, ReplyEnvelope, jssdk_signature, msg_signature,
    render_reply_envelope, signature, verify_msg_signature, verify_signature,
};
use wechat_types::xml::{Message, MessageBody};
use wechat_types::{AppId, EncodingAesKey, JsapiTicket, MsgId, ServerToken};

fn crypto(key: &str, appid: &str) -> MessageCrypto {
    MessageCrypto::new(EncodingAesKey::parse(key).unwrap(), AppId::new(appid))
}

/// The PKCS#7 pad length of a ciphertext: its decoded length minus header, message and appid.
fn pad_len(encrypt: &str, msg_len: usize, appid: &str) -> usize {
    STANDARD.decode(encrypt).unwrap().len() - 20 - msg_len - appid.len()
}

// ---------------------------------------------------------------------------------------------
// V-S: plain server signature.

#[test]
fn v_s_wechatpy_signature() {
    let token = ServerToken::new("test");
    let expected = "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff";
    assert_eq!(signature(&token, "1410685589", "test"), expected);
    assert!(verify_signature(&token, "1410685589", "test", expected).is_ok());
}

#[test]
fn v_s_wechatpy_signature_with_last_digit_changed_fails() {
    let token = ServerToken::new("test");
    let err = verify_signature(
        &token,
        "1410685589",
        "test",
        "f21891de399b4e33a1a93c9a7b8a8fffb5a443fe",
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::InvalidSignature));
    assert_eq!(err.official_code(), -40001);
}

#[test]
fn v_s_official_plaintext_mode_doc_signature() {
    let token = ServerToken::new("AAAAA");
    let expected = "899cf89e464efb63f54ddac96b0a0a235f53aa78";
    assert_eq!(signature(&token, "1714037059", "486452656"), expected);
    assert!(verify_signature(&token, "1714037059", "486452656", expected).is_ok());
}

#[test]
fn v_s_silenceper_abc_signature() {
    let token = ServerToken::new("a");
    let expected = "a9993e364706816aba3e25717850c26c9cd0d89d";
    assert_eq!(signature(&token, "b", "c"), expected);
    // The sort makes the order of the arguments irrelevant.
    assert_eq!(signature(&ServerToken::new("c"), "a", "b"), expected);
}

// ---------------------------------------------------------------------------------------------
// V-A: official Java sample, fixed random.

const V_A_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const V_A_APPID: &str = "wxb11529c136998cb6";
const V_A_RANDOM: [u8; 16] = *b"aaaabbbbccccdddd";
const V_A_MSG1: &str = "我是中文abcd123";
const V_A_ENCRYPT1: &str =
    "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";
const V_A_MSG2: &str = "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>";
const V_A_ENCRYPT2: &str = "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb";

#[test]
fn v_a_encrypt_with_fixed_random() {
    let crypto = crypto(V_A_KEY, V_A_APPID);
    let encrypt = crypto.encrypt_with_random(V_A_RANDOM, V_A_MSG1.as_bytes());
    assert_eq!(encrypt, V_A_ENCRYPT1);
    assert_eq!(pad_len(&encrypt, V_A_MSG1.len(), V_A_APPID), 7);
}

#[test]
fn v_a_decrypt_back() {
    let crypto = crypto(V_A_KEY, V_A_APPID);
    assert_eq!(crypto.decrypt(V_A_ENCRYPT1).unwrap(), V_A_MSG1.as_bytes());
}

#[test]
fn v_a2_encrypt_xml_with_fixed_random() {
    let crypto = crypto(V_A_KEY, V_A_APPID);
    assert_eq!(
        crypto.encrypt_with_random(V_A_RANDOM, V_A_MSG2.as_bytes()),
        V_A_ENCRYPT2
    );
}

#[test]
fn v_a2_decrypt_back() {
    let crypto = crypto(V_A_KEY, V_A_APPID);
    assert_eq!(crypto.decrypt(V_A_ENCRYPT2).unwrap(), V_A_MSG2.as_bytes());
}

// ---------------------------------------------------------------------------------------------
// V-B: official VerifyURL sample.

const V_B_ECHOSTR: &str =
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";

#[test]
fn v_b_decrypt_echostr() {
    let crypto = crypto(
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        "wx5823bf96d3bd56c7",
    );
    assert_eq!(crypto.decrypt(V_B_ECHOSTR).unwrap(), b"1616140317555161061");
    assert_eq!(pad_len(V_B_ECHOSTR, 19, "wx5823bf96d3bd56c7"), 7);
}

#[test]
fn v_b_verify_msg_signature() {
    let token = ServerToken::new("QDG6eK");
    let expected = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3";
    assert_eq!(
        msg_signature(&token, "1409659589", "263014780", V_B_ECHOSTR),
        expected
    );
    assert!(verify_msg_signature(&token, "1409659589", "263014780", V_B_ECHOSTR, expected).is_ok());
}

// ---------------------------------------------------------------------------------------------
// V-C: official Python sample, compat-mode body.

const V_C_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const V_C_APPID: &str = "wx2c2769f8efd9abc2";
const V_C_BODY: &[u8] = include_bytes!("../fixtures/v-c-compat-push.xml");
const V_C_PLAINTEXT: &str = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>";

fn v_c_encrypt() -> String {
    wechat_crypto::EncryptedEnvelope::parse(V_C_BODY)
        .unwrap()
        .encrypt
}

#[test]
fn v_c_msg_signature() {
    let token = ServerToken::new("spamtest");
    let expected = "5d197aaffba7e9b25a30732f161a50dee96bd5fa";
    assert_eq!(
        msg_signature(&token, "1409735669", "1320562132", &v_c_encrypt()),
        expected
    );
}

#[test]
fn v_c_plain_signature_of_the_same_query() {
    let token = ServerToken::new("spamtest");
    assert_eq!(
        signature(&token, "1409735669", "1320562132"),
        "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"
    );
}

#[test]
fn v_c_decrypt_exact_plaintext_keeps_newlines() {
    let crypto = crypto(V_C_KEY, V_C_APPID);
    let plain = crypto.decrypt(&v_c_encrypt()).unwrap();
    assert_eq!(String::from_utf8(plain).unwrap(), V_C_PLAINTEXT);
    assert_eq!(pad_len(&v_c_encrypt(), V_C_PLAINTEXT.len(), V_C_APPID), 2);
}

#[test]
fn v_c_decrypt_push_from_compat_body() {
    let crypto = crypto(V_C_KEY, V_C_APPID);
    let token = ServerToken::new("spamtest");
    let plain = crypto
        .decrypt_push(
            &token,
            "1409735669",
            "1320562132",
            "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
            V_C_BODY,
        )
        .unwrap();
    assert_eq!(plain, V_C_PLAINTEXT.as_bytes());
    // The same body with a tampered nonce is refused before any decryption.
    let err = crypto
        .decrypt_push(
            &token,
            "1409735669",
            "1320562133",
            "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
            V_C_BODY,
        )
        .unwrap_err();
    assert!(matches!(err, CryptoError::InvalidSignature));
}

// ---------------------------------------------------------------------------------------------
// V-D: C++ sample (attributed), same key/appid/token as V-C.

const V_D_ENCRYPT: &str = "mfBCs65c67CeJw22u4VT2TD73q5H06+ocrAIxswCaeZ/d/Lw0msSZFHY0teqgSYiI1zR2gD2DKrB3TIrmX/liNSDrGqS8jSI/WPeKB5VPr7Ezr7gomZAyGCwJSgT1TRFWPfONGJMxuj2nk4faTuspAuVIFQ6SHwZuJBZC7mcJp7Cgr9cUhATQWDbOPaE7ukZBTV2YqyzH+UI2AK+J1S47cE79k1RX8t0hcTz/O0hlK8DGXKnvYv88qKQcI7z4iaajqHfRVZKBNyOODabs+It+ZfM3dWTeFcPgDbGtIEnpt/EDtuuA/zMvtkaKdHdswPnVZQ+xdwbYr3ldGvfT8HlEYEgkgKaThxTFobVlwzu2ZkXCjicbP3xdr15Iq48ObgzPpqYuZ3IEoyggZDKClquk0u0orMck4GTF/XyE8yGzc4=";

#[test]
fn v_d_msg_signature() {
    let token = ServerToken::new("spamtest");
    let expected = "003fee52ecc56afb46c00b5c7721be87860ce785";
    assert_eq!(
        msg_signature(&token, "1410349438", "298025754", V_D_ENCRYPT),
        expected
    );
    assert!(verify_msg_signature(&token, "1410349438", "298025754", V_D_ENCRYPT, expected).is_ok());
}

#[test]
fn v_d_decrypt_text_message() {
    let crypto = crypto(V_C_KEY, V_C_APPID);
    let (plain, appid) = crypto.decrypt_unchecked(V_D_ENCRYPT).unwrap();
    assert_eq!(appid, V_C_APPID);
    assert_eq!(crypto.decrypt(V_D_ENCRYPT).unwrap(), plain);
    let msg = Message::parse(&plain).unwrap();
    assert_eq!(msg.from.as_str(), "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
    assert_eq!(msg.create_time, 1410349438);
    match msg.body {
        MessageBody::Text {
            content, msg_id, ..
        } => {
            assert_eq!(content, "abcdteT");
            assert_eq!(msg_id, MsgId(6057404712141979648));
        }
        other => panic!("expected a text message, got {other:?}"),
    }
    assert_eq!(pad_len(V_D_ENCRYPT, plain.len(), V_C_APPID), 2);
}

// ---------------------------------------------------------------------------------------------
// V-E: official doc end-to-end example, all-zero key, pad 22.

const V_E_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const V_E_APPID: &str = "wx134c8103faa5a59e";
const V_E_BODY: &[u8] = include_bytes!("../fixtures/v-e-safe-push.xml");
const V_E_PLAINTEXT: &str = "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>\n<CreateTime>1715943329</CreateTime>\n<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[debug_demo]]></Event>\n<debug_str><![CDATA[hello world]]></debug_str>\n</xml>";
const V_E_REPLY: &str = "<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>";
const V_E_REPLY_ENCRYPT: &str = "hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7";

#[test]
fn v_e_plain_signature_of_the_push_query() {
    let token = ServerToken::new("AAAAA");
    let expected = "cc0c594499c1634947d5b502f158ee518947db27";
    assert_eq!(signature(&token, "1715943329", "1590219412"), expected);
    assert!(verify_signature(&token, "1715943329", "1590219412", expected).is_ok());
}

#[test]
fn v_e_msg_signature_of_the_push() {
    let token = ServerToken::new("AAAAA");
    let envelope = wechat_crypto::EncryptedEnvelope::parse(V_E_BODY).unwrap();
    assert_eq!(envelope.to_user_name.as_deref(), Some("gh_97417a04a28d"));
    assert_eq!(
        msg_signature(&token, "1715943329", "1590219412", &envelope.encrypt),
        "6c12a4205838198b8fa631b3220723bb07f1015c"
    );
}

#[test]
fn v_e_decrypt_292_byte_message_with_pad_22() {
    let crypto = crypto(V_E_KEY, V_E_APPID);
    let token = ServerToken::new("AAAAA");
    let plain = crypto
        .decrypt_push(
            &token,
            "1715943329",
            "1590219412",
            "6c12a4205838198b8fa631b3220723bb07f1015c",
            V_E_BODY,
        )
        .unwrap();
    assert_eq!(plain.len(), 292);
    assert_eq!(String::from_utf8(plain).unwrap(), V_E_PLAINTEXT);
    let encrypt = wechat_crypto::EncryptedEnvelope::parse(V_E_BODY)
        .unwrap()
        .encrypt;
    // TmpMsg 352 bytes, FullStr 330 bytes: a pad of 22, beyond what 16-byte unpadders accept.
    assert_eq!(STANDARD.decode(&encrypt).unwrap().len(), 352);
    assert_eq!(pad_len(&encrypt, 292, V_E_APPID), 22);
}

#[test]
fn v_e_reply_encrypt_with_fixed_random() {
    // The doc prints the random as `999951349e8ee746`: it is the 16 ASCII characters, as the
    // expected ciphertext proves.
    let crypto = crypto(V_E_KEY, V_E_APPID);
    assert_eq!(V_E_REPLY.len(), 52);
    let encrypt = crypto.encrypt_with_random(*b"999951349e8ee746", V_E_REPLY.as_bytes());
    assert_eq!(encrypt, V_E_REPLY_ENCRYPT);
    assert_eq!(STANDARD.decode(&encrypt).unwrap().len(), 96);
    assert_eq!(pad_len(&encrypt, 52, V_E_APPID), 6);
}

#[test]
fn v_e_reply_msg_signature_and_envelope() {
    let crypto = crypto(V_E_KEY, V_E_APPID);
    let token = ServerToken::new("AAAAA");
    let signature = msg_signature(&token, "1713424427", "415670741", V_E_REPLY_ENCRYPT);
    assert_eq!(signature, "03e0812039325c2712ef5f0f980fd14c70d6e307");
    let body = render_reply_envelope(V_E_REPLY_ENCRYPT, &signature, 1713424427, "415670741");
    assert_eq!(
        body,
        format!(
            "<xml><Encrypt><![CDATA[{V_E_REPLY_ENCRYPT}]]></Encrypt>\
             <MsgSignature><![CDATA[03e0812039325c2712ef5f0f980fd14c70d6e307]]></MsgSignature>\
             <TimeStamp>1713424427</TimeStamp><Nonce><![CDATA[415670741]]></Nonce></xml>"
        )
    );
    let parsed = ReplyEnvelope::parse(body.as_bytes()).unwrap();
    assert_eq!(parsed.encrypt, V_E_REPLY_ENCRYPT);
    assert_eq!(
        crypto.decrypt_reply(&token, body.as_bytes()).unwrap(),
        V_E_REPLY.as_bytes()
    );
}

// ---------------------------------------------------------------------------------------------
// V-W: wechatpy WeCom tests (same algorithm; receiveid = corp id).

const V_W_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
const V_W_RECEIVEID: &str = "wx49f0ab532d5d035a";
const V_W_ECHO: &str =
    "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==";
const V_W_B_ENCRYPT: &str = "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=";

#[test]
fn v_w_a_verify_url_echostr() {
    let token = ServerToken::new("123456");
    let signature = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96";
    assert!(verify_msg_signature(&token, "1411443780", "437374425", V_W_ECHO, signature).is_ok());
    let crypto = crypto(V_W_KEY, V_W_RECEIVEID);
    assert_eq!(crypto.decrypt(V_W_ECHO).unwrap(), b"5927782489442352469");
}

#[test]
fn v_w_a_wrong_nonce_fails() {
    let token = ServerToken::new("123456");
    let err = verify_msg_signature(
        &token,
        "1411443780",
        "437374424",
        V_W_ECHO,
        "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96",
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::InvalidSignature));
}

#[test]
fn v_w_b_decrypt_message() {
    let token = ServerToken::new("123456");
    assert!(
        verify_msg_signature(
            &token,
            "1411525903",
            "461056294",
            V_W_B_ENCRYPT,
            "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
        )
        .is_ok()
    );
    let crypto = crypto(V_W_KEY, V_W_RECEIVEID);
    let plain = crypto.decrypt(V_W_B_ENCRYPT).unwrap();
    // A WeCom message: parse the fields with the generic reader.
    let root = wechat_types::xml::Element::parse(&plain).unwrap();
    assert_eq!(root.child_text("Content"), Some("test"));
    assert_eq!(root.child_text("FromUserName"), Some("messense"));
    assert_eq!(root.child_text("MsgId"), Some("4363689963896700987"));
    assert_eq!(root.child_text("AgentID"), Some("1"));
    assert_eq!(pad_len(V_W_B_ENCRYPT, plain.len(), V_W_RECEIVEID), 1);
}

#[test]
fn v_w_c_encrypt_with_fixed_random() {
    let msg = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
    let expected = "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3";
    let crypto = crypto(V_W_KEY, V_W_RECEIVEID);
    let encrypt = crypto.encrypt_with_random(*b"1234567890123456", msg.as_bytes());
    assert_eq!(encrypt, expected);
    assert_eq!(
        msg_signature(
            &ServerToken::new("123456"),
            "1411525903",
            "461056294",
            &encrypt
        ),
        "407518b7649e86ef23978113f92d27afa9296533"
    );
}

// ---------------------------------------------------------------------------------------------
// V-J: JS-SDK signature.

fn v_j_ticket() -> JsapiTicket {
    JsapiTicket::new(
        "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
    )
}

#[test]
fn v_j_current_doc_url_with_query() {
    assert_eq!(
        jssdk_signature(
            &v_j_ticket(),
            "Wm3WZYTPz0wzccnW",
            1414587457,
            "http://mp.weixin.qq.com?params=value"
        ),
        "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
    );
}

#[test]
fn v_j_older_doc_bare_url() {
    assert_eq!(
        jssdk_signature(
            &v_j_ticket(),
            "Wm3WZYTPz0wzccnW",
            1414587457,
            "http://mp.weixin.qq.com"
        ),
        "f4d90daf4b3bca3078ab155816175ba34c443a7b"
    );
}

#[test]
fn v_j_fragment_is_dropped() {
    assert_eq!(
        jssdk_signature(
            &v_j_ticket(),
            "Wm3WZYTPz0wzccnW",
            1414587457,
            "http://mp.weixin.qq.com?params=value#frag"
        ),
        "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
    );
    assert_eq!(
        jssdk_signature(
            &v_j_ticket(),
            "Wm3WZYTPz0wzccnW",
            1414587457,
            "http://mp.weixin.qq.com#/route?x=1#again"
        ),
        "f4d90daf4b3bca3078ab155816175ba34c443a7b"
    );
}
