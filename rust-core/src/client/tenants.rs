//! Requests run in tenants other than the connection's (`-TenantId`): a partner's account
//! reaches its customers' tenants through delegated admin relationships (GDAP), and a
//! multi-tenant application the tenants that consented to it.
//!
//! The tenant a request runs in is a task-local value ([`within`]) rather than a parameter of
//! every function between the operation and the credential: the licensing calls, bulk updates,
//! baselines and completions all ask [`super::Client::credential`] for their token, and it
//! answers for the tenant of the task. A request with `tenants` runs once per tenant, several
//! tenants at a time, and answers every tenant's objects (each naming its tenant) and one error
//! per tenant that failed, so one unreachable customer never stops the others.

use std::future::Future;

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::http::Cancel;
use crate::log::{Progress, Sink};
use crate::protocol::{data, ErrorReply, Operation, Request, TenantOutput, UpdatePlan};

tokio::task_local! {
    /// The tenant the current request runs in, when it is not the connection's own.
    static TENANT: InTenant;
}

/// A tenant a task runs in.
#[derive(Debug, Clone)]
pub(crate) struct InTenant {
    /// The tenant as given: an id or a domain.
    pub(crate) name: String,
}

/// How many tenants a request runs in at once. Each tenant's own requests run within the
/// bounds of its operation (a bulk update's throttle limit), so this only bounds the fan-out.
pub(crate) const TENANTS_AT_ONCE: usize = 8;

/// The tenant the current task runs in, when it is not the connection's own.
pub(crate) fn current() -> Option<String> {
    TENANT.try_with(|tenant| tenant.name.clone()).ok()
}

/// Runs `future` in `tenant` (or in the connection's own tenant for `None`).
pub(crate) async fn within<F: Future>(tenant: Option<InTenant>, future: F) -> F::Output {
    match tenant {
        Some(tenant) => TENANT.scope(tenant, future).await,
        None => future.await,
    }
}

/// A tenant's failure as its own error: aimed at the tenant, naming it, and never terminating
/// (the other tenants go on). Cancellation stays what it is.
pub(crate) fn tenant_failure(tenant: &str, error: Error) -> Error {
    if error.is_cancelled() {
        return error;
    }
    let message = if error.message().contains(tenant) {
        error.message().to_owned()
    } else {
        format!("Tenant '{tenant}': {}", error.message())
    };
    error.with_message(message).with_target(Some(tenant))
}

/// The reply of a tenant's failure: as [`tenant_failure`], and never terminating, even for an
/// error that would stop a single-tenant command (the next tenant may well be reachable).
fn failure_reply(tenant: &str, error: Error) -> ErrorReply {
    let mut reply = ErrorReply::from(&tenant_failure(tenant, error));
    reply.terminating = false;
    reply
}

/// What a tenant answered, and its id.
type Served = (Value, Option<String>);

