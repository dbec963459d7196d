//! `mscommerce-emulator`: runs the emulated licensing service and sign-in authority, and the
//! commands that work on its data directory.
//!
//! - `serve --port 0 --data <dir> [--tls] [knobs]`: when ready, prints exactly one JSON line on
//!   stdout, `{"serviceUri","port","dataDir","pid","authorityUri","adminUri"}` (and
//!   `"certificatePath"` with `--tls`, the URIs then being `https`). The knob flags set the faults
//!   injected into the licensing API (see `mscommerce_emulator::faults`).
//! - `users [--json] --data <dir>`: the users, with their tenant and roles.
//! - `token --data <dir> --tenant T --user UPN [--lifetime-seconds N]`: prints an access token as
//!   the last line of stdout (with or without a server running on the directory).
//! - `add-products --data <dir> --tenant T --count N [--start N] [--prefix P] [--name-prefix P]
//!   [--policy-value V] [--trial-without-payment-method]`: adds generated products to a tenant
//!   (as `POST /admin/tenants/{tenant}/products` does) and prints the JSON answer.
//! - `reset --data <dir>`: deletes the state so the next start seeds afresh.
//!
//! Logs (filtered by `RUST_LOG`, default `info`; `warn` for the commands other than `serve`) go
//! to stderr.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::io::{self, IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mscommerce_emulator::faults::{
    ErrorFault, FaultConfig, FaultConfigError, Latency, MethodScope, Throttle, Trigger,
};
use mscommerce_emulator::keys::{KeyError, SigningKey};
use mscommerce_emulator::products::{self, AddProducts, AddProductsError};
use mscommerce_emulator::settings::Settings;
use mscommerce_emulator::store::{Store, StoreError};
use mscommerce_emulator::tls::{Tls, TlsError};
use mscommerce_emulator::tokens::{self, MintError};
use mscommerce_emulator::{
    base_uri_with_scheme, clock, serve, serve_tls, shutdown_signal, AppState,
};
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
    /// List the users of every tenant, with their roles.
    Users(UsersArgs),
    /// Print an access token for a user (the last line of stdout).
    Token(TokenArgs),
    /// Add generated products to a tenant (as `POST /admin/tenants/{tenant}/products` does);
    /// prints the JSON answer.
    AddProducts(AddProductsArgs),
    /// Delete the state (database and signing key); the next start seeds afresh.
    Reset(DataArgs),
}

#[derive(Debug, clap::Args)]
struct AddProductsArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The tenant: its id, domain or name.
    #[arg(long)]
    tenant: String,
    /// How many products to generate (1 to 20000).
    #[arg(long)]
    count: usize,
    /// The number of the first product.
    #[arg(long, default_value_t = 1)]
    start: u32,
    /// The start of the ids (`{prefix}{n:04}`).
    #[arg(long, default_value = products::DEFAULT_PREFIX)]
    prefix: String,
    /// The start of the names (`{name-prefix} {n:04}`).
    #[arg(long, default_value = products::DEFAULT_NAME_PREFIX)]
    name_prefix: String,
    /// The products' value of every policy.
    #[arg(long, default_value = "Enabled")]
    policy_value: String,
    /// The products offer a trial without a payment method.
    #[arg(long)]
    trial_without_payment_method: bool,
}

#[derive(Debug, clap::Args)]
struct DataArgs {
    /// The directory that holds the database, created when missing.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// The port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    #[command(flatten)]
    data: DataArgs,
    /// The lifetime of the access and ID tokens the authority issues.
    #[arg(long, value_name = "SECONDS", default_value_t = Settings::default().token_lifetime_s)]
    token_lifetime_seconds: u32,
    /// The polling interval the device code flow asks for.
    #[arg(long, value_name = "SECONDS", default_value_t = Settings::default().device_code_interval_s)]
    device_code_interval_seconds: u32,
    /// The lifetime of a device code.
    #[arg(long, value_name = "SECONDS", default_value_t = Settings::default().device_code_lifetime_s)]
    device_code_lifetime_seconds: u32,
    /// Serve HTTPS with a self-signed certificate for localhost, kept in the data directory.
    #[arg(long)]
    tls: bool,
    #[command(flatten)]
    knobs: KnobArgs,
}

