//! A client: one connection to the licensing service (one PowerShell runspace's).

use serde::de::DeserializeOwned;
use serde_json::Value;

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
}

impl Client {
    /// A client for a validated configuration.
    pub fn new(config: ClientConfig) -> Result<Self> {
        // Start the shared runtime and HTTP client now, so a broken environment shows at connect.
        http::runtime()?;
        http::http_client()?;
        Ok(Client { config })
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
        let token = request
            .token
            .as_ref()
            .or(self.config.access_token.as_ref())
            .ok_or_else(|| {
                Error::new(ErrorKind::NotConnected, NOT_CONNECTED_MESSAGE)
                    .with_target(request.target())
            })?;
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
        })();
        output.map_err(|e| messages::other_failure(&what_failed, request.target(), e))
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
