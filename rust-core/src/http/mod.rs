//! HTTP: one tokio runtime per process, one connection pool per proxy configuration (usually
//! one in all) shared by every client, and a request helper that adds the contract's headers,
//! honours cancellation, caps what it reads and retries transient faults of idempotent requests
//! (see [`retry`] and `docs/reliability.md`).

pub mod concurrency;
mod proxy;
pub(crate) mod retry;

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderValue, AUTHORIZATION, USER_AGENT};
use tokio::sync::watch;
use url::Url;

use crate::error::{Error, ErrorKind, Result};
use crate::log::Sink;
use crate::secret::Secret;
use crate::settings::{redact_credentials, Variables};
use proxy::ProxySettings;

pub use concurrency::Limiter;
pub use retry::RetryPolicy;

/// The header carrying the id that ties a request to the service's logs.
pub const CORRELATION_HEADER: &str = "x-ms-correlation-id";

/// Response bodies larger than this are refused rather than read into memory.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// How long opening a connection (DNS, TCP and TLS) may take. One value for the whole process:
/// it belongs to the shared connection pool, not to a client. A healthy service connects in well
/// under a second, so a short limit lets a retry try again soon instead of waiting out the whole
/// request timeout; each attempt is also bounded by the client's `timeoutSeconds`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many connection pools (one per distinct proxy configuration) are kept at most. A
/// session that keeps changing its proxy variables must not grow the process without bound;
/// when one more is needed, the oldest is let go (requests still using it keep it until they
/// end).
const MAX_POOLS: usize = 8;

static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
static POOLS: Mutex<Vec<(ProxySettings, reqwest::Client)>> = Mutex::new(Vec::new());

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

/// The process-wide HTTP client for the proxy settings of `variables` (`HTTPS_PROXY`,
/// `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`; see `http/proxy.rs`): TLS 1.2 or later, certificates
/// checked against the OS trust store, connections kept alive and reused. Every client of the
/// process with the same proxy settings gets the same one, so they share its connection pool. A
/// proxy variable that cannot be used is an `InvalidArgument` naming it.
pub fn client_for(variables: &Variables) -> Result<reqwest::Client> {
    let settings = ProxySettings::of(variables);
    let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, client)) = pools.iter().find(|(known, _)| *known == settings) {
        return Ok(client.clone());
    }
    let builder = reqwest::Client::builder()
        .min_tls_version(reqwest::tls::Version::TLS_1_2)
        .https_only(false) // http is allowed, but only to loopback: checked in config.
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(90))
        .redirect(reqwest::redirect::Policy::none());
    let client = settings.apply(builder)?.build().map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!(
                "Could not create the HTTP client: {}",
                redact_credentials(&e.to_string())
            ),
        )
    })?;
    if pools.len() >= MAX_POOLS {
        pools.remove(0);
    }
    pools.push((settings, client.clone()));
    Ok(client)
}

/// How many connection pools the process holds now (one per proxy configuration in use).
#[doc(hidden)]
pub fn pool_count() -> usize {
    POOLS.lock().unwrap_or_else(PoisonError::into_inner).len()
}

/// How one client sends its requests: the HTTP client its proxy settings chose, its
/// `User-Agent`, the timeout of one attempt and its retry policy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Channel<'a> {
    /// The HTTP client (see [`client_for`]).
    pub http: &'a reqwest::Client,
    /// The `User-Agent` header.
    pub user_agent: &'a str,
    /// How long one attempt may take in all.
    pub timeout: Duration,
    /// How often and for how long a request is retried.
    pub retry: &'a RetryPolicy,
    /// The adaptive window every attempt waits for and reports to, for the requests of a bulk
    /// operation (see [`concurrency`]); `None` for a request of its own.
    pub limiter: Option<&'a Limiter>,
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
pub(crate) struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body, at most [`MAX_BODY_BYTES`].
    pub body: Vec<u8>,
    /// The correlation id sent with the request (the same on every attempt).
    pub correlation_id: String,
    /// The wait the service asked for with `Retry-After`, if it sent one that parses.
    pub retry_after: Option<Duration>,
    /// How many attempts were made, this answer's included.
    pub attempts: u32,
    /// Why retrying stopped although this answer was worth retrying (attempts used up, the
    /// budget spent, a `Retry-After` beyond the budget), as a clause that ends a sentence
    /// started by [`Response::retry_summary`]; `None` when this answer is final by itself.
    pub gave_up: Option<String>,
}

impl Response {
    /// One sentence for error messages when retries happened or were cut short: how many
    /// attempts, why they stopped, and the correlation id. `None` for a single attempt whose
    /// answer was final, so those messages stay exactly as the contract has them.
    pub fn retry_summary(&self) -> Option<String> {
        let attempts = plural(self.attempts, "attempt");
        match &self.gave_up {
            Some(why) => Some(format!(
                "Gave up after {attempts}{why} (correlation id {}).",
                self.correlation_id
            )),
            None if self.attempts > 1 => Some(format!(
                "Answered after {attempts} (correlation id {}).",
                self.correlation_id
            )),
            None => None,
        }
    }
}

