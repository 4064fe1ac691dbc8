//! `cargo xtask bench load`: closed-loop load over loopback against
//! - the echo bot callback server (wechat-msg) in safe mode and in plaintext mode,
//! - a bare hyper server that answers a fixed body (the ceiling), in the same run,
//! - wechat-mock on `cgi-bin/token` and on the OAuth code exchange.
//!
//! Prints requests/s and p50/p99/p999 latency for each, the ratio of the callback server to the
//! bare server, and the resident set before and after the callback runs; writes the table to
//! `target/bench/latest.md`. `LOAD_SECONDS` (default 5) and `LOAD_CONNECTIONS` (default 4) tune
//! the run.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use wechat_benches::load::{self, LoadConfig, LoadReport, PreparedRequest};
use wechat_crypto::MessageCrypto;
use wechat_mock::MockServer;
use wechat_msg::{Callback, CallbackConfig, Mode, Router, Server};
use wechat_types::api::Scope;
use wechat_types::xml::{Message, MessageBody, Reply};
use wechat_types::{AppId, EncodingAesKey, ServerToken};

const TOKEN: &str = "loadtoken";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wx4d0c0ffee5eed001";
/// Distinct pushes per callback run: more than a run sends, so no answer comes from the dedupe
/// cache and every request pays for verify, decrypt, parse, route, render, encrypt and sign.
const DISTINCT_PUSHES: usize = 200_000;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> std::io::Result<()> {
    let config = LoadConfig {
        connections: env_number("LOAD_CONNECTIONS", 4) as usize,
        duration: Duration::from_secs(env_number("LOAD_SECONDS", 5)),
        warmup: Duration::from_secs(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let table = runtime.block_on(run_all(config))?;
    print!("{table}");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench");
    std::fs::create_dir_all(dir)?;
    std::fs::write(format!("{dir}/latest.md"), &table)?;
    println!("\nwritten to target/bench/latest.md");
    Ok(())
}

async fn run_all(config: LoadConfig) -> std::io::Result<String> {
    let ok = |status: http::StatusCode, body: &[u8]| status.is_success() && !body.is_empty();
    let mut reports = Vec::new();

    let bare = wechat_benches::bare::start(b"success").await?;
    let bare_requests = Arc::new(vec![PreparedRequest::post("/wechat", "text/xml", "<xml/>")]);
    reports.push(load::run("bare hyper (ceiling)", bare, bare_requests, config, ok).await);

    for (name, encrypted) in [
        ("callback, safe mode", true),
        ("callback, plaintext", false),
    ] {
        let addr = start_echo_bot(if encrypted {
            Mode::Safe
        } else {
            Mode::Plaintext
        })
        .await?;
        let requests = Arc::new(prepare_pushes(encrypted));
        reports.push(load::run(name, addr, requests, config, ok).await);
    }

    let mock = MockServer::builder()
        .bind("127.0.0.1:0".parse().map_err(std::io::Error::other)?)
        .start()
        .await;
    let app = mock.app();
    let token_ok = |status: http::StatusCode, body: &[u8]| {
        status.is_success() && body.starts_with(b"{\"access_token\"")
    };
    let token_path = format!(
        "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
        app.appid,
        app.secret.expose_secret()
    );
    let token_requests = Arc::new(vec![PreparedRequest::get(token_path)]);
    reports.push(
        load::run(
            "mock cgi-bin/token",
            mock.address(),
            token_requests,
            config,
            token_ok,
        )
        .await,
    );

    let user = mock.users()[0].openid.clone();
    let exchanges: Vec<PreparedRequest> = (0..100_000)
        .filter_map(|_| mock.oauth_code(&user, Scope::UserInfo))
        .map(|code| {
            PreparedRequest::get(format!(
                "/sns/oauth2/access_token?appid={}&secret={}&code={}&grant_type=authorization_code",
                app.appid,
                app.secret.expose_secret(),
                code.expose_secret()
            ))
        })
        .collect();
    let minted = exchanges.len();
    // Codes are single use and the mock keeps at most 100 000: keep this run short enough
    // that none is sent twice.
    let exchange_config = LoadConfig {
        duration: config.duration.min(Duration::from_secs(2)),
        warmup: Duration::from_millis(500),
        ..config
    };
    let exchange_report = load::run(
        "mock sns code exchange",
        mock.address(),
        Arc::new(exchanges),
        exchange_config,
        token_ok,
    )
    .await;
    reports.push(exchange_report);

    Ok(render(&reports, config, minted))
}

/// The echo bot of `crates/wechat-msg/examples/echo_bot.rs`, reduced to what the load sends.
async fn start_echo_bot(mode: Mode) -> std::io::Result<std::net::SocketAddr> {
    let router = Router::new()
        .msg_type("text", |msg: Message| async move {
            let MessageBody::Text { content, .. } = msg.body else {
                return None;
            };
            Some(Reply::text(content))
        })
        .fallback(|msg: Message| async move {
            Some(Reply::text(format!("Got {}", msg.body.msg_type())))
        });
    let key = EncodingAesKey::parse(AES_KEY).map_err(std::io::Error::other)?;
    let config = CallbackConfig::new(ServerToken::new(TOKEN))
        .crypto(key, AppId::new(APPID))
        .mode(mode);
    let callback = Callback::new(config, router).map_err(std::io::Error::other)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = Server::from_listener(listener, callback).path("/wechat");
    tokio::spawn(server.run());
    Ok(addr)
}

/// Distinct pushes of about 100 bytes of message each, signed (and sealed) as WeChat would.
fn prepare_pushes(encrypted: bool) -> Vec<PreparedRequest> {
    let token = ServerToken::new(TOKEN);
    let key = EncodingAesKey::parse(AES_KEY).expect("the bench key is valid");
    let crypto = MessageCrypto::new(key, AppId::new(APPID));
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
        .to_string();
    (0..DISTINCT_PUSHES)
        .map(|i| {
            let nonce = format!("{}", 100_000_000 + i);
            let xml = format!(
                "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[oBenchUser{:06}]]></FromUserName>\
                 <CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
                 <Content><![CDATA[hello {i}]]></Content><MsgId>{}</MsgId></xml>",
                i % 1000,
                10_000_000_000u64 + i as u64
            );
            let signature = wechat_crypto::signature(&token, &timestamp, &nonce);
            if encrypted {
                let sealed = crypto.encrypt_push(&token, "gh_bench", &xml, &timestamp, &nonce);
                PreparedRequest::post(
                    format!(
                        "/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}\
                         &openid=oBenchUser&encrypt_type=aes&msg_signature={}",
                        sealed.msg_signature
                    ),
                    "text/xml",
                    sealed.body,
                )
            } else {
                PreparedRequest::post(
                    format!("/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}&openid=oBenchUser"),
                    "text/xml",
                    xml,
                )
            }
        })
        .collect()
}

fn render(reports: &[LoadReport], config: LoadConfig, minted: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Loopback load: {} connections, {} s measured after {} s warm-up, {} cores\n",
        config.connections,
        config.duration.as_secs(),
        config.warmup.as_secs(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let _ = writeln!(
        out,
        "| target | req/s | p50 | p99 | p999 | errors | RSS start → peak → end (MiB) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|");
    for r in reports {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.1?} | {:.1?} | {:.1?} | {} | {:.1} → {:.1} → {:.1} |",
            r.name,
            r.rps,
            r.p50,
            r.p99,
            r.p999,
            r.errors,
            r.rss_start_kib as f64 / 1024.0,
            r.rss_peak_kib as f64 / 1024.0,
            r.rss_end_kib as f64 / 1024.0
        );
    }
    let bare = reports.iter().find(|r| r.name.starts_with("bare"));
    let _ = writeln!(out);
    for r in reports.iter().filter(|r| r.name.starts_with("callback")) {
        if let Some(bare) = bare {
            let _ = writeln!(
                out,
                "- {}: {:.0}% of the bare server's requests/s (target: at least 80%)",
                r.name,
                100.0 * r.rps / bare.rps
            );
        }
    }
    let _ = writeln!(
        out,
        "- RSS is the whole process (servers and generator); it includes the {DISTINCT_PUSHES} \
         prepared pushes of each callback run, made before measuring starts"
    );
    let _ = writeln!(
        out,
        "- code exchange: {minted} single-use codes minted beforehand; the run is at most 2 s so \
         none is sent twice (a reused code would count as an error)"
    );
    out
}
