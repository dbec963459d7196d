//! The licensing API of the contract: requests, the service's wire types, the objects the
//! cmdlets output, and the contract's rules and failure messages.

pub(crate) mod messages;
pub(crate) mod wire;

pub use messages::{AUTH_EXPIRED_MESSAGE, ENABLED_VALUE_MESSAGE, NOT_CONNECTED_MESSAGE};
pub use wire::{OutputItem, ServiceItem, ServicePolicy};

use serde::Deserialize;
use url::Url;

use crate::error::{Error, ErrorKind, Result};

/// The scope that lists products (the default).
pub const PRODUCT_SCOPE: &str = "product";

/// Requests larger than this are refused before parsing.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// The values a policy item takes, as the service spells them.
pub const POLICY_VALUES: [&str; 3] = ["Enabled", "Disabled", "OnlyTrialsWithoutPaymentMethod"];

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

/// The item of a policy a request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A Microsoft product, by product id (`-ProductId`).
    Product(String),
    /// A third-party offer type, such as `SaaS` (`-OfferType`).
    OfferType(String),
}

impl Item {
    /// The id the user passed.
    pub fn id(&self) -> &str {
        match self {
            Item::Product(id) | Item::OfferType(id) => id,
        }
    }
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
    /// `Get-MSCommerceProductPolicy -PolicyId (-ProductId | -OfferType)`.
    GetProductPolicy {
        /// The policy.
        policy_id: String,
        /// The product or offer type.
        item: Item,
    },
    /// `Connect-MSCommerce` (browser or device code): signs in, silently from the token cache
    /// when it can, and keeps the session in the client.
    Connect {
        /// As whom, how, and whether the cache is used.
        options: crate::auth::ConnectOptions,
    },
    /// `Get-MSCommerceConnection`: who is connected where; never a token.
    GetConnection,
    /// `Disconnect-MSCommerce`: ends the session; with `forget`, removes the cached account.
    Disconnect {
        /// Whether to remove the account from the token cache too.
        forget: bool,
    },
    /// `Update-MSCommerceProductPolicy -PolicyId (-ProductId | -OfferType) (-Value | -Enabled)`.
    UpdateProductPolicy {
        /// The policy.
        policy_id: String,
        /// The product or offer type.
        item: Item,
        /// The new value, spelled as the service spells it.
        value: String,
    },
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
enum RawRequest {
    #[serde(rename_all = "camelCase")]
    Connect {
        operation_id: Option<u64>,
        flow: String,
        tenant_id: Option<String>,
        client_id: Option<String>,
        resource: Option<String>,
        redirect_uri: Option<String>,
        login_hint: Option<String>,
        context_scope: Option<String>,
        timeout_seconds: Option<f64>,
    },
    #[serde(rename_all = "camelCase")]
    GetConnection { operation_id: Option<u64> },
    #[serde(rename_all = "camelCase")]
    Disconnect {
        operation_id: Option<u64>,
        forget: Option<bool>,
    },
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
    #[serde(rename_all = "camelCase")]
    GetProductPolicy {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
        product_id: Option<String>,
        offer_type: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    UpdateProductPolicy {
        operation_id: Option<u64>,
        token: Option<String>,
        policy_id: String,
        product_id: Option<String>,
        offer_type: Option<String>,
        value: Option<String>,
        enabled: Option<String>,
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
            RawRequest::Connect {
                operation_id,
                flow,
                tenant_id,
                client_id,
                resource,
                redirect_uri,
                login_hint,
                context_scope,
                timeout_seconds,
            } => {
                let options = connect_options(
                    &flow,
                    crate::auth::signin::RawSignIn {
                        tenant_id,
                        client_id,
                        resource,
                    },
                    redirect_uri,
                    login_hint,
                    context_scope,
                    timeout_seconds,
                )?;
                (Operation::Connect { options }, operation_id, None)
            }
            RawRequest::Disconnect {
                operation_id,
                forget,
            } => (
                Operation::Disconnect {
                    forget: forget.unwrap_or(false),
                },
                operation_id,
                None,
            ),
            RawRequest::GetConnection { operation_id } => {
                (Operation::GetConnection, operation_id, None)
            }
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
            RawRequest::GetProductPolicy {
                operation_id,
                token,
                policy_id,
                product_id,
                offer_type,
            } => (
                Operation::GetProductPolicy {
                    policy_id: check_id("PolicyId", policy_id)?,
                    item: item(product_id, offer_type)?,
                },
                operation_id,
                token,
            ),
            RawRequest::UpdateProductPolicy {
                operation_id,
                token,
                policy_id,
                product_id,
                offer_type,
                value,
                enabled,
            } => {
                let item = item(product_id, offer_type)?;
                let value =
                    new_value(value, enabled).map_err(|e| e.with_target(Some(item.id())))?;
                (
                    Operation::UpdateProductPolicy {
                        policy_id: check_id("PolicyId", policy_id)?,
                        item,
                        value,
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
            Operation::GetPolicies
            | Operation::Connect { .. }
            | Operation::GetConnection
            | Operation::Disconnect { .. } => None,
            Operation::GetPolicy { policy_id }
            | Operation::GetProductPolicies { policy_id, .. } => Some(policy_id),
            Operation::GetProductPolicy { item, .. }
            | Operation::UpdateProductPolicy { item, .. } => Some(item.id()),
        }
    }

    /// True when the request changes the service's state.
    pub fn is_write(&self) -> bool {
        matches!(self.operation, Operation::UpdateProductPolicy { .. })
    }

    /// The HTTP request for this operation under the service's base URI.
    pub fn http(&self, base: &Url) -> Result<crate::http::HttpRequest> {
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
                Operation::Connect { .. }
                | Operation::GetConnection
                | Operation::Disconnect { .. } => {
                    return Err(Error::new(
                        ErrorKind::Internal,
                        "A connection request has no licensing URL.",
                    ))
                }
                Operation::GetPolicy { policy_id } => {
                    segments.push(policy_id);
                }
                Operation::GetProductPolicies { policy_id, .. } => {
                    segments.push(policy_id).push("products");
                }
                Operation::GetProductPolicy { policy_id, item }
                | Operation::UpdateProductPolicy {
                    policy_id, item, ..
                } => {
                    segments.push(policy_id);
                    match item {
                        Item::Product(id) => segments.push("products").push(id),
                        Item::OfferType(id) => segments.push("offerTypes").push(id),
                    };
                }
            }
        }
        if let Operation::GetProductPolicies { scope, .. } = &self.operation {
            url.query_pairs_mut().append_pair("scope", scope);
        }
        let (method, body) = match &self.operation {
            Operation::UpdateProductPolicy { value, .. } => (
                reqwest::Method::PUT,
                Some(serde_json::json!({ "policyValue": value }).to_string()),
            ),
            _ => (reqwest::Method::GET, None),
        };
        Ok(crate::http::HttpRequest { method, url, body })
    }

    /// The contract's "what failed" prefix for this request.
    pub fn what_failed(&self) -> String {
        match &self.operation {
            Operation::Connect { .. } => "Unable to establish connection".to_owned(),
            Operation::GetConnection => "Failed to read the connection".to_owned(),
            Operation::Disconnect { .. } => "Failed to disconnect".to_owned(),
            Operation::GetPolicies => "Failed to retrieve policies".to_owned(),
            Operation::GetPolicy { policy_id } => {
                format!("Failed to retrieve policy with PolicyId '{policy_id}'")
            }
            Operation::GetProductPolicies { policy_id, .. } => {
                format!("Failed to retrieve product policy with PolicyId '{policy_id}'")
            }
            Operation::GetProductPolicy { policy_id, item } => match item {
                Item::Product(id) => format!(
                    "Failed to retrieve product policy with PolicyId '{policy_id}' ProductId '{id}'"
                ),
                Item::OfferType(id) => format!(
                    "Failed to retrieve product policy with PolicyId '{policy_id}' OfferType '{id}'"
                ),
            },
            Operation::UpdateProductPolicy { .. } => "Failed to update product policy".to_owned(),
        }
    }
}

/// Exactly one of a product id and an offer type.
fn item(product_id: Option<String>, offer_type: Option<String>) -> Result<Item> {
    match (product_id, offer_type) {
        (Some(id), None) => Ok(Item::Product(check_id("ProductId", id)?)),
        (None, Some(id)) => Ok(Item::OfferType(check_id("OfferType", id)?)),
        _ => Err(Error::new(
            ErrorKind::InvalidArgument,
            "Give exactly one of ProductId and OfferType.",
        )),
    }
}

/// The value to set: `-Value` spelled as the service spells it, or `-Enabled` with the
/// original's string semantics (`True`/`False` in any case, which is what `$true`/`$false`
/// become when bound to a string).
fn new_value(value: Option<String>, enabled: Option<String>) -> Result<String> {
    match (value, enabled) {
        (Some(value), None) => POLICY_VALUES
            .iter()
            .find(|known| known.eq_ignore_ascii_case(value.trim()))
            .map(|known| (*known).to_owned())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "The value '{value}' is not one of {}.",
                        POLICY_VALUES.join(", ")
                    ),
                )
            }),
        (None, Some(enabled)) => match enabled.trim().to_ascii_lowercase().as_str() {
            "true" => Ok("Enabled".to_owned()),
            "false" => Ok("Disabled".to_owned()),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                ENABLED_VALUE_MESSAGE,
            )),
        },
        _ => Err(Error::new(
            ErrorKind::InvalidArgument,
            "Give exactly one of Value and Enabled.",
        )),
    }
}

