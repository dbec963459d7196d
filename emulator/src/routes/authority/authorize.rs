//! The authorization endpoint: authorization code flow with PKCE (S256 only) for loopback
//! redirect URIs, the way a desktop app such as the MSCommerce module signs in.
//!
//! Problems with the client or the redirect URI show an error page (the browser cannot be sent
//! back to a client that is not trusted); any other problem redirects back with `error` and
//! `error_description` (and `state`), as RFC 6749 section 4.1.2.1 says.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use url::{Host, Url};

use super::pages::{self, SignIn};
use super::{users_with_tenants, Scopes, TenantScope};
use crate::model::{AppRegistration, Tenant, User};
use crate::store::{AuthCode, NewAuthCode, StoreError};
use crate::{clock, secrets, AppState};

/// The parameters of an authorization request, from the query (GET) or the page's form (POST,
/// which adds `user` and `action`). Unknown parameters are ignored, as Entra does.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AuthorizeParams {
    client_id: Option<String>,
    response_type: Option<String>,
    redirect_uri: Option<String>,
    response_mode: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    login_hint: Option<String>,
    prompt: Option<String>,
    nonce: Option<String>,
    user: Option<String>,
    action: Option<String>,
}

impl AuthorizeParams {
    /// The request's parameters as the page carries them in hidden fields.
    fn carried(&self) -> Vec<(&'static str, &str)> {
        [
            ("client_id", &self.client_id),
            ("response_type", &self.response_type),
            ("redirect_uri", &self.redirect_uri),
            ("response_mode", &self.response_mode),
            ("scope", &self.scope),
            ("state", &self.state),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
            ("login_hint", &self.login_hint),
            ("prompt", &self.prompt),
            ("nonce", &self.nonce),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|value| (name, value)))
        .collect()
    }
}

/// A request that passed every check.
#[derive(Debug)]
struct Valid {
    scope: TenantScope,
    client: AppRegistration,
    redirect_uri: String,
    scopes: Scopes,
    code_challenge: String,
}

/// Why a request failed, and how to tell.
#[derive(Debug)]
enum Failure {
    /// Show an error page.
    Page(StatusCode, String),
    /// Send the browser back to the client with an error.
    Redirect {
        redirect_uri: Url,
        error: &'static str,
        description: String,
    },
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl Failure {
    fn into_response(self, state: Option<&str>) -> Response {
        match self {
            Self::Page(status, message) => pages::error_page(status, &message).into_response(),
            Self::Redirect {
                redirect_uri,
                error,
                description,
            } => redirect(
                redirect_uri,
                &[("error", error), ("error_description", &description)],
                state,
            ),
            Self::Store(error) => {
                tracing::error!(%error, "the authorization endpoint failed in the store");
                pages::error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The service could not process the request.",
                )
                .into_response()
            }
        }
    }
}

