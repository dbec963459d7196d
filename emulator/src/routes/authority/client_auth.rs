//! How a client proves who it is at the token endpoint, as Microsoft Entra ID checks it: a public
//! client sends nothing; a confidential one a client secret, or a client assertion
//! (`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`) that is
//! either a JWT signed with the key of one of its certificates or a federated token that one of
//! its federated credentials matches.
//!
//! | failure | error | AADSTS |
//! |---|---|---|
//! | unknown client id | `unauthorized_client` | 700016 |
//! | wrong secret | `invalid_client` | 7000215 |
//! | no credential from a confidential client | `invalid_client` | 7000218 |
//! | a credential from a public client | `invalid_client` | 700025 |
//! | assertion `iss`/`sub` not the client id | `invalid_client` | 700021 |
//! | certificate not registered, or signature wrong | `invalid_client` | 700027 |
//! | assertion expired, not yet valid, or living over an hour | `invalid_client` | 700024 |
//! | assertion malformed, a claim missing, another audience | `invalid_client` | 50027 |
//! | assertion `jti` used before | `invalid_client` | 50013 |
//! | no federated credential matches | `invalid_client` | 70021 |
//! | federated token not signed by a trusted issuer | `invalid_client` | 50013 |

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::Value;

use super::{OAuthError, TenantScope};
use crate::apps::certificate;
use crate::model::AppRegistration;
use crate::store::StoredCertificate;
use crate::tokens::FEDERATION_ISSUER;
use crate::{clock, secrets, AppState};

/// The one client assertion type.
pub(super) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How far an assertion's `exp` and `nbf` may be off, in seconds (Entra allows five minutes).
const ASSERTION_SKEW_S: i64 = 300;

/// How long a certificate assertion may live at most, in seconds (clients make them for minutes).
const MAX_ASSERTION_LIFETIME_S: i64 = 3600;

/// What a token request says about its client.
#[derive(Debug, Clone, Copy)]
pub(super) struct ClientCredentials<'a> {
    pub(super) client_id: Option<&'a str>,
    pub(super) client_secret: Option<&'a str>,
    pub(super) assertion_type: Option<&'a str>,
    pub(super) assertion: Option<&'a str>,
}

/// The claims of an assertion that matter here (each checked to be there when needed).
#[derive(Debug, Clone, Default, Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Value>,
    exp: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
}

impl AssertionClaims {
    /// The audiences: `aud` as a string or an array of strings.
    fn audiences(&self) -> Vec<&str> {
        match &self.aud {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// The app registration of the request's client, authenticated.
pub(super) async fn authenticate(
    state: &AppState,
    scope: &TenantScope,
    credentials: ClientCredentials<'_>,
    headers: &HeaderMap,
) -> Result<AppRegistration, OAuthError> {
    let client_id = credentials
        .client_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| OAuthError::missing("client_id"))?;
    let client = state
        .store()
        .app_registration(client_id)
        .await?
        .ok_or_else(|| OAuthError::unknown_client(client_id, scope))?;
    let secret = credentials.client_secret.filter(|s| !s.is_empty());
    let assertion = credentials.assertion.filter(|s| !s.is_empty());
    if client.is_public() {
        return match (secret, assertion) {
            (None, None) => Ok(client),
            _ => Err(OAuthError::invalid_client(
                700_025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be \
                 presented.",
            )),
        };
    }
    match (secret, assertion) {
        (None, None) => Err(OAuthError::invalid_client(
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'.",
        )),
        (Some(_), Some(_)) => Err(OAuthError::new(
            "invalid_request",
            900_144,
            "The request must carry one credential: 'client_secret' or 'client_assertion', \
             not both.",
        )),
        (Some(secret), None) => {
            let presented = secrets::sha256_hex(secret);
            let hashes = state.store().app_secret_hashes(&client.client_id).await?;
            if hashes
                .iter()
                .any(|hash| secrets::constant_time_eq(hash, &presented))
            {
                Ok(client)
            } else {
                Err(OAuthError::invalid_client(
                    7_000_215,
                    format!(
                        "Invalid client secret provided. Ensure the secret being sent in the \
                         request is the client secret value, not the client secret ID, for a \
                         secret added to app '{}'.",
                        client.client_id
                    ),
                ))
            }
        }
        (None, Some(assertion)) => {
            if credentials.assertion_type != Some(ASSERTION_TYPE) {
                return Err(OAuthError::new(
                    "invalid_request",
                    900_144,
                    format!(
                        "The request body must contain the following parameter: \
                         'client_assertion_type' with the value '{ASSERTION_TYPE}'."
                    ),
                ));
            }
            verify_assertion(state, scope, &client, assertion, headers).await?;
            Ok(client)
        }
    }
}

/// Checks a client assertion of `client`: a certificate assertion when its header names a
/// certificate (`x5t#S256`, `x5t`) or its issuer is the client itself, else a federated token.
async fn verify_assertion(
    state: &AppState,
    scope: &TenantScope,
    client: &AppRegistration,
    assertion: &str,
    headers: &HeaderMap,
) -> Result<(), OAuthError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| malformed("is not a JWT"))?;
    let claims = unverified_claims(assertion)?;
    let names_certificate = header.x5t.is_some() || header.x5t_s256.is_some();
    let self_issued = claims
        .iss
        .as_deref()
        .is_some_and(|iss| iss.eq_ignore_ascii_case(&client.client_id));
    if names_certificate || self_issued {
        certificate_assertion(state, scope, client, assertion, &header, &claims, headers).await
    } else {
        federated_assertion(state, client, assertion, &claims).await
    }
}

