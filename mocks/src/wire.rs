//! Salesforce wire types: the JSON bodies the simulator reads and writes, spelled exactly as the
//! REST API spells them (`errorCode`, `allOrNone`, `compositeRequest`...).
//!
//! Owns shapes only. No behaviour lives here, and no domain type derives these shapes: handlers
//! convert at the edge so the rest of the crate never depends on Salesforce's casing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::rules::RecordError;

/// One entry of an error body (`[{"message","errorCode","fields"}]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiError {
    /// Human-readable explanation.
    pub message: String,
    /// What clients branch on, e.g. `INVALID_SESSION_ID`.
    #[serde(rename = "errorCode")]
    pub error_code: String,
    /// Fields the error is about (often empty).
    pub fields: Vec<String>,
}

impl ApiError {
    pub fn new(error_code: &str, message: impl Into<String>) -> Self {
        ApiError {
            message: message.into(),
            error_code: error_code.to_string(),
            fields: Vec::new(),
        }
    }
}

impl From<&RecordError> for ApiError {
    fn from(e: &RecordError) -> Self {
        ApiError {
            message: e.message.clone(),
            error_code: e.status_code.clone(),
            fields: e.fields.clone(),
        }
    }
}

/// Per-record error inside save results (`statusCode`, not `errorCode`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SaveError {
    /// Same codes as `errorCode`, under the name save results use.
    #[serde(rename = "statusCode")]
    pub status_code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Fields the error is about.
    pub fields: Vec<String>,
}

impl From<&RecordError> for SaveError {
    fn from(e: &RecordError) -> Self {
        SaveError {
            status_code: e.status_code.clone(),
            message: e.message.clone(),
            fields: e.fields.clone(),
        }
    }
}

/// `{id, success, errors}` as returned by create and by sObject Collections.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SaveResult {
    /// The record's id (null for failed inserts).
    pub id: Option<String>,
    /// Whether this record was written.
    pub success: bool,
    /// Why not, when it was not.
    pub errors: Vec<SaveError>,
}

/// Body of `POST/PATCH /composite/sobjects`.
#[derive(Debug, Clone, Deserialize)]
pub struct CollectionRequest {
    /// Roll back every record if one fails.
    #[serde(rename = "allOrNone", default)]
    pub all_or_none: bool,
    /// Records, each with `attributes.type`.
    pub records: Vec<Value>,
}

/// Body of `POST /composite` (`collateSubrequests` is ignored: subrequests always run in order).
#[derive(Debug, Clone, Deserialize)]
pub struct CompositeRequest {
    /// Roll back every subrequest if one fails.
    #[serde(rename = "allOrNone", default)]
    pub all_or_none: bool,
    /// Subrequests, run in order.
    #[serde(rename = "compositeRequest")]
    pub composite_request: Vec<CompositeSubrequest>,
}

/// One subrequest of `POST /composite`.
#[derive(Debug, Clone, Deserialize)]
pub struct CompositeSubrequest {
    /// HTTP method of the subrequest.
    pub method: String,
    /// Full `/services/data/vNN.N/...` URL, may hold `@{ref.path}` references.
    pub url: String,
    /// Name later subrequests use to refer to this one's result.
    #[serde(rename = "referenceId")]
    pub reference_id: String,
    /// JSON body, may hold references.
    #[serde(default)]
    pub body: Option<Value>,
    /// Extra headers, e.g. `Sforce-Query-Options`.
    #[serde(rename = "httpHeaders", default)]
    pub http_headers: BTreeMap<String, String>,
}

/// One entry of `compositeResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct CompositeSubresponse {
    /// What the subrequest answered (null for 204).
    pub body: Value,
    /// Response headers worth passing on, e.g. `Location`.
    #[serde(rename = "httpHeaders")]
    pub http_headers: BTreeMap<String, String>,
    /// The subrequest's own status.
    #[serde(rename = "httpStatusCode")]
    pub http_status_code: u16,
    /// Which subrequest this answers (null when the whole request was refused).
    #[serde(rename = "referenceId")]
    pub reference_id: Option<String>,
}

/// Body of `POST /composite`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct CompositeResponse {
    /// One entry per subrequest, in order.
    #[serde(rename = "compositeResponse")]
    pub composite_response: Vec<CompositeSubresponse>,
}

/// Successful token endpoint answer. Salesforce sends no `expires_in`: tokens live until the
/// session times out.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    /// Bearer token for `/services/data`.
    pub access_token: String,
    /// Base URL for API calls: the org's My Domain listener, whichever host was asked.
    pub instance_url: String,
    /// Identity URL `<base>/id/<orgId>/<userId>`: tells the client who it is.
    pub id: String,
    /// Always "Bearer".
    pub token_type: String,
    /// Epoch milliseconds, as a string like Salesforce sends it.
    pub issued_at: String,
    /// Salesforce signs id + issued_at; the sim sends a random stand-in.
    pub signature: String,
    /// Granted scopes.
    pub scope: String,
}

/// Failed token endpoint answer (HTTP 400).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OAuthError {
    /// OAuth error code, e.g. `invalid_grant`.
    pub error: String,
    /// Salesforce's description, e.g. "audience is invalid".
    pub error_description: String,
}

/// A query page.
#[derive(Debug, Clone, Serialize)]
pub struct QueryPage {
    /// Rows in the whole result (or the COUNT()).
    #[serde(rename = "totalSize")]
    pub total_size: u64,
    /// False while more pages remain.
    pub done: bool,
    /// Where the next page is, while `done` is false.
    #[serde(rename = "nextRecordsUrl", skip_serializing_if = "Option::is_none")]
    pub next_records_url: Option<String>,
    /// This page's rows.
    pub records: Vec<Value>,
}
