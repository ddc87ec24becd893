//! `cargo xtask bench`: prompt transfer size (and its message catalogs' share), the
//! prompt's navigation → interactive time in headless Chromium, edge cold start (wrangler
//! dev and workerd directly), worker bundle size, passcode CPU time in workerd, and
//! `shared`'s verifications beside Python peers. Each row names the command that produced
//! it. Figures are printed, never asserted.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::build::{self, PROMPT_FILES};
use crate::cmd::{self, Service, step};
use crate::stack::{self, Credentials};

const DEFAULT_BENCH_PORT: u16 = 28787;

/// The port of the benchmarks' own edge: 28787, or the edge port of `TESSERA_TEST_PORTS`
/// when it is set (parallel checkouts). Each benchmark starts and stops its edge in turn.
pub fn bench_port() -> u16 {
    if std::env::var_os("TESSERA_TEST_PORTS").is_some() {
        crate::test::test_ports().edge
    } else {
        DEFAULT_BENCH_PORT
    }
}

/// The stack the navigation → interactive figure is measured on (or
/// `TESSERA_TEST_PORTS`, like the tests, when several checkouts share a machine).
const BENCH_STACK_PORTS: stack::Ports = stack::Ports {
    edge: 28787,
    https: 28443,
    www: 28080,
};
/// Reloads the navigation → interactive median is taken over (after one first load).
const PROMPT_LOADS: usize = 20;
/// The prompt's budgets (issue #6), printed beside the figures.
const PROMPT_TRANSFER_BUDGET_KIB: f64 = 150.0;
const PROMPT_INTERACTIVE_BUDGET_MS: f64 = 150.0;
const COLD_START_RUNS: usize = 3;
const PUSH_RUNS: usize = 100;

#[derive(Debug)]
struct Row {
    what: String,
    value: String,
    source: String,
}

/// The sections `cargo xtask bench [SECTION…]` can be limited to (all when none is given).
pub const SECTIONS: &[&str] = &[
    "prompt",
    "interactive",
    "cold-start",
    "bundle",
    "workerd",
    "crypto",
    "push",
];

pub fn run(sections: &[String]) -> Result<()> {
    if let Some(unknown) = sections.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
        anyhow::bail!(
            "unknown bench section `{unknown}`; sections: {}",
            SECTIONS.join(", ")
        );
    }
    let want = |name: &str| sections.is_empty() || sections.iter().any(|s| s == name);
    crate::setup::run()?;
    build::all()?;
    let mut rows = Vec::new();

    if want("prompt") {
        step("bench: prompt transfer size");
        rows.extend(prompt_sizes()?);
        rows.push(catalog_size()?);
    }

    if want("interactive") {
        step(&format!(
            "bench: prompt navigation → interactive (headless Chromium, median of {PROMPT_LOADS} reloads)"
        ));
        rows.push(prompt_interactive()?);
    }

    if want("cold-start") {
        step(&format!(
            "bench: edge cold start (wrangler dev, median of {COLD_START_RUNS})"
        ));
        rows.push(cold_start()?);
    }

    if want("bundle") {
        step("bench: worker bundle (wrangler deploy --dry-run)");
        rows.push(bundle_size()?);
    }

    if want("workerd") {
        step("bench: edge in workerd directly: cold start, passcode CPU time (/proc schedstat)");
        rows.extend(workerd_direct()?);
    }

    if want("crypto") {
        step("bench: shared's verifications (criterion) beside pyotp, PyJWT and duo_client");
        rows.extend(core_crypto()?);
    }

    if want("push") {
        step(&format!(
            "bench: push latency over {PUSH_RUNS} pushes on local workerd (test ports)"
        ));
        rows.extend(push_latency()?);
    }

    println!("\n{:<42} {:<44} command", "measure", "value");
    println!("{}", "-".repeat(130));
    for row in rows {
        println!("{:<42} {:<44} {}", row.what, row.value, row.source);
    }
    Ok(())
}

