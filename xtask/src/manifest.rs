//! A module manifest as PowerShell reads it: `xtask/scripts/manifest.ps1` runs
//! `Import-PowerShellDataFile` and `Test-ModuleManifest` on it and prints the data as JSON, which
//! this module only looks values up in.

use std::path::Path;

use serde_json::{Map, Value};

use crate::powershell::PowerShell;
use crate::process::capture;

/// The script that reads a manifest, relative to the workspace root.
const SCRIPT: &str = "xtask/scripts/manifest.ps1";

/// A manifest read by PowerShell, and what `Test-ModuleManifest` said about it.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The top-level hashtable.
    pub data: Table,
    /// `Test-ModuleManifest`'s errors (empty: it accepted the manifest).
    pub problems: Vec<String>,
}

/// Reads the manifest at `path` (a `.psd1` in a folder with the module's files).
pub fn read(pwsh: &PowerShell, root: &Path, path: &Path) -> Result<Manifest, String> {
    let out = capture(
        pwsh.script(root, SCRIPT)
            .arg("-Path")
            .arg(path)
            .env("NO_COLOR", "1")
            .env("POWERSHELL_TELEMETRY_OPTOUT", "1")
            .env("POWERSHELL_UPDATECHECK", "Off"),
    )
    .map_err(|e| format!("read {}: {e}", path.display()))?;
    parse(&out).map_err(|e| format!("{}: {e}", path.display()))
}

/// The last JSON line of the script's output.
fn parse(out: &str) -> Result<Manifest, String> {
    let value: Value = out
        .lines()
        .rev()
        .map(str::trim)
        .filter(|line| line.starts_with('{'))
        .find_map(|line| serde_json::from_str(line).ok())
        .ok_or_else(|| format!("{SCRIPT} printed no JSON"))?;
    let data = Table::from_value(&value["data"]).ok_or("the manifest is not a hashtable")?;
    let problems = match &value["problems"] {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map_or_else(|| item.to_string(), str::to_owned)
            })
            .collect(),
        Value::String(one) => vec![one.clone()],
        _ => Vec::new(),
    };
    Ok(Manifest { data, problems })
}

/// A hashtable of the manifest, looked up case-insensitively as PowerShell does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table(Map<String, Value>);

impl Table {
    /// The table, if `value` is a JSON object.
    pub fn from_value(value: &Value) -> Option<Table> {
        value.as_object().cloned().map(Table)
    }

    /// The value of `key`, whatever its case.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// The string value of `key` (a one-item list counts).
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Value::String(s) => Some(s),
            Value::Array(items) if items.len() == 1 => items[0].as_str(),
            _ => None,
        }
    }

    /// The strings of `key`: a string is a list of one; absent is empty.
    pub fn strings(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.iter().map(text).collect(),
            Some(other) => vec![text(other)],
        }
    }

    /// The table value of `key`.
    pub fn table(&self, key: &str) -> Option<Table> {
        self.get(key).and_then(Table::from_value)
    }
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_json_gives_values_by_any_case_and_the_problems() {
        let out = "noise\n{\"data\":{\"RootModule\":\"A.psm1\",\"NestedModules\":[\"A.dll\"],\
            \"Tags\":\"one\",\"Empty\":[],\
            \"PrivateData\":{\"PSData\":{\"ReleaseNotes\":\"line 1\\nline 2\"}}},\
            \"problems\":[\"Test-ModuleManifest: no\"]}\n";
        let manifest = parse(out).unwrap();
        let table = &manifest.data;
        assert_eq!(table.str("rootmodule"), Some("A.psm1"));
        assert_eq!(table.str("NestedModules"), Some("A.dll"));
        assert_eq!(table.strings("Tags"), ["one"]);
        assert!(table.strings("Empty").is_empty());
        assert!(table.strings("Missing").is_empty());
        let data = table.table("PrivateData").unwrap().table("psdata").unwrap();
        assert_eq!(data.str("ReleaseNotes"), Some("line 1\nline 2"));
        assert_eq!(manifest.problems, ["Test-ModuleManifest: no"]);
        assert!(parse("no json here").is_err());
    }

    #[test]
    fn powershell_reads_the_project_manifest() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let pwsh = crate::powershell::find(root).expect("PowerShell is required");
        let manifest = read(&pwsh, root, &root.join("MSCommerce.psd1")).unwrap();
        assert_eq!(
            manifest.data.str("GUID"),
            Some("0141756d-17fc-4ea8-9169-d034b210847e")
        );
        assert!(manifest
            .data
            .strings("CmdletsToExport")
            .contains(&"Update-MSCommerceProductPolicy".to_owned()));
    }
}
