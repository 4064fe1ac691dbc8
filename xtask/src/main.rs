//! Project automation, in Rust so it runs wherever cargo does: `cargo xtask <command>`.
//!
//! - `cargo xtask ci [STEP]`: every check CI runs, in order, stopping at the first failure.
//! - `cargo xtask bench`: the criterion benches and the loopback load harness.
//! - `cargo xtask mock [ARGS]`: runs the `wechat-mock` binary (release build).
//! - `cargo xtask demo [ARGS]`: runs the demo (wechat-mock and the demo account, release build).
//! - `cargo xtask e2e [ARGS]`: the real-browser test (needs chromium and chromedriver).
//! - `cargo xtask fuzz [SECONDS]`: every fuzz target for SECONDS each (nightly and cargo-fuzz).
//! - `cargo xtask soak`: one million requests to wechat-mock, resident set sampled.

mod ci;
mod reliability;

use std::process::ExitCode;

const HELP: &str = "\
cargo xtask <command>

Commands:
  ci [STEP]      run every CI check in order, or just STEP (one of: fmt, clippy, test, e2e, doc,
                 bench); e2e is skipped when chromium or chromedriver is missing
  bench [WHAT]   the loopback load harness (callback server vs bare hyper, wechat-mock), then the
                 criterion benches; WHAT = load | criterion runs one. The load table is written to
                 target/bench/latest.md (LOAD_SECONDS, LOAD_ROUNDS, LOAD_CONNECTIONS tune it;
                 the servers are built in the `production` profile: fat LTO, one codegen unit)
  mock [ARGS]    run the wechat-mock binary with ARGS (try `cargo xtask mock --help`)
  demo [ARGS]    run the demo: wechat-mock plus the demo account (try `cargo xtask demo --help`)
  e2e [ARGS]     the real-browser test: headless Chromium drives the console and the demo
                 (ARGS go to the test binary, e.g. `-- --nocapture`)
  fuzz [SECONDS] fuzz the XML reader, the envelope readers and the decryptor, SECONDS each
                 (default 60; needs a nightly toolchain and cargo-fuzz; not part of ci)
  soak           one million mixed requests to wechat-mock over loopback: requests/s and the
                 resident set at start, peak and end (SOAK_REQUESTS changes the count)
  help           print this text
";

/// The workspace profile a server is shipped in (fat LTO, one codegen unit): the load harness
/// builds both of its servers in it.
const SHIPPING_PROFILE: &str = "production";

/// `cargo xtask bench [load|criterion]`.
fn bench(what: Option<&str>) -> Result<(), String> {
    // The echo bot runs as a server process of its own, which the harness starts. One build for
    // both, so cargo resolves features once instead of rebuilding shared crates twice; in the
    // `production` profile, so both servers are compiled as they are shipped.
    let load = || {
        ci::cargo(&[
            "build",
            "--profile",
            SHIPPING_PROFILE,
            "-p",
            "wechat-benches",
            "--bin",
            "load",
            "-p",
            "wechat-msg",
            "--example",
            "echo_bot",
        ])
        .and_then(|()| ci::run_built(&ci::target_dir().join(SHIPPING_PROFILE).join("load")))
    };
    let criterion = || ci::cargo(&["bench", "-p", "wechat-benches"]);
    match what {
        None => load().and_then(|()| criterion()),
        Some("load") => load(),
        Some("criterion") => criterion(),
        Some(other) => Err(format!("unknown bench {other:?}: load or criterion")),
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(command) = args.next() else {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    };
    let rest: Vec<String> = args.collect();
    let result = match command.as_str() {
        "ci" => ci::run(rest.first().map(String::as_str)),
        "bench" => bench(rest.first().map(String::as_str)),
        "mock" => {
            let mut argv = vec!["run", "--release", "-p", "wechat-mock", "--"];
            argv.extend(rest.iter().map(String::as_str));
            ci::cargo(&argv)
        }
        "demo" => {
            let mut argv = vec!["run", "--release", "-p", "wechat-demo", "--"];
            argv.extend(rest.iter().map(String::as_str));
            ci::cargo(&argv)
        }
        "e2e" => {
            let mut argv = ci::E2E_TEST.to_vec();
            argv.extend(rest.iter().map(String::as_str));
            ci::cargo_with_env(&argv, ci::E2E_ENV)
        }
        "fuzz" => reliability::fuzz(&rest),
        "soak" => reliability::soak(),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
