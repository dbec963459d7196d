//! The proxy from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`) carries
//! the module's requests. Its own test binary: the process-wide HTTP client reads the variables
//! once, when it is created, so no other test may create it first.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use mscommerce_core::client::Client;
use mscommerce_core::config::ClientConfig;
use mscommerce_core::policy::Request;
use mscommerce_core::Cancel;

#[test]
fn requests_go_through_the_proxy_named_by_the_environment() {
    // A proxy that answers every request itself and reports the request line it got.
    let proxy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = proxy.local_addr().expect("address");
    let (seen, request_lines) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in proxy.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = seen.send(line.trim_end().to_owned());
            // Drain the headers, then answer an empty policy list.
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let body = r#"{"items":[]}"#;
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    // SAFETY (of the test): this binary has one test, and nothing else reads the environment
    // while it is being set.
    unsafe {
        std::env::set_var("HTTP_PROXY", format!("http://{address}"));
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    // Nothing listens on this loopback address: only the proxy can answer.
    let config = ClientConfig::from_json(r#"{"serviceUri":"http://127.0.0.2:9","maxAttempts":1}"#)
        .expect("config");
    let client = Client::new(config).expect("client");
    let request = Request::from_json(r#"{"op":"getPolicies","token":"t"}"#).expect("request");

    let policies = client
        .invoke(&request, &Cancel::new())
        .expect("answered by the proxy");

    assert_eq!(policies, serde_json::json!([]));
    let line = request_lines.recv().expect("the proxy saw a request");
    assert_eq!(line, "GET http://127.0.0.2:9/v1.0/policies HTTP/1.1");
}
