//! wechat-crypto against the raw primitives it is built on.
//!
//! Each group runs the SDK call (`sdk`) and, beside it, the bare AES-256-CBC and/or SHA-1 work on
//! the same bytes (`raw`), for a 100-byte and a 2 KB message, so the overhead of base64, padding,
//! checks and XML can be quoted as a ratio rather than as machine-dependent nanoseconds.

use std::hint::black_box;
use std::time::Duration;

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use base64_simd::STANDARD;
use criterion::{BenchmarkId, Criterion, Throughput};
use sha1::{Digest, Sha1};
use wechat_crypto::MessageCrypto;
use wechat_types::{AppId, EncodingAesKey, ServerToken};

const KEY_TEXT: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wx2c2769f8efd9abc2";
const TIMESTAMP: &str = "1409735669";
const NONCE: &str = "1320562132";
const SIZES: [(&str, usize); 2] = [("100B", 100), ("2KB", 2048)];

/// A message of `len` bytes that looks like push XML.
fn message(len: usize) -> Vec<u8> {
    let pattern = b"<xml><Content><![CDATA[hello wechat]]></Content></xml>\n";
    pattern.iter().copied().cycle().take(len).collect()
}

struct Fixture {
    crypto: MessageCrypto,
    token: ServerToken,
    cipher: Aes256,
    iv: [u8; 16],
}

impl Fixture {
    fn new() -> Self {
        let key = EncodingAesKey::parse(KEY_TEXT).expect("valid key");
        let aes_key = *key.aes_key();
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&aes_key[..16]);
        Self {
            crypto: MessageCrypto::new(key, AppId::new(APPID)),
            token: ServerToken::new("spamtest"),
            cipher: Aes256::new(&aes_key.into()),
            iv,
        }
    }

    /// The bare CBC encryption of an already padded buffer.
    fn raw_encrypt(&self, buf: &mut [u8]) {
        let mut cbc = cbc::Encryptor::<Aes256>::inner_iv_init(self.cipher.clone(), &self.iv.into());
        for block in buf.chunks_exact_mut(16) {
            cbc.encrypt_block_mut(block.into());
        }
    }

    /// The bare CBC decryption of a whole number of blocks.
    fn raw_decrypt(&self, buf: &mut [u8]) {
        let cbc = cbc::Decryptor::<Aes256>::inner_iv_init(self.cipher.clone(), &self.iv.into());
        let _ = black_box(cbc.decrypt_padded_mut::<NoPadding>(buf));
    }
}

/// SHA-1 of the given parts, concatenated: the raw cost of a signature.
fn raw_sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut sha = Sha1::new();
    for part in parts {
        sha.update(part);
    }
    sha.finalize().into()
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

fn signature(c: &mut Criterion) {
    let fx = Fixture::new();
    let mut group = c.benchmark_group("signature");
    group.bench_function("sdk", |b| {
        b.iter(|| wechat_crypto::signature(&fx.token, black_box(TIMESTAMP), black_box(NONCE)))
    });
    group.bench_function("raw", |b| {
        b.iter(|| {
            raw_sha1(&[
                NONCE.as_bytes(),
                TIMESTAMP.as_bytes(),
                black_box(b"spamtest"),
            ])
        })
    });
    group.finish();
}

fn msg_signature(c: &mut Criterion) {
    let fx = Fixture::new();
    let mut group = c.benchmark_group("msg_signature");
    for (name, len) in SIZES {
        let encrypt = fx.crypto.encrypt_with_random([1; 16], &message(len));
        group.throughput(Throughput::Bytes(encrypt.len() as u64));
        group.bench_with_input(BenchmarkId::new("sdk", name), &encrypt, |b, encrypt| {
            b.iter(|| wechat_crypto::msg_signature(&fx.token, TIMESTAMP, NONCE, black_box(encrypt)))
        });
        group.bench_with_input(BenchmarkId::new("raw", name), &encrypt, |b, encrypt| {
            b.iter(|| {
                raw_sha1(&[
                    NONCE.as_bytes(),
                    TIMESTAMP.as_bytes(),
                    black_box(encrypt.as_bytes()),
                    b"spamtest",
                ])
            })
        });
    }
    group.finish();
}

fn decrypt(c: &mut Criterion) {
    let fx = Fixture::new();
    let mut group = c.benchmark_group("decrypt");
    for (name, len) in SIZES {
        let encrypt = fx.crypto.encrypt_with_random([1; 16], &message(len));
        let ciphertext = STANDARD.decode_to_vec(&encrypt).expect("base64");
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("sdk", name), &encrypt, |b, encrypt| {
            b.iter(|| fx.crypto.decrypt(black_box(encrypt)).expect("decrypts"))
        });
        // Raw: CBC-decrypt the same ciphertext bytes (a copy, as decryption is in place).
        group.bench_with_input(BenchmarkId::new("raw", name), &ciphertext, |b, ct| {
            b.iter(|| {
                let mut buf = black_box(ct).clone();
                fx.raw_decrypt(&mut buf);
                buf
            })
        });
        // Raw plus the base64 decoding the protocol requires, to tell the two overheads apart.
        group.bench_with_input(
            BenchmarkId::new("raw+base64", name),
            &encrypt,
            |b, encrypt| {
                b.iter(|| {
                    let mut buf = STANDARD.decode_to_vec(black_box(encrypt)).expect("base64");
                    fx.raw_decrypt(&mut buf);
                    buf
                })
            },
        );
    }
    group.finish();
}

