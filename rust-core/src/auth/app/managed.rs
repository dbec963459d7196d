//! Managed identity: a token from an endpoint the Azure host serves to the code it runs, with no
//! credential in the script. The endpoint is chosen from the variables as Azure.Identity's
//! `ManagedIdentityCredential` (and MSAL) choose it:
//!
//! 1. `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`: App Service, Functions, Automation
//!    (API `2019-08-01`). With `IDENTITY_SERVER_THUMBPRINT` too it is Service Fabric, which is
//!    not supported (its endpoint's certificate is pinned by thumbprint).
//! 2. `MSI_ENDPOINT` and `MSI_SECRET`: App Service's older API and Azure Machine Learning
//!    (`2017-09-01`); `MSI_ENDPOINT` alone: Cloud Shell.
//! 3. `IDENTITY_ENDPOINT` and `IMDS_ENDPOINT`: Azure Arc (`2020-06-01`, with its key file
//!    challenge).
//! 4. Otherwise the instance metadata service (`2018-02-01`) at `http://169.254.169.254`, or at
//!    `AZURE_POD_IDENTITY_AUTHORITY_HOST`.
//!
//! These endpoints are on the host itself, so they are never reached through a proxy, and plain
//! `http` is allowed to loopback and to the metadata service's link-local address only.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use serde::Deserialize;
use url::Url;

use super::endpoint::{self, PlainHttp};
use super::token::AppToken;
use crate::auth::tokens::sign_in_failed;
use crate::error::{Error, ErrorKind, Result};
use crate::http::Cancel;
use crate::secret::Secret;
use crate::settings::{redact_credentials, Variables};

/// App Service's endpoint, and with `IMDS_ENDPOINT` Azure Arc's.
pub const IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";
/// App Service's secret header value.
pub const IDENTITY_HEADER: &str = "IDENTITY_HEADER";
/// Service Fabric's endpoint certificate thumbprint (Service Fabric is not supported).
pub const IDENTITY_SERVER_THUMBPRINT: &str = "IDENTITY_SERVER_THUMBPRINT";
/// Set by the Azure Arc agent, with `IDENTITY_ENDPOINT`.
pub const IMDS_ENDPOINT: &str = "IMDS_ENDPOINT";
/// App Service's older endpoint, Machine Learning's, or Cloud Shell's.
pub const MSI_ENDPOINT: &str = "MSI_ENDPOINT";
/// The secret of App Service's older endpoint and Machine Learning's.
pub const MSI_SECRET: &str = "MSI_SECRET";
/// Replaces the metadata service's host (AAD Pod Identity's node agent, or a test).
pub const POD_IDENTITY_AUTHORITY_HOST: &str = "AZURE_POD_IDENTITY_AUTHORITY_HOST";
/// Windows' `%ProgramData%`, under which the Arc agent keeps its key files.
pub const PROGRAM_DATA: &str = "ProgramData";
/// The module's own: the folder Arc key files must be in, replacing the platform's (for tests
/// and unusual agent installs; the file must still be a `.key` of at most 4096 bytes).
pub const ARC_KEY_DIR: &str = "MSCOMMERCE_ARC_KEY_DIR";

/// The metadata service's host when nothing replaces it.
pub const DEFAULT_IMDS_HOST: &str = "http://169.254.169.254";

/// The metadata service's token path.
const IMDS_TOKEN_PATH: &str = "/metadata/identity/oauth2/token";

/// How long connecting to the metadata service may take. It answers on the host in
/// milliseconds; where there is none the address leads nowhere and a connection would hang
/// until the operating system gives up, so "no managed identity here" must fail fast.
pub const IMDS_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long connecting to the other (loopback) endpoints may take.
const LOCAL_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one request to a managed identity endpoint may take in all.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Attempts at the metadata service in all, which answers 404, 410, 429 and 5xx while it
/// starts, updates or throttles, and asks callers to try again.
const IMDS_ATTEMPTS: u32 = 3;

