//! The sign-in authority: a Microsoft identity platform (v2) look-alike that issues the tokens the
//! licensing API accepts.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /{tenant}/v2.0/.well-known/openid-configuration` | OpenID Connect discovery |
//! | `GET /discovery/v2.0/keys`, `GET /{tenant}/discovery/v2.0/keys` | the JWKS |
//! | `GET /{tenant}/oauth2/v2.0/authorize` | the sign-in page (authorization code + PKCE S256) |
//! | `POST /{tenant}/oauth2/v2.0/authorize` | the page's answer: 302 to the redirect URI |
//! | `POST /{tenant}/oauth2/v2.0/devicecode` | starts a device code flow |
//! | `GET /devicelogin`, `POST /devicelogin` | where the user enters the code and approves |
//! | `POST /{tenant}/oauth2/v2.0/token` | the token endpoint |
//!
//! `{tenant}` is a tenant id, one of its domains (or its name), or `organizations`/`common`
//! (any user of any tenant). The pages have no password: picking a user signs them in. A
//! refresh token also works at a customer tenant of the user's partner tenant, through a
//! delegated admin relationship (see `token` and [`crate::gdap`]).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use crate::clock;
use crate::middleware;
use crate::model::{Tenant, TenantId, User};
use crate::store::{Store, StoreError};
use crate::tokens::{DELEGATED_PERMISSION, RESOURCE_APP_ID};
use crate::AppState;

mod authorize;
mod client_auth;
mod device;
mod discovery;
mod pages;
mod token;

/// The routes of the authority, at the root of the server.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/discovery/v2.0/keys", get(discovery::keys))
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize::page).post(authorize::submit),
        )
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device::start))
        .route("/devicelogin", get(device::page).post(device::submit))
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .method_not_allowed_fallback(super::method_not_allowed)
}

/// What the `{tenant}` of a path designates.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TenantScope {
    /// One tenant.
    One(Tenant),
    /// `organizations` or `common`: any tenant, the user decides.
    Any(&'static str),
}

impl TenantScope {
    /// Finds what `segment` designates; `None` for an unknown tenant.
    async fn resolve(store: &Store, segment: &str) -> Result<Option<Self>, StoreError> {
        for any in ["organizations", "common"] {
            if segment.eq_ignore_ascii_case(any) {
                return Ok(Some(Self::Any(any)));
            }
        }
        Ok(store.find_tenant(segment).await?.map(Self::One))
    }

    /// The path segment to use in URLs: the tenant id, or `organizations`/`common`.
    fn segment(&self) -> &str {
        match self {
            Self::One(tenant) => tenant.id.as_str(),
            Self::Any(name) => name,
        }
    }

    /// The one tenant, if any.
    fn tenant_id(&self) -> Option<&TenantId> {
        match self {
            Self::One(tenant) => Some(&tenant.id),
            Self::Any(_) => None,
        }
    }

    /// Whether a grant of `tenant` may be used here.
    fn admits(&self, tenant: &TenantId) -> bool {
        match self.tenant_id() {
            Some(id) => id == tenant,
            None => true,
        }
    }
}

/// The scopes of a request. The emulator serves one resource, the licensing service, so the
/// request must name it (`aeb86249-.../.default`); the OpenID Connect scopes and
/// `offline_access` may come along.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Scopes {
    openid: bool,
    profile: bool,
    email: bool,
    offline_access: bool,
}

impl Scopes {
    /// Parses a space-separated `scope`, ignoring case; the error is the reason.
    fn parse(scope: &str) -> Result<Self, String> {
        let mut scopes = Self::default();
        let mut resource = false;
        for item in scope.split_whitespace() {
            let lower = item.to_ascii_lowercase();
            match lower.as_str() {
                "openid" => scopes.openid = true,
                "profile" => scopes.profile = true,
                "email" => scopes.email = true,
                "offline_access" => scopes.offline_access = true,
                _ if lower == format!("{RESOURCE_APP_ID}/.default")
                    || lower == format!("{RESOURCE_APP_ID}/{DELEGATED_PERMISSION}") =>
                {
                    resource = true;
                }
                _ => {
                    return Err(format!(
                        "The provided value for the input parameter 'scope' is not valid: the \
                         emulator knows no scope '{item}'."
                    ))
                }
            }
        }
        if resource {
            Ok(scopes)
        } else {
            Err(format!(
                "The provided value for the input parameter 'scope' is not valid: the emulator \
                 issues tokens for the licensing service only, so ask for \
                 '{RESOURCE_APP_ID}/.default'."
            ))
        }
    }

