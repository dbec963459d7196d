//! The built binary, run the way scripts and the PowerShell tests run it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_mscommerce-emulator");
const ADMIN: &str = "admin@contoso.onmicrosoft.com";

/// A running `serve`, killed on drop.
struct Served {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    ready: Value,
}

impl Served {
    async fn start(data: &Path) -> Self {
        let mut child = Command::new(BINARY)
            .args(["serve", "--port", "0", "--data"])
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
            .await
            .expect("the ready line within 30 s")
            .unwrap()
            .expect("a ready line");
        let ready = serde_json::from_str(&line).expect("the ready line is JSON");
        Self {
            child,
            stdout,
            ready,
        }
    }

    fn uri(&self, field: &str) -> &str {
        self.ready[field].as_str().unwrap()
    }

    /// GETs the policy with `token`; returns the status.
    async fn get_policy(&self, token: &str) -> reqwest::StatusCode {
        reqwest::Client::new()
            .get(format!(
                "{}/v1.0/policies/AllowSelfServicePurchase",
                self.uri("serviceUri")
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    }
}

/// Runs a command other than `serve`; returns its exit success and stdout.
async fn run(args: &[&str], data: &Path) -> (bool, String) {
    let output = Command::new(BINARY)
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .await
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// The token the `token` command prints (its last line).
async fn token(data: &Path, tenant: &str, user: &str) -> String {
    let (ok, stdout) = run(&["token", "--tenant", tenant, "--user", user], data).await;
    assert!(ok, "{stdout}");
    stdout.lines().last().unwrap().to_owned()
}

#[tokio::test]
async fn serve_prints_one_ready_line_then_serves_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("state");
    let mut served = Served::start(&data).await;
    let ready = &served.ready;
    let port = ready["port"].as_u64().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    assert!(port > 0);
    assert_eq!(ready["serviceUri"], base);
    assert_eq!(ready["authorityUri"], base);
    assert_eq!(ready["adminUri"], format!("{base}/admin"));
    assert_eq!(ready["dataDir"], data.display().to_string());
    assert_eq!(ready["pid"], served.child.id().unwrap());
    assert_eq!(ready.as_object().unwrap().len(), 6, "{ready}");
    assert!(data.join("emulator.db").is_file());

    // A token minted over HTTP works.
    let minted: Value = reqwest::Client::new()
        .post(format!("{}/tokens", served.uri("adminUri")))
        .json(&json!({"tenant": "contoso", "user": ADMIN}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let status = served
        .get_policy(minted["accessToken"].as_str().unwrap())
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);

    stop(&mut served.child).await;
    let mut rest = String::new();
    served
        .stdout
        .into_inner()
        .read_to_string(&mut rest)
        .await
        .unwrap();
    assert_eq!(rest, "", "nothing but the ready line on stdout");
}

#[tokio::test]
async fn token_command_works_with_and_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    // Before the first start: the command creates the state and the key.
    let before = token(dir.path(), "contoso.onmicrosoft.com", ADMIN).await;
    let served = Served::start(dir.path()).await;
    let during = token(
        dir.path(),
        "00000000-0000-0000-0000-0000000fab01",
        "admin@fabrikam.onmicrosoft.com",
    )
    .await;
    assert_eq!(served.get_policy(&before).await, reqwest::StatusCode::OK);
    assert_eq!(served.get_policy(&during).await, reqwest::StatusCode::OK);
}

#[tokio::test]
async fn token_command_fails_for_a_user_of_another_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout) = run(
        &["token", "--tenant", "fabrikam", "--user", ADMIN],
        dir.path(),
    )
    .await;
    assert!(!ok);
    assert_eq!(stdout, "");
}

#[tokio::test]
async fn users_command_lists_users_with_tenant_and_roles() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout) = run(&["users", "--json"], dir.path()).await;
    assert!(ok);
    let users: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(users.len(), 6);
    assert!(users.contains(&json!({
        "upn": "billing@contoso.onmicrosoft.com",
        "tenant": "00000000-0000-0000-0000-0000000c0de1",
        "roles": ["Billing Administrator"],
    })));
    assert!(users.contains(&json!({
        "upn": "user@contoso.onmicrosoft.com",
        "tenant": "00000000-0000-0000-0000-0000000c0de1",
        "roles": [],
    })));
}

#[tokio::test]
async fn reset_command_deletes_the_state_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let old = token(dir.path(), "contoso", ADMIN).await;
    let (ok, _) = run(&["reset"], dir.path()).await;
    assert!(ok);
    assert!(!dir.path().join("emulator.db").exists());
    let served = Served::start(dir.path()).await;
    assert_eq!(
        served.get_policy(&old).await,
        reqwest::StatusCode::UNAUTHORIZED,
        "a new key was generated"
    );
}

/// Stops the emulator: SIGTERM on Unix (it must exit cleanly), a kill elsewhere.
async fn stop(child: &mut Child) {
    #[cfg(unix)]
    {
        let pid = child.id().unwrap().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .expect("the emulator exits within 10 s of SIGTERM")
            .unwrap();
        assert!(status.success(), "{status}");
    }
    #[cfg(not(unix))]
    {
        child.kill().await.unwrap();
    }
}
