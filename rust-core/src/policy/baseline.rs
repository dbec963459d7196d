//! Baselines: a tenant's values of one policy written to a versioned JSON file, and the drift
//! of the tenant from such a file. The format is documented in `docs/baselines.md`.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{check_id, normalise_value, Scope};
use crate::error::{Error, ErrorKind, Result};

/// The `format` of every baseline file.
pub const FORMAT: &str = "MSCommerce.PolicyBaseline";

/// The newest `version` this build reads. It writes version 1 unless the baseline says what
/// to do with new products ([`Baseline::new_products`], version 2), so files that need no more
/// stay readable by older modules.
pub const VERSION: u32 = 2;

/// The version of a baseline without `newProducts`.
const VERSION_1: u32 = 1;

/// Baseline files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Baseline {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format's version; files of a newer version are refused.
    pub version: u32,
    /// The policy, such as `AllowSelfServicePurchase`.
    pub policy_id: String,
    /// When the file was written, UTC, RFC 3339.
    #[serde(default)]
    pub exported_on: Option<String>,
    /// The tenant the values were read from, when known.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// The service the values were read from.
    #[serde(default)]
    pub service_uri: Option<String>,
    /// The value of products that are not in the baseline (products Microsoft adds later):
    /// `Test-MSCommercePolicy` reports such a product when its value differs, and
    /// `Import-MSCommercePolicy` sets it. None (version 1): they are reported and left as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_products: Option<String>,
    /// Every product's value, by product id.
    #[serde(default)]
    pub products: Vec<ProductEntry>,
    /// Every offer type's value, by offer type.
    #[serde(default)]
    pub offer_types: Vec<OfferTypeEntry>,
}

/// One product of a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductEntry {
    /// The product id.
    pub product_id: String,
    /// The product's name when the file was written (for people; not compared).
    #[serde(default)]
    pub product_name: Option<String>,
    /// `Enabled`, `Disabled` or `OnlyTrialsWithoutPaymentMethod`.
    pub policy_value: String,
}

/// One offer type of a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferTypeEntry {
    /// The offer type, such as `SaaS`.
    pub offer_type: String,
    /// Its display name when the file was written (for people; not compared).
    #[serde(default)]
    pub name: Option<String>,
    /// `Enabled` or `Disabled`.
    pub policy_value: String,
}

/// An item of the tenant as the service lists it now: scope, id, name, value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// Product or offer type.
    pub scope: Scope,
    /// The product id or offer type.
    pub id: String,
    /// The display name.
    pub name: Option<String>,
    /// The value now.
    pub value: Option<String>,
}

/// Context a new baseline records besides the values.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// The tenant, when known.
    pub tenant_id: Option<String>,
    /// The service.
    pub service_uri: Option<String>,
    /// The time, RFC 3339.
    pub exported_on: Option<String>,
}

impl Baseline {
    /// A baseline of `items` (both scopes), sorted by id so files diff well; `new_products`,
    /// spelled as the service spells it, makes it a version 2 file.
    pub fn of(
        policy_id: &str,
        items: &[Current],
        provenance: Provenance,
        new_products: Option<String>,
    ) -> Self {
        let mut products: Vec<ProductEntry> = items
            .iter()
            .filter(|item| item.scope == Scope::Product)
            .map(|item| ProductEntry {
                product_id: item.id.clone(),
                product_name: item.name.clone(),
                policy_value: item.value.clone().unwrap_or_default(),
            })
            .collect();
        products.sort_by(|a, b| a.product_id.cmp(&b.product_id));
        let mut offer_types: Vec<OfferTypeEntry> = items
            .iter()
            .filter(|item| item.scope == Scope::OfferType)
            .map(|item| OfferTypeEntry {
                offer_type: item.id.clone(),
                name: item.name.clone(),
                policy_value: item.value.clone().unwrap_or_default(),
            })
            .collect();
        offer_types.sort_by(|a, b| a.offer_type.cmp(&b.offer_type));
        Baseline {
            format: FORMAT.to_owned(),
            version: if new_products.is_some() {
                VERSION
            } else {
                VERSION_1
            },
            policy_id: policy_id.to_owned(),
            exported_on: provenance.exported_on,
            tenant_id: provenance.tenant_id,
            service_uri: provenance.service_uri,
            new_products,
            products,
            offer_types,
        }
    }

