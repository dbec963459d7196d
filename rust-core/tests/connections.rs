//! One runtime per process and one HTTP client per proxy configuration, connections kept alive
//! and reused: every client of the process sends its requests over the same few connections
//! (docs/benchmarks.md).

mod harness;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use mscommerce_core::client::Client;
use mscommerce_core::config::ClientConfig;
use mscommerce_core::protocol::Request;
use mscommerce_core::settings::Variables;
use mscommerce_core::{http, Cancel};
use serde_json::{json, Value};

use harness::{Emulator, ADMIN, POLICY};

/// A TCP proxy in front of the emulator that counts the connections made to it; its base URI.
fn counting_proxy(emulator: &Emulator, accepted: Arc<AtomicUsize>) -> String {
    let target: SocketAddr = emulator
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("the emulator's address");
    emulator.runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        format!("http://{address}")
    })
}

fn client(base: &str) -> Client {
    Client::new(
        ClientConfig::from_json(&json!({ "serviceUri": base }).to_string()).expect("config"),
    )
    .expect("client")
}

#[test]
fn every_client_shares_one_runtime_and_one_http_client_per_proxy_configuration() {
    let first = http::runtime().expect("runtime");
    let _a = client("http://127.0.0.1:1");
    let _b = client("http://127.0.0.1:2");
    assert!(
        std::ptr::eq(first, http::runtime().expect("runtime")),
        "one runtime per process"
    );
    // Variables other than the proxy ones do not make another pool (no other test of this
    // binary names a proxy, so the count is this test's to read).
    http::client_for(&Variables::new()).expect("client");
    http::client_for(&Variables::from_pairs([
        ("HOME", "/a"),
        ("MSCOMMERCE_BROWSER", "true"),
    ]))
    .expect("client");
    assert_eq!(http::pool_count(), 1, "one pool without a proxy");
    let proxied = [("HTTPS_PROXY", "http://127.0.0.1:9")];
    http::client_for(&Variables::from_pairs(proxied)).expect("client");
    http::client_for(&Variables::from_pairs([proxied[0], ("HOME", "/b")])).expect("client");
    assert_eq!(http::pool_count(), 2, "one more pool for the one proxy");
}

#[test]
fn requests_of_every_client_reuse_a_few_kept_alive_connections() {
    const THROTTLE: usize = 4;
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    let added = emulator.admin(
        "POST",
        "/tenants/contoso.onmicrosoft.com/products",
        Some(json!({ "count": 40 })),
    );
    let items: Vec<Value> = added["added"]
        .as_array()
        .expect("added ids")
        .iter()
        .map(|id| json!({ "policyId": POLICY, "productId": id }))
        .collect();
    let accepted = Arc::new(AtomicUsize::new(0));
    let base = counting_proxy(&emulator, accepted.clone());
    emulator.admin("DELETE", "/requests", None);

    let cancel = Cancel::new();
    let list = Request::from_json(
        &json!({"op": "getProductPolicies", "token": token, "policyId": POLICY}).to_string(),
    )
    .expect("request");
    // Two clients (two runspaces), each a bulk update and a few reads.
    for value in ["Disabled", "Enabled"] {
        let client = client(&base);
        let bulk = Request::from_json(
            &json!({
                "op": "updateProductPolicies", "token": token, "items": items,
                "value": value, "throttleLimit": THROTTLE,
            })
            .to_string(),
        )
        .expect("request");
        let results = client.invoke(&bulk, &cancel).expect("bulk answer");
        assert!(results
            .as_array()
            .expect("results")
            .iter()
            .all(|r| r["ok"] == true));
        for _ in 0..5 {
            client.invoke(&list, &cancel).expect("product list");
        }
    }

    let requests: u64 = emulator.admin("GET", "/requests", None)["requests"]
        .as_object()
        .expect("counts")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    let connections = accepted.load(Ordering::SeqCst);
    println!("{requests} requests of two clients over {connections} connections");
    assert!(requests >= 90, "{requests} requests were counted");
    assert!(
        (1..=2 * THROTTLE).contains(&connections),
        "{requests} requests of two clients took {connections} connections: at most {} expected",
        2 * THROTTLE
    );
}
