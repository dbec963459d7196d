//! Starting the emulator for the demo: a fresh data folder, a free port, stopped on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running emulator.
pub struct Emulator {
    child: Child,
    binary: PathBuf,
    data: PathBuf,
    /// Where its licensing API listens.
    pub service_uri: String,
}

impl Emulator {
    /// Starts `binary` and waits (at most a minute) for its ready line.
    pub fn start(binary: &Path) -> Result<Emulator, String> {
        Self::start_with(binary, &[])
    }

    /// [`Emulator::start`] with more `serve` flags (`--durability relaxed`).
    pub fn start_with(binary: &Path, serve_flags: &[&str]) -> Result<Emulator, String> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let data =
            std::env::temp_dir().join(format!("mscommerce-demo-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&data).map_err(|e| format!("create {}: {e}", data.display()))?;
        let log = std::fs::File::create(data.join("emulator.log"))
            .map_err(|e| format!("emulator log: {e}"))?;
        let mut child = Command::new(binary)
            .args(["serve", "--port", "0", "--data"])
            .arg(&data)
            .args(serve_flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("the emulator has no stdout")?;
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let mut emulator = Emulator {
            child,
            binary: binary.to_path_buf(),
            data,
            service_uri: String::new(),
        };
        let line = receiver
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| {
                format!(
                    "the emulator did not say it was ready; see {}",
                    emulator.log().display()
                )
            })?;
        let ready: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| format!("the emulator's ready line is not JSON ({e}): {line}"))?;
        emulator.service_uri = ready["serviceUri"]
            .as_str()
            .ok_or_else(|| format!("the emulator's ready line has no serviceUri: {line}"))?
            .to_owned();
        Ok(emulator)
    }

    /// An access token for `user` of `tenant`, minted by the emulator's `token` command from the
    /// same data folder (the last line of its output).
    pub fn token(&self, tenant: &str, user: &str) -> Result<String, String> {
        let output = Command::new(&self.binary)
            .args(["token", "--tenant", tenant, "--user", user, "--data"])
            .arg(&self.data)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("run the emulator's token command: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        match text.lines().last().map(str::trim) {
            Some(token) if output.status.success() && !token.is_empty() => Ok(token.to_owned()),
            _ => Err(format!(
                "the emulator's token command failed ({})",
                output.status
            )),
        }
    }

    fn log(&self) -> PathBuf {
        self.data.join("emulator.log")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