    /// Parses and checks a baseline file's text; `path` names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let invalid = |why: String| invalid_file(path, &why);
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("it is not JSON ({e})")))?;
        match value.get("format").and_then(serde_json::Value::as_str) {
            Some(FORMAT) => {}
            _ => return Err(invalid(format!("its \"format\" is not \"{FORMAT}\""))),
        }
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(version) if version >= 1 && version <= u64::from(VERSION) => {}
            Some(version) if version > u64::from(VERSION) => {
                return Err(invalid(format!(
                    "it has version {version}, and this module reads up to version {VERSION}: update the module"
                )))
            }
            _ => return Err(invalid("its \"version\" is missing or not valid".to_owned())),
        }
        let mut baseline: Baseline =
            serde_json::from_value(value).map_err(|e| invalid(format!("{e}")))?;
        baseline.policy_id = check_id("policyId", baseline.policy_id)
            .map_err(|e| invalid(e.message().to_owned()))?;
        if let Some(value) = baseline.new_products.take() {
            if baseline.version < 2 {
                return Err(invalid(
                    "it has \"newProducts\", which needs \"version\": 2".to_owned(),
                ));
            }
            baseline.new_products = Some(checked_value(path, "newProducts", &value)?);
        }
        let mut seen = HashSet::new();
        for entry in &mut baseline.products {
            entry.product_id = checked_entry(path, "product", &entry.product_id, &mut seen)?;
            entry.policy_value = checked_value(path, &entry.product_id, &entry.policy_value)?;
        }
        seen.clear();
        for entry in &mut baseline.offer_types {
            entry.offer_type = checked_entry(path, "offer type", &entry.offer_type, &mut seen)?;
            entry.policy_value = checked_value(path, &entry.offer_type, &entry.policy_value)?;
        }
        Ok(baseline)
    }

    /// The file's text: indented JSON and a final line break.
    pub fn to_text(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map(|mut text| {
                text.push('\n');
                text
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("Could not encode the baseline: {e}"),
                )
            })
    }

    /// The baseline's value of an item, by scope and id (ids compare without case).
    fn values(&self) -> BTreeMap<(Scope, String), (&str, Option<&str>, &str)> {
        let products = self.products.iter().map(|entry| {
            (
                (Scope::Product, entry.product_id.to_ascii_lowercase()),
                (
                    entry.product_id.as_str(),
                    entry.product_name.as_deref(),
                    entry.policy_value.as_str(),
                ),
            )
        });
        let offer_types = self.offer_types.iter().map(|entry| {
            (
                (Scope::OfferType, entry.offer_type.to_ascii_lowercase()),
                (
                    entry.offer_type.as_str(),
                    entry.name.as_deref(),
                    entry.policy_value.as_str(),
                ),
            )
        });
        products.chain(offer_types).collect()
    }

    /// How the tenant's `current` items differ from this baseline: items whose value changed,
    /// items that appeared since, and items that are gone. Products first, then offer types,
    /// each by id.
    pub fn drift(&self, current: &[Current]) -> Vec<Drift> {
        let mut baseline = self.values();
        let mut drift = Vec::new();
        for item in current {
            let key = (item.scope, item.id.to_ascii_lowercase());
            match baseline.remove(&key) {
                Some((_, _, wanted)) => {
                    let now = item.value.as_deref().unwrap_or_default();
                    if !wanted.eq_ignore_ascii_case(now) {
                        drift.push(Drift {
                            scope: item.scope,
                            id: item.id.clone(),
                            name: item.name.clone(),
                            change: Change::Changed,
                            baseline_value: Some(wanted.to_owned()),
                            current_value: item.value.clone(),
                        });
                    }
                }
                None => {
                    // A new product the baseline has a value for is drift only when its value
                    // differs; other new items are reported as they are, with no value wanted.
                    let wanted = self
                        .new_products
                        .as_deref()
                        .filter(|_| item.scope == Scope::Product);
                    let now = item.value.as_deref().unwrap_or_default();
                    if wanted.is_some_and(|wanted| wanted.eq_ignore_ascii_case(now)) {
                        continue;
                    }
                    drift.push(Drift {
                        scope: item.scope,
                        id: item.id.clone(),
                        name: item.name.clone(),
                        change: Change::Added,
                        baseline_value: wanted.map(str::to_owned),
                        current_value: item.value.clone(),
                    })
                }
            }
        }
        drift.extend(
            baseline
                .into_iter()
                .map(|((scope, _), (id, name, wanted))| Drift {
                    scope,
                    id: id.to_owned(),
                    name: name.map(str::to_owned),
                    change: Change::Removed,
                    baseline_value: Some(wanted.to_owned()),
                    current_value: None,
                }),
        );
        drift.sort_by(|a, b| (a.scope, &a.id).cmp(&(b.scope, &b.id)));
        drift
    }

    /// Reads and checks the baseline file at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let metadata = std::fs::metadata(path).map_err(|e| file_error(path, "read", &e))?;
        if metadata.is_dir() {
            return Err(Error::new(
                ErrorKind::ReadFailed,
                format!("'{}' is a folder, not a baseline file.", path.display()),
            )
            .with_target(Some(&path.display().to_string())));
        }
        if metadata.len() > MAX_FILE_BYTES {
            return Err(invalid_file(
                path,
                &format!("it is larger than {} MiB", MAX_FILE_BYTES / 1024 / 1024),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| file_error(path, "read", &e))?;
        let text =
            String::from_utf8(bytes).map_err(|_| invalid_file(path, "it is not UTF-8 text"))?;
        Baseline::parse(text.trim_start_matches('\u{feff}'), path)
    }

    /// Writes this baseline to `path` atomically: readers see the old file or the new one,
    /// never half of one. With `no_clobber`, an existing file is left alone and is an error.
    pub fn write(&self, path: &Path, no_clobber: bool) -> Result<()> {
        let text = self.to_text()?;
        if no_clobber && path.exists() {
            return Err(Error::new(
                ErrorKind::FileExists,
                format!(
                    "The file '{}' already exists; leave out -NoClobber to replace it.",
                    path.display()
                ),
            )
            .with_target(Some(&path.display().to_string())));
        }
        if let Err(error) = write_atomically(path, text.as_bytes())? {
            return Err(file_error(path, "write", &error));
        }
        Ok(())
    }
}

