//! `cargo xtask bench`: the edge in `workerd` directly (no `wrangler dev` proxy in front,
//! as TOOLCHAIN.md asks of benchmarks): cold start, and the CPU time of passcode
//! verifications.
//!
//! xtask writes a workerd config (`edge.capnp`) for the built worker (`edge/build/index.js`
//! and `index_bg.wasm`) with the bindings of `edge/wrangler.toml`: the variables and the
//! SQLite-backed Durable Objects `Account`, `Directory` and `Issuer` on local disk.
//! Cold start: spawn `workerd serve` → first 200 from `GET /healthz`, median of
//! `COLD_RUNS`. Passcodes: `tests/interop/bench_passcode.py` seeds `USERS` users with a
//! known TOTP secret, opens a prompt for each (not measured), then sends, one at a time, a
//! wrong passcode and the right one to `/prompt/v1/passcode`. Around each passcode request
//! the script reads the CPU time of the workerd process from `/proc/PID/task/*/schedstat`
//! (nanoseconds on CPU, summed over threads): everything workerd did for that request —
//! HTTP, routing, the session MAC, the directory lookup, the call into the `Account`
//! Durable Object, its SQLite reads and writes, the TOTP check, the audit row and, for
//! the right code, the authorization code stored in the directory. The same reading around
//! a `GET /healthz` per user gives workerd's floor for a trivial request. The first
//! `WARMUP` users are left out (Wasm compilation and tier-up to optimized code, object
//! creation).
//!
//! That figure is an upper bound of what Cloudflare meters: it also counts workerd's HTTP
//! server, SQLite's fsyncs on local disk and objects being evicted meanwhile. So `perf
//! record` watches the same process (one sample per `PERF_PERIOD_NS` of CPU time, with
//! call stacks, on `CLOCK_MONOTONIC`), and each sample is given to the request whose
//! window (recorded by the driver on the same clock) it falls in. Samples with
//! `workerd::IoContext::runImpl` on the stack are the isolate at work for a request: the
//! Worker's and the Account object's JavaScript and Wasm, with the synchronous storage
//! calls they make — what Cloudflare counts as a request's CPU time. Sampling that often
//! slows the process it watches, so perf starts disabled and the driver enables it (through
//! perf's control FIFO) for every other measured user only; only the isolate's share of
//! the samples is taken from those users, and the isolate's CPU time is that share of the
//! other users' schedstat medians. Interleaved, both halves see the machine in the same
//! state: a shared virtual machine's speed drifts by tens of percent over minutes.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::cmd::{self, Service};
use crate::stack::Credentials;

/// Warm-up users, then measured users: half read by schedstat, half sampled by perf.
const USERS: usize = 130;
const WARMUP: usize = 30;
const COLD_RUNS: usize = 3;

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
    /// The isolate's share from `perf`, or why there is none.
    pub isolate: Result<IsolateFigures, String>,
    /// Spawn → first 200 from `/healthz`, median.
    pub cold_start: Duration,
}

/// What `perf` says of the isolate, from the sampled users.
#[derive(Debug)]
pub struct IsolateFigures {
    /// The isolate's share of the process's samples in the requests' windows (0 to 1).
    pub valid_share: f64,
    pub invalid_share: f64,
    pub all_share: f64,
    pub healthz_share: f64,
    /// Median isolate time per passcode request under perf (samples × period), in ms:
    /// inflated by perf's own overhead, like every figure of that pass.
    pub all_ms_under_perf: f64,
    /// Median process time per passcode request under perf, by the same samples.
    pub process_all_ms_under_perf: f64,
}

/// When set, the bench keeps its directory (with `perf.data`) and has V8 write
/// `/tmp/perf-PID.map`, so `perf report` names the Worker's JavaScript and Wasm frames.
const PROFILE_VAR: &str = "TESSERA_BENCH_PROFILE";

/// Whether [`PROFILE_VAR`] is set.
fn profiling() -> bool {
    std::env::var_os(PROFILE_VAR).is_some()
}

