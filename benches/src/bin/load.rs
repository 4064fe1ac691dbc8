//! `cargo xtask bench load`: closed-loop load over loopback against
//! - the echo bot example of wechat-msg (`crates/wechat-msg/examples/echo_bot.rs`), in safe mode
//!   and in plaintext mode, each in a process of its own;
//! - a bare hyper server that reads the same requests and answers a fixed body as long as the
//!   echo bot's encrypted reply, in a process of its own too: the ceiling, in the same run;
//! - wechat-mock on `cgi-bin/token` and on the OAuth code exchange (in this process).
//!
//! Prints requests/s and p50/p99/p999 latency for each, the ratio of the callback server to the
//! bare server, and the resident set of each server process (sampled from `/proc/<pid>/status`,
//! so the generator's own memory is not in it); writes the table to `target/bench/latest.md`.
//! The bare server and the two callback runs are interleaved in rounds (`LOAD_ROUNDS`, default
//! 5), so background load on a shared machine weighs on them alike, and each round starts them
//! afresh, so a process's luck averages out. A memory soak then loads one safe-mode echo bot for
//! the whole `LOAD_SECONDS` and writes its resident set, once a second, to
//! `target/bench/rss-safe.csv`. `LOAD_SECONDS` (default 5, per target) and `LOAD_CONNECTIONS`
//! (default 4) tune the run; `ECHO_BOT` names the echo bot binary (default: the echo bot example
//! built in this binary's profile, `examples/echo_bot` beside it). `cargo xtask bench load`
//! builds both in the `production` profile (fat LTO, one codegen unit), as a server is shipped.
//!
//! `load serve-bare LEN` is the bare server itself: it prints `listening on ADDR` and serves
//! until its standard input closes (when this harness exits, however it exits).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use wechat_benches::load::{self, LoadConfig, LoadReport, PreparedRequest, Sampled, Target};
use wechat_crypto::MessageCrypto;
use wechat_mock::MockServer;
use wechat_types::api::Scope;
use wechat_types::xml::{Reply, ReplyMessage};
use wechat_types::{AccountId, AppId, EncodingAesKey, OpenId, ServerToken};

const TOKEN: &str = "loadtoken";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wx4d0c0ffee5eed001";
/// Distinct pushes per callback run. The echo bot's dedupe store keeps at most 100 000 keys, so
/// a push comes round again only after its key was evicted: no answer comes from the dedupe
/// cache, and every request pays for verify, decrypt, parse, route, render, encrypt and sign.
const DISTINCT_PUSHES: usize = 200_000;
/// The warm-up of each slice, in which a fresh echo bot's dedupe store fills up: its 100 000
/// keys take about 1.4 s at 70 000 pushes a second.
const FRESH_WARMUP: Duration = Duration::from_secs(2);
/// The memory soak's row: one safe-mode echo bot under `LOAD_SECONDS` of load.
const SOAK: &str = "memory soak: callback, safe mode";
/// The first part of a run's measured window in which the resident set may still grow (caches
/// filling up to their caps); growth after it is what "flat" is judged on.
const MEMORY_WARMUP_SECS: u64 = 10;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    if let Some(command) = args.next() {
        let rest: Vec<String> = args.collect();
        return match (command.as_str(), rest.as_slice()) {
            ("serve-bare", [reply_len]) => match reply_len.parse() {
                Ok(reply_len) => serve_bare(reply_len),
                Err(_) => Err(std::io::Error::other("serve-bare REPLY_LEN: a number")),
            },
            ("drive", [mode, addr, count]) => drive(mode, addr, count),
            _ => Err(std::io::Error::other(
                "usage: load [serve-bare REPLY_LEN | drive safe|plaintext ADDR COUNT] \
                 (no argument runs the whole harness)",
            )),
        };
    }
    let config = LoadConfig {
        connections: env_number("LOAD_CONNECTIONS", 4) as usize,
        duration: Duration::from_secs(env_number("LOAD_SECONDS", 5)),
        warmup: Duration::from_secs(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (table, series) = runtime.block_on(run_all(config))?;
    print!("{table}");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench");
    std::fs::create_dir_all(dir)?;
    std::fs::write(format!("{dir}/latest.md"), &table)?;
    for (slug, csv) in series {
        std::fs::write(format!("{dir}/rss-{slug}.csv"), csv)?;
    }
    println!("\nwritten to target/bench/latest.md and target/bench/rss-safe.csv");
    Ok(())
}

/// The bare server, in this process: serves until standard input closes.
fn serve_bare(reply_len: usize) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Leaked once: the body lives as long as the process.
    let body: &'static [u8] = Box::leak(vec![b'x'; reply_len].into_boxed_slice());
    let addr = runtime.block_on(wechat_benches::bare::start(body))?;
    println!("listening on {addr}");
    // The harness holds the other end of stdin: EOF means it is gone.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    Ok(())
}

