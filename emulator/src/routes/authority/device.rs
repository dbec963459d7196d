//! The device code flow (RFC 8628): an app asks for a code, the user enters it at
//! `/devicelogin` in any browser and picks an account, the app polls the token endpoint.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};

use super::pages;
use super::{no_store, users_with_tenants, OAuthError, Scopes, TenantScope};
use crate::store::{DeviceDecision, DeviceStatus, NewDeviceCode, Redemption};
use crate::{clock, secrets, AppState};

/// How many user codes to draw before giving up (they collide with odds of about 1 in 10^13).
const USER_CODE_ATTEMPTS: usize = 5;

#[derive(Debug, Default, Deserialize)]
pub(super) struct StartForm {
    client_id: Option<String>,
    scope: Option<String>,
}

/// The answer of the device authorization endpoint.
#[derive(Debug, Serialize)]
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    verification_uri: String,
    expires_in: u32,
    interval: u32,
    message: String,
}

/// `POST /{tenant}/oauth2/v2.0/devicecode` (form: `client_id`, `scope`): starts a flow.
pub(super) async fn start(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    form: Result<Form<StartForm>, FormRejection>,
) -> Response {
    match start_flow(&state, &segment, form).await {
        Ok(response) => response,
        Err(error) => error.into_response_for(&headers),
    }
}

async fn start_flow(
    state: &AppState,
    segment: &str,
    form: Result<Form<StartForm>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Ok(Form(form)) = form else {
        return Err(OAuthError::new(
            "invalid_request",
            900_144,
            "The request body must be form-encoded (application/x-www-form-urlencoded).",
        ));
    };
    let store = state.store();
    let scope = TenantScope::resolve(store, segment)
        .await?
        .ok_or_else(|| OAuthError::unknown_tenant(segment))?;
    let client_id = form
        .client_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| OAuthError::missing("client_id"))?;
    let client = store
        .app_registration(&client_id)
        .await?
        .ok_or_else(|| OAuthError::unknown_client(&client_id, &scope))?;
    if !client.is_public() {
        return Err(OAuthError::new(
            "unauthorized_client",
            700_016,
            format!(
                "The application '{client_id}' is not a public client: the device code flow is \
                 for public clients."
            ),
        ));
    }
    let scopes = Scopes::parse(
        form.scope
            .as_deref()
            .filter(|scope| !scope.trim().is_empty())
            .ok_or_else(|| OAuthError::missing("scope"))?,
    )
    .map_err(|reason| OAuthError::new("invalid_scope", 70_011, reason))?;

    let settings = state.settings();
    let device_code = secrets::issue(32);
    let now = clock::now_ms();
    for _ in 0..USER_CODE_ATTEMPTS {
        let user_code = secrets::user_code();
        let stored = store
            .insert_device_code(
                NewDeviceCode {
                    device_code_sha256: secrets::sha256_hex(&device_code),
                    user_code: user_code.clone(),
                    tenant_id: scope.tenant_id().cloned(),
                    client_id: client.client_id.clone(),
                    scope: scopes.normalized(),
                    interval_s: i64::from(settings.device_code_interval_s),
                    expires_at_ms: now + i64::from(settings.device_code_lifetime_s) * 1000,
                },
                now,
            )
            .await?;
        if stored {
            let verification_uri = format!("{}/devicelogin", state.base_uri());
            let message = format!(
                "To sign in, use a web browser to open the page {verification_uri} and enter the \
                 code {user_code} to authenticate."
            );
            return Ok(no_store(
                Json(DeviceAuthorization {
                    device_code,
                    user_code,
                    verification_uri,
                    expires_in: settings.device_code_lifetime_s,
                    interval: settings.device_code_interval_s,
                    message,
                })
                .into_response(),
            ));
        }
    }
    Err(OAuthError::new(
        "temporarily_unavailable",
        90_033,
        "No free user code was found; try again.",
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CodeQuery {
    otc: Option<String>,
}

/// `GET /devicelogin[?otc=CODE]`: the page where the user enters the code.
pub(super) async fn page(query: Result<Query<CodeQuery>, QueryRejection>) -> Response {
    let code = query
        .ok()
        .and_then(|Query(query)| query.otc)
        .unwrap_or_default();
    pages::device_code_page(StatusCode::OK, &code, None).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct LoginForm {
    user_code: Option<String>,
    user: Option<String>,
    action: Option<String>,
}

/// `POST /devicelogin`: with `user_code` only, shows the accounts to pick from; with `user` and
/// `action=approve` (or `action=deny`), answers the flow.
pub(super) async fn submit(
    State(state): State<AppState>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let form = form.map(|Form(form)| form).unwrap_or_default();
    match answer(&state, form).await {
        Ok(page) => page,
        Err(error) => {
            tracing::error!(%error, "the device login page failed in the store");
            pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The service could not process the request.",
            )
            .into_response()
        }
    }
}

async fn answer(state: &AppState, form: LoginForm) -> Result<Response, crate::store::StoreError> {
    let store = state.store();
    let typed = form.user_code.unwrap_or_default();
    let user_code = secrets::normalize_user_code(&typed);
    let retry = |message: &str| {
        Ok(pages::device_code_page(StatusCode::BAD_REQUEST, &typed, Some(message)).into_response())
    };
    let Some(code) = store.device_code_by_user_code(&user_code).await? else {
        return retry("That code wasn't recognized. Check it and try again.");
    };
    if code.status != DeviceStatus::Pending {
        return retry("That code was already used. Start the sign-in again on your device.");
    }
    if clock::now_ms() >= code.expires_at_ms {
        return retry("That code has expired. Start the sign-in again on your device.");
    }
    let app_name = store
        .app_registration(&code.client_id)
        .await?
        .map(|app| app.display_name)
        .unwrap_or_else(|| code.client_id.clone());
    let users = users_with_tenants(store, code.tenant_id.as_ref()).await?;
    let pick_again = |message: Option<&str>| {
        let status = if message.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        Ok(pages::device_user_page(status, &user_code, &app_name, &users, message).into_response())
    };

    let decision = match form.action.as_deref() {
        None => return pick_again(None),
        Some("deny") => DeviceDecision::Deny,
        Some("approve") => {
            let chosen = form.user.as_deref().and_then(|upn| {
                users
                    .iter()
                    .find(|(user, _)| user.upn.eq_ignore_ascii_case(upn))
            });
            match chosen {
                Some((user, _)) => DeviceDecision::Approve {
                    user_oid: user.oid.clone(),
                },
                None => return pick_again(Some("Pick one of these accounts.")),
            }
        }
        Some(_) => return pick_again(Some("Choose Continue or Decline.")),
    };
    let approved = matches!(decision, DeviceDecision::Approve { .. });
    let outcome = store
        .decide_device_code(&user_code, decision, clock::now_ms())
        .await?;
    match outcome {
        Redemption::Redeemed(_) => {
            tracing::info!(approved, "device code answered");
            Ok(pages::device_done_page(approved, &app_name).into_response())
        }
        Redemption::Expired => {
            retry("That code has expired. Start the sign-in again on your device.")
        }
        Redemption::AlreadyRedeemed => {
            retry("That code was already used. Start the sign-in again on your device.")
        }
        Redemption::Unknown => retry("That code wasn't recognized. Check it and try again."),
        Redemption::Rejected(never) => match never {},
    }
}
