//! The whole safe-mode callback path beside the raw crypto of the same bytes.
//!
//! `full`: one encrypted text push through `wechat_msg::Callback::process`: check `signature` and
//! the timestamp, parse the envelope, check `msg_signature`, decrypt and check the AppID, parse the
//! message, dedupe, route to an echo handler, render the reply, encrypt it and sign it.
//!
//! Every push has its own MsgId, so the dedupe store never answers in the handler's place (the
//! bench checks that the handler ran once per iteration). The pushes cycle through a pool, and
//! the store's TTL is short enough that a key is gone before its push comes round again: the
//! store keeps sweeping expired keys as in production, rather than piling up millions.
//!
//! `calls`: the same work as a straight sequence of wechat-crypto and wechat-types calls, with
//! no async, routing or dedupe: what wechat-msg adds is `full` − `calls`.
//!
//! `raw`: only the cryptography that path cannot avoid, on the same bytes: SHA-1 of the
//! `signature` and of the two `msg_signature`s, AES-256-CBC decryption of the push and encryption
//! of the reply. `raw+base64` adds the base64 the protocol mandates (with base64-simd, the fastest
//! codec at hand, which wechat-crypto also uses). The figure to quote is the
//! ratio full / raw, for a 100-byte and a 2 KB text.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use base64_simd::STANDARD;
use criterion::{BenchmarkId, Criterion, Throughput};
use http::Method;
use sha1::{Digest, Sha1};
use wechat_crypto::{EncryptedEnvelope, MessageCrypto};
use wechat_msg::{Callback, CallbackConfig, Mode, Router};
use wechat_types::xml::{Message, MessageBody, Reply, ReplyMessage};
use wechat_types::{AppId, EncodingAesKey, ServerToken};

const KEY_TEXT: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wx2c2769f8efd9abc2";
const TOKEN: &str = "spamtest";
const NONCE: &str = "1320562132";
const SIZES: [(&str, usize); 2] = [("100B", 100), ("2KB", 2048)];
/// Distinct pushes per size; with [`DEDUPE_TTL`], keys expire before a push comes round (a
/// round of 100-byte pushes takes about 4 ms). About 1 MB, the size of this machine's per-core
/// L2: a server reads a body the kernel has just written, not one evicted long ago, and every
/// variant below (`raw` included) cycles through a pool of the same size.
const POOL: usize = 1024;
const DEDUPE_TTL: Duration = Duration::from_millis(1);

/// The text a user sends: `len` bytes of mixed ASCII and Chinese.
fn text(len: usize) -> String {
    let mut out = String::with_capacity(len + 3);
    for c in "hello 微信 callback ".chars().cycle() {
        if out.len() + c.len_utf8() > len {
            break;
        }
        out.push(c);
    }
    out
}

fn push_xml(content: &str, msg_id: u64, now: i64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n\
         <FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n\
         <CreateTime>{now}</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n\
         <Content><![CDATA[{content}]]></Content>\n<MsgId>{msg_id}</MsgId>\n</xml>"
    )
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A safe-mode push as WeChat sends it: query string and body.
struct Push {
    query: String,
    body: String,
}

struct Fixture {
    handler_runs: Arc<AtomicU64>,
    crypto: MessageCrypto,
    token: ServerToken,
    callback: Callback,
    runtime: tokio::runtime::Runtime,
    cipher: Aes256,
    iv: [u8; 16],
}

