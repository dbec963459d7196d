//! The admin page (`/admin`) and the audit log as JSON, over HTTP and in headless Chromium.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{json, TestServer, ADMIN, BILLING, POLICY};
use tokio::process::Command;

fn product(id: &str) -> String {
    format!("/v1.0/policies/{POLICY}/products/{id}")
}

/// PUTs a value as `upn` with this correlation id; asserts it is accepted.
async fn change(server: &TestServer, upn: &str, path: &str, value: &str, correlation_id: &str) {
    let token = server.token(upn).await;
    let response = server
        .client()
        .put(server.url(path))
        .bearer_auth(token)
        .header("x-ms-correlation-id", correlation_id)
        .json(&json!({ "policyValue": value }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
}

/// The admin page's status and HTML.
async fn page(server: &TestServer, query: &str) -> (StatusCode, String) {
    let response = server
        .client()
        .get(server.url(&format!("/admin{query}")))
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn admin_page_shows_the_tenant_values_and_history_newest_first() {
    let server = TestServer::start().await;
    change(
        &server,
        ADMIN,
        &product("CFQ7TTC0LH3L"),
        "Disabled",
        "first-change",
    )
    .await;
    change(
        &server,
        BILLING,
        &format!("/v1.0/policies/{POLICY}/offerTypes/SaaS"),
        "Disabled",
        "second-change",
    )
    .await;
    let (status, html) = page(&server, "?tenant=contoso.onmicrosoft.com").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(
            "<tr data-product-id=\"CFQ7TTC0LH3L\"><td>Power Automate per user</td>\
         <td><code>CFQ7TTC0LH3L</code></td><td><span class=\"value off\">Disabled</span></td>"
        ),
        "{html}"
    );
    assert!(html.contains("<tr data-offer-type=\"SaaS\"><td>Software as a Service</td>"));
    let first = html
        .find("first-change")
        .expect("the first change is listed");
    let second = html
        .find("second-change")
        .expect("the second change is listed");
    assert!(second < first, "newest first");
    assert!(html.contains(BILLING));
    // The other tenant's page has neither change.
    let (_, fabrikam) = page(&server, "?tenant=fabrikam").await;
    assert!(!fabrikam.contains("first-change"));
    assert!(fabrikam.contains("No changes yet."));
}

#[tokio::test]
async fn admin_page_escapes_what_clients_send() {
    let server = TestServer::start().await;
    change(
        &server,
        ADMIN,
        &product("CFQ7TTC0LH3L"),
        "Enabled",
        "<script>alert('x')</script>",
    )
    .await;
    let (_, html) = page(&server, "").await;
    assert!(
        html.contains("<h2>contoso</h2>"),
        "contoso is the default tenant"
    );
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>"));
    let (status, html) = page(&server, "?tenant=%3Cb%3Enope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        html.contains("Tenant &#39;&lt;b&gt;nope&#39; was not found."),
        "{html}"
    );
}

#[tokio::test]
async fn audit_json_lists_changes_newest_first() {
    let server = TestServer::start().await;
    change(&server, ADMIN, &product("CFQ7TTC0LH3L"), "Disabled", "one").await;
    change(&server, ADMIN, &product("CFQ7TTC0LH3L"), "Enabled", "two").await;
    let get = |path: String| {
        let request = server.client().get(server.url(&path));
        async move { json(request.send().await.unwrap()).await }
    };
    let (status, audit) = get("/admin/tenants/contoso/audit".to_owned()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(audit["tenantId"], support::CONTOSO);
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let newest = &items[0];
    assert_eq!(newest["actor"], ADMIN);
    assert_eq!(newest["policyId"], POLICY);
    assert_eq!(newest["itemKind"], "product");
    assert_eq!(newest["itemId"], "CFQ7TTC0LH3L");
    assert_eq!(newest["oldValue"], "Disabled");
    assert_eq!(newest["newValue"], "Enabled");
    assert_eq!(newest["correlationId"], "two");
    assert!(newest["changedAt"].as_str().unwrap().ends_with('Z'));

    let (_, top) = get(format!("/admin/tenants/{}/audit?top=1", support::CONTOSO)).await;
    assert_eq!(top["items"].as_array().unwrap().len(), 1);
    assert_eq!(top["items"][0]["correlationId"], "two");
    let (status, body) = get("/admin/tenants/nowhere/audit".to_owned()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errorCode"], "Unknown");
    let (_, tenants) = get("/admin/tenants".to_owned()).await;
    let names: Vec<&Value> = tenants["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["name"])
        .collect();
    assert_eq!(
        names,
        [
            "adatum",
            "contoso",
            "fabrikam",
            "litware",
            "tailspin",
            "treyresearch"
        ]
        .map(|name| json!(name))
        .iter()
        .collect::<Vec<_>>()
    );
}

/// A Chromium binary: `$CHROMIUM`, or one of the usual names on `PATH`.
fn chromium() -> Option<PathBuf> {
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

/// Runs headless Chromium with `args` and a fresh profile; its stdout. Never waits more than a
/// minute (the browser is killed then).
async fn run_chromium(binary: &Path, args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(binary)
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
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("Chromium finishes within 60 s")
    .expect("Chromium runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn admin_page_in_headless_chromium_shows_a_change_and_its_audit_row() {
    let Some(binary) = chromium() else {
        println!(
            "SKIPPED admin_page_in_headless_chromium_shows_a_change_and_its_audit_row: no Chromium \
             (install it, e.g. `apt-get install -y chromium`, or set CHROMIUM)"
        );
        eprintln!("SKIPPED: no Chromium binary found");
        return;
    };
    let server = TestServer::start().await;
    change(
        &server,
        ADMIN,
        &product("CFQ7TTC0J1FV"),
        "OnlyTrialsWithoutPaymentMethod",
        "chromium-change-1",
    )
    .await;
    let url = server.url(&format!("/admin?tenant={}", support::CONTOSO));
    let dom = run_chromium(&binary, &["--dump-dom", &url]).await;
    assert!(dom.contains("<h2>contoso</h2>"), "{dom}");
    assert!(dom.contains(
        "<td><code>CFQ7TTC0J1FV</code></td><td><span class=\"value trial\">OnlyTrialsWithoutPaymentMethod</span></td>"
    ), "{dom}");
    let row = dom
        .split("<tr>")
        .find(|row| row.contains("chromium-change-1"))
        .expect("the audit row");
    assert!(row.contains(ADMIN), "{row}");
    assert!(row.contains("<code>CFQ7TTC0J1FV</code>"), "{row}");
    assert!(row.contains("<span class=\"value on\">Enabled</span> → <span class=\"value trial\">OnlyTrialsWithoutPaymentMethod</span>"), "{row}");
}
