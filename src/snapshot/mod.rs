//! The org snapshot: what the rules look at, fetched with targeted SOQL.
//!
//! Owns: the SOQL (the only module that knows which queries to run) and the conversion of
//! Salesforce rows (wire types, [`wire`]) into the plain snapshot model ([`model`]).
//! Must not: decide anything about licenses; that is the rules' job.

pub mod calls;
pub mod fetch;
pub mod model;
mod paging;
pub mod probe;
pub mod soql;
pub(crate) mod wire;

pub use fetch::{CallsWindow, FetchError, FetchProgress, FetchStats, fetch_snapshot};
pub use model::*;