/// The wait before the second attempt at the metadata service; it doubles after each.
const IMDS_RETRY_DELAY: Duration = Duration::from_millis(500);

/// An Arc key file larger than this is refused, as Azure.Identity refuses it.
const MAX_ARC_KEY_BYTES: u64 = 4096;

/// Answers larger than this are refused: a token answer is a few kilobytes.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Where a managed identity's token comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum ManagedIdentitySource {
    /// App Service, Functions, Automation: `IDENTITY_ENDPOINT` with the `X-IDENTITY-HEADER`.
    AppService {
        /// The endpoint.
        endpoint: Url,
        /// `IDENTITY_HEADER`.
        header: Secret,
    },
    /// App Service's older API, or Machine Learning: `MSI_ENDPOINT` with the `secret` header.
    AppServiceLegacy {
        /// The endpoint.
        endpoint: Url,
        /// `MSI_SECRET`.
        secret: Secret,
    },
    /// Cloud Shell: `MSI_ENDPOINT`.
    CloudShell {
        /// The endpoint.
        endpoint: Url,
    },
    /// Azure Arc: `IDENTITY_ENDPOINT`, answered after the key file challenge.
    AzureArc {
        /// The endpoint.
        endpoint: Url,
        /// The folder the challenge's key file must be in.
        key_dir: PathBuf,
    },
    /// The instance metadata service.
    Imds {
        /// Its token endpoint.
        endpoint: Url,
    },
}

impl fmt::Debug for ManagedIdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct(self.name());
        out.field("endpoint", &self.endpoint().as_str());
        if let ManagedIdentitySource::AzureArc { key_dir, .. } = self {
            out.field("key_dir", key_dir);
        }
        out.finish_non_exhaustive()
    }
}

impl ManagedIdentitySource {
    /// The source the variables describe (see the module's documentation). A variable that
    /// holds no usable URL is an error naming it.
    pub fn from_variables(variables: &Variables) -> Result<Self> {
        let url = |name: &str, plain: PlainHttp| -> Result<Option<Url>> {
            variables
                .get(name)
                .map(|text| endpoint::parse(text, &format!("{name} value"), plain, true))
                .transpose()
        };
        let secret = |name: &str| variables.get(name).and_then(Secret::new);
        let identity_endpoint = variables.get(IDENTITY_ENDPOINT).is_some();
        if identity_endpoint {
            if let Some(header) = secret(IDENTITY_HEADER) {
                if variables.get(IDENTITY_SERVER_THUMBPRINT).is_some() {
                    return Err(sign_in_failed(
                        "Service Fabric's managed identity is not supported \
                         (IDENTITY_SERVER_THUMBPRINT is set)",
                    ));
                }
                let endpoint = url(IDENTITY_ENDPOINT, PlainHttp::Loopback)?.ok_or_else(|| {
                    Error::new(ErrorKind::Internal, "IDENTITY_ENDPOINT vanished.")
                })?;
                return Ok(ManagedIdentitySource::AppService { endpoint, header });
            }
        }
        if let Some(endpoint) = url(MSI_ENDPOINT, PlainHttp::Loopback)? {
            return Ok(match secret(MSI_SECRET) {
                Some(secret) => ManagedIdentitySource::AppServiceLegacy { endpoint, secret },
                None => ManagedIdentitySource::CloudShell { endpoint },
            });
        }
        if identity_endpoint && variables.get(IMDS_ENDPOINT).is_some() {
            let endpoint = url(IDENTITY_ENDPOINT, PlainHttp::Loopback)?
                .ok_or_else(|| Error::new(ErrorKind::Internal, "IDENTITY_ENDPOINT vanished."))?;
            return Ok(ManagedIdentitySource::AzureArc {
                endpoint,
                key_dir: arc_key_dir(variables)?,
            });
        }
        let host = variables
            .get(POD_IDENTITY_AUTHORITY_HOST)
            .unwrap_or(DEFAULT_IMDS_HOST);
        let host = endpoint::parse(
            host,
            &format!("{POD_IDENTITY_AUTHORITY_HOST} value"),
            PlainHttp::LoopbackOrImds,
            false,
        )?;
        let mut endpoint = endpoint::without_trailing_slash(host);
        let path = format!("{}{IMDS_TOKEN_PATH}", endpoint.path().trim_end_matches('/'));
        endpoint.set_path(&path);
        Ok(ManagedIdentitySource::Imds { endpoint })
    }

