//! App-only sign-in: app registrations (secrets, certificates, federated credentials, managed
//! identities, consent) and what the licensing API lets their tokens do.

mod support;

use std::time::Duration;

use jsonwebtoken::Algorithm;
use mscommerce_emulator::settings::Settings;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::apps::{assertion_claims, TestCertificate, ASSERTION_TYPE, READ, READ_WRITE};
use support::{TestServer, CONTOSO, FABRIKAM, POLICY, RESOURCE_APP_ID};

const POLICIES: &str = "/v1.0/policies";
const SECRET: &str = "app-only-test-secret-0123456789";

fn product(id: &str) -> String {
    format!("/v1.0/policies/{POLICY}/products/{id}")
}

fn scope() -> String {
    format!("{RESOURCE_APP_ID}/.default")
}

async fn post_json(server: &TestServer, path: &str, body: &Value) -> (StatusCode, Value) {
    support::json(
        server
            .client()
            .post(server.url(path))
            .json(body)
            .send()
            .await
            .expect("send"),
    )
    .await
}

/// Registers an app through the admin API; returns its JSON.
async fn add_app(server: &TestServer, body: Value) -> Value {
    let (status, app) = post_json(server, "/admin/apps", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    app
}

/// A client credentials request with a secret, in `tenant`.
async fn with_secret(
    server: &TestServer,
    tenant: &str,
    app_id: &str,
    secret: &str,
) -> (StatusCode, Value) {
    server
        .token_request(
            tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", app_id),
                ("client_secret", secret),
                ("scope", &scope()),
            ],
        )
        .await
}

/// A client credentials request with a client assertion, in `tenant`.
async fn with_assertion(
    server: &TestServer,
    tenant: &str,
    app_id: &str,
    assertion: &str,
) -> (StatusCode, Value) {
    server
        .token_request(
            tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", app_id),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", assertion),
                ("scope", &scope()),
            ],
        )
        .await
}

fn token_endpoint(server: &TestServer, tenant: &str) -> String {
    server.url(&format!("/{tenant}/oauth2/v2.0/token"))
}

/// Asserts an AADSTS error answer.
fn assert_aadsts(
    status: StatusCode,
    body: &Value,
    want_status: StatusCode,
    error: &str,
    code: u64,
) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
}

async fn put_value(server: &TestServer, token: &str, id: &str, value: &str) -> (StatusCode, Value) {
    server
        .put_raw_with(
            token,
            &product(id),
            "application/json",
            &json!({"policyValue": value}).to_string(),
        )
        .await
}

#[tokio::test]
async fn a_secret_gives_a_token_with_the_granted_permission_and_writes_are_audited() {
    let server = TestServer::start().await;
    let app = add_app(
        &server,
        json!({"displayName": "Nightly policy job", "roles": [READ_WRITE], "secrets": [SECRET]}),
    )
    .await;
    let app_id = app["appId"].as_str().unwrap();
    assert_eq!(app["homeTenantId"], CONTOSO);
    assert_eq!(app["roles"], json!([READ_WRITE]));
    assert_eq!(app["secretCount"], 1);
    assert!(app.get("secrets").is_none(), "{app}");
    let principal = app["consents"][0]["servicePrincipalId"].as_str().unwrap();

    let (status, body) = with_secret(&server, "contoso.onmicrosoft.com", app_id, SECRET).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();
    let claims = support::claims(token);
    assert_eq!(claims["aud"], RESOURCE_APP_ID);
    assert_eq!(claims["tid"], CONTOSO);
    assert_eq!(claims["appid"], app_id);
    assert_eq!(claims["azp"], app_id);
    assert_eq!(claims["oid"], principal);
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["roles"], json!([READ_WRITE]));
    assert!(
        claims.get("scp").is_none() && claims.get("upn").is_none(),
        "{claims}"
    );

    let (status, _) = server.get_json_with(token, POLICIES).await;
    assert_eq!(status, StatusCode::OK);
    let (status, item) = put_value(&server, token, "CFQ7TTC0LH3L", "Disabled").await;
    assert_eq!(status, StatusCode::OK, "{item}");
    assert_eq!(item["policyValue"], "Disabled");

    let (_, audit) = server
        .get_json(&format!("/admin/tenants/{CONTOSO}/audit"))
        .await;
    let newest = &audit["items"][0];
    assert_eq!(newest["actor"], "Nightly policy job");
    assert_eq!(newest["actorAppId"], app_id);
    let page = server
        .client()
        .get(server.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("Nightly policy job (app <code>{app_id}</code>)")),
        "{page}"
    );
}

