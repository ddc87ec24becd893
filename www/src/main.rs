//! `tessera-www --config PATH`: serves the demo relying application until SIGINT/SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tessera_www::Config;

#[derive(Debug, Parser)]
#[command(
    name = "tessera-www",
    version,
    about = "Tessera's demo relying application"
)]
struct Args {
    /// The JSON configuration (`cargo xtask demo` writes `.tessera/www.json`).
    #[arg(long, value_name = "PATH")]
    config: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("tessera-www: {e}");
            return ExitCode::from(2);
        }
    };
    if config.edge_url.starts_with("https://") {
        eprintln!(
            "tessera-www: warning: edge_url is https but this build exchanges codes over plain HTTP only"
        );
    }
    let listener = match tokio::net::TcpListener::bind(&config.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("tessera-www: cannot listen on {}: {e}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    let bound = listener
        .local_addr()
        .map_or_else(|_| config.listen.clone(), |a| a.to_string());
    eprintln!(
        "tessera-www listening on http://{bound} (open {})",
        config.public_url
    );
    let served = axum::serve(listener, tessera_www::router(config))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    match served {
        Ok(()) => {
            eprintln!("tessera-www: stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tessera-www: server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
