//! Tokens from the authority's token endpoint, and refreshing them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::Deserialize;

use super::signin::SignIn;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Cancel};
use crate::secret::Secret;
use crate::settings::{redact_credentials, Variables};

/// Refresh an access token this long before it expires, so no request carries one that expires
/// on the way.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How long one call to the token or device-code endpoint may take.
const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(60);

/// The signed-in account, read from the access token's claims (never checked: the service does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// The user's sign-in name.
    pub upn: Option<String>,
    /// The tenant the token is for (`tid`).
    pub tenant_id: Option<String>,
    /// The user's own tenant, when the token is for another (a partner's user in a customer's
    /// tenant): read from `idp`, the issuer of the user's home tenant.
    pub home_tenant_id: Option<String>,
    /// The application the token was issued to (`appid`, `azp`).
    pub app_id: Option<String>,
    /// Whether the token is an application's own (`idtyp` `app`), not a user's.
    pub app_only: bool,
}

/// An access token, the refresh token that renews it, and when the access token expires.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The access token for the licensing resource.
    pub access: Secret,
    /// The refresh token, when the authority gave one.
    pub refresh: Option<Secret>,
    /// When the access token expires.
    pub expires_at: SystemTime,
    /// Who signed in.
    pub account: Account,
}

impl TokenSet {
    /// True when the access token expires within [`REFRESH_MARGIN`].
    pub fn needs_refresh(&self) -> bool {
        self.expires_at
            .duration_since(SystemTime::now())
            .map_or(true, |left| left < REFRESH_MARGIN)
    }

    /// Seconds since the Unix epoch at which the access token expires.
    pub fn expires_on(&self) -> u64 {
        self.expires_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    error: Option<String>,
    error_description: Option<String>,
}

/// What the token endpoint answered.
#[derive(Debug)]
pub(crate) enum TokenReply {
    /// New tokens.
    Tokens(TokenSet),
    /// A protocol error, such as `authorization_pending`.
    Refused {
        /// The error code.
        error: String,
        /// The authority's explanation.
        description: String,
    },
}

/// POSTs a form to an endpoint of the authority and returns the JSON answer with its status,
/// through the proxy `variables` name.
pub(crate) async fn post_form(
    variables: &Variables,
    url: url::Url,
    form: &[(&str, &str)],
    cancel: &Cancel,
) -> Result<(u16, Vec<u8>)> {
    let client = http::client_for(variables)?;
    let body = form
        .iter()
        .fold(
            url::form_urlencoded::Serializer::new(String::new()),
            |mut s, (k, v)| {
                s.append_pair(k, v);
                s
            },
        )
        .finish();
    let send = async {
        let response = client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                sign_in_failed(&format!(
                    "the authority could not be reached ({})",
                    redact_credentials(&e.to_string())
                ))
            })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| {
            sign_in_failed(&format!(
                "the authority's answer was cut short ({})",
                redact_credentials(&e.to_string())
            ))
        })?;
        Ok((status, bytes.to_vec()))
    };
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Error::new(ErrorKind::Cancelled, "The sign-in was cancelled.")),
        outcome = tokio::time::timeout(ENDPOINT_TIMEOUT, send) => outcome.map_err(|_| {
            Error::new(ErrorKind::Timeout, "The authority did not answer in time.")
        })?,
    }
}

/// Asks the token endpoint for tokens with `form` (a grant).
pub(crate) async fn request_tokens(
    variables: &Variables,
    signin: &SignIn,
    form: &[(&str, &str)],
    cancel: &Cancel,
) -> Result<TokenReply> {
    let (status, body) = post_form(variables, signin.endpoint("token")?, form, cancel).await?;
    let reply: TokenResponse = serde_json::from_slice(&body).map_err(|_| {
        sign_in_failed(&format!(
            "the authority answered HTTP {status} with a body that is not a token response"
        ))
    })?;
    if let Some(error) = reply.error {
        return Ok(TokenReply::Refused {
            error,
            description: reply.error_description.unwrap_or_default(),
        });
    }
    let access = reply
        .access_token
        .and_then(Secret::new)
        .ok_or_else(|| sign_in_failed("the authority's answer holds no access token"))?;
    let lifetime = Duration::from_secs(reply.expires_in.unwrap_or(3600));
    Ok(TokenReply::Tokens(TokenSet {
        account: account_of(&access),
        access,
        refresh: reply.refresh_token.and_then(Secret::new),
        expires_at: SystemTime::now() + lifetime,
    }))
}

/// Renews the access token with the refresh token. The authority rotates refresh tokens: the new
/// one replaces the old, which stops working.
pub async fn refresh(
    variables: &Variables,
    signin: &SignIn,
    tokens: &TokenSet,
    cancel: &Cancel,
) -> Result<TokenSet> {
    let refresh = tokens
        .refresh
        .as_ref()
        .ok_or_else(|| Error::new(ErrorKind::AuthExpired, super::AUTH_EXPIRED_MESSAGE))?;
    redeem_refresh_token(variables, signin, refresh, cancel).await
}

