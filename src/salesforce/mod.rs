//! The Salesforce REST client: the only code in pslwarden that speaks HTTP to an org.
//!
//! Owns: signing in (JWT bearer, client credentials, refresh token, ready access token, an sf
//! CLI session), the
//! token cache and its renewal, SOQL query pages, sObject Collections create/delete, composite
//! calls, error mapping with advice, retries with backoff, and API-usage tracking.
//! Must not know anything about licenses, permission sets or what should change in an org; it
//! moves records and rows, and callers decide. No secret ever leaves this module in a message.
//!
//! Layout: `settings` (checked input), `auth` (tokens), `sfcli` (`sf org display`), `client` (request loop and small
//! endpoints), `query`, `collections`, `composite` (the resources), `error`, `retry`, `usage`,
//! and `wire` (Salesforce's JSON shapes, kept apart from the domain types returned).

mod auth;
mod client;
mod collections;
mod composite;
mod error;
mod query;
pub(crate) mod retry;
pub mod settings;
mod sfcli;
mod usage;
mod wire;

pub use client::{ApiVersion, Client, Identity, Limits};
pub use collections::{
    COLLECTION_CHUNK, COMPOSITE_WRITE_MAX, NewRecord, RecordError, RecordOutcome, RecordUpdate,
    WriteBatch,
};
pub use composite::{MAX_QUERY_SUBREQUESTS, MAX_SUBREQUESTS, SubRequest, SubResponse};
pub use error::{
    ApiError, ApiErrorCode, AuthError, AuthErrorKind, BatchOperation, FlowKind, MalformedKind,
    MalformedResponse, SfError, TransportError, TransportKind,
};
pub use query::{QueryPage, QueryPages};
pub use reqwest::Method;
pub use settings::{AuthFlow, ConnectionSettings, RetryPolicy};
pub use usage::ApiUsage;
