//! Bulk updates through the core against the emulator in this process: each item is sent once
//! plus what the retry policy allows, the throttle limit bounds the updates in flight, and a
//! cancel stops the rest. The 1,000-product case runs through the shim in the .NET suite.

mod harness;

use std::time::{Duration, Instant};

use mscommerce_core::protocol::Request;
use mscommerce_core::{Cancel, ErrorKind};
use serde_json::{json, Value};

use harness::{fast_client, Emulator, ADMIN, POLICY};

/// An `updateProductPolicies` request disabling these products.
fn disable(token: &str, products: &[String], throttle_limit: u64) -> Request {
    let items: Vec<Value> = products
        .iter()
        .map(|id| json!({"policyId": POLICY, "productId": id}))
        .collect();
    Request::from_json(
        &json!({
            "op": "updateProductPolicies",
            "token": token,
            "items": items,
            "value": "Disabled",
            "throttleLimit": throttle_limit,
        })
        .to_string(),
    )
    .expect("request")
}

/// Adds `count` generated products to contoso and returns their ids.
fn add_products(emulator: &Emulator, count: u32) -> Vec<String> {
    let answer = emulator.admin(
        "POST",
        "/tenants/contoso.onmicrosoft.com/products",
        Some(json!({"count": count})),
    );
    answer["added"]
        .as_array()
        .expect("added ids")
        .iter()
        .map(|id| id.as_str().expect("id").to_owned())
        .collect()
}

fn put_path(product: &str) -> String {
    format!("PUT /v1.0/policies/{POLICY}/products/{product}")
}

#[test]
fn a_transient_item_failure_is_retried_by_the_retry_policy_and_no_more() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    let products = add_products(&emulator, 3);
    emulator
        .set_faults(json!({"failItems": {"ids": [products[1]], "status": 503, "method": "PUT"}}));
    emulator.admin("DELETE", "/requests", None);
    let client = fast_client(&emulator.base, json!({"maxAttempts": 2}));

    let results = client
        .invoke(&disable(&token, &products, 8), &Cancel::new())
        .expect("bulk answer");

    let results = results.as_array().expect("one result per item");
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r["ok"] == json!(false))
        .map(|r| r["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(failed, [products[1].as_str()]);
    let message = results[1]["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Gave up after 2 attempts"), "{message}");
    assert_eq!(results[1]["error"]["target"], json!(products[1]));
    assert_eq!(emulator.request_count(&put_path(&products[1])), 2);
    assert_eq!(emulator.request_count(&put_path(&products[0])), 1);
    assert_eq!(emulator.request_count(&put_path(&products[2])), 1);
    assert_eq!(emulator.product_value(&products[0]), "Disabled");
    assert_eq!(emulator.product_value(&products[1]), "Enabled");
}

#[test]
fn results_come_back_in_the_order_the_items_were_given() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    let mut products = add_products(&emulator, 20);
    products.reverse();
    let client = fast_client(&emulator.base, json!({}));

    let results = client
        .invoke(&disable(&token, &products, 5), &Cancel::new())
        .expect("bulk answer");

    let ids: Vec<&str> = results
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids, products.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn the_throttle_limit_bounds_the_updates_in_flight() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    let products = add_products(&emulator, 12);
    emulator.set_faults(json!({"latency": {"ms": 100, "method": "PUT"}}));
    let client = fast_client(&emulator.base, json!({}));

    let started = Instant::now();
    client
        .invoke(&disable(&token, &products, 3), &Cancel::new())
        .expect("bulk answer");

    // 12 updates of at least 100 ms, 3 at a time, cannot take less than 4 rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_cancelled_bulk_update_stops_and_sends_nothing_more() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    let products = add_products(&emulator, 40);
    emulator.set_faults(json!({"latency": {"ms": 100, "method": "PUT"}}));
    emulator.admin("DELETE", "/requests", None);
    let client = fast_client(&emulator.base, json!({}));
    let cancel = Cancel::new();
    let request = disable(&token, &products, 2);

    let outcome = std::thread::scope(|scope| {
        let call = scope.spawn(|| client.invoke(&request, &cancel));
        std::thread::sleep(Duration::from_millis(350));
        cancel.cancel();
        call.join().expect("call thread")
    });

    assert_eq!(outcome.expect_err("cancelled").kind(), ErrorKind::Cancelled);
    let sent = emulator.admin("GET", "/requests", None)["total"].as_u64();
    std::thread::sleep(Duration::from_millis(300));
    let later = emulator.admin("GET", "/requests", None)["total"].as_u64();
    assert_eq!(sent, later, "no update is sent after the call returned");
    assert!(sent.unwrap_or(0) < 40, "{sent:?} of 40 sent");
}

#[test]
fn without_a_credential_nothing_is_sent_and_the_error_is_terminating() {
    let emulator = Emulator::start();
    let products = add_products(&emulator, 2);
    emulator.admin("DELETE", "/requests", None);
    let client = fast_client(&emulator.base, json!({}));
    let request = Request::from_json(
        &json!({"op": "updateProductPolicies", "items": [{"policyId": POLICY, "productId": products[0]}], "value": "Disabled"})
            .to_string(),
    )
    .expect("request");

    let error = client
        .invoke(&request, &Cancel::new())
        .expect_err("not connected");

    assert_eq!(error.kind(), ErrorKind::NotConnected);
    assert!(error.kind().is_terminating());
    assert_eq!(emulator.admin("GET", "/requests", None)["total"], json!(0));
}
