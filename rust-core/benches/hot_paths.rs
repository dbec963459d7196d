//! Criterion benchmarks of the core's hot paths (`cargo xtask bench` runs them and writes the
//! medians into docs/benchmarks.md):
//!
//! - `decode/product_list/N`: the service's answer of N product items decoded as the client
//!   decodes it (`ServiceList<ServiceItem>` -> `OutputItem`s -> the JSON value), then written as
//!   the JSON text the shim receives;
//! - `request/*`: a request as the shim sends it parsed and turned into its HTTP request;
//! - `call/*`: whole calls through `Client::invoke` (the runtime, the shared HTTP client, the
//!   emulator answering on loopback in this process, the decoding).
//!
//! ```text
//! cargo bench -p mscommerce-core --bench hot_paths -- --warm-up-time 1 --measurement-time 3
//! ```

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mscommerce_core::client::service::{ServiceItem, ServiceList};
use mscommerce_core::client::Client;
use mscommerce_core::config::ClientConfig;
use mscommerce_core::protocol::{OutputItem, Request};
use mscommerce_core::Cancel;
use serde_json::{json, Value};

use harness::{Emulator, ADMIN, POLICY, PRODUCT};

/// The service's answer listing `count` products, shaped as the emulator (and the service) sends it.
fn product_list(count: usize) -> Vec<u8> {
    let items: Vec<Value> = (1..=count)
        .map(|i| {
            json!({
                "policyId": POLICY,
                "policyValue": if i % 3 == 0 { "Disabled" } else { "Enabled" },
                "productName": format!("Bulk product {i:05}"),
                "productId": format!("CFQ7TTC0B{i:05}"),
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "items": items })).expect("JSON")
}

/// What `Client::call` does with a `getProductPolicies` answer, and the text it goes out as.
fn decode_product_list(body: &[u8]) -> String {
    let list: ServiceList<ServiceItem> = serde_json::from_slice(body).expect("a product list");
    let output: Vec<OutputItem> = list.items.into_iter().map(OutputItem::from).collect();
    let value = serde_json::to_value(output).expect("output objects");
    serde_json::to_string(&value).expect("the answer's text")
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for count in [1_000usize, 10_000] {
        let body = product_list(count);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(BenchmarkId::new("product_list", count), &body, |b, body| {
            b.iter(|| decode_product_list(black_box(body)))
        });
    }
    group.finish();
}

fn request(c: &mut Criterion) {
    let base = url::Url::parse("https://licensing.m365.microsoft.com").expect("URL");
    let list =
        json!({"op": "getProductPolicies", "operationId": 7, "token": "t", "policyId": POLICY})
            .to_string();
    let update = json!({
        "op": "updateProductPolicy", "operationId": 7, "token": "t",
        "policyId": POLICY, "productId": PRODUCT, "value": "Disabled",
    })
    .to_string();
    let mut group = c.benchmark_group("request");
    group.bench_function("get_product_policies", |b| {
        b.iter(|| {
            let request = Request::from_json(black_box(&list)).expect("request");
            mscommerce_core::client::licensing::http(&request, &base).expect("HTTP request")
        })
    });
    group.bench_function("update_product_policy", |b| {
        b.iter(|| {
            let request = Request::from_json(black_box(&update)).expect("request");
            mscommerce_core::client::licensing::http(&request, &base).expect("HTTP request")
        })
    });
    group.finish();
}

fn call(c: &mut Criterion) {
    let emulator = Emulator::start();
    let token = emulator.token(ADMIN);
    let config = ClientConfig::from_json(&json!({ "serviceUri": emulator.base }).to_string())
        .expect("config");
    let client = Client::new(config).expect("client");
    let cancel = Cancel::new();
    let list = Request::from_json(
        &json!({"op": "getProductPolicies", "token": token, "policyId": POLICY}).to_string(),
    )
    .expect("request");
    let one = Request::from_json(
        &json!({"op": "getProductPolicy", "token": token, "policyId": POLICY, "productId": PRODUCT})
            .to_string(),
    )
    .expect("request");
    let count = |value: &Value| value.as_array().map_or(0, Vec::len);

    let mut group = c.benchmark_group("call");
    group.sample_size(30);
    group.bench_function("get_product_policy", |b| {
        b.iter(|| client.invoke(&one, &cancel).expect("answer"))
    });
    let seeded = count(&client.invoke(&list, &cancel).expect("answer"));
    group.bench_function(BenchmarkId::new("get_product_policies", seeded), |b| {
        b.iter(|| client.invoke(&list, &cancel).expect("answer"))
    });
    emulator.admin(
        "POST",
        "/tenants/contoso.onmicrosoft.com/products",
        Some(json!({ "count": 1000 })),
    );
    let large = count(&client.invoke(&list, &cancel).expect("answer"));
    group.bench_function(BenchmarkId::new("get_product_policies", large), |b| {
        b.iter(|| client.invoke(&list, &cancel).expect("answer"))
    });
    group.finish();
}

criterion_group!(benches, decode, request, call);
criterion_main!(benches);
