//! Running the tools the build drives, echoing each command line.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;

/// One command to run in a folder.
pub struct Step {
    command: Command,
    shown: String,
}

impl Step {
    /// `program` run in `dir`.
    pub fn new(program: impl AsRef<OsStr>, dir: &Path) -> Step {
        let mut command = Command::new(program.as_ref());
        command.current_dir(dir);
        Step {
            command,
            shown: program.as_ref().to_string_lossy().into_owned(),
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Step {
        self.shown.push(' ');
        self.shown.push_str(&arg.as_ref().to_string_lossy());
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(self, args: I) -> Step
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        args.into_iter().fold(self, Step::arg)
    }

    /// Sets an environment variable for the command.
    pub fn env(mut self, name: &str, value: impl Into<OsString>) -> Step {
        self.command.env(name, value.into());
        self
    }
}

/// Runs a step to completion with inherited output; an error names the command and its status.
pub fn run(mut step: Step) -> Result<(), String> {
    println!("> {}", step.shown);
    let status = step
        .command
        .status()
        .map_err(|e| format!("could not start `{}`: {e}", step.shown))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", step.shown))
    }
}

/// Runs a step and returns its standard output, or None if it cannot run or fails.
pub fn output(mut step: Step) -> Option<String> {
    let out = step.command.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a step like [`run`] (echoed, its stderr shown as it comes) and returns its standard
/// output; an error names the command and its status.
pub fn capture(mut step: Step) -> Result<String, String> {
    println!("> {}", step.shown);
    let out = step
        .command
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start `{}`: {e}", step.shown))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`{}` failed ({})", step.shown, out.status))
    }
}

/// Runs a step like [`run`], echoing its output as it comes and also appending it to
/// `transcript`, so the test verb can scan everything the suites printed.
pub fn run_captured(mut step: Step, transcript: &mut Vec<u8>) -> Result<(), String> {
    use std::io::{Read, Write};
    use std::process::Stdio;

    println!("> {}", step.shown);
    let mut child = step
        .command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start `{}`: {e}", step.shown))?;
    fn pump(
        mut from: impl Read + Send + 'static,
        echo: fn(&[u8]),
    ) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut buffer = [0u8; 8192];
            while let Ok(n) = from.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                echo(&buffer[..n]);
                all.extend_from_slice(&buffer[..n]);
            }
            all
        })
    }
    let stdout = child.stdout.take().map(|out| {
        pump(out, |bytes| {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        })
    });
    let stderr = child.stderr.take().map(|err| {
        pump(err, |bytes| {
            let _ = std::io::stderr().lock().write_all(bytes);
        })
    });
    let status = child
        .wait()
        .map_err(|e| format!("`{}` could not be waited for: {e}", step.shown))?;
    for pump in [stdout, stderr].into_iter().flatten() {
        if let Ok(bytes) = pump.join() {
            transcript.extend_from_slice(&bytes);
        }
    }
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", step.shown))
    }
}
