//! The one JSON envelope every export answers with.

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;

#[derive(Serialize)]
struct Envelope<'a> {
    ok: bool,
    data: Value,
    error: Option<ErrorBody<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    code: &'static str,
    category: &'static str,
    terminating: bool,
    message: &'a str,
    target: Option<&'a str>,
    correlation_id: Option<&'a str>,
    http_status: Option<u16>,
    details: Option<&'a str>,
}

/// `{"ok":true,"data":...,"error":null}`
pub(crate) fn success(data: Value) -> String {
    encode(&Envelope {
        ok: true,
        data,
        error: None,
    })
}

/// `{"ok":false,"data":null,"error":{...}}`
pub(crate) fn failure(error: &Error) -> String {
    let kind = error.kind();
    encode(&Envelope {
        ok: false,
        data: Value::Null,
        error: Some(ErrorBody {
            code: kind.code(),
            category: kind.category(),
            terminating: kind.is_terminating(),
            message: error.message(),
            target: error.target(),
            correlation_id: error.correlation_id(),
            http_status: error.http_status(),
            details: error.details(),
        }),
    })
}

fn encode(envelope: &Envelope<'_>) -> String {
    serde_json::to_string(envelope).unwrap_or_else(|_| {
        r#"{"ok":false,"data":null,"error":{"code":"Internal","category":"NotSpecified","terminating":true,"message":"Could not encode the answer.","target":null,"correlationId":null,"httpStatus":null,"details":null}}"#.to_owned()
    })
}
