//! The licensing API under `/v1/` (Microsoft365DSC's prefix) answers exactly as under `/v1.0/`:
//! the same bodies and statuses, auth and roles, faults, request counts and audit log.

mod support;

use reqwest::header::WWW_AUTHENTICATE;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{json, TestServer, ADMIN, NO_ROLE, POLICY, READER};

/// Every read of the licensing API, as a path below the prefix, with what it answers in a new
/// tenant (a 200 unless noted), so a difference between the prefixes cannot hide in an error.
const READS: [(&str, StatusCode); 12] = [
    ("/policies", StatusCode::OK),
    ("/policies/AllowSelfServicePurchase", StatusCode::OK),
    ("/policies/allowselfservicepurchase", StatusCode::OK),
    (
        "/policies/AllowSelfServicePurchase/products",
        StatusCode::OK,
    ),
    (
        "/policies/AllowSelfServicePurchase/products?scope=product",
        StatusCode::OK,
    ),
    (
        "/policies/AllowSelfServicePurchase/products?scope=OfferType",
        StatusCode::OK,
    ),
    (
        "/policies/AllowSelfServicePurchase/products/CFQ7TTC0LH3L",
        StatusCode::OK,
    ),
    // An old id (Project Plan 1) answers its replacement.
    (
        "/policies/AllowSelfServicePurchase/products/CFQ7TTC0KXND",
        StatusCode::OK,
    ),
    (
        "/policies/AllowSelfServicePurchase/offerTypes/SaaS",
        StatusCode::OK,
    ),
    (
        "/policies/AllowSelfServicePurchase/products?scope=Tenant",
        StatusCode::BAD_REQUEST,
    ),
    (
        "/policies/AllowSelfServicePurchase/products/CFQ7TTC0XXXX",
        StatusCode::NOT_FOUND,
    ),
    ("/policies/NoSuchPolicy", StatusCode::NOT_FOUND),
];

fn product(prefix: &str, id: &str) -> String {
    format!("{prefix}/policies/{POLICY}/products/{id}")
}

fn offer_type(prefix: &str, id: &str) -> String {
    format!("{prefix}/policies/{POLICY}/offerTypes/{id}")
}

fn value(value: &str) -> Value {
    json!({ "policyValue": value })
}

#[tokio::test]
async fn every_read_answers_the_same_under_v1_and_v1_0() {
    let server = TestServer::start().await;
    for (path, expected) in READS {
        let (status, current) = server.get_json(&format!("/v1.0{path}")).await;
        assert_eq!(status, expected, "/v1.0{path}: {current}");
        let (status, short) = server.get_json(&format!("/v1{path}")).await;
        assert_eq!(status, expected, "/v1{path}: {short}");
        assert_eq!(short, current, "{path}");
    }
}

#[tokio::test]
async fn items_carry_their_scope_under_both_prefixes() {
    let server = TestServer::start().await;
    for prefix in ["/v1.0", "/v1"] {
        let list = format!("{prefix}/policies/{POLICY}/products");
        let (_, products) = server.get_json(&list).await;
        let products = products["items"].as_array().unwrap().clone();
        assert_eq!(products.len(), 17, "{prefix}");
        assert!(
            products.iter().all(|item| item["scope"] == "product"),
            "{prefix}"
        );
        let (_, offer_types) = server.get_json(&format!("{list}?scope=OfferType")).await;
        let offer_types = offer_types["items"].as_array().unwrap().clone();
        assert_eq!(offer_types.len(), 4, "{prefix}");
        assert!(
            offer_types.iter().all(|item| item["scope"] == "OfferType"),
            "{prefix}"
        );

        let (_, one) = server.get_json(&product(prefix, "cfq7ttc0lh3l")).await;
        assert_eq!(
            one,
            json!({"policyId": POLICY, "policyValue": "Enabled",
                   "productName": "Power Automate per user", "productId": "CFQ7TTC0LH3L",
                   "scope": "product"}),
            "{prefix}"
        );
        let (_, one) = server.get_json(&offer_type(prefix, "saas")).await;
        assert_eq!(
            one,
            json!({"policyId": POLICY, "policyValue": "Enabled", "scope": "OfferType",
                   "scopeId": "SaaS", "scopeValue": "Software as a Service"}),
            "{prefix}"
        );
    }
}

#[tokio::test]
async fn a_put_under_v1_changes_what_v1_0_reads_and_is_audited() {
    let server = TestServer::start().await;
    let (status, set) = server
        .put_json_as(ADMIN, &product("/v1", "CFQ7TTC0LH3L"), &value("Disabled"))
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(
        set,
        json!({"policyId": POLICY, "policyValue": "Disabled",
               "productName": "Power Automate per user", "productId": "CFQ7TTC0LH3L",
               "scope": "product"})
    );
    let (_, read) = server.get_json(&product("/v1.0", "CFQ7TTC0LH3L")).await;
    assert_eq!(read, set);
    let (_, list) = server
        .get_json(&format!("/v1.0/policies/{POLICY}/products"))
        .await;
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["productId"] == "CFQ7TTC0LH3L")
        .cloned();
    assert_eq!(listed, Some(set));

    let (status, set) = server
        .put_json_as(ADMIN, &offer_type("/v1", "SaaS"), &value("disabled"))
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["scope"], "OfferType");
    let (_, read) = server.get_json(&offer_type("/v1.0", "SaaS")).await;
    assert_eq!(read, set);

    let audit = server.store().audit_log(None).await.unwrap();
    let changed: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|entry| {
            (
                entry.item_id.as_str(),
                entry.old_value.as_str(),
                entry.new_value.as_str(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            ("CFQ7TTC0LH3L", "Enabled", "Disabled"),
            ("SaaS", "Enabled", "Disabled")
        ]
    );
    assert!(audit.iter().all(|entry| entry.actor_upn == ADMIN));
}

