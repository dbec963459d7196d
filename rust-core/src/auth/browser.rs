//! Interactive sign-in: the authorization code flow with PKCE (RFC 7636, S256) through the
//! system browser, answered on a loopback redirect listener (RFC 8252 section 7.3).
//!
//! The listener binds `127.0.0.1` on a free port and the redirect URI keeps the registered
//! `http://localhost/...` form with that port added: Entra ignores the port of loopback redirect
//! URIs, so one registration serves every port. The first request on the redirect path ends the
//! sign-in whatever it holds (a code, an error, or a `state` that does not match), so a stray or
//! forged request can stop a sign-in but never complete one.

use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use url::{Host, Url};

use super::signin::SignIn;
use super::tokens::{request_tokens, sign_in_failed, TokenReply, TokenSet};
use crate::error::{Error, ErrorKind, Result};
use crate::http::Cancel;
use crate::log::{Level, Sink};
use crate::settings::Variables;

/// The original module's registered redirect URI.
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost/m365/commerce";

/// How long a user has to finish signing in, unless the request says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The variable naming the program that opens sign-in pages (given the URL as its only
/// argument) instead of the system's default browser.
pub const BROWSER_VARIABLE: &str = "MSCOMMERCE_BROWSER";

/// A browser's request head larger than this is refused.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How long a connection to the listener may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Options of an interactive sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserOptions {
    /// The registered redirect URI: `http` on `localhost` or `127.0.0.1`; its port is replaced.
    pub redirect_uri: Url,
    /// The account to preselect on the sign-in page.
    pub login_hint: Option<String>,
    /// How long to wait for the user.
    pub timeout: Duration,
}

impl BrowserOptions {
    /// Validates a redirect URI: loopback `http`, no credentials, query or fragment.
    pub fn parse_redirect_uri(text: &str) -> Result<Url> {
        let invalid = |why: &str| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("The redirect URI '{text}' is not valid: {why}"),
            )
            .with_target(Some(text))
        };
        let url = Url::parse(text.trim()).map_err(|e| invalid(&e.to_string()))?;
        let loopback = match url.host() {
            Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            _ => false,
        };
        if url.scheme() != "http" || !loopback {
            return Err(invalid(
                "interactive sign-in redirects to this computer only: use http://localhost/<path>.",
            ));
        }
        if !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(invalid(
                "it must not hold credentials, a query or a fragment.",
            ));
        }
        Ok(url)
    }
}

/// The PKCE pair and the `state` of one sign-in.
struct Proof {
    verifier: String,
    challenge: String,
    state: String,
}

impl Proof {
    fn new() -> Result<Self> {
        let verifier = random_text::<32>()?;
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        Ok(Proof {
            verifier,
            challenge,
            state: random_text::<16>()?,
        })
    }
}

/// `N` random bytes from the OS, as base64url without padding.
fn random_text<const N: usize>() -> Result<String> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("The OS gave no random bytes: {e}"),
        )
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Signs in through the browser (`$MSCOMMERCE_BROWSER` of `variables`, else the system's):
/// opens the authority's page, waits for the redirect with the code on the loopback listener,
/// and redeems the code for tokens.
pub async fn sign_in(
    variables: &Variables,
    signin: &SignIn,
    options: &BrowserOptions,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<TokenSet> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| {
        sign_in_failed(&format!(
            "could not listen on 127.0.0.1 for the browser's answer ({e})"
        ))
    })?;
    let port = listener
        .local_addr()
        .map_err(|e| sign_in_failed(&format!("the loopback listener has no address ({e})")))?
        .port();
    let mut redirect_uri = options.redirect_uri.clone();
    redirect_uri
        .set_port(Some(port))
        .map_err(|()| sign_in_failed("the redirect URI cannot take a port"))?;
    let proof = Proof::new()?;
    let authorize = authorize_url(signin, options, &redirect_uri, &proof)?;

    sink.verbose(&format!(
        "interactive sign-in: waiting on {redirect_uri} for up to {} s",
        options.timeout.as_secs()
    ));
    sink.verbose(&format!("sign-in page: {authorize}"));
    if let Err(why) = open_browser(variables.get(BROWSER_VARIABLE), authorize.as_str()) {
        sink.log(
            Level::Warning,
            &format!(
                "Could not open a browser ({why}). To sign in, open this page in a browser on \
                 this computer: {authorize} (or use Connect-MSCommerce -DeviceCode)."
            ),
        );
    }

    let answer = tokio::select! {
        biased;
        _ = cancel.cancelled() => {
            return Err(Error::new(ErrorKind::Cancelled, "The sign-in was cancelled."))
        }
        _ = tokio::time::sleep(options.timeout) => {
            return Err(sign_in_failed(&format!(
                "no sign-in was completed in the browser within {} seconds",
                options.timeout.as_secs()
            )))
        }
        answer = wait_for_redirect(listener, redirect_uri.path()) => answer?,
    };
    let Redirect { query, stream } = answer;
    let outcome = redeem(variables, signin, &redirect_uri, &proof, &query, cancel).await;
    let page = match &outcome {
        Ok(_) => result_page(
            "Signed in",
            "You are signed in to MSCommerce. You can close this window and return to PowerShell.",
        ),
        Err(error) => result_page("Sign-in failed", error.message()),
    };
    respond(stream, if outcome.is_ok() { 200 } else { 400 }, &page).await;
    outcome
}

