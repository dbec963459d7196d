//! Settings from the caller's environment: the values of named environment variables as the
//! shim saw them, and the PowerShell edition it runs in.
//!
//! The core never reads the process environment. On Linux and macOS, `$env:X = ...` in
//! PowerShell changes only .NET's managed copy of the environment, which native code's `getenv`
//! does not see; so the shim reads every variable the core uses with .NET, at the time of each
//! call, and passes them in the client configuration and in every request (`variables`, see
//! `docs/abi.md`). What a request carries replaces what the client had.
//!
//! The variables the core uses: every name that starts with [`PREFIX`], and [`NAMES`]. The
//! shim's list (`dotnet-shim/Interop/SessionVariables.cs`) is checked against these by
//! `rust-core/tests/settings.rs`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::error::{Error, ErrorKind, Result};

/// Every variable whose name starts with this is the module's own (`MSCOMMERCE_SERVICE_URI`,
/// `MSCOMMERCE_TOKEN_CACHE`, ...), and is passed whatever its name, so a new one needs no change
/// to the shim.
pub const PREFIX: &str = "MSCOMMERCE_";

/// The other variables the core uses: the proxy variables (upper case first, as reqwest and
/// curl read them), the folders the default token cache file lives under, and the variables
/// Azure.Identity reads for app-only sign-in (the environment credential, workload identity,
/// and the managed identity endpoints; `ProgramData` is where the Arc agent keeps its keys on
/// Windows).
pub const NAMES: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "HOME",
    "XDG_DATA_HOME",
    "LOCALAPPDATA",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "ProgramData",
];

/// The variables among [`NAMES`] whose values are credentials. Every value is kept out of
/// `Debug` output and messages anyway; these are also read only into a `Secret`, and the shim
/// must never show them either.
pub const SECRET_NAMES: &[&str] = &[
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "IDENTITY_HEADER",
    "MSI_SECRET",
];

/// Whether the core uses the variable `name` (see the module's documentation). Windows compares
/// names without case, as its environment does.
pub fn is_used(name: &str) -> bool {
    if cfg!(windows) {
        name.get(..PREFIX.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(PREFIX))
            || NAMES.iter().any(|known| known.eq_ignore_ascii_case(name))
    } else {
        name.starts_with(PREFIX) || NAMES.contains(&name)
    }
}

/// The values of the variables the core uses, as the shim saw them. Names the core does not use
/// are dropped, and an empty value counts as unset (PowerShell's `$env:X = ''` removes `X`).
///
/// `Debug` shows names only: a value may be a secret (a proxy URL with a password).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Variables(BTreeMap<String, String>);

impl Variables {
    /// No variables at all.
    pub fn new() -> Self {
        Variables::default()
    }

    /// The variables among `pairs` that the core uses.
    pub fn from_pairs<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> Self
    where
        N: Into<String>,
        V: Into<String>,
    {
        Variables(
            pairs
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .filter(|(name, value)| !value.is_empty() && is_used(name))
                .collect(),
        )
    }

    /// The value of `name`, if it was set (and not empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        if let Some(value) = self.0.get(name) {
            return Some(value);
        }
        if cfg!(windows) {
            return self
                .0
                .iter()
                .find(|(known, _)| known.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str());
        }
        None
    }

    /// The first of `names` that is set, with its value.
    pub fn first_of<'a>(&self, names: &[&'a str]) -> Option<(&'a str, &str)> {
        names
            .iter()
            .find_map(|name| self.get(name).map(|value| (*name, value)))
    }

    /// The names that are set, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// True when no variable is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Variables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl<'de> Deserialize<'de> for Variables {
    /// `{"NAME": "value", ...}`; a null value counts as unset.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let raw = BTreeMap::<String, Option<String>>::deserialize(deserializer)?;
        Ok(Variables::from_pairs(raw.into_iter().filter_map(
            |(name, value)| value.map(|value| (name, value)),
        )))
    }
}

impl schemars::JsonSchema for Variables {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Variables".into()
    }

    /// What [`Variables`] reads: an object of names and string values (or null).
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <BTreeMap<String, Option<String>>>::json_schema(generator)
    }
}

/// The PowerShell edition the shim runs in. It chooses the wording of HTTP failures, which the
/// contract's messages quote as the web cmdlets of that edition word them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Edition {
    /// Windows PowerShell 5.1 (.NET Framework): `The remote server returned an error: (404) Not
    /// Found.` The default, so hosts that say nothing keep the original module's text.
    #[default]
    Desktop,
    /// PowerShell 7 (.NET): `Response status code does not indicate success: 404 (Not Found).`
    Core,
}

