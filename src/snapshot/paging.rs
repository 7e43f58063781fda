//! Paging the snapshot's queries: every page of several SOQL queries, five query subrequests per
//! composite call, with as few calls as the org allows and never a row lost or doubled.
//!
//! The only thing trusted is what the server said: each query's first page and, from each page,
//! its `done` and `nextRecordsUrl`. A query's rows are assembled by walking that chain from the
//! first page. Two ways of getting the chain's pages:
//!
//! - **predicted** (the optimisation, tried first): Salesforce's `nextRecordsUrl` looks like
//!   `.../query/<locator>-<offset>` and its pages are `batch` rows long, so the URLs of every
//!   later page can be computed from the first page and fetched up to five per call, without
//!   waiting for each page to name the next. Every predicted page is checked when it arrives
//!   (full length, its own `nextRecordsUrl` the one predicted, the last one ending at
//!   `totalSize`); a page fetched this way is used only when the chain reaches its URL.
//! - **following** (the fallback): on a short page, any mismatch, or `INVALID_QUERY_LOCATOR` for
//!   a URL the server never handed out (the locator format is not a documented contract), the
//!   query stops predicting and asks for the one `nextRecordsUrl` its chain is missing. Several
//!   queries still share each composite call, one page each.
//!
//! A URL the server did hand out that answers `INVALID_QUERY_LOCATOR` means the cursor was
//! released (Salesforce keeps at most ten per user, dropping the oldest; or it expired): the
//! query is run again from the start, a few times at most. To keep its own cursors from
//! releasing each other, at most [`MAX_OPEN`] queries are open at once and every open query gets
//! a page in every call, so none of them is ever the least recently used.
//!
//! Must not: build SOQL or know what the rows mean (the caller converts them), or write anything.

use std::collections::{HashMap, HashSet};

use serde_json::value::RawValue;

use super::fetch::{FetchError, FetchProgress, FetchStats};
use crate::salesforce::{Client, MAX_QUERY_SUBREQUESTS, QueryPage, SfError};

/// Queries open (started, not finished) at once: one composite call's worth, so each gets a
/// subrequest in every call and its cursor stays among the user's most recently used.
pub(super) const MAX_OPEN: usize = MAX_QUERY_SUBREQUESTS;

/// Times a query is run again after its cursor was released before giving up.
const MAX_RERUNS: u32 = 3;

/// A row as received: its raw JSON text, parsed once, straight into the caller's type.
type Row = Box<RawValue>;

/// One query to page through.
pub(super) struct PagedQuery<'a, R> {
    /// What it fetches, for messages.
    pub what: &'static str,
    pub soql: &'a str,
    /// Turns one row into the caller's record as soon as its page arrives, so pages are never
    /// kept as JSON.
    pub convert: fn(&RawValue) -> Result<R, serde_json::Error>,
}

/// A page received but not yet reached by the query's chain.
struct Page<R> {
    rows: Vec<R>,
    next: Option<String>,
    done: bool,
}

/// How a query's missing pages are asked for.
#[derive(Debug, Clone, PartialEq)]
enum Mode {
    /// Computed URLs `<base>-<k * stride>` for every page still missing.
    Predict { base: String, stride: u64 },
    /// Only the one `nextRecordsUrl` the chain is missing.
    Follow,
}

/// Where one query stands.
struct Query<R> {
    what: &'static str,
    soql: String,
    convert: fn(&RawValue) -> Result<R, serde_json::Error>,
    /// Whether its first page was asked for (and not invalidated by a released cursor).
    started: bool,
    /// `totalSize` of its first page.
    total: u64,
    mode: Mode,
    /// Rows of the chain walked so far, in order.
    rows: Vec<R>,
    /// The chain's next URL, not yet received; `None` before the first page and once done.
    missing: Option<String>,
    finished: bool,
    /// Pages fetched ahead of the chain, by the URL they were fetched with.
    ahead: HashMap<String, Page<R>>,
    /// URLs the server handed out for the current cursor (every `nextRecordsUrl` seen).
    handed_out: HashSet<String>,
    /// Predicted URLs the server refused: not asked for again.
    refused: HashSet<String>,
    /// Times it was run again after a released cursor.
    reruns: u32,
    /// Pages received (for progress).
    pages: u64,
    /// Rows received, pages fetched ahead included (for progress).
    received: u64,
}

