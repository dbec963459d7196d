//! Settings reach the core from the caller, never from the process environment: the variables
//! a configuration or request carries choose the endpoints (a client that holds no connection
//! follows them; one that holds a connection keeps its endpoints), and the shim's list of the
//! variables it passes is the core's.

mod harness;

use std::path::PathBuf;

use mscommerce_core::client::Client;
use mscommerce_core::config::ClientConfig;
use mscommerce_core::protocol::Request;
use mscommerce_core::settings::{NAMES, PREFIX};
use mscommerce_core::{Cancel, ErrorKind};
use serde_json::{json, Value};

use harness::{Emulator, ADMIN};

fn client(config: Value) -> Client {
    Client::new(ClientConfig::from_json(&config.to_string()).expect("config")).expect("client")
}

fn invoke(client: &Client, request: Value) -> mscommerce_core::Result<Value> {
    client.invoke(
        &Request::from_json(&request.to_string()).expect("request"),
        &Cancel::new(),
    )
}

fn emulator_variables(emulator: &Emulator) -> Value {
    json!({ "MSCOMMERCE_SERVICE_URI": emulator.base, "MSCOMMERCE_AUTHORITY_URI": emulator.base })
}

#[test]
fn a_client_that_never_connected_follows_the_variables_of_each_request() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    // Made before the variable was set in the session: the public service.
    let client = client(json!({ "variables": {} }));
    let before = invoke(&client, json!({ "op": "getConnection" })).expect("connection");
    assert_eq!(before["serviceUri"], "https://licensing.m365.microsoft.com");

    let variables = emulator_variables(&emulator);
    let connection = invoke(
        &client,
        json!({ "op": "getConnection", "variables": variables }),
    )
    .expect("connection");
    assert_eq!(connection["serviceUri"], emulator.base.as_str());
    assert_eq!(connection["authorityUri"], emulator.base.as_str());
    assert_eq!(connection["environment"], "Custom");
    let policies = invoke(
        &client,
        json!({ "op": "getPolicies", "token": token, "variables": variables }),
    )
    .expect("the emulator's policies");
    assert_eq!(policies[0]["policyId"], "AllowSelfServicePurchase");

    // Removed from the session again: back to the public service.
    let after =
        invoke(&client, json!({ "op": "getConnection", "variables": {} })).expect("connection");
    assert_eq!(after["serviceUri"], "https://licensing.m365.microsoft.com");
}

#[test]
fn explicit_choices_still_beat_the_variables() {
    let emulator = Emulator::start();
    let client = client(json!({ "environment": "Public" }));
    let connection = invoke(
        &client,
        json!({ "op": "getConnection", "variables": emulator_variables(&emulator) }),
    )
    .expect("connection");
    assert_eq!(
        connection["serviceUri"],
        "https://licensing.m365.microsoft.com"
    );
    assert_eq!(connection["environment"], "Public");
}

#[test]
fn a_connected_client_keeps_the_endpoints_it_connected_with() {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    // Connect-MSCommerce -AccessToken with the variable set.
    let client = client(json!({
        "accessToken": token,
        "variables": emulator_variables(&emulator),
    }));
    let moved = json!({ "MSCOMMERCE_SERVICE_URI": "http://127.0.0.1:9" });

    let policies = invoke(&client, json!({ "op": "getPolicies", "variables": moved }))
        .expect("still the emulator");
    assert_eq!(policies[0]["policyId"], "AllowSelfServicePurchase");
    let connection = invoke(
        &client,
        json!({ "op": "getConnection", "variables": moved }),
    )
    .expect("connection");
    assert_eq!(connection["serviceUri"], emulator.base.as_str());
}

#[test]
fn a_bad_service_variable_fails_a_client_that_follows_it_without_repeating_credentials() {
    let client = client(json!({}));
    let error = invoke(
        &client,
        json!({ "op": "getConnection",
                "variables": { "MSCOMMERCE_SERVICE_URI": "http://user:s3cret@example.com" } }),
    )
    .expect_err("plain http to another host is refused");
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert!(!error.message().contains("s3cret"), "{}", error.message());
    // The client stays as it was.
    let connection = invoke(&client, json!({ "op": "getConnection" })).expect("connection");
    assert_eq!(
        connection["serviceUri"],
        "https://licensing.m365.microsoft.com"
    );
}

#[test]
fn the_shim_passes_the_generated_list_of_the_variables_the_core_uses() {
    // The list itself is generated into Contracts.g.cs (`CoreVariables`, tests/contracts.rs),
    // which fails when it is stale; here, that the shim reads that list and no other.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../dotnet-shim/Interop/SessionVariables.cs");
    let source = std::fs::read_to_string(&path).expect("SessionVariables.cs");
    assert!(
        source.contains("Names = CoreVariables.Names;")
            && source.contains("Prefix = CoreVariables.Prefix;"),
        "dotnet-shim/Interop/SessionVariables.cs must pass the generated CoreVariables"
    );
    let generated = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dotnet-shim/Interop/Contracts.g.cs"),
    )
    .expect("Contracts.g.cs");
    for name in NAMES {
        assert!(generated.contains(&format!("\"{name}\",")), "{name}");
    }
    assert!(generated.contains(&format!("Prefix = \"{PREFIX}\";")));
}
