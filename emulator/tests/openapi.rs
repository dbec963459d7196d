//! The OpenAPI document: served as the repository holds it, and in step with the router.

mod support;

use std::collections::BTreeSet;

use mscommerce_emulator::routes::licensing::{PREFIXES, ROUTES};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::TestServer;

/// The document in the repository.
fn file() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json")).unwrap()
}

/// A path with every `{parameter}` written `{}`, so axum's and OpenAPI's names compare.
fn shape(path: &str) -> String {
    let mut shaped = String::new();
    let mut in_parameter = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_parameter = true;
                shaped.push_str("{}");
            }
            '}' => in_parameter = false,
            c if !in_parameter => shaped.push(c),
            _ => {}
        }
    }
    shaped
}

/// The documented operations as (METHOD, shaped path).
fn documented(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert((method.to_uppercase(), shape(path)));
        }
    }
    operations
}

#[tokio::test]
async fn served_document_is_the_file_in_the_repository() {
    let server = TestServer::start().await;
    let response = server.get_raw("/openapi.json").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), file());
}

#[test]
fn document_is_openapi_3_with_bearer_security() {
    let document: Value = serde_json::from_str(&file()).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(document["security"][0]["bearer"], Value::Array(vec![]));
    for name in ["Error", "PolicyValueBody", "ProductItem", "OfferTypeItem"] {
        assert!(
            document["components"]["schemas"][name].is_object(),
            "{name}"
        );
    }
}

#[test]
fn every_licensing_route_is_documented_and_nothing_else() {
    let document: Value = serde_json::from_str(&file()).unwrap();
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path)| (method.to_string(), shape(path)))
        .collect();
    assert_eq!(routes, documented(&document));
}

/// The prefixes the document's server offers, as paths (`/v1.0`, `/v1`).
fn documented_prefixes(document: &Value) -> Vec<String> {
    let server = &document["servers"][0];
    assert!(
        server["url"].as_str().unwrap().ends_with("/{version}"),
        "{server}"
    );
    let version = &server["variables"]["version"];
    assert_eq!(version["default"], "v1.0");
    version["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|prefix| format!("/{}", prefix.as_str().unwrap()))
        .collect()
}

#[test]
fn the_server_offers_exactly_the_served_prefixes() {
    let document: Value = serde_json::from_str(&file()).unwrap();
    assert_eq!(documented_prefixes(&document), PREFIXES);
}

#[test]
fn every_item_schema_requires_its_scope() {
    let document: Value = serde_json::from_str(&file()).unwrap();
    let schemas = &document["components"]["schemas"];
    for (name, scope) in [("ProductItem", "product"), ("OfferTypeItem", "OfferType")] {
        let schema = &schemas[name];
        assert!(
            schema["required"]
                .as_array()
                .unwrap()
                .contains(&Value::from("scope")),
            "{name}"
        );
        assert_eq!(
            schema["properties"]["scope"]["enum"],
            json!([scope]),
            "{name}"
        );
    }
}

#[tokio::test]
async fn router_serves_exactly_the_documented_methods() {
    let server = TestServer::start().await;
    let document: Value = serde_json::from_str(&file()).unwrap();
    let paths = document["paths"].as_object().unwrap();
    for (path, item) in documented_prefixes(&document).iter().flat_map(|prefix| {
        paths
            .iter()
            .map(move |(path, item)| (format!("{prefix}{path}"), item))
    }) {
        let concrete = path
            .replace("{policyId}", "AllowSelfServicePurchase")
            .replace("{productId}", "CFQ7TTC0LH3L")
            .replace("{offerType}", "SaaS");
        let item = item.as_object().unwrap();
        for method in [
            Method::GET,
            Method::PUT,
            Method::POST,
            Method::DELETE,
            Method::PATCH,
        ] {
            let status = server
                .client()
                .request(method.clone(), server.url(&concrete))
                .bearer_auth(server.admin_token())
                .json(&serde_json::json!({"policyValue": "Enabled"}))
                .send()
                .await
                .unwrap()
                .status();
            if item.contains_key(&method.as_str().to_lowercase()) {
                assert_eq!(status, StatusCode::OK, "{method} {concrete}");
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {concrete}"
                );
            }
        }
    }
}
