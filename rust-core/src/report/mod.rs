//! `Export-MSCommercePolicyReport`: one policy across many tenants as a single self-contained
//! HTML page (tenants as rows, products as columns, drift from a baseline marked).
//!
//! The input is plain data ([`ReportInput`]) so the page can be rendered without a service;
//! [`TenantRow::from_current`] builds a row from what the core already has, a tenant's items and
//! the drift [`Baseline::drift`] computed, so the report and `Test-MSCommercePolicy` can never
//! disagree on what drift is. Offer types are left out: the report is about products.

mod html;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub use html::render;

use crate::error::{Error, ErrorKind, Result};
#[cfg(doc)]
use crate::policy::baseline::Baseline;
use crate::policy::baseline::{write_atomically, Change, Current, Drift};
use crate::policy::Scope;

/// Everything one report shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInput {
    /// The policy, such as `AllowSelfServicePurchase`.
    pub policy_id: String,
    /// When the values were read, Unix seconds (shown as UTC).
    pub generated_at: u64,
    /// The module's version, shown in the header.
    pub module_version: String,
    /// The baseline file's name, when drift was computed against one.
    pub baseline: Option<String>,
    /// One row per tenant, in the order shown.
    pub tenants: Vec<TenantRow>,
}

/// One tenant's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    /// The tenant id (or domain) the values were read from.
    pub tenant_id: String,
    /// A name for people, shown above the id when given.
    pub label: Option<String>,
    /// The tenant's values, or why they could not be read.
    pub outcome: TenantOutcome,
}

/// What reading one tenant gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantOutcome {
    /// The tenant's products (in any order; the page sorts the columns).
    Items(Vec<ReportCell>),
    /// The tenant could not be read: the message is shown across its row.
    Error(String),
}

/// One product of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportCell {
    /// The product id (compared without case, as baselines do).
    pub product_id: String,
    /// The product's name, when the service gave one.
    pub product_name: Option<String>,
    /// The value now; none when the service lists no value or no longer lists the product.
    pub value: Option<String>,
    /// The value the baseline wants, when it has one for this product.
    pub expected: Option<String>,
    /// How the product differs from the baseline; none when it does not (or without a baseline).
    pub drift: Option<CellDrift>,
}

/// How a cell differs from the baseline (the `Change` of `Test-MSCommercePolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellDrift {
    /// The value differs from the baseline's.
    Changed,
    /// The product is not in the baseline (and its value differs from `newProducts`, if any).
    Added,
    /// The baseline has the product; the service no longer lists it.
    Removed,
}

impl CellDrift {
    /// The name `Test-MSCommercePolicy` shows.
    pub fn name(self) -> &'static str {
        match self {
            CellDrift::Changed => "Changed",
            CellDrift::Added => "Added",
            CellDrift::Removed => "Removed",
        }
    }
}

impl From<Change> for CellDrift {
    fn from(change: Change) -> Self {
        match change {
            Change::Changed => CellDrift::Changed,
            Change::Added => CellDrift::Added,
            Change::Removed => CellDrift::Removed,
        }
    }
}

impl TenantRow {
    /// A tenant's row from its items as the service lists them (`ServiceItem::current`) and
    /// their drift from the baseline as [`Baseline::drift`] computed it (empty without one).
    /// Products only; a product the baseline has and the service no longer lists becomes a cell
    /// without a value, marked [`CellDrift::Removed`].
    pub(crate) fn from_current(
        tenant_id: &str,
        label: Option<&str>,
        items: &[Current],
        drift: &[Drift],
    ) -> Self {
        let mut drift_by_id: HashMap<String, &Drift> = drift
            .iter()
            .filter(|d| d.scope == Scope::Product)
            .map(|d| (d.id.to_ascii_lowercase(), d))
            .collect();
        let mut cells: Vec<ReportCell> = items
            .iter()
            .filter(|item| item.scope == Scope::Product)
            .map(|item| {
                let found = drift_by_id.remove(&item.id.to_ascii_lowercase());
                ReportCell {
                    product_id: item.id.clone(),
                    product_name: item.name.clone(),
                    value: item.value.clone(),
                    expected: found.and_then(|d| d.baseline_value.clone()),
                    drift: found.map(|d| d.change.into()),
                }
            })
            .collect();
        // What is left was not listed: removed since the baseline. Sorted so the row is the
        // same whatever order the map gives.
        let mut removed: Vec<&Drift> = drift_by_id.into_values().collect();
        removed.sort_by(|a, b| a.id.cmp(&b.id));
        cells.extend(removed.into_iter().map(|d| ReportCell {
            product_id: d.id.clone(),
            product_name: d.name.clone(),
            value: None,
            expected: d.baseline_value.clone(),
            drift: Some(d.change.into()),
        }));
        TenantRow {
            tenant_id: tenant_id.to_owned(),
            label: label.map(str::to_owned),
            outcome: TenantOutcome::Items(cells),
        }
    }

