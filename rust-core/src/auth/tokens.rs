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
    /// The user's tenant id.
    pub tenant_id: Option<String>,
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
        TokenReply::Refused { .. } => Err(Error::new(
            ErrorKind::AuthExpired,
            super::AUTH_EXPIRED_MESSAGE,
        )),
    }
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
            tenant_id: claims.tid,
            app_id: claims.appid.or(claims.azp),
            app_only: claims.idtyp.as_deref() == Some("app"),
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
