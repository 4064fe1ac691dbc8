//! `wechat-demo`: wechat-mock and the demo account on loopback. Open the console URL it prints,
//! pick a fake user and chat with the account; tap "My profile" for the OAuth flow.
//! Ctrl-C (or SIGTERM) stops both.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use tracing_subscriber::EnvFilter;
use wechat_demo::{Demo, DemoConfig, error_chain};
use wechat_mock::CallbackMode;

/// wechat-mock plus a demo official account built on the wechat-rs SDK, wired together.
#[derive(Parser)]
#[command(name = "wechat-demo", version)]
struct Args {
    /// Where wechat-mock (the fake WeChat and its console) listens.
    #[arg(long = "mock-addr", default_value = "127.0.0.1:8787")]
    mock_addr: SocketAddr,
    /// Where the demo account (its callback URL and web pages) listens.
    #[arg(long, default_value = "127.0.0.1:8788")]
    addr: SocketAddr,
    /// The message encryption mode set on the fake WeChat console.
    #[arg(long, value_enum, default_value_t = Mode::Safe)]
    mode: Mode,
    /// Seconds the slow command takes (over 5 shows the custom-service fallback).
    #[arg(long = "slow-secs", default_value_t = 6)]
    slow_secs: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    /// 明文模式: plaintext pushes and replies.
    Plaintext,
    /// 兼容模式: plaintext fields plus the encrypted message.
    Compat,
    /// 安全模式: encrypted pushes and replies.
    Safe,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Plaintext => "plaintext",
            Mode::Compat => "compat",
            Mode::Safe => "safe",
        }
    }
}

impl From<Mode> for CallbackMode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Plaintext => CallbackMode::Plaintext,
            Mode::Compat => CallbackMode::Compat,
            Mode::Safe => CallbackMode::Safe,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    let mut config = DemoConfig::default().with_mode(args.mode.into());
    config.mock_addr = args.mock_addr;
    config.addr = args.addr;
    config.slow_answer_delay = Duration::from_secs(args.slow_secs);

    let demo = match Demo::start(config).await {
        Ok(demo) => demo,
        Err(e) => {
            eprintln!("wechat-demo: {}", error_chain(&e));
            return ExitCode::FAILURE;
        }
    };
    let app = demo.mock().app();
    let line = |label: &str, value: &str| println!("  {label:<34}{value}");
    println!("wechat-demo is running: a fake WeChat and a demo account built on wechat-rs.");
    println!();
    line("console (chat as a fake user)", &demo.console_url());
    line("demo account", &format!("{}/", demo.demo_url()));
    line(
        &format!("its callback URL ({} mode)", args.mode.name()),
        &demo.callback_url(),
    );
    line("its profile page (OAuth)", &demo.profile_url());
    line("app", &format!("{} ({})", app.name, app.appid));
    println!();
    println!("Open the console, pick a user, send a text; tap \"My profile\" in the menu.");
    println!("Ctrl-C stops both.");

    wait_for_stop().await;
    eprintln!("wechat-demo: stopping");
    demo.shutdown().await;
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM on Unix.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