/// The faults injected into the licensing API from the start (`PUT /admin/faults` changes them).
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Faults injected into the licensing API")]
struct KnobArgs {
    /// The whole fault configuration as JSON, as `PUT /admin/faults` takes it (instead of the
    /// other fault flags).
    #[arg(long, value_name = "JSON", conflicts_with_all = [
        "latency_ms", "throttle_every", "throttle_rate", "retry_after_seconds", "error_status",
        "error_next", "error_probability", "drop_next", "drop_probability", "malformed_next",
        "malformed_probability", "fault_method", "fault_seed",
    ])]
    faults: Option<String>,
    /// Wait this long before answering each request.
    #[arg(long, value_name = "MS")]
    latency_ms: Option<u64>,
    /// Answer every Nth request 429.
    #[arg(long, value_name = "N", conflicts_with = "throttle_rate")]
    throttle_every: Option<u64>,
    /// Answer 429 beyond this many requests a second.
    #[arg(long, value_name = "PER_SECOND")]
    throttle_rate: Option<f64>,
    /// The Retry-After of a 429 (default 1).
    #[arg(long, value_name = "SECONDS")]
    retry_after_seconds: Option<u32>,
    /// The status of injected errors: 500, 502, 503 or 504.
    #[arg(long, value_name = "STATUS", default_value_t = 503)]
    error_status: u16,
    /// Answer the next N requests with the error status.
    #[arg(long, value_name = "N", conflicts_with = "error_probability")]
    error_next: Option<u64>,
    /// Answer each request with the error status with this probability.
    #[arg(long, value_name = "P")]
    error_probability: Option<f64>,
    /// Close the connection of the next N requests without an answer.
    #[arg(long, value_name = "N", conflicts_with = "drop_probability")]
    drop_next: Option<u64>,
    /// Close the connection without an answer with this probability.
    #[arg(long, value_name = "P")]
    drop_probability: Option<f64>,
    /// Answer the next N requests 200 with truncated JSON.
    #[arg(long, value_name = "N", conflicts_with = "malformed_probability")]
    malformed_next: Option<u64>,
    /// Answer 200 with truncated JSON with this probability.
    #[arg(long, value_name = "P")]
    malformed_probability: Option<f64>,
    /// Inject faults into requests with this method only (GET or PUT).
    #[arg(long, value_name = "METHOD")]
    fault_method: Option<MethodScope>,
    /// Seed the probabilities, for faults that repeat from run to run.
    #[arg(long, value_name = "SEED")]
    fault_seed: Option<u64>,
}

impl KnobArgs {
    /// The configuration the flags describe.
    fn config(&self) -> Result<FaultConfig, RunError> {
        if let Some(json) = &self.faults {
            return serde_json::from_str(json)
                .map_err(|error| RunError::Faults(format!("--faults: {error}")));
        }
        let method = self.fault_method;
        let trigger = |next: Option<u64>, probability: Option<f64>| {
            (next.is_some() || probability.is_some()).then_some(Trigger {
                next,
                probability,
                method,
                after_serving: false,
            })
        };
        let errors = trigger(self.error_next, self.error_probability).map(|when| ErrorFault {
            status: self.error_status,
            next: when.next,
            probability: when.probability,
            retry_after_seconds: None,
            method,
        });
        let throttle =
            (self.throttle_every.is_some() || self.throttle_rate.is_some()).then_some(Throttle {
                every_nth: self.throttle_every,
                rate_per_second: self.throttle_rate,
                retry_after_seconds: self.retry_after_seconds,
                method,
            });
        Ok(FaultConfig {
            seed: self.fault_seed,
            latency: self.latency_ms.map(|ms| Latency { ms, method }),
            drop: trigger(self.drop_next, self.drop_probability),
            throttle,
            errors,
            fail_items: None,
            malformed: trigger(self.malformed_next, self.malformed_probability),
        })
    }
}

#[derive(Debug, clap::Args)]
struct UsersArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Print a JSON array of {upn, tenant, roles} instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The tenant: its id, domain or name.
    #[arg(long)]
    tenant: String,
    /// The user's UPN.
    #[arg(long)]
    user: String,
    /// The token lifetime; a negative value gives a token that expired that long ago.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true,
          default_value_t = i64::from(Settings::default().token_lifetime_s))]
    lifetime_seconds: i64,
}

/// The line printed on stdout once the emulator is ready.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadyLine {
    service_uri: String,
    port: u16,
    data_dir: String,
    pid: u32,
    authority_uri: String,
    admin_uri: String,
    /// The certificate to trust, with `--tls`.
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_path: Option<String>,
}

