//! The request protocol of `mc_invoke` (`docs/abi.md`): the requests the shim sends and the
//! replies it reads back. Nothing here knows of C: [`crate::ffi`] wraps a reply in its envelope.

mod reply;
mod request;

pub use reply::OutputItem;
pub(crate) use request::{BulkItem, CompletionKind, Operation, Selection};
pub use request::{Request, MAX_REQUEST_BYTES};
