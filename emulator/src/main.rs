//! `mscommerce-emulator`: parses the command line and runs it (see `mscommerce_emulator::cli`,
//! where the commands live).

use std::process::ExitCode;

use clap::Parser;
use mscommerce_emulator::cli::{self, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    cli::run(Cli::parse()).await
}