fn prompt_sizes() -> Result<Vec<Row>> {
    let dist = build::prompt_dist();
    let source =
        "cargo xtask build (prompt: cargo build --release, wasm-bindgen, wasm-opt -Oz)".to_owned();
    let mut rows = Vec::new();
    let (mut raw_total, mut gzip_total, mut brotli_total) = (0, 0, 0);
    for file in PROMPT_FILES {
        let bytes =
            std::fs::read(dist.join(file)).with_context(|| format!("reading prompt/v1/{file}"))?;
        let (raw, gzip, brotli) = (bytes.len(), gzip_len(&bytes)?, brotli_len(&bytes)?);
        raw_total += raw;
        gzip_total += gzip;
        brotli_total += brotli;
        rows.push(Row {
            what: format!("prompt {file}"),
            value: sizes(raw, gzip, brotli),
            source: source.clone(),
        });
    }
    let within = if (brotli_total as f64) / 1024.0 <= PROMPT_TRANSFER_BUDGET_KIB {
        "within"
    } else {
        "OVER"
    };
    rows.push(Row {
        what: "prompt total (embed + JS + Wasm + CSS)".into(),
        value: format!(
            "{} ({within} the {PROMPT_TRANSFER_BUDGET_KIB} KiB br budget)",
            sizes(raw_total, gzip_total, brotli_total)
        ),
        source: "sum of the rows above (gzip -9 via flate2, brotli q11 via brotli)".into(),
    });
    Ok(rows)
}

/// The sentences of the six message catalogs (`prompt/src/strings/*.rs`), as they sit in
/// the Wasm's data: what the languages cost in the transfer above.
fn catalog_size() -> Result<Row> {
    let dir = cmd::root().join("prompt/src/strings");
    let mut text = String::new();
    let mut languages = 0;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.file_name().is_some_and(|name| name == "mod.rs") {
            continue;
        }
        languages += 1;
        let source = std::fs::read_to_string(&path)?;
        for line in source.lines() {
            if let Some((_, literal)) = line.split_once(": \"")
                && let Some(sentence) = literal.strip_suffix("\",")
            {
                text.push_str(sentence);
            }
        }
    }
    let bytes = text.as_bytes();
    Ok(Row {
        what: format!("prompt message catalogs ({languages} languages)"),
        value: sizes(bytes.len(), gzip_len(bytes)?, brotli_len(bytes)?),
        source: "the string literals of prompt/src/strings/*.rs (included in the Wasm above)"
            .into(),
    })
}

/// Navigation start → the `tessera:interactive` mark, over [`PROMPT_LOADS`] reloads of
/// the demo app's prompt page (www + edge in workerd on localhost).
fn prompt_interactive() -> Result<Row> {
    let state = std::env::temp_dir().join(format!("tessera-bench-stack-{}", std::process::id()));
    let stack = stack::Stack::start(
        &state,
        crate::test::custom_ports().unwrap_or(BENCH_STACK_PORTS),
        stack::DeviceState::File(state.join("device.json")),
    )?;
    let script = "tests/e2e/prompt_load.bench.mjs";
    let mut node = cmd::command(cmd::node_bin("node"));
    node.env("PATH", cmd::node_path())
        .env("TESSERA_WWW_URL", stack.www_url())
        .env("TESSERA_ALICE_PASSWORD", stack::ALICE_PASSWORD)
        .env("TESSERA_BENCH_LOADS", PROMPT_LOADS.to_string())
        .env("CHROMIUM", crate::setup::CHROMIUM)
        .arg(script);
    let out = cmd::output(&mut node).context("the prompt load benchmark failed");
    drop(stack);
    let _ = std::fs::remove_dir_all(&state);
    let figures: serde_json::Value = serde_json::from_str(out?.trim())
        .context("tests/e2e/prompt_load.bench.mjs printed no JSON")?;
    let number = |name: &str| {
        figures
            .get(name)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let median = number("median_ms");
    let within = if median <= PROMPT_INTERACTIVE_BUDGET_MS {
        "within"
    } else {
        "OVER"
    };
    Ok(Row {
        what: "prompt navigation → interactive method screen".into(),
        value: format!(
            "{median:.0} ms median of {PROMPT_LOADS} reloads (min {:.0}, max {:.0}, first load {:.0}; {within} the {PROMPT_INTERACTIVE_BUDGET_MS} ms goal)",
            number("min_ms"),
            number("max_ms"),
            number("first_ms"),
        ),
        source: format!(
            "node {script} (playwright-core, headless Chromium, www + edge in workerd)"
        ),
    })
}

fn sizes(raw: usize, gzip: usize, brotli: usize) -> String {
    format!("{} / {} gz / {} br", kib(raw), kib(gzip), kib(brotli))
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len())
}

