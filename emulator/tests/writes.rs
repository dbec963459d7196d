//! Changing policy values: `PUT` of products and offer types, the audit log, tenants.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{TestServer, ADMIN, FABRIKAM_ADMIN, POLICY};

fn product(id: &str) -> String {
    format!("/v1.0/policies/{POLICY}/products/{id}")
}

fn offer_type(id: &str) -> String {
    format!("/v1.0/policies/{POLICY}/offerTypes/{id}")
}

fn value(value: &str) -> Value {
    json!({ "policyValue": value })
}

#[tokio::test]
async fn product_value_is_set_and_answered_like_a_read() {
    let server = TestServer::start().await;
    let (status, body) = server
        .put_json_as(ADMIN, &product("cfq7ttc0lh3l"), &value("disabled"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "policyId": POLICY,
            "policyValue": "Disabled",
            "productName": "Power Automate per user",
            "productId": "CFQ7TTC0LH3L",
            "scope": "product",
        })
    );
    let (_, read) = server.get_json(&product("CFQ7TTC0LH3L")).await;
    assert_eq!(read, body);
}

#[tokio::test]
async fn offer_type_value_is_set_and_answered_like_a_read() {
    let server = TestServer::start().await;
    let (status, body) = server
        .put_json_as(ADMIN, &offer_type("saas"), &value("DISABLED"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "policyId": POLICY,
            "policyValue": "Disabled",
            "scope": "OfferType",
            "scopeId": "SaaS",
            "scopeValue": "Software as a Service",
        })
    );
    let (_, read) = server.get_json(&offer_type("SaaS")).await;
    assert_eq!(read, body);
}

