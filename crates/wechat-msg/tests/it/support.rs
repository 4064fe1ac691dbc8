//! Shared helpers: signed pushes in each mode, a loopback server, a raw HTTP/1.1 client, and
//! handlers that record what they saw.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use wechat_client::ManualClock;
use wechat_crypto::MessageCrypto;
use wechat_msg::{
    CallbackConfig, CustomServiceSender, Handler, Mode, SendError, Server, async_trait,
};
use wechat_types::api::CustomMessage;
use wechat_types::xml::{Message, Reply};
use wechat_types::{AppId, EncodingAesKey, ServerToken};

/// The test account.
pub(crate) const TOKEN: &str = "T0ken-for-tests";
pub(crate) const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
pub(crate) const APPID: &str = "wx0123456789abcdef";
/// The test clock's time.
pub(crate) const NOW: i64 = 1_700_000_000;

pub(crate) fn token() -> ServerToken {
    ServerToken::new(TOKEN)
}

pub(crate) fn crypto() -> MessageCrypto {
    MessageCrypto::new(EncodingAesKey::parse(AES_KEY).unwrap(), AppId::new(APPID))
}

/// A configuration of the test account in `mode`, on a manual clock at [`NOW`].
pub(crate) fn config(mode: Mode) -> CallbackConfig {
    CallbackConfig::new(token())
        .crypto(EncodingAesKey::parse(AES_KEY).unwrap(), AppId::new(APPID))
        .mode(mode)
        .clock(Arc::new(ManualClock::new(NOW)))
}

/// How a push is sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seal {
    Plain,
    Compat,
    Safe,
}

/// A request as WeChat sends it.
#[derive(Debug, Clone)]
pub(crate) struct Push {
    pub(crate) query: String,
    pub(crate) body: Vec<u8>,
}

/// Seals `xml` for the test account the way WeChat does, at [`NOW`] with `nonce`.
pub(crate) fn push(seal: Seal, xml: &str, nonce: &str) -> Push {
    push_with(&token(), &crypto(), seal, xml, &NOW.to_string(), nonce)
}

pub(crate) fn push_with(
    token: &ServerToken,
    crypto: &MessageCrypto,
    seal: Seal,
    xml: &str,
    timestamp: &str,
    nonce: &str,
) -> Push {
    let signature = wechat_crypto::signature(token, timestamp, nonce);
    let base = format!("signature={signature}&timestamp={timestamp}&nonce={nonce}&openid=oUser");
    match seal {
        Seal::Plain => Push {
            query: base,
            body: xml.as_bytes().to_vec(),
        },
        Seal::Safe | Seal::Compat => {
            let sealed = crypto.encrypt_push(token, "gh_test", xml, timestamp, nonce);
            let body = if seal == Seal::Safe {
                sealed.body
            } else {
                // Compat: every plaintext field and the Encrypt element.
                let encrypt = wechat_crypto::EncryptedEnvelope::parse(sealed.body.as_bytes())
                    .unwrap()
                    .encrypt;
                let cut = xml.rfind("</xml>").unwrap();
                format!(
                    "{}<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>",
                    &xml[..cut]
                )
            };
            Push {
                query: format!(
                    "{base}&encrypt_type=aes&msg_signature={}",
                    sealed.msg_signature
                ),
                body: body.into_bytes(),
            }
        }
    }
}

/// A plaintext text message.
pub(crate) fn text_xml(content: &str, msg_id: u64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>\
         <CreateTime>{NOW}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
}

/// Reads an answer as WeChat does: decrypts it when it is an envelope, and returns the plaintext.
pub(crate) fn open_answer(body: &[u8]) -> String {
    open_answer_with(&token(), &crypto(), body)
}

pub(crate) fn open_answer_with(token: &ServerToken, crypto: &MessageCrypto, body: &[u8]) -> String {
    if body.starts_with(b"<xml><Encrypt>") {
        String::from_utf8(crypto.decrypt_reply(token, body).expect("reply decrypts")).unwrap()
    } else {
        String::from_utf8(body.to_vec()).unwrap()
    }
}

/// A handler that records each message and answers with what `answer` says.
pub(crate) struct Recorder<F> {
    pub(crate) seen: Arc<Mutex<Vec<Message>>>,
    answer: F,
}

impl<F> Recorder<F>
where
    F: Fn(&Message) -> Option<Reply> + Send + Sync + 'static,
{
    pub(crate) fn new(answer: F) -> (Self, Arc<Mutex<Vec<Message>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        (
            Self {
                seen: Arc::clone(&seen),
                answer,
            },
            seen,
        )
    }
}

#[async_trait]
impl<F> Handler for Recorder<F>
where
    F: Fn(&Message) -> Option<Reply> + Send + Sync + 'static,
{
    async fn handle(&self, msg: &Message) -> Option<Reply> {
        self.seen.lock().unwrap().push(msg.clone());
        (self.answer)(msg)
    }
}

/// A custom-service sender that hands every message to a channel.
#[derive(Debug)]
pub(crate) struct ChannelSender(pub mpsc::UnboundedSender<CustomMessage>);

#[async_trait]
impl CustomServiceSender for ChannelSender {
    async fn send_custom(&self, msg: &CustomMessage) -> Result<(), SendError> {
        self.0.send(msg.clone()).map_err(|e| e.to_string().into())
    }
}

/// A callback server on a loopback port, stopped on drop.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub(crate) async fn start(server: Server) -> Running {
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
    }
}

/// A raw HTTP/1.1 answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Sends one request over a fresh connection and reads the whole answer (10 s at most, so a
/// broken server fails the test instead of hanging it).
pub(crate) async fn send(addr: SocketAddr, method: &str, target: &str, body: &[u8]) -> Answer {
    let mut raw = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    send_raw(addr, &raw).await
}

pub(crate) async fn send_raw(addr: SocketAddr, raw: &[u8]) -> Answer {
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(raw).await.unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        parse_answer(&out)
    })
    .await
    .expect("the server answered within 10 s")
}

pub(crate) fn parse_answer(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Answer { status, head, body }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap(), 16).unwrap();
        raw = &raw[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// POSTs a push to `path` on the server.
pub(crate) async fn post(addr: SocketAddr, path: &str, push: &Push) -> Answer {
    send(addr, "POST", &format!("{path}?{}", push.query), &push.body).await
}