    /// The scope as stored with a grant (it parses back to the same [`Scopes`]).
    fn normalized(self) -> String {
        let mut items = vec![format!("{RESOURCE_APP_ID}/.default")];
        for (on, name) in [
            (self.openid, "openid"),
            (self.profile, "profile"),
            (self.email, "email"),
            (self.offline_access, "offline_access"),
        ] {
            if on {
                items.push(name.to_owned());
            }
        }
        items.join(" ")
    }

    /// The `scope` of a token response: the permission granted on the resource.
    fn granted() -> String {
        format!("{RESOURCE_APP_ID}/{DELEGATED_PERMISSION}")
    }
}

/// The users a sign-in page offers, with their tenants: one tenant's, or everyone's.
async fn users_with_tenants(
    store: &Store,
    tenant: Option<&TenantId>,
) -> Result<Vec<(User, Tenant)>, StoreError> {
    let tenants = store.tenants().await?;
    let users = store.users(tenant).await?;
    Ok(users
        .into_iter()
        .filter_map(|user| {
            let tenant = tenants.iter().find(|t| t.id == user.tenant_id)?.clone();
            Some((user, tenant))
        })
        .collect())
}

/// An OAuth 2.0 error answer of the token and device code endpoints, in the Microsoft identity
/// platform's shape: `{"error","error_description","error_codes","timestamp","trace_id",
/// "correlation_id"}`, where the description starts with the `AADSTS` code.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
}

impl OAuthError {
    fn new(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            message: message.into(),
        }
    }

    /// `invalid_request` for a missing parameter.
    fn missing(parameter: &str) -> Self {
        Self::new(
            "invalid_request",
            900_144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }

    /// `invalid_request` for a tenant that does not exist.
    fn unknown_tenant(segment: &str) -> Self {
        Self::new(
            "invalid_request",
            90_002,
            format!(
                "Tenant '{segment}' not found. Use a tenant id, a domain such as \
                 contoso.onmicrosoft.com, 'organizations' or 'common'."
            ),
        )
    }

    /// `unauthorized_client` for a client id no app registration has.
    fn unknown_client(client_id: &str, scope: &TenantScope) -> Self {
        Self::new(
            "unauthorized_client",
            700_016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                scope.segment()
            ),
        )
    }

    /// `invalid_client` (401): the client failed to authenticate.
    fn invalid_client(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            ..Self::new("invalid_client", code, message)
        }
    }

    /// `invalid_grant`.
    fn invalid_grant(code: u32, message: impl Into<String>) -> Self {
        Self::new("invalid_grant", code, message)
    }

    /// `server_error` (500).
    fn internal(message: &str) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            ..Self::new("server_error", 90_033, message)
        }
    }

    /// `server_error` (500) when the store fails; the details go to the log only.
    fn server(error: &StoreError) -> Self {
        tracing::error!(%error, "the authority failed in the store");
        Self::internal("The service could not process the request.")
    }

    /// The answer, stamped with the request's correlation id.
    fn into_response_for(self, headers: &HeaderMap) -> Response {
        let correlation_id = request_correlation_id(headers);
        let trace_id = uuid::Uuid::new_v4().to_string();
        let timestamp = clock::rfc3339(clock::now_s())
            .map(|text| text.replacen('T', " ", 1))
            .unwrap_or_default();
        let body = OAuthErrorBody {
            error: self.error,
            error_description: format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\n\
                 Timestamp: {timestamp}",
                self.code, self.message
            ),
            error_codes: [self.code],
            timestamp,
            trace_id,
            correlation_id,
        };
        no_store((self.status, Json(body)).into_response())
    }
}

impl From<StoreError> for OAuthError {
    fn from(error: StoreError) -> Self {
        Self::server(&error)
    }
}

#[derive(Debug, Serialize)]
struct OAuthErrorBody {
    error: &'static str,
    error_description: String,
    error_codes: [u32; 1],
    timestamp: String,
    trace_id: String,
    correlation_id: String,
}

/// The correlation id of an authority request: MSAL's `client-request-id` when it is a GUID,
/// else the `x-ms-correlation-id` every request gets.
fn request_correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| uuid::Uuid::parse_str(value).ok())
        .map(|id| id.hyphenated().to_string())
        .unwrap_or_else(|| middleware::correlation_id_of(headers))
}

/// Marks a response as not cacheable (RFC 6749 section 5.1).
fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_need_the_licensing_resource() {
        let scopes =
            Scopes::parse("AEB86249-8ea3-49e2-900b-54cc8e308f85/.default offline_access openid")
                .unwrap();
        assert!(scopes.offline_access && scopes.openid && !scopes.profile);
        assert_eq!(Scopes::parse(&scopes.normalized()), Ok(scopes));
        assert!(Scopes::parse("openid offline_access").is_err());
        assert!(Scopes::parse("https://graph.microsoft.com/.default").is_err());
        assert!(Scopes::parse("").is_err());
    }
}
