//! Builds: the prompt (Wasm + JS glue + embed loader), the edge worker, the native binaries.
//!
//! Each step is incremental: cargo decides for Rust, and the post-processing steps
//! (wasm-bindgen, wasm-opt, worker-build's bundling) are skipped when their outputs are
//! newer than their inputs.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cmd::{self, step};

/// Where the prompt is assembled; wrangler.toml serves `../target/prompt-dist` as ASSETS.
pub fn prompt_dist() -> PathBuf {
    cmd::root().join("target/prompt-dist/prompt/v1")
}

/// The files the browser downloads for the prompt, in transfer order.
pub const PROMPT_FILES: [&str; 4] = [
    "embed.js",
    "tessera_prompt.js",
    "tessera_prompt_bg.wasm",
    "prompt.css",
];

/// Wasm features rustc enables by default for wasm32-unknown-unknown; wasm-opt must accept
/// them even when the target-features section is missing.
const WASM_OPT_FEATURES: [&str; 8] = [
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-call-indirect-overlong",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

pub fn all() -> Result<()> {
    prompt()?;
    edge()?;
    native()
}

pub fn prompt() -> Result<()> {
    let started = Instant::now();
    step("build: prompt (Leptos → wasm32, release)");
    cmd::run(cmd::cargo().args([
        "build",
        "-p",
        "tessera-prompt",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
    ]))?;
    let root = cmd::root();
    let wasm = root.join("target/wasm32-unknown-unknown/release/tessera_prompt.wasm");
    let dist = prompt_dist();
    let bindgen_wasm = dist.join("tessera_prompt_bg.wasm");
    if cmd::up_to_date(&bindgen_wasm, std::slice::from_ref(&wasm))
        && dist.join("tessera_prompt.js").exists()
    {
        println!("prompt Wasm unchanged: skipping wasm-bindgen and wasm-opt");
    } else {
        std::fs::create_dir_all(&dist)?;
        cmd::run(cmd::command("wasm-bindgen").args([
            "--target".as_ref(),
            "web".as_ref(),
            "--out-name".as_ref(),
            "tessera_prompt".as_ref(),
            "--no-typescript".as_ref(),
            "--out-dir".as_ref(),
            dist.as_os_str(),
            wasm.as_os_str(),
        ]))?;
        let optimized = dist.join("tessera_prompt_bg.opt.wasm");
        let mut wasm_opt = cmd::command(cmd::node_bin("wasm-opt"));
        wasm_opt
            .env("PATH", cmd::node_path())
            .arg("-Oz")
            .args(WASM_OPT_FEATURES)
            .arg(&bindgen_wasm)
            .arg("-o")
            .arg(&optimized);
        cmd::run(&mut wasm_opt)?;
        std::fs::rename(&optimized, &bindgen_wasm)?;
    }
    for file in ["embed.js", "prompt.css"] {
        let source = root.join("prompt").join(file);
        if !source.exists() {
            bail!("prompt/{file} is missing: the prompt crate must provide it");
        }
        std::fs::copy(&source, dist.join(file))
            .with_context(|| format!("copying prompt/{file}"))?;
    }
    println!(
        "prompt ready in {} ({:.1}s)",
        dist.strip_prefix(&root).unwrap_or(&dist).display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// worker-build with the cargo-installed wasm-bindgen and the npm wasm-opt and esbuild,
/// so it downloads nothing.
pub fn edge() -> Result<()> {
    let started = Instant::now();
    step("build: edge worker (worker-build --release)");
    let root = cmd::root();
    let edge = root.join("edge");
    if !edge.join("wrangler.toml").exists() {
        bail!("edge/wrangler.toml is missing: the edge crate must provide it");
    }
    let inputs = [
        edge.join("src"),
        edge.join("Cargo.toml"),
        root.join("shared/src"),
        root.join("shared/Cargo.toml"),
        root.join("Cargo.lock"),
        root.join("Cargo.toml"),
    ];
    let shim = edge.join("build/worker/shim.mjs");
    if cmd::up_to_date(&shim, &inputs) {
        println!("edge/build is newer than edge/ and shared/ sources: skipping");
        return Ok(());
    }
    let wasm_bindgen =
        which("wasm-bindgen").context("wasm-bindgen not on PATH: run `cargo xtask setup`")?;
    let mut worker_build = cmd::command("worker-build");
    worker_build
        .current_dir(&edge)
        .env("PATH", cmd::node_path())
        .env("WASM_BINDGEN_BIN", wasm_bindgen)
        .env("WASM_OPT_BIN", cmd::node_bin("wasm-opt"))
        .env("ESBUILD_BIN", cmd::node_bin("esbuild"))
        .arg("--release");
    cmd::run(&mut worker_build)?;
    println!("edge built in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

pub fn native() -> Result<()> {
    step("build: native binaries (tessera-www, tessera-device)");
    cmd::run(cmd::cargo().args(["build", "-p", "tessera-www", "-p", "tessera-device"]))
}

pub fn www_bin() -> PathBuf {
    cmd::root().join("target/debug/tessera-www")
}

pub fn device_bin() -> PathBuf {
    cmd::root().join("target/debug/tessera-device")
}

/// The absolute path of `program` on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