impl<R> Query<R> {
    fn new(q: &PagedQuery<'_, R>) -> Self {
        Query {
            what: q.what,
            soql: q.soql.to_string(),
            convert: q.convert,
            started: false,
            total: 0,
            mode: Mode::Follow,
            rows: Vec::new(),
            missing: None,
            finished: false,
            ahead: HashMap::new(),
            handed_out: HashSet::new(),
            refused: HashSet::new(),
            reruns: 0,
            pages: 0,
            received: 0,
        }
    }

    fn is_open(&self) -> bool {
        self.started && !self.finished
    }

    /// Pages this query is expected to need in all (for progress).
    fn expected_pages(&self) -> u64 {
        match &self.mode {
            Mode::Predict { stride, .. } if *stride > 0 => self.total.div_ceil(*stride).max(1),
            _ => self.pages + u64::from(!self.finished),
        }
    }

    /// The URLs to ask for next, the chain's missing one first.
    fn wanted(&self) -> Vec<String> {
        let Some(missing) = &self.missing else {
            return Vec::new();
        };
        let mut urls = vec![missing.clone()];
        if let Mode::Predict { base, stride } = &self.mode {
            let from = self.rows.len() as u64 + stride;
            let mut offset = from;
            while offset < self.total {
                let url = format!("{base}-{offset}");
                if !self.ahead.contains_key(&url) && !self.refused.contains(&url) {
                    urls.push(url);
                }
                offset += stride;
            }
            urls.dedup();
        }
        urls
    }

    /// Takes the first page: the chain starts here, and the prediction if its URL has the shape.
    fn start(&mut self, first: QueryPage<Row>) -> Result<(), FetchError> {
        self.pages += 1;
        self.total = first.total_size;
        self.mode = Mode::Follow;
        if let Some(next) = first.next_records_url.as_deref().filter(|_| !first.done) {
            let stride = first.records.len() as u64;
            if let Some((base, offset)) = split_locator(next)
                && offset == stride
                && stride > 0
            {
                self.mode = Mode::Predict { base, stride };
            }
        }
        let page = self.page(first)?;
        self.rows = page.rows;
        self.advance(page.next, page.done)
    }

    /// Converts a page's rows, naming the query on a shape mismatch; notes its next URL as
    /// handed out.
    fn page(&mut self, page: QueryPage<Row>) -> Result<Page<R>, FetchError> {
        let rows = page
            .records
            .into_iter()
            .map(|v| {
                (self.convert)(&v).map_err(|e| FetchError::Shape {
                    what: self.what,
                    detail: e.to_string(),
                })
            })
            .collect::<Result<Vec<R>, _>>()?;
        self.received += rows.len() as u64;
        let next = page.next_records_url.filter(|_| !page.done);
        if let Some(next) = &next {
            self.handed_out.insert(next.clone());
        }
        Ok(Page {
            rows,
            next,
            done: page.done,
        })
    }

    /// Moves the chain on after a page whose successor is `next`, through pages fetched ahead.
    fn advance(&mut self, mut next: Option<String>, mut done: bool) -> Result<(), FetchError> {
        loop {
            match next.filter(|_| !done) {
                None => {
                    self.finished = true;
                    self.missing = None;
                    self.ahead.clear();
                    return Ok(());
                }
                Some(url) => match self.ahead.remove(&url) {
                    Some(page) => {
                        self.rows.extend(page.rows);
                        next = page.next;
                        done = page.done;
                    }
                    None => {
                        if !url.starts_with("/services/data/") {
                            return Err(FetchError::Salesforce(SfError::InvalidRequest(format!(
                                "the org answered {} with a nextRecordsUrl off the REST API \
                                 ({url:?}); not following it",
                                self.what
                            ))));
                        }
                        self.missing = Some(url);
                        return Ok(());
                    }
                },
            }
        }
    }

