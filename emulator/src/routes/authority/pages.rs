//! The HTML of the sign-in pages: plain forms a person (or a test) can fill in, no scripts.

use std::fmt::Write as _;

use axum::http::StatusCode;

use crate::model::{Tenant, User};
use crate::routes::html::{escape, Page};

fn page(status: StatusCode, title: &str, body: &str) -> Page {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} - MSCommerce emulator</title>\n<style>\n\
         body {{ font-family: 'Segoe UI', system-ui, sans-serif; background: #f2f2f2; margin: 0; }}\n\
         main {{ max-width: 28rem; margin: 4rem auto; background: #fff; padding: 2rem 2.5rem; \
         box-shadow: 0 2px 6px rgba(0,0,0,.2); }}\n\
         h1 {{ font-size: 1.5rem; font-weight: 600; }}\n\
         label {{ display: block; padding: .5rem; border: 1px solid #ddd; margin: .25rem 0; }}\n\
         .error {{ color: #a80000; }} .hint {{ color: #666; font-size: .9rem; }}\n\
         button {{ padding: .4rem 1.5rem; margin: 1rem .5rem 0 0; }}\n\
         </style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n{body}</main>\n</body>\n</html>\n",
        title = escape(title),
    );
    Page::new(status, html)
}

/// A page that says what went wrong, when there is no client to send the error back to.
pub fn error_page(status: StatusCode, message: &str) -> Page {
    page(
        status,
        "Sign-in failed",
        &format!("<p class=\"error\">{}</p>\n", escape(message)),
    )
}

/// The radio buttons to pick one of `users` (`checked`: the UPN to preselect).
fn user_choices(users: &[(User, Tenant)], checked: Option<&str>) -> String {
    let mut html = String::from("<fieldset>\n<legend>Pick an account</legend>\n");
    if users.is_empty() {
        html.push_str("<p class=\"error\">This tenant has no users.</p>\n");
    }
    for (index, (user, tenant)) in users.iter().enumerate() {
        let roles: Vec<&str> = user.roles.iter().map(|role| role.name()).collect();
        let roles = if roles.is_empty() {
            "no administrator role".to_owned()
        } else {
            roles.join(", ")
        };
        let is_checked = checked.is_some_and(|upn| upn.eq_ignore_ascii_case(&user.upn));
        let _ = writeln!(
            html,
            "<label><input type=\"radio\" name=\"user\" value=\"{upn}\"{checked}{required}> \
             {name} &lt;{upn}&gt; <span class=\"hint\">{tenant}, {roles}</span></label>",
            upn = escape(&user.upn),
            name = escape(&user.display_name),
            tenant = escape(&tenant.domain),
            roles = escape(&roles),
            checked = if is_checked { " checked" } else { "" },
            required = if index == 0 { " required" } else { "" },
        );
    }
    html.push_str("</fieldset>\n");
    html
}

fn hidden_fields(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape(name),
                escape(value)
            )
        })
        .collect()
}

/// What the sign-in page shows.
#[derive(Debug)]
pub struct SignIn<'a> {
    /// Where the form posts (`/{tenant}/oauth2/v2.0/authorize`).
    pub action: &'a str,
    /// The app asking.
    pub app_name: &'a str,
    /// The users to pick from, with their tenants.
    pub users: &'a [(User, Tenant)],
    /// The UPN to preselect (`login_hint`).
    pub login_hint: Option<&'a str>,
    /// The authorization request, carried through the form.
    pub fields: &'a [(&'a str, &'a str)],
    /// A problem with the previous submission.
    pub error: Option<&'a str>,
}

/// The authorization endpoint's page: pick a user, sign in or cancel.
pub fn sign_in_page(status: StatusCode, sign_in: &SignIn<'_>) -> Page {
    let mut body = format!(
        "<p><strong>{}</strong> wants to sign you in to the licensing service.</p>\n",
        escape(sign_in.app_name)
    );
    if let Some(error) = sign_in.error {
        let _ = writeln!(body, "<p class=\"error\">{}</p>", escape(error));
    }
    let _ = writeln!(
        body,
        "<form method=\"post\" action=\"{}\">",
        escape(sign_in.action)
    );
    body.push_str(&hidden_fields(sign_in.fields));
    body.push_str(&user_choices(sign_in.users, sign_in.login_hint));
    body.push_str(
        "<button type=\"submit\" name=\"action\" value=\"approve\">Sign in</button>\
         <button type=\"submit\" name=\"action\" value=\"cancel\" formnovalidate>Cancel</button>\n\
         </form>\n",
    );
    page(status, "Sign in", &body)
}

/// The device login page: enter the code shown by the app.
pub fn device_code_page(status: StatusCode, code: &str, error: Option<&str>) -> Page {
    let mut body = String::from("<p>Enter the code displayed on your app or device.</p>\n");
    if let Some(error) = error {
        let _ = writeln!(body, "<p class=\"error\">{}</p>", escape(error));
    }
    let _ = writeln!(
        body,
        "<form method=\"post\" action=\"/devicelogin\">\n\
         <label>Code <input name=\"user_code\" value=\"{}\" autocomplete=\"off\" required autofocus></label>\n\
         <button type=\"submit\">Next</button>\n</form>",
        escape(code)
    );
    page(status, "Enter code", &body)
}

/// The device login page's second step: pick a user, approve or decline.
pub fn device_user_page(
    status: StatusCode,
    user_code: &str,
    app_name: &str,
    users: &[(User, Tenant)],
    error: Option<&str>,
) -> Page {
    let mut body = format!(
        "<p>Sign in to <strong>{}</strong> on the device that showed the code <strong>{}</strong>? \
         Only continue if you started this sign-in.</p>\n",
        escape(app_name),
        escape(user_code)
    );
    if let Some(error) = error {
        let _ = writeln!(body, "<p class=\"error\">{}</p>", escape(error));
    }
    body.push_str("<form method=\"post\" action=\"/devicelogin\">\n");
    body.push_str(&hidden_fields(&[("user_code", user_code)]));
    body.push_str(&user_choices(users, None));
    body.push_str(
        "<button type=\"submit\" name=\"action\" value=\"approve\">Continue</button>\
         <button type=\"submit\" name=\"action\" value=\"deny\" formnovalidate>Decline</button>\n\
         </form>\n",
    );
    page(status, "Pick an account", &body)
}

/// The device login page's last step.
pub fn device_done_page(approved: bool, app_name: &str) -> Page {
    let (title, text) = if approved {
        (
            "You're signed in",
            format!(
                "You have signed in to {} on your device. You may now close this window.",
                app_name
            ),
        )
    } else {
        (
            "Sign-in declined",
            "You declined the sign-in. You may now close this window.".to_owned(),
        )
    };
    page(
        StatusCode::OK,
        title,
        &format!("<p>{}</p>\n", escape(&text)),
    )
}
