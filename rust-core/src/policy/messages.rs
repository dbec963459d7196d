//! The contract's messages, word for word: existing scripts match on them.

use crate::error::{Error, ErrorKind};
use crate::http::Response;

/// Every cmdlet but Connect throws this when there is no connection and no `-Token`.
pub const NOT_CONNECTED_MESSAGE: &str =
    "You must call the Connect-MSCommerce cmdlet before calling any other cmdlets";

/// `-Enabled` takes only what `$true` and `$false` become as strings.
pub const ENABLED_VALUE_MESSAGE: &str =
    "Value of $Enabled must be one of the following: $True, $true, $False, $false";

/// The message for a 401 answer.
pub const AUTH_EXPIRED_MESSAGE: &str = "Your credentials have expired. Please, call Connect-MSCommerce again to regain access to MSCommerce Module.";

/// Turns a failed HTTP answer into the contract's error:
/// `<what failed>, ErrorMessage - <error> ErrorDetails - <response body>`, or the 401 message.
/// When the request was retried, `<error>` ends with one more sentence saying how many attempts
/// were made, why they stopped and the correlation id; the body stays last.
pub(crate) fn http_failure(what_failed: &str, target: Option<&str>, response: &Response) -> Error {
    let status = response.status;
    let body = String::from_utf8_lossy(&response.body).into_owned();
    let kind = match status {
        401 => ErrorKind::AuthExpired,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::Throttled,
        500..=599 => ErrorKind::ServiceError,
        _ => ErrorKind::BadRequest,
    };
    let message = if status == 401 {
        AUTH_EXPIRED_MESSAGE.to_owned()
    } else {
        let retries = response
            .retry_summary()
            .map(|summary| format!(" {summary}"))
            .unwrap_or_default();
        format!(
            "{what_failed}, ErrorMessage - The remote server returned an error: ({status}) {}.{retries} ErrorDetails - {body}",
            reason(status)
        )
    };
    Error::new(kind, message)
        .with_target(target)
        .with_correlation_id(&response.correlation_id)
        .with_response(status, if body.is_empty() { None } else { Some(body) })
}

/// Prefixes a transport or decoding failure with what failed, in the contract's shape.
pub(crate) fn other_failure(what_failed: &str, target: Option<&str>, error: Error) -> Error {
    if error.is_cancelled() {
        return error.with_target(target);
    }
    let message = format!(
        "{what_failed}, ErrorMessage - {} ErrorDetails - ",
        error.message()
    );
    error.with_message(message).with_target(target)
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Server Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            body: body.as_bytes().to_vec(),
            correlation_id: "c-1".into(),
            retry_after: None,
            attempts: 1,
            gave_up: None,
        }
    }

    #[test]
    fn retried_failure_names_attempts_and_correlation_id_before_the_details() {
        let body = r#"{"errorCode":"ServiceUnavailable"}"#;
        let mut answer = response(503, body);
        answer.attempts = 4;
        answer.gave_up = Some(String::new());
        let err = http_failure("Failed to retrieve policies", None, &answer);
        assert_eq!(
            err.message(),
            format!("Failed to retrieve policies, ErrorMessage - The remote server returned an error: (503) Server Unavailable. Gave up after 4 attempts (correlation id c-1). ErrorDetails - {body}")
        );
        assert_eq!(err.details(), Some(body));
    }

    #[test]
    fn unauthorized_after_a_retry_keeps_the_exact_message() {
        let mut answer = response(401, "");
        answer.attempts = 2;
        let err = http_failure("Failed to retrieve policies", None, &answer);
        assert_eq!(err.message(), AUTH_EXPIRED_MESSAGE);
    }

    #[test]
    fn not_found_has_the_contract_shape() {
        let body = r#"{"errorCode":"Unknown","reason":"Policy 'X' was not found."}"#;
        let err = http_failure(
            "Failed to retrieve policy with PolicyId 'X'",
            Some("X"),
            &response(404, body),
        );
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(
            err.message(),
            format!("Failed to retrieve policy with PolicyId 'X', ErrorMessage - The remote server returned an error: (404) Not Found. ErrorDetails - {body}")
        );
        assert_eq!(err.target(), Some("X"));
        assert_eq!(err.correlation_id(), Some("c-1"));
        assert_eq!(err.details(), Some(body));
    }

    #[test]
    fn unauthorized_gives_the_expired_credentials_message() {
        let err = http_failure("Failed to retrieve policies", None, &response(401, ""));
        assert_eq!(err.kind(), ErrorKind::AuthExpired);
        assert_eq!(err.message(), AUTH_EXPIRED_MESSAGE);
    }

    #[test]
    fn forbidden_and_server_errors_get_their_kinds() {
        assert_eq!(
            http_failure("x", None, &response(403, "")).kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(
            http_failure("x", None, &response(503, "")).kind(),
            ErrorKind::ServiceError
        );
        assert_eq!(
            http_failure("x", None, &response(429, "")).kind(),
            ErrorKind::Throttled
        );
        assert_eq!(
            http_failure("x", None, &response(400, "")).kind(),
            ErrorKind::BadRequest
        );
    }
}
