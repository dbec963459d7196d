//! The read side of the licensing API, driven in-process as contoso's Global Administrator.

mod support;

use reqwest::header::WWW_AUTHENTICATE;
use reqwest::StatusCode;
use serde_json::json;
use support::{TestServer, POLICY};

const CORRELATION_ID: &str = "x-ms-correlation-id";

fn products_path() -> String {
    format!("/v1.0/policies/{POLICY}/products")
}

#[tokio::test]
async fn missing_bearer_token_is_unauthorized() {
    let server = TestServer::start().await;
    let response = server.get_raw("/v1.0/policies").send().await.unwrap();
    assert_eq!(response.headers()[WWW_AUTHENTICATE], "Bearer");
    let (status, body) = support::json(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errorCode"], "Unauthorized");
    assert!(!body["reason"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn empty_or_non_bearer_authorization_is_unauthorized() {
    let server = TestServer::start().await;
    for authorization in ["Bearer", "Bearer    ", "Basic dXNlcjpwYXNz", "token"] {
        let response = server
            .get_raw("/v1.0/policies")
            .header("Authorization", authorization)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{authorization}"
        );
    }
    // Unknown paths under /v1.0 are guarded too.
    let response = server.get_raw("/v1.0/nothing").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn correlation_id_is_echoed() {
    let server = TestServer::start().await;
    for request in [
        server.get("/v1.0/policies"),
        server.get_raw("/v1.0/policies"),
    ] {
        let response = request
            .header(CORRELATION_ID, "3f1b7c2e-0000-4000-8000-000000000042")
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()[CORRELATION_ID],
            "3f1b7c2e-0000-4000-8000-000000000042",
            "{}",
            response.status()
        );
    }
}

#[tokio::test]
async fn correlation_id_is_generated_when_absent() {
    let server = TestServer::start().await;
    let response = server.get("/nothing").send().await.unwrap();
    let id = response.headers()[CORRELATION_ID].to_str().unwrap();
    uuid::Uuid::parse_str(id).unwrap();
}

#[tokio::test]
async fn policies_list_the_self_service_purchase_policy() {
    let server = TestServer::start().await;
    let (status, body) = server.get_json("/v1.0/policies").await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], POLICY);
    assert_eq!(items[0]["defaultValue"], "Enabled");
    assert!(!items[0]["description"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn policy_id_is_matched_ignoring_case() {
    let server = TestServer::start().await;
    let (status, body) = server
        .get_json("/v1.0/policies/allowSELFservicepurchase")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], POLICY);
    assert_eq!(body["defaultValue"], "Enabled");
}

#[tokio::test]
async fn unknown_policy_is_not_found() {
    let server = TestServer::start().await;
    let expected =
        json!({"errorCode": "Unknown", "reason": "Policy 'NoSuchPolicy' was not found."});
    for path in [
        "/v1.0/policies/NoSuchPolicy",
        "/v1.0/policies/NoSuchPolicy/products",
        "/v1.0/policies/NoSuchPolicy/products/CFQ7TTC0LH2H",
        "/v1.0/policies/NoSuchPolicy/offerTypes/SaaS",
    ] {
        let (status, body) = server.get_json(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, expected, "{path}");
    }
}

#[tokio::test]
async fn products_are_listed_by_name_with_current_ids() {
    let server = TestServer::start().await;
    let (status, body) = server.get_json(&products_path()).await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 17);
    assert_eq!(
        items[0],
        json!({
            "policyId": POLICY,
            "policyValue": "Enabled",
            "productName": "Clipchamp Premium",
            "productId": "CFQ7TTC0N8SS",
            "scope": "product",
        })
    );
    let names: Vec<&str> = items
        .iter()
        .map(|item| item["productName"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|name| name.to_lowercase());
    assert_eq!(names, sorted);
    assert!(names.contains(&"Planner Plan 1"));
    assert!(names.iter().all(|name| !name.ends_with('*')));
    assert!(items.iter().all(|item| item["policyValue"] == "Enabled"));
    // Microsoft's module shows an item as a product only when its scope says so.
    for item in items {
        assert_eq!(item["scope"], "product", "{item}");
        assert!(item.get("scopeId").is_none(), "{item}");
    }

    for scope in ["product", "PRODUCT"] {
        let (status, same) = server
            .get_json(&format!("{}?scope={scope}", products_path()))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(same, body, "scope={scope}");
    }
}

#[tokio::test]
async fn offer_types_are_listed_with_scope_fields() {
    let server = TestServer::start().await;
    for scope in ["OfferType", "offertype"] {
        let (status, body) = server
            .get_json(&format!("{}?scope={scope}", products_path()))
            .await;
        assert_eq!(status, StatusCode::OK);
        let items = body["items"].as_array().unwrap();
        let ids: Vec<&str> = items
            .iter()
            .map(|item| item["scopeId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["DYNAMICSBC", "DYNAMICSCE", "POWERBIVISUALS", "SaaS"]);
        for item in items {
            assert_eq!(item["scope"], "OfferType", "{item}");
            assert!(item.get("productId").is_none(), "{item}");
        }
        assert_eq!(
            items[3],
            json!({
                "policyId": POLICY,
                "policyValue": "Enabled",
                "scope": "OfferType",
                "scopeId": "SaaS",
                "scopeValue": "Software as a Service",
            })
        );
    }
}

#[tokio::test]
async fn unknown_scope_is_bad_request() {
    let server = TestServer::start().await;
    for scope in ["Tenant", ""] {
        let (status, body) = server
            .get_json(&format!("{}?scope={scope}", products_path()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "scope={scope}");
        assert_eq!(
            body,
            json!({"errorCode": "BadRequest", "reason": "Invalid scope."})
        );
    }
}

#[tokio::test]
async fn one_product_is_returned_by_its_id_in_any_case() {
    let server = TestServer::start().await;
    for id in ["CFQ7TTC0LH3L", "cfq7ttc0lh3l"] {
        let (status, body) = server.get_json(&format!("{}/{id}", products_path())).await;
        assert_eq!(status, StatusCode::OK, "{id}");
        assert_eq!(
            body,
            json!({
                "policyId": POLICY,
                "policyValue": "Enabled",
                "productName": "Power Automate per user",
                "productId": "CFQ7TTC0LH3L",
                "scope": "product",
            })
        );
    }
}

#[tokio::test]
async fn old_product_id_resolves_to_replacement() {
    let server = TestServer::start().await;
    // Project Plan 1's old id now means Planner Plan 1.
    let (status, body) = server
        .get_json(&format!("{}/CFQ7TTC0KXND", products_path()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["productId"], "CFQ7TTC0HDB1");
    assert_eq!(body["productName"], "Planner Plan 1");
    assert_eq!(body["scope"], "product");
}

#[tokio::test]
async fn unknown_product_is_not_found() {
    let server = TestServer::start().await;
    // CFQ7TTC0HHS9 is Windows 365 Enterprise's old id, which no current product replaced.
    for id in ["CFQ7TTC0XXXX", "CFQ7TTC0HHS9"] {
        let (status, body) = server.get_json(&format!("{}/{id}", products_path())).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(body["errorCode"], "Unknown");
        assert_eq!(body["reason"], format!("Product '{id}' was not found."));
    }
}

#[tokio::test]
async fn offer_type_is_matched_ignoring_case() {
    let server = TestServer::start().await;
    let (status, body) = server
        .get_json(&format!(
            "/v1.0/policies/{POLICY}/offerTypes/powerbivisuals"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["scope"], "OfferType");
    assert_eq!(body["scopeId"], "POWERBIVISUALS");
    assert_eq!(body["scopeValue"], "Power BI Visuals");
}

#[tokio::test]
async fn unknown_offer_type_is_not_found() {
    let server = TestServer::start().await;
    let (status, body) = server
        .get_json(&format!("/v1.0/policies/{POLICY}/offerTypes/Nope"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"errorCode": "Unknown", "reason": "Offer type 'Nope' was not found."})
    );
}

#[tokio::test]
async fn unknown_route_is_not_found_with_a_json_body() {
    let server = TestServer::start().await;
    for path in ["/v1.0/nothing", "/nothing", "/"] {
        let (status, body) = server.get_json(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["errorCode"], "NotFound", "{path}");
    }
}

#[tokio::test]
async fn unsupported_method_is_not_allowed_with_a_json_body() {
    let server = TestServer::start().await;
    let response = reqwest::Client::new()
        .delete(server.url("/v1.0/policies"))
        .bearer_auth(server.token(support::ADMIN).await)
        .send()
        .await
        .unwrap();
    let (status, body) = support::json(response).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["errorCode"], "MethodNotAllowed");
}
