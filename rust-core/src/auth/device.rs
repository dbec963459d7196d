//! The device code flow (RFC 8628): the user signs in on any device with a browser while this
//! one polls, as the protocol says (interval, `slow_down`, expiry), until it gets tokens.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::signin::SignIn;
use super::tokens::{post_form, request_tokens, sign_in_failed, TokenReply, TokenSet};
use crate::error::{Error, ErrorKind, Result};
use crate::http::Cancel;
use crate::log::{Level, Sink};
use crate::settings::Variables;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[derive(Deserialize)]
struct DeviceAuthorization {
    device_code: String,
    message: Option<String>,
    user_code: Option<String>,
    verification_uri: Option<String>,
    expires_in: Option<u64>,
    interval: Option<u64>,
}

/// Signs in with a device code. The authority's message (the URL and the code) goes to the
/// sink as a warning, the way other Microsoft modules show it.
pub async fn sign_in(
    variables: &Variables,
    signin: &SignIn,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<TokenSet> {
    let scope = signin.scope();
    let (status, body) = post_form(
        variables,
        signin.endpoint("devicecode")?,
        &[
            ("client_id", signin.client_id.as_str()),
            ("scope", scope.as_str()),
        ],
        cancel,
    )
    .await?;
    let device: DeviceAuthorization = serde_json::from_slice(&body).map_err(|_| {
        sign_in_failed(&format!(
            "the authority refused to start a device sign-in (HTTP {status}): {}",
            String::from_utf8_lossy(&body)
        ))
    })?;
    let message = device.message.clone().unwrap_or_else(|| {
        format!(
            "To sign in, use a web browser to open the page {} and enter the code {} to authenticate.",
            device.verification_uri.as_deref().unwrap_or("(unknown)"),
            device.user_code.as_deref().unwrap_or("(unknown)")
        )
    });
    sink.log(Level::Warning, &message);

    let deadline = Instant::now() + Duration::from_secs(device.expires_in.unwrap_or(900));
    let mut interval = Duration::from_secs(device.interval.unwrap_or(5).max(1));
    let form = [
        ("grant_type", DEVICE_GRANT),
        ("client_id", signin.client_id.as_str()),
        ("device_code", device.device_code.as_str()),
    ];
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Error::new(ErrorKind::Cancelled, "The sign-in was cancelled.")),
            _ = tokio::time::sleep(interval) => {}
        }
        if Instant::now() >= deadline {
            return Err(sign_in_failed(
                "the device code expired before the sign-in was completed",
            ));
        }
        match request_tokens(variables, signin, &form, cancel).await? {
            TokenReply::Tokens(tokens) => return Ok(tokens),
            TokenReply::Refused { error, description } => match error.as_str() {
                "authorization_pending" => sink.debug("device sign-in: waiting for the user"),
                "slow_down" => {
                    interval += Duration::from_secs(5);
                    sink.debug(&format!(
                        "device sign-in: polling every {} s",
                        interval.as_secs()
                    ));
                }
                "expired_token" => {
                    return Err(sign_in_failed(
                        "the device code expired before the sign-in was completed",
                    ))
                }
                "access_denied" | "authorization_declined" => {
                    return Err(sign_in_failed("the sign-in was declined"))
                }
                _ => return Err(sign_in_failed(&format!("{error}: {description}"))),
            },
        }
    }
}
