//! The one error type of the core, with a stable kind for every failure the module reports.

use std::fmt;

/// What went wrong, as a stable name the shim turns into a PowerShell FullyQualifiedErrorId.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No credential: the user has not connected and passed no `-Token`.
    NotConnected,
    /// The service answered 401: the token is expired or not valid.
    AuthExpired,
    /// Signing in failed (declined, expired device code, the authority refused).
    SignInFailed,
    /// The service answered 403: the account lacks the role.
    Forbidden,
    /// The service answered 404.
    NotFound,
    /// The service answered 400 or another 4xx.
    BadRequest,
    /// The service answered 429.
    Throttled,
    /// The service answered 5xx.
    ServiceError,
    /// The service could not be reached (DNS, connection, TLS).
    Network,
    /// The request ran out of time.
    Timeout,
    /// The service answered something that is not what the contract describes.
    InvalidResponse,
    /// The caller passed something invalid (bad JSON, a bad id, a bad URI).
    InvalidArgument,
    /// The caller passed a handle that does not exist (any more).
    InvalidHandle,
    /// The caller cancelled the operation.
    Cancelled,
    /// The token cache (the OS secret store or its fallback file) could not be used.
    TokenCache,
    /// A file the caller named does not exist.
    FileNotFound,
    /// A file would be replaced and the caller said not to (`-NoClobber`).
    FileExists,
    /// A file could not be read.
    ReadFailed,
    /// A file could not be written.
    WriteFailed,
    /// A file is not a baseline this build can read.
    InvalidBaseline,
    /// A bug: a caught panic or a broken invariant.
    Internal,
}

impl ErrorKind {
    /// The stable name of this kind, used as the error `code` across the ABI.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::NotConnected => "NotConnected",
            ErrorKind::AuthExpired => "AuthExpired",
            ErrorKind::SignInFailed => "SignInFailed",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::BadRequest => "BadRequest",
            ErrorKind::Throttled => "Throttled",
            ErrorKind::ServiceError => "ServiceError",
            ErrorKind::Network => "Network",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::InvalidResponse => "InvalidResponse",
            ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::InvalidHandle => "InvalidHandle",
            ErrorKind::Cancelled => "Cancelled",
            ErrorKind::TokenCache => "TokenCache",
            ErrorKind::FileNotFound => "FileNotFound",
            ErrorKind::FileExists => "FileExists",
            ErrorKind::ReadFailed => "ReadFailed",
            ErrorKind::WriteFailed => "WriteFailed",
            ErrorKind::InvalidBaseline => "InvalidBaseline",
            ErrorKind::Internal => "Internal",
        }
    }

    /// The name of the PowerShell `ErrorCategory` this kind maps to.
    pub fn category(self) -> &'static str {
        match self {
            ErrorKind::NotConnected | ErrorKind::AuthExpired | ErrorKind::SignInFailed => {
                "AuthenticationError"
            }
            ErrorKind::Forbidden => "PermissionDenied",
            ErrorKind::NotFound => "ObjectNotFound",
            ErrorKind::BadRequest | ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::Throttled => "LimitsExceeded",
            ErrorKind::ServiceError => "ResourceUnavailable",
            ErrorKind::Network => "ConnectionError",
            ErrorKind::Timeout => "OperationTimeout",
            ErrorKind::InvalidResponse => "InvalidData",
            ErrorKind::InvalidHandle => "InvalidOperation",
            ErrorKind::Cancelled => "OperationStopped",
            ErrorKind::TokenCache => "ResourceUnavailable",
            ErrorKind::FileNotFound => "ObjectNotFound",
            ErrorKind::FileExists => "ResourceExists",
            ErrorKind::ReadFailed => "ReadError",
            ErrorKind::WriteFailed => "WriteError",
            ErrorKind::InvalidBaseline => "InvalidData",
            ErrorKind::Internal => "NotSpecified",
        }
    }

    /// Whether a cmdlet stops the pipeline on this error (the contract's not-connected error is
    /// terminating; failures of one request are not).
    pub fn is_terminating(self) -> bool {
        matches!(
            self,
            ErrorKind::NotConnected
                | ErrorKind::InvalidHandle
                | ErrorKind::Cancelled
                | ErrorKind::Internal
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An error of the core. Built only inside the crate; its message never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    target: Option<String>,
    correlation_id: Option<String>,
    http_status: Option<u16>,
    details: Option<String>,
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a user-facing `message`.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            target: None,
            correlation_id: None,
            http_status: None,
            details: None,
        }
    }

    /// The id the user passed that this error is about.
    pub(crate) fn with_target(mut self, target: Option<&str>) -> Self {
        self.target = target.map(str::to_owned);
        self
    }

    /// The correlation id of the request that failed.
    pub(crate) fn with_correlation_id(mut self, id: &str) -> Self {
        self.correlation_id = Some(id.to_owned());
        self
    }

    /// The HTTP status and body the service answered with.
    pub(crate) fn with_response(mut self, status: u16, body: Option<String>) -> Self {
        self.http_status = Some(status);
        self.details = body;
        self
    }

    /// Replaces the message, keeping everything else (used to prefix "what failed").
    pub(crate) fn with_message(mut self, message: String) -> Self {
        self.message = message;
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The user-facing message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The id the user passed that this error is about, if any.
    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }

    /// The `x-ms-correlation-id` of the failed request, if one was sent.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }

    /// The HTTP status the service answered with, if it answered.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// The service's response body, if it answered with an error.
    pub fn details(&self) -> Option<&str> {
        self.details.as_deref()
    }

    /// True when the caller cancelled the operation.
    pub fn is_cancelled(&self) -> bool {
        self.kind == ErrorKind::Cancelled
    }

    /// True when the request ran out of time.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_connected_is_terminating_and_http_failures_are_not() {
        assert!(ErrorKind::NotConnected.is_terminating());
        assert!(!ErrorKind::NotFound.is_terminating());
        assert!(!ErrorKind::AuthExpired.is_terminating());
    }

    #[test]
    fn every_kind_maps_to_a_powershell_error_category() {
        // The names must be members of System.Management.Automation.ErrorCategory.
        let known = [
            "AuthenticationError",
            "PermissionDenied",
            "ObjectNotFound",
            "InvalidArgument",
            "LimitsExceeded",
            "ResourceUnavailable",
            "ConnectionError",
            "OperationTimeout",
            "InvalidData",
            "InvalidOperation",
            "OperationStopped",
            "ResourceExists",
            "ReadError",
            "WriteError",
            "NotSpecified",
        ];
        for kind in [
            ErrorKind::NotConnected,
            ErrorKind::AuthExpired,
            ErrorKind::SignInFailed,
            ErrorKind::Forbidden,
            ErrorKind::NotFound,
            ErrorKind::BadRequest,
            ErrorKind::Throttled,
            ErrorKind::ServiceError,
            ErrorKind::Network,
            ErrorKind::Timeout,
            ErrorKind::InvalidResponse,
            ErrorKind::InvalidArgument,
            ErrorKind::InvalidHandle,
            ErrorKind::Cancelled,
            ErrorKind::TokenCache,
            ErrorKind::FileNotFound,
            ErrorKind::FileExists,
            ErrorKind::ReadFailed,
            ErrorKind::WriteFailed,
            ErrorKind::InvalidBaseline,
            ErrorKind::Internal,
        ] {
            assert!(known.contains(&kind.category()), "{kind}");
        }
    }
}