#[allow(clippy::too_many_arguments)]
async fn certificate_assertion(
    state: &AppState,
    scope: &TenantScope,
    client: &AppRegistration,
    assertion: &str,
    header: &Header,
    claims: &AssertionClaims,
    headers: &HeaderMap,
) -> Result<(), OAuthError> {
    let is_client = |value: &Option<String>| {
        value
            .as_deref()
            .is_some_and(|value| value.eq_ignore_ascii_case(&client.client_id))
    };
    if !is_client(&claims.iss) || !is_client(&claims.sub) {
        return Err(OAuthError::invalid_client(
            700_021,
            "Client assertion application identifier doesn't match 'client_id' parameter: its \
             'iss' and 'sub' must both be the application id.",
        ));
    }
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
        return Err(OAuthError::invalid_client(
            700_027,
            format!(
                "Client assertion failed signature validation. [Reason - The algorithm '{:?}' \
                 is not supported: sign with RS256 or PS256.]",
                header.alg
            ),
        ));
    }
    let certificates = state.store().app_certificates(&client.client_id).await?;
    let Some(certificate) = find_certificate(&certificates, header) else {
        let named = header
            .x5t_s256
            .as_deref()
            .or(header.x5t.as_deref())
            .and_then(|value| URL_SAFE_NO_PAD.decode(value).ok())
            .map(|bytes| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>())
            .unwrap_or_else(|| "(none: the header has no x5t or x5t#S256)".to_owned());
        return Err(OAuthError::invalid_client(
            700_027,
            format!(
                "Client assertion failed signature validation. [Reason - The key was not \
                 found., Thumbprint of key used by client: '{named}', Configured keys for \
                 Application '{}': {} certificate(s).]",
                client.client_id,
                certificates.len()
            ),
        ));
    };
    let key = certificate::rsa_public_key(&certificate.der)
        .map(DecodingKey::from_rsa_der)
        .map_err(|error| {
            tracing::error!(%error, "a stored certificate is unreadable");
            OAuthError::internal("The service could not read the certificate.")
        })?;
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(assertion, &key, &validation).map_err(|error| {
        match error.kind() {
            ErrorKind::InvalidSignature => OAuthError::invalid_client(
                700_027,
                "Client assertion failed signature validation. [Reason - The provided signature \
                 value did not match the expected signature value.]",
            ),
            _ => malformed("cannot be read"),
        }
    })?;
    let now = clock::now_s();
    let exp = check_window(claims, now, Some(MAX_ASSERTION_LIFETIME_S))?;
    check_audience(state, scope, claims, headers).await?;
    let jti = claims
        .jti
        .as_deref()
        .filter(|jti| !jti.is_empty())
        .ok_or_else(|| malformed("has no 'jti' claim"))?;
    let first_use = state
        .store()
        .use_assertion(
            &client.client_id,
            jti,
            (exp + ASSERTION_SKEW_S).saturating_mul(1000),
            clock::now_ms(),
        )
        .await?;
    if !first_use {
        return Err(OAuthError::invalid_client(
            50_013,
            format!(
                "Assertion is invalid: the client assertion with jti '{jti}' was already used. \
                 Make a new assertion (with a new jti) for each request."
            ),
        ));
    }
    Ok(())
}

/// The certificate the assertion header names: by `x5t#S256`, else by `x5t`.
fn find_certificate<'a>(
    certificates: &'a [StoredCertificate],
    header: &Header,
) -> Option<&'a StoredCertificate> {
    let named = |thumbprint: &str, wanted: &str| {
        certificate::header_thumbprint(thumbprint).is_some_and(|value| value == wanted)
    };
    if let Some(wanted) = header.x5t_s256.as_deref() {
        return certificates
            .iter()
            .find(|cert| named(&cert.sha256_thumbprint, wanted));
    }
    let wanted = header.x5t.as_deref()?;
    certificates
        .iter()
        .find(|cert| named(&cert.sha1_thumbprint, wanted))
}