/// A 302 to `uri` with `pairs` and `state` added to its query.
fn redirect(mut uri: Url, pairs: &[(&str, &str)], state: Option<&str>) -> Response {
    {
        let mut query = uri.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    let location = HeaderValue::from_str(uri.as_str());
    match location {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => pages::error_page(StatusCode::BAD_REQUEST, "The redirect URI is not valid.")
            .into_response(),
    }
}

/// Whether `uri` is a redirect URI the emulator accepts: `http` on `localhost` or `127.0.0.1`
/// (any port and path), without credentials or a fragment.
fn loopback_redirect(uri: &str) -> Option<Url> {
    let parsed = Url::parse(uri).ok()?;
    let loopback = match parsed.host()? {
        Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip == std::net::Ipv4Addr::LOCALHOST,
        Host::Ipv6(_) => false,
    };
    (parsed.scheme() == "http"
        && loopback
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && parsed.fragment().is_none())
    .then_some(parsed)
}

/// Whether `challenge` can be an S256 challenge: 43 base64url characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn validate(
    state: &AppState,
    segment: &str,
    params: &AuthorizeParams,
) -> Result<Valid, Failure> {
    let store = state.store();
    let scope = TenantScope::resolve(store, segment).await?.ok_or_else(|| {
        Failure::Page(
            StatusCode::BAD_REQUEST,
            format!("AADSTS90002: Tenant '{segment}' not found."),
        )
    })?;
    let client_id = params.client_id.as_deref().unwrap_or_default();
    if client_id.is_empty() {
        return Err(Failure::Page(
            StatusCode::BAD_REQUEST,
            "AADSTS900144: The request body must contain the following parameter: 'client_id'."
                .to_owned(),
        ));
    }
    let client = store.app_registration(client_id).await?.ok_or_else(|| {
        Failure::Page(
            StatusCode::BAD_REQUEST,
            format!(
                "AADSTS700016: Application with identifier '{client_id}' was not found in the \
                 directory '{}'.",
                scope.segment()
            ),
        )
    })?;
    let redirect_text = params.redirect_uri.as_deref().unwrap_or_default();
    let redirect_uri = loopback_redirect(redirect_text).ok_or_else(|| {
        Failure::Page(
            StatusCode::BAD_REQUEST,
            format!(
                "AADSTS50011: The redirect URI '{redirect_text}' is not accepted: the emulator \
                 redirects only to loopback http URIs (http://localhost[:port]/... or \
                 http://127.0.0.1[:port]/...)."
            ),
        )
    })?;
    let fail = |error: &'static str, description: String| Failure::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description,
    };

    match params.response_type.as_deref() {
        Some("code") => {}
        None => {
            return Err(fail(
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: \
                 'response_type'."
                    .to_owned(),
            ))
        }
        Some(other) => {
            return Err(fail(
                "unsupported_response_type",
                format!("AADSTS700054: response_type '{other}' is not enabled: use 'code'."),
            ))
        }
    }
    if let Some(mode) = params
        .response_mode
        .as_deref()
        .filter(|mode| *mode != "query")
    {
        return Err(fail(
            "invalid_request",
            format!("AADSTS900144: response_mode '{mode}' is not supported: use 'query'."),
        ));
    }
    let scopes = Scopes::parse(params.scope.as_deref().unwrap_or_default())
        .map_err(|reason| fail("invalid_scope", format!("AADSTS70011: {reason}")))?;
    let code_challenge = params.code_challenge.as_deref().unwrap_or_default();
    if code_challenge.is_empty() {
        return Err(fail(
            "invalid_request",
            "AADSTS9002325: Proof Key for Code Exchange is required: send code_challenge and \
             code_challenge_method=S256."
                .to_owned(),
        ));
    }
    if params.code_challenge_method.as_deref() != Some("S256") {
        return Err(fail(
            "invalid_request",
            "AADSTS5000751: The code_challenge_method must be S256 ('plain' is not accepted)."
                .to_owned(),
        ));
    }
    if !is_s256_challenge(code_challenge) {
        return Err(fail(
            "invalid_request",
            "AADSTS501491: The code_challenge is not an S256 challenge (43 base64url characters)."
                .to_owned(),
        ));
    }
    match params.prompt.as_deref() {
        None | Some("login" | "select_account" | "consent") => {}
        Some("none") => {
            return Err(fail(
                "login_required",
                "AADSTS50058: A silent sign-in request was sent but no user is signed in."
                    .to_owned(),
            ))
        }
        Some(other) => {
            return Err(fail(
                "invalid_request",
                format!("AADSTS90023: The prompt value '{other}' is not supported."),
            ))
        }
    }
    Ok(Valid {
        scope,
        client,
        redirect_uri: redirect_text.to_owned(),
        scopes,
        code_challenge: code_challenge.to_owned(),
    })
}

fn sign_in_page(
    status: StatusCode,
    valid: &Valid,
    params: &AuthorizeParams,
    users: &[(User, Tenant)],
    error: Option<&str>,
) -> Response {
    let action = format!("/{}/oauth2/v2.0/authorize", valid.scope.segment());
    let fields = params.carried();
    pages::sign_in_page(
        status,
        &SignIn {
            action: &action,
            app_name: &valid.client.display_name,
            users,
            login_hint: params.login_hint.as_deref(),
            fields: &fields,
            error,
        },
    )
    .into_response()
}

