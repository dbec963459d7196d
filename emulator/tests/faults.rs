//! The knobs a test turns at run time: `/admin/faults` (throttling, errors, latency, dropped
//! connections, malformed bodies) and `/admin/settings` (token lifetime).

mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{json, TestServer, ADMIN, POLICY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const POLICIES: &str = "/v1.0/policies";

fn product(id: &str) -> String {
    format!("/v1.0/policies/{POLICY}/products/{id}")
}

/// PUTs `config` to `/admin/faults`; returns the status and the answer.
async fn set_faults(server: &TestServer, config: &Value) -> (StatusCode, Value) {
    json(
        server
            .client()
            .put(server.url("/admin/faults"))
            .json(config)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn faults(server: &TestServer) -> Value {
    json(
        server
            .client()
            .get(server.url("/admin/faults"))
            .send()
            .await
            .unwrap(),
    )
    .await
    .1
}

/// The status of a GET of the policies as the admin.
async fn get_status(server: &TestServer) -> StatusCode {
    server.get(POLICIES).send().await.unwrap().status()
}

#[tokio::test]
async fn next_n_errors_answer_the_service_error_body_then_stop() {
    let server = TestServer::start().await;
    let (status, answer) = set_faults(
        &server,
        &json!({"errors": {"status": 503, "next": 2, "retryAfterSeconds": 3}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["errors"]["next"], 2);
    for _ in 0..2 {
        let response = server
            .get(POLICIES)
            .header("x-ms-correlation-id", "fault-1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["retry-after"], "3");
        assert_eq!(response.headers()["x-ms-correlation-id"], "fault-1");
        let (status, body) = json(response).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["errorCode"], "ServiceUnavailable");
        assert!(body["reason"].as_str().unwrap().contains("unavailable"));
    }
    assert_eq!(get_status(&server).await, StatusCode::OK);
    let now = faults(&server).await;
    assert_eq!(now["errors"]["next"], 0);
    assert_eq!(now["injected"]["errors"], 2);
}

#[tokio::test]
async fn every_nth_request_is_throttled_with_retry_after() {
    let server = TestServer::start().await;
    set_faults(
        &server,
        &json!({"throttle": {"everyNth": 2, "retryAfterSeconds": 5}}),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = server.get(POLICIES).send().await.unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(response.headers()["retry-after"], "5");
            let (_, body) = json(response).await;
            assert_eq!(body["errorCode"], "TooManyRequests");
            statuses.push(StatusCode::TOO_MANY_REQUESTS);
        } else {
            statuses.push(response.status());
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn rate_throttle_answers_429_beyond_the_rate() {
    let server = TestServer::start().await;
    // One request every 10 s: the first goes through, the next waits for the bucket to refill.
    set_faults(&server, &json!({"throttle": {"ratePerSecond": 0.1}})).await;
    assert_eq!(get_status(&server).await, StatusCode::OK);
    let response = server.get(POLICIES).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u32 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((5..=10).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn faults_touch_only_the_licensing_api_and_the_chosen_method() {
    let server = TestServer::start().await;
    set_faults(
        &server,
        &json!({"errors": {"status": 500, "next": 5, "method": "put"}}),
    )
    .await;
    assert_eq!(faults(&server).await["errors"]["method"], "PUT");
    assert_eq!(get_status(&server).await, StatusCode::OK);
    let (status, _) = json(
        server
            .client()
            .get(server.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server
        .put_json_as(
            ADMIN,
            &product("CFQ7TTC0LH3L"),
            &json!({"policyValue": "Disabled"}),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["errorCode"], "InternalServerError");
    assert_eq!(faults(&server).await["errors"]["next"], 4);
}

#[tokio::test]
async fn dropped_connection_gets_no_answer() {
    let server = TestServer::start().await;
    set_faults(&server, &json!({"drop": {"next": 1}})).await;
    let addr = server.base().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET {POLICIES} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
        server.admin_token()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the connection is closed within 10 s");
    assert!(read.is_err() || answer.is_empty(), "{read:?}: {answer:?}");
    // Spent: the next request is answered.
    assert_eq!(get_status(&server).await, StatusCode::OK);
    assert_eq!(faults(&server).await["injected"]["dropped"], 1);
}

#[tokio::test]
async fn drop_after_serving_makes_the_change_and_loses_the_answer() {
    let server = TestServer::start().await;
    set_faults(
        &server,
        &json!({"drop": {"next": 1, "method": "PUT", "afterServing": true}}),
    )
    .await;
    let sent = server
        .client()
        .put(server.url(&product("CFQ7TTC0LH3L")))
        .bearer_auth(server.admin_token())
        .json(&json!({"policyValue": "Disabled"}))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    assert!(sent.is_err(), "no answer is expected: {sent:?}");
    let (_, read) = server.get_json(&product("CFQ7TTC0LH3L")).await;
    assert_eq!(read["policyValue"], "Disabled");
    assert_eq!(faults(&server).await["injected"]["dropped"], 1);
}

#[tokio::test]
async fn after_serving_belongs_to_drop_only() {
    let config: Result<mscommerce_emulator::faults::FaultConfig, _> =
        serde_json::from_value(json!({"malformed": {"next": 1, "afterServing": true}}));
    assert!(config.expect("parses").validate().is_err());
}

#[tokio::test]
async fn malformed_body_is_truncated_json_with_200_after_the_change_is_made() {
    let server = TestServer::start().await;
    set_faults(&server, &json!({"malformed": {"next": 1, "method": "PUT"}})).await;
    let response = server
        .client()
        .put(server.url(&product("CFQ7TTC0LH3L")))
        .bearer_auth(server.admin_token())
        .json(&json!({"policyValue": "Disabled"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = response.bytes().await.unwrap();
    assert!(body.starts_with(b"{\"policyId\""), "{body:?}");
    assert!(serde_json::from_slice::<Value>(&body).is_err(), "{body:?}");
    let (_, read) = server.get_json(&product("CFQ7TTC0LH3L")).await;
    assert_eq!(read["policyValue"], "Disabled");
}

#[tokio::test]
async fn latency_delays_each_matching_request() {
    let server = TestServer::start().await;
    set_faults(&server, &json!({"latency": {"ms": 300}})).await;
    let started = Instant::now();
    assert_eq!(get_status(&server).await, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(faults(&server).await["injected"]["delayed"], 1);
}

#[tokio::test]
async fn seeded_probability_repeats_the_same_faults() {
    let server = TestServer::start().await;
    let config = json!({"seed": 7, "errors": {"status": 503, "probability": 0.5}});
    let mut runs = Vec::new();
    for _ in 0..2 {
        // Setting the configuration again restarts the generator.
        set_faults(&server, &config).await;
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(get_status(&server).await);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&StatusCode::OK));
    assert!(runs[0].contains(&StatusCode::SERVICE_UNAVAILABLE));
}

#[tokio::test]
async fn delete_turns_every_knob_off() {
    let server = TestServer::start().await;
    set_faults(
        &server,
        &json!({"throttle": {"everyNth": 1}, "errors": {"next": 9}}),
    )
    .await;
    assert_eq!(get_status(&server).await, StatusCode::TOO_MANY_REQUESTS);
    let (status, cleared) = json(
        server
            .client()
            .delete(server.url("/admin/faults"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for knob in [
        "latency",
        "drop",
        "throttle",
        "errors",
        "failItems",
        "malformed",
    ] {
        assert_eq!(cleared[knob], Value::Null, "{knob}");
    }
    assert_eq!(get_status(&server).await, StatusCode::OK);
}

#[tokio::test]
async fn fault_configuration_that_makes_no_sense_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    set_faults(&server, &json!({"errors": {"next": 1}})).await;
    for config in [
        json!({"errors": {"status": 404, "next": 1}}),
        json!({"drop": {"next": 1, "probability": 0.5}}),
        json!({"throttle": {"everyNth": 0}}),
        json!({"latency": {"ms": 1, "method": "DELETE"}}),
        json!({"latencyMs": 1}),
    ] {
        let (status, body) = set_faults(&server, &config).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{config}");
        assert_eq!(body["errorCode"], "BadRequest");
    }
    let now = faults(&server).await;
    assert_eq!(
        now["errors"],
        json!({"status": 503, "next": 1, "method": null})
    );
}

#[tokio::test]
async fn token_lifetime_is_settable_at_run_time() {
    let server = TestServer::start().await;
    let (status, settings) = json(
        server
            .client()
            .put(server.url("/admin/settings"))
            .json(&json!({"tokenLifetimeSeconds": 120}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        settings,
        json!({
            "tokenLifetimeSeconds": 120,
            "deviceCodeIntervalSeconds": 5,
            "deviceCodeLifetimeSeconds": 900,
        })
    );
    let (_, token) = server
        .token_request(
            support::CONTOSO,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", support::APP_CLIENT_ID),
                ("client_secret", support::APP_CLIENT_SECRET),
                ("scope", &format!("{}/.default", support::RESOURCE_APP_ID)),
            ],
        )
        .await;
    assert_eq!(token["expires_in"], 120);
    let claims = support::claims(token["access_token"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
}

/// PUTs a policy value to `path` as the admin; returns the status and the answer.
async fn put_value(server: &TestServer, path: &str, value: &str) -> (StatusCode, Value) {
    server
        .put_json_as(ADMIN, path, &json!({"policyValue": value}))
        .await
}

fn offer_type(id: &str) -> String {
    format!("/v1.0/policies/{POLICY}/offerTypes/{id}")
}

#[tokio::test]
async fn fail_items_fail_only_the_listed_items_for_the_method_every_time() {
    let server = TestServer::start().await;
    let (status, _) = json(
        server
            .client()
            .post(server.url("/admin/tenants/contoso/products"))
            .json(&json!({"count": 600}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, set) = set_faults(
        &server,
        &json!({"failItems": {"ids": ["cfq7ttc0bulk0007", "CFQ7TTC0BULK0500", "saas"],
                              "status": 409, "method": "put"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(
        set["failItems"],
        json!({"ids": ["cfq7ttc0bulk0007", "CFQ7TTC0BULK0500", "saas"], "status": 409,
               "method": "PUT"})
    );

    // Persistent: the listed items fail every time, with the service's error body.
    for _ in 0..3 {
        let (status, body) = put_value(&server, &product("CFQ7TTC0BULK0007"), "Disabled").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(
            body,
            json!({"errorCode": "Conflict",
                   "reason": "Product CFQ7TTC0BULK0007 cannot be changed (injected fault)"})
        );
    }
    // Percent-encoded ids match too (`%30` is `0`), and offer types.
    let (status, body) = put_value(&server, &product("CFQ7TTC0BULK%30500"), "Disabled").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["reason"],
        "Product CFQ7TTC0BULK0500 cannot be changed (injected fault)"
    );
    let (status, body) = put_value(&server, &offer_type("SaaS"), "Disabled").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["reason"],
        "Offer type SaaS cannot be changed (injected fault)"
    );

    // Everything else is served: other items, and GETs of the listed ones (unchanged).
    for id in ["CFQ7TTC0BULK0008", "CFQ7TTC0BULK0070", "CFQ7TTC0LH3L"] {
        let (status, body) = put_value(&server, &product(id), "Disabled").await;
        assert_eq!(status, StatusCode::OK, "{id}: {body}");
    }
    let (status, _) = put_value(&server, &offer_type("DYNAMICSBC"), "Disabled").await;
    assert_eq!(status, StatusCode::OK);
    let (status, read) = server.get_json(&product("CFQ7TTC0BULK0007")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["policyValue"], "Enabled");
    assert_eq!(get_status(&server).await, StatusCode::OK);

    let now = faults(&server).await;
    assert_eq!(now["injected"]["failedItems"], 5);
    assert_eq!(now["failItems"]["ids"].as_array().unwrap().len(), 3);
    // Cleared with the other knobs.
    let (status, cleared) = json(
        server
            .client()
            .delete(server.url("/admin/faults"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cleared["failItems"], Value::Null);
    let (status, _) = put_value(&server, &product("CFQ7TTC0BULK0007"), "Disabled").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn fail_items_without_a_method_fail_reads_too_with_the_chosen_status() {
    let server = TestServer::start().await;
    let (_, set) = set_faults(&server, &json!({"failItems": {"ids": ["CFQ7TTC0HDB1"]}})).await;
    // The default status.
    assert_eq!(set["failItems"]["status"], 409);
    for (status, code) in [
        (400, "BadRequest"),
        (403, "Forbidden"),
        (404, "Unknown"),
        (500, "InternalServerError"),
        (502, "BadGateway"),
        (503, "ServiceUnavailable"),
        (504, "GatewayTimeout"),
    ] {
        set_faults(
            &server,
            &json!({"failItems": {"ids": ["CFQ7TTC0HDB1"], "status": status}}),
        )
        .await;
        let (got, body) = server.get_json(&product("cfq7ttc0hdb1")).await;
        assert_eq!(got.as_u16(), status);
        assert_eq!(body["errorCode"], code);
        assert_eq!(
            body["reason"],
            "Product cfq7ttc0hdb1 cannot be read (injected fault)"
        );
    }
    // Matching is on the path: the old id of the product is not listed, nor is the list route.
    let (status, _) = server.get_json(&product("CFQ7TTC0KXND")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .get_json(&format!("/v1.0/policies/{POLICY}/products"))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn fail_items_that_make_no_sense_are_refused() {
    let server = TestServer::start().await;
    for config in [
        json!({"failItems": {"ids": ["A"], "status": 418}}),
        json!({"failItems": {"ids": ["A"], "status": 200}}),
        json!({"failItems": {"ids": ["A"], "status": 401}}),
        json!({"failItems": {"ids": []}}),
        json!({"failItems": {"ids": [" "]}}),
        json!({"failItems": {"ids": ["A"], "next": 1}}),
        json!({"failItems": {"ids": ["A"], "method": "POST"}}),
        json!({"failItems": {"status": 409}}),
    ] {
        let (status, body) = set_faults(&server, &config).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{config}");
        assert_eq!(body["errorCode"], "BadRequest");
    }
    let (_, body) = set_faults(
        &server,
        &json!({"failItems": {"ids": ["A"], "status": 418}}),
    )
    .await;
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("400, 403, 404, 409, 500, 502, 503, 504"),
        "{body}"
    );
    assert_eq!(faults(&server).await["failItems"], Value::Null);
}

#[tokio::test]
async fn request_counts_say_how_often_each_item_was_tried() {
    let server = TestServer::start().await;
    let requests = |method: reqwest::Method| {
        server
            .client()
            .request(method, server.url("/admin/requests"))
            .send()
    };
    set_faults(
        &server,
        &json!({"failItems": {"ids": ["CFQ7TTC0LH3L"], "method": "PUT"}}),
    )
    .await;
    for _ in 0..3 {
        put_value(&server, &product("CFQ7TTC0LH3L"), "Disabled").await;
    }
    put_value(&server, &product("CFQ7TTC0HD33"), "Disabled").await;
    server.get_json(&product("CFQ7TTC0LH3L")).await;
    server
        .get_json(&format!("{POLICIES}?scope=OfferType"))
        .await;
    // Requests without a token count too: every request that reached the licensing API.
    server.get_raw(POLICIES).send().await.unwrap();

    let (status, counts) = json(requests(reqwest::Method::GET).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        counts,
        json!({
            "total": 7,
            "untracked": 0,
            "requests": {
                "GET /v1.0/policies": 2,
                "GET /v1.0/policies/AllowSelfServicePurchase/products/CFQ7TTC0LH3L": 1,
                "PUT /v1.0/policies/AllowSelfServicePurchase/products/CFQ7TTC0HD33": 1,
                "PUT /v1.0/policies/AllowSelfServicePurchase/products/CFQ7TTC0LH3L": 3,
            }
        })
    );
    // The fault configuration does not reset them; DELETE does.
    set_faults(&server, &json!({})).await;
    let (_, counts) = json(requests(reqwest::Method::GET).await.unwrap()).await;
    assert_eq!(counts["total"], 7);
    let (status, cleared) = json(requests(reqwest::Method::DELETE).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cleared, json!({"total": 0, "untracked": 0, "requests": {}}));
    let (_, counts) = json(requests(reqwest::Method::GET).await.unwrap()).await;
    assert_eq!(counts["total"], 0);
}
