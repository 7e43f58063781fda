//! `GET /query?q=` and `GET /query/<locator>-<offset>`: runs SOQL through the engine and pages
//! the rows like Salesforce (2000 a page unless `Sforce-Query-Options: batchSize=N`, clamped to
//! 200..2000; a snapshot taken at query time; `INVALID_QUERY_LOCATOR` for unknown cursors).
//!
//! Owns paging only; parsing and evaluation belong to `crate::soql`.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;

use super::{ApiRequest, Caller, SimResponse};
use crate::org::OrgState;
use crate::soql::{self, ExecContext, QueryOutput};
use crate::wire::{ApiError, QueryPage};

const DEFAULT_BATCH: usize = 2000;
const MIN_BATCH: usize = 200;
const MAX_BATCH: usize = 2000;

/// The `batchSize` of a `Sforce-Query-Options` header, clamped like Salesforce.
fn batch_size(req: &ApiRequest) -> Option<usize> {
    let header = req.header("sforce-query-options")?;
    header
        .split([',', ';'])
        .filter_map(|part| part.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .map(|n| n.clamp(MIN_BATCH, MAX_BATCH))
}

fn next_url(version: &str, locator: &str, offset: usize) -> String {
    format!("/services/data/v{version}/query/{locator}-{offset}")
}

pub(super) fn query(
    state: &mut OrgState,
    req: &ApiRequest,
    caller: &Caller,
    version: &str,
) -> SimResponse {
    let Some(text) = req.query_param("q").filter(|q| !q.trim().is_empty()) else {
        return SimResponse::error(
            400,
            "MALFORMED_QUERY",
            "SOQL statement cannot be empty: pass it as ?q=",
        );
    };
    let ctx = ExecContext {
        api_version: version.to_string(),
        today: Utc::now().date_naive(),
    };
    let output =
        soql::parse(text).and_then(|q| soql::execute(&q, &state.schema, &state.store, &ctx));
    let rows = match output {
        Err(e) => {
            return SimResponse::errors(400, vec![ApiError::new(e.code.as_str(), e.message)]);
        }
        Ok(QueryOutput::Count(n)) => {
            return SimResponse::of(
                200,
                &QueryPage {
                    total_size: n,
                    done: true,
                    next_records_url: None,
                    records: Vec::new(),
                },
            );
        }
        Ok(QueryOutput::Rows(rows)) => rows,
    };
    let batch = batch_size(req).unwrap_or(DEFAULT_BATCH);
    let total = rows.len();
    if total <= batch {
        return SimResponse::of(
            200,
            &QueryPage {
                total_size: total as u64,
                done: true,
                next_records_url: None,
                records: rows,
            },
        );
    }
    let first: Vec<Value> = rows[..batch].to_vec();
    let locator = state.open_cursor(&caller.user_id, Arc::new(rows), batch);
    SimResponse::of(
        200,
        &QueryPage {
            total_size: total as u64,
            done: false,
            next_records_url: Some(next_url(version, &locator, batch)),
            records: first,
        },
    )
}

pub(super) fn query_more(
    state: &mut OrgState,
    req: &ApiRequest,
    version: &str,
    raw: &str,
) -> SimResponse {
    let invalid = || SimResponse::error(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    let Some((locator, offset)) = raw.rsplit_once('-') else {
        return invalid();
    };
    let Ok(offset) = offset.parse::<usize>() else {
        return invalid();
    };
    let Some(cursor) = state.cursor(locator) else {
        return invalid();
    };
    let total = cursor.rows.len();
    if offset >= total {
        return invalid();
    }
    let batch = batch_size(req).unwrap_or(cursor.batch_size);
    let end = (offset + batch).min(total);
    let done = end >= total;
    SimResponse::of(
        200,
        &QueryPage {
            total_size: total as u64,
            done,
            next_records_url: (!done).then(|| next_url(version, locator, end)),
            records: cursor.rows[offset..end].to_vec(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    fn with_header(value: &str) -> ApiRequest {
        ApiRequest {
            method: Method::GET,
            path: "/services/data/v65.0/query".into(),
            query: Vec::new(),
            headers: [("sforce-query-options".to_string(), value.to_string())].into(),
            body: Vec::new(),
        }
    }

    #[test]
    fn batch_size_is_clamped_like_salesforce() {
        assert_eq!(batch_size(&with_header("batchSize=500")), Some(500));
        assert_eq!(batch_size(&with_header("batchSize=5")), Some(200));
        assert_eq!(batch_size(&with_header("batchSize=99999")), Some(2000));
        assert_eq!(batch_size(&with_header("other=1")), None);
    }
}
