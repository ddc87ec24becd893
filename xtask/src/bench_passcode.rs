//! `cargo xtask bench`: CPU time of passcode verifications handled by the edge in real
//! workerd (under `wrangler dev`).
//!
//! Method: start the edge alone, find the `workerd` processes in wrangler's process group,
//! and let `tests/interop/bench_passcode.py` drive it: seed `USERS` users with a known TOTP
//! secret, open a prompt for each (not measured), then send, one at a time, a wrong
//! passcode and the right one to `/prompt/v1/passcode`. Around each passcode request the
//! script reads the CPU time of those processes from `/proc/PID/task/*/schedstat`
//! (nanoseconds on CPU, summed over threads): everything workerd did for that request —
//! HTTP, routing, the session MAC, the call into the `Account` Durable Object, its SQLite
//! reads and writes, the TOTP check and the audit row, plus what `wrangler dev`'s own
//! workers inside workerd do per request. Wrangler's node process is not counted. The same
//! reading around a `GET /healthz` per user gives workerd's floor for the most trivial
//! request. The first `WARMUP` users are left out (Wasm compilation, object creation).

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::cmd::{self, Service};
use crate::stack::{self, Credentials};

const USERS: usize = 60;
const WARMUP: usize = 10;

/// Medians of the measured requests, in milliseconds.
#[derive(Debug)]
pub struct PasscodeFigures {
    pub valid_cpu_ms: f64,
    pub invalid_cpu_ms: f64,
    pub all_cpu_ms: f64,
    pub wall_ms: f64,
    /// `GET /healthz` measured the same way: workerd's floor per request.
    pub healthz_cpu_ms: f64,
    pub samples: usize,
}

pub fn measure() -> Result<PasscodeFigures> {
    let state = std::env::temp_dir().join(format!("tessera-bench-cpu-{}", std::process::id()));
    std::fs::create_dir_all(&state)?;
    let result = run(&state);
    let _ = std::fs::remove_dir_all(&state);
    result
}

fn run(state: &std::path::Path) -> Result<PasscodeFigures> {
    let credentials = Credentials::load_or_create(state)?;
    let port = crate::bench::bench_port();
    cmd::ensure_port_free(port, "bench edge")?;
    let mut edge = stack::spawn_edge(state, port, &credentials, &state.join("edge.log"))?;
    let base = format!("http://localhost:{port}");
    cmd::wait_http_ok(
        &format!("{base}/healthz"),
        &mut edge,
        Duration::from_secs(90),
    )?;
    let pids = workerd_pids(&edge)?;
    println!("workerd pid(s) in wrangler's process group: {pids:?}");

    let request = json!({
        "base": base,
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "admin_token": credentials.admin_token,
        "pids": pids,
        "users": USERS,
        "warmup": WARMUP,
    });
    let mut driver = cmd::command(crate::setup::interop_python());
    driver.arg(cmd::root().join("tests/interop/bench_passcode.py"));
    let out = run_with_stdin(&mut driver, &request.to_string())?;
    drop::<Service>(edge);
    let figures: Value = serde_json::from_str(&out).context("bench_passcode.py printed no JSON")?;
    let series = |name: &str| -> Vec<f64> {
        figures
            .get(name)
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let (mut valid, mut invalid, mut wall, mut healthz) = (
        series("valid_cpu_ms"),
        series("invalid_cpu_ms"),
        series("wall_ms"),
        series("healthz_cpu_ms"),
    );
    let mut all: Vec<f64> = valid.iter().chain(&invalid).copied().collect();
    if all.is_empty() {
        bail!("bench_passcode.py measured nothing: {out}");
    }
    Ok(PasscodeFigures {
        samples: all.len(),
        valid_cpu_ms: median(&mut valid),
        invalid_cpu_ms: median(&mut invalid),
        all_cpu_ms: median(&mut all),
        wall_ms: median(&mut wall),
        healthz_cpu_ms: median(&mut healthz),
    })
}

fn run_with_stdin(command: &mut std::process::Command, input: &str) -> Result<String> {
    use std::io::Write;
    use std::process::Stdio;
    println!("$ {}", cmd::describe(command));
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting bench_passcode.py")?;
    child
        .stdin
        .take()
        .context("no stdin")?
        .write_all(input.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("bench_passcode.py failed ({})", output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The `workerd` processes in the service's process group.
fn workerd_pids(service: &Service) -> Result<Vec<u32>> {
    let group = service.group();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may hold spaces, so split at the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map(|(_, c)| c).unwrap_or_default();
        let pgrp = rest
            .split_whitespace()
            .nth(2)
            .and_then(|p| p.parse::<i32>().ok());
        if comm == "workerd" && pgrp == Some(group) {
            pids.push(pid);
        }
    }
    if pids.is_empty() {
        bail!("no workerd process in wrangler's process group {group}");
    }
    Ok(pids)
}
