//! A client: one connection to the licensing service (one PowerShell runspace's).

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::signin::SignIn;
use crate::auth::tokens::{self, account_of, TokenSet};
use crate::auth::{device, Secret};
use crate::config::ClientConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Cancel, Response};
use crate::log::Sink;
use crate::policy::wire::ServiceList;
use crate::policy::{
    messages, Operation, OutputItem, Request, ServiceItem, ServicePolicy, NOT_CONNECTED_MESSAGE,
};

/// One connection. Cheap: every client of the process shares the runtime and connection pool.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    /// The signed-in session, after a `connect` request.
    session: tokio::sync::Mutex<Option<Session>>,
}

/// A session signed in through the authority: its tokens are refreshed before they expire.
#[derive(Debug)]
struct Session {
    signin: SignIn,
    tokens: TokenSet,
}

impl Client {
    /// A client for a validated configuration.
    pub fn new(config: ClientConfig) -> Result<Self> {
        // Start the shared runtime and HTTP client now, so a broken environment shows at connect.
        http::runtime()?;
        http::http_client()?;
        Ok(Client {
            config,
            session: tokio::sync::Mutex::new(None),
        })
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Runs one request to completion on the shared runtime, blocking the calling thread.
    /// Returns the `data` of the envelope: the output objects.
    pub fn invoke(&self, request: &Request, cancel: &Cancel) -> Result<Value> {
        http::runtime()?.block_on(self.invoke_async(request, cancel))
    }

    /// Runs one request.
    pub async fn invoke_async(&self, request: &Request, cancel: &Cancel) -> Result<Value> {
        let sink = Sink::new(request.operation_id);
        match &request.operation {
            Operation::Connect { signin } => return self.connect(signin, &sink, cancel).await,
            Operation::GetConnection => return Ok(self.connection().await),
            _ => {}
        }
        let token = match request.token.as_ref().or(self.config.access_token.as_ref()) {
            Some(token) => token.clone(),
            None => self
                .session_token(&sink, cancel)
                .await
                .map_err(|e| e.with_target(request.target()))?,
        };
        let token = &token;
        let http = request.http(&self.config.service_uri)?;
        let what_failed = request.what_failed();
        let response = http::execute(
            http,
            token,
            &self.config.user_agent,
            self.config.request_timeout,
            &sink,
            cancel,
        )
        .await
        .map_err(|e| messages::other_failure(&what_failed, request.target(), e))?;
        if !(200..300).contains(&response.status) {
            return Err(messages::http_failure(
                &what_failed,
                request.target(),
                &response,
            ));
        }
        let output = (|| match &request.operation {
            Operation::GetPolicies => {
                let list: ServiceList<ServicePolicy> = decode(&response)?;
                to_value(
                    list.items
                        .into_iter()
                        .map(OutputItem::from)
                        .collect::<Vec<_>>(),
                )
            }
            Operation::GetPolicy { .. } => {
                to_value(OutputItem::from(decode::<ServicePolicy>(&response)?))
            }
            Operation::GetProductPolicies { .. } => {
                let list: ServiceList<ServiceItem> = decode(&response)?;
                to_value(
                    list.items
                        .into_iter()
                        .map(OutputItem::from)
                        .collect::<Vec<_>>(),
                )
            }
            Operation::GetProductPolicy { .. } | Operation::UpdateProductPolicy { .. } => {
                to_value(OutputItem::from(decode::<ServiceItem>(&response)?))
            }
            Operation::Connect { .. } | Operation::GetConnection => Err(Error::new(
                ErrorKind::Internal,
                "A connection request reached the licensing API.",
            )),
        })();
        output.map_err(|e| messages::other_failure(&what_failed, request.target(), e))
    }
}

impl Client {
    /// Signs in with a device code and keeps the session; answers the connection.
    async fn connect(&self, signin: &SignIn, sink: &Sink, cancel: &Cancel) -> Result<Value> {
        let tokens = device::sign_in(signin, sink, cancel).await?;
        sink.verbose(&format!(
            "signed in as {} (tenant {})",
            tokens.account.upn.as_deref().unwrap_or("(unknown)"),
            tokens.account.tenant_id.as_deref().unwrap_or("(unknown)")
        ));
        *self.session.lock().await = Some(Session {
            signin: signin.clone(),
            tokens,
        });
        Ok(self.connection().await)
    }

    /// Who is connected, where, and until when; never a token.
    async fn connection(&self) -> Value {
        let session = self.session.lock().await;
        let (flow, account, authority, expires_on) = match (&*session, &self.config.access_token) {
            (Some(session), _) => (
                Some("DeviceCode"),
                session.tokens.account.clone(),
                Some(
                    session
                        .signin
                        .authority_uri
                        .as_str()
                        .trim_end_matches('/')
                        .to_owned(),
                ),
                Some(session.tokens.expires_on()),
            ),
            (None, Some(token)) => (Some("AccessToken"), account_of(token), None, None),
            (None, None) => (None, Default::default(), None, None),
        };
        serde_json::json!({
            "connected": flow.is_some(),
            "flow": flow,
            "account": account.upn,
            "tenantId": account.tenant_id,
            "serviceUri": self.config.service_uri.as_str().trim_end_matches('/'),
            "authorityUri": authority,
            "expiresOn": expires_on,
        })
    }

    /// The session's access token, refreshed first when it is about to expire.
    async fn session_token(&self, sink: &Sink, cancel: &Cancel) -> Result<Secret> {
        let mut session = self.session.lock().await;
        let session = session
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::NotConnected, NOT_CONNECTED_MESSAGE))?;
        if session.tokens.needs_refresh() {
            sink.verbose("refreshing the access token before it expires");
            session.tokens = tokens::refresh(&session.signin, &session.tokens, cancel).await?;
        }
        Ok(session.tokens.access.clone())
    }
}

fn decode<T: DeserializeOwned>(response: &Response) -> Result<T> {
    serde_json::from_slice(&response.body).map_err(|e| {
        Error::new(
            ErrorKind::InvalidResponse,
            format!(
                "The service's answer is not what was expected ({e}); correlation id {}.",
                response.correlation_id
            ),
        )
        .with_correlation_id(&response.correlation_id)
        .with_response(
            response.status,
            Some(
                String::from_utf8_lossy(&response.body)
                    .chars()
                    .take(4096)
                    .collect(),
            ),
        )
    })
}

fn to_value<T: serde::Serialize>(value: T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("Could not encode the output: {e}"),
        )
    })
}