/// The longest id (policy, product, offer type, scope) accepted, in characters.
const MAX_ID_CHARS: usize = 256;

/// Characters that change how a console shows what follows: controls, and the invisible and
/// direction-changing format characters.
fn is_unsafe_to_show(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Checks an id that becomes one path segment: `url` percent-encodes `/`, `?`, `#` and `%` in a
/// pushed segment, so only what encoding cannot make safe is refused here: dot segments (which
/// URL parsers resolve even when encoded), control and invisible formatting characters, and
/// empty or huge ids.
fn check_id(name: &str, id: String) -> Result<String> {
    let invalid = |why: &str| {
        // The message is printed by the host: show a bounded, escaped form of what was passed so
        // a huge id or one with control characters (line breaks, terminal escapes) cannot flood
        // or rewrite the console. The target keeps the id as it was.
        let mut shown = String::new();
        for c in id.chars().take(MAX_ID_CHARS) {
            if is_unsafe_to_show(c) {
                shown.extend(c.escape_unicode());
            } else {
                shown.push(c);
            }
        }
        if id.chars().nth(MAX_ID_CHARS).is_some() {
            shown.push_str("...");
        }
        Error::new(
            ErrorKind::InvalidArgument,
            format!("The value of {name} '{shown}' is not valid: {why}"),
        )
        .with_target(Some(&id))
    };
    let trimmed = id.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty."));
    }
    if trimmed.chars().count() > MAX_ID_CHARS {
        return Err(invalid(&format!(
            "it is longer than {MAX_ID_CHARS} characters."
        )));
    }
    let decoded_dots = trimmed.to_ascii_lowercase().replace("%2e", ".");
    if decoded_dots == "." || decoded_dots == ".." {
        return Err(invalid("it is a relative path segment."));
    }
    // No real id holds them, and they would reach the console through the contract's messages.
    if trimmed.chars().any(is_unsafe_to_show) {
        return Err(invalid(
            "it holds control or invisible formatting characters.",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Validates the fields of a `connect` request.
fn connect_options(
    flow: &str,
    raw: crate::auth::signin::RawSignIn,
    redirect_uri: Option<String>,
    login_hint: Option<String>,
    context_scope: Option<String>,
    timeout_seconds: Option<f64>,
) -> Result<crate::auth::ConnectOptions> {
    use crate::auth::browser::{BrowserOptions, DEFAULT_REDIRECT_URI, DEFAULT_TIMEOUT};
    use crate::auth::{ConnectOptions, ContextScope, Flow};
    let invalid = |message: String| Error::new(ErrorKind::InvalidArgument, message);
    let timeout = match timeout_seconds {
        None => DEFAULT_TIMEOUT,
        Some(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0 => {
            std::time::Duration::from_secs_f64(seconds)
        }
        Some(_) => {
            return Err(invalid(
                "timeoutSeconds must be a number of seconds above 0 and at most 3600.".into(),
            ))
        }
    };
    let flow = match flow {
        "browser" => Flow::Browser(BrowserOptions {
            redirect_uri: BrowserOptions::parse_redirect_uri(
                redirect_uri.as_deref().unwrap_or(DEFAULT_REDIRECT_URI),
            )?,
            login_hint: login_hint.clone(),
            timeout,
        }),
        "deviceCode" => Flow::DeviceCode,
        other => {
            return Err(invalid(format!(
                "The sign-in flow '{other}' is not supported; use browser or deviceCode."
            )))
        }
    };
    let login_hint = login_hint
        .map(|hint| hint.trim().to_owned())
        .filter(|hint| !hint.is_empty());
    if login_hint
        .as_deref()
        .is_some_and(|hint| hint.chars().any(|c| c.is_control() || c.is_whitespace()))
    {
        return Err(invalid("The login hint is not a sign-in name.".into())
            .with_target(login_hint.as_deref()));
    }
    let context_scope = match context_scope.as_deref() {
        None | Some("CurrentUser") => ContextScope::CurrentUser,
        Some("Process") => ContextScope::Process,
        Some(other) => {
            return Err(invalid(format!(
                "The context scope '{other}' is not known; use CurrentUser or Process."
            )))
        }
    };
    Ok(ConnectOptions {
        identity: crate::auth::signin::Identity::from_raw(raw)?,
        flow,
        login_hint,
        context_scope,
    })
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
            request.http(&base()).unwrap().url.as_str(),
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
            request.http(&base()).unwrap().url.as_str(),
            "https://licensing.m365.microsoft.com/v1.0/policies/AllowSelfServicePurchase/products?scope=product"
        );
    }

    #[test]
    fn service_uri_with_a_path_keeps_it() {
        let base = crate::config::parse_service_uri("http://127.0.0.1:9/prefix/").unwrap();
        let request = Request::from_json(r#"{"op":"getPolicies"}"#).unwrap();
        assert_eq!(
            request.http(&base).unwrap().url.as_str(),
            "http://127.0.0.1:9/prefix/v1.0/policies"
        );
    }

    #[test]
    fn id_with_slash_or_query_stays_one_path_segment() {
        let request = Request::from_json(r#"{"op":"getPolicy","policyId":"a/b?c#d%e"}"#).unwrap();
        let url = request.http(&base()).unwrap().url;
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
        let url = request.http(&base()).unwrap().url;
        assert_eq!(url.query(), Some("scope=OfferType%26x%3D1"));
    }

    #[test]
    fn unknown_operation_and_fields_are_refused() {
        assert!(Request::from_json(r#"{"op":"deleteEverything"}"#).is_err());
        assert!(Request::from_json(r#"{"op":"getPolicies","extra":1}"#).is_err());
        assert!(Request::from_json("not json").is_err());
    }

    #[test]
    fn one_product_and_one_offer_type_have_their_own_paths() {
        let request = Request::from_json(
            r#"{"op":"getProductPolicy","policyId":"P","productId":"CFQ7TTC0H9MP"}"#,
        )
        .unwrap();
        assert_eq!(
            request.http(&base()).unwrap().url.path(),
            "/v1.0/policies/P/products/CFQ7TTC0H9MP"
        );
        let request =
            Request::from_json(r#"{"op":"getProductPolicy","policyId":"P","offerType":"SaaS"}"#)
                .unwrap();
        assert_eq!(
            request.http(&base()).unwrap().url.path(),
            "/v1.0/policies/P/offerTypes/SaaS"
        );
        assert_eq!(request.target(), Some("SaaS"));
    }

    #[test]
    fn product_id_and_offer_type_together_are_refused() {
        let err = Request::from_json(
            r#"{"op":"getProductPolicy","policyId":"P","productId":"A","offerType":"B"}"#,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(Request::from_json(r#"{"op":"getProductPolicy","policyId":"P"}"#).is_err());
    }

    #[test]
    fn update_is_a_put_of_the_canonical_value() {
        let request = Request::from_json(
            r#"{"op":"updateProductPolicy","policyId":"P","productId":"A","value":"disabled"}"#,
        )
        .unwrap();
        let http = request.http(&base()).unwrap();
        assert_eq!(http.method, reqwest::Method::PUT);
        assert_eq!(http.body.as_deref(), Some(r#"{"policyValue":"Disabled"}"#));
        assert!(request.is_write());
    }

    #[test]
    fn enabled_takes_true_and_false_in_any_case() {
        for (enabled, value) in [
            ("True", "Enabled"),
            ("true", "Enabled"),
            ("FALSE", "Disabled"),
            ("False", "Disabled"),
        ] {
            let json = serde_json::json!({"op":"updateProductPolicy","policyId":"P","offerType":"SaaS","enabled":enabled}).to_string();
            match Request::from_json(&json).unwrap().operation {
                Operation::UpdateProductPolicy { value: got, .. } => {
                    assert_eq!(got, value, "{enabled}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn enabled_other_than_true_or_false_gives_the_contract_message_and_no_call() {
        for enabled in ["yes", "1", "$true", ""] {
            let json = serde_json::json!({"op":"updateProductPolicy","policyId":"P","productId":"A","enabled":enabled}).to_string();
            let err = Request::from_json(&json).unwrap_err();
            assert_eq!(
                err.message(),
                "Value of $Enabled must be one of the following: $True, $true, $False, $false",
                "{enabled}"
            );
            assert_eq!(err.target(), Some("A"));
        }
    }

    #[test]
    fn unknown_value_is_refused_before_any_call() {
        let err = Request::from_json(
            r#"{"op":"updateProductPolicy","policyId":"P","productId":"A","value":"Maybe"}"#,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
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
