//! What the commands write: lines on stdout, and the target of their log lines.

use std::io::{self, Write};

use super::error::RunError;

/// The target of the commands' log lines: the binary's crate name, as when this code lived in
/// `main.rs`, so the lines on stderr (and `RUST_LOG` filters) read as they did.
pub(super) const LOG_TARGET: &str = "mscommerce_emulator";

/// Writes `line` and a newline to stdout, flushed.
pub(super) fn print_line(line: &str) -> Result<(), RunError> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(RunError::Stdout)
}
