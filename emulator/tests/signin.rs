//! The sign-in authority over HTTP: discovery, the authorization code flow with PKCE, the device
//! code flow, refresh token rotation and client credentials.

mod support;

use std::time::Duration;

use mscommerce_emulator::settings::Settings;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use serde_json::Value;
use support::{
    module_scope, param, query_of, TestServer, ADMIN, CONTOSO, FABRIKAM, FABRIKAM_ADMIN,
    MODULE_CLIENT_ID, RESOURCE_APP_ID,
};

/// The verifier and challenge of RFC 7636's example.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The module's redirect URI.
const REDIRECT: &str = "http://localhost/m365/commerce";
/// A state with characters that need encoding.
const STATE: &str = "a b&c=d/é?";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The parameters of the module's authorization request, with `changes` applied (an empty value
/// removes the parameter).
fn authorize_params(changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let scope = module_scope();
    let mut params: Vec<(String, String)> = [
        ("client_id", MODULE_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", scope.as_str()),
        ("state", STATE),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (name, value) in changes {
        params.retain(|(key, _)| key != name);
        if !value.is_empty() {
            params.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    params
}

async fn authorize_page(
    server: &TestServer,
    tenant: &str,
    params: &[(String, String)],
) -> reqwest::Response {
    server
        .client()
        .get(server.url(&format!("/{tenant}/oauth2/v2.0/authorize")))
        .query(params)
        .send()
        .await
        .unwrap()
}

/// Gets the sign-in page, posts its form back with `user` chosen, and returns the redirect's
/// query parameters.
async fn sign_in_as(server: &TestServer, tenant: &str, user: &str) -> Vec<(String, String)> {
    let page = authorize_page(server, tenant, &authorize_params(&[])).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let mut form = support::hidden_inputs(&html);
    form.push(("user".to_owned(), user.to_owned()));
    form.push(("action".to_owned(), "approve".to_owned()));
    let response = server
        .client()
        .post(server.url(&format!("/{tenant}/oauth2/v2.0/authorize")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    query_of(&location)
}

async fn redeem(server: &TestServer, code: &str, verifier: &str) -> (StatusCode, Value) {
    server
        .token_request(
            "organizations",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", MODULE_CLIENT_ID),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ],
        )
        .await
}

/// Signs `user` in with the authorization code flow; returns the token response.
async fn tokens_for(server: &TestServer, user: &str) -> Value {
    let redirect = sign_in_as(server, "organizations", user).await;
    let (status, body) = redeem(server, param(&redirect, "code").unwrap(), VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn openid_configuration_points_at_this_server() {
    let server = TestServer::start().await;
    let (status, config) = support::json(
        server
            .get_raw("/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let base = format!("{}/{CONTOSO}", server.base());
    assert_eq!(
        config["issuer"],
        format!("https://login.emulator.local/{CONTOSO}/v2.0")
    );
    for (field, path) in [
        ("authorization_endpoint", "/oauth2/v2.0/authorize"),
        ("token_endpoint", "/oauth2/v2.0/token"),
        ("device_authorization_endpoint", "/oauth2/v2.0/devicecode"),
        ("jwks_uri", "/discovery/v2.0/keys"),
    ] {
        assert_eq!(config[field], format!("{base}{path}"), "{field}");
    }
    assert_eq!(config["code_challenge_methods_supported"][0], "S256");
}

#[tokio::test]
async fn openid_configuration_of_organizations_has_a_placeholder_issuer() {
    let server = TestServer::start().await;
    let (status, config) = support::json(
        server
            .get_raw("/organizations/v2.0/.well-known/openid-configuration")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        config["issuer"],
        "https://login.emulator.local/{tenantid}/v2.0"
    );
    assert_eq!(
        config["token_endpoint"],
        server.url("/organizations/oauth2/v2.0/token")
    );
}

#[tokio::test]
async fn openid_configuration_of_an_unknown_tenant_is_an_error() {
    let server = TestServer::start().await;
    let (status, body) = support::json(
        server
            .get_raw("/nowhere.example/v2.0/.well-known/openid-configuration")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["error_codes"][0], 90002);
}

#[tokio::test]
async fn jwks_publishes_the_key_tokens_name() {
    let server = TestServer::start().await;
    for path in ["/discovery/v2.0/keys", "/common/discovery/v2.0/keys"] {
        let (status, jwks) = support::json(server.get_raw(path).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let key = &keys[0];
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["e"], "AQAB");
        assert_eq!(key["n"].as_str().unwrap().len(), 342, "a 2048-bit modulus");
        assert_eq!(key["kid"], server.key().kid());
    }
    let header = server.admin_token().split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], server.key().kid());
    assert_eq!(header["alg"], "RS256");
}

#[tokio::test]
async fn authorization_code_flow_signs_a_user_in() {
    let server = TestServer::start().await;
    // The page lists the tenant's users and preselects the login hint.
    let page = authorize_page(
        &server,
        "contoso.onmicrosoft.com",
        &authorize_params(&[("login_hint", ADMIN)]),
    )
    .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("value=\"{ADMIN}\" checked")),
        "{html}"
    );
    assert!(!html.contains(FABRIKAM_ADMIN));

    let redirect = sign_in_as(&server, "contoso.onmicrosoft.com", ADMIN).await;
    assert_eq!(param(&redirect, "state"), Some(STATE));
    let code = param(&redirect, "code").unwrap();
    let (status, body) = redeem(&server, code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["refresh_token"].is_string());

    let token = body["access_token"].as_str().unwrap();
    let claims = support::claims(token);
    assert_eq!(claims["aud"], RESOURCE_APP_ID);
    assert_eq!(claims["tid"], CONTOSO);
    assert_eq!(claims["upn"], ADMIN);
    assert_eq!(claims["appid"], MODULE_CLIENT_ID);
    assert_eq!(claims["wids"][0], "62e90394-69f5-4237-9190-012177145e10");
    let (status, _) = server.get_json_with(token, "/v1.0/policies").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn organizations_sign_in_acts_on_the_chosen_users_tenant() {
    let server = TestServer::start().await;
    let body = tokens_for(&server, FABRIKAM_ADMIN).await;
    let claims = support::claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["tid"], FABRIKAM);
    assert_eq!(
        claims["iss"],
        format!("https://login.emulator.local/{FABRIKAM}/v2.0")
    );
}

#[tokio::test]
async fn authorization_code_works_once() {
    let server = TestServer::start().await;
    let redirect = sign_in_as(&server, "organizations", ADMIN).await;
    let code = param(&redirect, "code").unwrap();
    let (status, _) = redeem(&server, code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = redeem(&server, code, VERIFIER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"][0], 54005);
}

#[tokio::test]
async fn wrong_code_verifier_is_refused() {
    let server = TestServer::start().await;
    let redirect = sign_in_as(&server, "organizations", ADMIN).await;
    let code = param(&redirect, "code").unwrap();
    let (status, body) = redeem(&server, code, &"x".repeat(43)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"][0], 501481);
}

#[tokio::test]
async fn authorize_requires_an_s256_challenge() {
    let server = TestServer::start().await;
    for change in [
        ("code_challenge_method", "plain"),
        ("code_challenge_method", ""),
        ("code_challenge", ""),
    ] {
        let response = authorize_page(&server, "organizations", &authorize_params(&[change])).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{change:?}");
        let redirect = query_of(response.headers()[LOCATION].to_str().unwrap());
        assert_eq!(
            param(&redirect, "error"),
            Some("invalid_request"),
            "{change:?}"
        );
        assert!(param(&redirect, "error_description").is_some());
        assert_eq!(param(&redirect, "state"), Some(STATE));
    }
}

#[tokio::test]
async fn authorize_shows_an_error_page_for_a_redirect_uri_that_is_not_loopback() {
    let server = TestServer::start().await;
    let response = authorize_page(
        &server,
        "organizations",
        &authorize_params(&[("redirect_uri", "https://attacker.example/cb")]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(LOCATION).is_none());
    assert!(response.text().await.unwrap().contains("AADSTS50011"));
}

#[tokio::test]
async fn authorize_shows_an_error_page_for_an_unknown_client() {
    let server = TestServer::start().await;
    let response = authorize_page(
        &server,
        "organizations",
        &authorize_params(&[("client_id", "22222222-2222-2222-2222-222222222222")]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(LOCATION).is_none());
    assert!(response.text().await.unwrap().contains("AADSTS700016"));
}

#[tokio::test]
async fn cancelled_sign_in_redirects_with_access_denied() {
    let server = TestServer::start().await;
    let mut form = authorize_params(&[]);
    form.push(("action".to_owned(), "cancel".to_owned()));
    let response = server
        .client()
        .post(server.url("/organizations/oauth2/v2.0/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let redirect = query_of(response.headers()[LOCATION].to_str().unwrap());
    assert_eq!(param(&redirect, "error"), Some("access_denied"));
    assert_eq!(param(&redirect, "state"), Some(STATE));
}

#[tokio::test]
async fn token_errors_have_the_identity_platform_shape() {
    let server = TestServer::start().await;
    let response = server
        .client()
        .post(server.url("/organizations/oauth2/v2.0/token"))
        .header("client-request-id", "5b1e0e4c-0000-4000-8000-0000000000b2")
        .form(&[("grant_type", "password"), ("client_id", MODULE_CLIENT_ID)])
        .send()
        .await
        .unwrap();
    let (status, body) = support::json(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS70003: "));
    assert_eq!(body["error_codes"], serde_json::json!([70003]));
    assert_eq!(
        body["correlation_id"],
        "5b1e0e4c-0000-4000-8000-0000000000b2"
    );
    assert!(body["trace_id"].is_string() && body["timestamp"].is_string());
}

#[tokio::test]
async fn token_endpoint_answers_post_only() {
    let server = TestServer::start().await;
    let response = server
        .get_raw("/organizations/oauth2/v2.0/token")
        .send()
        .await
        .unwrap();
    let (status, body) = support::json(response).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["errorCode"], "MethodNotAllowed");
}

#[tokio::test]
async fn unknown_client_id_is_refused_at_the_token_endpoint() {
    let server = TestServer::start().await;
    let (status, body) = server
        .token_request(
            "organizations",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "22222222-2222-2222-2222-222222222222"),
                ("refresh_token", "whatever"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client");
}

#[tokio::test]
async fn refresh_token_rotates_and_the_old_one_stops_working() {
    let server = TestServer::start().await;
    let first = tokens_for(&server, ADMIN).await;
    let old = first["refresh_token"].as_str().unwrap();
    let refresh = |token: String| {
        let server = &server;
        async move {
            server
                .token_request(
                    "organizations",
                    &[
                        ("grant_type", "refresh_token"),
                        ("client_id", MODULE_CLIENT_ID),
                        ("refresh_token", &token),
                    ],
                )
                .await
        }
    };
    let (status, second) = refresh(old.to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let new = second["refresh_token"].as_str().unwrap();
    assert_ne!(new, old);
    let (status, _) = server
        .get_json_with(second["access_token"].as_str().unwrap(), "/v1.0/policies")
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, reused) = refresh(old.to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reused["error"], "invalid_grant");
    let (status, _) = refresh(new.to_owned()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn client_credentials_give_an_app_only_token() {
    let server = TestServer::start().await;
    let (status, body) = server
        .token_request(
            "contoso.onmicrosoft.com",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", support::APP_CLIENT_ID),
                ("client_secret", support::APP_CLIENT_SECRET),
                ("scope", &format!("{RESOURCE_APP_ID}/.default")),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none());
    let claims = support::claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["tid"], CONTOSO);
    assert_eq!(claims["appid"], support::APP_CLIENT_ID);
    assert!(claims.get("scp").is_none() && claims.get("upn").is_none());
}

#[tokio::test]
async fn client_credentials_with_a_wrong_secret_are_refused() {
    let server = TestServer::start().await;
    let (status, body) = server
        .token_request(
            CONTOSO,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", support::APP_CLIENT_ID),
                ("client_secret", "wrong"),
                ("scope", &format!("{RESOURCE_APP_ID}/.default")),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
}

async fn start_device_flow(server: &TestServer) -> Value {
    let scope = module_scope();
    let (status, body) = support::json(
        server
            .post_form(
                "/organizations/oauth2/v2.0/devicecode",
                &[("client_id", MODULE_CLIENT_ID), ("scope", &scope)],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn poll(server: &TestServer, device: &Value) -> (StatusCode, Value) {
    server
        .token_request(
            "organizations",
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", MODULE_CLIENT_ID),
                ("device_code", device["device_code"].as_str().unwrap()),
            ],
        )
        .await
}

/// Answers the device login page for `device` as `user`.
async fn answer_device_login(
    server: &TestServer,
    device: &Value,
    user: &str,
    action: &str,
) -> String {
    let user_code = device["user_code"].as_str().unwrap();
    let response = server
        .post_form(
            "/devicelogin",
            &[("user_code", user_code), ("user", user), ("action", action)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test]
async fn device_code_flow_signs_a_user_in() {
    let server = TestServer::start().await;
    let device = start_device_flow(&server).await;
    let user_code = device["user_code"].as_str().unwrap();
    let verification_uri = server.url("/devicelogin");
    assert_eq!(device["verification_uri"], verification_uri);
    assert_eq!(device["interval"], 5);
    assert_eq!(device["expires_in"], 900);
    assert_eq!(
        device["message"],
        format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the \
             code {user_code} to authenticate."
        )
    );
    let (status, body) = poll(&server, &device).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "authorization_pending");

    // The page: enter the code (any case), then pick a user.
    let page = server.get_raw("/devicelogin").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let accounts = server
        .post_form("/devicelogin", &[("user_code", &user_code.to_lowercase())])
        .await;
    assert_eq!(accounts.status(), StatusCode::OK);
    assert!(accounts.text().await.unwrap().contains(FABRIKAM_ADMIN));
    let done = answer_device_login(&server, &device, FABRIKAM_ADMIN, "approve").await;
    assert!(done.contains("signed in"), "{done}");

    let (status, body) = poll(&server, &device).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["refresh_token"].is_string());
    let claims = support::claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["upn"], FABRIKAM_ADMIN);
    assert_eq!(claims["tid"], FABRIKAM);
}

#[tokio::test]
async fn device_code_polled_too_fast_is_told_to_slow_down() {
    let server = TestServer::start().await;
    let device = start_device_flow(&server).await;
    let (_, first) = poll(&server, &device).await;
    assert_eq!(first["error"], "authorization_pending");
    let (status, second) = poll(&server, &device).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(second["error"], "slow_down");
}

#[tokio::test]
async fn declined_device_code_is_access_denied() {
    let server = TestServer::start().await;
    let device = start_device_flow(&server).await;
    answer_device_login(&server, &device, ADMIN, "deny").await;
    let (status, body) = poll(&server, &device).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "access_denied");
}

#[tokio::test]
async fn device_code_expires() {
    let server = TestServer::start_with(Settings {
        device_code_lifetime_s: 1,
        ..Settings::default()
    })
    .await;
    let device = start_device_flow(&server).await;
    assert_eq!(device["expires_in"], 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = poll(&server, &device).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "expired_token");
}