/// `GET /{tenant}/oauth2/v2.0/authorize`: the sign-in page.
pub(super) async fn page(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    query: Result<Query<AuthorizeParams>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = query else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "AADSTS90014: The authorization request is malformed.",
        )
        .into_response();
    };
    let valid = match validate(&state, &segment, &params).await {
        Ok(valid) => valid,
        Err(failure) => return failure.into_response(params.state.as_deref()),
    };
    match users_with_tenants(state.store(), valid.scope.tenant_id()).await {
        Ok(users) => sign_in_page(StatusCode::OK, &valid, &params, &users, None),
        Err(error) => Failure::Store(error).into_response(None),
    }
}

/// `POST /{tenant}/oauth2/v2.0/authorize`: the page's answer. Signs the chosen user in and
/// redirects with a code, or redirects with `access_denied` when the user cancelled.
pub(super) async fn submit(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    form: Result<Form<AuthorizeParams>, FormRejection>,
) -> Response {
    let Ok(Form(params)) = form else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "AADSTS90014: The sign-in form is malformed.",
        )
        .into_response();
    };
    let state_param = params.state.as_deref();
    match sign_in(&state, &segment, &params).await {
        Ok(response) => response,
        Err(failure) => failure.into_response(state_param),
    }
}

async fn sign_in(
    state: &AppState,
    segment: &str,
    params: &AuthorizeParams,
) -> Result<Response, Failure> {
    let valid = validate(state, segment, params).await?;
    let redirect_uri = loopback_redirect(&valid.redirect_uri).ok_or_else(|| {
        Failure::Page(
            StatusCode::BAD_REQUEST,
            "The redirect URI is not valid.".to_owned(),
        )
    })?;
    match params.action.as_deref() {
        Some("approve") => {}
        Some("cancel") => {
            return Err(Failure::Redirect {
                redirect_uri,
                error: "access_denied",
                description: "AADSTS65004: User declined to consent to access the app.".to_owned(),
            })
        }
        _ => {
            return Err(Failure::Page(
                StatusCode::BAD_REQUEST,
                "AADSTS90014: The sign-in form is malformed (action).".to_owned(),
            ))
        }
    }
    let users = users_with_tenants(state.store(), valid.scope.tenant_id()).await?;
    let chosen = params.user.as_deref().and_then(|upn| {
        users
            .iter()
            .find(|(user, _)| user.upn.eq_ignore_ascii_case(upn))
            .map(|(user, _)| user.clone())
    });
    let Some(user) = chosen else {
        let error = if params.user.is_some() {
            "That account is not a user of this tenant: pick one from the list."
        } else {
            "Pick an account."
        };
        return Ok(sign_in_page(
            StatusCode::BAD_REQUEST,
            &valid,
            params,
            &users,
            Some(error),
        ));
    };

    let code = secrets::issue(32);
    let now = clock::now_ms();
    state
        .store()
        .insert_auth_code(
            NewAuthCode {
                code_sha256: secrets::sha256_hex(&code),
                code: AuthCode {
                    tenant_id: user.tenant_id.clone(),
                    user_oid: user.oid.clone(),
                    client_id: valid.client.client_id.clone(),
                    redirect_uri: valid.redirect_uri.clone(),
                    code_challenge: valid.code_challenge.clone(),
                    scope: valid.scopes.normalized(),
                    nonce: params.nonce.clone(),
                },
                expires_at_ms: now + i64::from(state.settings().auth_code_lifetime_s) * 1000,
            },
            now,
        )
        .await?;
    tracing::info!(upn = %user.upn, client_id = %valid.client.client_id, "signed in (authorization code)");
    Ok(redirect(
        redirect_uri,
        &[("code", &code)],
        params.state.as_deref(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_redirect_uris_are_accepted() {
        for good in [
            "http://localhost/m365/commerce",
            "http://localhost:51234/",
            "http://127.0.0.1:8400/callback?x=1",
            "http://LOCALHOST/cb",
        ] {
            assert!(loopback_redirect(good).is_some(), "{good}");
        }
        for bad in [
            "https://localhost/cb",
            "http://example.com/cb",
            "http://localhost.example.com/cb",
            "http://127.0.0.2/cb",
            "http://[::1]/cb",
            "http://user@localhost/cb",
            "http://localhost/cb#frag",
            "urn:ietf:wg:oauth:2.0:oob",
            "",
        ] {
            assert!(loopback_redirect(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn s256_challenges_are_43_base64url_characters() {
        assert!(is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"
        ));
        assert!(!is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
    }
}