#[tokio::test]
async fn the_licensing_api_enforces_the_application_permissions() {
    let server = TestServer::start().await;
    let reader = add_app(
        &server,
        json!({"displayName": "Reader", "roles": [READ], "secrets": [SECRET]}),
    )
    .await;
    let none = add_app(
        &server,
        json!({"displayName": "Nothing", "secrets": [SECRET]}),
    )
    .await;
    let reader_id = reader["appId"].as_str().unwrap();
    let none_id = none["appId"].as_str().unwrap();

    let (_, body) = with_secret(&server, CONTOSO, reader_id, SECRET).await;
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(support::claims(token)["roles"], json!([READ]));
    let (status, _) = server.get_json_with(token, &product("CFQ7TTC0LH3L")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) = put_value(&server, token, "CFQ7TTC0LH3L", "Disabled").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused,
        json!({
            "errorCode": "Forbidden",
            "reason": format!(
                "The application {reader_id} has no permission {READ_WRITE} of M365 License \
                 Manager ({RESOURCE_APP_ID}) in this tenant: grant the application permission \
                 and have an administrator consent to it."
            ),
        })
    );

    let (_, body) = with_secret(&server, CONTOSO, none_id, SECRET).await;
    let token = body["access_token"].as_str().unwrap();
    assert!(support::claims(token).get("roles").is_none());
    let (status, refused) = server.get_json_with(token, POLICIES).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let reason = refused["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("{READ} or {READ_WRITE}")),
        "{reason}"
    );
    let (status, refused) = put_value(&server, token, "CFQ7TTC0LH3L", "Disabled").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(refused["reason"]
        .as_str()
        .unwrap()
        .contains(&format!("permission {READ_WRITE} of")));
}

