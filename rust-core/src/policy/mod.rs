//! The licensing API of the contract: requests, the service's wire types, the objects the
//! cmdlets output, and the contract's failure messages.

pub(crate) mod messages;
pub(crate) mod wire;

pub use messages::{AUTH_EXPIRED_MESSAGE, NOT_CONNECTED_MESSAGE};
pub use wire::{OutputItem, ServiceItem, ServicePolicy};

use serde::Deserialize;
use url::Url;

use crate::error::{Error, ErrorKind, Result};

/// The scope that lists products (the default).
pub const PRODUCT_SCOPE: &str = "product";

/// Requests larger than this are refused before parsing.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// One request to the core, as the shim sends it (see `docs/abi.md`).
#[derive(Debug, Clone)]
pub struct Request {
    /// What to do.
    pub operation: Operation,
    /// Routes log lines and progress back to the caller's pipeline.
    pub operation_id: u64,
    /// A token to use instead of the client's credential (the cmdlets' `-Token`).
    pub token: Option<crate::auth::Secret>,
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `Get-MSCommercePolicies`.
    GetPolicies,
    /// `Get-MSCommercePolicy -PolicyId`.
    GetPolicy {
        /// The policy.
        policy_id: String,
    },
    /// `Get-MSCommerceProductPolicies -PolicyId [-Scope]`.
    GetProductPolicies {
        /// The policy.
        policy_id: String,
        /// `product` (default) or another scope such as `OfferType`.
        scope: String,
    },
}

// The variant names are the wire names of the operations, which all start with "get" today.
#[allow(clippy::enum_variant_names)]
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
enum RawRequest {
    #[serde(rename_all = "camelCase")]
    GetPolicies {
        operation_id: Option<u64>,
        token: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    GetPolicy {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
    },
    #[serde(rename_all = "camelCase")]
    GetProductPolicies {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
        scope: Option<String>,
    },
}

impl Request {
    /// Parses and validates a request.
    pub fn from_json(json: &str) -> Result<Self> {
        if json.len() > MAX_REQUEST_BYTES {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "The request is too large.",
            ));
        }
        let raw: RawRequest = serde_json::from_str(json).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("The request is not valid: {e}"),
            )
        })?;
        let (operation, operation_id, token) = match raw {
            RawRequest::GetPolicies {
                operation_id,
                token,
            } => (Operation::GetPolicies, operation_id, token),
            RawRequest::GetPolicy {
                operation_id,
                token,
                policy_id,
            } => (
                Operation::GetPolicy {
                    policy_id: check_id("PolicyId", policy_id)?,
                },
                operation_id,
                token,
            ),
            RawRequest::GetProductPolicies {
                operation_id,
                token,
                policy_id,
                scope,
            } => {
                let scope = match scope {
                    Some(scope) if !scope.trim().is_empty() => check_id("Scope", scope)?,
                    _ => PRODUCT_SCOPE.to_owned(),
                };
                (
                    Operation::GetProductPolicies {
                        policy_id: check_id("PolicyId", policy_id)?,
                        scope,
                    },
                    operation_id,
                    token,
                )
            }
        };
        Ok(Request {
            operation,
            operation_id: operation_id.unwrap_or(0),
            token: token.and_then(crate::auth::Secret::new),
        })
    }

    /// The id the user passed that errors of this request are about.
    pub fn target(&self) -> Option<&str> {
        match &self.operation {
            Operation::GetPolicies => None,
            Operation::GetPolicy { policy_id }
            | Operation::GetProductPolicies { policy_id, .. } => Some(policy_id),
        }
    }

    /// The URL of this request under the service's base URI.
    pub fn url(&self, base: &Url) -> Result<Url> {
        let mut url = base.clone();
        {
            let mut segments = url.path_segments_mut().map_err(|()| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    "The service URI cannot hold a path.",
                )
            })?;
            segments.pop_if_empty().push("v1.0").push("policies");
            match &self.operation {
                Operation::GetPolicies => {}
                Operation::GetPolicy { policy_id } => {
                    segments.push(policy_id);
                }
                Operation::GetProductPolicies { policy_id, .. } => {
                    segments.push(policy_id).push("products");
                }
            }
        }
        if let Operation::GetProductPolicies { scope, .. } = &self.operation {
            url.query_pairs_mut().append_pair("scope", scope);
        }
        Ok(url)
    }

    /// The contract's "what failed" prefix for this request.
    pub fn what_failed(&self) -> String {
        match &self.operation {
            Operation::GetPolicies => "Failed to retrieve policies".to_owned(),
            Operation::GetPolicy { policy_id } => {
                format!("Failed to retrieve policy with PolicyId '{policy_id}'")
            }
            Operation::GetProductPolicies { policy_id, .. } => {
                format!("Failed to retrieve product policy with PolicyId '{policy_id}'")
            }
        }
    }
}

