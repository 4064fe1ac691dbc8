//! An echo bot: echoes text, and answers every other message and event with a text naming what
//! it got. Works in plaintext, compat and safe mode.
//!
//! ```text
//! cargo run -p wechat-msg --example echo_bot -- --addr 127.0.0.1:8080 --path /wechat \
//!     --token T --aes-key K --appid A [--mode auto|plaintext|compat|safe]
//! ```
//!
//! Every flag has a default; the credentials default to wechat-mock's demo app, so the bot
//! answers the fake's pushes as it is. Set `RUST_LOG=debug` to see refused requests.

use std::process::ExitCode;

use wechat_msg::{Callback, CallbackConfig, Mode, Router, Server};
use wechat_types::xml::{Event, Message, MessageBody, Reply};
use wechat_types::{AppId, EncodingAesKey, ServerToken};

struct Options {
    addr: String,
    path: String,
    token: String,
    aes_key: String,
    appid: String,
    mode: Mode,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            path: "/wechat".into(),
            token: "wechatmock".into(),
            aes_key: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG".into(),
            appid: "wx4d0c0ffee5eed001".into(),
            mode: Mode::Auto,
        }
    }
}

const USAGE: &str = "usage: echo_bot [--addr 127.0.0.1:8080] [--path /wechat] [--token T] \
                     [--aes-key K] [--appid A] [--mode auto|plaintext|compat|safe]";

fn parse_args() -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--addr" => options.addr = value,
            "--path" => options.path = value,
            "--token" => options.token = value,
            "--aes-key" => options.aes_key = value,
            "--appid" => options.appid = value,
            "--mode" => {
                options.mode = match value.as_str() {
                    "auto" => Mode::Auto,
                    "plaintext" => Mode::Plaintext,
                    "compat" => Mode::Compat,
                    "safe" => Mode::Safe,
                    other => return Err(format!("unknown mode {other:?}\n{USAGE}")),
                }
            }
            other => return Err(format!("unknown flag {other:?}\n{USAGE}")),
        }
    }
    Ok(options)
}

/// What the bot says about anything that is not text.
fn describe(msg: &Message) -> String {
    match &msg.body {
        MessageBody::Event(event) => match event.key() {
            Some(key) if !key.is_empty() => format!("Got event {} (key {key})", event.name()),
            _ => format!("Got event {}", event.name()),
        },
        MessageBody::Location { label, .. } => format!("Got a location: {label}"),
        MessageBody::Voice {
            recognition: Some(text),
            ..
        } => format!("Got a voice message: {text}"),
        other => format!("Got a {} message", other.msg_type()),
    }
}

fn router() -> Router {
    Router::new()
        .msg_type("text", |msg: Message| async move {
            match msg.body {
                MessageBody::Text { content, .. } => Some(Reply::text(content)),
                _ => None,
            }
        })
        .event("subscribe", |msg: Message| async move {
            Some(Reply::text(match &msg.body {
                MessageBody::Event(Event::Subscribe {
                    scene: Some(scene), ..
                }) => format!("Welcome! (from QR scene {})", scene.as_str()),
                _ => "Welcome! Send me anything and I will echo it.".to_owned(),
            }))
        })
        // Nobody reads a reply to these.
        .event("unsubscribe", |_msg: Message| async { None })
        .event("TEMPLATESENDJOBFINISH", |_msg: Message| async { None })
        .event("MASSSENDJOBFINISH", |_msg: Message| async { None })
        .fallback(|msg: Message| async move { Some(Reply::text(describe(&msg))) })
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let aes_key = match EncodingAesKey::parse(&options.aes_key) {
        Ok(key) => key,
        Err(err) => {
            eprintln!("--aes-key: {err}");
            return ExitCode::from(2);
        }
    };
    let config = CallbackConfig::new(ServerToken::new(options.token))
        .crypto(aes_key, AppId::new(options.appid))
        .mode(options.mode);
    let callback = match Callback::new(config, router()) {
        Ok(callback) => callback,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    let server = match Server::bind(options.addr.as_str(), callback).await {
        Ok(server) => server.path(options.path.clone()),
        Err(err) => {
            eprintln!("cannot listen on {}: {err}", options.addr);
            return ExitCode::FAILURE;
        }
    };
    match server.local_addr() {
        Ok(addr) => println!(
            "echo bot listening on http://{addr}{} ({:?} mode); Ctrl-C stops it",
            options.path, options.mode
        ),
        Err(err) => eprintln!("listening (address unknown: {err})"),
    }
    let stopped = server
        .run_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    match stopped {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server failed: {err}");
            ExitCode::FAILURE
        }
    }
}
