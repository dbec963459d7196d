//! Partners (GDAP) through the core against the emulator in this process: a partner's
//! administrator signs in once (a device code) and then works in the customers' tenants it has
//! delegated admin relationships with, silently; a tenant without a relationship, or with a
//! role that only reads, is one error aimed at that tenant while the others go on; a
//! multi-tenant application works where it is consented.

mod harness;

use std::time::{Duration, Instant};

use mscommerce_core::client::Client;
use mscommerce_core::config::ClientConfig;
use mscommerce_core::protocol::Request;
use mscommerce_core::Cancel;
use serde_json::{json, Value};

use harness::{Emulator, POLICY};

const PARTNER: &str = "partneradmin@treyresearch.onmicrosoft.com";
const PARTNER_TENANT: &str = "00000000-0000-0000-0000-00000000a001";
const ADATUM: &str = "adatum.onmicrosoft.com";
const LITWARE: &str = "litware.onmicrosoft.com";
const TAILSPIN: &str = "tailspin.onmicrosoft.com";
const ADATUM_ID: &str = "00000000-0000-0000-0000-00000000b001";
const LITWARE_ID: &str = "00000000-0000-0000-0000-00000000b002";
const TAILSPIN_ID: &str = "00000000-0000-0000-0000-00000000b003";
const PRODUCT: &str = "CFQ7TTC0H9MP";
const PARTNER_APP: &str = "a0017e57-0000-4000-8000-00000000a0a1";
const PARTNER_APP_SECRET: &str = "emulator-partner-app-secret";

/// The log receiver and the token cache variables are process-wide: tests take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn client(emulator: &Emulator) -> Client {
    let config = json!({
        "serviceUri": emulator.base, "authorityUri": emulator.base,
        "variables": harness::session_variables(),
    })
    .to_string();
    Client::new(ClientConfig::from_json(&config).expect("config")).expect("client")
}

fn request(mut json: Value) -> Request {
    json["variables"] = harness::session_variables();
    Request::from_json(&json.to_string()).expect("request")
}

