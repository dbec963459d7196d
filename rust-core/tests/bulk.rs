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

/// Every product of contoso with its value, as the service lists them now (one GET, which the
/// PUT-only faults leave alone).
fn listed_values(emulator: &Emulator, token: &str) -> std::collections::HashMap<String, String> {
    let url = format!("{}/v1.0/policies/{POLICY}/products", emulator.base);
    let answer: Value = emulator.runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("the product list");
        assert!(response.status().is_success(), "{}", response.status());
        let body = response.bytes().await.expect("the list's body");
        serde_json::from_slice(&body).expect("JSON")
    });
    answer["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            let field = |name: &str| item[name].as_str().unwrap_or_default().to_owned();
            (field("productId"), field("policyValue"))
        })
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

/// Items, the service's rate and the cap of the throttling test: the cap is far above what the
/// service takes, so the window must find the rate by being throttled.
const THROTTLED_ITEMS: usize = 120;
const THROTTLED_RATE: u64 = 30;

#[test]
fn a_burst_of_429s_does_not_become_a_retry_storm_and_every_item_ends_applied_or_reported() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    let products = add_products(&emulator, THROTTLED_ITEMS as u32);
    // A token bucket: 30 PUTs a second (a second's worth at once), 429 with Retry-After beyond.
    emulator.set_faults(json!({"throttle": {"ratePerSecond": THROTTLED_RATE, "method": "PUT"}}));
    emulator.admin("DELETE", "/requests", None);
    let client = fast_client(&emulator.base, json!({}));

    let results = client
        .invoke(&disable(&token, &products, 256), &Cancel::new())
        .expect("bulk answer");
    let sent = emulator.admin("GET", "/requests", None)["total"]
        .as_u64()
        .unwrap_or(0);
    let throttled = emulator.injected().throttled;

    let results = results.as_array().expect("one result per item");
    assert_eq!(results.len(), THROTTLED_ITEMS);
    let values = listed_values(&emulator, &token);
    for (result, product) in results.iter().zip(&products) {
        assert_eq!(result["id"], json!(product));
        let value = values.get(product).map_or("missing", String::as_str);
        match result["ok"].as_bool() {
            Some(true) => assert_eq!(value, "Disabled", "{product} reported updated"),
            _ => {
                assert_eq!(value, "Enabled", "{product} reported failed");
                assert_eq!(result["error"]["target"], json!(product));
            }
        }
    }
    assert_eq!(sent, THROTTLED_ITEMS as u64 + throttled);
    // Each Retry-After holds every request back, so only those already in flight when the
    // service started throttling meet a 429, about one window's worth a second. Without the
    // shared hold every item in flight meets one each second, and the retries with them: a
    // cap of 256 (above the 120 items) would put every item in flight at once.
    assert!(
        throttled <= THROTTLED_ITEMS as u64 / 2,
        "{throttled} answers 429 for {THROTTLED_ITEMS} items ({sent} requests)"
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

/// Visio Plan 1, a seeded product whose trial needs no payment method.
const VISIO: &str = "CFQ7TTC0HD33";

fn request(json: Value) -> Request {
    Request::from_json(&json.to_string()).expect("request")
}

#[test]
fn a_plan_by_name_shows_each_item_with_its_value_now_and_its_items_update_as_planned() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    let products = add_products(&emulator, 3);
    let client = fast_client(&emulator.base, json!({}));
    emulator.admin("DELETE", "/requests", None);

    let plan = client
        .invoke(
            &request(json!({"op": "planUpdate", "token": token, "policyId": POLICY, "names": ["Bulk product*", "Visio Plan 1", "No such product"], "enabled": "False"})),
            &Cancel::new(),
        )
        .expect("plan");

    let items = plan["items"].as_array().expect("planned items");
    let planned: Vec<&str> = items
        .iter()
        .map(|item| item["update"]["productId"].as_str().unwrap_or_default())
        .collect();
    let mut expected: Vec<&str> = products.iter().map(String::as_str).collect();
    expected.push(VISIO);
    assert_eq!(
        planned, expected,
        "the items in the order the service lists them"
    );
    let target = items[0]["target"].as_str().unwrap_or_default();
    assert!(
        target.starts_with(&format!("{} (Bulk product", products[0]))
            && target.ends_with(", now Enabled)"),
        "{target}"
    );
    assert_eq!(
        items[0]["action"],
        json!(format!("Set {POLICY} to Disabled"))
    );
    assert_eq!(items[0]["update"]["value"], json!("Disabled"));
    assert_eq!(plan["errors"][0]["target"], json!("No such product"));
    assert_eq!(plan["errors"][0]["code"], json!("NotFound"));
    assert_eq!(
        emulator.admin("GET", "/requests", None)["total"],
        json!(1),
        "a plan reads the list once and writes nothing"
    );

    // The approved items go back as they were planned, each with its own value.
    let updates = [items[0]["update"].clone(), {
        let mut visio = items[3]["update"].clone();
        visio["value"] = json!("OnlyTrialsWithoutPaymentMethod");
        visio
    }];
    let results = client
        .invoke(
            &request(json!({"op": "updateProductPolicies", "token": token, "items": updates})),
            &Cancel::new(),
        )
        .expect("bulk answer");

    assert_eq!(results.as_array().map(Vec::len), Some(2));
    assert_eq!(
        emulator.product_value(VISIO),
        "OnlyTrialsWithoutPaymentMethod"
    );
    assert_eq!(emulator.product_value(&products[0]), "Disabled");
    assert_eq!(emulator.product_value(&products[1]), "Enabled");
}