    /// `AppService`, `AppServiceLegacy`, `CloudShell`, `AzureArc` or `Imds`, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            ManagedIdentitySource::AppService { .. } => "AppService",
            ManagedIdentitySource::AppServiceLegacy { .. } => "AppServiceLegacy",
            ManagedIdentitySource::CloudShell { .. } => "CloudShell",
            ManagedIdentitySource::AzureArc { .. } => "AzureArc",
            ManagedIdentitySource::Imds { .. } => "Imds",
        }
    }

    /// The endpoint tokens are asked of.
    pub fn endpoint(&self) -> &Url {
        match self {
            ManagedIdentitySource::AppService { endpoint, .. }
            | ManagedIdentitySource::AppServiceLegacy { endpoint, .. }
            | ManagedIdentitySource::CloudShell { endpoint }
            | ManagedIdentitySource::AzureArc { endpoint, .. }
            | ManagedIdentitySource::Imds { endpoint } => endpoint,
        }
    }

    /// Whether a user-assigned identity can be chosen by client id here (Cloud Shell and Arc
    /// have only the system-assigned one).
    fn takes_client_id(&self) -> bool {
        !matches!(
            self,
            ManagedIdentitySource::CloudShell { .. } | ManagedIdentitySource::AzureArc { .. }
        )
    }
}

/// The folder Arc's key files must be in: [`ARC_KEY_DIR`] when set, else the agent's own,
/// `%ProgramData%\AzureConnectedMachineAgent\Tokens` on Windows and
/// `/var/opt/azcmagent/tokens` on Linux. Arc runs nowhere else.
fn arc_key_dir(variables: &Variables) -> Result<PathBuf> {
    if let Some(dir) = variables.get(ARC_KEY_DIR) {
        return Ok(PathBuf::from(dir));
    }
    if cfg!(windows) {
        let program_data = variables.get(PROGRAM_DATA).ok_or_else(|| {
            sign_in_failed("Azure Arc's key folder is under %ProgramData%, which is not set")
        })?;
        Ok(Path::new(program_data)
            .join("AzureConnectedMachineAgent")
            .join("Tokens"))
    } else if cfg!(target_os = "linux") {
        Ok(PathBuf::from("/var/opt/azcmagent/tokens"))
    } else {
        Err(sign_in_failed(
            "Azure Arc's managed identity is available on Windows and Linux only",
        ))
    }
}

/// A managed identity: the system-assigned one, or a user-assigned one by its client id.
#[derive(Debug, Clone)]
pub struct ManagedIdentity {
    source: ManagedIdentitySource,
    client_id: Option<String>,
    resource: String,
}