    /// The row of a tenant that could not be read, with the message to show.
    pub fn failed(tenant_id: &str, label: Option<&str>, message: &str) -> Self {
        TenantRow {
            tenant_id: tenant_id.to_owned(),
            label: label.map(str::to_owned),
            outcome: TenantOutcome::Error(message.to_owned()),
        }
    }

    /// The products the tenant lists and how many cells drifted (removed products included); none when it could not be read.
    pub fn counts(&self) -> Option<(usize, usize)> {
        match &self.outcome {
            TenantOutcome::Items(cells) => Some((
                cells
                    .iter()
                    .filter(|c| c.drift != Some(CellDrift::Removed))
                    .count(),
                cells.iter().filter(|c| c.drift.is_some()).count(),
            )),
            TenantOutcome::Error(_) => None,
        }
    }
}

/// A column of the report: one product, whichever tenants list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    /// The id compared without case: the key cells are found by.
    key: String,
    /// The id as first seen.
    id: String,
    /// The first name seen for it.
    name: Option<String>,
}

/// The union of every tenant's products, sorted by name (without case), then id.
pub(crate) fn columns(input: &ReportInput) -> Vec<Column> {
    let mut by_key: BTreeMap<String, Column> = BTreeMap::new();
    for tenant in &input.tenants {
        let TenantOutcome::Items(cells) = &tenant.outcome else {
            continue;
        };
        for cell in cells {
            let column = by_key
                .entry(cell.product_id.to_ascii_lowercase())
                .or_insert_with_key(|key| Column {
                    key: key.clone(),
                    id: cell.product_id.clone(),
                    name: None,
                });
            if column.name.is_none() {
                column.name.clone_from(&cell.product_name);
            }
        }
    }
    let mut columns: Vec<Column> = by_key.into_values().collect();
    columns.sort_by_cached_key(|c| {
        (
            c.name.as_deref().unwrap_or(&c.id).to_lowercase(),
            c.key.clone(),
        )
    });
    columns
}

/// The numbers of a report, for its header and for the reply of the operation that writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportSummary {
    /// Rows.
    pub tenants: usize,
    /// Rows of tenants that could not be read.
    pub failed_tenants: usize,
    /// Columns: products any tenant lists.
    pub products: usize,
    /// Cells that differ from the baseline.
    pub drifted_cells: usize,
    /// Tenants with at least one such cell.
    pub drifted_tenants: usize,
}

impl ReportInput {
    /// The report's numbers.
    pub fn summary(&self) -> ReportSummary {
        let mut summary = ReportSummary {
            tenants: self.tenants.len(),
            products: columns(self).len(),
            ..ReportSummary::default()
        };
        for tenant in &self.tenants {
            match tenant.counts() {
                Some((_, drifted)) => {
                    summary.drifted_cells += drifted;
                    summary.drifted_tenants += usize::from(drifted > 0);
                }
                None => summary.failed_tenants += 1,
            }
        }
        summary
    }
}

