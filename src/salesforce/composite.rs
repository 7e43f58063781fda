//! The composite resource: several REST subrequests in one API call.
//!
//! Owns: [`SubRequest`] / [`SubResponse`], the checks of Salesforce's composite limits (at most
//! 25 subrequests, of which at most 5 may be queries or sObject Collections), and
//! [`Client::composite_queries`], which batches independent queries 5 to a call.
//! Must not interpret subresponse bodies beyond query pages and error lists; callers read them.

use std::collections::{BTreeMap, HashSet};

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use super::client::{ApiRequest, Client};
use super::error::{ApiError, ApiErrorCode, MalformedKind, MalformedResponse, SfError};
use super::query::QueryPage;
use super::retry::RetryMode;
use super::wire;

/// Most subrequests in one composite call.
pub const MAX_SUBREQUESTS: usize = 25;

/// Most query or sObject Collections subrequests in one composite call.
pub const MAX_QUERY_SUBREQUESTS: usize = 5;

/// One subrequest of a composite call.
#[derive(Debug, Clone, PartialEq)]
pub struct SubRequest {
    pub method: Method,
    /// A path from the instance root (`/services/data/v65.0/...`) or one relative to the version
    /// root (`sobjects/Account`); may carry a query string.
    pub url: String,
    /// Names the subresponse, and lets later subrequests refer to this one (`@{ref.id}`).
    pub reference_id: String,
    /// JSON body for POST/PATCH.
    pub body: Option<Value>,
}

impl SubRequest {
    /// A GET subrequest.
    pub fn get(reference_id: impl Into<String>, url: impl Into<String>) -> Self {
        SubRequest {
            method: Method::GET,
            url: url.into(),
            reference_id: reference_id.into(),
            body: None,
        }
    }
}

/// One subresponse, in the order of the subrequests.
#[derive(Debug, Clone, PartialEq)]
pub struct SubResponse<B = Value> {
    pub reference_id: String,
    /// The subrequest's own HTTP status.
    pub status: u16,
    /// Its body (a record, a query page, or a list of errors).
    pub body: B,
    /// Its headers (e.g. `Location` of a created record).
    pub headers: BTreeMap<String, String>,
}

impl Client {
    /// Sends up to 25 subrequests in one `POST /composite` call (one API request against the
    /// limit). A call of only GETs is retried like a read; one with writes is resent only when it
    /// surely did not run.
    pub async fn composite(
        &self,
        subrequests: Vec<SubRequest>,
        all_or_none: bool,
    ) -> Result<Vec<SubResponse>, SfError> {
        self.composite_as(subrequests, all_or_none).await
    }

    /// [`Client::composite`] with the subresponse bodies read as `B`.
    async fn composite_as<B: DeserializeOwned>(
        &self,
        subrequests: Vec<SubRequest>,
        all_or_none: bool,
    ) -> Result<Vec<SubResponse<B>>, SfError> {
        let retry = if subrequests.iter().all(|s| s.method == Method::GET) {
            RetryMode::Safe
        } else {
            RetryMode::UnsentOnly
        };
        self.composite_with(subrequests, all_or_none, retry).await
    }

    /// [`Client::composite_as`] with the caller's retry rule (a call of deletes only may be
    /// resent: a record already deleted reports `ENTITY_IS_DELETED`).
    pub(crate) async fn composite_with<B: DeserializeOwned>(
        &self,
        subrequests: Vec<SubRequest>,
        all_or_none: bool,
        retry: RetryMode,
    ) -> Result<Vec<SubResponse<B>>, SfError> {
        check_limits(&subrequests)?;
        let expected: Vec<String> = subrequests.iter().map(|s| s.reference_id.clone()).collect();
        let body = wire::CompositeRequest {
            all_or_none,
            // In the order sent: deletes of permission set assignments must run before those of
            // the license seats they hold, and paging relies on cursors being used in order.
            // (Salesforce collates by default from API 49.0, which only speeds up sObject
            // subrequests and gives up the order.)
            collate_subrequests: false,
            composite_request: subrequests
                .into_iter()
                .map(|s| wire::CompositeSubrequest {
                    method: s.method.to_string(),
                    url: self.resolve_path(&s.url),
                    reference_id: s.reference_id,
                    body: s.body,
                })
                .collect(),
        };
        let request =
            ApiRequest::new(Method::POST, self.data_path("composite"), retry).json(&body)?;
        let answer: wire::CompositeResponse<B> = self.execute(&request).await?;
        let mut by_ref: BTreeMap<String, wire::CompositeSubresponse<B>> = answer
            .composite_response
            .into_iter()
            .map(|r| (r.reference_id.clone(), r))
            .collect();
        expected
            .iter()
            .map(|reference| {
                let r = by_ref.remove(reference).ok_or_else(|| {
                    shape_error(
                        &request,
                        format!("no subresponse for referenceId {reference:?}"),
                    )
                })?;
                let body = match r.body {
                    Some(body) => body,
                    None => serde_json::from_str("null")
                        .map_err(|e| shape_error(&request, e.to_string()))?,
                };
                Ok(SubResponse {
                    reference_id: r.reference_id,
                    status: r.http_status_code,
                    body,
                    headers: r.http_headers,
                })
            })
            .collect()
    }