fn decrypt_push(c: &mut Criterion) {
    let fx = Fixture::new();
    let mut group = c.benchmark_group("decrypt_push");
    for (name, len) in SIZES {
        let msg = message(len);
        let sealed = fx.crypto.encrypt_push(
            &fx.token,
            "gh_1",
            std::str::from_utf8(&msg).unwrap(),
            TIMESTAMP,
            NONCE,
        );
        let encrypt = wechat_crypto::EncryptedEnvelope::parse(sealed.body.as_bytes())
            .expect("envelope")
            .encrypt;
        let ciphertext = STANDARD.decode_to_vec(&encrypt).expect("base64");
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("sdk", name), &sealed, |b, sealed| {
            b.iter(|| {
                fx.crypto
                    .decrypt_push(
                        &fx.token,
                        TIMESTAMP,
                        NONCE,
                        &sealed.msg_signature,
                        black_box(sealed.body.as_bytes()),
                    )
                    .expect("decrypts")
            })
        });
        // Raw: SHA-1 over the signed fields plus CBC decryption of the ciphertext.
        group.bench_with_input(BenchmarkId::new("raw", name), &ciphertext, |b, ct| {
            b.iter(|| {
                let digest = raw_sha1(&[
                    NONCE.as_bytes(),
                    TIMESTAMP.as_bytes(),
                    black_box(encrypt.as_bytes()),
                    b"spamtest",
                ]);
                let mut buf = black_box(ct).clone();
                fx.raw_decrypt(&mut buf);
                (digest, buf)
            })
        });
    }
    group.finish();
}

fn encrypt(c: &mut Criterion) {
    let fx = Fixture::new();
    let mut group = c.benchmark_group("encrypt");
    for (name, len) in SIZES {
        let msg = message(len);
        // The padded plaintext the SDK builds, for the raw cipher to chew on.
        let content = 20 + len + APPID.len();
        let padded = vec![7u8; content + (32 - content % 32)];
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("sdk", name), &msg, |b, msg| {
            b.iter(|| fx.crypto.encrypt_with_random([1; 16], black_box(msg)))
        });
        group.bench_with_input(BenchmarkId::new("raw", name), &padded, |b, padded| {
            b.iter(|| {
                let mut buf = black_box(padded).clone();
                fx.raw_encrypt(&mut buf);
                buf
            })
        });
        group.bench_with_input(
            BenchmarkId::new("raw+base64", name),
            &padded,
            |b, padded| {
                b.iter(|| {
                    let mut buf = black_box(padded).clone();
                    fx.raw_encrypt(&mut buf);
                    STANDARD.encode_to_string(&buf)
                })
            },
        );
    }
    group.finish();
}

fn encrypt_reply(c: &mut Criterion) {
    let fx = Fixture::new();
    let mut group = c.benchmark_group("encrypt_reply");
    for (name, len) in SIZES {
        let msg = String::from_utf8(message(len)).unwrap();
        let content = 20 + len + APPID.len();
        let padded = vec![7u8; content + (32 - content % 32)];
        let encrypt = fx.crypto.encrypt_with_random([1; 16], msg.as_bytes());
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("sdk", name), &msg, |b, msg| {
            b.iter(|| {
                fx.crypto
                    .encrypt_reply(&fx.token, black_box(msg), 1409735669, NONCE)
            })
        });
        // Raw: CBC encryption of the padded plaintext plus SHA-1 over the signed fields.
        group.bench_with_input(BenchmarkId::new("raw", name), &padded, |b, padded| {
            b.iter(|| {
                let mut buf = black_box(padded).clone();
                fx.raw_encrypt(&mut buf);
                let digest = raw_sha1(&[
                    NONCE.as_bytes(),
                    TIMESTAMP.as_bytes(),
                    black_box(encrypt.as_bytes()),
                    b"spamtest",
                ]);
                (digest, buf)
            })
        });
    }
    group.finish();
}

fn render_reply(c: &mut Criterion) {
    let fx = Fixture::new();
    let mut group = c.benchmark_group("render_reply_envelope");
    for (name, len) in SIZES {
        let encrypt = fx.crypto.encrypt_with_random([1; 16], &message(len));
        let signature = wechat_crypto::msg_signature(&fx.token, TIMESTAMP, NONCE, &encrypt);
        group.throughput(Throughput::Bytes(encrypt.len() as u64));
        group.bench_with_input(BenchmarkId::new("sdk", name), &encrypt, |b, encrypt| {
            b.iter(|| {
                wechat_crypto::render_reply_envelope(
                    black_box(encrypt),
                    &signature,
                    1409735669,
                    NONCE,
                )
            })
        });
        // Raw: the same bytes concatenated with no escaping check.
        group.bench_with_input(BenchmarkId::new("raw", name), &encrypt, |b, encrypt| {
            b.iter(|| {
                let mut out = String::with_capacity(encrypt.len() + 200);
                for part in [
                    "<xml><Encrypt><![CDATA[",
                    black_box(encrypt),
                    "]]></Encrypt><MsgSignature><![CDATA[",
                    &signature,
                    "]]></MsgSignature><TimeStamp>1409735669</TimeStamp><Nonce><![CDATA[",
                    NONCE,
                    "]]></Nonce></xml>",
                ] {
                    out.push_str(part);
                }
                out
            })
        });
    }
    group.finish();
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, written out so no undocumented
    // public function is generated.
    let mut c = config().configure_from_args();
    signature(&mut c);
    msg_signature(&mut c);
    decrypt(&mut c);
    decrypt_push(&mut c);
    encrypt(&mut c);
    encrypt_reply(&mut c);
    render_reply(&mut c);
    c.final_summary();
}
