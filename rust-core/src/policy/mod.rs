//! The contract's rules for what a request names, checked before anything is sent: scopes,
//! products and offer types, policy values, ids and wildcards; and the baseline file's rules
//! ([`baseline`]).

pub mod baseline;
pub mod wildcard;

pub use wildcard::Wildcard;

use crate::error::{Error, ErrorKind, Result};

/// The scope that lists products (the default).
pub const PRODUCT_SCOPE: &str = "product";

/// The values a policy item takes, as the service spells them.
pub const POLICY_VALUES: [&str; 3] = ["Enabled", "Disabled", "OnlyTrialsWithoutPaymentMethod"];

/// `-Enabled` takes only what `$true` and `$false` become as strings.
pub const ENABLED_VALUE_MESSAGE: &str =
    "Value of $Enabled must be one of the following: $True, $true, $False, $false";

/// Which list of a policy a request covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Microsoft products (`-ProductId`).
    Product,
    /// Third-party offer types (`-OfferType`).
    OfferType,
}

impl Scope {
    /// The scope as the service's `scope` query parameter spells it.
    pub fn service_scope(self) -> &'static str {
        match self {
            Scope::Product => PRODUCT_SCOPE,
            Scope::OfferType => "OfferType",
        }
    }

    /// The name PowerShell shows (`-Scope Product`, `-Scope OfferType`).
    pub fn name(self) -> &'static str {
        match self {
            Scope::Product => "Product",
            Scope::OfferType => "OfferType",
        }
    }

    /// `Product` (the default, also spelled `product`) or `OfferType`, in any case.
    pub(crate) fn parse(scope: Option<&str>) -> Result<Self> {
        match scope.map(str::trim) {
            None | Some("") => Ok(Scope::Product),
            Some(s) if s.eq_ignore_ascii_case("product") => Ok(Scope::Product),
            Some(s) if s.eq_ignore_ascii_case("offertype") => Ok(Scope::OfferType),
            Some(other) => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("The scope '{other}' is not known; use Product or OfferType."),
            )
            .with_target(Some(other))),
        }
    }
}

/// The item of a policy a request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A Microsoft product, by product id (`-ProductId`).
    Product(String),
    /// A third-party offer type, such as `SaaS` (`-OfferType`).
    OfferType(String),
}

impl Item {
    /// The id the user passed.
    pub fn id(&self) -> &str {
        match self {
            Item::Product(id) | Item::OfferType(id) => id,
        }
    }

    /// Exactly one of a product id and an offer type.
    pub(crate) fn one_of(product_id: Option<String>, offer_type: Option<String>) -> Result<Item> {
        match (product_id, offer_type) {
            (Some(id), None) => Ok(Item::Product(check_id("ProductId", id)?)),
            (None, Some(id)) => Ok(Item::OfferType(check_id("OfferType", id)?)),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                "Give exactly one of ProductId and OfferType.",
            )),
        }
    }
}

/// The value to set: `-Value` spelled as the service spells it, or `-Enabled` with the
/// original's string semantics (`True`/`False` in any case, which is what `$true`/`$false`
/// become when bound to a string).
pub(crate) fn new_value(value: Option<String>, enabled: Option<String>) -> Result<String> {
    match (value, enabled) {
        (Some(value), None) => normalise_value(&value).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "The value '{value}' is not one of {}.",
                    POLICY_VALUES.join(", ")
                ),
            )
        }),
        (None, Some(enabled)) => match enabled.trim().to_ascii_lowercase().as_str() {
            "true" => Ok("Enabled".to_owned()),
            "false" => Ok("Disabled".to_owned()),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                ENABLED_VALUE_MESSAGE,
            )),
        },
        _ => Err(Error::new(
            ErrorKind::InvalidArgument,
            "Give exactly one of Value and Enabled.",
        )),
    }
}

/// A policy value spelled as the service spells it, whatever its case; `None` if unknown.
pub(crate) fn normalise_value(value: &str) -> Option<String> {
    POLICY_VALUES
        .iter()
        .find(|known| known.eq_ignore_ascii_case(value.trim()))
        .map(|known| (*known).to_owned())
}

/// A file path from the shim, which resolves PowerShell paths first: it must be absolute.
pub(crate) fn absolute_path(path: String) -> Result<std::path::PathBuf> {
    let path = std::path::PathBuf::from(path);
    if path.as_os_str().is_empty() || !path.is_absolute() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("The path '{}' is not absolute.", path.display()),
        )
        .with_target(path.to_str()));
    }
    Ok(path)
}

/// The longest id (policy, product, offer type, scope) accepted, in characters.
const MAX_ID_CHARS: usize = 256;

/// Characters that change how a console shows what follows: controls, and the invisible and
/// direction-changing format characters.
fn is_unsafe_to_show(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Checks an id that becomes one path segment: `url` percent-encodes `/`, `?`, `#` and `%` in a
/// pushed segment, so only what encoding cannot make safe is refused here: dot segments (which
/// URL parsers resolve even when encoded), control and invisible formatting characters, and
/// empty or huge ids.
pub(crate) fn check_id(name: &str, id: String) -> Result<String> {
    let invalid = |why: &str| {
        // The message is printed by the host: show a bounded, escaped form of what was passed so
        // a huge id or one with control characters (line breaks, terminal escapes) cannot flood
        // or rewrite the console. The target keeps the id as it was.
        let mut shown = String::new();
        for c in id.chars().take(MAX_ID_CHARS) {
            if is_unsafe_to_show(c) {
                shown.extend(c.escape_unicode());
            } else {
                shown.push(c);
            }
        }
        if id.chars().nth(MAX_ID_CHARS).is_some() {
            shown.push_str("...");
        }
        Error::new(
            ErrorKind::InvalidArgument,
            format!("The value of {name} '{shown}' is not valid: {why}"),
        )
        .with_target(Some(&id))
    };
    let trimmed = id.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty."));
    }
    if trimmed.chars().count() > MAX_ID_CHARS {
        return Err(invalid(&format!(
            "it is longer than {MAX_ID_CHARS} characters."
        )));
    }
    let decoded_dots = trimmed.to_ascii_lowercase().replace("%2e", ".");
    if decoded_dots == "." || decoded_dots == ".." {
        return Err(invalid("it is a relative path segment."));
    }
    // No real id holds them, and they would reach the console through the contract's messages.
    if trimmed.chars().any(is_unsafe_to_show) {
        return Err(invalid(
            "it holds control or invisible formatting characters.",
        ));
    }
    Ok(trimmed.to_owned())
}