fn brotli_len(bytes: &[u8]) -> Result<usize> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        writer.write_all(bytes)?;
    }
    Ok(out.len())
}

fn cold_start() -> Result<Row> {
    let state = std::env::temp_dir().join(format!("tessera-bench-{}", std::process::id()));
    std::fs::create_dir_all(&state)?;
    let credentials = Credentials::load_or_create(&state)?;
    let port = bench_port();
    cmd::ensure_port_free(port, "bench edge")?;
    let mut times = Vec::new();
    for run in 1..=COLD_START_RUNS {
        let started = Instant::now();
        let mut edge = stack::spawn_edge(
            &state,
            port,
            &credentials,
            &state.join(format!("edge-{run}.log")),
        )?;
        cmd::wait_http_ok(
            &format!("http://127.0.0.1:{port}/healthz"),
            &mut edge,
            Duration::from_secs(90),
        )?;
        let took = started.elapsed();
        println!(
            "run {run}: first 200 from /healthz after {:.2}s",
            took.as_secs_f64()
        );
        times.push(took);
        drop::<Service>(edge);
    }
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&state);
    let command = cmd::describe(&stack::edge_command(&state, port, &credentials));
    Ok(Row {
        what: "edge cold start via wrangler dev".into(),
        value: format!(
            "{:.2}s median of {COLD_START_RUNS} (spawn → 200)",
            median.as_secs_f64()
        ),
        source: redact(&command, &credentials),
    })
}

fn workerd_direct() -> Result<Vec<Row>> {
    let figures = crate::bench_passcode::measure()?;
    let source = "cargo xtask bench (xtask/src/bench_passcode.rs: workerd serve edge.capnp, no \
                  wrangler; tests/interop/bench_passcode.py: sequential requests, workerd CPU \
                  from /proc/PID/task/*/schedstat around each)";
    let isolate_source = "cargo xtask bench (every other measured user under `perf record -e \
                          cpu-clock -c 50000 -g -k CLOCK_MONOTONIC`, enabled for that user's \
                          requests: the share of samples with workerd::IoContext::runImpl on \
                          the stack inside the requests' windows)";
    Ok(vec![
        Row {
            what: "edge cold start via workerd directly".into(),
            value: format!(
                "{:.3}s median of 3 (spawn → 200)",
                figures.cold_start.as_secs_f64()
            ),
            source: source.into(),
        },
        Row {
            what: "passcode verification CPU (workerd)".into(),
            value: format!(
                "median {:.2} ms ({:.2} right, {:.2} wrong; budget 2 ms), wall {:.1} ms, n={}",
                figures.all_cpu_ms,
                figures.valid_cpu_ms,
                figures.invalid_cpu_ms,
                figures.wall_ms,
                figures.samples
            ),
            source: source.into(),
        },
        Row {
            what: "  GET /healthz CPU (workerd floor)".into(),
            value: format!("median {:.2} ms", figures.healthz_cpu_ms),
            source: source.into(),
        },
        match &figures.isolate {
            Ok(isolate) => {
                let all = figures.all_cpu_ms * isolate.all_share;
                Row {
                    what: "passcode verification CPU (isolate)".into(),
                    value: format!(
                        "median {all:.2} ms ({:.2} right, {:.2} wrong; budget 2 ms; ratio {:.2} \
                         of budget) = the isolate's share of the samples ({:.0}%) × the \
                         process median; /healthz {:.2} ms ({:.0}%); under perf: isolate {:.2} \
                         ms, process {:.2} ms",
                        figures.valid_cpu_ms * isolate.valid_share,
                        figures.invalid_cpu_ms * isolate.invalid_share,
                        all / 2.0,
                        isolate.all_share * 100.0,
                        figures.healthz_cpu_ms * isolate.healthz_share,
                        isolate.healthz_share * 100.0,
                        isolate.all_ms_under_perf,
                        isolate.process_all_ms_under_perf,
                    ),
                    source: isolate_source.into(),
                }
            }
            Err(why) => Row {
                what: "passcode verification CPU (isolate)".into(),
                value: format!("n/a: {why}"),
                source: isolate_source.into(),
            },
        },
    ])
}

