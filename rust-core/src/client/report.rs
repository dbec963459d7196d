//! `exportReport` (`Export-MSCommercePolicyReport`): reads a policy's values in each tenant,
//! compares them with a baseline file when given one, and writes the page ([`crate::report`]).
//! A tenant that cannot be read is a row with the reason and one non-terminating error; the
//! others are still reported.

use std::path::Path;

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::tenants::{self, InTenant};
use super::{baseline, Client};
use crate::error::{Error, ErrorKind, Result};
use crate::http::Cancel;
use crate::log::Sink;
use crate::policy::baseline::Baseline;
use crate::protocol::{data, ErrorReply, PolicyReport, Request};
use crate::report::{self, ReportInput, TenantRow};

/// A tenant's items as the service lists them, and the tenant's id.
type TenantItems = (Vec<crate::policy::baseline::Current>, Option<String>);

/// What the page is about: the policy, the file, the baseline, and whether an existing file
/// may be replaced.
pub(super) struct ReportFile<'a> {
    /// The policy.
    pub(super) policy_id: &'a str,
    /// The page.
    pub(super) path: &'a Path,
    /// The baseline file drift is shown against.
    pub(super) baseline: Option<&'a Path>,
    /// Refuse to replace an existing file.
    pub(super) no_clobber: bool,
}

/// Writes the report of `request`'s tenants (the connection's own without any).
pub(super) async fn export(
    client: &Client,
    request: &Request,
    file: ReportFile<'_>,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Value> {
    // What cannot work fails before any tenant is read.
    let baseline = file.baseline.map(Baseline::read).transpose()?;
    if file.no_clobber && file.path.exists() {
        return Err(Error::new(
            ErrorKind::FileExists,
            format!(
                "The file '{}' already exists (-NoClobber).",
                file.path.display()
            ),
        )
        .with_target(Some(&file.path.display().to_string())));
    }
    let token = request.token.as_ref();
    client.ensure_connected(token).await?;
    let tenants: Vec<Option<String>> = if request.tenants.is_empty() {
        vec![None]
    } else {
        request.tenants.iter().cloned().map(Some).collect()
    };
    let mut read: Vec<(usize, Option<String>, Result<TenantItems>)> =
        stream::iter(tenants.into_iter().enumerate())
            .map(|(index, tenant)| async move {
                let scope = tenant.clone().map(|name| InTenant { name });
                let outcome = tenants::within(scope, async {
                    let items =
                        baseline::current(client, token, file.policy_id, sink, cancel).await?;
                    Ok((items, client.tenant_of(token).await))
                })
                .await;
                (index, tenant, outcome)
            })
            .buffer_unordered(tenants::TENANTS_AT_ONCE)
            .collect()
            .await;
    if cancel.is_cancelled() {
        return Err(Error::new(
            ErrorKind::Cancelled,
            "The report was cancelled.",
        ));
    }
    read.sort_by_key(|(index, _, _)| *index);
    let mut rows = Vec::with_capacity(read.len());
    let mut errors: Vec<ErrorReply> = Vec::new();
    for (_, tenant, outcome) in read {
        match outcome {
            Ok((items, tenant_id)) => {
                let drift = baseline
                    .as_ref()
                    .map(|baseline| baseline.drift(&items))
                    .unwrap_or_default();
                let id = tenant_id
                    .clone()
                    .or_else(|| tenant.clone())
                    .unwrap_or_default();
                // The name the user gave, when it is not the id shown anyway.
                let label = tenant
                    .as_deref()
                    .filter(|given| !given.eq_ignore_ascii_case(&id));
                rows.push(TenantRow::from_current(&id, label, &items, &drift));
            }
            Err(error) if error.is_cancelled() => return Err(error),
            Err(error) => match &tenant {
                Some(tenant) => {
                    let error = tenants::tenant_failure(tenant, error);
                    sink.verbose(&format!("tenant {tenant} failed: {}", error.message()));
                    rows.push(TenantRow::failed(tenant, None, error.message()));
                    let mut reply = ErrorReply::from(&error);
                    reply.terminating = false;
                    errors.push(reply);
                }
                // The connection's own tenant alone: nothing to report without it.
                None => return Err(error),
            },
        }
    }
    let input = ReportInput {
        policy_id: file.policy_id.to_owned(),
        generated_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        module_version: env!("CARGO_PKG_VERSION").to_owned(),
        baseline: file
            .baseline
            .and_then(Path::file_name)
            .map(|name| name.to_string_lossy().into_owned()),
        tenants: rows,
    };
    let summary = report::write(&input, file.path)?;
    sink.verbose(&format!(
        "wrote {}: {} tenants ({} failed), {} products, {} cells differ from the baseline",
        file.path.display(),
        summary.tenants,
        summary.failed_tenants,
        summary.products,
        summary.drifted_cells
    ));
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    data(PolicyReport {
        path: file.path.display().to_string(),
        policy_id: file.policy_id.to_owned(),
        tenants: count(summary.tenants),
        failed_tenants: count(summary.failed_tenants),
        products: count(summary.products),
        drifted_cells: count(summary.drifted_cells),
        drifted_tenants: count(summary.drifted_tenants),
        errors,
    })
}
