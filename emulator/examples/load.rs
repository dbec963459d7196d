//! A bounded load test of the emulator on loopback: GETs and PUTs of the licensing API with valid
//! tokens, over a fixed number of keep-alive connections, for a fixed time. Prints requests/s,
//! latency percentiles and the error count; exits with 1 when there were errors.
//!
//! ```text
//! cargo run --release -p mscommerce-emulator --example load -- --seconds 10 --connections 16
//!     [--put-percent 25] [--uri http://127.0.0.1:PORT]
//! ```
//!
//! Without `--uri` it starts an emulator in-process (its own runtime, on a temporary data
//! directory); with it, it drives that emulator (tokens come from its `POST /admin/tokens`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use clap::Parser;
use mscommerce_emulator::settings::Settings;
use mscommerce_emulator::store::Store;
use mscommerce_emulator::{base_uri, serve, AppState};
use serde_json::{json, Value};

const POLICY: &str = "AllowSelfServicePurchase";
const ADMINS: [(&str, &str); 2] = [
    ("contoso", "admin@contoso.onmicrosoft.com"),
    ("fabrikam", "admin@fabrikam.onmicrosoft.com"),
];

#[derive(Debug, Parser)]
struct Args {
    /// How long to drive the load.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// How many connections (each a sequential client).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// The share of PUTs, in percent.
    #[arg(long, default_value_t = 25)]
    put_percent: u32,
    /// An emulator to drive, instead of one started in-process.
    #[arg(long)]
    uri: Option<String>,
}

/// What one connection did.
#[derive(Debug, Default)]
struct Tally {
    latencies_us: Vec<u32>,
    gets: u64,
    puts: u64,
    errors: u64,
}

fn main() {
    let args = Args::parse();
    let (base, _server) = match &args.uri {
        Some(uri) => (uri.trim_end_matches('/').to_owned(), None),
        None => {
            let (base, server) = start_in_process();
            (base, Some(server))
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime for the clients");
    let tally = runtime.block_on(drive(&args, &base));

    let mut latencies = tally.latencies_us;
    latencies.sort_unstable();
    let total = latencies.len();
    let percentile = |p: f64| {
        let index = ((total as f64 * p).ceil() as usize).clamp(1, total.max(1)) - 1;
        f64::from(latencies.get(index).copied().unwrap_or(0)) / 1000.0
    };
    println!(
        "load: {} connections, {} s, {}% PUT, against {base}{}",
        args.connections,
        args.seconds,
        args.put_percent,
        if args.uri.is_some() {
            ""
        } else {
            " (in-process)"
        }
    );
    println!(
        "requests: {total} (GET {}, PUT {}), {:.0} requests/s",
        tally.gets,
        tally.puts,
        total as f64 / args.seconds as f64
    );
    println!(
        "latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(0.50),
        percentile(0.90),
        percentile(0.99),
        percentile(1.0)
    );
    println!("errors: {}", tally.errors);
    if tally.errors > 0 {
        std::process::exit(1);
    }
}

/// Starts an emulator on its own runtime and thread, on a temporary directory; its base URI.
fn start_in_process() -> (String, std::thread::JoinHandle<()>) {
    let (ready, base) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime for the emulator");
        runtime.block_on(async move {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let store = Store::open(dir.path()).expect("the store");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a port");
            let base = base_uri(listener.local_addr().expect("the address"));
            let state = AppState::open(store, Settings::default(), base.clone())
                .await
                .expect("the signing key");
            ready.send(base).expect("the main thread waits");
            serve(listener, state, std::future::pending())
                .await
                .expect("serve");
        });
    });
    (base.recv().expect("the emulator starts"), server)
}

async fn drive(args: &Args, base: &str) -> Tally {
    let setup = reqwest::Client::new();
    let mut tokens = Vec::new();
    for (tenant, user) in ADMINS {
        let minted: Value = setup
            .post(format!("{base}/admin/tokens"))
            .json(&json!({"tenant": tenant, "user": user, "lifetimeSeconds": 3600}))
            .send()
            .await
            .expect("POST /admin/tokens")
            .json()
            .await
            .expect("a token");
        tokens.push(
            minted["accessToken"]
                .as_str()
                .expect("accessToken")
                .to_owned(),
        );
    }
    let list: Value = setup
        .get(format!("{base}/v1.0/policies/{POLICY}/products"))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .expect("GET products")
        .json()
        .await
        .expect("a product list");
    let products: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["productId"].as_str().expect("productId").to_owned())
        .collect();

    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut workers = Vec::new();
    for connection in 0..args.connections {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .expect("a client");
        let token = tokens[connection % tokens.len()].clone();
        let (base, products, put_percent) = (base.to_owned(), products.clone(), args.put_percent);
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut n: usize = 0;
            while Instant::now() < deadline {
                n += 1;
                let product = &products[(connection + n) % products.len()];
                let url = format!("{base}/v1.0/policies/{POLICY}/products/{product}");
                // put_percent of every 100 requests, spread out.
                let is_put = (n * put_percent as usize) % 100 < put_percent as usize;
                let request = if is_put {
                    tally.puts += 1;
                    let value = if n.is_multiple_of(2) {
                        "Enabled"
                    } else {
                        "Disabled"
                    };
                    client.put(&url).json(&json!({ "policyValue": value }))
                } else {
                    tally.gets += 1;
                    client.get(&url)
                };
                let started = Instant::now();
                let ok = match request.bearer_auth(&token).send().await {
                    Ok(response) => {
                        let success = response.status().is_success();
                        success && response.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                let elapsed = started.elapsed().as_micros();
                tally
                    .latencies_us
                    .push(u32::try_from(elapsed).unwrap_or(u32::MAX));
                if !ok {
                    tally.errors += 1;
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for worker in workers {
        let tally = worker.await.expect("a worker");
        total.latencies_us.extend(tally.latencies_us);
        total.gets += tally.gets;
        total.puts += tally.puts;
        total.errors += tally.errors;
    }
    total
}
