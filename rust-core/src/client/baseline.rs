//! `Export-MSCommercePolicy` and `Test-MSCommercePolicy`: a policy's products and offer types
//! to a baseline file, and the tenant's drift from one.

use std::path::Path;

use serde_json::Value;

use super::bulk::target;
use super::Client;
use crate::error::Result;
use crate::http::Cancel;
use crate::log::{Level, Sink};
use crate::policy::baseline::{now_rfc3339, Baseline, Change, Current, Drift, Provenance};
use crate::policy::Scope;
use crate::protocol::{data, BaselineExport, OutputItem, PlannedUpdate, PolicyDrift, UpdatePlan};
use crate::secret::Secret;

/// Both scopes of a policy as the service lists them now.
pub(super) async fn current(
    client: &Client,
    token: Option<&Secret>,
    policy_id: &str,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Vec<Current>> {
    let mut items = Vec::new();
    for scope in [Scope::Product, Scope::OfferType] {
        let listed = client.list(token, policy_id, scope, sink, cancel).await?;
        items.extend(listed.iter().filter_map(|item| item.current(scope)));
    }
    Ok(items)
}

/// Writes the baseline of `policy_id` to `path` (with `no_clobber`, never over a file; with
/// `new_products`, a version 2 file); answers what was written ([`BaselineExport`]).
pub(super) async fn export(
    client: &Client,
    token: Option<&Secret>,
    policy_id: &str,
    (path, no_clobber, new_products): (&Path, bool, Option<String>),
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Value> {
    let items = current(client, token, policy_id, sink, cancel).await?;
    let baseline = Baseline::of(
        policy_id,
        &items,
        Provenance {
            tenant_id: client.tenant_of(token).await,
            service_uri: Some(
                client
                    .service_uri()
                    .as_str()
                    .trim_end_matches('/')
                    .to_owned(),
            ),
            exported_on: Some(now_rfc3339()),
        },
        new_products,
    );
    baseline.write(path, no_clobber)?;
    sink.verbose(&format!(
        "wrote {} products and {} offer types of {policy_id} to {}",
        baseline.products.len(),
        baseline.offer_types.len(),
        path.display()
    ));
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    data(BaselineExport {
        path: path.display().to_string(),
        policy_id: policy_id.to_owned(),
        products: count(baseline.products.len()),
        offer_types: count(baseline.offer_types.len()),
    })
}

/// How the tenant differs from the baseline at `path`: an array of `PolicyDrift` items.
pub(super) async fn test(
    client: &Client,
    token: Option<&Secret>,
    path: &Path,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Value> {
    let (baseline, drift) = drift(client, token, path, sink, cancel).await?;
    data(
        drift
            .iter()
            .map(|d| drift_item(&baseline.policy_id, d))
            .collect::<Vec<_>>(),
    )
}

/// How many ids of new items the warning of a plan names before it says "and N more".
const NAMED_IN_WARNING: usize = 10;

/// What `Import-MSCommercePolicy` would change ([`UpdatePlan`]): every item whose value differs
/// from the baseline's, set back to it, and each product added since set to the baseline's
/// `newProducts` value where it has one. Other items added since are left as they are (one
/// warning names them); items the service no longer lists are skipped (a verbose line each).
pub(super) async fn plan(
    client: &Client,
    token: Option<&Secret>,
    path: &Path,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Value> {
    let (baseline, drift) = drift(client, token, path, sink, cancel).await?;
    // New items the baseline has no value for (a version 1 file, or an offer type) are left.
    let added: Vec<&str> = drift
        .iter()
        .filter(|d| d.change == Change::Added && d.baseline_value.is_none())
        .map(|d| d.id.as_str())
        .collect();
    if !added.is_empty() {
        let mut named = added
            .iter()
            .take(NAMED_IN_WARNING)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if added.len() > NAMED_IN_WARNING {
            named.push_str(&format!(" and {} more", added.len() - NAMED_IN_WARNING));
        }
        sink.log(
            Level::Warning,
            &format!(
                "{} items are not in the baseline and are left as they are: {named}.",
                added.len()
            ),
        );
    }
    let policy_id = &baseline.policy_id;
    let mut items = Vec::new();
    for d in &drift {
        match (d.change, &d.baseline_value) {
            (Change::Removed, _) => sink.verbose(&format!(
                "skipped {} {}: the service no longer lists it",
                d.scope.name(),
                d.id
            )),
            (Change::Changed | Change::Added, Some(value)) if !d.id.is_empty() => {
                let name = d
                    .name
                    .as_deref()
                    .map(|name| format!(" ({name})"))
                    .unwrap_or_default();
                let new = if d.change == Change::Added {
                    " (new since the baseline)"
                } else {
                    ""
                };
                items.push(PlannedUpdate {
                    update: target(policy_id, d.scope, &d.id, value),
                    target: format!("{} {}{name}", d.scope.name(), d.id),
                    action: format!(
                        "Set {policy_id} from {} to {value}{new}",
                        d.current_value.as_deref().unwrap_or_default()
                    ),
                });
            }
            _ => {}
        }
    }
    data(UpdatePlan {
        items,
        errors: Vec::new(),
    })
}

/// The baseline at `path` and how the tenant differs from it; warns when the baseline comes from
/// another tenant than the connection's.
async fn drift(
    client: &Client,
    token: Option<&Secret>,
    path: &Path,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<(Baseline, Vec<Drift>)> {
    let baseline = Baseline::read(path)?;
    if let (Some(then), Some(now)) = (&baseline.tenant_id, client.tenant_of(token).await) {
        if !then.eq_ignore_ascii_case(&now) {
            let line = format!(
                "The baseline was exported from tenant {then}; the connection is to tenant {now}."
            );
            // With -TenantId, one baseline for many tenants is the point: no warning per tenant.
            if super::tenants::current().is_some() {
                sink.verbose(&line);
            } else {
                sink.log(Level::Warning, &line);
            }
        }
    }
    let items = current(client, token, &baseline.policy_id, sink, cancel).await?;
    let drift = baseline.drift(&items);
    sink.verbose(&format!(
        "{} items differ from the baseline {}",
        drift.len(),
        path.display()
    ));
    Ok((baseline, drift))
}

/// The output object of one difference, `MSCommerce.PolicyDrift`.
fn drift_item(policy_id: &str, drift: &Drift) -> OutputItem {
    OutputItem::PolicyDrift(PolicyDrift {
        policy_id: policy_id.to_owned(),
        scope: drift.scope.name().to_owned(),
        id: drift.id.clone(),
        name: drift.name.clone(),
        change: drift.change.name().to_owned(),
        baseline_value: drift.baseline_value.clone(),
        current_value: drift.current_value.clone(),
        tenant_id: None,
    })
}