/// One `perf` sample per this much CPU time (`perf record -e cpu-clock -c`).
const PERF_PERIOD_NS: u64 = 50_000;
/// A sample with this frame on its stack is the isolate running a request.
const ISOLATE_FRAME: &str = "workerd::IoContext::runImpl";

pub fn measure() -> Result<PasscodeFigures> {
    let state = std::env::temp_dir().join(format!("tessera-bench-workerd-{}", std::process::id()));
    std::fs::create_dir_all(&state)?;
    let result = run(&state);
    if profiling() {
        println!(
            "{PROFILE_VAR} is set: kept {} (perf.data, workerd logs)",
            state.display()
        );
    } else {
        let _ = std::fs::remove_dir_all(&state);
    }
    result
}

fn run(state: &std::path::Path) -> Result<PasscodeFigures> {
    let credentials = Credentials::load_or_create(state)?;
    let port = crate::bench::bench_port();
    cmd::ensure_port_free(port, "bench edge")?;
    let config = write_config(state, port, &credentials)?;
    let base = format!("http://localhost:{port}");
    let mut times = Vec::new();
    for run in 1..=COLD_RUNS {
        // A fresh storage directory each time: a cold object store too.
        let storage = state.join("do");
        let _ = std::fs::remove_dir_all(&storage);
        std::fs::create_dir_all(&storage)?;
        let started = std::time::Instant::now();
        let mut edge = spawn_workerd(&config, &state.join(format!("workerd-{run}.log")))?;
        cmd::wait_http_ok(
            &format!("{base}/healthz"),
            &mut edge,
            Duration::from_secs(60),
        )?;
        times.push(started.elapsed());
        println!(
            "run {run}: first 200 from /healthz after {:.3}s",
            started.elapsed().as_secs_f64()
        );
        if run < COLD_RUNS {
            drop::<Service>(edge);
            continue;
        }
        let figures = passcodes(&credentials, &base, &edge, times);
        drop::<Service>(edge);
        return figures;
    }
    bail!("no workerd run")
}

fn spawn_workerd(config: &std::path::Path, log: &std::path::Path) -> Result<Service> {
    let mut command = cmd::command(cmd::node_bin("workerd"));
    command.arg("serve").arg(config);
    // Beside its config: V8 writes its log files (with TESSERA_BENCH_PROFILE) to the cwd.
    if let Some(state) = config.parent() {
        command.current_dir(state);
    }
    Service::spawn("workerd", &mut command, log)
}