/// Sends COUNT pushes one after the other over one connection to a callback at ADDR, for
/// profiling a server (under callgrind, say) with the exact requests of the harness.
fn drive(mode: &str, addr: &str, count: &str) -> std::io::Result<()> {
    let encrypted = match mode {
        "safe" => true,
        "plaintext" => false,
        other => return Err(std::io::Error::other(format!("unknown mode {other:?}"))),
    };
    let addr: SocketAddr = addr.parse().map_err(std::io::Error::other)?;
    let count: usize = count.parse().map_err(std::io::Error::other)?;
    let ok = |status: http::StatusCode, body: &[u8]| status.is_success() && !body.is_empty();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let pushes = Arc::new(prepare_pushes(encrypted));
    let report = runtime.block_on(load::run_count("drive", addr, pushes, 1, count, ok));
    println!("{} requests, {} errors", report.requests, report.errors);
    Ok(())
}

/// A server in a child process, killed when dropped.
struct ChildServer {
    child: Child,
    addr: SocketAddr,
}

impl ChildServer {
    /// Starts `command` and waits for the line that says where it listens
    /// (`… listening on [http://]ADDR[/…] …`).
    fn start(mut command: Command) -> std::io::Result<Self> {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let Some(line) = lines.next().transpose()? else {
                let _ = child.kill();
                return Err(std::io::Error::other(
                    "the server exited before saying where it listens",
                ));
            };
            if let Some(addr) = listening_addr(&line) {
                break addr;
            }
        };
        // Keep draining its output, so a log line can never block it on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, addr })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listening_addr(line: &str) -> Option<SocketAddr> {
    let (_, rest) = line.split_once("listening on ")?;
    let rest = rest.strip_prefix("http://").unwrap_or(rest);
    let end = rest.find(['/', ' ']).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn echo_bot(mode: &str) -> std::io::Result<ChildServer> {
    let path = match std::env::var_os("ECHO_BOT") {
        Some(path) => std::path::PathBuf::from(path),
        // The example built with this binary, in the same profile: both servers of a run are
        // then compiled alike.
        None => std::env::current_exe()?
            .parent()
            .ok_or_else(|| std::io::Error::other("this binary is in no directory"))?
            .join("examples/echo_bot"),
    };
    if !path.exists() {
        return Err(std::io::Error::other(format!(
            "{} is missing: run `cargo build --profile production -p wechat-msg --example \
             echo_bot` (cargo xtask bench load does)",
            path.display()
        )));
    }
    let mut command = Command::new(path);
    command
        .args(["--addr", "127.0.0.1:0", "--path", "/wechat", "--mode", mode])
        .args(["--token", TOKEN, "--aes-key", AES_KEY, "--appid", APPID])
        .env("RUST_LOG", "warn");
    ChildServer::start(command)
}

fn bare_server(reply_len: usize) -> std::io::Result<ChildServer> {
    let mut command = Command::new(std::env::current_exe()?);
    command.args(["serve-bare", &reply_len.to_string()]);
    ChildServer::start(command)
}

type Series = Vec<(String, String)>;

async fn run_all(config: LoadConfig) -> std::io::Result<(String, Series)> {
    let ok = |status: http::StatusCode, body: &[u8]| status.is_success() && !body.is_empty();
    let mut reports = Vec::new();
    let mut series = Vec::new();
    let safe_pushes = Arc::new(prepare_pushes(true));
    let plain_pushes = Arc::new(prepare_pushes(false));
    let reply_len = safe_reply_len();

    let rounds = env_number("LOAD_ROUNDS", 5).max(1) as u32;
    let slice = LoadConfig {
        duration: config.duration / rounds,
        warmup: FRESH_WARMUP,
        ..config
    };
    let mut run = load::Interleaved::new();
    for _ in 0..rounds {
        // Fresh processes every round, so that the ratio averages as many draws of each
        // process's luck as there are rounds (see `load::Interleaved`). Killed when dropped,
        // at the end of the round.
        let servers = [
            // The same requests as the safe-mode run, answered with as many bytes as the echo
            // bot's.
            (
                "bare hyper (ceiling)",
                bare_server(reply_len)?,
                &safe_pushes,
            ),
            ("callback, safe mode", echo_bot("safe")?, &safe_pushes),
            ("callback, plaintext", echo_bot("plaintext")?, &plain_pushes),
        ];
        let loads: Vec<Target> = servers
            .iter()
            .map(|(name, server, pushes)| Target {
                name: (*name).to_owned(),
                addr: server.addr,
                requests: Arc::clone(pushes),
                check: ok,
                sampled: Sampled::Process(server.pid()),
            })
            .collect();
        run.round(&loads, slice).await;
    }
    reports.extend(run.finish());

    // The memory target wants one process under the whole run's load. Its pushes are signed
    // now: the first set's timestamps may be near the echo bot's five-minute window by this time.
    let soak = echo_bot("safe")?;
    let soak_report = load::run(
        SOAK,
        soak.addr,
        Arc::new(prepare_pushes(true)),
        config,
        ok,
        Sampled::Process(soak.pid()),
    )
    .await;
    drop(soak);
    series.push(("safe".to_owned(), csv(&soak_report)));
    reports.push(soak_report);

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
            Sampled::ThisProcess,
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
    // Codes are single use: send each exactly once (a reused code would count as an error).
    let exchange_report = load::run_count(
        "mock sns code exchange",
        mock.address(),
        Arc::new(exchanges),
        config.connections,
        minted,
        token_ok,
    )
    .await;
    reports.push(exchange_report);

    Ok((render(&reports, config, minted, rounds), series))
}

/// The length of the echo bot's encrypted answer to one of the pushes.
fn safe_reply_len() -> usize {
    let key = EncodingAesKey::parse(AES_KEY).expect("the bench key is valid");
    let crypto = MessageCrypto::new(key, AppId::new(APPID));
    let reply = ReplyMessage {
        to: OpenId::new("oBenchUser000000"),
        from: AccountId::new("gh_bench"),
        create_time: 1_700_000_000,
        reply: Reply::text("hello 100000"),
    };
    crypto
        .encrypt_reply(
            &ServerToken::new(TOKEN),
            &reply.to_xml(),
            1_700_000_000,
            "100000000",
        )
        .len()
}

fn csv(report: &LoadReport) -> String {
    let mut out = String::from("seconds,rss_kib\n");
    for (seconds, kib) in &report.rss_series {
        let _ = writeln!(out, "{seconds},{kib}");
    }
    out
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

/// The ratio to the bare server round by round (each round's slices ran back to back, so the
/// pair saw the same background load): lowest, median and highest, to show how far one run's
/// ratio can be trusted.
fn round_spread(target: &LoadReport, bare: &LoadReport) -> String {
    let mut ratios: Vec<f64> = target
        .slice_rps
        .iter()
        .zip(&bare.slice_rps)
        .map(|(rps, ceiling)| 100.0 * rps / ceiling.max(f64::EPSILON))
        .collect();
    ratios.sort_by(f64::total_cmp);
    match (ratios.first(), ratios.last()) {
        (Some(low), Some(high)) if ratios.len() > 1 => format!(
            "round by round {low:.0}% to {high:.0}%, median {:.0}% ({} rounds)",
            median(&ratios),
            ratios.len()
        ),
        _ => "one round".to_owned(),
    }
}

/// The median of sorted, non-empty `values`.
fn median(values: &[f64]) -> f64 {
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn render(reports: &[LoadReport], config: LoadConfig, minted: usize, rounds: u32) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Loopback load: {} connections, {} s measured per target, {} cores\n",
        config.connections,
        config.duration.as_secs(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let _ = writeln!(
        out,
        "| target | req/s | p50 | p99 | p999 | errors | CPU/request: server, generator | RSS start → peak → end (MiB) |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|");
    for r in reports {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.1?} | {:.1?} | {:.1?} | {} | {} | {:.1} → {:.1} → {:.1} |",
            r.name,
            r.rps,
            r.p50,
            r.p99,
            r.p999,
            r.errors,
            match (r.cpu_per_request, r.generator_cpu_per_request) {
                (Some(server), Some(generator)) => format!("{server:.1?}, {generator:.1?}"),
                _ => "-".to_owned(),
            },
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
                "- {}: {:.0}% of the bare server's requests/s (target: at least 80%); {}",
                r.name,
                100.0 * r.rps / bare.rps,
                round_spread(r, bare)
            );
        }
    }
    for r in reports.iter().filter(|r| r.name == SOAK) {
        let growth = match r.rss_growth_after(MEMORY_WARMUP_SECS) {
            Some(kib) => format!(
                "{:+.1} MiB ({:+.1}%) from {MEMORY_WARMUP_SECS} s to the end",
                kib as f64 / 1024.0,
                100.0 * kib as f64 / r.rss_end_kib.max(1) as f64
            ),
            None => format!(
                "not judged: the run is shorter than {} s (LOAD_SECONDS=60 for the memory target)",
                2 * MEMORY_WARMUP_SECS
            ),
        };
        let _ = writeln!(out, "- {}: resident set {growth}", r.name);
    }
    let _ = writeln!(
        out,
        "- the bare server and the two callback runs are interleaved: {rounds} rounds (LOAD_ROUNDS) \
         in which each gets {:.1} s in turn, so drifting background load weighs on all three alike; \
         each round starts fresh server processes and warms each up for {} s, so a ratio averages \
         {rounds} processes of each",
        config.duration.as_secs_f64() / f64::from(rounds.max(1)),
        FRESH_WARMUP.as_secs()
    );
    let _ = writeln!(
        out,
        "- RSS is the server's own process (`/proc/<pid>/status`): the bare server and the echo \
         bots run as child processes (in the interleaved rows, the first round's at its start, the \
         largest seen, the last round's at its end); the memory soak is one safe-mode echo bot \
         under the whole {} s; the two mock rows share this process with the generator and its \
         prepared requests",
        config.duration.as_secs()
    );
    let _ = writeln!(
        out,
        "- the bare server reads the safe-mode requests and answers {} bytes, as long as the echo \
         bot's encrypted reply; {DISTINCT_PUSHES} distinct pushes per callback run",
        safe_reply_len()
    );
    let _ = writeln!(
        out,
        "- the memory soak and the token row are measured after a {} s warm-up; code exchange: \
         {minted} single-use codes minted beforehand, each sent once (no warm-up)",
        config.warmup.as_secs()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_rounds(name: &str, slice_rps: &[f64]) -> LoadReport {
        LoadReport {
            name: name.to_owned(),
            requests: 0,
            errors: 0,
            rps: 0.0,
            p50: Duration::ZERO,
            p99: Duration::ZERO,
            p999: Duration::ZERO,
            rss_start_kib: 0,
            rss_peak_kib: 0,
            rss_end_kib: 0,
            cpu_per_request: None,
            generator_cpu_per_request: None,
            rss_series: Vec::new(),
            slice_rps: slice_rps.to_vec(),
        }
    }

    #[test]
    fn rounds_are_compared_pairwise_with_their_median() {
        let bare = with_rounds("bare", &[100.0, 200.0, 100.0, 100.0]);
        // 70 %, 80 %, 90 % and 75 %: the pairs, not the totals, are compared.
        let safe = with_rounds("callback", &[70.0, 160.0, 90.0, 75.0]);
        assert_eq!(
            round_spread(&safe, &bare),
            "round by round 70% to 90%, median 78% (4 rounds)"
        );
        let one = with_rounds("callback", &[50.0]);
        assert_eq!(
            round_spread(&one, &with_rounds("bare", &[100.0])),
            "one round"
        );
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 9.0]), 3.0);
    }
}