#[tokio::test]
async fn client_credential_errors_are_answered_as_entra_does() {
    let server = TestServer::start().await;
    let app = add_app(
        &server,
        json!({"displayName": "Errors", "roles": [READ], "secrets": [SECRET]}),
    )
    .await;
    let app_id = app["appId"].as_str().unwrap();

    let unknown = "0d1e2f30-0000-4000-8000-00000000beef";
    let (status, body) = with_secret(&server, CONTOSO, unknown, SECRET).await;
    assert_aadsts(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700_016,
    );

    let (status, body) = with_secret(&server, CONTOSO, app_id, "not-the-secret").await;
    assert_aadsts(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7_000_215,
    );

    let (status, body) = server
        .token_request(
            CONTOSO,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", app_id),
                ("client_secret", SECRET),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_aadsts(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        1_002_012,
    );

    // Registered in contoso: fabrikam never consented.
    let (status, body) = with_secret(&server, FABRIKAM, app_id, SECRET).await;
    assert_aadsts(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7_000_229,
    );
}

#[tokio::test]
async fn only_a_multi_tenant_app_can_be_consented_in_another_tenant() {
    let server = TestServer::start().await;
    let single = add_app(
        &server,
        json!({"displayName": "Single", "roles": [READ], "secrets": [SECRET]}),
    )
    .await;
    let (status, body) = post_json(
        &server,
        &format!("/admin/apps/{}/consent", single["appId"].as_str().unwrap()),
        &json!({"tenant": "fabrikam"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let multi = add_app(
        &server,
        json!({"displayName": "Partner tool", "roles": [READ], "secrets": [SECRET], "multiTenant": true}),
    )
    .await;
    let app_id = multi["appId"].as_str().unwrap();
    let (status, body) = with_secret(&server, "fabrikam.onmicrosoft.com", app_id, SECRET).await;
    assert_aadsts(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7_000_229,
    );

    let path = format!("/admin/apps/{app_id}/consent");
    let (status, consent) = post_json(
        &server,
        &path,
        &json!({"tenant": "fabrikam.onmicrosoft.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{consent}");
    assert_eq!(consent["tenantId"], FABRIKAM);
    let principal = consent["servicePrincipalId"].as_str().unwrap();
    assert_ne!(
        principal,
        multi["consents"][0]["servicePrincipalId"].as_str().unwrap()
    );
    let (_, again) = post_json(&server, &path, &json!({"tenant": FABRIKAM})).await;
    assert_eq!(
        again["servicePrincipalId"], principal,
        "consenting again changes nothing"
    );

    let (status, body) = with_secret(&server, FABRIKAM, app_id, SECRET).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claims = support::claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        (claims["tid"].as_str(), claims["oid"].as_str()),
        (Some(FABRIKAM), Some(principal))
    );

    let (status, missing) = post_json(
        &server,
        "/admin/apps/0d1e2f30-0000-4000-8000-00000000beef/consent",
        &json!({"tenant": CONTOSO}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    let (_, listed) = server.get_json("/admin/apps").await;
    let listed = listed["items"].as_array().unwrap();
    let partner = listed.iter().find(|item| item["appId"] == app_id).unwrap();
    assert_eq!(partner["consents"].as_array().unwrap().len(), 2);
    assert!(listed
        .iter()
        .any(|item| item["appId"] == support::APP_CLIENT_ID));
}

#[tokio::test]
async fn certificate_assertions_sign_in_once_each() {
    let server = TestServer::start().await;
    let cert = TestCertificate::new("cert-a");
    let app = add_app(
        &server,
        json!({"displayName": "Cert app", "roles": [READ_WRITE], "certificates": [cert.pem]}),
    )
    .await;
    let app_id = app["appId"].as_str().unwrap();
    assert_eq!(
        app["certificates"][0]["sha256Thumbprint"]
            .as_str()
            .unwrap()
            .len(),
        64
    );

    // RS256 named by x5t#S256, the audience naming the tenant by its domain.
    let aud = token_endpoint(&server, "contoso.onmicrosoft.com");
    let assertion = cert.assertion(app_id, &aud, Algorithm::RS256, 600);
    let (status, body) = with_assertion(&server, CONTOSO, app_id, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (status, _) = put_value(&server, token, "CFQ7TTC0LH3L", "Disabled").await;
    assert_eq!(status, StatusCode::OK);

    // The same assertion again is a replay.
    let (status, body) = with_assertion(&server, CONTOSO, app_id, &assertion).await;
    assert_aadsts(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        50_013,
    );

    // PS256 named by x5t (SHA-1), the audience naming the tenant by id.
    let claims = assertion_claims(app_id, &token_endpoint(&server, CONTOSO), 600);
    let assertion = cert.sign(Algorithm::PS256, Some(cert.x5t()), None, &claims);
    let (status, body) = with_assertion(&server, CONTOSO, app_id, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn certificate_assertion_errors_are_answered_as_entra_does() {
    let server = TestServer::start().await;
    let cert = TestCertificate::new("cert-a");
    let other = TestCertificate::new("cert-b");
    let app = add_app(
        &server,
        json!({"displayName": "Cert app", "roles": [READ], "certificates": [cert.pem]}),
    )
    .await;
    let app_id = app["appId"].as_str().unwrap();
    let aud = token_endpoint(&server, CONTOSO);
    let refused = |code: u64| {
        move |(status, body): (StatusCode, Value)| {
            assert_aadsts(
                status,
                &body,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                code,
            );
        }
    };

    // A certificate the app does not have.
    let assertion = other.assertion(app_id, &aud, Algorithm::RS256, 600);
    refused(700_027)(with_assertion(&server, CONTOSO, app_id, &assertion).await);
    // The app's certificate named, another key signing.
    let claims = assertion_claims(app_id, &aud, 600);
    let forged = other.sign(Algorithm::PS256, None, Some(cert.x5t_s256()), &claims);
    refused(700_027)(with_assertion(&server, CONTOSO, app_id, &forged).await);
    // Expired, beyond the clock skew.
    let assertion = cert.assertion(app_id, &aud, Algorithm::RS256, -900);
    refused(700_024)(with_assertion(&server, CONTOSO, app_id, &assertion).await);
    // Not valid yet.
    let mut claims = assertion_claims(app_id, &aud, 3000);
    claims["nbf"] = json!(mscommerce_emulator::clock::now_s() + 1800);
    let early = cert.sign(Algorithm::RS256, None, Some(cert.x5t_s256()), &claims);
    refused(700_024)(with_assertion(&server, CONTOSO, app_id, &early).await);
    // Living a day.
    let assertion = cert.assertion(app_id, &aud, Algorithm::RS256, 86_400);
    refused(700_024)(with_assertion(&server, CONTOSO, app_id, &assertion).await);
    // Another tenant's token endpoint, and another server.
    let assertion = cert.assertion(
        app_id,
        &token_endpoint(&server, FABRIKAM),
        Algorithm::RS256,
        600,
    );
    refused(50_027)(with_assertion(&server, CONTOSO, app_id, &assertion).await);
    let assertion = cert.assertion(
        app_id,
        &format!("https://login.microsoftonline.com/{CONTOSO}/oauth2/v2.0/token"),
        Algorithm::RS256,
        600,
    );
    refused(50_027)(with_assertion(&server, CONTOSO, app_id, &assertion).await);
    // Issued for another app.
    let mut claims = assertion_claims(app_id, &aud, 600);
    claims["sub"] = json!("0d1e2f30-0000-4000-8000-00000000beef");
    let wrong = cert.sign(Algorithm::RS256, None, Some(cert.x5t_s256()), &claims);
    refused(700_021)(with_assertion(&server, CONTOSO, app_id, &wrong).await);
    // No jti.
    let mut claims = assertion_claims(app_id, &aud, 600);
    claims.as_object_mut().unwrap().remove("jti");
    let bare = cert.sign(Algorithm::RS256, None, Some(cert.x5t_s256()), &claims);
    refused(50_027)(with_assertion(&server, CONTOSO, app_id, &bare).await);
    // A wrong assertion type.
    let assertion = cert.assertion(app_id, &aud, Algorithm::RS256, 600);
    let (status, body) = server
        .token_request(
            CONTOSO,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", app_id),
                ("client_assertion_type", "jwt"),
                ("client_assertion", &assertion),
                ("scope", &scope()),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request")),
        "{body}"
    );
    // The refused ones left the good assertion usable.
    let (status, body) = with_assertion(&server, CONTOSO, app_id, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_rsa_certificate_is_required_and_a_bad_registration_changes_nothing() {
    let server = TestServer::start().await;
    let ec = rcgen::CertificateParams::new(vec!["ec.test".to_owned()])
        .unwrap()
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap();
    for body in [
        json!({"displayName": "EC", "certificates": [ec.pem()]}),
        json!({"displayName": "Bad role", "roles": ["Policy.ReadWrite.All"]}),
        json!({"displayName": "Bad id", "appId": "not-a-guid"}),
        json!({"displayName": "Short secret", "secrets": ["short"]}),
        json!({"displayName": "Identity with secret", "managedIdentity": "system", "secrets": [SECRET]}),
        json!({"displayName": ""}),
    ] {
        let (status, answer) = post_json(&server, "/admin/apps", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {answer}");
    }
    let (status, _) = post_json(
        &server,
        "/admin/apps",
        &json!({"displayName": "X", "tenant": "nowhere"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let id = "0d1e2f30-0000-4000-8000-0000000000a1";
    add_app(&server, json!({"displayName": "First", "appId": id})).await;
    let (status, _) = post_json(
        &server,
        "/admin/apps",
        &json!({"displayName": "Again", "appId": id}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, listed) = server.get_json("/admin/apps").await;
    // The three seeded apps (two for every tenant, the partner's) and the one registered.
    assert_eq!(listed["items"].as_array().unwrap().len(), 4, "{listed}");
}

#[tokio::test]
async fn federated_tokens_of_a_matching_credential_sign_in() {
    let server = TestServer::start().await;
    let subject = "repo:contoso/policies:ref:refs/heads/main";
    let app = add_app(
        &server,
        json!({"displayName": "Pipeline", "roles": [READ_WRITE], "federatedCredentials": [{"subject": subject}]}),
    )
    .await;
    let app_id = app["appId"].as_str().unwrap();
    assert_eq!(
        app["federatedCredentials"],
        json!([{"issuer": "https://login.emulator.local/federation", "subject": subject, "audience": "api://AzureADTokenExchange"}])
    );
    let mint = |body: Value| {
        let server = &server;
        async move {
            let (status, minted) = post_json(server, "/admin/federated-tokens", &body).await;
            assert_eq!(status, StatusCode::OK, "{minted}");
            minted["token"].as_str().unwrap().to_owned()
        }
    };
    let federated = mint(json!({"subject": subject})).await;
    let claims = support::claims(&federated);
    assert_eq!(claims["iss"], "https://login.emulator.local/federation");
    assert_eq!(claims["aud"], "api://AzureADTokenExchange");
    // A federated token is no access token for the licensing API.
    let (status, _) = server.get_json_with(&federated, POLICIES).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = with_assertion(&server, CONTOSO, app_id, &federated).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (status, _) = put_value(&server, token, "CFQ7TTC0LH3L", "Disabled").await;
    assert_eq!(status, StatusCode::OK);
    // Federated tokens are reused for their lifetime.
    let (status, _) = with_assertion(&server, CONTOSO, app_id, &federated).await;
    assert_eq!(status, StatusCode::OK);

    for other in [
        json!({"subject": "repo:contoso/policies:pull_request"}),
        json!({"subject": subject, "audience": "api://another"}),
    ] {
        let token = mint(other).await;
        let (status, body) = with_assertion(&server, CONTOSO, app_id, &token).await;
        assert_aadsts(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            70_021,
        );
    }
    let expired = mint(json!({"subject": subject, "lifetimeSeconds": -900})).await;
    let (status, body) = with_assertion(&server, CONTOSO, app_id, &expired).await;
    assert_aadsts(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        700_024,
    );
    // The right claims, signed by someone else.
    let forged = TestCertificate::new("cert-b").sign(Algorithm::RS256, None, None, &claims);
    let (status, body) = with_assertion(&server, CONTOSO, app_id, &forged).await;
    assert_aadsts(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        50_013,
    );
}

async fn identity_header(server: &TestServer) -> Value {
    let (status, identity) = server.get_json("/admin/identity").await;
    assert_eq!(status, StatusCode::OK);
    identity
}

async fn msi(server: &TestServer, header: Option<&str>, query: &str) -> (StatusCode, Value) {
    let mut request = server.get_raw(&format!("/msi/token?{query}"));
    if let Some(header) = header {
        request = request.header("X-IDENTITY-HEADER", header);
    }
    support::json(request.send().await.unwrap()).await
}

async fn imds(server: &TestServer, metadata: bool, query: &str) -> (StatusCode, Value) {
    let mut request = server.get_raw(&format!("/metadata/identity/oauth2/token?{query}"));
    if metadata {
        request = request.header("Metadata", "true");
    }
    support::json(request.send().await.unwrap()).await
}

#[tokio::test]
async fn managed_identities_get_tokens_from_both_endpoints() {
    let server = TestServer::start().await;
    let system = add_app(
        &server,
        json!({"displayName": "vm-system", "roles": [READ_WRITE], "managedIdentity": "system"}),
    )
    .await;
    let user = add_app(
        &server,
        json!({"displayName": "ops-identity", "roles": [READ], "managedIdentity": "user"}),
    )
    .await;
    let (status, second) = post_json(
        &server,
        "/admin/apps",
        &json!({"displayName": "again", "managedIdentity": "system"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{second}");
    let identity = identity_header(&server).await;
    assert_eq!(identity["identityEndpoint"], server.url("/msi/token"));
    assert_eq!(
        identity["imdsEndpoint"],
        server.url("/metadata/identity/oauth2/token")
    );
    let header = identity["identityHeader"].as_str().unwrap();
    let resource = format!("api-version=2019-08-01&resource={RESOURCE_APP_ID}");

    // App Service: the system identity when none is named.
    let (status, body) = msi(&server, Some(header), &resource).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["resource"], RESOURCE_APP_ID);
    assert_eq!(body["client_id"], system["appId"]);
    let token = body["access_token"].as_str().unwrap();
    let claims = support::claims(token);
    assert_eq!(body["expires_on"], claims["exp"].to_string());
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["oid"], system["consents"][0]["servicePrincipalId"]);
    let (status, _) = put_value(&server, token, "CFQ7TTC0LH3L", "Disabled").await;
    assert_eq!(status, StatusCode::OK);

    // A user-assigned one by client id and by resource id: it reads only.
    let by_client = format!("{resource}&client_id={}", user["appId"].as_str().unwrap());
    let (status, body) = msi(&server, Some(header), &by_client).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["client_id"], user["appId"]);
    let token = body["access_token"].as_str().unwrap();
    let (status, _) = server.get_json_with(token, POLICIES).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = put_value(&server, token, "CFQ7TTC0LH3L", "Enabled").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let by_resource = format!(
        "{resource}&mi_res_id=/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ops-identity"
    );
    let (_, body) = msi(&server, Some(header), &by_resource).await;
    assert_eq!(body["client_id"], user["appId"], "{body}");

    // App Service errors.
    let (status, body) = msi(&server, None, &resource).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_request"))
    );
    let (status, _) = msi(&server, Some("wrong"), &resource).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = msi(
        &server,
        Some(header),
        &format!("{resource}&client_id=0d1e2f30-0000-4000-8000-00000000beef"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": "Identity not found"})
    );
    let (status, body) = msi(
        &server,
        Some(header),
        "api-version=2019-08-01&resource=https://management.azure.com/",
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_resource"))
    );

    // IMDS: the same identities, with expires_in.
    let imds_query = format!("api-version=2018-02-01&resource={RESOURCE_APP_ID}");
    let (status, body) = imds(&server, true, &imds_query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["client_id"], system["appId"]);
    assert_eq!(body["expires_in"], "3600");
    let (status, body) = imds(
        &server,
        true,
        &format!("{imds_query}&client_id={}", user["appId"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        (status, &body["client_id"]),
        (StatusCode::OK, &user["appId"])
    );
    let (status, body) = imds(&server, false, &imds_query).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error_description"],
        "Required metadata header not specified"
    );
    let (status, body) = imds(
        &server,
        true,
        &format!("{imds_query}&client_id=0d1e2f30-0000-4000-8000-00000000beef"),
    )
    .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Identity not found"))
    );
}

#[tokio::test]
async fn without_a_system_identity_an_unnamed_request_finds_none() {
    let server = TestServer::start().await;
    let header = identity_header(&server).await["identityHeader"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = msi(
        &server,
        Some(&header),
        &format!("api-version=2019-08-01&resource={RESOURCE_APP_ID}"),
    )
    .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Identity not found"))
    );
}

#[tokio::test]
async fn app_tokens_live_the_app_token_lifetime() {
    let server = TestServer::start_with(Settings {
        app_token_lifetime_s: Some(1),
        ..Settings::default()
    })
    .await;
    let (_, settings) = server.get_json("/admin/settings").await;
    assert_eq!(settings["appTokenLifetimeSeconds"], 1);
    assert_eq!(settings["tokenLifetimeSeconds"], 3600);
    let app = add_app(
        &server,
        json!({"displayName": "Short", "roles": [READ], "secrets": [SECRET]}),
    )
    .await;
    let (_, body) = with_secret(&server, CONTOSO, app["appId"].as_str().unwrap(), SECRET).await;
    assert_eq!(body["expires_in"], 1);
    let token = body["access_token"].as_str().unwrap();
    let claims = support::claims(token);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        1
    );
    let (status, _) = server.get_json_with(token, POLICIES).await;
    assert_eq!(status, StatusCode::OK);
    // Past the expiry and the 5 s leeway the service allows.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let (status, body) = server.get_json_with(token, POLICIES).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // User tokens keep their own lifetime.
    let (status, _) = server.get_json(POLICIES).await;
    assert_eq!(status, StatusCode::OK);
}