/// Runs a request that names `tenants` in each of them and merges the answers.
pub(super) async fn run(
    client: &Client,
    request: &Request,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Value> {
    // Not connected at all is the contract's terminating error, once, not one per tenant.
    client.ensure_connected(request.token.as_ref()).await?;
    let single = Request {
        tenants: Vec::new(),
        ..request.clone()
    };
    if let Operation::ExportBaseline { .. } = request.operation {
        // A baseline file holds one tenant's values, and answers as without `-TenantId`.
        let [tenant] = request.tenants.as_slice() else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "A baseline file holds one tenant's values: export from one tenant at a time.",
            ));
        };
        let scope = InTenant {
            name: tenant.clone(),
        };
        return within(Some(scope), Box::pin(client.invoke_async(&single, cancel)))
            .await
            .map_err(|e| tenant_failure(tenant, e));
    }
    let total = request.tenants.len();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let report = |tenant: Option<&str>, completed: bool| {
        if total < 2 {
            return;
        }
        let done = finished.load(std::sync::atomic::Ordering::Relaxed);
        sink.progress(&Progress {
            activity: format!("Running in {total} tenants"),
            status: match tenant {
                Some(tenant) => format!("{done} of {total} tenants done (last: {tenant})"),
                None => format!("{done} of {total} tenants done"),
            },
            percent_complete: i32::try_from(done * 100 / total).unwrap_or(100),
            completed,
            bar: 0,
        });
    };
    report(None, false);
    let mut outcomes: Vec<(usize, Result<Served>)> =
        stream::iter(request.tenants.iter().enumerate())
            .map(|(index, tenant)| {
                let single = &single;
                let finished = &finished;
                let report = &report;
                async move {
                    let scope = InTenant {
                        name: tenant.clone(),
                    };
                    let outcome = within(Some(scope), async {
                        let value = Box::pin(client.invoke_async(single, cancel)).await?;
                        let tenant_id = client.tenant_of(single.token.as_ref()).await;
                        Ok((value, tenant_id))
                    })
                    .await;
                    finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    report(Some(tenant), false);
                    (index, outcome)
                }
            })
            .buffer_unordered(TENANTS_AT_ONCE)
            .collect()
            .await;
    report(None, true);
    if cancel.is_cancelled() {
        return Err(Error::new(
            ErrorKind::Cancelled,
            "The request was cancelled.",
        ));
    }
    outcomes.sort_by_key(|(index, _)| *index);
    let outcomes = outcomes
        .into_iter()
        .map(|(index, outcome)| (request.tenants[index].as_str(), outcome));
    match request.operation {
        Operation::PlanUpdate { .. } | Operation::PlanImport { .. } => {
            // The connection's own tenant plans as without `-TenantId`: an item piped from a
            // single-tenant listing (which names its tenant) is shown and sent as before.
            let mut own = Vec::with_capacity(total);
            for tenant in &request.tenants {
                own.push(client.is_own_tenant(tenant, request.token.as_ref()).await);
            }
            merge_plans(outcomes.zip(own), sink)
        }
        _ => merge_outputs(outcomes, sink),
    }
}

/// Every tenant's output objects, each naming its tenant, and each failed tenant's error.
fn merge_outputs<'a>(
    outcomes: impl Iterator<Item = (&'a str, Result<Served>)>,
    sink: &Sink,
) -> Result<Value> {
    let mut merged = TenantOutput {
        items: Vec::new(),
        errors: Vec::new(),
    };
    let mut items: Vec<Value> = Vec::new();
    for (tenant, outcome) in outcomes {
        match outcome {
            Ok((value, tenant_id)) => {
                let tenant_id = tenant_id.unwrap_or_else(|| tenant.to_owned());
                let objects = match value {
                    Value::Array(objects) => objects,
                    Value::Object(mut object) => {
                        // A selection answers its items and the names that matched nothing.
                        if let Some(Value::Array(errors)) = object.remove("errors") {
                            merged.errors.extend(errors.into_iter().filter_map(|error| {
                                serde_json::from_value::<ErrorShape>(error)
                                    .ok()
                                    .map(|e| e.into_reply(tenant))
                            }));
                        }
                        match object.remove("items") {
                            Some(Value::Array(objects)) => objects,
                            _ => vec![Value::Object(object)],
                        }
                    }
                    Value::Null => Vec::new(),
                    other => vec![other],
                };
                for mut object in objects {
                    if let Some(object) = object.as_object_mut() {
                        object.insert("tenantId".to_owned(), Value::String(tenant_id.clone()));
                    }
                    items.push(object);
                }
            }
            Err(error) => {
                sink.verbose(&format!("tenant {tenant} failed: {}", error.message()));
                merged.errors.push(failure_reply(tenant, error));
            }
        }
    }
    let mut value = data(merged)?;
    value["items"] = Value::Array(items);
    Ok(value)
}