impl Edition {
    /// `Desktop` or `Core`, in any case, as `$PSVersionTable.PSEdition` spells them.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim() {
            t if t.eq_ignore_ascii_case("Desktop") => Ok(Edition::Desktop),
            t if t.eq_ignore_ascii_case("Core") => Ok(Edition::Core),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                "edition must be Desktop or Core.",
            )),
        }
    }

    /// The name `$PSVersionTable.PSEdition` shows.
    pub fn name(self) -> &'static str {
        match self {
            Edition::Desktop => "Desktop",
            Edition::Core => "Core",
        }
    }
}

/// `text` with the credentials of every URL in it replaced by `***`
/// (`http://user:secret@proxy:3128` becomes `http://***@proxy:3128`), for messages that may
/// quote a URL from a variable or an error that quotes one.
pub fn redact_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // Up to the query, the fragment or the end of the URL, not the path: a password with
        // an unescaped `/` must not hide the `@` after it. A path holding `@` is redacted too,
        // which costs only some detail in a message.
        let end = after
            .find(|c: char| {
                matches!(c, '?' | '#' | '\'' | '"' | '(' | ')' | ',') || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.push_str("***");
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_modules_own_and_the_listed_variables_are_kept() {
        let variables = Variables::from_pairs([
            ("MSCOMMERCE_SERVICE_URI", "http://127.0.0.1:5000"),
            ("MSCOMMERCE_SOMETHING_NEW", "x"),
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("PATH", "/usr/bin"),
            ("MSCOMMERCE_EMPTY", ""),
        ]);
        assert_eq!(
            variables.names().collect::<Vec<_>>(),
            [
                "HTTPS_PROXY",
                "MSCOMMERCE_SERVICE_URI",
                "MSCOMMERCE_SOMETHING_NEW"
            ]
        );
        assert_eq!(variables.get("PATH"), None);
        assert_eq!(variables.get("MSCOMMERCE_EMPTY"), None);
        assert_eq!(variables.get("MSCOMMERCE_SOMETHING_NEW"), Some("x"));
    }

    #[test]
    fn the_first_set_name_wins() {
        let variables = Variables::from_pairs([
            ("https_proxy", "http://lower:1"),
            ("HTTP_PROXY", "http://h:2"),
        ]);
        assert_eq!(
            variables.first_of(&["HTTPS_PROXY", "https_proxy"]),
            Some(("https_proxy", "http://lower:1"))
        );
        assert_eq!(variables.first_of(&["ALL_PROXY", "all_proxy"]), None);
    }

    #[test]
    fn variables_read_from_json_drop_nulls_and_unknown_names() {
        let variables: Variables =
            serde_json::from_str(r#"{"MSCOMMERCE_BROWSER":"true","HOME":null,"SHELL":"/bin/sh"}"#)
                .unwrap();
        assert_eq!(
            variables.names().collect::<Vec<_>>(),
            ["MSCOMMERCE_BROWSER"]
        );
        assert!(serde_json::from_str::<Variables>(r#"{"HOME":1}"#).is_err());
        assert!(serde_json::from_str::<Variables>(r#"["HOME"]"#).is_err());
    }

    #[test]
    fn debug_shows_names_never_values() {
        let variables = Variables::from_pairs([("HTTPS_PROXY", "http://user:s3cret@proxy:3128")]);
        let shown = format!("{variables:?}");
        assert!(shown.contains("HTTPS_PROXY"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn secret_variables_are_used_and_never_shown() {
        let variables = Variables::from_pairs(
            SECRET_NAMES
                .iter()
                .map(|name| (*name, format!("value-of-{name}"))),
        );
        assert_eq!(variables.names().count(), SECRET_NAMES.len());
        let shown = format!("{variables:?}");
        for name in SECRET_NAMES {
            assert!(NAMES.contains(name), "{name}");
            assert!(shown.contains(name), "{shown}");
            assert!(!shown.contains(&format!("value-of-{name}")), "{shown}");
        }
    }

    #[test]
    fn edition_is_desktop_unless_core_is_named() {
        assert_eq!(Edition::default(), Edition::Desktop);
        assert_eq!(Edition::parse("core").unwrap(), Edition::Core);
        assert_eq!(Edition::parse(" Desktop ").unwrap(), Edition::Desktop);
        assert_eq!(
            Edition::parse("Preview").unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact_credentials("error sending request for url (http://user:pa@ss@proxy:3128/x)"),
            "error sending request for url (http://***@proxy:3128/x)"
        );
        assert_eq!(
            redact_credentials("'http://u:p@a' and https://b:c@d?q=1"),
            "'http://***@a' and https://***@d?q=1"
        );
        assert_eq!(
            redact_credentials("http://user:pa/ss@proxy:3128"),
            "http://***@proxy:3128"
        );
        assert_eq!(
            redact_credentials("http://proxy:3128 has none"),
            "http://proxy:3128 has none"
        );
        assert_eq!(redact_credentials("no url"), "no url");
    }
}
