//! The `mscommerce-emulator` command line (`src/main.rs` parses it and calls [`run`]): it runs
//! the emulated licensing service and sign-in authority, and the commands that work on its data
//! directory.
//!
//! - `serve --port 0 --data <dir> [--tls] [knobs]`: when ready, prints exactly one JSON line on
//!   stdout, `{"serviceUri","port","dataDir","pid","authorityUri","adminUri"}` (and
//!   `"certificatePath"` with `--tls`, the URIs then being `https`). The knob flags set the faults
//!   injected into the licensing API (see [`crate::faults`]).
//! - `users [--json] --data <dir>`: the users, with their tenant and roles.
//! - `token --data <dir> --tenant T --user UPN [--lifetime-seconds N]`: prints an access token as
//!   the last line of stdout (with or without a server running on the directory).
//! - `add-products --data <dir> --tenant T --count N [--start N] [--prefix P] [--name-prefix P]
//!   [--policy-value V] [--trial-without-payment-method]`: adds generated products to a tenant
//!   (as `POST /admin/tenants/{tenant}/products` does) and prints the JSON answer.
//! - `reset --data <dir>`: deletes the state so the next start seeds afresh.
//! - `add-app --data <dir> --name N [--roles P]... [--tenant T] [--app-id GUID] [--multi-tenant]
//!   [--secret S]... [--certificate PEM]... [--federated-subject S [--federated-issuer I]
//!   [--federated-audience A]] [--managed-identity system|user] [--json]`: registers an app for
//!   app-only sign-in ([`crate::apps`]); prints its id (or the app as JSON).
//! - `consent-app --data <dir> --app GUID --tenant T`: a tenant consents to an app.
//! - `mint-federated --data <dir> --subject S [--audience A] [--lifetime-seconds N]`: prints a
//!   federated token of the emulator's issuer.
//! - `relationships --data <dir> [--partner T] [--customer T]`: the delegated admin relationships
//!   (GDAP) as a JSON array ([`crate::gdap`]).
//! - `add-relationship --data <dir> --partner T --customer T --role R... [--user UPN]...
//!   [--expires RFC3339|+DAYS] [--id ID] [--name N] [--json]`: adds one; prints its id.
//! - `change-relationship --data <dir> --id ID [--role R]... [--user UPN]... [--expires W]`,
//!   `expire-relationship --data <dir> --id ID`: print the relationship as JSON;
//!   `remove-relationship --data <dir> --id ID` deletes it.
//!
//! Logs (filtered by `RUST_LOG`, default `info`; `warn` for the commands other than `serve`) go
//! to stderr.

mod args;
mod commands;
mod error;
mod output;

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

pub use args::Cli;
use args::Command;
use output::LOG_TARGET;

/// Runs the command `cli` names, with logging to stderr set up first; a failure is logged and
/// gives exit code 1.
pub async fn run(cli: Cli) -> ExitCode {
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
        Command::Serve(args) => commands::serve(args).await,
        Command::Users(args) => commands::users(args).await,
        Command::Token(args) => commands::token(args).await,
        Command::AddProducts(args) => commands::add_products(args).await,
        Command::Reset(args) => commands::reset(args),
        Command::AddApp(args) => commands::add_app(args).await,
        Command::ConsentApp(args) => commands::consent_app(args).await,
        Command::MintFederated(args) => commands::mint_federated(args).await,
        Command::Relationships(args) => commands::relationships(args).await,
        Command::AddRelationship(args) => commands::add_relationship(args).await,
        Command::ChangeRelationship(args) => commands::change_relationship(args).await,
        Command::ExpireRelationship(args) => commands::expire_relationship(args).await,
        Command::RemoveRelationship(args) => commands::remove_relationship(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(target: LOG_TARGET, "{error}");
            ExitCode::FAILURE
        }
    }
}