impl ManagedIdentity {
    /// The identity of `source`; `client_id` chooses a user-assigned identity where the source
    /// allows it. `resource` is what the token is for (the licensing resource).
    pub fn new(
        source: ManagedIdentitySource,
        client_id: Option<&str>,
        resource: &str,
    ) -> Result<Self> {
        let client_id = client_id.map(str::trim).filter(|id| !id.is_empty());
        if let Some(id) = client_id {
            if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "The managed identity's client id is not valid.",
                ));
            }
            if !source.takes_client_id() {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "{} offers only the system-assigned managed identity; a client id \
                         cannot be chosen there.",
                        source.name()
                    ),
                ));
            }
        }
        let resource = resource.trim().trim_end_matches('/');
        if resource.is_empty()
            || resource
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "The resource is not valid.",
            ));
        }
        Ok(ManagedIdentity {
            source,
            client_id: client_id.map(str::to_owned),
            resource: resource.to_owned(),
        })
    }

    /// Where its tokens come from.
    pub fn source(&self) -> &ManagedIdentitySource {
        &self.source
    }

    /// The user-assigned identity's client id, if one was chosen.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// Asks the source for a token.
    pub async fn acquire(&self, cancel: &Cancel) -> Result<AppToken> {
        let connect_timeout = match self.source {
            ManagedIdentitySource::Imds { .. } => IMDS_CONNECT_TIMEOUT,
            _ => LOCAL_CONNECT_TIMEOUT,
        };
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("Could not create the HTTP client: {e}"),
                )
            })?;
        let work = self.exchange(&http, cancel);
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(Error::new(ErrorKind::Cancelled, "The sign-in was cancelled.")),
            outcome = work => outcome,
        }
    }

    async fn exchange(&self, http: &reqwest::Client, cancel: &Cancel) -> Result<AppToken> {
        let answer = match &self.source {
            ManagedIdentitySource::AppService { header, .. } => {
                let request = self.get("2019-08-01", "client_id", http)?;
                self.send(request.header(
                    HeaderName::from_static("x-identity-header"),
                    sensitive(header)?,
                ))
                .await?
            }
            ManagedIdentitySource::AppServiceLegacy { secret, .. } => {
                let request = self.get("2017-09-01", "clientid", http)?;
                self.send(request.header(HeaderName::from_static("secret"), sensitive(secret)?))
                    .await?
            }
            ManagedIdentitySource::CloudShell { endpoint } => {
                let body = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("resource", &self.resource)
                    .finish();
                let request = http
                    .post(endpoint.clone())
                    .header("Metadata", "true")
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(body);
                self.send(request).await?
            }
            ManagedIdentitySource::AzureArc { key_dir, .. } => self.arc(http, key_dir).await?,
            ManagedIdentitySource::Imds { .. } => self.imds(http, cancel).await?,
        };
        self.token_of(answer)
    }

    /// A GET of the endpoint with the API version, the resource and, for a user-assigned
    /// identity, its client id under `client_id_name`.
    fn get(
        &self,
        api_version: &str,
        client_id_name: &str,
        http: &reqwest::Client,
    ) -> Result<reqwest::RequestBuilder> {
        let mut url = self.source.endpoint().clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("api-version", api_version)
                .append_pair("resource", &self.resource);
            if let Some(id) = &self.client_id {
                query.append_pair(client_id_name, id);
            }
        }
        Ok(http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json"))
    }

    /// Arc: the first request is answered 401 with a challenge naming a key file only a local
    /// administrator (or the agent's group) can read; its content, sent back, proves the caller
    /// runs on the machine.
    async fn arc(&self, http: &reqwest::Client, key_dir: &Path) -> Result<Answer> {
        let first = self
            .send(
                self.get("2020-06-01", "client_id", http)?
                    .header("Metadata", "true"),
            )
            .await?;
        if first.status != 401 {
            return Ok(first);
        }
        let path = first
            .challenge
            .as_deref()
            .and_then(|value| {
                let at = value.find("realm=")?;
                Some(
                    value[at + "realm=".len()..]
                        .trim()
                        .trim_matches('"')
                        .to_owned(),
                )
            })
            .filter(|path| !path.is_empty())
            .ok_or_else(|| {
                sign_in_failed(
                    "Azure Arc's endpoint answered 401 without naming its key file \
                     (WWW-Authenticate: Basic realm=<path>)",
                )
            })?;
        let key = read_arc_key(Path::new(&path), key_dir)?;
        let mut authorization =
            HeaderValue::from_str(&format!("Basic {}", key.expose())).map_err(|_| {
                sign_in_failed(&format!(
                    "Azure Arc's key file '{path}' holds characters a header cannot carry"
                ))
            })?;
        authorization.set_sensitive(true);
        self.send(
            self.get("2020-06-01", "client_id", http)?
                .header("Metadata", "true")
                .header(AUTHORIZATION, authorization),
        )
        .await
    }

    /// The metadata service, tried again on the answers it asks callers to retry. A failure to
    /// connect is not retried: it means there is no metadata service here.
    async fn imds(&self, http: &reqwest::Client, cancel: &Cancel) -> Result<Answer> {
        let mut delay = IMDS_RETRY_DELAY;
        let mut attempt = 1;
        loop {
            let answer = self
                .send(
                    self.get("2018-02-01", "client_id", http)?
                        .header("Metadata", "true"),
                )
                .await?;
            let retry = matches!(answer.status, 404 | 410 | 429 | 500..=599);
            if !retry || attempt >= IMDS_ATTEMPTS {
                return Ok(answer);
            }
            attempt += 1;
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(Error::new(ErrorKind::Cancelled, "The sign-in was cancelled.")),
                _ = tokio::time::sleep(delay) => {}
            }
            delay *= 2;
        }
    }

    /// Sends one request and reads the answer, within [`REQUEST_TIMEOUT`].
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer> {
        let shown = {
            let mut url = self.source.endpoint().clone();
            url.set_query(None);
            redact_credentials(url.as_str())
        };
        let work = async {
            let mut response = request.send().await.map_err(|e| {
                sign_in_failed(&format!(
                    "no managed identity endpoint answered at {shown} ({})",
                    redact_credentials(&cause_of(&e))
                ))
            })?;
            let status = response.status().as_u16();
            let challenge = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| {
                sign_in_failed(&format!(
                    "the managed identity endpoint at {shown} cut its answer short ({})",
                    redact_credentials(&cause_of(&e))
                ))
            })? {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(sign_in_failed(&format!(
                        "the managed identity endpoint at {shown} answered more than \
                         {MAX_ANSWER_BYTES} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Answer {
                status,
                challenge,
                body,
            })
        };
        tokio::time::timeout(REQUEST_TIMEOUT, work)
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "Unable to establish connection: the managed identity endpoint at \
                         {shown} did not answer in time."
                    ),
                )
            })?
    }

    /// The token of a successful answer, or the endpoint's own explanation of a failure.
    fn token_of(&self, answer: Answer) -> Result<AppToken> {
        let source = self.source.name();
        let reply: Reply = serde_json::from_slice(&answer.body).unwrap_or_default();
        if !(200..300).contains(&answer.status) {
            let why = reply
                .error_description
                .or(reply.message)
                .or(reply.error)
                .unwrap_or_else(|| {
                    let text = String::from_utf8_lossy(&answer.body);
                    text.chars().take(300).collect()
                });
            let why = why.trim();
            let why = if why.is_empty() {
                "no explanation"
            } else {
                why
            };
            return Err(sign_in_failed(&format!(
                "the managed identity endpoint ({source}) answered HTTP {}: {why}",
                answer.status
            ))
            .with_response(answer.status, None));
        }
        let access = reply.access_token.and_then(Secret::new).ok_or_else(|| {
            sign_in_failed(&format!(
                "the managed identity endpoint's answer ({source}) holds no access token"
            ))
        })?;
        let expires_at = reply
            .expires_on
            .as_ref()
            .and_then(seconds)
            .map(|on| UNIX_EPOCH + Duration::from_secs(on))
            .or_else(|| {
                reply
                    .expires_in
                    .as_ref()
                    .and_then(seconds)
                    .map(|within| SystemTime::now() + Duration::from_secs(within))
            })
            .ok_or_else(|| {
                sign_in_failed(&format!(
                    "the managed identity endpoint's answer ({source}) says nothing readable \
                     of when the token expires"
                ))
            })?;
        Ok(AppToken::new(access, expires_at))
    }
}

