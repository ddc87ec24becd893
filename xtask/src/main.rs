//! `cargo xtask`: the only place for Tessera's automation (setup, builds, the local stack,
//! the test layers and the benchmarks).
//!
//! It drives Tessera's crates only through cargo, wrangler and their binaries and depends on
//! none of them (architecture invariant). Every install step is idempotent and skips when
//! the right version is already present, so a fresh machine needs only `cargo xtask demo`
//! or `cargo xtask test`.

mod bench;
mod bench_passcode;
mod build;
mod cmd;
mod fuzz;
mod setup;
mod stack;
mod test;
mod tls;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup   install the toolchain pieces (wasm32 target, wasm-bindgen-cli, worker-build,
          npm packages, Chromium) when missing; fast when everything is present
  build   setup + build the prompt, the edge worker and the native binaries
  demo    setup + build + run the local stack (edge :8787, HTTPS :8443, www :8080)
          until Ctrl-C; state and credentials live in .tessera/
  test    every test layer (fmt, clippy native + wasm32, native tests, interop with
          Python peers, wasm tests, end-to-end in headless Chromium against the real
          stack on ports 18787/18443/18080, or TESSERA_TEST_PORTS=edge,https,www);
          ends with `N passed, N failed`
  e2e     [NAME…]: setup + builds + only the end-to-end layer (tests/e2e/NAME.test.mjs,
          all when no name is given); for iterating, CI runs `test`
  bench   [SECTION…]: figures, printed (never asserted): prompt (transfer size),
          interactive (navigation → interactive), cold-start, bundle, workerd (cold start
          and passcode CPU in workerd directly), crypto (shared beside Python peers), push
          (latency); all sections when none is given
  fuzz    [--seconds N] [TARGET…]: run the cargo-fuzz targets of fuzz/ (installs
          cargo-fuzz when missing), N seconds each (default 60)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("help");
    if let Err(error) = cmd::install_interrupt_handler() {
        eprintln!("xtask: {error:#}");
        return ExitCode::FAILURE;
    }
    let result = match command {
        "setup" => setup::run(),
        "build" => setup::run().and_then(|()| build::all()),
        "demo" => stack::demo(),
        "test" => match test::run() {
            Ok(true) => Ok(()),
            // The summary's last line already says what failed.
            Ok(false) => return ExitCode::FAILURE,
            Err(error) => Err(error),
        },
        "e2e" => match test::run_end_to_end(args.get(1..).unwrap_or_default()) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(error) => Err(error),
        },
        "bench" => bench::run(args.get(1..).unwrap_or_default()),
        "fuzz" => fuzz::run(args.get(1..).unwrap_or_default()),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprint!("xtask: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask {command}: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
