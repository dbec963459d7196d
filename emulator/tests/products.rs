//! `POST /admin/tenants/{tenant}/products`: products added to a tenant for big-catalog tests, and
//! the licensing API serving them.

mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{json, TestServer, ADMIN, CONTOSO, FABRIKAM_ADMIN, POLICY};

const LIST: &str = "/v1.0/policies/AllowSelfServicePurchase/products";

fn product(id: &str) -> String {
    format!("/v1.0/policies/{POLICY}/products/{id}")
}

/// POSTs `body` to `/admin/tenants/{tenant}/products`; returns the status and the answer.
async fn add(server: &TestServer, tenant: &str, body: &Value) -> (StatusCode, Value) {
    json(
        server
            .client()
            .post(server.url(&format!("/admin/tenants/{tenant}/products")))
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_thousand_generated_products_are_added_once_and_listed() {
    let server = TestServer::start().await;
    let body = json!({"count": 1000, "prefix": "CFQ7TTC0BULK", "namePrefix": "Bulk product",
                      "policyValue": "Disabled"});
    let (status, answer) = add(&server, "contoso", &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["tenantId"], CONTOSO);
    let added = answer["added"].as_array().unwrap();
    assert_eq!(added.len(), 1000);
    assert_eq!(added[0], "CFQ7TTC0BULK0001");
    assert_eq!(added[999], "CFQ7TTC0BULK1000");
    assert_eq!(answer["unchanged"], 0);
    assert_eq!(answer["total"], 1017);

    // Again (by the tenant's domain): nothing added, nothing duplicated.
    let (status, again) = add(&server, "contoso.onmicrosoft.com", &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        again,
        json!({"tenantId": CONTOSO, "added": [], "unchanged": 1000, "total": 1017})
    );

    // The licensing API lists them all, quickly.
    let started = Instant::now();
    let (status, list) = server.get_json(LIST).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1017);
    let bulk: Vec<&Value> = items
        .iter()
        .filter(|item| {
            item["productId"]
                .as_str()
                .unwrap()
                .starts_with("CFQ7TTC0BULK")
        })
        .collect();
    assert_eq!(bulk.len(), 1000);
    assert_eq!(
        *bulk[6],
        json!({"policyId": POLICY, "policyValue": "Disabled",
               "productName": "Bulk product 0007", "productId": "CFQ7TTC0BULK0007",
               "scope": "product"})
    );
    assert!(took < Duration::from_secs(2), "listing took {took:?}");
    println!("listing 1,017 products took {took:?}");

    // One of them reads and writes like any product, with its audit row.
    let (status, set) = server
        .put_json_as(
            ADMIN,
            &product("cfq7ttc0bulk0500"),
            &json!({"policyValue": "Enabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(set["productId"], "CFQ7TTC0BULK0500");
    assert_eq!(set["policyValue"], "Enabled");
    let audit = server.store().audit_log(None).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].item_id, "CFQ7TTC0BULK0500");

    // The other tenant does not have them.
    let (status, list) = server.get_json_as(FABRIKAM_ADMIN, LIST).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 17);
    let (status, _) = server
        .get_json_as(FABRIKAM_ADMIN, &product("CFQ7TTC0BULK0007"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn more_products_continue_from_start_and_a_list_is_taken_as_given() {
    let server = TestServer::start().await;
    let (_, first) = add(&server, CONTOSO, &json!({"count": 10})).await;
    assert_eq!(first["total"], 27);
    // Overlapping numbers: only the new ones are added.
    let (status, next) = add(&server, CONTOSO, &json!({"count": 10, "start": 6})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(next["added"][0], "CFQ7TTC0BULK0011");
    assert_eq!(next["added"].as_array().unwrap().len(), 5);
    assert_eq!(next["unchanged"], 5);
    assert_eq!(next["total"], 32);

    let (status, listed) = add(
        &server,
        "contoso",
        &json!({"products": [
            {"productId": "CFQ7TTC0TST1", "productName": "Test one", "policyValue": "disabled"},
            {"productId": "CFQ7TTC0TST2", "productName": "Test two",
             "policyValue": "OnlyTrialsWithoutPaymentMethod", "trialWithoutPaymentMethod": true},
            {"productId": "cfq7ttc0lh3l", "productName": "Seeded already"}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["added"], json!(["CFQ7TTC0TST1", "CFQ7TTC0TST2"]));
    assert_eq!(listed["unchanged"], 1);
    let (_, one) = server.get_json(&product("CFQ7TTC0TST1")).await;
    assert_eq!(one["policyValue"], "Disabled");
    assert_eq!(one["productName"], "Test one");
    let (_, two) = server.get_json(&product("CFQ7TTC0TST2")).await;
    assert_eq!(two["policyValue"], "OnlyTrialsWithoutPaymentMethod");
    // A seeded product keeps its name and value.
    let (_, seeded) = server.get_json(&product("CFQ7TTC0LH3L")).await;
    assert_eq!(seeded["productName"], "Power Automate per user");
    assert_eq!(seeded["policyValue"], "Enabled");
}

#[tokio::test]
async fn requests_that_make_no_sense_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    for body in [
        json!({"count": 0}),
        json!({"count": 20001}),
        json!({"count": -1}),
        json!({}),
        json!({"count": 1, "products": [{"productId": "A", "productName": "A"}]}),
        json!({"count": 1, "prefix": "CFQ/7"}),
        json!({"count": 1, "policyValue": "On"}),
        json!({"count": 1, "policyValue": "OnlyTrialsWithoutPaymentMethod"}),
        json!({"count": 1, "colour": "red"}),
        json!({"products": []}),
        json!({"products": [{"productId": "..", "productName": "Dots"}]}),
        json!({"products": [{"productId": "A", "productName": "A"},
                            {"productId": "a", "productName": "B"}]}),
        // A new product, then an old id that a current product replaced: all or nothing.
        json!({"products": [{"productId": "CFQ7TTC0NEW1", "productName": "New"},
                            {"productId": "CFQ7TTC0KP0P", "productName": "Old Power Apps"}]}),
        // A seeded product without such a trial cannot take the trial value.
        json!({"products": [{"productId": "CFQ7TTC0NEW2", "productName": "New"},
                            {"productId": "CFQ7TTC0LH3L", "productName": "Power Automate",
                             "policyValue": "OnlyTrialsWithoutPaymentMethod",
                             "trialWithoutPaymentMethod": true}]}),
    ] {
        let (status, answer) = add(&server, "contoso", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["errorCode"], "BadRequest", "{body}");
        assert!(!answer["reason"].as_str().unwrap().is_empty());
    }
    let (status, answer) = json(
        server
            .client()
            .post(server.url("/admin/tenants/contoso/products"))
            .body("count=5")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["reason"].as_str().unwrap().contains("count"),
        "{answer}"
    );

    let (status, answer) = add(&server, "nowhere", &json!({"count": 1})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["reason"], "Tenant 'nowhere' was not found.");

    let (_, list) = server.get_json(LIST).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 17);
}
