//! The built binary, run the way scripts and the PowerShell tests run it.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use support::process::{mint_token, run, Served};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

const ADMIN: &str = "admin@contoso.onmicrosoft.com";

/// GETs the policy from a served emulator with `token`; returns the status.
async fn get_policy(served: &Served, token: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .get(format!(
            "{}/v1.0/policies/AllowSelfServicePurchase",
            served.uri("serviceUri")
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
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
    let mut served = Served::start(&data, &[]).await;
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
    let status = get_policy(&served, &admin_token(&served).await).await;
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
    let served = Served::start(dir.path(), &[]).await;
    let during = token(
        dir.path(),
        "00000000-0000-0000-0000-0000000fab01",
        "admin@fabrikam.onmicrosoft.com",
    )
    .await;
    assert_eq!(get_policy(&served, &before).await, reqwest::StatusCode::OK);
    assert_eq!(get_policy(&served, &during).await, reqwest::StatusCode::OK);
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
    assert_eq!(users.len(), 11);
    assert!(users.contains(&json!({
        "upn": "partneradmin@treyresearch.onmicrosoft.com",
        "tenant": "00000000-0000-0000-0000-00000000a001",
        "roles": ["Global Administrator"],
    })));
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
async fn relationship_commands_add_change_expire_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, id) = run(
        &[
            "add-relationship",
            "--partner",
            "treyresearch.onmicrosoft.com",
            "--customer",
            "fabrikam",
            "--role",
            "Global Reader",
            "--expires",
            "+30",
        ],
        dir.path(),
    )
    .await;
    assert!(ok, "{id}");
    let id = id.lines().last().unwrap().to_owned();
    let (ok, changed) = run(
        &[
            "change-relationship",
            "--id",
            &id,
            "--role",
            "Billing Administrator",
        ],
        dir.path(),
    )
    .await;
    assert!(ok, "{changed}");
    let changed: Value = serde_json::from_str(&changed).unwrap();
    assert_eq!(changed["roles"], json!(["Billing Administrator"]));
    assert_eq!(
        changed["users"],
        json!([
            "helpdesk@treyresearch.onmicrosoft.com",
            "partneradmin@treyresearch.onmicrosoft.com"
        ]),
        "every partner user when none is named"
    );
    let (ok, expired) = run(&["expire-relationship", "--id", &id], dir.path()).await;
    assert!(ok, "{expired}");
    assert_eq!(
        serde_json::from_str::<Value>(&expired).unwrap()["status"],
        "expired"
    );
    let (ok, list) = run(&["relationships", "--customer", "fabrikam"], dir.path()).await;
    assert!(ok);
    let list: Vec<Value> = serde_json::from_str(&list).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "expired");
    let (ok, _) = run(&["remove-relationship", "--id", &id], dir.path()).await;
    assert!(ok);
    let (ok, list) = run(&["relationships"], dir.path()).await;
    assert!(ok);
    let list: Vec<Value> = serde_json::from_str(&list).unwrap();
    assert_eq!(list.len(), 3, "the seeded ones remain: {list:?}");
    let (ok, _) = run(&["expire-relationship", "--id", &id], dir.path()).await;
    assert!(!ok, "a removed relationship is unknown");
}

