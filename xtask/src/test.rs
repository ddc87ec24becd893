//! `cargo xtask test`: every test layer, a summary table, and a last line CI can read.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::Result;

use crate::build;
use crate::cmd::{self, step};
use crate::setup;
use crate::stack::{self, DeviceState, Stack};

#[derive(Debug)]
struct Layer {
    name: &'static str,
    passed: u32,
    failed: u32,
    seconds: f64,
    note: String,
}

#[derive(Debug, Default)]
struct Report {
    layers: Vec<Layer>,
}

impl Report {
    fn record(
        &mut self,
        name: &'static str,
        started: Instant,
        passed: u32,
        failed: u32,
        note: String,
    ) {
        let seconds = started.elapsed().as_secs_f64();
        self.layers.push(Layer {
            name,
            passed,
            failed,
            seconds,
            note,
        });
    }

    /// A check (fmt, clippy, a build) counts as one test.
    fn check(&mut self, name: &'static str, outcome: impl FnOnce() -> Result<()>) -> bool {
        let started = Instant::now();
        match outcome() {
            Ok(()) => {
                self.record(name, started, 1, 0, String::new());
                true
            }
            Err(error) => {
                eprintln!("{name}: {error:#}");
                self.record(name, started, 0, 1, "FAILED: see its output above".into());
                false
            }
        }
    }

    /// A test command whose output has libtest-style `test result:` lines.
    fn libtest(&mut self, name: &'static str, command: &mut Command) {
        let started = Instant::now();
        let (success, passed, failed, note) = match cmd::run_tee(command) {
            Ok((success, out)) => {
                let (passed, failed) = count_libtest(&out);
                (success, passed, failed, String::new())
            }
            Err(error) => (false, 0, 0, first_line(&format!("{error:#}"))),
        };
        // A build failure reports no tests: count it as one failure.
        let failed = if success { failed } else { failed.max(1) };
        let note = match (success, passed + failed) {
            (false, _) if note.is_empty() => "FAILED: see its output above".to_owned(),
            (true, 0) => "no tests ran".to_owned(),
            _ => note,
        };
        self.record(name, started, passed, failed, note);
    }

    fn print(&self, started: Instant) {
        let (mut passed, mut failed) = (0, 0);
        println!(
            "\n{:<36} {:>7} {:>7} {:>8}  note",
            "layer", "passed", "failed", "time"
        );
        println!("{}", "-".repeat(72));
        for layer in &self.layers {
            println!(
                "{:<36} {:>7} {:>7} {:>7.1}s  {}",
                layer.name, layer.passed, layer.failed, layer.seconds, layer.note
            );
            passed += layer.passed;
            failed += layer.failed;
        }
        println!("{}", "-".repeat(72));
        println!("total time {:.0}s", started.elapsed().as_secs_f64());
        println!("{passed} passed, {failed} failed");
    }

