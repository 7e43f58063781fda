//! SOQL queries: pages of rows, following `nextRecordsUrl` until Salesforce says `done`.
//!
//! Owns: [`QueryPages`] (the pager), [`QueryPage`] (one page as a domain value), and the
//! `query*` methods of [`Client`]. Rows are deserialized into the caller's own wire structs;
//! related parent objects arrive nested (`"PermissionSet": {"attributes": .., "Name": ".."}`).
//! Must not build SOQL (callers own their queries) nor retry by itself: the client's request
//! loop does, and a page that failed can be asked for again with the same pager.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use super::client::{ApiRequest, Client};
use super::error::{MalformedKind, MalformedResponse, SfError};
use super::wire;

/// Salesforce's accepted range for the `batchSize` hint.
const MIN_BATCH: u32 = 200;
const MAX_BATCH: u32 = 2000;

/// One page of a query, as returned by [`Client::composite_queries`].
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPage<T> {
    /// Rows matching the query in total (all pages).
    pub total_size: u64,
    /// True when this is the last page.
    pub done: bool,
    /// Path of the next page, when not `done`; continue with [`Client::query_more`].
    pub next_records_url: Option<String>,
    /// This page's rows.
    pub records: Vec<T>,
}

/// Where the pager stands.
#[derive(Debug, Clone)]
enum Cursor {
    /// Nothing fetched yet: the SOQL to send.
    Start(String),
    /// The next page's path.
    More(String),
    /// All pages read.
    Done,
}

/// A query being read page by page. Ask for [`QueryPages::next_page`] until it gives `None`.
/// After an error, asking again retries the same page.
#[derive(Debug)]
pub struct QueryPages<T> {
    client: Client,
    cursor: Cursor,
    /// `Sforce-Query-Options: batchSize=N` (a hint Salesforce may ignore).
    batch_size: Option<u32>,
    /// `totalSize` of the latest page, once one was read.
    total_size: Option<u64>,
    _rows: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> QueryPages<T> {
    /// Asks Salesforce for pages of about `n` rows (clamped to 200..=2000, Salesforce's range).
    pub fn batch_size(mut self, n: u32) -> Self {
        self.batch_size = Some(n.clamp(MIN_BATCH, MAX_BATCH));
        self
    }

    /// Rows matching the query in total, once the first page was read.
    pub fn total_size(&self) -> Option<u64> {
        self.total_size
    }

    /// The next page of rows, or `None` when every page was read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, SfError> {
        let request = match &self.cursor {
            Cursor::Done => return Ok(None),
            Cursor::Start(soql) => {
                ApiRequest::get(self.client.data_path("query")).query("q", soql.clone())
            }
            Cursor::More(path) => ApiRequest::get(path.clone()),
        };
        let request = match self.batch_size {
            Some(n) => request.header("Sforce-Query-Options", format!("batchSize={n}")),
            None => request,
        };
        let page: wire::QueryResponse<T> = self.client.execute(&request).await?;
        self.total_size = Some(page.total_size);
        self.cursor = next_cursor(&page, &request)?;
        Ok(Some(page.records))
    }

    /// Reads every remaining page into one list.
    pub async fn collect_all(mut self) -> Result<Vec<T>, SfError> {
        let mut rows = Vec::new();
        while let Some(page) = self.next_page().await? {
            rows.extend(page);
        }
        Ok(rows)
    }
}

/// Where to go after `page`. A page that is not `done` must say where the next one is, and that
/// path must stay on the REST API (it is sent with our token to our instance only).
fn next_cursor<T>(page: &wire::QueryResponse<T>, request: &ApiRequest) -> Result<Cursor, SfError> {
    if page.done {
        return Ok(Cursor::Done);
    }
    match page.next_records_url.as_deref() {
        Some(next) if next.starts_with("/services/data/") => Ok(Cursor::More(next.to_string())),
        other => Err(SfError::MalformedResponse(Box::new(MalformedResponse {
            method: request.method.to_string(),
            endpoint: request
                .path
                .split('?')
                .next()
                .unwrap_or_default()
                .to_string(),
            status: 200,
            kind: MalformedKind::Shape,
            detail: match other {
                Some(url) => format!("nextRecordsUrl {url:?} is not a /services/data/ path"),
                None => {
                    "the page is not the last (done is false) but has no nextRecordsUrl".to_string()
                }
            },
            attempts: 1,
        }))),
    }
}

impl Client {
    /// Starts a SOQL query; nothing is sent until the first [`QueryPages::next_page`].
    pub fn query<T: DeserializeOwned>(&self, soql: &str) -> QueryPages<T> {
        self.pager(Cursor::Start(soql.to_string()))
    }

    /// Continues a query from a page's `nextRecordsUrl` (e.g. one from a composite query).
    pub fn query_more<T: DeserializeOwned>(&self, next_records_url: &str) -> QueryPages<T> {
        self.pager(Cursor::More(next_records_url.to_string()))
    }

    /// Runs a SOQL query and reads every page. (All pages of the `query` resource; not the
    /// `queryAll` resource, so deleted rows are not included.)
    pub async fn query_all<T: DeserializeOwned>(&self, soql: &str) -> Result<Vec<T>, SfError> {
        self.query(soql).collect_all().await
    }

    /// The row count of a `SELECT COUNT() FROM ...` query.
    pub async fn query_count(&self, soql: &str) -> Result<u64, SfError> {
        let request = ApiRequest::get(self.data_path("query")).query("q", soql);
        let page: wire::QueryResponse<serde_json::Value> = self.execute(&request).await?;
        Ok(page.total_size)
    }

    fn pager<T>(&self, cursor: Cursor) -> QueryPages<T> {
        QueryPages {
            client: self.clone(),
            cursor,
            batch_size: None,
            total_size: None,
            _rows: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(done: bool, next: Option<&str>) -> wire::QueryResponse<()> {
        wire::QueryResponse {
            total_size: 3,
            done,
            next_records_url: next.map(str::to_string),
            records: vec![],
        }
    }

    fn request() -> ApiRequest {
        ApiRequest::get("/services/data/v65.0/query".to_string())
    }

    #[test]
    fn a_done_page_ends_the_query() {
        assert!(matches!(
            next_cursor(&page(true, None), &request()),
            Ok(Cursor::Done)
        ));
    }

    #[test]
    fn a_page_with_more_follows_next_records_url() {
        let next = "/services/data/v65.0/query/01gxx0000000001-200";
        assert!(matches!(
            next_cursor(&page(false, Some(next)), &request()),
            Ok(Cursor::More(ref p)) if p == next
        ));
    }

    #[test]
    fn an_unfinished_page_without_a_next_url_is_an_error_not_a_loop() {
        let err = next_cursor(&page(false, None), &request()).err().unwrap();
        assert!(err.to_string().contains("no nextRecordsUrl"), "{err}");
    }

    #[test]
    fn a_next_url_off_the_rest_api_is_refused() {
        let err = next_cursor(&page(false, Some("https://evil.example/steal")), &request());
        assert!(err.is_err());
    }
}
