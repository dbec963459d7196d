//! The contract's failure messages of licensing calls, word for word: existing scripts match
//! on them.

use crate::auth::AUTH_EXPIRED_MESSAGE;
use crate::error::{Error, ErrorKind};
use crate::http::Response;
use crate::settings::Edition;

/// Turns a failed HTTP answer into the contract's error:
/// `<what failed>, ErrorMessage - <error> ErrorDetails - <response body>`, or the 401 message.
/// `<error>` is worded as the web cmdlets of `edition` word an HTTP failure (see
/// [`status_error`]), and the body is exactly as received. When the request was retried,
/// `<error>` ends with one more sentence saying how many attempts were made, why they stopped
/// and the correlation id; the body stays last.
pub(crate) fn http_failure(
    what_failed: &str,
    target: Option<&str>,
    response: &Response,
    edition: Edition,
) -> Error {
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
            "{what_failed}, ErrorMessage - {}{retries} ErrorDetails - {body}",
            status_error(status, edition)
        )
    };
    Error::new(kind, message)
        .with_target(target)
        .with_correlation_id(&response.correlation_id)
        .with_response(status, if body.is_empty() { None } else { Some(body) })
}

/// The application permissions of M365 License Manager: reads, and reads and changes.
const READ_PERMISSION: &str = "Policy.Read.AllowSelfServicePurchase";
const READ_WRITE_PERMISSION: &str = "Policy.ReadWrite.AllowSelfServicePurchase";

