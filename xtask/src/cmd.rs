//! Running commands visibly, child process groups, paths and small helpers.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

/// The repository root (the workspace that contains `xtask/`).
pub fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The cargo that runs us, so the same toolchain builds everything.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    command.current_dir(root());
    command
}

/// A command run from the repository root.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command.current_dir(root());
    command
}

/// `node_modules/.bin` (Node 22, wrangler, wasm-opt, esbuild) first on `PATH`.
pub fn node_path() -> OsString {
    let mut paths = vec![root().join("node_modules/.bin")];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

pub fn node_bin(name: &str) -> PathBuf {
    root().join("node_modules/.bin").join(name)
}

/// Prints a step heading.
pub fn step(message: &str) {
    println!("\n==> {message}");
}

/// The command line as a user could paste it (relative to the repository root).
pub fn describe(command: &Command) -> String {
    let root = root();
    let mut text = String::new();
    if let Some(dir) = command.get_current_dir()
        && dir != root
    {
        let shown = dir.strip_prefix(&root).unwrap_or(dir);
        text.push_str(&format!("(cd {} &&) ", shown.display()));
    }
    for (key, value) in command.get_envs() {
        if key == "PATH" {
            continue;
        }
        if let Some(value) = value {
            let value = value.to_string_lossy();
            let value = Path::new(value.as_ref());
            let shown = value.strip_prefix(&root).unwrap_or(value);
            text.push_str(&format!("{}={} ", key.to_string_lossy(), shown.display()));
        }
    }
    let program = command.get_program().to_string_lossy().into_owned();
    let program = Path::new(&program);
    if program.file_name().is_some_and(|name| name == "cargo") {
        // `$CARGO` is the toolchain's full path; show what a person would type.
        text.push_str("cargo");
    } else {
        let shown = program.strip_prefix(&root).unwrap_or(program);
        text.push_str(&shown.display().to_string());
    }
    for arg in command.get_args() {
        let arg = arg.to_string_lossy();
        // `--var TESSERA_ADMIN_TOKEN:…`: secrets stay out of logs.
        if let Some((name, _)) = arg.split_once(':')
            && name.starts_with("TESSERA_")
            && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        {
            text.push_str(&format!(" {name}:…"));
            continue;
        }
        if arg.contains(' ') || arg.contains('\'') || arg.is_empty() {
            text.push_str(&format!(" \"{arg}\""));
        } else {
            let as_path = Path::new(arg.as_ref());
            text.push(' ');
            text.push_str(
                &as_path
                    .strip_prefix(&root)
                    .unwrap_or(as_path)
                    .display()
                    .to_string(),
            );
        }
    }
    text
}

/// Runs a command with inherited output, failing on a non-zero exit.
pub fn run(command: &mut Command) -> Result<()> {
    println!("$ {}", describe(command));
    let status = command
        .status()
        .with_context(|| format!("could not start `{}`", describe(command)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(command));
    }
    Ok(())
}

/// Runs a command, echoing its stdout while keeping a copy; returns (success, stdout).
pub fn run_tee(command: &mut Command) -> Result<(bool, String)> {
    println!("$ {}", describe(command));
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{}`", describe(command)))?;
    let mut captured = String::new();
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap_or_default();
            let _ = writeln!(out, "{line}");
            captured.push_str(&line);
            captured.push('\n');
        }
    }
    let status = child.wait()?;
    Ok((status.success(), captured))
}

/// Runs a command quietly and returns its stdout if it succeeded.
pub fn output(command: &mut Command) -> Option<String> {
    let output = command.stderr(Stdio::null()).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Latest modification time under `paths` (files or directories, recursively).
pub fn newest_mtime(paths: &[PathBuf]) -> Option<SystemTime> {
    fn visit(path: &Path, newest: &mut Option<SystemTime>) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(path) {
                for entry in entries.flatten() {
                    visit(&entry.path(), newest);
                }
            }
        } else if let Ok(modified) = meta.modified() {
            *newest = Some(newest.map_or(modified, |current| current.max(modified)));
        }
    }
    let mut newest = None;
    for path in paths {
        visit(path, &mut newest);
    }
    newest
}

/// True when `output` exists and is newer than everything under `inputs`.
pub fn up_to_date(output: &Path, inputs: &[PathBuf]) -> bool {
    let Ok(built) = std::fs::metadata(output).and_then(|meta| meta.modified()) else {
        return false;
    };
    newest_mtime(inputs).is_some_and(|newest| newest <= built)
}

/// Random characters from `alphabet`, by rejection sampling over OS randomness.
pub fn random_string(len: usize, alphabet: &[u8]) -> Result<String> {
    let limit = 256 - (256 % alphabet.len());
    let mut text = String::with_capacity(len);
    while text.len() < len {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("getrandom: {error}"))?;
        for byte in bytes {
            if usize::from(byte) < limit
                && text.len() < len
                && let Some(&c) = alphabet.get(usize::from(byte) % alphabet.len())
            {
                text.push(char::from(c));
            }
        }
    }
    Ok(text)
}

pub const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("getrandom: {error}"))?;
    Ok(bytes)
}

/// Process groups of the children we started; killed on exit and on Ctrl-C.
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Set once Ctrl-C arrived: the handler is reaping the children, so their exits are
/// expected and not errors.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// On Ctrl-C (or SIGTERM/SIGHUP) stop every child process group, then exit.
pub fn install_interrupt_handler() -> Result<()> {
    ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        eprintln!("\nxtask: interrupted, stopping children");
        let groups: Vec<i32> = GROUPS
            .lock()
            .map(|groups| groups.clone())
            .unwrap_or_default();
        for group in &groups {
            terminate_group(*group, Duration::from_secs(3));
        }
        std::process::exit(130);
    })
    .context("installing the Ctrl-C handler")
}

/// Whether any process of the group is left. The leader is reaped first when it is our
/// exited child: a zombie still counts for `kill(0)`.
fn group_alive(group: i32) -> bool {
    let pid = Pid::from_raw(group);
    let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
    killpg(pid, None).is_ok()
}

fn terminate_group(group: i32, grace: Duration) {
    let pid = Pid::from_raw(group);
    if killpg(pid, Signal::SIGTERM).is_err() {
        return;
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !group_alive(group) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = killpg(pid, Signal::SIGKILL);
}

/// A long-running child in its own process group, with its output in a log file.
/// Dropping it stops the whole group (wrangler's workerd included).
#[derive(Debug)]
pub struct Service {
    pub name: String,
    pub log: PathBuf,
    child: Child,
    group: i32,
}

impl Service {
    pub fn spawn(name: &str, command: &mut Command, log: &Path) -> Result<Self> {
        println!("$ {}   (log: {})", describe(command), log.display());
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let out =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("could not start {name}: `{}`", describe(command)))?;
        let group = i32::try_from(child.id()).context("pid out of range")?;
        if let Ok(mut groups) = GROUPS.lock() {
            groups.push(group);
        }
        Ok(Self {
            name: name.to_owned(),
            log: log.to_path_buf(),
            child,
            group,
        })
    }

    /// The process group: the child and everything it started (wrangler's workerd).
    pub fn group(&self) -> i32 {
        self.group
    }

    /// `Err` with the log's tail when the process has exited.
    pub fn check_running(&mut self) -> Result<()> {
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Ok(());
        }
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}); last lines of {}:\n{}",
                self.name,
                self.log.display(),
                self.log_tail(30)
            );
        }
        Ok(())
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all.iter()
            .skip(all.len().saturating_sub(lines))
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        terminate_group(self.group, Duration::from_secs(5));
        let _ = self.child.wait();
        if let Ok(mut groups) = GROUPS.lock() {
            groups.retain(|group| *group != self.group);
        }
    }
}

/// Polls `url` until it answers 200, while checking that `service` is still running.
pub fn wait_http_ok(url: &str, service: &mut Service, timeout: Duration) -> Result<Duration> {
    let started = Instant::now();
    let agent = http_agent(Duration::from_secs(2));
    loop {
        if let Ok(response) = agent.get(url).call()
            && response.status() == 200
        {
            return Ok(started.elapsed());
        }
        service.check_running()?;
        if started.elapsed() > timeout {
            bail!(
                "{url} did not answer 200 within {}s; last lines of {}:\n{}",
                timeout.as_secs(),
                service.log.display(),
                service.log_tail(30)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A plain-HTTP client for the local stack that returns 4xx/5xx as responses.
pub fn http_agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

/// Fails early with a clear message when a port is taken.
pub fn ensure_port_free(port: u16, what: &str) -> Result<()> {
    std::net::TcpListener::bind(("127.0.0.1", port)).map(drop).with_context(|| {
        format!("port {port} ({what}) is already in use: is another `cargo xtask demo`/`test` running?")
    })
}