    /// Runs independent SOQL queries, 5 per composite call (Salesforce's limit for query
    /// subrequests). Each query's first page, or its own error, comes back in input order;
    /// continue a page that is not `done` with [`Client::query_more`] or
    /// [`Client::composite_query_more`].
    pub async fn composite_queries<T: DeserializeOwned>(
        &self,
        soqls: &[&str],
    ) -> Result<Vec<Result<QueryPage<T>, SfError>>, SfError> {
        let urls: Vec<String> = soqls.iter().map(|soql| self.query_url(soql)).collect();
        self.composite_pages(&urls).await
    }

    /// The query resource for `soql`, relative to the version root (`query?q=...`), for
    /// [`Client::composite_query_more`] calls that mix first pages with later ones.
    pub fn query_url(&self, soql: &str) -> String {
        let q: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
        format!("query?q={q}")
    }

    /// The describe resource of `object`, relative to the version root, for composite calls.
    pub fn describe_url(&self, object: &str) -> String {
        let o: String = url::form_urlencoded::byte_serialize(object.as_bytes()).collect();
        format!("sobjects/{o}/describe")
    }

    /// Fetches pages of queries, 5 per composite call: their `nextRecordsUrl`s, or first pages
    /// by [`Client::query_url`] (Salesforce counts both as queries). Pages come back in input
    /// order, each with its own error if it failed.
    pub async fn composite_query_more<T: DeserializeOwned>(
        &self,
        next_records_urls: &[String],
    ) -> Result<Vec<Result<QueryPage<T>, SfError>>, SfError> {
        self.composite_pages(next_records_urls).await
    }

    /// GETs query resources (`query?q=` or a query-more path), 5 per composite call.
    async fn composite_pages<T: DeserializeOwned>(
        &self,
        urls: &[String],
    ) -> Result<Vec<Result<QueryPage<T>, SfError>>, SfError> {
        let mut pages = Vec::with_capacity(urls.len());
        for (chunk_index, chunk) in urls.chunks(MAX_QUERY_SUBREQUESTS).enumerate() {
            let subrequests = chunk
                .iter()
                .enumerate()
                .map(|(i, url)| {
                    SubRequest::get(
                        format!("q{}", chunk_index * MAX_QUERY_SUBREQUESTS + i),
                        url.clone(),
                    )
                })
                .collect();
            let subs: Vec<SubResponse<Box<RawValue>>> =
                self.composite_as(subrequests, false).await?;
            for sub in subs {
                pages.push(self.query_page_of(sub));
            }
        }
        Ok(pages)
    }

    /// A query subresponse as a page, or as the error Salesforce gave for it.
    fn query_page_of<T: DeserializeOwned>(
        &self,
        sub: SubResponse<Box<RawValue>>,
    ) -> Result<QueryPage<T>, SfError> {
        let endpoint = format!(
            "{} (composite subrequest {})",
            self.data_path("query"),
            sub.reference_id
        );
        if (200..300).contains(&sub.status) {
            let page: wire::QueryResponse<T> =
                serde_json::from_str(sub.body.get()).map_err(|e| {
                    SfError::MalformedResponse(Box::new(MalformedResponse {
                        method: "GET".to_string(),
                        endpoint: endpoint.clone(),
                        status: sub.status,
                        kind: MalformedKind::Shape,
                        detail: e.to_string(),
                        attempts: 1,
                    }))
                })?;
            return Ok(QueryPage {
                total_size: page.total_size,
                done: page.done,
                next_records_url: page.next_records_url,
                records: page.records,
            });
        }
        let item = serde_json::from_str::<wire::ApiErrorBody>(sub.body.get())
            .ok()
            .and_then(wire::ApiErrorBody::first);
        let (code, message) = match item {
            Some(i) => (
                i.error_code.as_deref().map_or(
                    ApiErrorCode::Other(format!("HTTP_{}", sub.status)),
                    ApiErrorCode::parse,
                ),
                i.message.unwrap_or_default(),
            ),
            None => (
                ApiErrorCode::Other(format!("HTTP_{}", sub.status)),
                "no error details in the subresponse".to_string(),
            ),
        };
        Err(SfError::Api(Box::new(ApiError::new(
            "GET", &endpoint, sub.status, code, message,
        ))))
    }
}

