//! What the HTML pages share: the response type with its headers, and escaping.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// An HTML page, with headers that keep it out of caches and frames and allow no scripts and no
/// outside resources (inline styles only). Forms post to this server; `form-action` also names
/// the loopback origins because browsers apply it to the redirect that answers a post, and the
/// sign-in form's answer redirects to the client's loopback redirect URI.
#[derive(Debug)]
pub struct Page {
    status: StatusCode,
    html: String,
}

impl Page {
    /// A page with this status and whole document.
    pub fn new(status: StatusCode, html: String) -> Self {
        Self { status, html }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, Html(self.html)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; \
                 form-action 'self' http://localhost:* http://127.0.0.1:*",
            ),
        );
        response
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
