//! Runs the built binary: `serve` with its ready line, killed on drop.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// The emulator binary cargo built for the tests.
pub const BINARY: &str = env!("CARGO_BIN_EXE_mscommerce-emulator");

/// A running `serve`, killed on drop.
pub struct Served {
    /// The process.
    pub child: Child,
    /// Its stdout after the ready line.
    pub stdout: Lines<BufReader<ChildStdout>>,
    /// The ready line.
    pub ready: Value,
}

impl Served {
    /// Starts `serve --port 0 --data <data>` with `extra` arguments and waits for its ready line.
    pub async fn start(data: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(BINARY)
            .args(["serve", "--port", "0", "--data"])
            .arg(data)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the emulator");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
            .await
            .expect("the ready line within 30 s")
            .expect("read stdout")
            .expect("a ready line");
        let ready = serde_json::from_str(&line).expect("the ready line is JSON");
        Self {
            child,
            stdout,
            ready,
        }
    }

    /// A field of the ready line, as text.
    pub fn uri(&self, field: &str) -> &str {
        self.ready[field].as_str().expect("a text field")
    }
}

/// A token for `user` of contoso from `POST <admin>/tokens`, through `client` (which must trust
/// the server's certificate when it serves HTTPS).
pub async fn mint_token(client: &reqwest::Client, admin_uri: &str, user: &str) -> String {
    let minted: Value = client
        .post(format!("{admin_uri}/tokens"))
        .json(&serde_json::json!({"tenant": "contoso", "user": user}))
        .send()
        .await
        .expect("POST /admin/tokens")
        .json()
        .await
        .expect("a JSON answer");
    minted["accessToken"]
        .as_str()
        .expect("an accessToken")
        .to_owned()
}

/// Runs a command other than `serve` with `--data <data>`; returns its exit success and stdout.
pub async fn run(args: &[&str], data: &Path) -> (bool, String) {
    let output = Command::new(BINARY)
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .await
        .expect("run the emulator");
    (
        output.status.success(),
        String::from_utf8(output.stdout).expect("UTF-8 output"),
    )
}
