//! `cargo xtask ci`: the checks, each a step with a header, stopping at the first failure.

use std::process::Command;
use std::time::Instant;

/// One CI step: a name and the cargo invocations it runs.
struct Step {
    name: &'static str,
    what: &'static str,
    commands: &'static [&'static [&'static str]],
    env: &'static [(&'static str, &'static str)],
}

const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        what: "rustfmt --check",
        commands: &[&["fmt", "--all", "--", "--check"]],
        env: &[],
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
    },
    Step {
        name: "test",
        what: "every test of every crate, all features",
        commands: &[&["test", "--workspace", "--all-features"]],
        env: &[],
    },
    Step {
        name: "doc",
        what: "docs, warnings denied",
        commands: &[&["doc", "--workspace", "--no-deps", "--all-features"]],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
    Step {
        name: "bench",
        what: "benches compile",
        commands: &[&["bench", "--workspace", "--no-run"]],
        env: &[],
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

/// Runs `cargo ARGS` from the workspace root.
pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_with_env(args, &[])
}

fn cargo_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
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