    /// Takes a later page fetched with `url`.
    fn receive(&mut self, url: &str, page: QueryPage<Row>) -> Result<(), FetchError> {
        self.pages += 1;
        let total = page.total_size;
        let page = self.page(page)?;
        if let Mode::Predict { base, stride } = &self.mode {
            let expected = split_locator(url)
                .filter(|(b, _)| b == base)
                .map(|(_, offset)| offset);
            let as_predicted = expected.is_some_and(|offset| {
                let len = page.rows.len() as u64;
                total == self.total
                    && if page.done {
                        offset + len == self.total
                    } else {
                        len == *stride
                            && page.next.as_deref() == Some(&format!("{base}-{}", offset + len))
                    }
            });
            if !as_predicted {
                tracing::debug!(
                    what = self.what,
                    "a page differs from the prediction; following nextRecordsUrl"
                );
                self.mode = Mode::Follow;
            }
        }
        if self.missing.as_deref() == Some(url) {
            self.rows.extend(page.rows);
            self.advance(page.next, page.done)
        } else {
            self.ahead.insert(url.to_string(), page);
            Ok(())
        }
    }

    /// A URL answered `INVALID_QUERY_LOCATOR`: a released cursor if the server handed it out
    /// (run the query again), else a locator that cannot be computed (stop predicting).
    fn refused(&mut self, url: &str, error: SfError) -> Result<(), FetchError> {
        if !self.handed_out.contains(url) {
            tracing::debug!(
                what = self.what,
                "a computed locator was refused; following nextRecordsUrl"
            );
            self.refused.insert(url.to_string());
            self.mode = Mode::Follow;
            return Ok(());
        }
        if self.reruns >= MAX_RERUNS {
            return Err(FetchError::Query {
                what: self.what,
                source: error,
            });
        }
        tracing::info!(
            what = self.what,
            "the org released the query's cursor; running the query again"
        );
        let reruns = self.reruns + 1;
        *self = Query {
            reruns,
            pages: self.pages,
            ..Query::new(&PagedQuery {
                what: self.what,
                soql: &self.soql,
                convert: self.convert,
            })
        };
        Ok(())
    }
}

/// `(base, offset)` of a `nextRecordsUrl` like `/services/data/v65.0/query/01gXX-2000`.
fn split_locator(url: &str) -> Option<(String, u64)> {
    let (base, offset) = url.rsplit_once('-')?;
    let offset: u64 = offset.parse().ok()?;
    base.contains("/query/").then(|| (base.to_string(), offset))
}

fn is_invalid_locator(e: &SfError) -> bool {
    e.api_code().map(|c| c.as_str()) == Some("INVALID_QUERY_LOCATOR")
}

/// One subrequest of the next call: whose, and what.
enum Ask {
    First(usize),
    More(usize, String),
}