#[tokio::test]
async fn a_put_under_v1_0_changes_what_v1_reads() {
    let server = TestServer::start().await;
    let (status, set) = server
        .put_json_as(
            ADMIN,
            &product("/v1.0", "CFQ7TTC0J1FV"),
            &value("onlytrialswithoutpaymentmethod"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    let (_, read) = server.get_json(&product("/v1", "CFQ7TTC0J1FV")).await;
    assert_eq!(read["policyValue"], "OnlyTrialsWithoutPaymentMethod");
    assert_eq!(read, set);
}

#[tokio::test]
async fn errors_under_v1_have_the_service_shape() {
    let server = TestServer::start().await;
    for (path, expected) in [
        (
            product("/v1", "CFQ7TTC0XXXX"),
            json!({"errorCode": "Unknown", "reason": "Product 'CFQ7TTC0XXXX' was not found."}),
        ),
        (
            offer_type("/v1", "Nope"),
            json!({"errorCode": "Unknown", "reason": "Offer type 'Nope' was not found."}),
        ),
        (
            "/v1/policies/NoSuchPolicy/products".to_owned(),
            json!({"errorCode": "Unknown", "reason": "Policy 'NoSuchPolicy' was not found."}),
        ),
    ] {
        let (status, body) = server.get_json(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, expected, "{path}");
    }
    let (status, body) = server
        .get_json(&format!("/v1/policies/{POLICY}/products?scope=Tenant"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"errorCode": "BadRequest", "reason": "Invalid scope."})
    );
    // A PUT of an unknown product is the same 404.
    let (status, body) = server
        .put_json_as(ADMIN, &product("/v1", "CFQ7TTC0XXXX"), &value("Disabled"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"errorCode": "Unknown", "reason": "Product 'CFQ7TTC0XXXX' was not found."})
    );
    // Unknown routes and methods under /v1 answer like under /v1.0.
    let (status, body) = server.get_json("/v1/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"errorCode": "NotFound", "reason": "No resource matches GET /v1/nothing."})
    );
    let response = server
        .client()
        .delete(server.url("/v1/policies"))
        .bearer_auth(server.admin_token())
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["errorCode"], "MethodNotAllowed");
}

#[tokio::test]
async fn tokens_and_roles_are_checked_under_v1_too() {
    let server = TestServer::start().await;
    for path in ["/v1/policies", "/v1/nothing"] {
        let response = server.get_raw(path).send().await.unwrap();
        assert_eq!(response.headers()[WWW_AUTHENTICATE], "Bearer", "{path}");
        let (status, body) = json(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body["errorCode"], "Unauthorized", "{path}");
    }
    let expired = server.token_lasting(ADMIN, -600).await;
    let (status, _) = server.get_json_with(&expired, "/v1/policies").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, _) = server
        .get_json_as(READER, &product("/v1", "CFQ7TTC0LH3L"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server
        .put_json_as(READER, &product("/v1", "CFQ7TTC0LH3L"), &value("Disabled"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["errorCode"], "Forbidden");
    let (status, _) = server.get_json_as(NO_ROLE, "/v1/policies").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(server.store().audit_log(None).await.unwrap().is_empty());
}

/// Sends `method` to `/admin/...` with an optional JSON body; returns the status and answer.
async fn admin(server: &TestServer, method: Method, path: &str, body: Option<&Value>) -> Value {
    let mut request = server
        .client()
        .request(method, server.url(&format!("/admin{path}")));
    if let Some(body) = body {
        request = request.json(body);
    }
    let (status, answer) = json(request.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    answer
}

#[tokio::test]
async fn faults_and_request_counts_apply_under_v1_too() {
    let server = TestServer::start().await;
    admin(
        &server,
        Method::PUT,
        "/faults",
        Some(&json!({"failItems": {"ids": ["CFQ7TTC0LH3L"], "status": 409}})),
    )
    .await;
    let (status, body) = server
        .put_json_as(ADMIN, &product("/v1", "CFQ7TTC0LH3L"), &value("Disabled"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"errorCode": "Conflict",
               "reason": "Product CFQ7TTC0LH3L cannot be changed (injected fault)"})
    );
    let (status, _) = server.get_json(&product("/v1.0", "CFQ7TTC0LH3L")).await;
    assert_eq!(status, StatusCode::CONFLICT);

    admin(
        &server,
        Method::PUT,
        "/faults",
        Some(&json!({"errors": {"status": 503, "next": 1}})),
    )
    .await;
    let (status, body) = server.get_json("/v1/policies").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["errorCode"], "ServiceUnavailable");
    let (status, _) = server.get_json("/v1/policies").await;
    assert_eq!(status, StatusCode::OK);
    admin(&server, Method::DELETE, "/faults", None).await;

    // Counted by the path as sent: each prefix under its own key.
    admin(&server, Method::DELETE, "/requests", None).await;
    let _ = server.get_json("/v1/policies").await;
    let _ = server.get_json("/v1/policies").await;
    let _ = server.get_json("/v1.0/policies").await;
    let _ = server.get_raw("/v1/policies").send().await.unwrap();
    let counts = admin(&server, Method::GET, "/requests", None).await;
    assert_eq!(
        counts,
        json!({"total": 4, "untracked": 0,
               "requests": {"GET /v1.0/policies": 1, "GET /v1/policies": 3}})
    );
}

#[tokio::test]
async fn the_admin_page_names_both_prefixes() {
    let server = TestServer::start().await;
    let html = server
        .client()
        .get(server.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let base = server.base();
    assert!(html.contains(&format!(
        "<code>{base}/v1.0/</code> and <code>{base}/v1/</code>"
    )));
    assert!(html.contains("\"scope\": \"product\""));
}
