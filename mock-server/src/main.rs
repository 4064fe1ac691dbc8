//! `wechat-mock`: the fake WeChat servers on one port, for frontend work and manual testing.
//!
//! Every flag has a default (a ready demo app with fake users), so `wechat-mock` alone starts a
//! usable server. The first line on stdout is the base URL alone, for scripts; then the apps'
//! credentials. Each request is logged on one line to stderr (method, path, status, time; never
//! the query, which carries secrets). Ctrl-C (or SIGTERM) stops it cleanly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use wechat_mock::{CallbackMode, MockApp, MockServer, error_chain};
use wechat_types::{AppSecret, EncodingAesKey, ServerToken};

/// A faithful offline fake of the WeChat Official Account servers (api, open and mp on one port).
#[derive(Parser)]
#[command(name = "wechat-mock", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// The default app's AppID (default: the demo app's).
    #[arg(long)]
    appid: Option<String>,
    /// The default app's AppSecret.
    #[arg(long)]
    secret: Option<String>,
    /// The server Token of the callback URL.
    #[arg(long)]
    token: Option<String>,
    /// The 43-character EncodingAESKey.
    #[arg(long = "aes-key")]
    aes_key: Option<String>,
    /// The developer's callback URL (where pushes go); verified with WeChat's handshake at start.
    #[arg(long = "callback-url")]
    callback_url: Option<String>,
    /// The callback's message encryption mode: plaintext, compat or safe.
    #[arg(long, default_value = "plaintext", value_parser = parse_mode)]
    mode: CallbackMode,
    /// The web-authorization domain redirect_uri must be on (default: any).
    #[arg(long = "oauth-domain")]
    oauth_domain: Option<String>,
    /// Fake users generated per app.
    #[arg(long, default_value_t = 5)]
    users: usize,
    /// A JSON file with more apps: {"apps": [{"appid": …, "secret": …, "users": 3, …}]}.
    #[arg(long)]
    config: Option<PathBuf>,
}

impl Args {
    fn sets_the_app(&self) -> bool {
        self.appid.is_some()
            || self.secret.is_some()
            || self.token.is_some()
            || self.aes_key.is_some()
            || self.callback_url.is_some()
            || self.oauth_domain.is_some()
    }

    /// The default app from the flags, over the demo app's values.
    fn app(&self) -> Result<MockApp, String> {
        let mut app = MockApp::demo();
        if let Some(appid) = &self.appid {
            let derived = MockApp::new(appid.as_str(), "");
            app.appid = derived.appid;
            app.account_id = derived.account_id;
        }
        if let Some(secret) = &self.secret {
            app.secret = AppSecret::new(secret.as_str());
        }
        if let Some(token) = &self.token {
            app.token = ServerToken::new(token.as_str());
        }
        if let Some(key) = &self.aes_key {
            app.aes_key = EncodingAesKey::parse(key).map_err(|e| format!("--aes-key: {e}"))?;
        }
        app.callback_url = self.callback_url.clone();
        app.callback_mode = self.mode;
        app.oauth_domain = self.oauth_domain.clone();
        Ok(app)
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
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("wechat-mock: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let mut builder = MockServer::builder().bind(args.addr).fake_users(args.users);
    if args.sets_the_app() || args.config.is_none() {
        builder = builder.app(args.app()?);
    }
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        builder = builder
            .config_json(&text)
            .map_err(|e| format!("{}: {}", path.display(), error_chain(&e)))?;
    }
    let server = builder.try_start().await.map_err(|e| error_chain(&e))?;
    print_banner(&server);
    // The handshake runs beside the wait for Ctrl-C, so a stop during it is a clean stop.
    let verify = async {
        if let Some(url) = &args.callback_url {
            verify_callback(&server, url, args.mode).await;
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        () = wait_for_stop() => {}
        () = verify => {}
    }
    eprintln!("wechat-mock: stopping");
    server.shutdown().await;
    Ok(())
}

fn print_banner(server: &MockServer) {
    let base = server.base_url();
    // Line 1 is the base URL alone, so scripts and tests can read it.
    println!("{base}");
    println!("wechat-mock: a fake WeChat (api, open and mp endpoints) at {base}");
    for (i, app) in server.apps().iter().enumerate() {
        // These are the fake's own credentials; printing them is the point of the banner.
        println!();
        println!(
            "  {} {}",
            if i == 0 { "default app" } else { "app" },
            app.name
        );
        println!("    appid          {}", app.appid);
        println!("    secret         {}", app.secret.expose_secret());
        println!("    token          {}", app.token.expose_secret());
        println!("    aes key        {}", app.aes_key.expose_secret());
        println!("    account id     {}", app.account_id);
        if let Some(domain) = &app.oauth_domain {
            println!("    oauth domain   {domain}");
        }
        if let Some(url) = &app.callback_url {
            println!("    callback url   {url} ({} mode)", app.callback_mode);
        }
        for user in server.users_of(&app.appid) {
            println!("    user           {} {}", user.openid, user.nickname);
        }
    }
    println!();
    println!(
        "  console: open {base}/ in a browser to chat as a fake user; admin API under {base}/mock/"
    );
}

/// Runs WeChat's verification handshake against the configured callback, as the console's
/// "submit" does, and says how it went. A failure does not stop the fake: the developer's server
/// may simply not be up yet, and the URL stays configured for pushes.
async fn verify_callback(server: &MockServer, url: &str, mode: CallbackMode) {
    match server.set_callback(url, mode).await {
        Ok(()) => println!("  callback verified: {url} answered the echostr ({mode} mode)"),
        Err(e) => {
            println!(
                "  callback NOT verified: {}. Pushes still go to {url}; fix the server and \
                 submit the URL again on the console.",
                error_chain(&e)
            );
        }
    }
}

fn parse_mode(value: &str) -> Result<CallbackMode, String> {
    CallbackMode::parse(value).ok_or_else(|| format!("{value:?} is not plaintext, compat or safe"))
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