impl Fixture {
    fn new() -> Self {
        let key = EncodingAesKey::parse(KEY_TEXT).expect("valid key");
        let aes_key = *key.aes_key();
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&aes_key[..16]);
        let token = ServerToken::new(TOKEN);
        let handler_runs = Arc::new(AtomicU64::new(0));
        let runs = Arc::clone(&handler_runs);
        let router = Router::new().msg_type("text", move |msg: Message| {
            runs.fetch_add(1, Ordering::Relaxed);
            async move {
                match msg.body {
                    MessageBody::Text { content, .. } => Some(Reply::text(content)),
                    _ => None,
                }
            }
        });
        let config = CallbackConfig::new(token.clone())
            .crypto(key.clone(), AppId::new(APPID))
            .mode(Mode::Safe)
            .dedupe_ttl(DEDUPE_TTL);
        Self {
            handler_runs,
            crypto: MessageCrypto::new(key, AppId::new(APPID)),
            token,
            callback: Callback::new(config, router).expect("valid config"),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("runtime"),
            cipher: Aes256::new(&aes_key.into()),
            iv,
        }
    }

    fn push(&self, content: &str, msg_id: u64) -> Push {
        let now = now();
        let timestamp = now.to_string();
        let sealed = self.crypto.encrypt_push(
            &self.token,
            "gh_10f6c3c3ac5a",
            &push_xml(content, msg_id, now),
            &timestamp,
            NONCE,
        );
        let signature = wechat_crypto::signature(&self.token, &timestamp, NONCE);
        Push {
            query: format!(
                "signature={signature}&timestamp={timestamp}&nonce={NONCE}&openid=oyORnuP8q7ou2gfYjqLzSIWZf0rs\
                 &encrypt_type=aes&msg_signature={}",
                sealed.msg_signature
            ),
            body: sealed.body,
        }
    }

    fn raw_encrypt(&self, buf: &mut [u8]) {
        let mut cbc = cbc::Encryptor::<Aes256>::inner_iv_init(self.cipher.clone(), &self.iv.into());
        for block in buf.chunks_exact_mut(16) {
            cbc.encrypt_block_mut(block.into());
        }
    }

    fn raw_decrypt(&self, buf: &mut [u8]) {
        let cbc = cbc::Decryptor::<Aes256>::inner_iv_init(self.cipher.clone(), &self.iv.into());
        let _ = black_box(cbc.decrypt_padded_mut::<NoPadding>(buf));
    }
}

fn raw_sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut sha = Sha1::new();
    for part in parts {
        sha.update(part);
    }
    sha.finalize().into()
}

/// The reply plaintext exactly as the callback encrypts it: random(16) ‖ len ‖ xml ‖ appid,
/// padded to 32 bytes.
fn reply_plaintext(content: &str) -> Vec<u8> {
    let reply = ReplyMessage {
        to: "oyORnuP8q7ou2gfYjqLzSIWZf0rs".into(),
        from: "gh_10f6c3c3ac5a".into(),
        create_time: now(),
        reply: Reply::text(content),
    }
    .to_xml();
    let mut buf = vec![b'a'; 16];
    buf.extend_from_slice(&(reply.len() as u32).to_be_bytes());
    buf.extend_from_slice(reply.as_bytes());
    buf.extend_from_slice(APPID.as_bytes());
    let pad = 32 - buf.len() % 32;
    buf.resize(buf.len() + pad, pad as u8);
    buf
}