/// The workerd config for the built edge, with copies of its two modules beside it.
fn write_config(
    state: &std::path::Path,
    port: u16,
    credentials: &Credentials,
) -> Result<std::path::PathBuf> {
    let build = cmd::root().join("edge/build");
    for file in ["index.js", "index_bg.wasm"] {
        std::fs::copy(build.join(file), state.join(file))
            .with_context(|| format!("copying edge/build/{file}"))?;
    }
    let text = |value: &str| serde_json::to_string(value).unwrap_or_default();
    let v8_flags = if profiling() {
        r#"v8Flags = ["--perf-basic-prof"],"#
    } else {
        ""
    };
    let config = format!(
        r#"using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  {v8_flags}
  services = [
    (name = "edge", worker = .edge),
    (name = "do-storage", disk = (path = {storage}, writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:{port}", http = (), service = "edge")],
);

const edge :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "index.js"),
    (name = "index_bg.wasm", wasm = embed "index_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  bindings = [
    (name = "TESSERA_ADMIN_TOKEN", text = {admin}),
    (name = "TESSERA_SESSION_KEY", text = {session}),
    (name = "TESSERA_STORAGE_KEY", text = {storage_key}),
    (name = "TESSERA_SERVICE_NAME", text = "Tessera"),
    (name = "ACCOUNTS", durableObjectNamespace = "Account"),
    (name = "DIRECTORY", durableObjectNamespace = "Directory"),
    (name = "ISSUER", durableObjectNamespace = "Issuer"),
  ],
  durableObjectNamespaces = [
    (className = "Account", uniqueKey = "tessera-bench-account", enableSql = true),
    (className = "Directory", uniqueKey = "tessera-bench-directory", enableSql = true),
    (className = "Issuer", uniqueKey = "tessera-bench-issuer", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
);
"#,
        storage = text(&state.join("do").display().to_string()),
        admin = text(&credentials.admin_token),
        session = text(&credentials.session_key),
        storage_key = text(&credentials.storage_key),
    );
    let path = state.join("edge.capnp");
    std::fs::write(&path, config)?;
    Ok(path)
}

fn passcodes(
    credentials: &Credentials,
    base: &str,
    edge: &Service,
    cold: Vec<Duration>,
) -> Result<PasscodeFigures> {
    let pids = workerd_pids(edge)?;
    println!("workerd pid(s): {pids:?}");
    let perf_data = edge.log.with_file_name("perf.data");
    let control = (
        perf_data.with_file_name("perf.ctl"),
        perf_data.with_file_name("perf.ack"),
    );
    let perf = start_perf(&pids, &perf_data, &control);
    let perf_control = perf
        .is_ok()
        .then(|| json!({ "ctl": control.0, "ack": control.1 }));
    let request = json!({
        "base": base,
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "admin_token": credentials.admin_token,
        "pids": pids,
        "users": USERS,
        "warmup": WARMUP,
        "perf_control": perf_control,
    });
    let mut driver = cmd::command(crate::setup::interop_python());
    driver.arg(cmd::root().join("tests/interop/bench_passcode.py"));
    let out = run_with_stdin(&mut driver, &request.to_string());
    let isolate = perf.and_then(|perf| {
        drop(perf); // SIGTERM: perf writes its data.
        isolate_figures(&perf_data, out.as_deref().unwrap_or_default())
    });
    let out = out?;
    if profiling() {
        let _ = std::fs::write(perf_data.with_file_name("windows.json"), &out);
    }
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
        isolate,
        samples: all.len(),
        valid_cpu_ms: median(&mut valid),
        invalid_cpu_ms: median(&mut invalid),
        all_cpu_ms: median(&mut all),
        wall_ms: median(&mut wall),
        healthz_cpu_ms: median(&mut healthz),
        cold_start: {
            let mut cold = cold;
            cold.sort();
            cold.get(cold.len() / 2).copied().unwrap_or_default()
        },
    })
}

/// `perf record` on the workerd processes, started disabled and driven through the
/// `control` FIFOs (commands, acknowledgements), or why there is none.
fn start_perf(
    pids: &[u32],
    data: &std::path::Path,
    control: &(std::path::PathBuf, std::path::PathBuf),
) -> Result<Service, String> {
    crate::setup::perf().map_err(|error| format!("no perf: {error:#}"))?;
    for fifo in [&control.0, &control.1] {
        let _ = std::fs::remove_file(fifo);
        let made = cmd::command("mkfifo").arg(fifo).status();
        if !made.is_ok_and(|status| status.success()) {
            return Err(format!("mkfifo {} failed", fifo.display()));
        }
    }
    let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
    let mut command = cmd::command("perf");
    command
        .args(["record", "-q", "-e", "cpu-clock", "-c"])
        .arg(PERF_PERIOD_NS.to_string())
        .args(["-g", "-k", "CLOCK_MONOTONIC", "-D", "-1", "--control"])
        .arg(format!(
            "fifo:{},{}",
            control.0.display(),
            control.1.display()
        ))
        .arg("-p")
        .arg(pids.join(","))
        .arg("-o")
        .arg(data);
    let service = Service::spawn("perf", &mut command, &data.with_extension("log"))
        .map_err(|error| format!("perf record did not start: {error:#}"))?;
    // perf opens its FIFOs asynchronously; the driver seeds and warms up first anyway, and
    // fails (rather than waits) if they are not open when it first needs them.
    std::thread::sleep(Duration::from_millis(500));
    Ok(service)
}