fn invoke(client: &Client, json: Value) -> Value {
    client
        .invoke(&request(json.clone()), &Cancel::new())
        .unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// Signs the partner's administrator in with a device code, approved as a person would, into a
/// token cache of this test's own.
fn sign_in_partner(emulator: &Emulator, client: &Client) -> Value {
    let operation_id = 9100;
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    mscommerce_core::log::set_log_receiver(Some(std::sync::Arc::new(
        move |op, level, text: &str| {
            if op == operation_id && level == mscommerce_core::log::Level::Warning {
                sink.lock().unwrap().push(text.to_owned());
            }
        },
    )));
    let connection = std::thread::scope(|scope| {
        let connecting = scope.spawn(|| {
            client.invoke(
                &request(json!({
                    "op": "connect", "flow": "deviceCode", "operationId": operation_id,
                    "tenantId": "treyresearch.onmicrosoft.com", "contextScope": "CurrentUser",
                })),
                &Cancel::new(),
            )
        });
        let started = Instant::now();
        let message = loop {
            if let Some(line) = lines.lock().unwrap().first().cloned() {
                break line;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no device code"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let code = message
            .split("enter the code ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("a code")
            .to_owned();
        emulator.approve(&code, PARTNER);
        connecting.join().expect("connect thread")
    })
    .expect("the partner signs in");
    mscommerce_core::log::set_log_receiver(None);
    connection
}

struct Turn {
    emulator: Emulator,
    _cache: tempfile::TempDir,
    _serial: std::sync::MutexGuard<'static, ()>,
}

fn take_turn() -> Turn {
    let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let cache = tempfile::tempdir().expect("cache dir");
    std::env::set_var("MSCOMMERCE_TOKEN_CACHE", "file");
    std::env::set_var("MSCOMMERCE_TOKEN_CACHE_DIR", cache.path());
    // No browser may open: silent sign-ins only.
    std::env::set_var("MSCOMMERCE_BROWSER", cache.path().join("no-browser"));
    Turn {
        emulator: Emulator::start(),
        _cache: cache,
        _serial: serial,
    }
}

/// A product's value in a customer's tenant, read with the customer's own administrator.
fn value_in(emulator: &Emulator, tenant: &str) -> String {
    let token = emulator.token_in(tenant, &format!("admin@{tenant}"));
    let answer = harness::fast_client(&emulator.base, json!({}))
        .invoke(
            &Request::from_json(
                &json!({"op": "getProductPolicy", "token": token, "policyId": POLICY, "productId": PRODUCT})
                    .to_string(),
            )
            .expect("request"),
            &Cancel::new(),
        )
        .expect("the customer's value");
    answer["policyValue"].as_str().expect("a value").to_owned()
}

#[test]
fn a_partner_signs_in_once_and_reads_each_customer_while_a_tenant_without_relationship_fails_alone()
{
    let turn = take_turn();
    let client = client(&turn.emulator);
    let connection = sign_in_partner(&turn.emulator, &client);
    assert_eq!(connection["tenantId"], PARTNER_TENANT);

    let answer = invoke(
        &client,
        json!({"op": "getProductPolicy", "policyId": POLICY, "productId": PRODUCT,
               "tenants": [ADATUM, LITWARE, TAILSPIN, "contoso.onmicrosoft.com"]}),
    );
    let tenants: Vec<&str> = answer["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            item["tenantId"]
                .as_str()
                .expect("each item names its tenant")
        })
        .collect();
    assert_eq!(tenants, [ADATUM_ID, LITWARE_ID, TAILSPIN_ID]);
    let errors = answer["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["target"], "contoso.onmicrosoft.com");
    assert_eq!(errors[0]["category"], "PermissionDenied");
    assert_eq!(errors[0]["terminating"], false);
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("AADSTS50020")),
        "{}",
        errors[0]
    );

    // The connection lists the tenants it now holds tokens for.
    let connection = invoke(&client, json!({"op": "getConnection"}));
    for id in [PARTNER_TENANT, ADATUM_ID, LITWARE_ID, TAILSPIN_ID] {
        assert!(
            connection["tenants"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == id)),
            "{id} missing from {connection}"
        );
    }
}

#[test]
fn connect_to_a_customer_redeems_the_cached_sign_in_there_and_keeps_the_home_tenant() {
    let turn = take_turn();
    sign_in_partner(&turn.emulator, &client(&turn.emulator));

    // A new client (a new PowerShell session): silent, from the cache, in the customer tenant.
    let later = client(&turn.emulator);
    let connection = invoke(
        &later,
        json!({"op": "connect", "flow": "browser", "tenantId": LITWARE, "contextScope": "CurrentUser"}),
    );
    assert_eq!(connection["flow"], "TokenCache");
    assert_eq!(connection["account"], PARTNER);
    assert_eq!(connection["tenantId"], LITWARE_ID);
    assert_eq!(connection["homeTenantId"], PARTNER_TENANT);

    // The cache still holds the account under its home tenant: the next customer is silent too.
    let next = client(&turn.emulator);
    let connection = invoke(
        &next,
        json!({"op": "connect", "flow": "browser", "tenantId": ADATUM, "contextScope": "CurrentUser"}),
    );
    assert_eq!(connection["tenantId"], ADATUM_ID);
    assert_eq!(connection["homeTenantId"], PARTNER_TENANT);
}

#[test]
fn an_update_across_tenants_applies_where_the_role_allows_and_reports_the_read_only_tenant_once() {
    let turn = take_turn();
    let client = client(&turn.emulator);
    sign_in_partner(&turn.emulator, &client);
    let items: Vec<Value> = [ADATUM, LITWARE, TAILSPIN]
        .iter()
        .flat_map(|tenant| {
            [PRODUCT, harness::PRODUCT].map(|product| {
                json!({"policyId": POLICY, "productId": product, "value": "Disabled", "tenantId": tenant})
            })
        })
        .collect();
    let results = invoke(
        &client,
        json!({"op": "updateProductPolicies", "items": items}),
    );
    let results = results.as_array().expect("results");
    let ok = results.iter().filter(|r| r["ok"] == true).count();
    let failed: Vec<&Value> = results.iter().filter(|r| r["ok"] == false).collect();
    assert_eq!(ok, 4, "{results:?}");
    assert_eq!(failed.len(), 1, "one error for the tenant: {failed:?}");
    assert_eq!(failed[0]["error"]["target"], TAILSPIN);
    assert_eq!(failed[0]["error"]["category"], "PermissionDenied");
    assert_eq!(value_in(&turn.emulator, ADATUM), "Disabled");
    assert_eq!(value_in(&turn.emulator, LITWARE), "Disabled");
    assert_eq!(value_in(&turn.emulator, TAILSPIN), "Enabled");
}

#[test]
fn a_multi_tenant_application_works_in_the_tenants_that_consented_to_it() {
    let turn = take_turn();
    let client = client(&turn.emulator);
    invoke(
        &client,
        json!({"op": "connect", "flow": "clientSecret", "tenantId": "treyresearch.onmicrosoft.com",
               "clientId": PARTNER_APP, "clientSecret": PARTNER_APP_SECRET}),
    );
    let answer = invoke(
        &client,
        json!({"op": "getPolicies", "tenants": [ADATUM, LITWARE, TAILSPIN]}),
    );
    let tenants: Vec<&str> = answer["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["tenantId"].as_str())
        .collect();
    assert!(
        tenants.contains(&ADATUM_ID) && tenants.contains(&LITWARE_ID),
        "{answer}"
    );
    assert!(!tenants.contains(&TAILSPIN_ID), "{answer}");
    let errors = answer["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["target"], TAILSPIN);
}