fn authorize_url(
    signin: &SignIn,
    options: &BrowserOptions,
    redirect_uri: &Url,
    proof: &Proof,
) -> Result<Url> {
    let mut url = signin.endpoint("authorize")?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("client_id", &signin.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("response_mode", "query")
            .append_pair("scope", &signin.scope())
            .append_pair("state", &proof.state)
            .append_pair("code_challenge", &proof.challenge)
            .append_pair("code_challenge_method", "S256");
        match &options.login_hint {
            Some(hint) => query.append_pair("login_hint", hint),
            None => query.append_pair("prompt", "select_account"),
        };
    }
    Ok(url)
}

/// Checks the browser's answer and redeems its code.
async fn redeem(
    variables: &Variables,
    signin: &SignIn,
    redirect_uri: &Url,
    proof: &Proof,
    query: &[(String, String)],
    cancel: &Cancel,
) -> Result<TokenSet> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if get("state") != Some(proof.state.as_str()) {
        return Err(sign_in_failed(
            "the browser's answer does not belong to this sign-in (its state does not match)",
        ));
    }
    if let Some(error) = get("error") {
        let description = get("error_description").unwrap_or_default();
        return Err(match error {
            "access_denied" => sign_in_failed(&format!("the sign-in was declined ({description})")),
            _ => sign_in_failed(&format!("{error}: {description}")),
        });
    }
    let code = get("code")
        .filter(|code| !code.is_empty())
        .ok_or_else(|| sign_in_failed("the browser's answer holds no authorization code"))?;
    let scope = signin.scope();
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", signin.client_id.as_str()),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", proof.verifier.as_str()),
        ("scope", scope.as_str()),
    ];
    match request_tokens(variables, signin, &form, cancel).await? {
        TokenReply::Tokens(tokens) => Ok(tokens),
        TokenReply::Refused { error, description } => {
            Err(sign_in_failed(&format!("{error}: {description}")))
        }
    }
}

/// The request on the redirect path: its query and the connection to answer on.
struct Redirect {
    query: Vec<(String, String)>,
    stream: TcpStream,
}

/// Accepts connections until one asks for the redirect path; other paths (a favicon) get 404.
/// Connections are read concurrently: browsers open idle speculative connections.
async fn wait_for_redirect(listener: TcpListener, path: &str) -> Result<Redirect> {
    let (sender, mut receiver) = mpsc::channel::<(String, TcpStream)>(8);
    // Dropping the set when this returns aborts the readers still waiting.
    let mut readers = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted.map_err(|e| {
                    sign_in_failed(&format!("the loopback listener failed ({e})"))
                })?;
                let sender = sender.clone();
                readers.spawn(async move {
                    if let Some(head) = read_request_target(stream).await {
                        let _ = sender.send(head).await;
                    }
                });
            }
            Some((target, stream)) = receiver.recv() => {
                let Ok(url) = Url::parse("http://localhost").and_then(|base| base.join(&target)) else {
                    respond(stream, 400, &result_page("Bad request", "")).await;
                    continue;
                };
                if url.path() != path {
                    respond(stream, 404, &result_page("Not found", "")).await;
                    continue;
                }
                let query = url.query_pairs().into_owned().collect();
                return Ok(Redirect { query, stream });
            }
        }
    }
}

