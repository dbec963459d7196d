//! Who may use the licensing API: token checks (401), roles and app-only tokens (403), and the
//! admin area's token minting.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{TestServer, ADMIN, BILLING, CONTOSO, NO_ROLE, POLICY, READER};

const POLICIES: &str = "/v1.0/policies";

fn product(id: &str) -> String {
    format!("/v1.0/policies/{POLICY}/products/{id}")
}

/// Asserts a 401 with `WWW-Authenticate: Bearer error="invalid_token"` and returns the reason.
async fn unauthorized_reason(server: &TestServer, token: &str) -> String {
    let response = server
        .get_raw(POLICIES)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let challenge = response.headers()[WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, body) = support::json(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["errorCode"], "Unauthorized");
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_token""#),
        "{challenge}"
    );
    body["reason"].as_str().unwrap().to_owned()
}

/// `token` with its claims changed by `edit`, signed again with the server's key.
fn resigned(server: &TestServer, token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut claims = support::claims(token);
    edit(&mut claims);
    server.key().sign(&claims).unwrap()
}

#[tokio::test]
async fn made_up_bearer_token_is_unauthorized() {
    let server = TestServer::start().await;
    let reason = unauthorized_reason(&server, "test-token").await;
    assert_eq!(reason, "The access token is malformed.");
}

#[tokio::test]
async fn expired_token_is_unauthorized() {
    let server = TestServer::start().await;
    let token = server.token_lasting(ADMIN, -60).await;
    let reason = unauthorized_reason(&server, &token).await;
    assert_eq!(reason, "The access token has expired.");
}

#[tokio::test]
async fn token_for_another_audience_is_unauthorized() {
    let server = TestServer::start().await;
    let token = resigned(&server, server.admin_token(), |claims| {
        claims["aud"] = json!("00000003-0000-0000-c000-000000000000");
    });
    let reason = unauthorized_reason(&server, &token).await;
    assert!(reason.contains("audience"), "{reason}");
}

#[tokio::test]
async fn tampered_signature_is_unauthorized() {
    let server = TestServer::start().await;
    let token = server.admin_token();
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[10] ^= 0x01;
    let tampered = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes));
    let reason = unauthorized_reason(&server, &tampered).await;
    assert_eq!(reason, "The access token's signature is invalid.");
}

#[tokio::test]
async fn tampered_claims_are_unauthorized() {
    let server = TestServer::start().await;
    // A reader who writes themselves a Global Administrator role, keeping the signature.
    let token = server.token(READER).await;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims = support::claims(&token);
    claims["wids"] = json!(["62e90394-69f5-4237-9190-012177145e10"]);
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    let reason = unauthorized_reason(&server, &parts.join(".")).await;
    assert_eq!(reason, "The access token's signature is invalid.");
}

#[tokio::test]
async fn token_from_another_issuer_is_unauthorized() {
    let server = TestServer::start().await;
    let token = resigned(&server, server.admin_token(), |claims| {
        claims["iss"] = json!(format!("https://login.microsoftonline.com/{CONTOSO}/v2.0"));
    });
    let reason = unauthorized_reason(&server, &token).await;
    assert!(reason.contains("issuer"), "{reason}");
}

#[tokio::test]
async fn token_of_an_unknown_tenant_is_unauthorized() {
    let server = TestServer::start().await;
    let tenant = "00000000-0000-0000-0000-00000000dead";
    let token = resigned(&server, server.admin_token(), |claims| {
        claims["tid"] = json!(tenant);
        claims["iss"] = json!(format!("https://login.emulator.local/{tenant}/v2.0"));
    });
    let reason = unauthorized_reason(&server, &token).await;
    assert!(reason.contains("tenant"), "{reason}");
}

#[tokio::test]
async fn global_reader_may_read_but_not_change() {
    let server = TestServer::start().await;
    let (status, _) = server.get_json_as(READER, &product("CFQ7TTC0LH3L")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server
        .put_json_as(
            READER,
            &product("CFQ7TTC0LH3L"),
            &json!({"policyValue": "Disabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["errorCode"], "Forbidden");
    let (_, read) = server.get_json(&product("CFQ7TTC0LH3L")).await;
    assert_eq!(read["policyValue"], "Enabled");
}

#[tokio::test]
async fn billing_administrator_may_change_policies() {
    let server = TestServer::start().await;
    let (status, body) = server
        .put_json_as(
            BILLING,
            &product("CFQ7TTC0LH3L"),
            &json!({"policyValue": "Disabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn user_without_an_admin_role_is_forbidden_everything() {
    let server = TestServer::start().await;
    let (status, body) = server.get_json_as(NO_ROLE, POLICIES).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["errorCode"], "Forbidden");
    let (status, _) = server
        .put_json_as(
            NO_ROLE,
            &product("CFQ7TTC0LH3L"),
            &json!({"policyValue": "Disabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn app_only_token_without_a_permission_is_forbidden() {
    let server = TestServer::start().await;
    let (status, answer) = server
        .token_request(
            CONTOSO,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", support::APP_CLIENT_ID),
                ("client_secret", support::APP_CLIENT_SECRET),
                ("scope", &format!("{}/.default", support::RESOURCE_APP_ID)),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let token = answer["access_token"].as_str().unwrap();
    let (status, body) = server.get_json_with(token, POLICIES).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The seeded app has no application permission of the service.
    assert_eq!(
        body,
        json!({
            "errorCode": "Forbidden",
            "reason": format!(
                "The application {} has no permission Policy.Read.AllowSelfServicePurchase or \
                 Policy.ReadWrite.AllowSelfServicePurchase of M365 License Manager ({}) in this \
                 tenant: grant the application permission and have an administrator consent to it.",
                support::APP_CLIENT_ID,
                support::RESOURCE_APP_ID
            ),
        })
    );
}

#[tokio::test]
async fn admin_endpoint_mints_a_token_the_api_accepts() {
    let server = TestServer::start().await;
    let response = server
        .client()
        .post(server.url("/admin/tokens"))
        .json(&json!({"tenant": "fabrikam.onmicrosoft.com", "user": "reader@fabrikam.onmicrosoft.com"}))
        .send()
        .await
        .unwrap();
    let (status, body) = support::json(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["accessToken"].as_str().unwrap();
    assert_eq!(support::claims(token)["exp"], body["expiresOn"]);
    let (status, _) = server.get_json_with(token, POLICIES).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn admin_endpoint_refuses_a_user_of_another_tenant() {
    let server = TestServer::start().await;
    let response = server
        .client()
        .post(server.url("/admin/tokens"))
        .json(&json!({"tenant": "fabrikam", "user": ADMIN}))
        .send()
        .await
        .unwrap();
    let (status, body) = support::json(response).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errorCode"], "Unknown");
}