#[tokio::test]
async fn reset_command_deletes_the_state_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let old = token(dir.path(), "contoso", ADMIN).await;
    let (ok, _) = run(&["reset"], dir.path()).await;
    assert!(ok);
    assert!(!dir.path().join("emulator.db").exists());
    let served = Served::start(dir.path(), &[]).await;
    assert_eq!(
        get_policy(&served, &old).await,
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

/// A token for contoso's admin from `POST /admin/tokens` of a served emulator.
async fn admin_token(served: &Served) -> String {
    mint_token(&reqwest::Client::new(), served.uri("adminUri"), ADMIN).await
}

#[tokio::test]
async fn serve_flags_inject_faults_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(
        dir.path(),
        &[
            "--error-next",
            "1",
            "--error-status",
            "500",
            "--fault-method",
            "get",
            "--fault-seed",
            "5",
            "--latency-ms",
            "1",
        ],
    )
    .await;
    let faults: Value = reqwest::get(format!("{}/faults", served.uri("adminUri")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["seed"], 5);
    assert_eq!(
        faults["errors"],
        json!({"status": 500, "next": 1, "method": "GET"})
    );
    assert_eq!(faults["latency"], json!({"ms": 1, "method": "GET"}));
    assert_eq!(faults["throttle"], Value::Null);
    let token = admin_token(&served).await;
    assert_eq!(
        get_policy(&served, &token).await,
        reqwest::StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(get_policy(&served, &token).await, reqwest::StatusCode::OK);
}

#[tokio::test]
async fn serve_takes_the_whole_fault_configuration_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(
        dir.path(),
        &[
            "--faults",
            r#"{"throttle":{"everyNth":1,"retryAfterSeconds":9,"method":"GET"}}"#,
        ],
    )
    .await;
    let token = admin_token(&served).await;
    let response = reqwest::Client::new()
        .get(format!("{}/v1.0/policies", served.uri("serviceUri")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "9");
}

#[tokio::test]
async fn serve_refuses_faults_that_make_no_sense() {
    let dir = tempfile::tempdir().unwrap();
    for flags in [
        &["--error-status", "404", "--error-next", "1"][..],
        &["--drop-probability", "2"][..],
        &["--faults", r#"{"errors":{}}"#][..],
    ] {
        let output = tokio::time::timeout(
            Duration::from_secs(30),
            Command::new(support::process::BINARY)
                .args(["serve", "--port", "0", "--data"])
                .arg(dir.path())
                .args(flags)
                .output(),
        )
        .await
        .expect("the emulator exits at once")
        .unwrap();
        assert!(!output.status.success(), "{flags:?}");
        assert_eq!(output.stdout, b"", "no ready line for {flags:?}");
    }
}

#[tokio::test]
async fn add_products_command_adds_them_once_and_serve_fails_the_listed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["add-products", "--tenant", "contoso", "--count", "20"];
    let (ok, stdout) = run(&args, dir.path()).await;
    assert!(ok, "{stdout}");
    let added: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(added["added"].as_array().unwrap().len(), 20);
    assert_eq!(added["added"][19], "CFQ7TTC0BULK0020");
    assert_eq!(added["total"], 37);
    let (ok, stdout) = run(&args, dir.path()).await;
    assert!(ok, "{stdout}");
    let again: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        (again["unchanged"].as_u64(), again["total"].as_u64()),
        (Some(20), Some(37))
    );
    let (ok, _) = run(
        &["add-products", "--tenant", "nowhere", "--count", "1"],
        dir.path(),
    )
    .await;
    assert!(!ok);

    let served = Served::start(
        dir.path(),
        &[
            "--faults",
            r#"{"failItems":{"ids":["CFQ7TTC0BULK0003"],"status":503}}"#,
        ],
    )
    .await;
    let token = admin_token(&served).await;
    let get = |id: &str| {
        reqwest::Client::new()
            .get(format!(
                "{}/v1.0/policies/AllowSelfServicePurchase/products/{id}",
                served.uri("serviceUri")
            ))
            .bearer_auth(&token)
            .send()
    };
    let failed = get("CFQ7TTC0BULK0003").await.unwrap();
    assert_eq!(failed.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        get("CFQ7TTC0BULK0004").await.unwrap().status(),
        reqwest::StatusCode::OK
    );
}

#[tokio::test]
async fn app_commands_register_consent_and_mint_what_serve_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("state");
    let cert = support::apps::TestCertificate::new("cert-a");
    let pem = dir.path().join("app.pem");
    std::fs::write(&pem, &cert.pem).unwrap();
    let secret = "cli-app-secret-0123456789abcdef";
    let subject = "system:serviceaccount:ops:policy-job";
    let (ok, stdout) = run(
        &[
            "add-app",
            "--name",
            "CLI app",
            "--roles",
            support::apps::READ_WRITE,
            "--multi-tenant",
            "--secret",
            secret,
            "--certificate",
            pem.to_str().unwrap(),
            "--federated-subject",
            subject,
            "--json",
        ],
        &data,
    )
    .await;
    assert!(ok, "{stdout}");
    let app: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert!(!stdout.contains(secret));
    let app_id = app["appId"].as_str().unwrap().to_owned();
    assert_eq!(
        app["certificates"][0]["sha256Thumbprint"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let (ok, stdout) = run(
        &["consent-app", "--app", &app_id, "--tenant", "fabrikam"],
        &data,
    )
    .await;
    assert!(ok, "{stdout}");
    assert_eq!(
        serde_json::from_str::<Value>(stdout.trim()).unwrap()["tenantId"],
        support::FABRIKAM
    );
    let (ok, stdout) = run(
        &[
            "add-app",
            "--name",
            "Identity",
            "--managed-identity",
            "system",
        ],
        &data,
    )
    .await;
    assert!(ok, "{stdout}");
    let identity_id = stdout.lines().last().unwrap().to_owned();
    let (ok, stdout) = run(&["mint-federated", "--subject", subject], &data).await;
    assert!(ok, "{stdout}");
    let federated = stdout.lines().last().unwrap().to_owned();

    let served = Served::start(
        &data,
        &[
            "--identity-header",
            "cli-identity-header-0123456789",
            "--app-token-lifetime-seconds",
            "120",
        ],
    )
    .await;
    let base = served.uri("authorityUri").to_owned();
    let client = reqwest::Client::new();
    let request = |tenant: &str, credential: (&str, String)| {
        let form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", app_id.clone()),
            ("scope", format!("{}/.default", support::RESOURCE_APP_ID)),
            (
                "client_assertion_type",
                support::apps::ASSERTION_TYPE.to_owned(),
            ),
            credential,
        ];
        client
            .post(format!("{base}/{tenant}/oauth2/v2.0/token"))
            .form(&form)
            .send()
    };
    let assertion = cert.assertion(
        &app_id,
        &format!("{base}/fabrikam/oauth2/v2.0/token"),
        jsonwebtoken::Algorithm::PS256,
        300,
    );
    for (tenant, credential) in [
        ("contoso", ("client_assertion", federated)),
        ("fabrikam", ("client_assertion", assertion)),
        ("fabrikam", ("client_secret", secret.to_owned())),
    ] {
        let answer: Value = request(tenant, credential)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["expires_in"], 120, "{answer}");
        let status = get_policy(&served, answer["access_token"].as_str().unwrap()).await;
        assert_eq!(status, reqwest::StatusCode::OK);
    }
    let answer: Value = client
        .get(format!(
            "{base}/msi/token?api-version=2019-08-01&resource={}",
            support::RESOURCE_APP_ID
        ))
        .header("X-IDENTITY-HEADER", "cli-identity-header-0123456789")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["client_id"], identity_id, "{answer}");
}
