//! The one JSON envelope every export answers with.

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::protocol::ErrorReply;

#[derive(Serialize)]
struct Envelope {
    ok: bool,
    data: Value,
    error: Option<ErrorReply>,
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
    encode(&Envelope {
        ok: false,
        data: Value::Null,
        error: Some(ErrorReply::from(error)),
    })
}

fn encode(envelope: &Envelope) -> String {
    serde_json::to_string(envelope).unwrap_or_else(|_| {
        r#"{"ok":false,"data":null,"error":{"code":"Internal","category":"NotSpecified","terminating":true,"message":"Could not encode the answer.","target":null,"correlationId":null,"httpStatus":null,"details":null}}"#.to_owned()
    })
}