fn redact(command: &str, credentials: &Credentials) -> String {
    command
        .replace(&credentials.admin_token, "…")
        .replace(&credentials.session_key, "…")
        .replace(&credentials.storage_key, "…")
}

fn bundle_size() -> Result<Row> {
    let mut deploy = cmd::command(cmd::node_bin("wrangler"));
    deploy
        .env("PATH", cmd::node_path())
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("WRANGLER_SEND_METRICS", "false")
        .args([
            "deploy",
            "--dry-run",
            "--config",
            "edge/wrangler.toml",
            "--outdir",
        ])
        // Absolute: wrangler resolves a relative --outdir against edge/.
        .arg(cmd::root().join("target/edge-dry-run"));
    let source = cmd::describe(&deploy);
    let (success, out) = cmd::run_tee(&mut deploy)?;
    let upload = out
        .lines()
        .find(|line| line.contains("Total Upload"))
        .map(|line| {
            line.trim()
                .trim_start_matches("Total Upload:")
                .trim()
                .to_owned()
        });
    let value = match (success, upload) {
        (true, Some(upload)) => upload,
        (true, None) => {
            let bytes: u64 = std::fs::read_dir(cmd::root().join("target/edge-dry-run"))?
                .flatten()
                .filter_map(|entry| entry.metadata().ok())
                .map(|meta| meta.len())
                .sum();
            format!(
                "{} (files in target/edge-dry-run)",
                kib(usize::try_from(bytes).unwrap_or(usize::MAX))
            )
        }
        (false, _) => "FAILED (see output above)".into(),
    };
    Ok(Row {
        what: "worker bundle (wrangler deploy --dry-run)".into(),
        value,
        source,
    })
}

/// The criterion benchmarks of `shared/benches/core.rs`, each beside the same operation in
/// Python (`tests/interop/bench.py`), in ns/op with the ratio.
fn core_crypto() -> Result<Vec<Row>> {
    let mut bench = cmd::cargo();
    bench.args([
        "bench",
        "-p",
        "tessera-shared",
        "--bench",
        "core",
        "--",
        "--warm-up-time",
        "1",
        "--measurement-time",
        "3",
    ]);
    let rust_source = cmd::describe(&bench);
    cmd::run(&mut bench)?;
    let python = crate::setup::interop_python();
    let script = cmd::root().join("tests/interop/bench.py");
    let mut peer = cmd::command(&python);
    peer.arg(&script);
    let python_source =
        "python tests/interop/bench.py (pyotp, PyJWT, duo_client, cryptography; best of 5)";
    let figures: serde_json::Value = cmd::output(&mut peer)
        .context("tests/interop/bench.py failed")
        .and_then(|out| serde_json::from_str(&out).context("bench.py printed no JSON"))?;
    let mut rows = Vec::new();
    for name in [
        "totp_verify",
        "hs512_sign",
        "hs512_verify",
        "request_signature_verify",
        "ed25519_verify",
    ] {
        let rust = criterion_median_ns(name)?;
        let value = match figures.get(name).and_then(serde_json::Value::as_f64) {
            Some(py) => format!("{rust:.0} ns/op (Python {py:.0} ns/op, {:.1}x)", py / rust),
            None => format!("{rust:.0} ns/op"),
        };
        rows.push(Row {
            what: format!("shared {name}"),
            value,
            source: format!("{rust_source}; {python_source}"),
        });
    }
    Ok(rows)
}