/// A 403 answered to an application's own token says what to do, whatever the service's body
/// says: which application permission to grant (`write`: the one that allows changes) and that
/// an administrator must consent to it. The contract's message stays in front, unchanged.
pub(crate) fn app_permission_hint(error: Error, write: bool) -> Error {
    let permission = if write {
        READ_WRITE_PERMISSION.to_owned()
    } else {
        format!("{READ_PERMISSION} (or {READ_WRITE_PERMISSION})")
    };
    let message = format!(
        "{} The application needs the application permission {permission} of M365 License \
         Manager ({}) in this tenant, granted with an administrator's consent.",
        error.message(),
        crate::auth::signin::LICENSING_RESOURCE
    );
    error.with_message(message)
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

/// How the web cmdlets of `edition` word an HTTP failure (the message of the exception
/// `Invoke-RestMethod` throws), which the original module quoted:
/// - Windows PowerShell 5.1 (.NET Framework's `WebException`): `The remote server returned an
///   error: (404) Not Found.`
/// - PowerShell 7 (`HttpResponseException`): `Response status code does not indicate success:
///   404 (Not Found).`, with the reason phrase .NET's `HttpResponseMessage.ReasonPhrase` gives
///   for the status (empty for a status .NET has none for).
pub(crate) fn status_error(status: u16, edition: Edition) -> String {
    match edition {
        Edition::Desktop => format!(
            "The remote server returned an error: ({status}) {}.",
            desktop_reason(status)
        ),
        Edition::Core => format!(
            "Response status code does not indicate success: {status} ({}).",
            core_reason(status).unwrap_or_default()
        ),
    }
}

/// The descriptions .NET Framework's `WebException` uses (503 is `Server Unavailable` there).
fn desktop_reason(status: u16) -> &'static str {
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

/// .NET's canonical reason phrases (`System.Net.HttpStatusDescription`), as
/// `HttpResponseMessage.ReasonPhrase` gives them; `None` where .NET has none.
fn core_reason(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-Uri Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "Http Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_403_to_an_application_names_the_permission_after_the_contract_message() {
        let error = Error::new(ErrorKind::Forbidden, "Failed to update product policy, ...");
        let write = app_permission_hint(error.clone(), true);
        assert!(write
            .message()
            .starts_with("Failed to update product policy, ..."));
        assert!(write.message().contains(
            "permission Policy.ReadWrite.AllowSelfServicePurchase of M365 License Manager"
        ));
        assert!(write.message().contains("administrator's consent"));
        assert_eq!(write.kind(), ErrorKind::Forbidden);
        let read = app_permission_hint(error, false);
        assert!(read
            .message()
            .contains("Policy.Read.AllowSelfServicePurchase (or Policy.ReadWrite"));
    }

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
        let err = http_failure(
            "Failed to retrieve policies",
            None,
            &answer,
            Edition::Desktop,
        );
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
        let err = http_failure(
            "Failed to retrieve policies",
            None,
            &answer,
            Edition::Desktop,
        );
        assert_eq!(err.message(), AUTH_EXPIRED_MESSAGE);
    }

    #[test]
    fn not_found_has_the_contract_shape() {
        let body = r#"{"errorCode":"Unknown","reason":"Policy 'X' was not found."}"#;
        let err = http_failure(
            "Failed to retrieve policy with PolicyId 'X'",
            Some("X"),
            &response(404, body),
            Edition::Desktop,
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
    fn powershell_7_words_the_failure_as_its_web_cmdlets_do() {
        let body = "{\"errorCode\":\"Unknown\"}";
        let err = http_failure(
            "Failed to retrieve policy with PolicyId 'X'",
            Some("X"),
            &response(404, body),
            Edition::Core,
        );
        assert_eq!(
            err.message(),
            format!("Failed to retrieve policy with PolicyId 'X', ErrorMessage - Response status code does not indicate success: 404 (Not Found). ErrorDetails - {body}")
        );
        assert_eq!(err.details(), Some(body));
        let mut answer = response(503, "");
        answer.attempts = 4;
        answer.gave_up = Some(String::new());
        assert_eq!(
            http_failure("Failed to retrieve policies", None, &answer, Edition::Core).message(),
            "Failed to retrieve policies, ErrorMessage - Response status code does not indicate success: 503 (Service Unavailable). Gave up after 4 attempts (correlation id c-1). ErrorDetails - "
        );
    }

    #[test]
    fn each_edition_has_its_own_reason_phrases() {
        assert_eq!(
            status_error(503, Edition::Desktop),
            "The remote server returned an error: (503) Server Unavailable."
        );
        assert_eq!(
            status_error(503, Edition::Core),
            "Response status code does not indicate success: 503 (Service Unavailable)."
        );
        assert_eq!(
            status_error(429, Edition::Core),
            "Response status code does not indicate success: 429 (Too Many Requests)."
        );
        // .NET has no phrase for 499, and an empty one shows as "()".
        assert_eq!(
            status_error(499, Edition::Core),
            "Response status code does not indicate success: 499 ()."
        );
        assert_eq!(
            status_error(499, Edition::Desktop),
            "The remote server returned an error: (499) Error."
        );
    }

    #[test]
    fn the_body_is_quoted_exactly_as_received() {
        let body = "  {\"reason\": \"a\\u00e9 \u{e9}\"}\r\n\tline two\n";
        for edition in [Edition::Desktop, Edition::Core] {
            let err = http_failure(
                "Failed to retrieve policies",
                None,
                &response(400, body),
                edition,
            );
            assert!(err.message().ends_with(&format!("ErrorDetails - {body}")));
            assert_eq!(err.details(), Some(body));
        }
    }

    #[test]
    fn unauthorized_gives_the_expired_credentials_message() {
        let err = http_failure(
            "Failed to retrieve policies",
            None,
            &response(401, ""),
            Edition::Desktop,
        );
        assert_eq!(err.kind(), ErrorKind::AuthExpired);
        assert_eq!(err.message(), AUTH_EXPIRED_MESSAGE);
    }

    #[test]
    fn forbidden_and_server_errors_get_their_kinds() {
        assert_eq!(
            http_failure("x", None, &response(403, ""), Edition::Core).kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(
            http_failure("x", None, &response(503, ""), Edition::Core).kind(),
            ErrorKind::ServiceError
        );
        assert_eq!(
            http_failure("x", None, &response(429, ""), Edition::Core).kind(),
            ErrorKind::Throttled
        );
        assert_eq!(
            http_failure("x", None, &response(400, ""), Edition::Core).kind(),
            ErrorKind::BadRequest
        );
    }
}
