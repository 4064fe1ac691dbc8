//! `cargo xtask ci`: the checks, each a step with a header, stopping at the first failure.

use std::process::Command;
use std::time::Instant;

/// One CI step: a name and the cargo invocations it runs.
struct Step {
    name: &'static str,
    what: &'static str,
    commands: &'static [&'static [&'static str]],
    env: &'static [(&'static str, &'static str)],
    /// In a full run, why the step is skipped on this machine (`None`: it runs).
    skip: Option<fn() -> Option<String>>,
}

/// The real-browser test's environment: it makes the test fail instead of skip without Chromium.
pub(crate) const E2E_ENV: &[(&str, &str)] = &[("WECHAT_E2E", "1")];
/// The real-browser test.
pub(crate) const E2E_TEST: &[&str] = &["test", "-p", "wechat-demo", "--test", "e2e"];

const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        what: "rustfmt --check",
        commands: &[&["fmt", "--all", "--", "--check"]],
        env: &[],
        skip: None,
    },
    Step {
        name: "clippy",
        what: "clippy, all targets and features, warnings denied",
        commands: &[&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]],
        env: &[],
        skip: None,
    },
    Step {
        name: "test",
        what: "every test of every crate, all features",
        commands: &[&["test", "--workspace", "--all-features"]],
        // The browser test runs once, in its own step.
        env: &[("WECHAT_E2E", "0")],
        skip: None,
    },
    Step {
        name: "e2e",
        what: "the real-browser test (headless Chromium through chromedriver)",
        commands: &[E2E_TEST],
        env: E2E_ENV,
        skip: Some(missing_browser),
    },
    Step {
        name: "doc",
        what: "docs, warnings denied",
        commands: &[&["doc", "--workspace", "--no-deps", "--all-features"]],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
        skip: None,
    },
    Step {
        name: "bench",
        what: "benches compile",
        commands: &[&["bench", "--workspace", "--no-run"]],
        env: &[],
        skip: None,
    },
];

/// Runs every step, or only `only`.
pub(crate) fn run(only: Option<&str>) -> Result<(), String> {
    let steps: Vec<&Step> = match only {
        None => STEPS.iter().collect(),
        Some(name) => {
            let step = STEPS.iter().find(|s| s.name == name).ok_or_else(|| {
                let names: Vec<_> = STEPS.iter().map(|s| s.name).collect();
                format!("no CI step {name:?}; steps: {}", names.join(", "))
            })?;
            vec![step]
        }
    };
    let started = Instant::now();
    for step in steps {
        // A step asked for by name always runs (and fails if it cannot).
        if let Some(reason) = step.skip.filter(|_| only.is_none()).and_then(|why| why()) {
            println!("\n==> xtask ci {}: skipped, {reason}", step.name);
            continue;
        }
        println!("\n==> xtask ci {}: {}", step.name, step.what);
        let step_started = Instant::now();
        for args in step.commands {
            cargo_with_env(args, step.env)
                .map_err(|e| format!("step {} failed: {e}", step.name))?;
        }
        println!(
            "==> {} passed in {:.1} s",
            step.name,
            step_started.elapsed().as_secs_f64()
        );
    }
    println!(
        "\n==> xtask ci passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Why the browser test cannot run here: Chromium or chromedriver missing.
fn missing_browser() -> Option<String> {
    let found = |names: &[&str]| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![std::path::PathBuf::from("/usr/bin")];
        dirs.extend(std::env::split_paths(&path));
        names
            .iter()
            .any(|name| dirs.iter().any(|dir| dir.join(name).is_file()))
    };
    if !found(&[
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]) {
        Some("chromium not found (apt-get install chromium chromium-driver)".to_owned())
    } else if !found(&["chromedriver"]) {
        Some("chromedriver not found (apt-get install chromium-driver)".to_owned())
    } else {
        None
    }
}

/// Runs `cargo ARGS` from the workspace root.
pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_with_env(args, &[])
}

/// Runs `cargo ARGS` from the workspace root with these environment variables.
pub(crate) fn cargo_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    println!("$ cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` exited with {status}", args.join(" ")))
    }
}

/// The workspace's target directory: `CARGO_TARGET_DIR`, or `target/` at the root.
pub(crate) fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")).to_path_buf(),
        std::path::PathBuf::from,
    )
}

/// Runs a program built in the workspace from the workspace root.
pub(crate) fn run_built(program: &std::path::Path) -> Result<(), String> {
    println!("$ {}", program.display());
    let status = Command::new(program)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .status()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} exited with {status}", program.display()))
    }
}