/// Renders `input` and writes the page to `path` atomically (readers see the old file or the
/// new one); answers the report's numbers.
pub fn write(input: &ReportInput, path: &Path) -> Result<ReportSummary> {
    let page = render(input);
    if let Err(error) = write_atomically(path, page.as_bytes())? {
        let kind = match error.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::FileNotFound,
            _ => ErrorKind::WriteFailed,
        };
        return Err(Error::new(
            kind,
            format!("Cannot write the report '{}': {error}.", path.display()),
        )
        .with_target(Some(&path.display().to_string())));
    }
    Ok(input.summary())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::baseline::{Baseline, Provenance};

    fn product(id: &str, name: &str, value: &str) -> Current {
        Current {
            scope: Scope::Product,
            id: id.into(),
            name: Some(name.into()),
            value: Some(value.into()),
        }
    }

    fn cells(row: &TenantRow) -> &[ReportCell] {
        match &row.outcome {
            TenantOutcome::Items(cells) => cells,
            TenantOutcome::Error(e) => panic!("an error row: {e}"),
        }
    }

    #[test]
    fn a_row_takes_expected_values_and_changes_from_the_baselines_drift() {
        let baseline = Baseline::of(
            "AllowSelfServicePurchase",
            &[
                product("A", "a", "Enabled"),
                product("B", "b", "Enabled"),
                product("GONE", "gone", "Disabled"),
            ],
            Provenance::default(),
            None,
        );
        let now = [
            product("A", "a", "Enabled"),
            product("b", "b", "Disabled"),
            product("NEW", "new", "Enabled"),
        ];
        let row = TenantRow::from_current("t", None, &now, &baseline.drift(&now));
        let found: Vec<_> = cells(&row)
            .iter()
            .map(|c| {
                (
                    c.product_id.as_str(),
                    c.value.as_deref(),
                    c.expected.as_deref(),
                    c.drift,
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("A", Some("Enabled"), None, None),
                (
                    "b",
                    Some("Disabled"),
                    Some("Enabled"),
                    Some(CellDrift::Changed)
                ),
                ("NEW", Some("Enabled"), None, Some(CellDrift::Added)),
                ("GONE", None, Some("Disabled"), Some(CellDrift::Removed)),
            ]
        );
        assert_eq!(row.counts(), Some((3, 3)), "GONE is not listed but drifted");
    }

    #[test]
    fn offer_types_are_left_out() {
        let offer = Current {
            scope: Scope::OfferType,
            id: "SaaS".into(),
            name: None,
            value: Some("Enabled".into()),
        };
        let row = TenantRow::from_current("t", None, &[offer], &[]);
        assert!(cells(&row).is_empty());
    }

    fn cell(id: &str, name: Option<&str>) -> ReportCell {
        ReportCell {
            product_id: id.into(),
            product_name: name.map(str::to_owned),
            value: Some("Enabled".into()),
            expected: None,
            drift: None,
        }
    }

    #[test]
    fn columns_are_the_union_by_id_without_case_sorted_by_name_then_id() {
        let input = ReportInput {
            policy_id: "P".into(),
            generated_at: 0,
            module_version: "1".into(),
            baseline: None,
            tenants: vec![
                TenantRow {
                    tenant_id: "one".into(),
                    label: None,
                    outcome: TenantOutcome::Items(vec![cell("Z", Some("alpha")), cell("B", None)]),
                },
                TenantRow::failed("two", None, "no"),
                TenantRow {
                    tenant_id: "three".into(),
                    label: None,
                    outcome: TenantOutcome::Items(vec![
                        cell("z", Some("other")),
                        cell("A", Some("Beta")),
                    ]),
                },
            ],
        };
        let ids: Vec<_> = columns(&input).into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["Z", "B", "A"], "alpha < B (its id) < Beta");
        let summary = input.summary();
        assert_eq!(
            (summary.tenants, summary.failed_tenants, summary.products),
            (3, 1, 3)
        );
    }

    #[test]
    fn write_replaces_the_file_and_leaves_no_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.html");
        std::fs::write(&path, "old").unwrap();
        let input = ReportInput {
            policy_id: "P".into(),
            generated_at: 0,
            module_version: "1".into(),
            baseline: None,
            tenants: vec![TenantRow::failed("t", None, "no")],
        };
        let summary = write(&input, &path).unwrap();
        assert_eq!(summary.failed_tenants, 1);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), render(&input));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_into_a_missing_folder_fails_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nowhere").join("report.html");
        let input = ReportInput {
            policy_id: "P".into(),
            generated_at: 0,
            module_version: "1".into(),
            baseline: None,
            tenants: Vec::new(),
        };
        let error = write(&input, &path).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::FileNotFound);
        assert!(
            error.message().contains("report.html"),
            "{}",
            error.message()
        );
    }
}
