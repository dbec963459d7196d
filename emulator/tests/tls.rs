//! `serve --tls`: HTTPS with a self-signed certificate kept in the data directory.

mod support;

use reqwest::{Certificate, StatusCode};
use serde_json::Value;
use support::process::{mint_token, Served};

#[tokio::test]
async fn tls_serves_https_to_a_client_that_trusts_the_written_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(dir.path(), &["--tls"]).await;
    let port = served.ready["port"].as_u64().unwrap();
    let base = format!("https://127.0.0.1:{port}");
    assert_eq!(served.uri("serviceUri"), base);
    assert_eq!(served.uri("authorityUri"), base);
    assert_eq!(served.uri("adminUri"), format!("{base}/admin"));
    let certificate_path = served.uri("certificatePath");
    assert_eq!(
        std::path::Path::new(certificate_path),
        dir.path().join("tls-cert.pem")
    );
    let pem = std::fs::read(certificate_path).unwrap();

    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    for host in ["127.0.0.1", "localhost"] {
        let token = mint_token(
            &client,
            &format!("https://{host}:{port}/admin"),
            "admin@contoso.onmicrosoft.com",
        )
        .await;
        let response = client
            .get(format!("https://{host}:{port}/v1.0/policies"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{host}");
        assert_eq!(response.version(), reqwest::Version::HTTP_11);
    }
    // Discovery names endpoints on this HTTPS server.
    let discovery: Value = client
        .get(format!(
            "{base}/contoso/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(discovery["token_endpoint"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{base}/")));

    // A client that does not trust the certificate cannot connect.
    let untrusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    assert!(untrusting
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .is_err());
}
