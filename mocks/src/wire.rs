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
    pub message: String,
    #[serde(rename = "errorCode")]
    pub error_code: String,
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
    #[serde(rename = "statusCode")]
    pub status_code: String,
    pub message: String,
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
    pub id: Option<String>,
    pub success: bool,
    pub errors: Vec<SaveError>,
}

/// Body of `POST/PATCH /composite/sobjects`.
#[derive(Debug, Clone, Deserialize)]
pub struct CollectionRequest {
    #[serde(rename = "allOrNone", default)]
    pub all_or_none: bool,
    pub records: Vec<Value>,
}

/// Body of `POST /composite` (`collateSubrequests` is ignored: subrequests always run in order).
#[derive(Debug, Clone, Deserialize)]
pub struct CompositeRequest {
    #[serde(rename = "allOrNone", default)]
    pub all_or_none: bool,
    #[serde(rename = "compositeRequest")]
    pub composite_request: Vec<CompositeSubrequest>,
}

/// One subrequest of `POST /composite`.
#[derive(Debug, Clone, Deserialize)]
pub struct CompositeSubrequest {
    pub method: String,
    pub url: String,
    #[serde(rename = "referenceId")]
    pub reference_id: String,
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(rename = "httpHeaders", default)]
    pub http_headers: BTreeMap<String, String>,
}

/// One entry of `compositeResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct CompositeSubresponse {
    pub body: Value,
    #[serde(rename = "httpHeaders")]
    pub http_headers: BTreeMap<String, String>,
    #[serde(rename = "httpStatusCode")]
    pub http_status_code: u16,
    #[serde(rename = "referenceId")]
    pub reference_id: Option<String>,
}

/// Body of `POST /composite`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct CompositeResponse {
    #[serde(rename = "compositeResponse")]
    pub composite_response: Vec<CompositeSubresponse>,
}

/// Successful token endpoint answer. Salesforce sends no `expires_in`: tokens live until the
/// session times out.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub instance_url: String,
    pub id: String,
    pub token_type: String,
    pub issued_at: String,
    pub signature: String,
    pub scope: String,
}

/// Failed token endpoint answer (HTTP 400).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OAuthError {
    pub error: String,
    pub error_description: String,
}

/// A query page.
#[derive(Debug, Clone, Serialize)]
pub struct QueryPage {
    #[serde(rename = "totalSize")]
    pub total_size: u64,
    pub done: bool,
    #[serde(rename = "nextRecordsUrl", skip_serializing_if = "Option::is_none")]
    pub next_records_url: Option<String>,
    pub records: Vec<Value>,
}