/// Runs `queries` and reads every page, five query subrequests per composite call: the pages
/// the open queries are missing first (taking turns, so each open query gets one), then the
/// first pages of queries not started yet while fewer than [`MAX_OPEN`] are open. Returns each
/// query's rows, in `queries` order.
pub(super) async fn fetch_pages<R>(
    client: &Client,
    queries: &[PagedQuery<'_, R>],
    stats: &mut FetchStats,
    progress: &(dyn Fn(FetchProgress) + Sync),
) -> Result<Vec<Vec<R>>, FetchError> {
    let mut state: Vec<Query<R>> = queries.iter().map(Query::new).collect();
    let report = |state: &[Query<R>]| {
        let mut reading: Vec<&'static str> = Vec::new();
        for q in state.iter().filter(|q| !q.finished) {
            if !reading.contains(&q.what) {
                reading.push(q.what);
            }
        }
        progress(FetchProgress {
            reading,
            pages_done: state.iter().map(|q| q.pages).sum(),
            pages_total: state.iter().map(Query::expected_pages).sum(),
            rows_done: state.iter().map(|q| q.received).sum(),
            rows_total: state.iter().map(|q| q.total).sum(),
        })
    };
    report(&state);
    // A server whose pages never end: no query needs more pages than rows, plus slack, per run.
    let mut budget = 0u64;
    loop {
        let asks = next_call(&state);
        if asks.is_empty() {
            break;
        }
        let urls: Vec<String> = asks
            .iter()
            .map(|ask| match ask {
                Ask::First(i) => client.query_url(&state[*i].soql),
                Ask::More(_, url) => url.clone(),
            })
            .collect();
        for ask in &asks {
            if let Ask::First(i) = ask {
                state[*i].started = true;
            }
        }
        let pages = client.composite_query_more::<Row>(&urls).await?;
        stats.composite_calls += 1;
        for (ask, page) in asks.into_iter().zip(pages) {
            stats.pages += 1;
            if let Ok(p) = &page {
                stats.rows += p.records.len() as u64;
            }
            match ask {
                Ask::First(i) => {
                    let q = &mut state[i];
                    let first = page.map_err(|source| FetchError::Query {
                        what: q.what,
                        source,
                    })?;
                    q.start(first)?;
                }
                Ask::More(i, url) => {
                    let q = &mut state[i];
                    match page {
                        Ok(page) => q.receive(&url, page)?,
                        Err(e) if is_invalid_locator(&e) => q.refused(&url, e)?,
                        Err(source) => {
                            return Err(FetchError::Query {
                                what: q.what,
                                source,
                            });
                        }
                    }
                }
            }
        }
        report(&state);
        let needed: u64 = state
            .iter()
            .map(|q| (q.total + 10) * u64::from(MAX_RERUNS + 1))
            .sum();
        budget = budget.max(needed);
        if stats.pages > budget {
            let q = state.iter().find(|q| !q.finished).unwrap_or(&state[0]);
            return Err(FetchError::Paging {
                what: q.what,
                pages: stats.pages,
                covered: q.rows.len() as u64,
                total: q.total,
            });
        }
    }
    Ok(state.into_iter().map(|q| q.rows).collect())
}

/// The subrequests of the next composite call (empty when every query is finished).
fn next_call<R>(state: &[Query<R>]) -> Vec<Ask> {
    let mut asks = Vec::new();
    let wanted: Vec<(usize, Vec<String>)> = state
        .iter()
        .enumerate()
        .filter(|(_, q)| q.is_open())
        .map(|(i, q)| (i, q.wanted()))
        .collect();
    let deepest = wanted.iter().map(|(_, w)| w.len()).max().unwrap_or(0);
    'turns: for turn in 0..deepest {
        for (i, urls) in &wanted {
            if let Some(url) = urls.get(turn) {
                if asks.len() == MAX_QUERY_SUBREQUESTS {
                    break 'turns;
                }
                asks.push(Ask::More(*i, url.clone()));
            }
        }
    }
    let mut open = wanted.len();
    for (i, q) in state.iter().enumerate() {
        if asks.len() == MAX_QUERY_SUBREQUESTS || open >= MAX_OPEN {
            break;
        }
        if !q.started {
            asks.push(Ask::First(i));
            open += 1;
        }
    }
    asks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A converter for test rows (numbers).
    fn number(v: &RawValue) -> Result<u64, serde_json::Error> {
        serde_json::from_str(v.get())
    }

    fn page(from: u64, n: u64, total: u64, next: Option<&str>) -> QueryPage<Row> {
        QueryPage {
            total_size: total,
            done: next.is_none(),
            next_records_url: next.map(str::to_string),
            records: (from..from + n)
                .map(|i| RawValue::from_string(i.to_string()).expect("a number is JSON"))
                .collect(),
        }
    }

    fn query() -> Query<u64> {
        let mut q = Query::new(&PagedQuery {
            what: "x",
            soql: "SELECT Id FROM X",
            convert: number,
        });
        q.started = true;
        q
    }

    #[test]
    fn locators_split_into_base_and_offset() {
        assert_eq!(
            split_locator("/services/data/v65.0/query/01gD0000002HU6KIAW-2000"),
            Some((
                "/services/data/v65.0/query/01gD0000002HU6KIAW".to_string(),
                2000
            ))
        );
        assert_eq!(split_locator("/services/data/v65.0/query/odd"), None);
    }

    #[test]
    fn every_later_page_is_predicted_at_once() {
        let mut q = query();
        q.start(page(
            0,
            2000,
            4500,
            Some("/services/data/v65.0/query/L-2000"),
        ))
        .expect("converts");
        assert_eq!(
            q.wanted(),
            vec![
                "/services/data/v65.0/query/L-2000",
                "/services/data/v65.0/query/L-4000"
            ]
        );
    }

    #[test]
    fn a_short_page_switches_to_following_and_the_rows_stay_exact() {
        let mut q = query();
        q.start(page(
            0,
            2000,
            5000,
            Some("/services/data/v65.0/query/L-2000"),
        ))
        .expect("converts");
        // The page at 4000 arrives first and looks right; the one at 2000 is short.
        q.receive(
            "/services/data/v65.0/query/L-4000",
            page(4000, 1000, 5000, None),
        )
        .expect("converts");
        q.receive(
            "/services/data/v65.0/query/L-2000",
            page(2000, 1500, 5000, Some("/services/data/v65.0/query/L-3500")),
        )
        .expect("converts");
        assert_eq!(q.mode, Mode::Follow);
        assert_eq!(q.wanted(), vec!["/services/data/v65.0/query/L-3500"]);
        q.receive(
            "/services/data/v65.0/query/L-3500",
            page(3500, 1500, 5000, None),
        )
        .expect("converts");
        assert!(q.finished);
        assert_eq!(q.rows, (0..5000).collect::<Vec<u64>>());
    }

    #[test]
    fn a_refused_computed_url_stops_predicting_and_a_refused_handed_out_one_reruns() {
        let mut q = query();
        q.start(page(0, 200, 600, Some("/services/data/v65.0/query/L-200")))
            .expect("converts");
        let err = || SfError::InvalidRequest("INVALID_QUERY_LOCATOR".into());
        q.refused("/services/data/v65.0/query/L-400", err())
            .expect("not fatal");
        assert_eq!(q.mode, Mode::Follow);
        assert_eq!(q.wanted(), vec!["/services/data/v65.0/query/L-200"]);
        q.refused("/services/data/v65.0/query/L-200", err())
            .expect("runs again");
        assert!(!q.started && q.rows.is_empty() && q.reruns == 1);
    }

    #[test]
    fn open_queries_get_a_page_each_before_new_ones_start() {
        let queries: Vec<PagedQuery<'_, u64>> = (0..8)
            .map(|_| PagedQuery {
                what: "x",
                soql: "SELECT Id FROM X",
                convert: number,
            })
            .collect();
        let mut state: Vec<Query<u64>> = queries.iter().map(Query::new).collect();
        let first = next_call(&state);
        assert_eq!(first.len(), 5);
        for (i, q) in state.iter_mut().enumerate().take(5) {
            q.started = true;
            let next = format!("/services/data/v65.0/query/L{i}-200");
            q.start(page(
                0,
                200,
                if i < 2 { 1000 } else { 200 },
                (i < 2).then_some(next.as_str()),
            ))
            .expect("converts");
        }
        // Two open queries: their missing pages take turns, then three new queries start.
        let asks = next_call(&state);
        let kinds: Vec<(bool, usize)> = asks
            .iter()
            .map(|a| match a {
                Ask::First(i) => (true, *i),
                Ask::More(i, _) => (false, *i),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![(false, 0), (false, 1), (false, 0), (false, 1), (false, 0)]
        );
    }
}