/// Reads a request head and returns its target (`/path?query`) with the stream, or `None` for
/// anything that is not a `GET` head of reasonable size sent in time.
async fn read_request_target(mut stream: TcpStream) -> Option<(String, TcpStream)> {
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0u8; 2048];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buffer).await.ok()?;
            if n == 0 || head.len() + n > MAX_HEAD_BYTES {
                return None;
            }
            head.extend_from_slice(&buffer[..n]);
        }
        Some(())
    };
    tokio::time::timeout(HEAD_TIMEOUT, read).await.ok()??;
    let line = head.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    (method == "GET" && target.starts_with('/')).then(|| (target.to_owned(), stream))
}

async fn respond(mut stream: TcpStream, status: u16, html: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{html}",
        html.len()
    );
    // The browser may have gone: the sign-in's outcome does not depend on this page.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn result_page(title: &str, text: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} - \
         MSCommerce</title></head>\n<body style=\"font-family: sans-serif; margin: 3rem\">\
         <h1>{title}</h1>\n<p>{}</p></body></html>\n",
        escape(text)
    )
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// Opens `url` with `program` (`$MSCOMMERCE_BROWSER`), else the system's default browser. Does
/// not wait for the browser; a thread reaps the launcher so it leaves no zombie.
fn open_browser(program: Option<&str>, url: &str) -> std::io::Result<()> {
    use std::process::{Command, Stdio};
    let mut command = match program.filter(|program| !program.trim().is_empty()) {
        Some(program) => {
            let mut command = Command::new(program);
            command.arg(url);
            command
        }
        None if cfg!(windows) => {
            // `start` would need cmd.exe quoting of the URL's `&`; rundll32 takes it as is.
            let mut command = Command::new("rundll32");
            command.args(["url.dll,FileProtocolHandler", url]);
            command
        }
        None if cfg!(target_os = "macos") => {
            let mut command = Command::new("open");
            command.arg(url);
            command
        }
        None => {
            let mut command = Command::new("xdg-open");
            command.arg(url);
            command
        }
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::Builder::new()
        .name("mscommerce-browser".into())
        .spawn(move || {
            let _ = child.wait();
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_the_s256_of_the_verifier() {
        let proof = Proof::new().unwrap();
        assert_eq!(proof.verifier.len(), 43);
        assert_eq!(proof.challenge.len(), 43);
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(proof.verifier.as_bytes()));
        assert_eq!(proof.challenge, expected);
        assert_ne!(Proof::new().unwrap().state, proof.state);
    }

    #[test]
    fn redirect_uri_must_be_loopback_http() {
        assert!(BrowserOptions::parse_redirect_uri("http://localhost/m365/commerce").is_ok());
        assert!(BrowserOptions::parse_redirect_uri("http://127.0.0.1/cb").is_ok());
        for bad in [
            "https://localhost/cb",
            "http://example.com/cb",
            "http://localhost/cb?x=1",
            "http://u:p@localhost/cb",
            "urn:ietf:wg:oauth:2.0:oob",
        ] {
            assert!(BrowserOptions::parse_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn authorize_url_carries_pkce_state_and_the_hint() {
        let signin = SignIn::new(
            Url::parse(super::super::signin::DEFAULT_AUTHORITY_URI).unwrap(),
            &super::super::signin::Identity::from_raw(Default::default()).unwrap(),
        );
        let options = BrowserOptions {
            redirect_uri: Url::parse(DEFAULT_REDIRECT_URI).unwrap(),
            login_hint: Some("admin@contoso.onmicrosoft.com".into()),
            timeout: DEFAULT_TIMEOUT,
        };
        let proof = Proof::new().unwrap();
        let redirect = Url::parse("http://localhost:5001/m365/commerce").unwrap();
        let url = authorize_url(&signin, &options, &redirect, &proof).unwrap();
        assert!(url
            .as_str()
            .starts_with("https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?"));
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs["code_challenge"], proof.challenge);
        assert_eq!(pairs["code_challenge_method"], "S256");
        assert_eq!(pairs["state"], proof.state);
        assert_eq!(pairs["redirect_uri"], "http://localhost:5001/m365/commerce");
        assert_eq!(pairs["login_hint"], "admin@contoso.onmicrosoft.com");
        assert!(!pairs.contains_key("code_verifier"));
    }

    #[test]
    fn result_page_escapes_the_authority_text() {
        let page = result_page("Sign-in failed", "<script>x</script>");
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>"));
    }
}
