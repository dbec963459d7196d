//! Requests that span many items: updates run concurrently, and the selection of items by
//! `-All`, `-ProductName` and `-Exclude`.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::http::Cancel;
use crate::log::{Progress, Sink};
use crate::policy::Scope;
use crate::protocol::{
    data, BulkItem, BulkResult, ErrorReply, Operation, OutputItem, Request, SelectedItems,
    Selection,
};
use crate::secret::Secret;

/// Sets every item to `value`, at most `throttle_limit` at a time, and answers one result per
/// item in the order given ([`BulkResult`]).
///
/// Each item is one licensing request with the client's retry policy and nothing more: an item
/// that fails is reported once and never sent again by this loop. With no credential at all the
/// whole request fails (terminating, as for one item) before anything is sent; when cancelled,
/// the request fails as cancelled once the updates in flight have stopped.
pub(super) async fn update(
    client: &Client,
    token: Option<&Secret>,
    items: &[BulkItem],
    value: &str,
    throttle_limit: usize,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Value> {
    client.credential(token, sink, cancel).await?;
    let total = items.len();
    let finished = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let activity = format!("Updating {total} items to {value}");
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
        });
    };
    report(false);
    let mut results: Vec<(usize, Result<OutputItem>)> = stream::iter(items.iter().enumerate())
        .map(|(index, bulk_item)| {
            let finished = &finished;
            let failed = &failed;
            let report = &report;
            async move {
                let outcome = match bulk_item {
                    BulkItem::Invalid { error, .. } => Err(error.clone()),
                    BulkItem::Valid { policy_id, item } => {
                        let request = Request {
                            operation: Operation::UpdateProductPolicy {
                                policy_id: policy_id.clone(),
                                item: item.clone(),
                                value: value.to_owned(),
                            },
                            operation_id: 0,
                            token: token.cloned(),
                            // The bulk request's own variables are the client's by now.
                            variables: None,
                        };
                        client.call_item(&request, sink, cancel).await
                    }
                };
                finished.fetch_add(1, Ordering::Relaxed);
                if outcome.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                report(false);
                (index, outcome)
            }
        })
        .buffer_unordered(throttle_limit)
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
        sink.verbose(&format!(
            "{} of {total} items updated to {value}; {failures} failed",
            total - failures
        ));
    }
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
    data(SelectedItems { items, errors })
}