    fn failed(&self) -> bool {
        self.layers.iter().any(|layer| layer.failed > 0)
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(60).collect()
}

/// Sums `test result: ok. 12 passed; 0 failed; …` lines (cargo test, wasm-bindgen-test-runner).
fn count_libtest(output: &str) -> (u32, u32) {
    let (mut passed, mut failed) = (0, 0);
    for line in output
        .lines()
        .filter(|line| line.starts_with("test result:"))
    {
        passed += number_before(line, " passed");
        failed += number_before(line, " failed");
    }
    (passed, failed)
}

fn number_before(line: &str, label: &str) -> u32 {
    line.find(label)
        .and_then(|end| line.get(..end))
        .and_then(|head| head.rsplit([' ', ';', '.']).next())
        .and_then(|word| word.parse().ok())
        .unwrap_or(0)
}

/// Sums the `# pass N` / `# fail N` totals of a TAP report (node --test).
fn count_tap(tap: &str) -> (u32, u32) {
    let total = |prefix: &str| {
        tap.lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .filter_map(|rest| rest.trim().parse::<u32>().ok())
            .sum()
    };
    (total("# pass "), total("# fail "))
}

/// Returns whether every layer passed; the report's last line is `N passed, N failed`.
pub fn run() -> Result<bool> {
    let started = Instant::now();
    let mut report = Report::default();
    if !report.check("setup", setup::run) {
        report.print(started);
        return Ok(false);
    }

    step("test: formatting");
    report.check("cargo fmt --check", || {
        cmd::run(cmd::cargo().args(["fmt", "--all", "--", "--check"]))
    });

    step("test: clippy (native)");
    report.check("clippy native", || {
        cmd::run(cmd::cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    });

    step("test: clippy (wasm32)");
    report.check("clippy wasm32", || {
        cmd::run(cmd::cargo().args([
            "clippy",
            "-p",
            "tessera-shared",
            "-p",
            "tessera-edge",
            "-p",
            "tessera-prompt",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]))
    });

    step("test: native tests");
    report.libtest(
        "native tests (cargo test)",
        cmd::cargo().args(["test", "--workspace"]),
    );

    step("test: interoperability with the official Duo clients, pyotp and PyJWT (Python)");
    if cmd::root().join("tests/interop/peers.py").exists() {
        let mut interop = cmd::cargo();
        interop
            .env("TESSERA_PYTHON", setup::interop_python())
            .args([
                "test",
                "-p",
                "tessera-shared",
                "--test",
                "it",
                "--",
                "--ignored",
            ]);
        report.libtest("interop (Python peers)", &mut interop);
    }

    step("test: prompt in headless Chromium (wasm-bindgen-test)");
    let mut prompt = wasm_test("tessera-prompt");
    prompt.current_dir(cmd::root().join("prompt"));
    report.libtest("prompt wasm (headless Chromium)", &mut prompt);

    step("test: shared in Node (wasm-bindgen-test)");
    // The library's unit tests; the `it` binary drives Python peers, so it stays native.
    report.libtest(
        "shared wasm (Node)",
        wasm_test("tessera-shared").arg("--lib"),
    );

    step("test: builds");
    let built = report.check("build prompt", build::prompt)
        & report.check("build edge", build::edge)
        & report.check("build native binaries", build::native);

    if built {
        end_to_end(&mut report);
    } else {
        report.record(
            "end-to-end (Playwright)",
            Instant::now(),
            0,
            1,
            "skipped: a build failed".into(),
        );
    }

    report.print(started);
    Ok(!report.failed())
}

fn wasm_test(package: &str) -> Command {
    let mut command = cmd::cargo();
    command
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("PATH", cmd::node_path())
        .env("CHROMEDRIVER", setup::CHROMEDRIVER)
        .args(["test", "-p", package, "--target", "wasm32-unknown-unknown"]);
    command
}

/// `cargo xtask e2e [NAME…]`: setup, builds and only the end-to-end layer, limited to
/// `tests/e2e/<NAME>.test.mjs` when names are given. For iterating; CI runs `test`.
pub fn run_end_to_end(names: &[String]) -> Result<bool> {
    let started = Instant::now();
    let mut report = Report::default();
    if !report.check("setup", setup::run) {
        report.print(started);
        return Ok(false);
    }
    let built = report.check("build prompt", build::prompt)
        & report.check("build edge", build::edge)
        & report.check("build native binaries", build::native);
    if built {
        end_to_end_files(&mut report, names);
    }
    report.print(started);
    Ok(!report.failed())
}

fn end_to_end(report: &mut Report) {
    end_to_end_files(report, &[]);
}

fn end_to_end_files(report: &mut Report, names: &[String]) {
    step("test: end-to-end against the real stack (test ports)");
    let started = Instant::now();
    let root = cmd::root();
    let state = std::env::temp_dir().join(format!(
        "tessera-test-{}",
        cmd::random_string(8, b"abcdefghijklmnopqrstuvwxyz0123456789").unwrap_or_default()
    ));
    let device_state = state.join("device.json");
    let mut stack = match Stack::start_with(
        &state,
        test_ports(),
        DeviceState::File(device_state.clone()),
        // Pushes expire quickly so the timeout test is short.
        &[("TESSERA_PUSH_LIFETIME_SECONDS", stack::TEST_PUSH_LIFETIME)],
    ) {
        Ok(stack) => stack,
        Err(error) => {
            eprintln!("starting the stack: {error:#}");
            report.record(
                "end-to-end (Playwright)",
                started,
                0,
                1,
                "the stack did not start".into(),
            );
            eprintln!("state and logs kept in {}", state.display());
            return;
        }
    };
    let screenshots = root.join("target/e2e-screenshots");
    // Only this run's screenshots.
    let _ = std::fs::remove_dir_all(&screenshots);
    let _ = std::fs::create_dir_all(&screenshots);
    let tap = stack.state.join("e2e.tap");
    let mut node = e2e_command(&stack, &device_state, &screenshots, &tap, names);
    let success = cmd::run(&mut node).is_ok();
    let (passed, failed) = count_tap(&std::fs::read_to_string(&tap).unwrap_or_default());
    let alive = stack.check_running();
    let failed = if success { failed } else { failed.max(1) };
    let note = match alive {
        Err(error) => first_line(&format!("{error:#}")),
        Ok(()) => format!(
            "screenshots: {}",
            screenshots
                .strip_prefix(&root)
                .unwrap_or(&screenshots)
                .display()
        ),
    };
    report.record(
        "end-to-end (Playwright, Chromium)",
        started,
        passed,
        failed,
        note,
    );
    let state = stack.state.clone();
    drop(stack);
    if failed == 0 {
        let _ = std::fs::remove_dir_all(&state);
    } else {
        eprintln!("state and logs kept in {}", state.display());
    }
}

/// The contract's test ports, or `TESSERA_TEST_PORTS=edge,https,www` when they are taken
/// (another checkout's test run, parallel CI jobs).
pub fn test_ports() -> stack::Ports {
    custom_ports().unwrap_or(stack::TEST_PORTS)
}

/// `TESSERA_TEST_PORTS=edge,https,www`, when set.
pub fn custom_ports() -> Option<stack::Ports> {
    std::env::var("TESSERA_TEST_PORTS").ok().and_then(|text| {
        let ports: Vec<u16> = text
            .split(',')
            .filter_map(|port| port.trim().parse().ok())
            .collect();
        match ports.as_slice() {
            [edge, https, www] => Some(stack::Ports {
                edge: *edge,
                https: *https,
                www: *www,
            }),
            _ => None,
        }
    })
}

fn e2e_command(
    stack: &Stack,
    device_state: &Path,
    screenshots: &Path,
    tap: &Path,
    names: &[String],
) -> Command {
    let mut node = cmd::command(cmd::node_bin("node"));
    node.env("PATH", cmd::node_path())
        .env("TESSERA_WWW_URL", stack.www_url())
        .env("TESSERA_EDGE_URL", stack.edge_url())
        .env("TESSERA_EDGE_HTTPS_URL", stack.edge_https_url())
        .env("TESSERA_CA", &stack.tls.ca)
        .env("TESSERA_DEVICE_BIN", build::device_bin())
        .env("TESSERA_DEVICE_STATE", device_state)
        .env("TESSERA_ALICE_PASSWORD", stack::ALICE_PASSWORD)
        .env("CHROMIUM", setup::CHROMIUM)
        .env("TESSERA_SCREENSHOTS", screenshots)
        // For tests that act as the relying app (official Duo SDKs) or seed extra users.
        .env("TESSERA_CLIENT_ID", &stack.credentials.client_id)
        .env("TESSERA_CLIENT_SECRET", &stack.credentials.client_secret)
        .env("TESSERA_ADMIN_TOKEN", &stack.credentials.admin_token)
        .env("TESSERA_PUSH_LIFETIME_SECONDS", stack::TEST_PUSH_LIFETIME)
        .env("TESSERA_PYTHON", setup::interop_python())
        // For tests that read the stack's state on disk (secrets at rest) or start a
        // second edge of their own to restart it (state surviving a workerd restart).
        .env("TESSERA_STATE_DIR", &stack.state)
        .env("TESSERA_EDGE_COMMAND", edge_command_template(stack))
        .args([
            "--test",
            // One file at a time: each drives its own Chromium on a 2-core machine.
            "--test-concurrency=1",
            "--test-reporter=spec",
            "--test-reporter-destination=stdout",
            "--test-reporter=tap",
        ])
        .arg(format!("--test-reporter-destination={}", tap.display()));
    if names.is_empty() {
        // Node 22 takes glob patterns (it expands them itself), not directories.
        node.arg("tests/e2e/*.test.mjs");
    } else {
        node.args(
            names
                .iter()
                .map(|name| format!("tests/e2e/{name}.test.mjs")),
        );
    }
    node
}

/// The edge's command line as JSON (`program`, `args`, `env`, `cwd`) with `@PORT@` and
/// `@STATE@` where a test fills in its own port and state folder: the same wrangler dev,
/// secrets and flags as the stack's edge.
fn edge_command_template(stack: &Stack) -> String {
    let command = stack::edge_command(Path::new("@STATE@"), 0, &stack.credentials);
    let text = |value: &std::ffi::OsStr| value.to_string_lossy().into_owned();
    let mut args: Vec<String> = command.get_args().map(text).collect();
    if let Some(index) = args.iter().position(|arg| arg == "--port")
        && let Some(port) = args.get_mut(index + 1)
    {
        "@PORT@".clone_into(port);
    }
    let env: serde_json::Map<String, serde_json::Value> = command
        .get_envs()
        .filter_map(|(name, value)| Some((text(name), text(value?).into())))
        .collect();
    serde_json::json!({
        "program": text(command.get_program()),
        "args": args,
        "env": env,
        "cwd": command.get_current_dir().map(|dir| text(dir.as_os_str())),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_libtest_and_tap_totals() {
        let out = "running 3 tests\ntest result: ok. 3 passed; 0 failed; 0 ignored\n\
                   test result: FAILED. 2 passed; 1 failed; 0 ignored\n";
        assert_eq!(count_libtest(out), (5, 1));
        assert_eq!(
            count_tap("ok 1 - a\n# tests 3\n# pass 2\n# fail 1\n"),
            (2, 1)
        );
    }
}