/// Every tenant's plan in one: each update names its tenant, and `-WhatIf` and `-Confirm`
/// show it.
fn merge_plans<'a>(
    outcomes: impl Iterator<Item = ((&'a str, Result<Served>), bool)>,
    sink: &Sink,
) -> Result<Value> {
    let mut merged = UpdatePlan {
        items: Vec::new(),
        errors: Vec::new(),
    };
    for ((tenant, outcome), own) in outcomes {
        let plan = outcome.and_then(|(value, _)| {
            serde_json::from_value::<PlanShape>(value).map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("A tenant's plan could not be read back: {e}"),
                )
            })
        });
        match plan {
            Ok(plan) => {
                merged
                    .items
                    .extend(plan.items.into_iter().map(|mut planned| {
                        if !own {
                            planned.update.tenant_id = Some(tenant.to_owned());
                            planned.target = format!("{} in tenant {tenant}", planned.target);
                        }
                        crate::protocol::PlannedUpdate::from(planned)
                    }));
                merged.errors.extend(plan.errors.into_iter().map(|e| {
                    if own {
                        e.into_plain_reply()
                    } else {
                        e.into_reply(tenant)
                    }
                }));
            }
            Err(error) => {
                sink.verbose(&format!("tenant {tenant} failed: {}", error.message()));
                merged.errors.push(failure_reply(tenant, error));
            }
        }
    }
    data(merged)
}

/// A plan as a tenant answered it (the reply types serialize only).
#[derive(serde::Deserialize)]
struct PlanShape {
    items: Vec<PlannedShape>,
    errors: Vec<ErrorShape>,
}

/// One planned update as a tenant answered it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlannedShape {
    update: crate::protocol::RawTarget,
    target: String,
    action: String,
}

impl From<PlannedShape> for crate::protocol::PlannedUpdate {
    fn from(shape: PlannedShape) -> Self {
        crate::protocol::PlannedUpdate {
            update: shape.update,
            target: shape.target,
            action: shape.action,
        }
    }
}

/// An error reply as a tenant answered it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorShape {
    code: String,
    category: String,
    message: String,
    target: Option<String>,
    correlation_id: Option<String>,
    http_status: Option<u16>,
    details: Option<String>,
}

impl ErrorShape {
    /// The reply as the tenant gave it.
    fn into_plain_reply(self) -> ErrorReply {
        ErrorReply {
            code: self.code,
            category: self.category,
            terminating: false,
            message: self.message,
            target: self.target,
            correlation_id: self.correlation_id,
            http_status: self.http_status,
            details: self.details,
        }
    }

    /// The reply, naming the tenant it happened in.
    fn into_reply(self, tenant: &str) -> ErrorReply {
        ErrorReply {
            code: self.code,
            category: self.category,
            terminating: false,
            message: format!("Tenant '{tenant}': {}", self.message),
            target: self.target,
            correlation_id: self.correlation_id,
            http_status: self.http_status,
            details: self.details,
        }
    }
}

/// What a bulk update keeps per tenant when its items name tenants: each tenant's progress bar,
/// and the tenants that refused (no relationship, no role, no consent), whose other items are
/// not sent and whose failures are reported once.
pub(crate) struct TenantGate {
    /// Per tenant (as given, lowercase): its bar, its item count, how many are done and failed.
    tenants: std::collections::HashMap<String, TenantCount>,
    /// The tenants that refused, with the first refusal.
    refused: std::sync::Mutex<std::collections::HashMap<String, Error>>,
}

struct TenantCount {
    name: String,
    bar: u32,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
    failed: std::sync::atomic::AtomicUsize,
}

impl TenantGate {
    /// The gate of a bulk update's items.
    pub(crate) fn new(items: &[crate::protocol::BulkItem]) -> Self {
        let mut tenants: std::collections::HashMap<String, TenantCount> = Default::default();
        for item in items {
            if let crate::protocol::BulkItem::Valid {
                tenant: Some(tenant),
                ..
            } = item
            {
                let bar = u32::try_from(tenants.len() + 1).unwrap_or(u32::MAX);
                tenants
                    .entry(tenant.to_ascii_lowercase())
                    .or_insert_with(|| TenantCount {
                        name: tenant.clone(),
                        bar,
                        total: 0,
                        done: Default::default(),
                        failed: Default::default(),
                    })
                    .total += 1;
            }
        }
        TenantGate {
            tenants,
            refused: Default::default(),
        }
    }