/// The answer did not fit the request (e.g. a subresponse is missing).
fn shape_error(request: &ApiRequest, detail: String) -> SfError {
    SfError::MalformedResponse(Box::new(MalformedResponse {
        method: request.method.to_string(),
        endpoint: request.path.clone(),
        status: 200,
        kind: MalformedKind::Shape,
        detail,
        attempts: 1,
    }))
}

/// Salesforce's composite limits, checked before sending so the caller gets a clear error
/// instead of a refused call that still counts against the API limit.
fn check_limits(subrequests: &[SubRequest]) -> Result<(), SfError> {
    if subrequests.is_empty() || subrequests.len() > MAX_SUBREQUESTS {
        return Err(SfError::InvalidRequest(format!(
            "a composite call takes 1 to {MAX_SUBREQUESTS} subrequests, not {}",
            subrequests.len()
        )));
    }
    let heavy = subrequests
        .iter()
        .filter(|s| is_query_or_collection(&s.url))
        .count();
    if heavy > MAX_QUERY_SUBREQUESTS {
        return Err(SfError::InvalidRequest(format!(
            "a composite call takes at most {MAX_QUERY_SUBREQUESTS} query or sObject Collections \
             subrequests, not {heavy}"
        )));
    }
    let mut seen = HashSet::new();
    for s in subrequests {
        let valid = s
            .reference_id
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && s.reference_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid || !seen.insert(s.reference_id.as_str()) {
            return Err(SfError::InvalidRequest(format!(
                "composite referenceId {:?} must be unique, start with a letter and hold only \
                 letters, digits and underscores",
                s.reference_id
            )));
        }
    }
    Ok(())
}

/// Query, QueryAll, "query more" and sObject Collections subrequests share the limit of 5.
fn is_query_or_collection(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or(url);
    let rel = match path.strip_prefix("/services/data/") {
        Some(rest) => rest.split_once('/').map_or("", |(_, r)| r),
        None => path,
    };
    rel.starts_with("query") || rel.starts_with("composite/sobjects")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_collections_are_counted_against_the_limit_of_five() {
        assert!(is_query_or_collection("query?q=SELECT+Id+FROM+User"));
        assert!(is_query_or_collection("/services/data/v65.0/query/01g-200"));
        assert!(is_query_or_collection("/services/data/v65.0/queryAll?q=x"));
        assert!(is_query_or_collection("composite/sobjects?ids=a"));
        assert!(!is_query_or_collection(
            "/services/data/v65.0/sobjects/User/005000000000001AAA"
        ));
    }

    #[test]
    fn six_queries_in_one_call_are_refused_before_sending() {
        let subs: Vec<_> = (0..6)
            .map(|i| SubRequest::get(format!("q{i}"), "query?q=x"))
            .collect();
        assert!(matches!(
            check_limits(&subs),
            Err(SfError::InvalidRequest(_))
        ));
        assert!(check_limits(&subs[..5]).is_ok());
    }

    #[test]
    fn more_than_twenty_five_subrequests_are_refused() {
        let subs: Vec<_> = (0..26)
            .map(|i| SubRequest::get(format!("r{i}"), "sobjects/User/005000000000001AAA"))
            .collect();
        assert!(check_limits(&subs).is_err());
        assert!(check_limits(&subs[..25]).is_ok());
        assert!(check_limits(&[]).is_err());
    }

    #[test]
    fn reference_ids_must_be_unique_and_well_formed() {
        let dup = vec![
            SubRequest::get("a", "limits"),
            SubRequest::get("a", "limits"),
        ];
        let bad = vec![SubRequest::get("1x", "limits")];
        assert!(check_limits(&dup).is_err());
        assert!(check_limits(&bad).is_err());
    }
}