/// What one request answered.
struct Answer {
    status: u16,
    challenge: Option<String>,
    body: Vec<u8>,
}

/// A managed identity endpoint's JSON: a token, or an error in OAuth's shape (the metadata
/// service) or App Service's (`message`).
#[derive(Deserialize, Default)]
struct Reply {
    access_token: Option<String>,
    expires_on: Option<serde_json::Value>,
    expires_in: Option<serde_json::Value>,
    error: Option<String>,
    error_description: Option<String>,
    message: Option<String>,
}

/// Whole seconds from a number or a string of digits (App Service sends `expires_on` as a
/// string). Anything else, such as the older API's date text, is not read.
fn seconds(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A secret as a header value that never shows in Debug output.
fn sensitive(secret: &Secret) -> Result<HeaderValue> {
    let mut value = HeaderValue::from_str(secret.expose()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            "A managed identity secret holds characters a header cannot carry.",
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// reqwest's error with its causes: its own text ("error sending request") hides why.
fn cause_of(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The content of the key file Arc's challenge names, once it is shown to be the agent's: a
/// `.key` file of at most 4096 bytes inside `key_dir` (compared after resolving links and
/// `..`), as Azure.Identity requires, so a rogue local endpoint cannot have any other file
/// read and sent to it.
fn read_arc_key(path: &Path, key_dir: &Path) -> Result<Secret> {
    let shown = path.display();
    let failed = |why: String| sign_in_failed(&format!("Azure Arc's key file '{shown}' {why}"));
    let resolved =
        std::fs::canonicalize(path).map_err(|e| failed(format!("could not be opened ({e})")))?;
    let folder = std::fs::canonicalize(key_dir).map_err(|e| {
        failed(format!(
            "cannot be checked: the folder '{}' could not be opened ({e})",
            key_dir.display()
        ))
    })?;
    if !resolved.starts_with(&folder) {
        return Err(failed(format!(
            "is not in the expected folder '{}'",
            key_dir.display()
        )));
    }
    if resolved.extension().and_then(|e| e.to_str()) != Some("key") {
        return Err(failed("is not a .key file".to_owned()));
    }
    let size = std::fs::metadata(&resolved)
        .map_err(|e| failed(format!("could not be read ({e})")))?
        .len();
    if size > MAX_ARC_KEY_BYTES {
        return Err(failed(format!("is larger than {MAX_ARC_KEY_BYTES} bytes")));
    }
    let content = std::fs::read_to_string(&resolved)
        .map_err(|e| failed(format!("could not be read ({e})")))?;
    Secret::new(content).ok_or_else(|| failed("is empty".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(pairs: &[(&str, &str)]) -> Result<ManagedIdentitySource> {
        ManagedIdentitySource::from_variables(&Variables::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn the_source_is_chosen_as_azure_identity_chooses_it() {
        let imds = source(&[]).unwrap();
        assert_eq!(imds.name(), "Imds");
        assert_eq!(
            imds.endpoint().as_str(),
            "http://169.254.169.254/metadata/identity/oauth2/token"
        );

        let app_service = source(&[
            (IDENTITY_ENDPOINT, "http://127.0.0.1:41000/msi/token"),
            (IDENTITY_HEADER, "h-secret"),
            (IMDS_ENDPOINT, "http://127.0.0.1:1"),
        ])
        .unwrap();
        assert_eq!(app_service.name(), "AppService");
        assert!(!format!("{app_service:?}").contains("h-secret"));

        let arc = source(&[
            (
                IDENTITY_ENDPOINT,
                "http://localhost:40342/metadata/identity/oauth2/token",
            ),
            (IMDS_ENDPOINT, "http://localhost:40342"),
            (ARC_KEY_DIR, "/tmp/keys"),
        ])
        .unwrap();
        assert_eq!(arc.name(), "AzureArc");

        let legacy = source(&[
            (MSI_ENDPOINT, "http://127.0.0.1:8081/msi/token"),
            (MSI_SECRET, "m-secret"),
        ])
        .unwrap();
        assert_eq!(legacy.name(), "AppServiceLegacy");
        assert!(!format!("{legacy:?}").contains("m-secret"));
        let cloud_shell = source(&[(MSI_ENDPOINT, "http://localhost:50342/oauth2/token")]).unwrap();
        assert_eq!(cloud_shell.name(), "CloudShell");

        // An endpoint without its header or IMDS_ENDPOINT is neither: the metadata service.
        let alone = source(&[(IDENTITY_ENDPOINT, "http://127.0.0.1:41000/msi/token")]).unwrap();
        assert_eq!(alone.name(), "Imds");

        let pod = source(&[(POD_IDENTITY_AUTHORITY_HOST, "http://127.0.0.1:2579/")]).unwrap();
        assert_eq!(
            pod.endpoint().as_str(),
            "http://127.0.0.1:2579/metadata/identity/oauth2/token"
        );
    }

    #[test]
    fn service_fabric_and_remote_plain_http_are_refused() {
        let fabric = source(&[
            (
                IDENTITY_ENDPOINT,
                "https://10.0.0.4:2377/metadata/identity/oauth2/token",
            ),
            (IDENTITY_HEADER, "h"),
            (IDENTITY_SERVER_THUMBPRINT, "ABC"),
        ])
        .unwrap_err();
        assert!(fabric.message().contains("Service Fabric"), "{fabric}");

        let remote = source(&[
            (IDENTITY_ENDPOINT, "http://10.0.0.4/msi/token"),
            (IDENTITY_HEADER, "h"),
        ])
        .unwrap_err();
        assert_eq!(remote.kind(), ErrorKind::InvalidArgument);
        assert!(remote.message().contains(IDENTITY_ENDPOINT), "{remote}");

        let pod = source(&[(POD_IDENTITY_AUTHORITY_HOST, "http://10.0.0.4")]).unwrap_err();
        assert!(pod.message().contains(POD_IDENTITY_AUTHORITY_HOST), "{pod}");
    }

    #[test]
    fn only_sources_with_user_assigned_identities_take_a_client_id() {
        let arc = source(&[
            (
                IDENTITY_ENDPOINT,
                "http://localhost:40342/metadata/identity/oauth2/token",
            ),
            (IMDS_ENDPOINT, "http://localhost:40342"),
            (ARC_KEY_DIR, "/tmp/keys"),
        ])
        .unwrap();
        let error = ManagedIdentity::new(arc.clone(), Some("client"), "res").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(ManagedIdentity::new(arc, Some(" "), "res").is_ok());
        let imds = source(&[]).unwrap();
        let identity = ManagedIdentity::new(imds, Some("client"), "res/").unwrap();
        assert_eq!(identity.client_id(), Some("client"));
    }

    #[test]
    fn expiry_is_read_from_numbers_and_strings() {
        assert_eq!(
            seconds(&serde_json::json!(1_700_000_000)),
            Some(1_700_000_000)
        );
        assert_eq!(
            seconds(&serde_json::json!("1700000000")),
            Some(1_700_000_000)
        );
        assert_eq!(
            seconds(&serde_json::json!("09/14/2017 00:00:00 PM +00:00")),
            None
        );
    }

    #[test]
    fn arc_key_files_must_be_small_key_files_in_the_folder() {
        let folder = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let good = folder.path().join("agent.key");
        std::fs::write(&good, "key-content").unwrap();
        assert_eq!(
            read_arc_key(&good, folder.path()).unwrap().expose(),
            "key-content"
        );

        let outside = elsewhere.path().join("other.key");
        std::fs::write(&outside, "k").unwrap();
        let error = read_arc_key(&outside, folder.path()).unwrap_err();
        assert!(error.message().contains("expected folder"), "{error}");
        // Both folders are in the same temporary folder: `..` leads out of the one into the other.
        let sneaky = folder
            .path()
            .join("..")
            .join(elsewhere.path().file_name().unwrap())
            .join("other.key");
        assert!(read_arc_key(&sneaky, folder.path()).is_err());

        let text = folder.path().join("agent.txt");
        std::fs::write(&text, "k").unwrap();
        assert!(read_arc_key(&text, folder.path())
            .unwrap_err()
            .message()
            .contains(".key"));

        let large = folder.path().join("large.key");
        std::fs::write(&large, "k".repeat(5000)).unwrap();
        let error = read_arc_key(&large, folder.path()).unwrap_err();
        assert!(error.message().contains("4096"), "{error}");
        assert!(!error.message().contains("kkkk"), "{error}");
    }
}