/// Reads the samples back (`perf script`) and gives each to the request window it falls
/// in: per window, all samples and those in the isolate.
fn isolate_figures(data: &std::path::Path, out: &str) -> Result<IsolateFigures, String> {
    use std::io::BufRead;
    let figures: Value = serde_json::from_str(out).map_err(|error| error.to_string())?;
    let mut windows: Vec<(String, u64, u64)> = figures
        .get("windows")
        .and_then(Value::as_array)
        .map(|windows| {
            windows
                .iter()
                .filter_map(|w| {
                    let kind = w.get(0)?.as_str()?.to_owned();
                    Some((kind, w.get(1)?.as_u64()?, w.get(2)?.as_u64()?))
                })
                .collect()
        })
        .unwrap_or_default();
    windows.sort_by_key(|w| w.1);
    let mut counts = vec![(0u64, 0u64); windows.len()];
    let mut child = cmd::command("perf")
        .args(["script", "-F", "time,ip,sym", "--ns", "-i"])
        .arg(data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|error| format!("perf script: {error}"))?;
    let stdout = child.stdout.take().ok_or("perf script: no output")?;
    let mut current: Option<usize> = None;
    // Whether the current sample was already found in the isolate (frames may repeat).
    let mut marked = false;
    let mut sampled = 0usize;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(|error| format!("perf script: {error}"))?;
        if line.starts_with(char::is_whitespace) {
            if !marked
                && line.contains(ISOLATE_FRAME)
                && let Some(count) = current.and_then(|index| counts.get_mut(index))
            {
                count.1 += 1;
                marked = true;
            }
            continue;
        }
        let Some(time) = sample_time(&line) else {
            current = None;
            continue;
        };
        sampled += 1;
        marked = false;
        let index = windows.partition_point(|w| w.1 <= time);
        current = index
            .checked_sub(1)
            .filter(|&i| windows.get(i).is_some_and(|w| time <= w.2));
        if let Some(count) = current.and_then(|index| counts.get_mut(index)) {
            count.0 += 1;
        }
    }
    let _ = child.wait();
    if sampled == 0 {
        return Err("perf recorded no samples".to_owned());
    }
    let ms = |samples: u64| samples as f64 * PERF_PERIOD_NS as f64 / 1e6;
    let series = |kinds: &[&str], pick: fn(&(u64, u64)) -> u64| -> Vec<f64> {
        windows
            .iter()
            .zip(&counts)
            .filter(|(w, _)| kinds.contains(&w.0.as_str()))
            .map(|(_, count)| ms(pick(count)))
            .collect()
    };
    let isolate = |count: &(u64, u64)| count.1;
    let process = |count: &(u64, u64)| count.0;
    let share = |kinds: &[&str]| {
        let isolate: f64 = series(kinds, isolate).iter().sum();
        let process: f64 = series(kinds, process).iter().sum();
        if process > 0.0 {
            isolate / process
        } else {
            f64::NAN
        }
    };
    Ok(IsolateFigures {
        valid_share: share(&["valid"]),
        invalid_share: share(&["invalid"]),
        all_share: share(&["valid", "invalid"]),
        healthz_share: share(&["healthz"]),
        all_ms_under_perf: median(&mut series(&["valid", "invalid"], isolate)),
        process_all_ms_under_perf: median(&mut series(&["valid", "invalid"], process)),
    })
}

/// `   20092.753783991: ` → nanoseconds.
fn sample_time(line: &str) -> Option<u64> {
    let (seconds, fraction) = line.trim().trim_end_matches(':').split_once('.')?;
    let fraction = fraction.get(..9)?;
    Some(seconds.parse::<u64>().ok()? * 1_000_000_000 + fraction.parse::<u64>().ok()?)
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

/// The `workerd` processes in the service's process group (the binary itself, whatever
/// launcher started it).
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
        bail!("no workerd process in process group {group}");
    }
    Ok(pids)
}