#[test]
fn a_plan_by_id_sends_nothing_and_keeps_the_ids_as_given() {
    let emulator = Emulator::start();
    emulator.admin("DELETE", "/requests", None);
    let client = fast_client(&emulator.base, json!({}));

    let plan = client
        .invoke(
            &request(json!({"op": "planUpdate", "policyId": POLICY, "scope": "OfferType", "ids": ["SaaS", "DYNAMICSCE"], "value": "Disabled"})),
            &Cancel::new(),
        )
        .expect("a plan by id needs no connection");

    assert_eq!(
        plan["items"][1],
        json!({"update": {"policyId": POLICY, "offerType": "DYNAMICSCE", "value": "Disabled"}, "target": "DYNAMICSCE", "action": format!("Set {POLICY} to Disabled")})
    );
    assert_eq!(emulator.admin("GET", "/requests", None)["total"], json!(0));
}

#[test]
fn an_import_plan_sets_back_only_what_changed_and_warns_of_what_was_added() {
    harness::capture_logs();
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    let products = add_products(&emulator, 2);
    let client = fast_client(&emulator.base, json!({}));
    client
        .invoke(
            &request(
                json!({"op": "updateProductPolicies", "token": token, "items": [
                    {"policyId": POLICY, "productId": products[1], "value": "Disabled"},
                ]}),
            ),
            &Cancel::new(),
        )
        .expect("a baseline with both values");
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("baseline.json");
    client
        .invoke(
            &request(
                json!({"op": "exportBaseline", "token": token, "policyId": POLICY, "path": file}),
            ),
            &Cancel::new(),
        )
        .expect("export");
    client
        .invoke(
            &request(
                json!({"op": "updateProductPolicies", "token": token, "items": [
                    {"policyId": POLICY, "productId": products[0], "value": "Disabled"},
                    {"policyId": POLICY, "productId": products[1], "value": "Enabled"},
                ]}),
            ),
            &Cancel::new(),
        )
        .expect("drift");
    // The emulator numbers generated products from 1: 14 more are 12 new ones.
    let added = add_products(&emulator, 14);

    let plan = client
        .invoke(
            &request(
                json!({"op": "planImport", "operationId": 7101, "token": token, "path": file}),
            ),
            &Cancel::new(),
        )
        .expect("plan");

    let items = plan["items"].as_array().expect("planned items");
    let planned: Vec<(&str, &str)> = items
        .iter()
        .map(|item| {
            (
                item["update"]["productId"].as_str().unwrap_or_default(),
                item["update"]["value"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        planned,
        [
            (products[0].as_str(), "Enabled"),
            (products[1].as_str(), "Disabled")
        ]
    );
    assert_eq!(
        items[1]["action"],
        json!(format!("Set {POLICY} from Enabled to Disabled"))
    );
    let target = items[0]["target"].as_str().unwrap_or_default();
    assert!(
        target.starts_with(&format!("Product {} (Bulk product", products[0])),
        "{target}"
    );
    let warnings = harness::lines(7101, 2);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(&format!(
            "12 items are not in the baseline and are left as they are: {}",
            added[0]
        )) && warnings[0].ends_with(" and 2 more."),
        "{}",
        warnings[0]
    );
    assert_eq!(
        emulator.product_value(&products[0]),
        "Disabled",
        "a plan changes nothing"
    );
}
