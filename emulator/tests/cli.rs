//! The built binary, run the way scripts and the PowerShell tests run it.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn serve_prints_one_ready_line_then_serves_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("state");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mscommerce-emulator"))
        .args(["serve", "--port", "0", "--data"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line))
        .await
        .expect("the ready line within 30 s")
        .unwrap();
    let ready: Value = serde_json::from_str(&line).expect("the ready line is JSON");
    let port = ready["port"].as_u64().unwrap();
    assert!(port > 0);
    assert_eq!(
        ready["serviceUri"],
        format!("http://127.0.0.1:{port}"),
        "{line}"
    );
    assert_eq!(ready["dataDir"], data.display().to_string());
    assert_eq!(ready["pid"], child.id().unwrap());
    assert_eq!(ready.as_object().unwrap().len(), 4, "{line}");
    assert!(data.join("emulator.db").is_file());

    let response = reqwest::Client::new()
        .get(format!(
            "{}/v1.0/policies/AllowSelfServicePurchase",
            ready["serviceUri"].as_str().unwrap()
        ))
        .bearer_auth("test-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);

    stop(&mut child).await;
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "", "nothing but the ready line on stdout");
}

/// Stops the emulator: SIGTERM on Unix (it must exit cleanly), a kill elsewhere.
async fn stop(child: &mut tokio::process::Child) {
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