/// `1 attempt`, `3 attempts`.
fn plural(n: u32, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
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

impl HttpRequest {
    /// Whether sending this request twice leaves the service as sending it once does, so a
    /// retry after a lost or failed answer is safe. True only for `GET` (a read) and `PUT` (the
    /// licensing API's PUT sets a value: setting the same value again changes nothing). Every
    /// other method is never retried, whatever it is used for.
    pub fn is_idempotent(&self) -> bool {
        self.method == reqwest::Method::GET || self.method == reqwest::Method::PUT
    }
}

/// Sends a request over `channel` with the bearer token and a new correlation id (the same on
/// every attempt), and reads the whole answer. Transient faults of idempotent requests are
/// retried as the channel's retry policy allows (see [`retry`]); each attempt may take the
/// channel's timeout at most, and all of them together the policy's budget.
pub(crate) async fn execute(
    channel: &Channel<'_>,
    request: HttpRequest,
    token: &Secret,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Response> {
    retry::run(channel, request, token, sink, cancel).await
}

/// A failed attempt: the error, and whether trying again could help.
#[derive(Debug)]
struct AttemptError {
    error: Error,
    transient: bool,
}

impl AttemptError {
    fn permanent(error: Error) -> Self {
        AttemptError {
            error,
            transient: false,
        }
    }
}

/// What every attempt of one call shares.
struct Call<'a> {
    http: &'a reqwest::Client,
    request: &'a HttpRequest,
    token: &'a Secret,
    user_agent: &'a str,
    correlation_id: &'a str,
    sink: &'a Sink,
    cancel: &'a Cancel,
}

/// One attempt: sends the request and reads the answer within `limit` (the per-request timeout,
/// or what is left of the retry budget when that is less), or stops on cancel.
async fn attempt(call: &Call<'_>, limit: Duration) -> std::result::Result<Response, AttemptError> {
    let Call {
        http,
        request,
        token,
        user_agent,
        correlation_id,
        sink,
        cancel,
    } = *call;
    let started = Instant::now();
    let work = send(http, request.clone(), token, user_agent, correlation_id);
    let outcome = tokio::select! {
        biased;
        _ = cancel.cancelled() => return Err(AttemptError::permanent(cancelled(correlation_id))),
        outcome = tokio::time::timeout(limit, work) => outcome,
    };
    let response = match outcome {
        // Transient: the service may answer in time on another attempt; the retry loop stops
        // when the budget is spent.
        Err(_) => {
            return Err(AttemptError {
                error: Error::new(
                    ErrorKind::Timeout,
                    format!("The request timed out after {}.", in_seconds(limit)),
                )
                .with_correlation_id(correlation_id),
                transient: true,
            })
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

/// Seconds for messages: `30`, `0.25`.
fn seconds(duration: Duration) -> String {
    let text = format!("{:.3}", duration.as_secs_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A duration for sentences: `1 second`, `0.25 seconds`.
fn in_seconds(duration: Duration) -> String {
    match seconds(duration).as_str() {
        "1" => "1 second".to_owned(),
        other => format!("{other} seconds"),
    }
}

async fn send(
    client: &reqwest::Client,
    request: HttpRequest,
    token: &Secret,
    user_agent: &str,
    correlation_id: &str,
) -> std::result::Result<Response, AttemptError> {
    let mut bearer =
        HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
            AttemptError::permanent(Error::new(
                ErrorKind::InvalidArgument,
                "The token holds characters a header cannot carry.",
            ))
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
    // Read now: an HTTP-date counts from when the answer arrived.
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| retry::parse_retry_after(value, SystemTime::now()));
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(AttemptError::permanent(too_large(correlation_id)));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(&e, correlation_id))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(AttemptError::permanent(too_large(correlation_id)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        body,
        correlation_id: correlation_id.to_owned(),
        retry_after,
        attempts: 1,
        gave_up: None,
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

fn transport_error(error: &reqwest::Error, correlation_id: &str) -> AttemptError {
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    // Walk the source chain: reqwest's own message ("error sending request") hides the cause.
    let mut message = String::from("Unable to connect to the remote server");
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut invalid_data = false;
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        invalid_data |= is_invalid_data(cause);
        source = cause.source();
    }
    // Refused, reset or dropped connections and connect timeouts may go away on their own. A TLS
    // failure (an untrusted certificate, no common protocol) shows as InvalidData and will not;
    // nor will a request reqwest could not build.
    let transient = !(invalid_data || error.is_builder() || error.is_redirect());
    // A proxy's URL may hold a password, and a cause may quote it.
    let message = redact_credentials(&message);
    AttemptError {
        error: Error::new(kind, message).with_correlation_id(correlation_id),
        transient,
    }
}

/// Whether `cause` is an I/O error of kind InvalidData, or wraps one. Looks inside wrapped I/O
/// errors by hand: `io::Error::source` skips the error it wraps, which is where the TLS stack puts
/// its InvalidData error (inside an `Other` one from the connector).
fn is_invalid_data(cause: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = cause.downcast_ref::<std::io::Error>();
    while let Some(io) = current {
        if io.kind() == std::io::ErrorKind::InvalidData {
            return true;
        }
        current = io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<std::io::Error>());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_data_is_found_inside_wrapped_io_errors() {
        let tls = std::io::Error::new(std::io::ErrorKind::InvalidData, "invalid peer certificate");
        let wrapped = std::io::Error::other(tls);
        assert!(is_invalid_data(&wrapped));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(!is_invalid_data(&std::io::Error::other(refused)));
    }

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