/// Gets new tokens for a refresh token (a session's, or one from the token cache). A refusal
/// (the token expired, was revoked or rotated away) is `AuthExpired`; a failure to reach the
/// authority is not, so callers can tell "sign in again" from "try again".
pub async fn redeem_refresh_token(
    variables: &Variables,
    signin: &SignIn,
    refresh: &Secret,
    cancel: &Cancel,
) -> Result<TokenSet> {
    let scope = signin.scope();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", signin.client_id.as_str()),
        ("refresh_token", refresh.expose()),
        ("scope", scope.as_str()),
    ];
    match request_tokens(variables, signin, &form, cancel).await? {
        TokenReply::Tokens(mut renewed) => {
            if renewed.refresh.is_none() {
                renewed.refresh = Some(refresh.clone());
            }
            Ok(renewed)
        }
        TokenReply::Refused { description, .. } => {
            if let Some(code) = no_access_code(&description) {
                // The refresh token is fine: the account may not enter this tenant.
                let first_line = description.lines().next().unwrap_or_default().trim();
                return Err(Error::new(
                    ErrorKind::Forbidden,
                    format!(
                        "The account cannot sign in to tenant '{}' ({code}): a partner's account \
                         needs a delegated admin relationship (GDAP) with a role in that tenant, \
                         and an application must be consented there. {first_line}",
                        signin.tenant
                    ),
                )
                .with_target(Some(&signin.tenant)));
            }
            Err(Error::new(
                ErrorKind::AuthExpired,
                super::AUTH_EXPIRED_MESSAGE,
            ))
        }
    }
}

/// The authority's codes for "this account (or app) has no access to the tenant asked for", as
/// opposed to a refresh token that expired or was revoked.
const NO_ACCESS_CODES: [&str; 5] = [
    "AADSTS50020",
    "AADSTS90072",
    "AADSTS700016",
    "AADSTS65001",
    "AADSTS50177",
];

/// The code in an authority's error description that says the account has no access to the
/// tenant, if it says so.
fn no_access_code(description: &str) -> Option<&'static str> {
    NO_ACCESS_CODES
        .iter()
        .copied()
        .find(|code| description.contains(code))
}

/// The sign-in failure the contract reports: `Unable to establish connection`, with why.
pub(crate) fn sign_in_failed(why: &str) -> Error {
    Error::new(
        ErrorKind::SignInFailed,
        format!("Unable to establish connection: {why}"),
    )
}

/// Reads `upn`/`preferred_username` and `tid` from a JWT's payload, if it is one.
pub(crate) fn account_of(token: &Secret) -> Account {
    #[derive(Deserialize)]
    struct Claims {
        upn: Option<String>,
        preferred_username: Option<String>,
        tid: Option<String>,
        appid: Option<String>,
        azp: Option<String>,
        idtyp: Option<String>,
        idp: Option<String>,
    }
    token
        .expose()
        .split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
        })
        .and_then(|json| serde_json::from_slice::<Claims>(&json).ok())
        .map(|claims| Account {
            upn: claims.upn.or(claims.preferred_username),
            home_tenant_id: claims
                .idp
                .as_deref()
                .and_then(tenant_of_issuer)
                .filter(|home| {
                    claims
                        .tid
                        .as_deref()
                        .is_none_or(|tid| !tid.eq_ignore_ascii_case(home))
                }),
            tenant_id: claims.tid,
            app_id: claims.appid.or(claims.azp),
            app_only: claims.idtyp.as_deref() == Some("app"),
        })
        .unwrap_or_default()
}

/// The tenant id of an issuer such as `https://sts.windows.net/<tenant>/` or
/// `https://login.microsoftonline.com/<tenant>/v2.0`.
fn tenant_of_issuer(issuer: &str) -> Option<String> {
    let url = url::Url::parse(issuer).ok()?;
    let looks_like_id = |segment: &&str| {
        segment.len() == 36 && segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
    };
    let tenant = url.path_segments()?.find(looks_like_id)?;
    Some(tenant.to_ascii_lowercase())
}

#[cfg(test)]
mod home_tenant_tests {
    use super::tenant_of_issuer;

    #[test]
    fn the_home_tenant_is_the_tenant_id_in_the_issuer() {
        for issuer in [
            "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
            "https://login.microsoftonline.com/72F988BF-86F1-41AF-91AB-2D7CD011DB47/v2.0",
            "http://127.0.0.1:8080/prefix/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
        ] {
            assert_eq!(
                tenant_of_issuer(issuer).as_deref(),
                Some("72f988bf-86f1-41af-91ab-2d7cd011db47"),
                "{issuer}"
            );
        }
    }

    #[test]
    fn an_issuer_without_a_tenant_id_names_no_home_tenant() {
        for issuer in [
            "https://sts.windows.net/contoso.com/",
            "not a url",
            "live.com",
        ] {
            assert_eq!(tenant_of_issuer(issuer), None, "{issuer}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_for_a_customer_names_the_home_tenant_from_idp() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            r#"{"upn":"partneradmin@trey.example","tid":"00000000-0000-0000-0000-00000000b001","idp":"https://sts.windows.net/00000000-0000-0000-0000-00000000a001/"}"#,
        );
        let token = Secret::new(format!("h.{payload}.s")).unwrap();
        assert_eq!(
            account_of(&token).home_tenant_id.as_deref(),
            Some("00000000-0000-0000-0000-00000000a001")
        );
    }

    #[test]
    fn account_comes_from_the_token_claims() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"upn":"admin@contoso.onmicrosoft.com","tid":"t-1"}"#);
        let token = Secret::new(format!("h.{payload}.s")).unwrap();
        assert_eq!(
            account_of(&token),
            Account {
                upn: Some("admin@contoso.onmicrosoft.com".into()),
                tenant_id: Some("t-1".into()),
                home_tenant_id: None,
                app_id: None,
                app_only: false,
            }
        );
        assert_eq!(
            account_of(&Secret::new("opaque").unwrap()),
            Account::default()
        );
    }

    #[test]
    fn a_token_expiring_within_the_margin_needs_refresh() {
        let soon = TokenSet {
            access: Secret::new("a").unwrap(),
            refresh: None,
            expires_at: SystemTime::now() + Duration::from_secs(60),
            account: Account::default(),
        };
        assert!(soon.needs_refresh());
        let later = TokenSet {
            expires_at: SystemTime::now() + Duration::from_secs(3600),
            ..soon
        };
        assert!(!later.needs_refresh());
    }
}
