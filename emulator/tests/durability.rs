//! Acknowledged changes survive the process being killed (`kill -9`). Unix only.
#![cfg(unix)]

mod support;

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::process::{mint_token, Served};
use support::{ADMIN, POLICY};

/// Every product's value, by product id.
async fn values(
    client: &reqwest::Client,
    served: &Served,
    token: &str,
) -> BTreeMap<String, String> {
    let list: Value = client
        .get(format!(
            "{}/v1.0/policies/{POLICY}/products",
            served.uri("serviceUri")
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["productId"].as_str().unwrap().to_owned(),
                item["policyValue"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_puts_survive_kill_9() {
    const WRITERS: usize = 8;
    const ROUNDS: usize = 9;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut served = Served::start(dir.path(), &[]).await;
    let token = mint_token(&client, served.uri("adminUri"), ADMIN).await;
    let products: Vec<String> = values(&client, &served, &token).await.into_keys().collect();

    // A burst: each writer owns some products and sets them in turn, recording what was
    // acknowledged last for each.
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let owned: Vec<String> = products
            .iter()
            .skip(writer)
            .step_by(WRITERS)
            .cloned()
            .collect();
        let (client, token) = (client.clone(), token.clone());
        let base = served.uri("serviceUri").to_owned();
        writers.push(tokio::spawn(async move {
            let mut acknowledged = BTreeMap::new();
            for round in 0..ROUNDS {
                for product in &owned {
                    let value = if (round + writer) % 2 == 0 {
                        "Disabled"
                    } else {
                        "Enabled"
                    };
                    let response = client
                        .put(format!("{base}/v1.0/policies/{POLICY}/products/{product}"))
                        .bearer_auth(&token)
                        .json(&json!({ "policyValue": value }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                    acknowledged.insert(product.clone(), value.to_owned());
                }
            }
            acknowledged
        }));
    }
    let mut acknowledged = BTreeMap::new();
    let mut count = 0;
    for writer in writers {
        let written = writer.await.unwrap();
        count += written.len() * ROUNDS;
        acknowledged.extend(written);
    }
    // SIGKILL, at once: no graceful shutdown, no checkpoint.
    served.child.start_kill().unwrap();
    let status = served.child.wait().await.unwrap();
    assert!(!status.success(), "{status}");

    let served = Served::start(dir.path(), &[]).await;
    let after = values(&client, &served, &token).await;
    for (product, value) in &acknowledged {
        assert_eq!(&after[product], value, "{product}");
    }
    let audit: Value = client
        .get(format!("{}/tenants/contoso/audit", served.uri("adminUri")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"].as_array().unwrap().len(), count);
}