fn callback(c: &mut Criterion) {
    let fx = Fixture::new();
    let mut group = c.benchmark_group("callback_safe");
    for (name, len) in SIZES {
        let content = text(len);
        group.throughput(Throughput::Bytes(len as u64));

        let pool: Vec<Push> = (0..POOL)
            .map(|i| fx.push(&content, (len * POOL + i) as u64))
            .collect();
        let iterations = AtomicU64::new(0);
        let runs_before = fx.handler_runs.load(Ordering::Relaxed);
        group.bench_function(BenchmarkId::new("full", name), |b| {
            // One `block_on` per batch, not per push: a server calls the callback from inside
            // its runtime, so entering the runtime is no part of the cost being measured.
            b.iter_custom(|pushes| {
                fx.runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..pushes {
                        let n = iterations.fetch_add(1, Ordering::Relaxed);
                        let push = &pool[n as usize % POOL];
                        let outcome = fx
                            .callback
                            .process(
                                &Method::POST,
                                black_box(Some(&push.query)),
                                black_box(push.body.as_bytes()),
                            )
                            .await
                            .expect("accepted");
                        black_box(outcome);
                    }
                    start.elapsed()
                })
            })
        });
        assert_eq!(
            fx.handler_runs.load(Ordering::Relaxed) - runs_before,
            iterations.load(Ordering::Relaxed),
            "the handler ran once per push: dedupe never answered in its place"
        );
        drop(pool);

        // The library calls alone, in sequence.
        let pool: Vec<(Push, String)> = (0..POOL)
            .map(|i| {
                let push = fx.push(&content, i as u64);
                let msg_signature = push
                    .query
                    .rsplit_once("msg_signature=")
                    .map(|(_, sig)| sig.to_owned())
                    .expect("signed");
                (push, msg_signature)
            })
            .collect();
        let counter = AtomicU64::new(0);
        group.bench_function(BenchmarkId::new("calls", name), |b| {
            b.iter(|| {
                let n = counter.fetch_add(1, Ordering::Relaxed) as usize;
                let (push, msg_signature) = &pool[n % POOL];
                let query = black_box(&push.query);
                let timestamp = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("timestamp="))
                    .expect("timestamp");
                let signature = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("signature="))
                    .expect("signature");
                wechat_crypto::verify_signature(&fx.token, timestamp, NONCE, signature)
                    .expect("signature");
                let plain = fx
                    .crypto
                    .decrypt_push(
                        &fx.token,
                        timestamp,
                        NONCE,
                        msg_signature,
                        push.body.as_bytes(),
                    )
                    .expect("decrypts");
                let msg = Message::parse(&plain).expect("message");
                let MessageBody::Text { content, .. } = msg.body else {
                    unreachable!("a text push")
                };
                let reply = ReplyMessage {
                    to: msg.from,
                    from: msg.to,
                    create_time: 1_700_000_000,
                    reply: Reply::text(content),
                };
                black_box(
                    fx.crypto
                        .encrypt_reply(&fx.token, &reply.to_xml(), 1_700_000_000, NONCE),
                )
            })
        });
        drop(pool);

        // The same bytes, raw: what no implementation can skip. Over a pool of distinct pushes
        // too, so every variant reads as much memory as `full` does.
        let pool: Vec<(String, Vec<u8>)> = (0..POOL)
            .map(|i| {
                let push = fx.push(&content, i as u64);
                let encrypt = EncryptedEnvelope::parse(push.body.as_bytes())
                    .expect("envelope")
                    .encrypt;
                let ciphertext = STANDARD.decode_to_vec(&encrypt).expect("base64");
                (encrypt, ciphertext)
            })
            .collect();
        let counter = AtomicU64::new(0);
        let next = || &pool[counter.fetch_add(1, Ordering::Relaxed) as usize % POOL];
        let reply_pt = reply_plaintext(&content);
        let reply_b64_len = reply_pt.len().div_ceil(3) * 4;
        let timestamp = now().to_string();
        let sign_all = |encrypt: &[u8], reply_encrypt: &[u8]| {
            (
                raw_sha1(&[TOKEN.as_bytes(), timestamp.as_bytes(), NONCE.as_bytes()]),
                raw_sha1(&[
                    TOKEN.as_bytes(),
                    timestamp.as_bytes(),
                    NONCE.as_bytes(),
                    encrypt,
                ]),
                raw_sha1(&[
                    TOKEN.as_bytes(),
                    timestamp.as_bytes(),
                    NONCE.as_bytes(),
                    reply_encrypt,
                ]),
            )
        };
        let reply_b64_stand_in = vec![b'A'; reply_b64_len];
        group.bench_function(BenchmarkId::new("raw", name), |b| {
            b.iter(|| {
                let (encrypt, request_ct) = next();
                let mut request = black_box(request_ct).clone();
                fx.raw_decrypt(&mut request);
                let mut reply = black_box(&reply_pt).clone();
                fx.raw_encrypt(&mut reply);
                // The SHA-1s run over the base64 text, whose length is what counts here.
                let digests = sign_all(encrypt.as_bytes(), &reply_b64_stand_in);
                black_box((request, reply, digests))
            })
        });
        group.bench_function(BenchmarkId::new("raw+base64", name), |b| {
            b.iter(|| {
                let (encrypt, _) = next();
                let mut request = STANDARD.decode_to_vec(black_box(encrypt)).expect("base64");
                fx.raw_decrypt(&mut request);
                let mut reply = black_box(&reply_pt).clone();
                fx.raw_encrypt(&mut reply);
                let reply_b64 = STANDARD.encode_to_string(&reply);
                let digests = sign_all(encrypt.as_bytes(), reply_b64.as_bytes());
                black_box((request, reply_b64, digests))
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, written out so no undocumented
    // public function is generated.
    let mut c = config().configure_from_args();
    callback(&mut c);
    c.final_summary();
}
