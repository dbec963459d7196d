//! `mscommerce-emulator serve --port 0 --data <dir>`: runs the emulated licensing service.
//!
//! When it is ready to serve it prints exactly one JSON line on stdout,
//! `{"serviceUri":"http://127.0.0.1:PORT","port":PORT,"dataDir":"<dir>","pid":N}`;
//! everything else (logs, filtered by `RUST_LOG`, default `info`) goes to stderr.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::io::{self, IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mscommerce_emulator::store::{Store, StoreError};
use mscommerce_emulator::{serve, shutdown_signal, AppState};
use serde::Serialize;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the emulated service until Ctrl+C or SIGTERM.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// The port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The directory that holds the database, created when missing.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
}

/// The line printed on stdout once the emulator is ready.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadyLine {
    service_uri: String,
    port: u16,
    data_dir: String,
    pid: u32,
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("cannot write the ready line: {0}")]
    Ready(io::Error),
    #[error("the server failed: {0}")]
    Serve(io::Error),
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();

    let Command::Serve(args) = Cli::parse().command;
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: ServeArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data)?;
    let addr = SocketAddr::new(args.host, args.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| RunError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| RunError::Bind { addr, source })?;
    tracing::info!(%local, database = %store.path().display(), "ready");

    let ready = ReadyLine {
        service_uri: format!("http://{local}"),
        port: local.port(),
        data_dir: args.data.display().to_string(),
        pid: std::process::id(),
    };
    let line = serde_json::to_string(&ready).map_err(|error| RunError::Ready(error.into()))?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(RunError::Ready)?;
    drop(stdout);

    serve(listener, AppState::new(store), shutdown_signal())
        .await
        .map_err(RunError::Serve)
}