/// Criterion's median estimate for `name`, from `target/criterion/NAME/new/estimates.json`.
fn criterion_median_ns(name: &str) -> Result<f64> {
    let path = cmd::root()
        .join("target/criterion")
        .join(name)
        .join("new/estimates.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let estimates: serde_json::Value = serde_json::from_str(&text)?;
    estimates
        .pointer("/median/point_estimate")
        .and_then(serde_json::Value::as_f64)
        .with_context(|| format!("no median in {}", path.display()))
}

/// Push request → the device's WebSocket, and device approval → the prompt's long poll,
/// measured by `tests/bench/push_latency.mjs` against a full local stack.
fn push_latency() -> Result<Vec<Row>> {
    let state = std::env::temp_dir().join(format!("tessera-bench-push-{}", std::process::id()));
    let device_state = state.join("device.json");
    let stack = stack::Stack::start_with(
        &state,
        crate::test::test_ports(),
        stack::DeviceState::File(device_state),
        // One user receives every push: lift the per-user limit for the benchmark only.
        &[("TESSERA_PUSH_RATE_LIMIT", "100000/1")],
    )?;
    let script = "tests/bench/push_latency.mjs";
    let mut node = cmd::command(cmd::node_bin("node"));
    node.current_dir(cmd::root())
        .env("PATH", cmd::node_path())
        .env("TESSERA_WWW_URL", stack.www_url())
        .env("TESSERA_EDGE_URL", stack.edge_url())
        .env("TESSERA_DEVICE_BIN", build::device_bin())
        .env("TESSERA_CLIENT_ID", &stack.credentials.client_id)
        .env("TESSERA_CLIENT_SECRET", &stack.credentials.client_secret)
        .env("TESSERA_ADMIN_TOKEN", &stack.credentials.admin_token)
        .env("TESSERA_BENCH_PUSHES", PUSH_RUNS.to_string())
        .arg(script);
    let output = cmd::output(&mut node).context("the push latency script failed")?;
    drop(stack);
    let _ = std::fs::remove_dir_all(&state);
    let result: serde_json::Value = output
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .context("no result line from the push latency script")?;
    let figures = |name: &str| -> Vec<f64> {
        let mut values: Vec<f64> = result
            .get(name)
            .and_then(serde_json::Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter_map(serde_json::Value::as_f64)
                    .collect()
            })
            .unwrap_or_default();
        values.sort_by(f64::total_cmp);
        values
    };
    let percentile = |values: &[f64], p: f64| -> f64 {
        let last = values.len().saturating_sub(1);
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let index = ((last as f64) * p).round() as usize;
        values.get(index).copied().unwrap_or(f64::NAN)
    };
    let source = format!("cargo xtask bench (node {script}, tessera-device watch)");
    Ok([
        ("push request → device receives (WebSocket)", "deliver_ms"),
        ("device approval → long poll returns success", "approve_ms"),
    ]
    .into_iter()
    .map(|(what, name)| {
        let values = figures(name);
        Row {
            what: what.to_owned(),
            value: format!(
                "median {:.1} ms, p99 {:.1} ms ({} pushes, goal < 50 ms)",
                percentile(&values, 0.5),
                percentile(&values, 0.99),
                values.len()
            ),
            source: source.clone(),
        }
    })
    .collect())
}
