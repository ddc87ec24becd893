//! `cargo xtask fuzz [--seconds N] [TARGET…]`: runs the cargo-fuzz targets of `fuzz/` one
//! after the other, each for N seconds, and prints a table of runs per target.
//!
//! cargo-fuzz needs nightly-only compiler flags (sanitizers, coverage instrumentation).
//! The machine has one stable toolchain and no other can be fetched, so the runs set
//! `RUSTC_BOOTSTRAP=1`, which lets the stable compiler accept them.

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cmd::{self, step};

pub const CARGO_FUZZ_VERSION: &str = "0.13.1";

pub fn run(args: &[String]) -> Result<()> {
    let mut seconds: u64 = 60;
    let mut wanted = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = rest
                    .next()
                    .and_then(|value| value.parse().ok())
                    .context("--seconds takes a whole number of seconds")?;
            }
            target => wanted.push(target.to_owned()),
        }
    }
    install_cargo_fuzz()?;
    let fuzz_dir = cmd::root().join("fuzz");
    let all = targets(&fuzz_dir.join("Cargo.toml"))?;
    let chosen: Vec<String> = if wanted.is_empty() {
        all.clone()
    } else {
        wanted
    };
    if let Some(unknown) = chosen.iter().find(|target| !all.contains(target)) {
        bail!(
            "no fuzz target `{unknown}`; the targets are: {}",
            all.join(", ")
        );
    }

    step("fuzz: build every target");
    cmd::run(fuzz_command(&fuzz_dir).args(["build", "-O"]))?;

    let logs = cmd::root().join("target/fuzz-logs");
    std::fs::create_dir_all(&logs)?;
    let mut rows = Vec::new();
    for target in &chosen {
        step(&format!("fuzz: {target} for {seconds} s"));
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        let seeds = fuzz_dir.join("seeds").join(target);
        let log_path = logs.join(format!("{target}.log"));
        let log = std::fs::File::create(&log_path)?;
        let mut command = fuzz_command(&fuzz_dir);
        command.args(["run", "-O", target]).arg(&corpus);
        if seeds.is_dir() {
            command.arg(&seeds);
        }
        command
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .stdout(log.try_clone()?)
            .stderr(log);
        let started = Instant::now();
        println!(
            "$ {}   (log: {})",
            cmd::describe(&command),
            log_path.display()
        );
        let status = command.stdin(Stdio::null()).status()?;
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let runs = text.lines().rev().find_map(|line| {
            line.strip_prefix("Done ")?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        });
        rows.push((
            target.clone(),
            status.success(),
            runs,
            started.elapsed().as_secs(),
        ));
    }

    println!(
        "\n{:<20} {:>8} {:>14} {:>8}",
        "target", "result", "runs", "seconds"
    );
    for (target, ok, runs, elapsed) in &rows {
        let runs = runs.map_or_else(|| "-".to_owned(), |runs| runs.to_string());
        let result = if *ok { "ok" } else { "CRASH" };
        println!("{target:<20} {result:>8} {runs:>14} {elapsed:>8}");
    }
    println!(
        "command: cargo xtask fuzz --seconds {seconds}; logs and crash artifacts: target/fuzz-logs, fuzz/artifacts"
    );
    if rows.iter().any(|(_, ok, _, _)| !ok) {
        bail!("a fuzz target crashed; see its log");
    }
    Ok(())
}

fn fuzz_command(fuzz_dir: &Path) -> std::process::Command {
    let mut command = cmd::cargo();
    command
        .current_dir(fuzz_dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .arg("fuzz");
    command
}

/// The `[[bin]]` names of the fuzz crate.
fn targets(manifest: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let names = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("name = "))
        .map(|name| name.trim_matches('"').to_owned())
        .filter(|name| name != "tessera-fuzz")
        .collect();
    Ok(names)
}

fn install_cargo_fuzz() -> Result<()> {
    step("fuzz: cargo-fuzz");
    let installed = cmd::output(cmd::cargo().args(["fuzz", "--version"])).unwrap_or_default();
    if installed
        .split_whitespace()
        .any(|word| word == CARGO_FUZZ_VERSION)
    {
        println!("cargo-fuzz {CARGO_FUZZ_VERSION} already installed");
        return Ok(());
    }
    cmd::run(cmd::cargo().args([
        "install",
        "cargo-fuzz",
        "--version",
        CARGO_FUZZ_VERSION,
        "--locked",
    ]))
}