/// How one item differs from the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Its value differs from the baseline's.
    Changed,
    /// It is not in the baseline: it appeared since.
    Added,
    /// It is in the baseline but the service no longer lists it.
    Removed,
}

impl Change {
    /// The name PowerShell shows.
    pub fn name(self) -> &'static str {
        match self {
            Change::Changed => "Changed",
            Change::Added => "Added",
            Change::Removed => "Removed",
        }
    }
}

/// One item that differs from the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// Product or offer type.
    pub scope: Scope,
    /// The product id or offer type.
    pub id: String,
    /// Its name (now, or in the baseline when it is gone).
    pub name: Option<String>,
    /// How it differs.
    pub change: Change,
    /// The baseline's value (none for an added item).
    pub baseline_value: Option<String>,
    /// The value now (none for a removed item).
    pub current_value: Option<String>,
}

/// Now, UTC, as RFC 3339 with seconds (`2026-11-21T10:00:00Z`).
pub fn now_rfc3339() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    rfc3339(seconds)
}

/// Unix seconds as RFC 3339, UTC.
pub(crate) fn rfc3339(unix_seconds: u64) -> String {
    let days = unix_seconds / 86_400;
    let rest = unix_seconds % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm), in unsigned terms.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

fn checked_entry(path: &Path, what: &str, id: &str, seen: &mut HashSet<String>) -> Result<String> {
    let id = check_id(what, id.to_owned()).map_err(|e| invalid_file(path, e.message()))?;
    if !seen.insert(id.to_ascii_lowercase()) {
        return Err(invalid_file(
            path,
            &format!("the {what} '{id}' is listed twice"),
        ));
    }
    Ok(id)
}

fn checked_value(path: &Path, id: &str, value: &str) -> Result<String> {
    normalise_value(value).ok_or_else(|| {
        invalid_file(
            path,
            &format!("the value '{value}' of '{id}' is not Enabled, Disabled or OnlyTrialsWithoutPaymentMethod"),
        )
    })
}

fn invalid_file(path: &Path, why: &str) -> Error {
    let why = why.trim_end_matches('.');
    Error::new(
        ErrorKind::InvalidBaseline,
        format!(
            "The file '{}' is not an MSCommerce baseline: {why}.",
            path.display()
        ),
    )
    .with_target(Some(&path.display().to_string()))
}

