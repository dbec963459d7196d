//! The engine of the MSCommerce PowerShell module.
//!
//! Everything the module does happens here: talking to the licensing service over HTTPS, the
//! contract's rules and messages, sign-in and the token cache. It never reads the process
//! environment: the shim passes the variables it uses ([`settings`]). The C# shim loads the
//! `cdylib` build of this crate and talks to it through the narrow, versioned C ABI in [`ffi`]
//! (documented in `docs/abi.md`); the `rlib` build lets Rust tests drive the same code directly.
//!
//! ```no_run
//! use mscommerce_core::{client::Client, config::ClientConfig, protocol::Request, Cancel};
//!
//! let config = ClientConfig::from_json(r#"{"serviceUri":"http://127.0.0.1:8080"}"#).unwrap();
//! let client = Client::new(config).unwrap();
//! let request = Request::from_json(r#"{"op":"getPolicies","token":"x"}"#).unwrap();
//! let policies = client.invoke(&request, &Cancel::new()).unwrap();
//! println!("{policies}");
//! ```
#![deny(missing_docs)]

pub(crate) mod auth;
pub mod client;
pub mod config;
pub(crate) mod environment;
mod error;
pub mod ffi;
pub mod http;
pub mod log;
pub(crate) mod policy;
pub mod protocol;
pub mod report;
pub(crate) mod secret;
pub mod settings;

pub use auth::app as app_only;
pub use error::{Error, ErrorKind, Result};
pub use http::Cancel;

/// The version of the C ABI this build exports (see `mc_abi_version`).
pub const ABI_VERSION: u32 = 1;
