//! Headless Chromium driven over the DevTools protocol: enough to open a page, wait for
//! something on it and click, the way a user signs in.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A Chromium binary: `$CHROMIUM`, or one of the usual names on `PATH`.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file())
}

/// A running headless browser; killed when dropped.
pub struct Browser {
    _child: Child,
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

/// A tab, by its DevTools session.
pub struct Page {
    session: String,
}

impl Browser {
    /// Starts Chromium with a fresh profile and connects to its DevTools endpoint.
    pub async fn launch(binary: &Path) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--no-proxy-server",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("Chromium starts");
        let stderr = child.stderr.take().expect("stderr");
        let endpoint = tokio::time::timeout(Duration::from_secs(30), async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Some(line) = lines.next_line().await.expect("Chromium's stderr") {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let url = url.trim().to_owned();
                    // Keep draining stderr so Chromium never blocks on a full pipe.
                    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                    return url;
                }
            }
            panic!("Chromium exited without a DevTools endpoint");
        })
        .await
        .expect("Chromium announces its DevTools endpoint within 30 s");
        let (socket, _) = tokio_tungstenite::connect_async(endpoint.as_str())
            .await
            .expect("DevTools connection");
        Browser {
            _child: child,
            socket,
            next_id: 0,
            _profile: profile,
        }
    }

    /// Sends one command and returns its result, skipping events.
    async fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let reply = self.reply(session, method, params).await;
        assert!(reply.get("error").is_none(), "{method} failed: {reply}");
        reply["result"].clone()
    }

    /// Sends one command and returns the whole reply (`result` or `error`).
    async fn reply(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send to DevTools");
        let reply = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let frame = self
                    .socket
                    .next()
                    .await
                    .expect("DevTools stays open")
                    .expect("DevTools frame");
                let Message::Text(text) = frame else { continue };
                let value: Value = serde_json::from_str(&text).expect("DevTools JSON");
                if value["id"] == id {
                    return value;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{method} answered within 30 s"));
        reply
    }

    /// Opens `url` in a new tab.
    pub async fn open(&mut self, url: &str) -> Page {
        let target = self
            .call(None, "Target.createTarget", json!({ "url": url }))
            .await;
        let attached = self
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target["targetId"], "flatten": true }),
            )
            .await;
        Page {
            session: attached["sessionId"]
                .as_str()
                .expect("a session id")
                .to_owned(),
        }
    }

    /// Opens `url` in a new tab whose page may run no script at all (DevTools still answers).
    pub async fn open_without_scripts(&mut self, url: &str) -> Page {
        let page = self.open("about:blank").await;
        self.call(
            Some(&page.session),
            "Emulation.setScriptExecutionDisabled",
            json!({ "value": true }),
        )
        .await;
        self.call(Some(&page.session), "Page.navigate", json!({ "url": url }))
            .await;
        page
    }

    /// The page's HTML as the DOM has it now, read through DevTools' DOM domain, so it works
    /// with scripts off. Empty while a navigation replaces the document between the two calls:
    /// callers poll until what they wait for is there.
    pub async fn html(&mut self, page: &Page) -> String {
        let document = self
            .reply(
                Some(&page.session),
                "DOM.getDocument",
                json!({ "depth": 0 }),
            )
            .await;
        let html = self
            .reply(
                Some(&page.session),
                "DOM.getOuterHTML",
                json!({ "nodeId": document["result"]["root"]["nodeId"] }),
            )
            .await;
        html["result"]["outerHTML"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Evaluates JavaScript in the page and returns its value (`null` while the page loads or
    /// navigates: the context it ran in may be gone).
    pub async fn eval(&mut self, page: &Page, expression: &str) -> Value {
        let reply = self
            .reply(
                Some(&page.session),
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            )
            .await;
        reply["result"]["result"]["value"].clone()
    }

    /// Evaluates `expression` until it is truthy (a navigation in between is fine).
    pub async fn wait_for(&mut self, page: &Page, expression: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.eval(page, expression).await;
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0);
            if truthy {
                return value;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the page never showed `{expression}`; it shows: {}",
                self.eval(page, "document.body ? document.body.innerText : ''")
                    .await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