/// A user as `users --json` prints it.
#[derive(Debug, Serialize)]
struct UserLine {
    upn: String,
    tenant: String,
    roles: Vec<&'static str>,
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot load the signing key: {0}")]
    Key(#[from] KeyError),
    #[error("{0}")]
    Mint(#[from] MintError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("cannot write to stdout: {0}")]
    Stdout(io::Error),
    #[error("the server failed: {0}")]
    Serve(io::Error),
    #[error("cannot set up HTTPS: {0}")]
    Tls(#[from] TlsError),
    #[error("invalid faults: {0}")]
    Faults(String),
    #[error("cannot add the products: {0}")]
    Products(#[from] AddProductsError),
}

impl From<FaultConfigError> for RunError {
    fn from(error: FaultConfigError) -> Self {
        Self::Faults(error.to_string())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();

    let result = match cli.command {
        Command::Serve(args) => run(args).await,
        Command::Users(args) => users(args).await,
        Command::Token(args) => token(args).await,
        Command::AddProducts(args) => add_products(args).await,
        Command::Reset(args) => reset(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// Writes `line` and a newline to stdout, flushed.
fn print_line(line: &str) -> Result<(), RunError> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(RunError::Stdout)
}

async fn run(args: ServeArgs) -> Result<(), RunError> {
    let faults = args.knobs.config()?;
    faults.validate()?;
    let store = Store::open(&args.data.data)?;
    let tls = if args.tls {
        Some(Tls::load_or_create(&args.data.data, args.host)?)
    } else {
        None
    };
    let addr = SocketAddr::new(args.host, args.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| RunError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| RunError::Bind { addr, source })?;
    let settings = Settings {
        token_lifetime_s: args.token_lifetime_seconds,
        device_code_interval_s: args.device_code_interval_seconds,
        device_code_lifetime_s: args.device_code_lifetime_seconds,
        ..Settings::default()
    };
    let base = base_uri_with_scheme(local, if tls.is_some() { "https" } else { "http" });
    let state = AppState::open(store, settings, base.clone()).await?;
    let faults = state.faults().set(faults)?;
    if !faults.config.is_off() {
        tracing::info!(faults = ?faults.config, "injecting faults into the licensing API");
    }
    tracing::info!(%local, database = %state.store().path().display(), "ready");

    let ready = ReadyLine {
        service_uri: base.clone(),
        port: local.port(),
        data_dir: args.data.data.display().to_string(),
        pid: std::process::id(),
        authority_uri: base.clone(),
        admin_uri: format!("{base}/admin"),
        certificate_path: tls
            .as_ref()
            .map(|tls| tls.certificate_path.display().to_string()),
    };
    let line = serde_json::to_string(&ready).map_err(|error| RunError::Stdout(error.into()))?;
    print_line(&line)?;

    match tls {
        Some(tls) => serve_tls(listener, state, tls, shutdown_signal()).await,
        None => serve(listener, state, shutdown_signal()).await,
    }
    .map_err(RunError::Serve)
}

async fn users(args: UsersArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let users = store.users(None).await?;
    if args.json {
        let lines: Vec<UserLine> = users
            .into_iter()
            .map(|user| UserLine {
                upn: user.upn,
                tenant: user.tenant_id.to_string(),
                roles: user.roles.iter().map(|role| role.name()).collect(),
            })
            .collect();
        let json = serde_json::to_string(&lines).map_err(|error| RunError::Stdout(error.into()))?;
        return print_line(&json);
    }
    let width = users.iter().map(|user| user.upn.len()).max().unwrap_or(0);
    for user in users {
        let roles: Vec<&str> = user.roles.iter().map(|role| role.name()).collect();
        print_line(&format!(
            "{:width$}  {}  {}",
            user.upn,
            user.tenant_id,
            if roles.is_empty() {
                "(no role)".to_owned()
            } else {
                roles.join(", ")
            }
        ))?;
    }
    Ok(())
}

async fn token(args: TokenArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let key = SigningKey::load_or_create(&store).await?;
    let minted = tokens::mint_user_token(
        &store,
        &key,
        &args.tenant,
        &args.user,
        clock::now_s(),
        args.lifetime_seconds,
    )
    .await?;
    print_line(&minted.token)
}

async fn add_products(args: AddProductsArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let request = AddProducts {
        count: Some(args.count),
        start: Some(args.start),
        prefix: Some(args.prefix),
        name_prefix: Some(args.name_prefix),
        policy_value: Some(args.policy_value),
        trial_without_payment_method: Some(args.trial_without_payment_method),
        products: None,
    };
    let added = products::add_products(&store, &args.tenant, &request).await?;
    let json = serde_json::to_string(&added).map_err(|error| RunError::Stdout(error.into()))?;
    print_line(&json)
}

fn reset(args: DataArgs) -> Result<(), RunError> {
    for path in Store::reset(&args.data)? {
        tracing::info!(path = %path.display(), "deleted");
    }
    Ok(())
}
