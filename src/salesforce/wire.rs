//! Salesforce's JSON on the wire: serde structs shaped exactly like the REST API's requests and
//! answers (token, query page, error body, sObject Collections, composite, limits, versions).
//!
//! Owns: field names and shapes only. Must not leak out of `salesforce`: the client converts these
//! into its domain types (`QueryPage`, `RecordOutcome`, `Limits`...) before returning them.

use std::collections::BTreeMap;

use oauth2::basic::BasicTokenType;
use oauth2::{ExtraTokenFields, StandardTokenResponse};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The Salesforce-specific fields of a token response. Salesforce sends no `expires_in`: a token
/// lives as long as the org's session timeout, and a 401 tells when it has ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SalesforceTokenFields {
    /// Base URL of the org's instance, where every REST call goes.
    pub instance_url: Option<String>,
    /// Identity URL, `https://login.../id/<orgId>/<userId>`.
    pub id: Option<String>,
    /// Epoch milliseconds, as a string.
    pub issued_at: Option<String>,
    /// HMAC of `id` + `issued_at`; unused, kept so the shape is complete.
    pub signature: Option<String>,
}

impl ExtraTokenFields for SalesforceTokenFields {}

/// A Salesforce token response, whichever flow produced it.
pub(crate) type TokenResponse = StandardTokenResponse<SalesforceTokenFields, BasicTokenType>;

/// An OAuth error answer: `{"error":"invalid_grant","error_description":"..."}`.
#[derive(Debug, Deserialize)]
pub(crate) struct OAuthErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// One entry of a REST error answer: `[{"message","errorCode","fields"}]`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiErrorItem {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub fields: Option<Vec<String>>,
}

/// REST error answers are a list, but a few endpoints answer a single object.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ApiErrorBody {
    List(Vec<ApiErrorItem>),
    One(ApiErrorItem),
}

impl ApiErrorBody {
    pub fn first(self) -> Option<ApiErrorItem> {
        match self {
            ApiErrorBody::List(items) => items.into_iter().next(),
            ApiErrorBody::One(item) => Some(item),
        }
    }
}

/// A page of query results.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryResponse<T> {
    pub total_size: u64,
    pub done: bool,
    #[serde(default)]
    pub next_records_url: Option<String>,
    #[serde(default = "Vec::new")]
    pub records: Vec<T>,
}

/// One result of an sObject Collections create or delete.
#[derive(Debug, Deserialize)]
pub(crate) struct CollectionResult {
    #[serde(default)]
    pub id: Option<String>,
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<CollectionError>,
}

/// One error of a collection result: `{"statusCode","message","fields"}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CollectionError {
    pub status_code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// Body of `POST /composite/sobjects`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CollectionCreateRequest {
    pub all_or_none: bool,
    /// Each record carries `"attributes":{"type":...}` beside its fields.
    pub records: Vec<serde_json::Map<String, Value>>,
}

/// Body of `POST /composite`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CompositeRequest {
    pub all_or_none: bool,
    /// Always sent: whether Salesforce may reorder unrelated subrequests (its default is true
    /// from API 49.0; we need them run in order).
    pub collate_subrequests: bool,
    pub composite_request: Vec<CompositeSubrequest>,
}

/// One subrequest of a composite call.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CompositeSubrequest {
    pub method: String,
    pub url: String,
    pub reference_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// A subresponse without a body (serde's `default` would ask `B: Default`).
fn no_body<B>() -> Option<B> {
    None
}

/// Answer of `POST /composite`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CompositeResponse<B = Value> {
    pub composite_response: Vec<CompositeSubresponse<B>>,
}

/// One subresponse of a composite call.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CompositeSubresponse<B = Value> {
    /// The body as `B`: a `Value`, or the raw text (query pages parsed straight into the
    /// caller's rows, with no JSON tree in between). Absent is read as `null`.
    #[serde(default = "no_body")]
    pub body: Option<B>,
    #[serde(default)]
    pub http_headers: BTreeMap<String, String>,
    pub http_status_code: u16,
    pub reference_id: String,
}

/// `GET /limits/`, the part pslwarden reads.
#[derive(Debug, Deserialize)]
pub(crate) struct LimitsResponse {
    #[serde(rename = "DailyApiRequests")]
    pub daily_api_requests: LimitEntry,
}

/// One limit: `{"Max":N,"Remaining":N}`; old API versions send the numbers as strings.
#[derive(Debug, Deserialize)]
pub(crate) struct LimitEntry {
    #[serde(rename = "Max", deserialize_with = "number_or_string")]
    pub max: u64,
    #[serde(rename = "Remaining", deserialize_with = "number_or_string")]
    pub remaining: u64,
}

/// One entry of `GET /services/data/`.
#[derive(Debug, Deserialize)]
pub(crate) struct VersionEntry {
    pub version: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub url: String,
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        Num(u64),
        Str(String),
    }
    match NumOrStr::deserialize(d)? {
        NumOrStr::Num(n) => Ok(n),
        NumOrStr::Str(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("expected a count, found {s:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_accept_numbers_and_strings() {
        let n: LimitsResponse =
            serde_json::from_str(r#"{"DailyApiRequests":{"Max":15000,"Remaining":14990}}"#)
                .unwrap();
        let s: LimitsResponse =
            serde_json::from_str(r#"{"DailyApiRequests":{"Max":"15000","Remaining":"14990"}}"#)
                .unwrap();
        assert_eq!(
            (n.daily_api_requests.max, n.daily_api_requests.remaining),
            (15000, 14990)
        );
        assert_eq!(
            (s.daily_api_requests.max, s.daily_api_requests.remaining),
            (15000, 14990)
        );
    }

    #[test]
    fn token_response_keeps_instance_url_without_expires_in() {
        use oauth2::TokenResponse as _;
        let body = r#"{"access_token":"00Dx!AQ","instance_url":"https://acme.my.salesforce.com",
            "id":"https://login.salesforce.com/id/00D5g000004SeedEAC/005000000000001AAA",
            "token_type":"Bearer","issued_at":"1700000000000","signature":"c2ln","scope":"api"}"#;
        let t: TokenResponse = serde_json::from_str(body).unwrap();
        assert_eq!(
            t.extra_fields().instance_url.as_deref(),
            Some("https://acme.my.salesforce.com")
        );
        assert_eq!(t.expires_in(), None);
    }

    #[test]
    fn error_body_may_be_a_list_or_one_object() {
        let list: ApiErrorBody =
            serde_json::from_str(r#"[{"message":"m","errorCode":"NOT_FOUND"}]"#).unwrap();
        let one: ApiErrorBody =
            serde_json::from_str(r#"{"message":"m","errorCode":"NOT_FOUND"}"#).unwrap();
        assert_eq!(
            list.first().and_then(|e| e.error_code).as_deref(),
            Some("NOT_FOUND")
        );
        assert_eq!(
            one.first().and_then(|e| e.error_code).as_deref(),
            Some("NOT_FOUND")
        );
    }
}