#[tokio::test]
async fn only_trials_value_is_accepted_for_a_product_with_such_trials() {
    let server = TestServer::start().await;
    // Teams Exploratory offers a trial without a payment method.
    let (status, body) = server
        .put_json_as(
            ADMIN,
            &product("CFQ7TTC0J1FV"),
            &value("OnlyTrialsWithoutPaymentMethod"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["policyValue"], "OnlyTrialsWithoutPaymentMethod");
}

#[tokio::test]
async fn only_trials_value_is_refused_for_a_product_without_such_trials() {
    let server = TestServer::start().await;
    let (status, body) = server
        .put_json_as(
            ADMIN,
            &product("CFQ7TTC0H9MP"),
            &value("OnlyTrialsWithoutPaymentMethod"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "BadRequest");
    assert!(
        body["reason"].as_str().unwrap().contains("CFQ7TTC0H9MP"),
        "{body}"
    );
    let (_, read) = server.get_json(&product("CFQ7TTC0H9MP")).await;
    assert_eq!(read["policyValue"], "Enabled");
}

#[tokio::test]
async fn only_trials_value_is_refused_for_an_offer_type() {
    let server = TestServer::start().await;
    let (status, body) = server
        .put_json_as(
            ADMIN,
            &offer_type("SaaS"),
            &value("OnlyTrialsWithoutPaymentMethod"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "BadRequest");
}

#[tokio::test]
async fn unknown_value_is_bad_request() {
    let server = TestServer::start().await;
    for item in [product("CFQ7TTC0LH3L"), offer_type("SaaS")] {
        let (status, body) = server.put_json_as(ADMIN, &item, &value("Off")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{item}");
        assert_eq!(
            body,
            json!({
                "errorCode": "BadRequest",
                "reason": "'Off' is not a policy value: use Enabled, Disabled or \
                           OnlyTrialsWithoutPaymentMethod.",
            })
        );
    }
}

#[tokio::test]
async fn missing_or_malformed_body_is_bad_request() {
    let server = TestServer::start().await;
    for body in [
        "",
        "Disabled",
        "{}",
        "[\"Disabled\"]",
        r#"{"policyValue": false}"#,
        r#"{"policyValue": "Disabled"} {"policyValue": "Enabled"}"#,
    ] {
        let (status, answer) = server
            .put_raw_with(
                server.admin_token(),
                &product("CFQ7TTC0LH3L"),
                "application/json",
                body,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["errorCode"], "BadRequest", "{body}");
    }
}

#[tokio::test]
async fn extra_property_is_bad_request() {
    let server = TestServer::start().await;
    let (status, body) = server
        .put_json_as(
            ADMIN,
            &product("CFQ7TTC0LH3L"),
            &json!({"policyValue": "Disabled", "productId": "CFQ7TTC0H9MP"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["reason"].as_str().unwrap().contains("'productId'"),
        "{body}"
    );
}

#[tokio::test]
async fn body_not_declared_as_json_is_bad_request() {
    let server = TestServer::start().await;
    let (status, body) = server
        .put_raw_with(
            server.admin_token(),
            &product("CFQ7TTC0LH3L"),
            "text/plain",
            r#"{"policyValue": "Disabled"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorCode"], "BadRequest");
}

#[tokio::test]
async fn old_product_id_sets_its_replacement() {
    let server = TestServer::start().await;
    // Visio Plan 1's old id.
    let (status, body) = server
        .put_json_as(ADMIN, &product("CFQ7TTC0KXN9"), &value("Disabled"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["productId"], "CFQ7TTC0HD33");
    let (_, read) = server.get_json(&product("CFQ7TTC0HD33")).await;
    assert_eq!(read["policyValue"], "Disabled");
}

#[tokio::test]
async fn writes_to_unknown_items_are_not_found() {
    let server = TestServer::start().await;
    for (path, reason) in [
        (
            product("CFQ7TTC0XXXX"),
            "Product 'CFQ7TTC0XXXX' was not found.",
        ),
        (offer_type("Nope"), "Offer type 'Nope' was not found."),
        (
            "/v1.0/policies/NoSuchPolicy/products/CFQ7TTC0LH3L".to_owned(),
            "Policy 'NoSuchPolicy' was not found.",
        ),
    ] {
        let (status, body) = server.put_json_as(ADMIN, &path, &value("Disabled")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({"errorCode": "Unknown", "reason": reason}));
    }
}

#[tokio::test]
async fn every_accepted_write_is_in_the_audit_log() {
    let server = TestServer::start().await;
    let response = server
        .client()
        .put(server.url(&product("CFQ7TTC0KXN9")))
        .bearer_auth(server.admin_token())
        .header(
            "x-ms-correlation-id",
            "0b5e0e4c-0000-4000-8000-0000000000a1",
        )
        .json(&value("disabled"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // A refused write is not a change.
    let (status, _) = server
        .put_json_as(ADMIN, &offer_type("SaaS"), &value("Nope"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let log = server.store().audit_log(None).await.unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    let entry = &log[0];
    assert_eq!(entry.tenant_id.as_str(), support::CONTOSO);
    assert_eq!(entry.actor_upn, ADMIN);
    assert_eq!(entry.item_id, "CFQ7TTC0HD33");
    assert_eq!(entry.old_value.as_str(), "Enabled");
    assert_eq!(entry.new_value.as_str(), "Disabled");
    assert_eq!(entry.correlation_id, "0b5e0e4c-0000-4000-8000-0000000000a1");
    assert!(
        entry.changed_at.ends_with('Z') && entry.changed_at.len() == 20,
        "{}",
        entry.changed_at
    );
}

#[tokio::test]
async fn change_in_one_tenant_is_not_seen_in_another() {
    let server = TestServer::start().await;
    let (status, _) = server
        .put_json_as(ADMIN, &offer_type("SaaS"), &value("Disabled"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, fabrikam) = server
        .get_json_as(FABRIKAM_ADMIN, &offer_type("SaaS"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fabrikam["policyValue"], "Enabled");
}

#[tokio::test]
async fn change_survives_restart() {
    let server = TestServer::start().await;
    let (status, _) = server
        .put_json_as(ADMIN, &product("CFQ7TTC0LH3L"), &value("Disabled"))
        .await;
    assert_eq!(status, StatusCode::OK);

    let server = TestServer::start_in(server.stop().await).await;
    let (_, read) = server.get_json(&product("CFQ7TTC0LH3L")).await;
    assert_eq!(read["policyValue"], "Disabled");
    // The seed was not applied again: everything else is as it was.
    let (_, list) = server
        .get_json(&format!("/v1.0/policies/{POLICY}/products"))
        .await;
    let changed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["policyValue"] != "Enabled")
        .count();
    assert_eq!(changed, 1);
}
