//! The long runs that are not part of CI: `cargo xtask fuzz [SECONDS]` (coverage-guided fuzzing,
//! needs a nightly toolchain and cargo-fuzz) and `cargo xtask soak` (one million requests to
//! wechat-mock with the resident set sampled).

use std::path::Path;
use std::process::Command;

/// A fuzz target of `fuzz/`, with its seed corpora and libFuzzer options.
struct Target {
    name: &'static str,
    /// Read-only seed directories, relative to `fuzz/`.
    seeds: &'static [&'static str],
    /// Extra libFuzzer flags.
    flags: &'static [&'static str],
}

const TARGETS: &[Target] = &[
    Target {
        name: "xml",
        seeds: &["../crates/wechat-types/tests/fixtures"],
        flags: &["-dict=xml.dict"],
    },
    Target {
        name: "envelope",
        seeds: &[
            "../crates/wechat-crypto/tests/fixtures",
            "../crates/wechat-msg/tests/fixtures",
        ],
        flags: &["-dict=xml.dict"],
    },
    Target {
        name: "decrypt",
        seeds: &["seeds/decrypt"],
        flags: &[],
    },
];

/// Seconds each target runs when none are given.
const DEFAULT_SECONDS: u64 = 60;

/// Runs every fuzz target for `seconds` each (default 60), one after the other, keeping the
/// corpus in `fuzz/corpus/<target>` between runs. Stops at the first target that finds a crash
/// (the input is in `fuzz/artifacts/<target>/`).
pub(crate) fn fuzz(args: &[String]) -> Result<(), String> {
    let seconds = match args.first() {
        None => DEFAULT_SECONDS,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|&s| s > 0)
            .ok_or_else(|| format!("SECONDS must be a positive whole number, not {text:?}"))?,
    };
    let fuzz_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let have = |args: &[&str]| {
        Command::new("cargo")
            .args(args)
            .env_remove("RUSTUP_TOOLCHAIN")
            .current_dir(&fuzz_dir)
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if !have(&["+nightly", "--version"]) {
        return Err("fuzzing needs a nightly toolchain: rustup toolchain install nightly".into());
    }
    if !have(&["+nightly", "fuzz", "--version"]) {
        return Err("fuzzing needs cargo-fuzz: cargo install cargo-fuzz".into());
    }
    let max_time = format!("-max_total_time={seconds}");
    for target in TARGETS {
        let corpus = format!("corpus/{}", target.name);
        std::fs::create_dir_all(fuzz_dir.join(&corpus))
            .map_err(|e| format!("cannot create fuzz/{corpus}: {e}"))?;
        let mut args = vec![
            "+nightly",
            "fuzz",
            "run",
            "-O",
            target.name,
            corpus.as_str(),
        ];
        args.extend(target.seeds);
        args.extend([
            "--",
            max_time.as_str(),
            "-print_final_stats=1",
            "-max_len=4096",
        ]);
        args.extend(target.flags);
        println!("\n==> xtask fuzz {} for {seconds} s", target.name);
        println!("$ (cd fuzz && cargo {})", args.join(" "));
        // `cargo +nightly` must not inherit this process's stable toolchain choice.
        let status = Command::new("cargo")
            .args(&args)
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .current_dir(&fuzz_dir)
            .status()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        if !status.success() {
            return Err(format!(
                "fuzz target {} failed ({status}); the input is in fuzz/artifacts/{}/",
                target.name, target.name
            ));
        }
    }
    println!("\n==> xtask fuzz: no findings in {} targets", TARGETS.len());
    Ok(())
}

/// One million mixed requests to wechat-mock over loopback (`SOAK_REQUESTS` changes it), with
/// requests/s and the resident set at the start, peak and end.
pub(crate) fn soak() -> Result<(), String> {
    crate::ci::cargo(&[
        "run",
        "--release",
        "-p",
        "wechat-benches",
        "--example",
        "mock_soak",
    ])
}
