//! HTTP: one tokio runtime and one connection pool per process, shared by every client, and a
//! request helper that adds the contract's headers, honours cancellation and caps what it reads.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, AUTHORIZATION, USER_AGENT};
use tokio::sync::watch;
use url::Url;

use crate::auth::Secret;
use crate::error::{Error, ErrorKind, Result};
use crate::log::Sink;

/// The header carrying the id that ties a request to the service's logs.
pub const CORRELATION_HEADER: &str = "x-ms-correlation-id";

/// Response bodies larger than this are refused rather than read into memory.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
static HTTP: OnceLock<std::result::Result<reqwest::Client, String>> = OnceLock::new();

/// The process-wide tokio runtime, started on first use.
pub fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("mscommerce-core")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("Could not start the runtime: {e}"),
            )
        })
}

/// The process-wide HTTP client: TLS 1.2 or later, certificates checked against the OS trust
/// store, connections kept alive and reused.
pub fn http_client() -> Result<&'static reqwest::Client> {
    HTTP.get_or_init(|| {
        reqwest::Client::builder()
            .min_tls_version(reqwest::tls::Version::TLS_1_2)
            .https_only(false) // http is allowed, but only to loopback: checked in config.
            .connect_timeout(Duration::from_secs(30))
            .pool_idle_timeout(Duration::from_secs(90))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("Could not create the HTTP client: {e}"),
        )
    })
}

/// A cancellation signal shared between the caller and a running operation.
#[derive(Debug)]
pub struct Cancel {
    sender: watch::Sender<bool>,
}

impl Default for Cancel {
    fn default() -> Self {
        Self::new()
    }
}

impl Cancel {
    /// A signal that has not fired.
    pub fn new() -> Self {
        Cancel {
            sender: watch::channel(false).0,
        }
    }

    /// Fires the signal; every operation waiting on it stops. Idempotent.
    pub fn cancel(&self) {
        self.sender.send_replace(true);
    }

    /// True once the signal has fired.
    pub fn is_cancelled(&self) -> bool {
        *self.sender.borrow()
    }

    /// Completes when the signal fires.
    pub async fn cancelled(&self) {
        let mut receiver = self.sender.subscribe();
        // The sender lives in self, so wait_for can only end by seeing `true`.
        let _ = receiver.wait_for(|fired| *fired).await;
    }
}

/// What the service answered.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body, at most [`MAX_BODY_BYTES`].
    pub body: Vec<u8>,
    /// The correlation id sent with the request.
    pub correlation_id: String,
}

/// A request to send: the method, the URL and, for writes, a JSON body.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// `GET` or `PUT`.
    pub method: reqwest::Method,
    /// The full URL.
    pub url: Url,
    /// The JSON body of a write.
    pub body: Option<String>,
}

/// Sends a request with the bearer token and a new correlation id, and reads the whole answer.
pub async fn execute(
    request: HttpRequest,
    token: &Secret,
    user_agent: &str,
    timeout: Duration,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Response> {
    let correlation_id = uuid::Uuid::new_v4().to_string();
    if cancel.is_cancelled() {
        return Err(cancelled(&correlation_id));
    }
    let started = Instant::now();
    sink.verbose(&format!(
        "{} {} (correlation id {correlation_id})",
        request.method, request.url
    ));
    let work = send(request, token, user_agent, &correlation_id);
    let outcome = tokio::select! {
        biased;
        _ = cancel.cancelled() => return Err(cancelled(&correlation_id)),
        outcome = tokio::time::timeout(timeout, work) => outcome,
    };
    let response = match outcome {
        Err(_) => {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "The request timed out after {} seconds.",
                    timeout.as_secs_f64()
                ),
            )
            .with_correlation_id(&correlation_id))
        }
        Ok(result) => result?,
    };
    sink.verbose(&format!(
        "HTTP {} in {} ms (correlation id {correlation_id})",
        response.status,
        started.elapsed().as_millis()
    ));
    Ok(response)
}

async fn send(
    request: HttpRequest,
    token: &Secret,
    user_agent: &str,
    correlation_id: &str,
) -> Result<Response> {
    let client = http_client()?;
    let mut bearer =
        HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                "The token holds characters a header cannot carry.",
            )
        })?;
    // Keeps the token out of any Debug output of the request.
    bearer.set_sensitive(true);
    let mut builder = client
        .request(request.method, request.url)
        .header(AUTHORIZATION, bearer)
        .header(USER_AGENT, user_agent)
        .header(CORRELATION_HEADER, correlation_id)
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(body) = request.body {
        builder = builder
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
    }
    let mut response = builder
        .send()
        .await
        .map_err(|e| transport_error(&e, correlation_id))?;
    let status = response.status().as_u16();
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(too_large(correlation_id));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(&e, correlation_id))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large(correlation_id));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        body,
        correlation_id: correlation_id.to_owned(),
    })
}

fn cancelled(correlation_id: &str) -> Error {
    Error::new(ErrorKind::Cancelled, "The operation was cancelled.")
        .with_correlation_id(correlation_id)
}

fn too_large(correlation_id: &str) -> Error {
    Error::new(
        ErrorKind::InvalidResponse,
        format!("The service's answer is larger than {MAX_BODY_BYTES} bytes."),
    )
    .with_correlation_id(correlation_id)
}

fn transport_error(error: &reqwest::Error, correlation_id: &str) -> Error {
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    // Walk the source chain: reqwest's own message ("error sending request") hides the cause.
    let mut message = String::from("Unable to connect to the remote server");
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::new(kind, message).with_correlation_id(correlation_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_fires_once_and_stays_fired() {
        let cancel = Cancel::new();
        assert!(!cancel.is_cancelled());
        cancel.cancel();
        cancel.cancel();
        assert!(cancel.is_cancelled());
    }

    #[test]
    fn cancelled_future_completes_after_cancel_from_another_thread() {
        let cancel = std::sync::Arc::new(Cancel::new());
        let other = cancel.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            other.cancel();
        });
        runtime().unwrap().block_on(async {
            tokio::time::timeout(Duration::from_secs(5), cancel.cancelled())
                .await
                .unwrap();
        });
        thread.join().unwrap();
    }
}
