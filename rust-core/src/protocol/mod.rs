//! The request protocol of `mc_invoke` (`docs/abi.md`): the requests the shim sends and the
//! replies it reads back, each a serde type defined once here; the C# data contracts are
//! generated from them (`tests/contracts.rs`). Nothing here knows of C: [`crate::ffi`] wraps a
//! reply in its envelope.

pub mod defaults;
mod reply;
mod request;

pub use reply::{
    BaselineExport, BulkResult, Candidate, ClientInfo, Connection, Disconnected, ErrorReply,
    OutputItem, PlannedUpdate, Policy, PolicyDrift, PolicyReport, ProductPolicy, ScopePolicy,
    SelectedItems, TenantOutput, UpdatePlan,
};
pub(crate) use request::{
    AppConnect, BulkItem, CompletionKind, Operation, Pick, RawConfig, Selection,
};
pub use request::{RawTarget, Request, MAX_REQUEST_BYTES};

use crate::error::{Error, ErrorKind, Result};

/// A reply as the `data` of an envelope.
pub(crate) fn data(reply: impl serde::Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(reply).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("Could not encode the output: {e}"),
        )
    })
}

/// The JSON schema of every type that crosses the ABI, by name, in a stable order: the
/// configuration, the requests (`op` tags one schema per operation), the replies, the error and
/// the progress report. `tests/contracts.rs` generates the C# data contracts from it.
///
/// `variables` and `tenants`, which any request may carry, are added to each operation's schema
/// here: [`Request::from_json`] takes them out before the operation's own fields are checked
/// (and refuses `tenants` where the operation runs in the connection's tenant only).
pub fn wire_schemas() -> serde_json::Map<String, serde_json::Value> {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let variables = generator
        .subschema_for::<Option<crate::settings::Variables>>()
        .to_value();
    let tenants = generator.subschema_for::<Option<Vec<String>>>().to_value();
    generator.subschema_for::<RawConfig>();
    generator.subschema_for::<request::RawRequest>();
    generator.subschema_for::<ClientInfo>();
    generator.subschema_for::<Connection>();
    generator.subschema_for::<Disconnected>();
    generator.subschema_for::<OutputItem>();
    generator.subschema_for::<BulkResult>();
    generator.subschema_for::<SelectedItems>();
    generator.subschema_for::<UpdatePlan>();
    generator.subschema_for::<TenantOutput>();
    generator.subschema_for::<PolicyReport>();
    generator.subschema_for::<BaselineExport>();
    generator.subschema_for::<Candidate>();
    generator.subschema_for::<ErrorReply>();
    generator.subschema_for::<crate::log::Progress>();
    let mut schemas: serde_json::Map<String, serde_json::Value> =
        generator.take_definitions(true).into_iter().collect();
    if let Some(variants) = schemas
        .get_mut("RawRequest")
        .and_then(|request| request.get_mut("oneOf"))
        .and_then(serde_json::Value::as_array_mut)
    {
        for variant in variants {
            if let Some(properties) = variant
                .get_mut("properties")
                .and_then(serde_json::Value::as_object_mut)
            {
                properties.insert("variables".to_owned(), variables.clone());
                properties.insert("tenants".to_owned(), tenants.clone());
            }
        }
    }
    schemas
}
