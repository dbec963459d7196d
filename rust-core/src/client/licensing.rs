//! The licensing API's calls: which URL, method and body each request that is one licensing call
//! becomes, and the contract's "what failed" prefix of its failures.

use url::Url;

use crate::error::{Error, ErrorKind, Result};
use crate::http::HttpRequest;
use crate::policy::Item;
use crate::protocol::{Operation, Pick, Request, Selection};

/// The HTTP request of a request that is one licensing call, under the service's base URI.
pub fn http(request: &Request, base: &Url) -> Result<HttpRequest> {
    let mut url = base.clone();
    {
        let mut segments = url.path_segments_mut().map_err(|()| {
            Error::new(
                ErrorKind::InvalidArgument,
                "The service URI cannot hold a path.",
            )
        })?;
        segments.pop_if_empty().push("v1.0").push("policies");
        match &request.operation {
            Operation::GetPolicies => {}
            Operation::Connect { .. }
            | Operation::ConnectApp { .. }
            | Operation::GetConnection
            | Operation::Disconnect { .. }
            | Operation::UpdateProductPolicies { .. }
            | Operation::SelectItems(_)
            | Operation::PlanUpdate { .. }
            | Operation::PlanImport { .. }
            | Operation::ExportBaseline { .. }
            | Operation::ExportReport { .. }
            | Operation::TestBaseline { .. }
            | Operation::Complete { .. } => {
                return Err(Error::new(
                    ErrorKind::Internal,
                    "This request is made of several licensing requests: it has no URL of its own.",
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
    if let Operation::GetProductPolicies { scope, .. } = &request.operation {
        url.query_pairs_mut().append_pair("scope", scope);
    }
    let (method, body) = match &request.operation {
        Operation::UpdateProductPolicy { value, .. } => (
            reqwest::Method::PUT,
            Some(serde_json::json!({ "policyValue": value }).to_string()),
        ),
        _ => (reqwest::Method::GET, None),
    };
    Ok(HttpRequest { method, url, body })
}

/// The contract's "what failed" prefix of a request's failure messages.
pub fn what_failed(request: &Request) -> String {
    match &request.operation {
        Operation::Connect { .. } | Operation::ConnectApp { .. } => {
            "Unable to establish connection".to_owned()
        }
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
        Operation::UpdateProductPolicy { .. } | Operation::UpdateProductPolicies { .. } => {
            "Failed to update product policy".to_owned()
        }
        Operation::SelectItems(Selection { policy_id, .. })
        | Operation::PlanUpdate {
            pick: Pick::Ids { policy_id, .. } | Pick::Selection(Selection { policy_id, .. }),
            ..
        } => {
            format!("Failed to retrieve product policy with PolicyId '{policy_id}'")
        }
        Operation::ExportBaseline { policy_id, .. } | Operation::ExportReport { policy_id, .. } => {
            format!("Failed to export policy with PolicyId '{policy_id}'")
        }
        Operation::TestBaseline { .. } | Operation::PlanImport { .. } => {
            "Failed to compare the baseline".to_owned()
        }
        Operation::Complete { .. } => "Failed to complete".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        crate::environment::parse_service_uri("https://licensing.m365.microsoft.com").unwrap()
    }

    #[test]
    fn get_policies_goes_to_v1_policies() {
        let request = Request::from_json(r#"{"op":"getPolicies"}"#).unwrap();
        assert_eq!(
            http(&request, &base()).unwrap().url.as_str(),
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
            http(&request, &base()).unwrap().url.as_str(),
            "https://licensing.m365.microsoft.com/v1.0/policies/AllowSelfServicePurchase/products?scope=product"
        );
    }

    #[test]
    fn service_uri_with_a_path_keeps_it() {
        let base = crate::environment::parse_service_uri("http://127.0.0.1:9/prefix/").unwrap();
        let request = Request::from_json(r#"{"op":"getPolicies"}"#).unwrap();
        assert_eq!(
            http(&request, &base).unwrap().url.as_str(),
            "http://127.0.0.1:9/prefix/v1.0/policies"
        );
    }

    #[test]
    fn id_with_slash_or_query_stays_one_path_segment() {
        let request = Request::from_json(r#"{"op":"getPolicy","policyId":"a/b?c#d%e"}"#).unwrap();
        let url = http(&request, &base()).unwrap().url;
        assert_eq!(url.path(), "/v1.0/policies/a%2Fb%3Fc%23d%25e");
        assert_eq!(url.query(), None);
    }

    #[test]
    fn scope_is_a_query_parameter_not_a_path() {
        let request = Request::from_json(
            r#"{"op":"getProductPolicies","policyId":"P","scope":"OfferType&x=1"}"#,
        )
        .unwrap();
        let url = http(&request, &base()).unwrap().url;
        assert_eq!(url.query(), Some("scope=OfferType%26x%3D1"));
    }

    #[test]
    fn one_product_and_one_offer_type_have_their_own_paths() {
        let request = Request::from_json(
            r#"{"op":"getProductPolicy","policyId":"P","productId":"CFQ7TTC0H9MP"}"#,
        )
        .unwrap();
        assert_eq!(
            http(&request, &base()).unwrap().url.path(),
            "/v1.0/policies/P/products/CFQ7TTC0H9MP"
        );
        let request =
            Request::from_json(r#"{"op":"getProductPolicy","policyId":"P","offerType":"SaaS"}"#)
                .unwrap();
        assert_eq!(
            http(&request, &base()).unwrap().url.path(),
            "/v1.0/policies/P/offerTypes/SaaS"
        );
        assert_eq!(request.target(), Some("SaaS"));
    }

    #[test]
    fn update_is_a_put_of_the_canonical_value() {
        let request = Request::from_json(
            r#"{"op":"updateProductPolicy","policyId":"P","productId":"A","value":"disabled"}"#,
        )
        .unwrap();
        let http = http(&request, &base()).unwrap();
        assert_eq!(http.method, reqwest::Method::PUT);
        assert_eq!(http.body.as_deref(), Some(r#"{"policyValue":"Disabled"}"#));
        assert!(request.is_write());
    }

    #[test]
    fn what_failed_matches_the_contract() {
        let request = Request::from_json(r#"{"op":"getPolicy","policyId":"X"}"#).unwrap();
        assert_eq!(
            what_failed(&request),
            "Failed to retrieve policy with PolicyId 'X'"
        );
        let request = Request::from_json(r#"{"op":"getProductPolicies","policyId":"X"}"#).unwrap();
        assert_eq!(
            what_failed(&request),
            "Failed to retrieve product policy with PolicyId 'X'"
        );
    }
}
