//! The defaults and limits of the core that the cmdlets declare where C# needs a constant: in
//! binding attributes (`ValidateSet`, `ValidateRange`) and parameter defaults. They are defined
//! here, once; `tests/contracts.rs` writes [`SHIM_CONSTANTS`] into the generated C# file as
//! `CoreDefaults`, so an attribute that names them is checked by the C# compiler.

use crate::auth::browser::DEFAULT_REDIRECT_URI;
use crate::auth::signin::DEFAULT_CLIENT_ID;
use crate::environment::DEFAULT_SERVICE_URI;
use crate::policy::{ENABLED_VALUE_MESSAGE, POLICY_VALUES};

/// The most updates of a bulk request that run at once unless the request says
/// (`-ThrottleLimit`): a hard cap on the adaptive window (`http::concurrency`), which starts at
/// 8, grows while the service answers quickly and halves when it throttles. Each update waits
/// mostly on the service; 64 in flight keep a service answering in 5 to 10 ms busy enough that
/// 1,000 updates take well under a second, and the window only gets there while the service
/// keeps up.
pub const THROTTLE_LIMIT: usize = 64;

/// The most updates of a bulk request that may run at once.
pub const MAX_THROTTLE_LIMIT: usize = 256;

/// The scopes a command line names (`-Scope`): products, or third-party offer types.
pub const SCOPES: [&str; 2] = ["Product", "OfferType"];

/// Where a sign-in is kept (`-ContextScope`): the token cache, or this process only.
pub const CONTEXT_SCOPES: [&str; 2] = ["CurrentUser", "Process"];

/// A constant's value, as C# declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstantValue {
    /// An `int`.
    Int(i32),
    /// A `string`.
    Text(&'static str),
}

/// One constant of the shim: its C# name, what it is, and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constant {
    /// The C# name (PascalCase).
    pub name: &'static str,
    /// What it is, for the generated doc comment.
    pub doc: &'static str,
    /// The value.
    pub value: ConstantValue,
}

const fn int(name: &'static str, doc: &'static str, value: usize) -> Constant {
    Constant {
        name,
        doc,
        // The limits are small: the cast cannot truncate (a unit test checks).
        value: ConstantValue::Int(value as i32),
    }
}

const fn text(name: &'static str, doc: &'static str, value: &'static str) -> Constant {
    Constant {
        name,
        doc,
        value: ConstantValue::Text(value),
    }
}

/// Every constant the shim declares, in the order the generated class lists them.
pub const SHIM_CONSTANTS: &[Constant] = &[
    int(
        "ThrottleLimit",
        "How many updates run at once unless -ThrottleLimit says.",
        THROTTLE_LIMIT,
    ),
    int(
        "MaxThrottleLimit",
        "The most -ThrottleLimit takes.",
        MAX_THROTTLE_LIMIT,
    ),
    text("Enabled", "A policy value: allowed.", POLICY_VALUES[0]),
    text("Disabled", "A policy value: blocked.", POLICY_VALUES[1]),
    text(
        "OnlyTrialsWithoutPaymentMethod",
        "A policy value: only trials that need no payment method.",
        POLICY_VALUES[2],
    ),
    text(
        "EnabledMessage",
        "The original's error for an -Enabled that is neither $true nor $false.",
        ENABLED_VALUE_MESSAGE,
    ),
    text("ProductScope", "-Scope of Microsoft products.", SCOPES[0]),
    text(
        "OfferTypeScope",
        "-Scope of third-party offer types.",
        SCOPES[1],
    ),
    text(
        "CurrentUserContext",
        "-ContextScope: kept in the token cache.",
        CONTEXT_SCOPES[0],
    ),
    text(
        "ProcessContext",
        "-ContextScope: kept in this process only.",
        CONTEXT_SCOPES[1],
    ),
    text(
        "ClientId",
        "The original's public client id, the default of -ClientId.",
        DEFAULT_CLIENT_ID,
    ),
    text(
        "RedirectUri",
        "The original's redirect URI, the default of -RedirectUri.",
        DEFAULT_REDIRECT_URI,
    ),
    text(
        "ServiceUri",
        "The public cloud's licensing service.",
        DEFAULT_SERVICE_URI,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ContextScope;
    use crate::policy::Scope;

    #[test]
    fn the_names_are_the_ones_the_core_parses() {
        assert_eq!(SCOPES, [Scope::Product.name(), Scope::OfferType.name()]);
        for scope in SCOPES {
            assert!(Scope::parse(Some(scope)).is_ok(), "{scope}");
        }
        assert_eq!(
            CONTEXT_SCOPES,
            [
                ContextScope::CurrentUser.name(),
                ContextScope::Process.name()
            ]
        );
    }

    #[test]
    fn the_limits_fit_a_csharp_int() {
        for constant in SHIM_CONSTANTS {
            if let ConstantValue::Int(value) = constant.value {
                assert!(value > 0, "{}", constant.name);
            }
        }
        assert!(i32::try_from(MAX_THROTTLE_LIMIT).is_ok());
    }
}