    /// Where an item of `tenant` runs.
    pub(crate) fn scope(&self, tenant: Option<&str>) -> Option<InTenant> {
        let tenant = tenant?;
        Some(InTenant {
            name: tenant.to_owned(),
        })
    }

    /// The refusal of `tenant`, when it refused an earlier item: the item is not sent.
    pub(crate) fn refused(&self, tenant: Option<&str>) -> Option<Error> {
        let tenant = tenant?.to_ascii_lowercase();
        self.refused
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&tenant)
            .cloned()
    }

    /// Notes a failed item of `tenant`: a failure that says the tenant refuses the caller
    /// (rather than this item) stops the tenant's other items.
    pub(crate) fn refuse(&self, tenant: &str, error: &Error) {
        if refuses_tenant(error) {
            self.refused
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(tenant.to_ascii_lowercase())
                .or_insert_with(|| error.clone());
        }
    }

    /// Reports one finished item of `tenant` on the tenant's bar.
    pub(crate) fn report(&self, tenant: &str, failed: bool, sink: &Sink) {
        use std::sync::atomic::Ordering;
        let Some(count) = self.tenants.get(&tenant.to_ascii_lowercase()) else {
            return;
        };
        if self.tenants.len() < 2 {
            return;
        }
        let done = count.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failures = count
            .failed
            .fetch_add(usize::from(failed), Ordering::Relaxed)
            + usize::from(failed);
        sink.progress(&Progress {
            activity: format!("Tenant {}", count.name),
            status: format!("{done} of {} done, {failures} failed", count.total),
            percent_complete: i32::try_from(done * 100 / count.total.max(1)).unwrap_or(100),
            completed: done >= count.total,
            bar: count.bar,
        });
    }

    /// The results with each refusing tenant's failures as one error aimed at the tenant, in
    /// the place of its first failed item.
    pub(crate) fn collapse(
        &self,
        items: &[crate::protocol::BulkItem],
        results: Vec<(usize, Result<crate::protocol::OutputItem>)>,
    ) -> Vec<(usize, Result<crate::protocol::OutputItem>)> {
        let refused = self
            .refused
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if refused.is_empty() {
            return results;
        }
        let mut reported: std::collections::HashSet<String> = Default::default();
        let mut skipped: std::collections::HashMap<String, usize> = Default::default();
        for (index, outcome) in &results {
            if let (Some(tenant), Err(_)) = (tenant_of_item(&items[*index]), outcome) {
                let key = tenant.to_ascii_lowercase();
                if refused.contains_key(&key) {
                    *skipped.entry(key).or_default() += 1;
                }
            }
        }
        results
            .into_iter()
            .filter_map(|(index, outcome)| {
                let Some(tenant) = tenant_of_item(&items[index]) else {
                    return Some((index, outcome));
                };
                let key = tenant.to_ascii_lowercase();
                match (&outcome, refused.get(&key)) {
                    (Err(_), Some(error)) => {
                        if !reported.insert(key.clone()) {
                            return None;
                        }
                        let count = skipped.get(&key).copied().unwrap_or(1);
                        let error = tenant_failure(tenant, error.clone());
                        let message = format!(
                            "{} {count} item{} not updated in this tenant.",
                            error.message(),
                            if count == 1 { " was" } else { "s were" }
                        );
                        Some((index, Err(error.with_message(message))))
                    }
                    _ => Some((index, outcome)),
                }
            })
            .collect()
    }
}

/// The tenant an item of a bulk update names.
fn tenant_of_item(item: &crate::protocol::BulkItem) -> Option<&str> {
    match item {
        crate::protocol::BulkItem::Valid { tenant, .. } => tenant.as_deref(),
        crate::protocol::BulkItem::Invalid { .. } => None,
    }
}

/// Whether a failure says the tenant refuses the caller (so its other items would fail too),
/// rather than something about one item.
pub(crate) fn refuses_tenant(error: &Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Forbidden | ErrorKind::AuthExpired | ErrorKind::SignInFailed
    )
}