fn file_error(path: &Path, verb: &str, error: &std::io::Error) -> Error {
    let kind = match error.kind() {
        std::io::ErrorKind::NotFound => ErrorKind::FileNotFound,
        _ if verb == "read" => ErrorKind::ReadFailed,
        _ => ErrorKind::WriteFailed,
    };
    let message = match error.kind() {
        std::io::ErrorKind::NotFound if verb == "read" => {
            format!("Cannot find the baseline file '{}'.", path.display())
        }
        _ => format!("Cannot {verb} the file '{}': {error}.", path.display()),
    };
    Error::new(kind, message).with_target(Some(&path.display().to_string()))
}

/// Writes `bytes` to `path` whole or not at all: into a new file beside it, synced, then renamed
/// over it, so readers see the old file or the new one. The outer error is a path that names no
/// file; the inner one what the file system said.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<std::io::Result<()>> {
    let temporary = temporary_path(path)?;
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    Ok(written)
}

/// A file beside `path` (same folder, so the rename cannot cross file systems).
pub(crate) fn temporary_path(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("'{}' does not name a file.", path.display()),
        )
        .with_target(Some(&path.display().to_string()))
    })?;
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    Ok(path.with_file_name(temporary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str, name: &str, value: &str) -> Current {
        Current {
            scope: Scope::Product,
            id: id.into(),
            name: Some(name.into()),
            value: Some(value.into()),
        }
    }

    fn offer(id: &str, value: &str) -> Current {
        Current {
            scope: Scope::OfferType,
            id: id.into(),
            name: None,
            value: Some(value.into()),
        }
    }

    fn baseline(items: &[Current]) -> Baseline {
        Baseline::of(
            "AllowSelfServicePurchase",
            items,
            Provenance::default(),
            None,
        )
    }

    #[test]
    fn an_unchanged_tenant_has_no_drift() {
        let items = [product("A", "a", "Enabled"), offer("SaaS", "Disabled")];
        assert!(baseline(&items).drift(&items).is_empty());
    }

    #[test]
    fn a_changed_value_is_reported_with_both_values() {
        let before = baseline(&[product("A", "a", "Enabled"), product("B", "b", "Enabled")]);
        let drift = before.drift(&[product("A", "a", "Disabled"), product("B", "b", "Enabled")]);
        assert_eq!(drift.len(), 1);
        assert_eq!(drift[0].id, "A");
        assert_eq!(drift[0].change, Change::Changed);
        assert_eq!(drift[0].baseline_value.as_deref(), Some("Enabled"));
        assert_eq!(drift[0].current_value.as_deref(), Some("Disabled"));
    }

    #[test]
    fn a_new_product_is_added_and_a_missing_one_removed() {
        let before = baseline(&[
            product("A", "a", "Enabled"),
            product("OLD", "old", "Enabled"),
        ]);
        let drift = before.drift(&[
            product("A", "a", "Enabled"),
            product("NEW", "new", "Enabled"),
        ]);
        let changes: Vec<_> = drift.iter().map(|d| (d.id.as_str(), d.change)).collect();
        assert_eq!(changes, [("NEW", Change::Added), ("OLD", Change::Removed)]);
    }

    #[test]
    fn a_baseline_with_new_products_is_version_2_and_one_without_stays_version_1() {
        let items = [product("A", "a", "Enabled")];
        assert_eq!(baseline(&items).version, 1);
        let with = Baseline::of(
            "AllowSelfServicePurchase",
            &items,
            Provenance::default(),
            Some("Disabled".into()),
        );
        assert_eq!(with.version, 2);
        let text = with.to_text().unwrap();
        assert!(text.contains("\"newProducts\": \"Disabled\""), "{text}");
        assert_eq!(parse(&text).unwrap(), with);
        assert!(!baseline(&items).to_text().unwrap().contains("newProducts"));
    }

    #[test]
    fn a_new_product_gets_the_new_products_value_and_only_differing_ones_drift() {
        let before = Baseline::of(
            "AllowSelfServicePurchase",
            &[product("A", "a", "Enabled"), offer("SaaS", "Enabled")],
            Provenance::default(),
            Some("Disabled".into()),
        );
        let drift = before.drift(&[
            product("A", "a", "Enabled"),
            product("NEW", "new", "Enabled"),
            product("QUIET", "already blocked", "disabled"),
            offer("SaaS", "Enabled"),
            offer("NEWOFFER", "Enabled"),
        ]);
        let found: Vec<_> = drift
            .iter()
            .map(|d| (d.id.as_str(), d.change, d.baseline_value.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("NEW", Change::Added, Some("Disabled")),
                ("NEWOFFER", Change::Added, None)
            ],
            "offer types are not products: a new one is reported with no value wanted"
        );
    }

    #[test]
    fn a_version_1_file_still_reads() {
        let read = parse(r#"{"format":"MSCommerce.PolicyBaseline","version":1,"policyId":"P","products":[{"productId":"A","policyValue":"Enabled"}]}"#).unwrap();
        assert_eq!((read.version, read.new_products), (1, None));
    }

    #[test]
    fn ids_and_values_compare_without_case() {
        let before = baseline(&[product("abc", "a", "enabled")]);
        assert!(before.drift(&[product("ABC", "a", "Enabled")]).is_empty());
    }

    #[test]
    fn products_and_offer_types_with_the_same_id_are_different_items() {
        let before = baseline(&[product("X", "x", "Enabled")]);
        let drift = before.drift(&[product("X", "x", "Enabled"), offer("X", "Enabled")]);
        assert_eq!(drift.len(), 1);
        assert_eq!(drift[0].scope, Scope::OfferType);
    }

    #[test]
    fn a_written_baseline_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        let written = Baseline::of(
            "AllowSelfServicePurchase",
            &[
                product("B", "b", "Disabled"),
                product("A", "a", "Enabled"),
                offer("SaaS", "Enabled"),
            ],
            Provenance {
                tenant_id: Some("t".into()),
                service_uri: Some("http://127.0.0.1:1".into()),
                exported_on: Some(now_rfc3339()),
            },
            None,
        );
        written.write(&path, false).unwrap();
        let read = Baseline::read(&path).unwrap();
        assert_eq!(read, written);
        assert_eq!(read.products[0].product_id, "A", "sorted by id");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn no_clobber_keeps_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        std::fs::write(&path, "keep").unwrap();
        let error = baseline(&[]).write(&path, true).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::FileExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep");
    }

    #[test]
    fn a_missing_file_is_not_found_with_the_path_as_target() {
        let path = Path::new("/nonexistent/baseline.json");
        let error = Baseline::read(path).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::FileNotFound);
        assert_eq!(error.target(), Some("/nonexistent/baseline.json"));
    }

    fn parse(text: &str) -> Result<Baseline> {
        Baseline::parse(text, Path::new("b.json"))
    }

    #[test]
    fn files_that_are_not_baselines_are_refused_as_invalid_data() {
        for (text, why) in [
            ("{", "not JSON"),
            ("[]", "format"),
            (r#"{"format":"Other","version":1,"policyId":"P"}"#, "format"),
            (
                r#"{"format":"MSCommerce.PolicyBaseline","policyId":"P"}"#,
                "version",
            ),
            (
                r#"{"format":"MSCommerce.PolicyBaseline","version":3,"policyId":"P"}"#,
                "update the module",
            ),
            (
                r#"{"format":"MSCommerce.PolicyBaseline","version":1,"policyId":"P","newProducts":"Disabled"}"#,
                "needs \"version\": 2",
            ),
            (
                r#"{"format":"MSCommerce.PolicyBaseline","version":2,"policyId":"P","newProducts":"Sometimes"}"#,
                "Sometimes",
            ),
            (
                r#"{"format":"MSCommerce.PolicyBaseline","version":1}"#,
                "policyId",
            ),
            (
                r#"{"format":"MSCommerce.PolicyBaseline","version":1,"policyId":"P","products":[{"productId":"A","policyValue":"Maybe"}]}"#,
                "Maybe",
            ),
            (
                r#"{"format":"MSCommerce.PolicyBaseline","version":1,"policyId":"P","products":[{"productId":"A","policyValue":"Enabled"},{"productId":"a","policyValue":"Enabled"}]}"#,
                "twice",
            ),
            (
                r#"{"format":"MSCommerce.PolicyBaseline","version":1,"policyId":"P","products":[{"productId":"..","policyValue":"Enabled"}]}"#,
                "relative path",
            ),
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidBaseline, "{text}");
            assert!(error.message().contains(why), "{text}: {}", error.message());
        }
    }

    #[test]
    fn unknown_fields_of_the_same_version_are_ignored_and_values_normalised() {
        let baseline = parse(
            r#"{"format":"MSCommerce.PolicyBaseline","version":1,"policyId":"P","comment":"x",
                "products":[{"productId":"A","policyValue":"disabled","note":1}]}"#,
        )
        .unwrap();
        assert_eq!(baseline.products[0].policy_value, "Disabled");
    }

    #[test]
    fn dates_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_258_800), "2026-11-21T11:00:00Z");
    }
}