/// Checks an id that becomes one path segment: `url` percent-encodes `/`, `?`, `#` and `%` in a
/// pushed segment, so only what encoding cannot make safe is refused here: dot segments (which
/// URL parsers resolve even when encoded), control characters, and empty or huge ids.
fn check_id(name: &str, id: String) -> Result<String> {
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("The value of {name} '{id}' is not valid: {why}"),
        )
        .with_target(Some(&id))
    };
    let trimmed = id.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty."));
    }
    if trimmed.len() > 256 {
        return Err(invalid("it is longer than 256 characters."));
    }
    let decoded_dots = trimmed.to_ascii_lowercase().replace("%2e", ".");
    if decoded_dots == "." || decoded_dots == ".." {
        return Err(invalid("it is a relative path segment."));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(invalid("it holds control characters."));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        crate::config::parse_service_uri("https://licensing.m365.microsoft.com").unwrap()
    }

    #[test]
    fn get_policies_goes_to_v1_policies() {
        let request = Request::from_json(r#"{"op":"getPolicies"}"#).unwrap();
        assert_eq!(
            request.url(&base()).unwrap().as_str(),
            "https://licensing.m365.microsoft.com/v1.0/policies"
        );
    }

    #[test]
    fn product_list_defaults_to_product_scope() {
        let request = Request::from_json(
            r#"{"op":"getProductPolicies","policyId":"AllowSelfServicePurchase"}"#,
        )
        .unwrap();
        assert_eq!(
            request.url(&base()).unwrap().as_str(),
            "https://licensing.m365.microsoft.com/v1.0/policies/AllowSelfServicePurchase/products?scope=product"
        );
    }

    #[test]
    fn service_uri_with_a_path_keeps_it() {
        let base = crate::config::parse_service_uri("http://127.0.0.1:9/prefix/").unwrap();
        let request = Request::from_json(r#"{"op":"getPolicies"}"#).unwrap();
        assert_eq!(
            request.url(&base).unwrap().as_str(),
            "http://127.0.0.1:9/prefix/v1.0/policies"
        );
    }

    #[test]
    fn id_with_slash_or_query_stays_one_path_segment() {
        let request = Request::from_json(r#"{"op":"getPolicy","policyId":"a/b?c#d%e"}"#).unwrap();
        let url = request.url(&base()).unwrap();
        assert_eq!(url.path(), "/v1.0/policies/a%2Fb%3Fc%23d%25e");
        assert_eq!(url.query(), None);
    }

    #[test]
    fn dot_segments_are_refused() {
        for id in [".", "..", "%2e%2E", ".%2e"] {
            let json = serde_json::json!({"op":"getPolicy","policyId":id}).to_string();
            let err = Request::from_json(&json).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{id}");
            assert_eq!(err.target(), Some(id));
        }
    }

    #[test]
    fn scope_is_a_query_parameter_not_a_path() {
        let request = Request::from_json(
            r#"{"op":"getProductPolicies","policyId":"P","scope":"OfferType&x=1"}"#,
        )
        .unwrap();
        let url = request.url(&base()).unwrap();
        assert_eq!(url.query(), Some("scope=OfferType%26x%3D1"));
    }

    #[test]
    fn unknown_operation_and_fields_are_refused() {
        assert!(Request::from_json(r#"{"op":"deleteEverything"}"#).is_err());
        assert!(Request::from_json(r#"{"op":"getPolicies","extra":1}"#).is_err());
        assert!(Request::from_json("not json").is_err());
    }

    #[test]
    fn what_failed_matches_the_contract() {
        let request = Request::from_json(r#"{"op":"getPolicy","policyId":"X"}"#).unwrap();
        assert_eq!(
            request.what_failed(),
            "Failed to retrieve policy with PolicyId 'X'"
        );
        let request = Request::from_json(r#"{"op":"getProductPolicies","policyId":"X"}"#).unwrap();
        assert_eq!(
            request.what_failed(),
            "Failed to retrieve product policy with PolicyId 'X'"
        );
    }
}