async fn federated_assertion(
    state: &AppState,
    client: &AppRegistration,
    assertion: &str,
    claims: &AssertionClaims,
) -> Result<(), OAuthError> {
    let issuer = claims.iss.as_deref().unwrap_or_default();
    let subject = claims.sub.as_deref().unwrap_or_default();
    let audiences = claims.audiences();
    let credentials = state
        .store()
        .app_federated_credentials(&client.client_id)
        .await?;
    let matched = credentials.iter().any(|(iss, sub, aud)| {
        iss == issuer && sub == subject && audiences.contains(&aud.as_str())
    });
    if !matched {
        return Err(OAuthError::invalid_client(
            70_021,
            format!(
                "No matching federated identity record found for presented assertion. \
                 Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion \
                 Audience: '{}'.",
                audiences.join(", ")
            ),
        ));
    }
    if issuer != FEDERATION_ISSUER {
        return Err(OAuthError::invalid_client(
            50_013,
            format!(
                "Assertion failed signature validation: the emulator can check tokens of its own \
                 issuer '{FEDERATION_ISSUER}' only, not of '{issuer}'."
            ),
        ));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    state
        .key()
        .verify::<Value>(assertion, &validation)
        .map_err(|error| match error.kind() {
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                OAuthError::invalid_client(
                    50_013,
                    "Assertion failed signature validation: the federated token is not signed by \
                     its issuer's key.",
                )
            }
            _ => malformed("cannot be read"),
        })?;
    check_window(claims, clock::now_s(), None)?;
    Ok(())
}

/// Checks `exp` (required) and `nbf` against now, with [`ASSERTION_SKEW_S`], and that the
/// assertion does not live longer than `max_lifetime_s` from now; returns `exp`.
fn check_window(
    claims: &AssertionClaims,
    now: i64,
    max_lifetime_s: Option<i64>,
) -> Result<i64, OAuthError> {
    let exp = claims.exp.ok_or_else(|| malformed("has no 'exp' claim"))?;
    let text = |time: i64| clock::rfc3339(time).unwrap_or_else(|_| time.to_string());
    let out_of_range = |why: &str| {
        OAuthError::invalid_client(
            700_024,
            format!(
                "Client assertion is not within its valid time range: {why}. Current time: {}, \
                 expiry time of assertion {}.",
                text(now),
                text(exp)
            ),
        )
    };
    if exp + ASSERTION_SKEW_S < now {
        return Err(out_of_range("it has expired"));
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + ASSERTION_SKEW_S) {
        return Err(out_of_range("it is not valid yet (nbf)"));
    }
    if max_lifetime_s.is_some_and(|max| exp > now + max + ASSERTION_SKEW_S) {
        return Err(out_of_range("it expires more than an hour from now"));
    }
    Ok(exp)
}

/// Checks that the assertion's audience is this token endpoint, as the client reached it: this
/// server (by its address or the request's `Host`), the request's tenant (by id, domain or name),
/// the v2 or v1 token path.
async fn check_audience(
    state: &AppState,
    scope: &TenantScope,
    claims: &AssertionClaims,
    headers: &HeaderMap,
) -> Result<(), OAuthError> {
    let audiences = claims.audiences();
    for aud in &audiences {
        if audience_matches(state, scope, aud, headers).await? {
            return Ok(());
        }
    }
    Err(OAuthError::invalid_client(
        50_027,
        format!(
            "Invalid JWT token: the client assertion's audience '{}' is not this token endpoint \
             ('{}/{}/oauth2/v2.0/token').",
            audiences.join(", "),
            state.base_uri(),
            scope.segment()
        ),
    ))
}

async fn audience_matches(
    state: &AppState,
    scope: &TenantScope,
    aud: &str,
    headers: &HeaderMap,
) -> Result<bool, OAuthError> {
    let (Ok(url), Ok(base)) = (url::Url::parse(aud), url::Url::parse(state.base_uri())) else {
        return Ok(false);
    };
    let authority = |url: &url::Url| {
        format!(
            "{}:{}",
            url.host_str().unwrap_or_default().to_ascii_lowercase(),
            url.port_or_known_default().unwrap_or_default()
        )
    };
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .and_then(|host| url::Url::parse(&format!("{}://{host}", base.scheme())).ok());
    let known_server = authority(&url) == authority(&base)
        || host.is_some_and(|host| authority(&url) == authority(&host));
    if url.scheme() != base.scheme() || !known_server || url.query().is_some() {
        return Ok(false);
    }
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    let tenant = match segments.as_slice() {
        [tenant, "oauth2", "v2.0", "token"] | [tenant, "oauth2", "token"] => *tenant,
        _ => return Ok(false),
    };
    Ok(match scope {
        TenantScope::Any(name) => tenant.eq_ignore_ascii_case(name),
        TenantScope::One(expected) => state
            .store()
            .find_tenant(tenant)
            .await?
            .is_some_and(|found| found.id == expected.id),
    })
}

/// The claims of an assertion before its signature is checked (they choose how to check it).
fn unverified_claims(assertion: &str) -> Result<AssertionClaims, OAuthError> {
    let payload = assertion
        .split('.')
        .nth(1)
        .ok_or_else(|| malformed("is not a JWT"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| malformed("is not a JWT"))?;
    serde_json::from_slice(&bytes).map_err(|_| malformed("has claims of the wrong type"))
}

/// `invalid_client` AADSTS50027 for an assertion that cannot be used as it is.
fn malformed(why: &str) -> OAuthError {
    OAuthError::invalid_client(
        50_027,
        format!("Invalid JWT token: the client assertion {why}."),
    )
}
