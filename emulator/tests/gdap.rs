//! Partners and their customers (GDAP): a partner user's refresh token redeemed at a customer
//! tenant, the licensing API's checks of the relationship at every call, the partner's
//! multi-tenant app, and `/admin/relationships`.

mod support;

use mscommerce_emulator::model::Role;
use mscommerce_emulator::model::TenantId;
use mscommerce_emulator::seed::{
    ADATUM_RELATIONSHIP_ID, ADATUM_TENANT_ID, LITWARE_RELATIONSHIP_ID, LITWARE_TENANT_ID,
    PARTNER_ADMIN_UPN, PARTNER_AGENT_UPN, PARTNER_APP_CLIENT_ID, PARTNER_APP_CLIENT_SECRET,
    PARTNER_TENANT_ID, TAILSPIN_TENANT_ID,
};
use mscommerce_emulator::tokens::issuer;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{claims, module_scope, TestServer, ADMIN, MODULE_CLIENT_ID, POLICY, RESOURCE_APP_ID};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// A product every tenant has.
const PRODUCT: &str = "CFQ7TTC0LH3L";

fn product_path() -> String {
    format!("/v1.0/policies/{POLICY}/products/{PRODUCT}")
}

/// Signs `upn` in with the device code flow at `organizations` (what `Connect-MSCommerce
/// -DeviceCode` does, the page answered as a person would); the token response.
async fn sign_in(server: &TestServer, upn: &str) -> Value {
    let scope = format!("{} openid", module_scope());
    let (status, device) = support::json(
        server
            .post_form(
                "/organizations/oauth2/v2.0/devicecode",
                &[("client_id", MODULE_CLIENT_ID), ("scope", &scope)],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{device}");
    let answer = server
        .post_form(
            "/devicelogin",
            &[
                ("user_code", device["user_code"].as_str().unwrap()),
                ("user", upn),
                ("action", "approve"),
            ],
        )
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let (status, body) = server
        .token_request(
            "organizations",
            &[
                ("grant_type", DEVICE_GRANT),
                ("client_id", MODULE_CLIENT_ID),
                ("device_code", device["device_code"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Redeems `refresh_token` at `tenant`'s token endpoint, as a client connecting to a customer.
async fn refresh_at(server: &TestServer, tenant: &str, refresh_token: &str) -> (StatusCode, Value) {
    server
        .token_request(
            tenant,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", MODULE_CLIENT_ID),
                ("refresh_token", refresh_token),
            ],
        )
        .await
}

/// The partner administrator's access token for `customer`, through a fresh sign-in.
async fn partner_token_for(server: &TestServer, customer: &str) -> String {
    let home = sign_in(server, PARTNER_ADMIN_UPN).await;
    let (status, body) =
        refresh_at(server, customer, home["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn admin(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = server.client().request(method, server.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    if response.status() == StatusCode::NO_CONTENT {
        return (StatusCode::NO_CONTENT, Value::Null);
    }
    support::json(response).await
}

async fn expire(server: &TestServer, relationship: &str) {
    let (status, body) = admin(
        server,
        reqwest::Method::POST,
        &format!("/admin/relationships/{relationship}/expire"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "expired");
}

async fn put_value(server: &TestServer, token: &str, value: &str) -> (StatusCode, Value) {
    server
        .put_raw_with(
            token,
            &product_path(),
            "application/json",
            &json!({"policyValue": value}).to_string(),
        )
        .await
}

/// The product's value in `tenant`, read with that tenant's own administrator's token.
async fn value_in(server: &TestServer, tenant_admin: &str) -> Value {
    let (status, body) = server.get_json_as(tenant_admin, &product_path()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["policyValue"].clone()
}

fn wids(roles: &[Role]) -> Value {
    json!(roles.iter().map(|r| r.template_id()).collect::<Vec<_>>())
}

fn error_codes(body: &Value) -> Value {
    body["error_codes"].clone()
}

#[tokio::test]
async fn a_partner_refresh_token_gets_tokens_for_each_customer_with_the_relationships_roles() {
    let server = TestServer::start().await;
    let home = sign_in(&server, PARTNER_ADMIN_UPN).await;
    assert_eq!(
        claims(home["access_token"].as_str().unwrap())["tid"],
        PARTNER_TENANT_ID
    );
    let mut refresh = home["refresh_token"].as_str().unwrap().to_owned();
    for (customer, tenant_id, role) in [
        (
            "adatum.onmicrosoft.com",
            ADATUM_TENANT_ID,
            Role::BillingAdministrator,
        ),
        ("litware", LITWARE_TENANT_ID, Role::GlobalAdministrator),
        (TAILSPIN_TENANT_ID, TAILSPIN_TENANT_ID, Role::GlobalReader),
    ] {
        let (status, body) = refresh_at(&server, customer, &refresh).await;
        assert_eq!(status, StatusCode::OK, "{customer}: {body}");
        let access = claims(body["access_token"].as_str().unwrap());
        assert_eq!(access["tid"], tenant_id, "{customer}");
        assert_eq!(access["upn"], PARTNER_ADMIN_UPN);
        assert_eq!(access["wids"], wids(&[role]), "{customer}");
        assert_eq!(
            access["idp"],
            issuer(&TenantId::new(PARTNER_TENANT_ID)),
            "{customer}"
        );
        let id = claims(body["id_token"].as_str().unwrap());
        assert_eq!(id["tid"], tenant_id, "{customer}");
        refresh = body["refresh_token"].as_str().unwrap().to_owned();
    }
    // The rotated token still belongs to the partner: at `organizations` it signs in at home.
    let (status, body) = refresh_at(&server, "organizations", &refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["tid"], PARTNER_TENANT_ID);
    assert!(access.get("idp").is_none(), "{access}");
}

#[tokio::test]
async fn a_tenant_without_a_relationship_is_aadsts50020_and_the_refresh_token_stays_usable() {
    let server = TestServer::start().await;
    let home = sign_in(&server, PARTNER_ADMIN_UPN).await;
    let refresh = home["refresh_token"].as_str().unwrap();
    let (status, body) = refresh_at(&server, "contoso.onmicrosoft.com", refresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(error_codes(&body), json!([50020]));
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!(
            "AADSTS50020: User account '{PARTNER_ADMIN_UPN}' from identity provider"
        )) && description.contains("does not exist in tenant 'contoso'"),
        "{description}"
    );
    let (status, body) = refresh_at(&server, "adatum", refresh).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the refused token still works: {body}"
    );
}

#[tokio::test]
async fn a_partner_user_no_relationship_assigns_gets_no_customer_token() {
    let server = TestServer::start().await;
    let home = sign_in(&server, PARTNER_AGENT_UPN).await;
    let (status, body) =
        refresh_at(&server, "adatum", home["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), json!([50020]));
}

#[tokio::test]
async fn another_tenants_own_user_gets_no_token_there_either() {
    let server = TestServer::start().await;
    let home = sign_in(&server, ADMIN).await;
    let (status, body) =
        refresh_at(&server, "fabrikam", home["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), json!([50020]));
}

#[tokio::test]
async fn an_expired_relationship_gives_no_token_but_the_others_still_do() {
    let server = TestServer::start().await;
    let home = sign_in(&server, PARTNER_ADMIN_UPN).await;
    expire(&server, ADATUM_RELATIONSHIP_ID).await;
    let refresh = home["refresh_token"].as_str().unwrap();
    let (status, body) = refresh_at(&server, "adatum", refresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), json!([50020]));
    let (status, body) = refresh_at(&server, "litware", refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn billing_administrator_through_a_relationship_changes_the_customers_policy_only() {
    let server = TestServer::start().await;
    let token = partner_token_for(&server, "adatum").await;
    let (status, body) = put_value(&server, &token, "Disabled").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        value_in(&server, "admin@adatum.onmicrosoft.com").await,
        "Disabled"
    );
    assert_eq!(
        value_in(&server, "admin@litware.onmicrosoft.com").await,
        "Enabled"
    );
    assert_eq!(value_in(&server, ADMIN).await, "Enabled");
    let (_, audit) = server
        .get_json(&format!("/admin/tenants/{ADATUM_TENANT_ID}/audit"))
        .await;
    assert_eq!(audit["items"][0]["actor"], PARTNER_ADMIN_UPN);
}

#[tokio::test]
async fn a_read_only_relationship_reads_but_cannot_change() {
    let server = TestServer::start().await;
    let token = partner_token_for(&server, "tailspin").await;
    let (status, body) = server.get_json_with(&token, &product_path()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["policyValue"], "Enabled");
    let (status, body) = put_value(&server, &token, "Disabled").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["errorCode"], "Forbidden");
    assert_eq!(
        value_in(&server, "admin@tailspin.onmicrosoft.com").await,
        "Enabled"
    );
}

#[tokio::test]
async fn a_relationship_expired_after_the_token_was_issued_is_403_on_every_call() {
    let server = TestServer::start().await;
    let token = partner_token_for(&server, "adatum").await;
    let (status, _) = server.get_json_with(&token, &product_path()).await;
    assert_eq!(status, StatusCode::OK);
    expire(&server, ADATUM_RELATIONSHIP_ID).await;
    let (status, body) = server.get_json_with(&token, &product_path()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["reason"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    let (status, _) = put_value(&server, &token, "Disabled").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        value_in(&server, "admin@adatum.onmicrosoft.com").await,
        "Enabled"
    );
}

#[tokio::test]
async fn a_removed_relationship_is_403_at_once() {
    let server = TestServer::start().await;
    let token = partner_token_for(&server, "litware").await;
    let (status, _) = admin(
        &server,
        reqwest::Method::DELETE,
        &format!("/admin/relationships/{LITWARE_RELATIONSHIP_ID}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server.get_json_with(&token, "/v1.0/policies").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

async fn app_token_at(server: &TestServer, tenant: &str) -> (StatusCode, Value) {
    let scope = format!("{RESOURCE_APP_ID}/.default");
    server
        .token_request(
            tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", PARTNER_APP_CLIENT_ID),
                ("client_secret", PARTNER_APP_CLIENT_SECRET),
                ("scope", &scope),
            ],
        )
        .await
}

#[tokio::test]
async fn the_partner_app_works_where_consented_only() {
    let server = TestServer::start().await;
    let (status, body) = app_token_at(&server, "adatum.onmicrosoft.com").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let access = claims(token);
    assert_eq!(access["tid"], ADATUM_TENANT_ID);
    assert_eq!(
        access["roles"],
        json!(["Policy.ReadWrite.AllowSelfServicePurchase"])
    );
    let (status, body) = put_value(&server, token, "Disabled").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        value_in(&server, "admin@adatum.onmicrosoft.com").await,
        "Disabled"
    );

    let (status, body) = app_token_at(&server, "tailspin").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(error_codes(&body), json!([7000229]));
}

#[tokio::test]
async fn the_seeded_relationships_are_listed_active() {
    let server = TestServer::start().await;
    let (status, body) = admin(&server, reqwest::Method::GET, "/admin/relationships", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["items"].as_array().unwrap();
    let summary: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|item| {
            (
                item["customerTenant"].as_str().unwrap(),
                item["roles"][0].as_str().unwrap(),
                item["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("adatum", "Billing Administrator", "active"),
            ("litware", "Global Administrator", "active"),
            ("tailspin", "Global Reader", "active"),
        ]
    );
    assert_eq!(items[0]["users"], json!([PARTNER_ADMIN_UPN]));
    assert_eq!(items[0]["partnerTenantId"], PARTNER_TENANT_ID);
    let (_, one) = admin(
        &server,
        reqwest::Method::GET,
        "/admin/relationships?customer=litware.onmicrosoft.com",
        None,
    )
    .await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_relationship_added_and_changed_over_the_admin_api_takes_effect() {
    let server = TestServer::start().await;
    let (status, added) = admin(
        &server,
        reqwest::Method::POST,
        "/admin/relationships",
        Some(json!({
            "partner": "treyresearch",
            "customer": "contoso.onmicrosoft.com",
            "roles": ["Global Reader"],
            "users": [PARTNER_ADMIN_UPN],
            "expires": "+1",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["status"], "active");
    let id = added["id"].as_str().unwrap().to_owned();

    let home = sign_in(&server, PARTNER_ADMIN_UPN).await;
    let (status, body) =
        refresh_at(&server, "contoso", home["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let (status, _) = put_value(&server, &token, "Disabled").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The role is checked at each call, not taken from the token.
    let (status, changed) = admin(
        &server,
        reqwest::Method::PUT,
        &format!("/admin/relationships/{id}"),
        Some(json!({"roles": ["Billing Administrator"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["roles"], json!(["Billing Administrator"]));
    let (status, body) = put_value(&server, &token, "Disabled").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, past) = admin(
        &server,
        reqwest::Method::PUT,
        &format!("/admin/relationships/{id}"),
        Some(json!({"expires": "2020-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{past}");
    assert_eq!(past["status"], "expired");
    assert_eq!(past["expiresAt"], "2020-01-01T00:00:00Z");
    let (status, _) = put_value(&server, &token, "Enabled").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_admin_api_refuses_what_makes_no_sense() {
    let server = TestServer::start().await;
    let post = |body: Value| {
        admin(
            &server,
            reqwest::Method::POST,
            "/admin/relationships",
            Some(body),
        )
    };
    let (status, body) =
        post(json!({"partner": "treyresearch", "customer": "adatum", "roles": ["Helpdesk Agent"]}))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) =
        post(json!({"partner": "treyresearch", "customer": "nowhere", "roles": ["Global Reader"]}))
            .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = post(
        json!({"partner": "treyresearch", "customer": "treyresearch", "roles": ["Global Reader"]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = post(json!({"partner": "treyresearch", "customer": "adatum", "roles": ["Global Reader"], "users": [ADMIN]})).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a contoso user is no partner user: {body}"
    );
    let (status, body) = post(json!({"partner": "treyresearch", "customer": "adatum", "roles": ["Global Reader"], "expires": "soon"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = admin(
        &server,
        reqwest::Method::POST,
        "/admin/relationships/none/expire",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = admin(&server, reqwest::Method::GET, "/admin/relationships", None).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        3,
        "nothing was added"
    );
}

#[tokio::test]
async fn the_admin_page_lists_the_tenants_relationships() {
    let server = TestServer::start().await;
    expire(&server, ADATUM_RELATIONSHIP_ID).await;
    let html = |query: &'static str| {
        let server = &server;
        async move {
            let response = server
                .client()
                .get(server.url(&format!("/admin?tenant={query}")))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.unwrap()
        }
    };
    let partner = html("treyresearch").await;
    assert_eq!(
        partner.matches("<tr data-relationship-id=").count(),
        3,
        "{partner}"
    );
    assert!(partner.contains(&format!(
        "<tr data-relationship-id=\"{ADATUM_RELATIONSHIP_ID}\"><td>treyresearch</td>\
         <td>adatum</td><td>Billing Administrator</td><td>{PARTNER_ADMIN_UPN}</td>"
    )));
    let customer = html("litware").await;
    assert_eq!(customer.matches("<tr data-relationship-id=").count(), 1);
    assert!(customer.contains("<td>Global Administrator</td>"));
    assert!(partner.contains("<td>expired</td>") && !customer.contains("<td>expired</td>"));
}

#[tokio::test]
async fn admin_tokens_mint_a_partner_users_customer_token_through_a_relationship_only() {
    let server = TestServer::start().await;
    let mint = |tenant: &'static str| {
        let server = &server;
        async move {
            let response = server
                .client()
                .post(server.url("/admin/tokens"))
                .json(&json!({"tenant": tenant, "user": PARTNER_ADMIN_UPN}))
                .send()
                .await
                .unwrap();
            support::json(response).await
        }
    };
    let (status, body) = mint("litware").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = claims(body["accessToken"].as_str().unwrap());
    assert_eq!(access["tid"], LITWARE_TENANT_ID);
    assert_eq!(access["wids"], wids(&[Role::GlobalAdministrator]));
    let (status, body) = mint("contoso").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
