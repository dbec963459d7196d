//! The emulator's throughput on loopback: N keep-alive connections, each a sequential client,
//! send `GET /v1.0/policies/AllowSelfServicePurchase/products` (the product list, what
//! `Get-MSCommerceProductPolicies` asks for) with a valid token for a fixed time. Prints one JSON
//! line: `{"rps","p50_ms","p99_ms","requests","errors","connections","seconds","items","target",
//! "method"}`.
//!
//! With `--method put` they send what a bulk update sends instead: `PUT
//! .../products/{id}` with `{"policyValue": ...}`, each connection going round the listed
//! products and switching between Enabled and Disabled, so every request changes a value (one
//! write and one audit row in the emulator's database). That is the emulator's write ceiling,
//! which bounds what a bulk update can reach against it.
//!
//! ```text
//! cargo bench -p mscommerce-core --bench emulator_load -- --seconds 5 --connections 16
//! cargo bench -p mscommerce-core --bench emulator_load -- --seconds 5 --connections 64 --method put
//! ```
//!
//! With `MSCOMMERCE_BENCH_URI` and `MSCOMMERCE_BENCH_TOKEN` it drives that emulator (how
//! `cargo xtask bench` runs it, against a `mscommerce-emulator serve` process); without them it
//! starts one in this process. Run as a test (`cargo test --benches`, no `--bench` argument) it
//! drives the load for a fifth of a second only.

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::{Emulator, ADMIN, POLICY};

struct Options {
    seconds: f64,
    connections: usize,
    /// Writes (`PUT`) instead of reads.
    put: bool,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|at| args.get(at + 1))
            .cloned()
    };
    let benching = args.iter().any(|arg| arg == "--bench");
    Options {
        seconds: value("--seconds")
            .and_then(|s| s.parse().ok())
            .unwrap_or(if benching { 5.0 } else { 0.2 }),
        connections: value("--connections")
            .and_then(|s| s.parse().ok())
            .unwrap_or(16),
        put: value("--method").is_some_and(|m| m.eq_ignore_ascii_case("put")),
    }
}

/// What one connection did.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
}

fn main() {
    let options = options();
    let external = std::env::var("MSCOMMERCE_BENCH_URI")
        .ok()
        .filter(|uri| !uri.is_empty());
    let (emulator, base, token, target) = match external {
        Some(uri) => {
            let token = std::env::var("MSCOMMERCE_BENCH_TOKEN")
                .expect("MSCOMMERCE_BENCH_TOKEN: a token for MSCOMMERCE_BENCH_URI");
            (None, uri.trim_end_matches('/').to_owned(), token, "process")
        }
        None => {
            let emulator = Emulator::start();
            let token = emulator.token(ADMIN);
            let base = emulator.base.clone();
            (Some(emulator), base, token, "in-process")
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime for the clients");
    let url = format!("{base}/v1.0/policies/{POLICY}/products?scope=product");
    let ids: Vec<String> = runtime.block_on(async {
        let body = reqwest::Client::new()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("the product list")
            .bytes()
            .await
            .expect("the product list's body");
        let answer: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        answer["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item["productId"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    });
    let items = ids.len();
    let duration = Duration::from_secs_f64(options.seconds);
    let work = if options.put {
        let products = format!("{base}/v1.0/policies/{POLICY}/products/");
        Work::Put(products, ids)
    } else {
        Work::Get(url)
    };
    let (tally, elapsed) = runtime.block_on(drive(&work, &token, options.connections, duration));
    drop(emulator);

    let mut latencies = tally.latencies_us;
    latencies.sort_unstable();
    let total = latencies.len();
    let percentile = |p: f64| {
        let index = ((total as f64 * p).ceil() as usize).clamp(1, total.max(1)) - 1;
        f64::from(latencies.get(index).copied().unwrap_or(0)) / 1000.0
    };
    println!(
        "{}",
        serde_json::json!({
            "rps": (total as f64 / elapsed.as_secs_f64()).round(),
            "p50_ms": percentile(0.50),
            "p99_ms": percentile(0.99),
            "requests": total,
            "errors": tally.errors,
            "connections": options.connections,
            "seconds": options.seconds,
            "items": items,
            "target": target,
            "method": if options.put { "PUT" } else { "GET" },
        })
    );
    if tally.errors > 0 {
        std::process::exit(1);
    }
}

/// What each connection sends.
enum Work {
    /// `GET` this URL.
    Get(String),
    /// `PUT` the URL prefix plus each of the product ids in turn.
    Put(String, Vec<String>),
}

/// Runs `connections` sequential clients, each on a keep-alive connection of its own, until
/// `duration` has passed; answers what they did and how long they took.
async fn drive(
    work: &Work,
    token: &str,
    connections: usize,
    duration: Duration,
) -> (Tally, Duration) {
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::new();
    for _ in 0..connections {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .expect("a client");
        let token = token.to_owned();
        // Each connection starts at its own product, so they do not all write one row.
        let (get, put) = match work {
            Work::Get(url) => (Some(url.clone()), None),
            Work::Put(prefix, ids) => (None, Some((prefix.clone(), ids.clone(), workers.len()))),
        };
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut round = 0usize;
            while Instant::now() < deadline {
                let request = match (&get, &put) {
                    (Some(url), _) => client.get(url),
                    (None, Some((prefix, ids, offset))) if !ids.is_empty() => {
                        let at = offset + round;
                        let value = if (at / ids.len()).is_multiple_of(2) {
                            "Disabled"
                        } else {
                            "Enabled"
                        };
                        client
                            .put(format!("{prefix}{}", ids[at % ids.len()]))
                            .header("content-type", "application/json")
                            .body(format!(r#"{{"policyValue":"{value}"}}"#))
                    }
                    _ => break,
                };
                round += 1;
                let sent = Instant::now();
                let ok = match request.bearer_auth(&token).send().await {
                    Ok(response) => {
                        response.status().is_success() && response.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                tally.latencies_us.push(micros);
                tally.errors += u64::from(!ok);
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for worker in workers {
        let tally = worker.await.expect("a worker");
        total.latencies_us.extend(tally.latencies_us);
        total.errors += tally.errors;
    }
    (total, started.elapsed())
}
