//! Requests that span many items: updates run concurrently, and the selection of items by
//! `-All`, `-ProductName` and `-Exclude`.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::{tenants, Client};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Cancel, Limiter};
use crate::log::{Progress, Sink};
use crate::policy::Scope;
use crate::protocol::{
    data, BulkItem, BulkResult, ErrorReply, Operation, OutputItem, Pick, PlannedUpdate, RawTarget,
    Request, SelectedItems, Selection, UpdatePlan,
};
use crate::secret::Secret;

/// Sets every item to its value, as many at a time as `limiter`'s adaptive window allows (never
/// more than its cap, `-ThrottleLimit`), and answers one result per item in the order given
/// ([`BulkResult`]). The limiter may be shared with other bulk runs going on at the same time:
/// its cap then bounds all of them together.
///
/// Each item is one licensing request with the client's retry policy and nothing more: an item
/// that fails is reported once and never sent again by this loop. With no credential at all the
/// whole request fails (terminating, as for one item) before anything is sent; when cancelled,
/// the request fails as cancelled once the updates in flight have stopped.
pub(super) async fn update(
    client: &Client,
    token: Option<&Secret>,
    items: &[BulkItem],
    limiter: &Limiter,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Value> {
    client.credential(token, sink, cancel).await?;
    let total = items.len();
    let finished = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    // "to Disabled" when every item gets one value, as a bulk update from the cmdlet does; a
    // baseline import may set some items back to Enabled and others to Disabled.
    let mut values = items.iter().filter_map(|item| match item {
        BulkItem::Valid { value, .. } => Some(value.as_str()),
        BulkItem::Invalid { .. } => None,
    });
    let first = values.next();
    let to_value = match first {
        Some(first) if values.all(|value| value == first) => format!(" to {first}"),
        _ => String::new(),
    };
    let activity = format!("Updating {total} items{to_value}");
    let report = |completed: bool| {
        if total < 2 {
            return;
        }
        let done = finished.load(Ordering::Relaxed);
        let failures = failed.load(Ordering::Relaxed);
        sink.progress(&Progress {
            activity: activity.clone(),
            status: format!("{done} of {total} done, {failures} failed"),
            percent_complete: i32::try_from(done * 100 / total).unwrap_or(100),
            completed,
            bar: 0,
        });
    };
    // Items in other tenants: a bar per tenant under the overall one, and a tenant that refuses
    // (no relationship, no role, no consent) is one error, its other items not sent.
    let gate = tenants::TenantGate::new(items);
    report(false);
    let mut results: Vec<(usize, Result<OutputItem>)> = stream::iter(items.iter().enumerate())
        .map(|(index, bulk_item)| {
            let finished = &finished;
            let failed = &failed;
            let report = &report;
            let gate = &gate;
            async move {
                let outcome = match bulk_item {
                    BulkItem::Invalid { error, .. } => Err(error.clone()),
                    BulkItem::Valid {
                        policy_id,
                        item,
                        value,
                        tenant,
                    } => match gate.refused(tenant.as_deref()) {
                        Some(error) => Err(error),
                        None => {
                            let request = Request {
                                operation: Operation::UpdateProductPolicy {
                                    policy_id: policy_id.clone(),
                                    item: item.clone(),
                                    value: value.clone(),
                                },
                                operation_id: 0,
                                token: token.cloned(),
                                // The bulk request's own variables are the client's by now.
                                variables: None,
                                tenants: Vec::new(),
                            };
                            let outcome = tenants::within(
                                gate.scope(tenant.as_deref()),
                                client.call_item(&request, limiter, sink, cancel),
                            )
                            .await;
                            if let (Some(tenant), Err(error)) = (tenant, &outcome) {
                                gate.refuse(tenant, error);
                            }
                            outcome
                        }
                    },
                };
                finished.fetch_add(1, Ordering::Relaxed);
                if outcome.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                report(false);
                if let BulkItem::Valid {
                    tenant: Some(tenant),
                    ..
                } = bulk_item
                {
                    gate.report(tenant, outcome.is_err(), sink);
                }
                (index, outcome)
            }
        })
        // Items beyond the cap would only wait for the limiter; not starting them keeps memory
        // bounded by the cap, not by the number of items.
        .buffer_unordered(limiter.cap())
        .collect()
        .await;
    report(true);
    if cancel.is_cancelled() {
        return Err(Error::new(
            ErrorKind::Cancelled,
            "The update was cancelled.",
        ));
    }
    results.sort_by_key(|(index, _)| *index);
    let failures = failed.load(Ordering::Relaxed);
    if total > 1 {
        let (peak, decreases) = limiter.summary();
        sink.verbose(&format!(
            "{} of {total} items updated{to_value}; {failures} failed; at most {peak} in \
             flight (limit {}), {decreases} backoffs after throttling",
            total - failures,
            limiter.cap()
        ));
    }
    let results = gate.collapse(items, results);
    data(
        results
            .into_iter()
            .map(|(index, outcome)| {
                let id = items[index].id().to_owned();
                match outcome {
                    Ok(item) => BulkResult {
                        id,
                        ok: true,
                        item: Some(item),
                        error: None,
                    },
                    Err(error) => BulkResult {
                        id,
                        ok: false,
                        item: None,
                        error: Some(ErrorReply::from(&error)),
                    },
                }
            })
            .collect::<Vec<_>>(),
    )
}

/// The items a selection picks, with their values now ([`SelectedItems`]). A
/// name that matches nothing is one error (ObjectNotFound, the name as target); `-Exclude`
/// leaves out items whose id or name matches any of its patterns.
pub(super) async fn select(
    client: &Client,
    token: Option<&Secret>,
    selection: &Selection,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Value> {
    let (items, errors) = selected(client, token, selection, sink, cancel).await?;
    data(SelectedItems { items, errors })
}

/// What `Update-MSCommerceProductPolicy` would change ([`UpdatePlan`]): items by id as given
/// (nothing is sent), or the items a selection picks, each shown with its name and value now.
pub(super) async fn plan(
    client: &Client,
    token: Option<&Secret>,
    pick: &Pick,
    value: &str,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Value> {
    let (items, errors) = match pick {
        Pick::Ids {
            policy_id,
            scope,
            ids,
        } => {
            let action = set_action(policy_id, value);
            let items = ids
                .iter()
                .map(|id| PlannedUpdate {
                    update: target(policy_id, *scope, id, value),
                    target: id.clone(),
                    action: action.clone(),
                })
                .collect();
            (items, Vec::new())
        }
        Pick::Selection(selection) => {
            let (picked, errors) = selected(client, token, selection, sink, cancel).await?;
            let items = picked
                .iter()
                .filter_map(|item| planned(&selection.policy_id, item, value))
                .collect();
            (items, errors)
        }
    };
    data(UpdatePlan { items, errors })
}

/// How `-WhatIf` and `-Confirm` name setting `value`.
fn set_action(policy_id: &str, value: &str) -> String {
    format!("Set {policy_id} to {value}")
}

/// The bulk item that sets `id` of `scope` to `value`.
pub(super) fn target(policy_id: &str, scope: Scope, id: &str, value: &str) -> RawTarget {
    let (product_id, offer_type) = match scope {
        Scope::Product => (Some(id.to_owned()), None),
        Scope::OfferType => (None, Some(id.to_owned())),
    };
    RawTarget {
        policy_id: policy_id.to_owned(),
        product_id,
        offer_type,
        value: Some(value.to_owned()),
        enabled: None,
        tenant_id: None,
    }
}

/// A picked item as a planned update, shown with its name and its value now.
fn planned(policy_id: &str, item: &OutputItem, value: &str) -> Option<PlannedUpdate> {
    let (policy, scope, id, shown) = match item {
        OutputItem::ProductPolicy(product) => {
            let id = product.product_id.as_deref().filter(|id| !id.is_empty())?;
            let name = product.product_name.as_deref().unwrap_or_default();
            let now = product.policy_value.as_deref().unwrap_or_default();
            (
                &product.policy_id,
                Scope::Product,
                id,
                format!("{id} ({name}, now {now})"),
            )
        }
        OutputItem::ScopePolicy(offer) => {
            let id = offer.scope_id.as_deref().filter(|id| !id.is_empty())?;
            let now = offer.policy_value.as_deref().unwrap_or_default();
            (
                &offer.policy_id,
                Scope::OfferType,
                id,
                format!("{id} (now {now})"),
            )
        }
        OutputItem::Policy(_) | OutputItem::PolicyDrift(_) => return None,
    };
    let policy = if policy.is_empty() { policy_id } else { policy };
    Some(PlannedUpdate {
        update: target(policy, scope, id, value),
        target: shown,
        action: set_action(policy, value),
    })
}

/// The output items a selection picks, and one error per name that matched nothing.
async fn selected(
    client: &Client,
    token: Option<&Secret>,
    selection: &Selection,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<(Vec<OutputItem>, Vec<ErrorReply>)> {
    let listed = client
        .list(token, &selection.policy_id, selection.scope, sink, cancel)
        .await?;
    let mut matched = vec![false; selection.names.len()];
    let mut excluded = 0usize;
    let mut items = Vec::new();
    for service_item in listed {
        let (id, name) = match selection.scope {
            Scope::Product => (&service_item.product_id, &service_item.product_name),
            Scope::OfferType => (&service_item.scope_id, &service_item.scope_value),
        };
        let (id, name) = (id.as_deref().unwrap_or_default(), name.as_deref());
        if !selection.all {
            let mut any = false;
            for (pattern, hit) in selection.names.iter().zip(matched.iter_mut()) {
                if name.is_some_and(|name| pattern.matches(name)) {
                    *hit = true;
                    any = true;
                }
            }
            if !any {
                continue;
            }
        }
        if selection
            .exclude
            .iter()
            .any(|pattern| pattern.matches(id) || name.is_some_and(|name| pattern.matches(name)))
        {
            excluded += 1;
            continue;
        }
        items.push(OutputItem::from(service_item));
    }
    if excluded > 0 {
        sink.verbose(&format!("{excluded} items left out by -Exclude"));
    }
    let errors: Vec<ErrorReply> = selection
        .names
        .iter()
        .zip(matched)
        .filter(|(_, hit)| !hit)
        .map(|(pattern, _)| {
            let error = Error::new(
                ErrorKind::NotFound,
                format!(
                    "No product of policy '{}' has a name matching '{}'.",
                    selection.policy_id,
                    pattern.pattern()
                ),
            )
            .with_target(Some(pattern.pattern()));
            ErrorReply::from(&error)
        })
        .collect();
    Ok((items, errors))
}
